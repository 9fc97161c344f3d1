/**
 * The Python docs' socketserver.TCPServer example (Lib/socketserver, "Examples"): a
 * `MyTCPHandler` that reads what one client sends, prints it and sends it back
 * upper-cased; the server makes one handler per connection, one connection at a time.
 * With `--stream`, the docs' alternative handler: a `StreamRequestHandler` that reads one
 * line from `rfile` and writes the reply to `wfile`. The difference, as the docs say:
 * `readline()` reads until a newline however many segments that takes, and only that
 * line; the plain handler's one `recv(1024)` takes whatever arrived, newlines and all.
 *
 * This is the handler as the docs long gave it, and as CPython 3.11's docs still do (newer
 * docs read in a loop until a newline, at most 10,000 bytes).
 *
 * The docs bind "localhost" port 9999 and serve until Ctrl-C; this port binds 127.0.0.1
 * (what --allow-net=127.0.0.1 covers) and prints the port first. --max-requests N
 * handles N connections with `handleRequest()` and exits, for tests.
 *
 * Run: `deno task socketserver-tcp-server` (then
 * `deno task socketserver-tcp-client hello world`).
 *
 * @module
 */
import { BaseRequestHandler, StreamRequestHandler, TCPServer } from "../socketserver.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr, strip, upper } from "./_py.ts";

const { host, port, maxRequests, flags } = exampleArgs({
  file: "socketserver_tcp_server.ts",
  summary: "The Python docs' socketserver TCP server: print what each client sends, " +
    "send it back upper-cased.",
  port: 9999,
  role: "requests",
  flags: { stream: "use the docs' StreamRequestHandler variant" },
});

/**
 * The request handler class for our server.
 *
 * It is instantiated once per connection to the server, and must
 * override the handle() method to implement communication to the
 * client.
 */
class MyTCPHandler extends BaseRequestHandler {
  data: Uint8Array = new Uint8Array();

  override async handle() {
    // this.request is the TCP socket connected to the client
    this.data = strip(await this.request.recv(1024));
    console.log(`${this.clientAddress[0]} wrote:`);
    console.log(repr(this.data));
    // just send back the same data, but upper-cased
    await this.request.sendall(upper(this.data));
  }
}

/** The docs' alternative handler (also called MyTCPHandler there), using streams. */
class MyStreamTCPHandler extends StreamRequestHandler {
  data: Uint8Array = new Uint8Array();

  override async handle() {
    // this.rfile is a file-like object created by the handler;
    // we can now use e.g. readline() instead of raw recv() calls
    this.data = strip(await this.rfile.readline());
    console.log(`${this.clientAddress[0]} wrote:`);
    console.log(repr(this.data));
    // Likewise, this.wfile is a file-like object used to write back
    // to the client
    await this.wfile.write(upper(this.data));
  }
}

const [HOST, PORT] = [host, port];

// Create the server, binding to HOST on PORT
{
  await using server = new TCPServer(
    [HOST, PORT],
    flags.has("stream") ? MyStreamTCPHandler : MyTCPHandler,
  );
  // Ctrl-C / SIGTERM stop serveForever() cleanly (Python's ends in KeyboardInterrupt);
  // listening before the port is printed, so a signal sent on seeing it is not missed.
  using _signals = maxRequests === null ? onShutdown(() => void server.shutdown()) : null;
  console.log((server.serverAddress as [string, number])[1]);
  if (maxRequests === null) {
    // Activate the server; this will keep running until you
    // interrupt the program with Ctrl-C
    await server.serveForever();
  } else {
    for (let i = 0; i < maxRequests; i++) await server.handleRequest();
  }
}
