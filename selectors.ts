/**
 * Python's `selectors` (and `select.select`, `select.poll`): many sockets,
 * one loop. Register pysock sockets with the events to wait for, then
 * `await sel.select()` returns the ready ones, as Python's programs expect.
 *
 * Readiness is pushed, not polled: each registered socket keeps one read
 * (or accept) in flight and tells the selector when it lands, so one
 * `select()` costs the ready few however many sockets are registered, and
 * an idle selector uses no CPU. Readable means a non-blocking `recv`,
 * `accept` or `recvfrom` would not wait (bytes, a connection or a datagram
 * are there, or end of stream or an error is there to report); writable
 * means a non-blocking `send` would not wait (see
 * {@linkcode StreamSocket.send}) or a non-blocking connect has finished.
 *
 * Differences from Python: `select()` returns a Promise; only pysock
 * sockets can be registered (Deno exposes no OS descriptors, so `fileno()`
 * numbers are pysock's own, and `sys.stdin` cannot be watched); a closed
 * socket left registered is never reported, as with Linux's epoll.
 *
 * @example The Python docs' selectors echo server, and a client
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection, createServer, type StreamSocket } from "./socket.ts";
 * import { DefaultSelector, EVENT_READ } from "./selectors.ts";
 *
 * type Callback = (sock: StreamSocket, mask: number) => Promise<void>;
 * using sel = new DefaultSelector<Callback, StreamSocket>();
 * let served = 0;
 *
 * async function accept(sock: StreamSocket) {
 *   const [conn] = await sock.accept(); // Should be ready
 *   conn.setblocking(false);
 *   sel.register(conn, EVENT_READ, read);
 * }
 *
 * async function read(conn: StreamSocket) {
 *   const data = await conn.recv(1000); // Should be ready
 *   if (data.length > 0) {
 *     await conn.send(data); // Hope it won't block
 *   } else {
 *     sel.unregister(conn);
 *     conn.close();
 *     served++;
 *   }
 * }
 *
 * await using server = createServer(["127.0.0.1", 0], { backlog: 100 });
 * server.setblocking(false);
 * sel.register(server, EVENT_READ, accept);
 *
 * // Python's `while True:` loop, until one client has been served.
 * const serving = (async () => {
 *   while (served < 1) {
 *     for (const [key, mask] of await sel.select()) await key.data(key.fileobj, mask);
 *   }
 * })();
 *
 * await using client = await createConnection(["127.0.0.1", server.getsockname()[1] as number]);
 * await client.sendall("hello");
 * assert.equal(new TextDecoder().decode(await client.recv(1024)), "hello");
 * client.close();
 * await serving;
 * assert.equal(sel.getMap().size, 1); // the listening socket is left
 * ```
 *
 * @module
 */

import { DefaultSelector } from "./_selector.ts";

export {
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  KeyError,
  RuntimeError,
  SelectorKey,
  SelectorMapping,
} from "./_selector.ts";
export type { FileObject } from "./_ready.ts";
export {
  type Poll,
  poll,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
  select,
} from "./_select.ts";

/**
 * Python's `selectors.PollSelector`: here the same as {@linkcode DefaultSelector}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DefaultSelector, PollSelector } from "./selectors.ts";
 * using sel = new PollSelector();
 * assert.ok(sel instanceof DefaultSelector);
 * ```
 */
export const PollSelector: typeof DefaultSelector = DefaultSelector;
/** Python's `selectors.EpollSelector`: here the same as {@linkcode DefaultSelector}. */
export const EpollSelector: typeof DefaultSelector = DefaultSelector;
/** Python's `selectors.SelectSelector`: here the same as {@linkcode DefaultSelector}. */
export const SelectSelector: typeof DefaultSelector = DefaultSelector;
