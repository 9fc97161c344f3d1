/**
 * Seed 002, SocketServer.py (many exchanges), on socketserver's ThreadingTCPServer: the
 * seed's loop (send back every message upper-cased until the client disconnects) becomes
 * a request handler, and the server runs one for each client at once. The seed's answer
 * to "the server exits when its client leaves" is a second accept loop that still makes
 * the other clients queue; this is the one socketserver gives: no client waits for
 * another. The seed's client (`multiround_client.ts`) works against it unchanged.
 *
 * Serves until Ctrl-C / SIGTERM, or until --max-requests clients have connected and left.
 *
 * Run: `deno task seed002-multiround-threading-server`, then
 * `deno task seed002-multiround-client` in as many terminals as you like.
 *
 * @module
 */
import { BaseRequestHandler, ThreadingTCPServer } from "../socketserver.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr, upper } from "./_py.ts";

const { host, port, maxRequests } = exampleArgs({
  file: "multiround_threading_server.ts",
  summary: "Seed 002 multi-round server on ThreadingTCPServer: upper-case every " +
    "client's messages, many clients at once.",
  port: 9999,
  role: "requests",
});

/** The seed's loop, for one client: made once per connection, each in its own task. */
class MultiRoundHandler extends BaseRequestHandler {
  override async handle() {
    const conn = this.request;
    console.log("New connect:", repr(this.clientAddress));
    while (true) {
      const data = await conn.recv(1024);
      // An empty read is the client closing; without this check the loop would spin.
      if (data.length === 0) {
        console.log("Client disconnect.");
        break;
      }
      console.log("Accept news:", repr(data));
      await conn.send(upper(data));
    }
  }
}

{
  // Leaving the block closes the server, which waits for the clients still connected
  // (up to its gracePeriod), as Python's server_close() joins their threads.
  await using server = new ThreadingTCPServer([host, port], MultiRoundHandler);
  // Ctrl-C / SIGTERM stop serveForever() cleanly (Python's ends in KeyboardInterrupt);
  // listening before the port is printed, so a signal sent on seeing it is not missed.
  using _signals = maxRequests === null ? onShutdown(() => void server.shutdown()) : null;
  console.log((server.serverAddress as [string, number])[1]);
  console.log("Waiting for client connect.");
  if (maxRequests === null) {
    await server.serveForever();
  } else {
    for (let i = 0; i < maxRequests; i++) await server.handleRequest();
  }
}
