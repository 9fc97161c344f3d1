/**
 * pysock: Python's `socket` module for Deno.
 *
 * The same calls as Python — `socket`, `bind`, `listen`, `accept`,
 * `connect`, `recv`, `sendall`, `recvfrom`, `sendto`, `settimeout`,
 * `shutdown` — with `await` in front of every call that waits on the
 * network. On top of raw `Deno.Conn` it adds timeouts that lose no data,
 * half-close, honest socket options, errno'd errors (`[Errno 111]
 * Connection refused`) and message framing.
 *
 * TLS is Python's `ssl` module, under the `ssl` namespace as Python code
 * spells it (`ssl.createDefaultContext()`, `ssl.SSLError`), or from
 * `@pysock/socket/ssl` with its own names.
 *
 * @example An upper-casing echo server and its client, on loopback
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, socket, SOCK_STREAM } from "./mod.ts";
 *
 * // Server: bind, listen, accept, then echo upper-cased until end of stream.
 * const server = socket(AF_INET, SOCK_STREAM);
 * server.bind(["127.0.0.1", 0]);
 * server.listen(5);
 * const [, port] = server.getsockname() as [string, number];
 *
 * const serving = (async () => {
 *   const [conn, addr] = await server.accept();
 *   console.log("connection from", addr);
 *   while (true) {
 *     const data = await conn.recv(1024);
 *     if (data.length === 0) break; // the client closed
 *     await conn.sendall(new TextDecoder().decode(data).toUpperCase());
 *   }
 *   conn.close();
 * })();
 *
 * // Client: connect, send, receive, close.
 * const client = socket(AF_INET, SOCK_STREAM);
 * await client.connect(["127.0.0.1", port]);
 * await client.sendall("hello");
 * const reply = new TextDecoder().decode(await client.recv(1024));
 * assert.equal(reply, "HELLO");
 * client.close();
 *
 * await serving;
 * server.close();
 * ```
 *
 * @module
 */

export * from "./socket.ts";
export {
  type BinaryMode,
  type Buffering,
  type MakefileOptions,
  type Newline,
  SocketFile,
  type SocketFileMode,
  type TextMode,
} from "./_socket_file.ts";
export * from "./udp.ts";
export * from "./framing.ts";
export * from "./selectors.ts";
export * from "./socketserver.ts";
export * from "./errors.ts";
export * as ssl from "./ssl.ts";
