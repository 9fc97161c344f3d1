/**
 * The Python docs' socketserver.UDPServer example (Lib/socketserver, "Examples"): a
 * `MyUDPHandler` for each datagram; `this.request` is `[data, socket]`, and as UDP has no
 * connection the reply goes back with `sendto(…, this.clientAddress)`.
 *
 * The docs bind "localhost" port 9999 and serve until Ctrl-C; this port binds 127.0.0.1
 * (what --allow-net=127.0.0.1 covers) and prints the port first. --max-requests N
 * handles N datagrams with `handleRequest()` and exits, for tests.
 *
 * Run: `deno task socketserver-udp-server` (then
 * `deno task socketserver-udp-client hello world`).
 *
 * @module
 */
import { BaseRequestHandler, type DatagramRequest, UDPServer } from "../socketserver.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr, strip, upper } from "./_py.ts";

const { host, port, maxRequests } = exampleArgs({
  file: "socketserver_udp_server.ts",
  summary: "The Python docs' socketserver UDP server: print each datagram, " +
    "send it back upper-cased.",
  port: 9999,
  role: "requests",
});

/**
 * This class works similar to the TCP handler class, except that
 * this.request consists of a pair of data and client socket, and since
 * there is no connection the client address must be given explicitly
 * when sending data back via sendto().
 */
class MyUDPHandler extends BaseRequestHandler<DatagramRequest> {
  override async handle() {
    const data = strip(this.request[0]);
    const socket = this.request[1];
    console.log(`${this.clientAddress[0]} wrote:`);
    console.log(repr(data));
    await socket.sendto(upper(data), this.clientAddress);
  }
}

const [HOST, PORT] = [host, port];
{
  await using server = new UDPServer([HOST, PORT], MyUDPHandler);
  // Ctrl-C / SIGTERM stop serveForever() cleanly (Python's ends in KeyboardInterrupt);
  // listening before the port is printed, so a signal sent on seeing it is not missed.
  using _signals = maxRequests === null ? onShutdown(() => void server.shutdown()) : null;
  console.log((server.serverAddress as [string, number])[1]);
  if (maxRequests === null) {
    await server.serveForever();
  } else {
    for (let i = 0; i < maxRequests; i++) await server.handleRequest();
  }
}
