// socketserver's serve loop and graceful shutdown: what a handler calling
// shutdown() gets, what the grace period closes, the requests that arrive
// while the server stops, and the hooks' order. Real sockets on loopback.

import assert from "node:assert/strict";
import {
  AF_INET,
  BaseRequestHandler,
  type DatagramRequest,
  DatagramRequestHandler,
  errno,
  OSError,
  RuntimeError,
  SOCK_DGRAM,
  socket,
  StreamRequestHandler,
  type StreamSocket,
  TCPServer,
  ThreadingTCPServer,
  ThreadingUDPServer,
} from "../mod.ts";
import { type Address, createConnection } from "../socket.ts";
import { sleep, text } from "./_helpers.ts";

type Port = [string, number];

/** Resolves within `ms`, or rejects saying what did not happen. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

for (const Server of [ThreadingTCPServer, TCPServer]) {
  Deno.test(`${Server.name}: a handler that awaits shutdown() ends the loop without waiting for itself`, async () => {
    let shutDown = false;
    class Quit extends BaseRequestHandler {
      override async handle() {
        await this.request.recv(10);
        await this.server.shutdown();
        shutDown = true;
        await this.request.sendall("bye");
      }
    }
    await using server = new Server(["127.0.0.1", 0], Quit);
    const serving = server.serveForever(0.05);
    await using client = await createConnection(server.serverAddress as Port);
    await client.sendall("quit");
    assert.equal(text(await within(client.recv(10), 3000, "the reply")), "bye");
    await within(serving, 3000, "serveForever's end");
    assert.equal(shutDown, true);
  });
}

Deno.test("a grace period that runs out closes the handler's connection under its open rfile, and no error is reported", async () => {
  const errors: unknown[] = [];
  let finished = false;
  class Reader extends StreamRequestHandler {
    override async handle() {
      await this.rfile.readline(); // the client never sends a line
    }
    override async finish() {
      await super.finish();
      finished = true;
    }
  }
  class Server extends ThreadingTCPServer {
    override handleError(_r: StreamSocket, _a: unknown, error?: unknown) {
      errors.push(error);
    }
  }
  await using server = new Server(["127.0.0.1", 0], Reader);
  const serving = server.serveForever(0.05);
  await using client = await createConnection(server.serverAddress as Port);
  await client.sendall("no newline");
  await sleep(50);
  await within(server.shutdown(0.1), 3000, "shutdown");
  assert.equal(finished, true);
  assert.deepEqual(errors, []);
  assert.deepEqual(await client.recv(10), new Uint8Array(0));
  await serving;
});

Deno.test("shutdown() waits for a request still in verifyRequest, as for any running handler", async () => {
  let verifying: () => void;
  const verified = new Promise<void>((resolve) => verifying = resolve);
  let ended = false;
  class Slow extends ThreadingTCPServer {
    override async verifyRequest() {
      verifying();
      await sleep(100);
      return true;
    }
  }
  class Wait extends BaseRequestHandler {
    override async handle() {
      await this.request.recv(10); // ended by the grace period
    }
    override finish() {
      ended = true;
    }
  }
  await using server = new Slow(["127.0.0.1", 0], Wait);
  const serving = server.serveForever(0.05);
  await using _client = await createConnection(server.serverAddress as Port);
  await verified;
  await within(server.shutdown(0.2), 3000, "shutdown");
  assert.equal(ended, true, "the handler ran and ended before shutdown() resolved");
  await serving;
});

Deno.test("a client that connects while the server shuts down is closed, not left hanging", async () => {
  let release: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  class Hold extends BaseRequestHandler {
    override async handle() {
      await held;
    }
  }
  const server = new ThreadingTCPServer(["127.0.0.1", 0], Hold);
  const serving = server.serveForever(0.02);
  const first = await createConnection(server.serverAddress as Port);
  await sleep(30);
  const stopping = server.serverClose();
  // This one arrives while serverClose() waits for the first handler.
  const late = await createConnection(server.serverAddress as Port);
  late.settimeout(5);
  release!();
  await within(stopping, 3000, "serverClose");
  await serving;
  const got = await late.recv(10).then((data) => data.length, (err) => err);
  assert.ok(got === 0 || (got instanceof OSError && got.errno === errno.ECONNRESET), String(got));
  first.close();
  late.close();
});

Deno.test("daemonThreads: serverClose() stops the loop and leaves a running handler to end by itself", async () => {
  const { promise: ended, resolve: end } = Promise.withResolvers<void>();
  class Echo extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall(await this.request.recv(10));
    }
    override finish() {
      end();
    }
  }
  class Daemon extends ThreadingTCPServer {
    static override daemonThreads = true;
  }
  const server = new Daemon(["127.0.0.1", 0], Echo);
  assert.equal(server.daemonThreads, true);
  const serving = server.serveForever(0.05);
  await using client = await createConnection(server.serverAddress as Port);
  await sleep(30);
  await within(server.serverClose(), 1000, "serverClose");
  await serving;
  assert.equal(server.socket.fileno(), -1);
  // The handler still serves its client after the server closed.
  await client.sendall("late");
  assert.equal(text(await client.recv(10)), "late");
  await ended;
});

for (const attr of ["daemonThreads", "blockOnClose"] as const) {
  Deno.test(`a non-threading TCPServer with ${attr === "daemonThreads" ? "daemonThreads = true" : "blockOnClose = false"}: serverClose() closes the socket at once while its loop runs a handler (it waited for the handler), and the loop ends after it`, async () => {
    const { promise: release, resolve: letGo } = Promise.withResolvers<void>();
    const { promise: handling, resolve: handled } = Promise.withResolvers<void>();
    class Idle extends BaseRequestHandler {
      override async handle() {
        handled();
        await release;
        await this.request.sendall("bye");
      }
    }
    const server = new TCPServer(["127.0.0.1", 0], Idle);
    if (attr === "daemonThreads") server.daemonThreads = true;
    else server.blockOnClose = false;
    const serving = server.serveForever(0.05);
    await using client = await createConnection(server.serverAddress as Port);
    await handling;
    await within(server.serverClose(), 1000, "serverClose");
    assert.equal(server.socket.fileno(), -1);
    // CPython's server_close leaves the running handler alone too.
    letGo();
    assert.equal(text(await client.recv(10)), "bye");
    await within(serving, 1000, "serveForever");
  });
}

Deno.test("serveForever() twice is a RuntimeError; after serverClose() it fails with EBADF", async () => {
  const server = new TCPServer(["127.0.0.1", 0], BaseRequestHandler);
  const serving = server.serveForever(0.05);
  await assert.rejects(server.serveForever(), RuntimeError);
  await server.serverClose();
  await serving;
  await assert.rejects(
    server.serveForever(),
    (err: unknown) => err instanceof OSError && err.errno === errno.EBADF,
  );
});

Deno.test("a handler that throws is reported with its error, and the server serves the next client", async () => {
  const reported: [string, unknown][] = [];
  class Boom extends BaseRequestHandler {
    override async handle() {
      const data = text(await this.request.recv(10));
      if (data === "boom") throw new Error("handler failed");
      await this.request.sendall(data);
    }
  }
  class Server extends ThreadingTCPServer {
    override handleError(_r: StreamSocket, address: [string, number], error?: unknown) {
      reported.push([address[0], (error as Error).message]);
    }
  }
  await using server = new Server(["127.0.0.1", 0], Boom);
  const serving = server.serveForever(0.05);
  await using bad = await createConnection(server.serverAddress as Port);
  await bad.sendall("boom");
  assert.deepEqual(await bad.recv(10), new Uint8Array(0)); // the request was ended
  await using good = await createConnection(server.serverAddress as Port);
  await good.sendall("fine");
  assert.equal(text(await good.recv(10)), "fine");
  assert.deepEqual(reported, [["127.0.0.1", "handler failed"]]);
  await server.shutdown();
  await serving;
});

Deno.test("ThreadingUDPServer answers a quick datagram while a slow one is still being handled", async () => {
  const order: string[] = [];
  class Handler extends BaseRequestHandler<DatagramRequest> {
    override async handle() {
      const [data, sock] = this.request;
      const word = text(data);
      if (word === "slow") await sleep(150);
      order.push(word);
      await sock.sendto(word.toUpperCase(), this.clientAddress);
    }
  }
  await using server = new ThreadingUDPServer(["127.0.0.1", 0], Handler);
  const serving = server.serveForever(0.05);
  await using client = socket(AF_INET, SOCK_DGRAM);
  await client.sendto("slow", server.serverAddress);
  await client.sendto("quick", server.serverAddress);
  const replies = [text((await client.recvfrom(10))[0]), text((await client.recvfrom(10))[0])];
  assert.deepEqual(replies, ["QUICK", "SLOW"]);
  assert.deepEqual(order, ["quick", "slow"]);
  await server.shutdown();
  await serving;
});

Deno.test("DatagramRequestHandler sends what was written to wfile back as one datagram", async () => {
  class Lines extends DatagramRequestHandler {
    override handle() {
      for (const line of this.rfile) this.wfile.write(`<${text(line).trim()}>`);
    }
  }
  await using server = new ThreadingUDPServer(["127.0.0.1", 0], Lines);
  await using client = socket(AF_INET, SOCK_DGRAM);
  await client.sendto("a\nb\nc", server.serverAddress);
  await server.handleRequest();
  assert.equal(text((await client.recvfrom(100))[0]), "<a><b><c>");
});

Deno.test("a server attribute set as a subclass field instead of a static is a type error", () => {
  // Checked by `deno check`: were the attributes plain fields, the
  // directives below would be unused, which is itself an error.
  const declare = () => {
    class ReusePort extends TCPServer {
      // @ts-expect-error: a field is set after the constructor has bound; use a static
      override allowReusePort = true;
    }
    class V6 extends TCPServer {
      // @ts-expect-error: the family is read when the socket is made; use a static
      override readonly addressFamily = 10;
    }
    return [ReusePort, V6];
  };
  assert.equal(typeof declare, "function");
  class Right extends TCPServer {
    static override allowReusePort = true;
  }
  assert.equal(Right.allowReusePort, true);
});

Deno.test("a handler names its server's class and reaches the server's own fields through this.server", async () => {
  class Counting extends TCPServer {
    served = 0;
  }
  class Count extends BaseRequestHandler<StreamSocket, Counting> {
    override async handle() {
      this.server.served++;
      await this.request.sendall(`${this.server.served}`);
    }
  }
  await using server = new Counting(["127.0.0.1", 0], Count);
  for (const expected of ["1", "2"]) {
    await using client = await createConnection(server.serverAddress as Port);
    await server.handleRequest();
    assert.equal(text(await client.recv(10)), expected);
  }
});

Deno.test("a handler that leaves a makefile() file open still ends its request: the client sees end of stream", async () => {
  class Leaky extends BaseRequestHandler {
    override async handle() {
      const f = this.request.makefile("rb"); // never closed: it holds the socket
      await this.request.sendall(await f.read(4));
    }
  }
  await using server = new ThreadingTCPServer(["127.0.0.1", 0], Leaky);
  const serving = server.serveForever(0.05);
  await using client = await createConnection(server.serverAddress as Port);
  client.settimeout(5);
  await client.sendall("ping");
  assert.equal(text(await client.recv(10)), "ping");
  assert.deepEqual(await client.recv(10), new Uint8Array(0));
  await server.shutdown();
  await serving;
});

Deno.test("serviceActions runs on every poll tick while idle and after every request", async () => {
  let actions = 0;
  class Counting extends ThreadingTCPServer {
    override serviceActions() {
      actions++;
    }
  }
  class Echo extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall(await this.request.recv(10));
    }
  }
  await using server = new Counting(["127.0.0.1", 0], Echo);
  const serving = server.serveForever(0.02);
  await sleep(200); // about ten ticks; a loaded machine may see fewer
  const idle = actions;
  assert.ok(idle >= 2, `${idle} ticks in 200 ms at a 20 ms interval`);
  for (let i = 0; i < 3; i++) {
    await using client = await createConnection(server.serverAddress as Port);
    await client.sendall("x");
    await client.recv(10);
  }
  await sleep(5);
  assert.ok(actions >= idle + 3, `${actions - idle} calls for 3 requests`);
  await server.shutdown();
  await serving;
});

Deno.test("a client that connects between serverBind() and serverActivate() is served: the listener is not reopened", async () => {
  class Echo extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall(await this.request.recv(100));
    }
  }
  await using server = new TCPServer(["127.0.0.1", 0], Echo, false);
  server.serverBind();
  // The kernel completes the handshake on the listener bind opened.
  await using client = await createConnection(server.serverAddress as Port);
  server.serverActivate();
  await client.sendall("early");
  await server.handleRequest();
  assert.equal(text(await within(client.recv(100), 3000, "the echo")), "early");
});

Deno.test("serveForever takes a request a subclass's getRequest returns as a value, not a promise", async () => {
  // A JavaScript subclass may hand back a pair it already holds.
  class Handed extends TCPServer {
    held: [StreamSocket, Address] | null = null;
    override getRequest(options?: { signal?: AbortSignal }): Promise<[StreamSocket, Address]> {
      const held = this.held;
      this.held = null;
      return held === null ? super.getRequest(options) : held as never;
    }
  }
  class Echo extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall(await this.request.recv(100));
    }
  }
  await using server = new Handed(["127.0.0.1", 0], Echo);
  await using client = await createConnection(server.serverAddress as [string, number]);
  server.held = await server.socket.accept();
  const serving = server.serveForever(0.05);
  await client.sendall("plain");
  assert.equal(text(await client.recv(100)), "plain");
  await server.shutdown();
  await serving;
});

Deno.test("handleRequest checks timeout when it uses it: TypeError for a non-number, RangeError for NaN and Infinity, and a negative one polls", async () => {
  let timeouts = 0;
  class Timing extends TCPServer {
    override handleTimeout(): void {
      timeouts++;
    }
  }
  await using server = new Timing(["127.0.0.1", 0], BaseRequestHandler);
  // These waited for ever (NaN) or took "1" as one second.
  for (const bad of ["x", "1", {}]) {
    server.timeout = bad as never;
    await assert.rejects(server.handleRequest(), {
      name: "TypeError",
      message: /^Cannot handle a request: timeout must be a number of seconds or null, got /,
    });
  }
  for (const bad of [NaN, Infinity]) {
    server.timeout = bad;
    await assert.rejects(server.handleRequest(), {
      name: "RangeError",
      message: `Cannot handle a request: timeout must be a finite number of seconds, got ${bad}`,
    });
  }
  assert.equal(timeouts, 0);
  // CPython's selector polls for a negative timeout; Node's timers warned and used 1 ms.
  server.timeout = -1;
  await server.handleRequest();
  assert.equal(timeouts, 1);
});
