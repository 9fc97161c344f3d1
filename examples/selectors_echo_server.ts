/**
 * The selectors echo server from the Python docs (Lib/selectors, "Examples"), line for
 * line: one selector, a non-blocking listening socket whose key carries `accept` as its
 * data, and connections whose key carries `read`. The loop calls `key.data(key.fileobj,
 * mask)` for each ready key, as the original does. Stops on Ctrl-C / SIGTERM, or once
 * --max-clients clients have been served (the original runs until killed).
 *
 * Run: `deno task selectors-echo-server`, then for instance
 * `deno task cli connect 127.0.0.1 1234` in a few terminals.
 *
 * @module
 */
import { DefaultSelector, EVENT_READ, OSError, socket, type StreamSocket } from "../mod.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr, reprSocket } from "./_py.ts";

const { host, port, maxClients } = exampleArgs({
  file: "selectors_echo_server.ts",
  summary: "The Python docs' selectors echo server: many clients, one selector, no tasks.",
  port: 1234,
  role: "loop",
});

type Callback = (sock: StreamSocket, mask: number) => Promise<void>;
const sel = new DefaultSelector<Callback, StreamSocket>();
let closed = 0;

async function accept(sock: StreamSocket, _mask: number) {
  const [conn, addr] = await sock.accept(); // Should be ready
  console.log("accepted", reprSocket(conn), "from", repr(addr));
  conn.setblocking(false);
  sel.register(conn, EVENT_READ, read);
}

async function read(conn: StreamSocket, _mask: number) {
  let data;
  try {
    data = await conn.recv(1000); // Should be ready
    if (data.length > 0) {
      console.log("echoing", repr(data), "to", reprSocket(conn));
      await conn.send(data); // Hope it won't block
      return;
    }
  } catch (err) {
    // Unlike the original, a client that resets (or never reads, so a send would
    // block) ends only its own connection, not the whole loop.
    if (!(err instanceof OSError)) throw err;
    console.log("dropping", reprSocket(conn), `(${err.message})`);
  }
  console.log("closing", reprSocket(conn));
  sel.unregister(conn);
  conn.close();
  closed++;
}

const sock = socket();
sock.bind([host, port]);
console.log(sock.getsockname()[1]);
sock.listen(100);
sock.setblocking(false);
sel.register(sock, EVENT_READ, accept);

// Ctrl-C closes the selector: the select() waiting returns, and the loop ends.
using _signals = onShutdown(() => sel.close());
while (sel.getMap().size > 0 && (maxClients === null || closed < maxClients)) {
  const events = await sel.select();
  for (const [key, mask] of events) {
    const callback = key.data;
    await callback(key.fileobj, mask);
  }
}
// The listener, and any client still connected once --max-clients were served.
for (const key of sel.getMap().values()) key.fileobj.close();
sel.close();
sock.close();
