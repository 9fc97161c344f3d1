// CPython's own socketserver tests (Lib/test/test_socketserver.py, 3.11),
// ported to pysock's socketserver.ts, then the graceful shutdown and the
// faults CPython does not test. Every port names its CPython test.
//
// Not ported, because Deno has no fork(): the Forking* servers and tests
// (test_ForkingTCPServer, test_ForkingUnixStreamServer, test_ForkingUDPServer,
// test_ForkingUnixDatagramServer, test_forking_handled, test_forking_not_handled).
// test_ThreadingUnixDatagramServer has no twin here: pysock has no
// ThreadingUnixDatagramServer (a Deno Unix datagram socket runs one call at
// a time, denoland/deno#6290; socketserver.ts says so), and test_all below
// asserts that it is absent rather than half there; the same class made with
// ThreadingMixIn is tested in cpython_socketserver_rest_test.ts, with the gap
// list of the whole CPython file.
//
// Where pysock must differ from CPython the test asserts pysock's documented
// behaviour and says why: serveForever/shutdown/handleRequest/serverClose
// return promises (no threads to block), Python's class attributes are static
// properties, shutdown() is graceful, and serverClose() stops serving.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  createConnection,
  IPPROTO_TCP,
  SHUT_WR,
  SOCK_DGRAM,
  SOCK_STREAM,
  socket,
  type StreamSocket,
} from "../socket.ts";
import * as socketserver from "../socketserver.ts";
import {
  BaseRequestHandler,
  type DatagramRequest,
  DatagramRequestHandler,
  SocketWriter,
  StreamRequestHandler,
  TCPServer,
  ThreadingMixIn,
  ThreadingTCPServer,
  ThreadingUDPServer,
  ThreadingUnixStreamServer,
  UDPServer,
  UnixDatagramServer,
  UnixStreamServer,
} from "../socketserver.ts";
import { ConnectionResetError, OSError, TimeoutError } from "../errors.ts";
import { RuntimeError } from "../selectors.ts";
import { bytes, freePort, HAS_IPV6, python, runScript, sleep, text } from "./_helpers.ts";

const TEST_STR = bytes("hello world\n");
const HOST = "127.0.0.1";
// test.support.SHORT_TIMEOUT is 30 s; a client waits this long at most, so a
// server that never answers fails the test instead of hanging it.
const SHORT_TIMEOUT = 10;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// What a hang would look like, kept apart from what is asserted: the
// promise wins, or the test fails naming `what` (a guard, not a threshold).
async function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "socketserver_cpython_" });
  try {
    await body(dir);
  } finally {
    await removeSettled(dir);
  }
}

// A closed Unix listener whose accept was still pending puts its socket
// file back a moment later (_unix_file.ts keeps it across Deno's removal,
// denoland/deno#31947), so a removal racing it finds the directory not
// empty; it is tried again, a bounded number of times.
async function removeSettled(dir: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      return await Deno.remove(dir, { recursive: true });
    } catch (err) {
      if (attempt >= 20 || !(err instanceof Error && /not empty/i.test(err.message))) throw err;
      await sleep(10);
    }
  }
}

// ---------------------------------------------------------------------------
// SocketServerTest

type StreamServerClass = typeof TCPServer;
type DatagramServerClass = typeof UDPServer;

let unixSeed = 0;
// pickaddr: port 0 for AF_INET; AF_UNIX cannot pick its own name, so a fresh path.
function pickaddr(family: number, dir: string): [string, number] | string {
  return family === AF_INET ? [HOST, 0] : `${dir}/unix_socket.${unixSeed++}`;
}

// make_server's MyServer re-raises from handle_error; a re-raise from a
// Threading* server's task has nowhere to go in JS, so errors are collected
// and run_server asserts there were none.
function streamServer(Svr: StreamServerClass, errors: unknown[]) {
  return class MyServer extends Svr {
    override handleError(request: StreamSocket, _address: unknown, error?: unknown): void {
      this.closeRequest(request);
      errors.push(error);
    }
  };
}

function datagramServer(Svr: DatagramServerClass, errors: unknown[]) {
  return class MyServer extends Svr {
    override handleError(_request: DatagramRequest, _address: unknown, error?: unknown): void {
      errors.push(error);
    }
  };
}

class MyStreamHandler extends StreamRequestHandler {
  override async handle() {
    const line = await this.rfile.readline();
    await this.wfile.write(line);
  }
}

class MyDatagramHandler extends DatagramRequestHandler {
  override handle() {
    const line = this.rfile.readline();
    this.wfile.write(line);
  }
}

type Examine = (family: number, addr: [string, number] | string, dir: string) => Promise<void>;

// run_server: serve_forever(poll_interval=0.01) in a "thread" (a promise
// here), three clients, shutdown, server_close, and the socket's fileno is -1.
interface RunnableServer {
  serverAddress: unknown;
  socket: { getsockname(): unknown; fileno(): number };
  addressFamily: number;
  serveForever(pollInterval?: number): Promise<void>;
  shutdown(): Promise<void>;
  serverClose(): Promise<void>;
}

async function runServer(
  server: RunnableServer,
  errors: unknown[],
  examine: Examine,
  dir: string,
): Promise<void> {
  assert.deepEqual(server.serverAddress, server.socket.getsockname());
  const addr = server.serverAddress as [string, number] | string;
  const serving = server.serveForever(0.01);
  try {
    for (let i = 0; i < 3; i++) await examine(server.addressFamily, addr, dir);
  } finally {
    await server.shutdown();
    await serving;
    await server.serverClose();
  }
  assert.equal(server.socket.fileno(), -1);
  assert.deepEqual(errors, []);
}

async function streamExamine(family: number, addr: [string, number] | string): Promise<void> {
  await using s = socket(family, SOCK_STREAM);
  s.settimeout(SHORT_TIMEOUT);
  await s.connect(addr);
  await s.sendall(TEST_STR);
  let data = await s.recv(100);
  let buf = data;
  for (let i = 0; i < 100 && data.length > 0 && !buf.includes(10); i++) {
    data = await s.recv(100);
    buf = concat(buf, data);
  }
  assert.deepEqual(buf, TEST_STR);
}

async function dgramExamine(
  family: number,
  addr: [string, number] | string,
  dir: string,
): Promise<void> {
  await using s = socket(family, SOCK_DGRAM);
  s.settimeout(SHORT_TIMEOUT);
  // A Unix datagram client must have a name for the reply to reach it.
  if (family === AF_UNIX) s.bind(pickaddr(family, dir));
  await s.sendto(TEST_STR, addr);
  let data = await s.recv(100);
  let buf = data;
  for (let i = 0; i < 100 && data.length > 0 && !buf.includes(10); i++) {
    data = await s.recv(100);
    buf = concat(buf, data);
  }
  assert.deepEqual(buf, TEST_STR);
}

const STREAM_CASES: [string, StreamServerClass][] = [
  ["test_TCPServer", TCPServer],
  ["test_ThreadingTCPServer", ThreadingTCPServer],
  ["test_UnixStreamServer", UnixStreamServer],
  ["test_ThreadingUnixStreamServer", ThreadingUnixStreamServer],
];
const DATAGRAM_CASES: [string, DatagramServerClass][] = [
  ["test_UDPServer", UDPServer],
  ["test_ThreadingUDPServer", ThreadingUDPServer],
  ["test_UnixDatagramServer", UnixDatagramServer],
];

for (const [cpython, Svr] of STREAM_CASES) {
  // test_socketserver.py SocketServerTest.<cpython>
  Deno.test(`${Svr.name} echoes a line to three clients in turn, then shuts down and closes (${cpython})`, async () => {
    await withTempDir(async (dir) => {
      const errors: unknown[] = [];
      const MyServer = streamServer(Svr, errors);
      const server = new MyServer(pickaddr(Svr.addressFamily, dir), MyStreamHandler);
      await runServer(server, errors, streamExamine, dir);
    });
  });
}

for (const [cpython, Svr] of DATAGRAM_CASES) {
  // test_socketserver.py SocketServerTest.<cpython>
  Deno.test(`${Svr.name} echoes a datagram to three clients in turn, then shuts down and closes (${cpython})`, async () => {
    await withTempDir(async (dir) => {
      const errors: unknown[] = [];
      const MyServer = datagramServer(Svr, errors);
      const server = new MyServer(pickaddr(Svr.addressFamily, dir), MyDatagramHandler);
      await runServer(server, errors, dgramExamine, dir);
    });
  });
}

// Lib/socketserver.py defines ThreadingTCPServer and the others as
// `class ThreadingUDPServer(ThreadingMixIn, UDPServer)`; the mixin on the
// plain servers serves as they do (run_server again).
Deno.test("ThreadingMixIn over UDPServer and UnixStreamServer echoes as the Threading* servers do", async () => {
  await withTempDir(async (dir) => {
    const errors: unknown[] = [];
    const Dgram = datagramServer(ThreadingMixIn(UDPServer), errors);
    await runServer(
      new Dgram(pickaddr(AF_INET, dir), MyDatagramHandler),
      errors,
      dgramExamine,
      dir,
    );
    const Stream = streamServer(ThreadingMixIn(UnixStreamServer), errors);
    await runServer(
      new Stream(pickaddr(AF_UNIX, dir), MyStreamHandler),
      errors,
      streamExamine,
      dir,
    );
  });
});

// test_socketserver.py SocketServerTest.test_shutdown
// Issue #2302: shutdown() always makes serve_forever() return, even when it
// is called before the loop has waited once.
Deno.test("shutdown makes each of 20 serveForever loops return, however soon it is called (test_shutdown)", async () => {
  class MyServer extends TCPServer {}
  class MyHandler extends StreamRequestHandler {}
  const servers: [Promise<void>, MyServer][] = [];
  for (let i = 0; i < 20; i++) {
    const s = new MyServer([HOST, 0], MyHandler);
    servers.push([s.serveForever(0.01), s]);
    await s.shutdown();
  }
  for (const [serving, s] of servers) {
    await within(serving, "serveForever after shutdown");
    await s.serverClose();
    assert.equal(s.fileno(), -1);
  }
});

// test_socketserver.py SocketServerTest.test_close_immediately
// Python passes `lambda: None` as the handler; any function is accepted here too.
Deno.test("a ThreadingMixIn server closes at once when it never served (test_close_immediately)", async () => {
  class MyServer extends ThreadingMixIn(TCPServer) {}
  const server = new MyServer([HOST, 0], BaseRequestHandler);
  await server.serverClose();
  assert.equal(server.fileno(), -1);
});

// Deno reads /proc/<pid>/fd only with --allow-all, so `ls` lists ours.
async function openDescriptors(): Promise<number> {
  const { stdout } = await new Deno.Command("ls", { args: [`/proc/${Deno.pid}/fd`] }).output();
  return text(stdout).trim().split("\n").length;
}

// test_socketserver.py SocketServerTest.test_tcpserver_bind_leak
// Issue #22435: a failed bind() must not leak the socket. Python raises
// OverflowError for port -1; pysock's is RangeError. A bind that reaches
// the kernel and fails (EADDRINUSE) is tried 1024 times too. A leak would
// be one descriptor per failure (and Deno's resource sanitizer would fail
// the test); the runtime's own descriptors (the `ls` pipes, sockets of
// earlier tests still closing) move by a few, hence the margin. A pysock
// socket holds no descriptor until Deno opens its listener, so that the
// failed server closes its socket is asserted by the EADDRINUSE test below.
Deno.test("a TCPServer whose bind fails 1024 times leaks no descriptor (test_tcpserver_bind_leak)", async () => {
  await using taken = new TCPServer([HOST, 0], StreamRequestHandler);
  const before = await openDescriptors();
  for (let i = 0; i < 1024; i++) {
    assert.throws(() => new TCPServer([HOST, -1], StreamRequestHandler), RangeError);
    assert.throws(
      () => new TCPServer(taken.serverAddress, StreamRequestHandler),
      (e: unknown) => e instanceof OSError && e.errno === 98,
    );
  }
  const leaked = await openDescriptors() - before;
  assert.ok(leaked < 16, `${leaked} descriptors more after 2048 failed servers`);
});

// test_socketserver.py SocketServerTest.test_context_manager
// Python's `with` is `await using` here.
Deno.test("await using closes the server's socket (test_context_manager)", async () => {
  let outer: TCPServer;
  {
    await using server = new TCPServer([HOST, 0], StreamRequestHandler);
    outer = server;
    assert.notEqual(server.fileno(), -1);
  }
  assert.equal(outer.fileno(), -1);
});

// ---------------------------------------------------------------------------
// ErrorHandlerTest
//
// Python's handlers raise ValueError (passed to handle_error) or SystemExit
// (a BaseException: not passed, it ends the server). JS has no
// BaseException: whatever a handler throws is an error to report, so
// test_sync_not_handled and test_threading_not_handled have no twin; the
// nearest, a thrown value that is not an Error, is shown to be handled.

// BaseErrorTestServer: one connection, handle_request(), server_close(),
// then wait_done(); the log file is an array.
async function errorTestServer(
  Base: StreamServerClass,
  exception: () => unknown,
): Promise<{ log: string[]; shutdowns: number }> {
  const log: string[] = [];
  let shutdowns = 0;
  class BadHandler extends BaseRequestHandler {
    override handle() {
      log.push("Handler called");
      throw exception();
    }
  }
  const done = Promise.withResolvers<void>();
  class ErrorTestServer extends Base {
    override handleError() {
      log.push("Error handled");
    }
    // ThreadingErrorTestServer's done event.
    override shutdownRequest(request: StreamSocket) {
      super.shutdownRequest(request);
      shutdowns++;
      done.resolve();
    }
  }
  const server = new ErrorTestServer([HOST, 0], BadHandler);
  (await createConnection(server.serverAddress as [string, number])).close();
  try {
    await server.handleRequest();
  } finally {
    await server.serverClose();
  }
  await within(done.promise, "shutdownRequest");
  return { log, shutdowns };
}

// test_socketserver.py ErrorHandlerTest.test_sync_handled
Deno.test("a TCPServer passes its handler's error to handleError (test_sync_handled)", async () => {
  const { log, shutdowns } = await errorTestServer(TCPServer, () => new RangeError("Test error"));
  assert.deepEqual(log, ["Handler called", "Error handled"]);
  // _handle_request_noblock: handle_error, then shutdown_request, once.
  assert.equal(shutdowns, 1);
});

// test_socketserver.py ErrorHandlerTest.test_threading_handled
Deno.test("a ThreadingMixIn server passes its handler's error to handleError (test_threading_handled)", async () => {
  const { log, shutdowns } = await errorTestServer(
    ThreadingMixIn(TCPServer),
    () => new RangeError("Test error"),
  );
  assert.deepEqual(log, ["Handler called", "Error handled"]);
  // process_request_thread: handle_error, then shutdown_request in its finally, once.
  assert.equal(shutdowns, 1);
});

// test_socketserver.py ErrorHandlerTest.test_sync_not_handled / test_threading_not_handled:
// no BaseException in JS; a thrown non-Error is still an error to handle.
Deno.test("a thrown value that is not an Error is passed to handleError as well (test_sync_not_handled has no JS twin)", async () => {
  for (const Base of [TCPServer, ThreadingMixIn(TCPServer)]) {
    const { log, shutdowns } = await errorTestServer(Base, () => "SystemExit");
    assert.deepEqual(log, ["Handler called", "Error handled"]);
    assert.equal(shutdowns, 1);
  }
});

// BaseServer.handle_error's default output, which CPython's tests leave to
// the eye: the traceback between two lines of 40 dashes on stderr, and the
// program goes on.
Deno.test("the default handleError prints Python's report on stderr and the server goes on", async () => {
  const result = await runScript(
    `
import { createConnection } from ${JSON.stringify(new URL("../socket.ts", import.meta.url).href)};
import { BaseRequestHandler, TCPServer } from ${
      JSON.stringify(new URL("../socketserver.ts", import.meta.url).href)
    };
class Bad extends BaseRequestHandler {
  override handle() { throw new RangeError("Test error"); }
}
await using server = new TCPServer(["127.0.0.1", 0], Bad);
const client = await createConnection(server.serverAddress as [string, number]);
console.log(JSON.stringify(client.getsockname()));
await server.handleRequest();
client.close();
console.log("still running");
`,
    ["--allow-net=127.0.0.1"],
  );
  assert.equal(result.code, 0, result.stderr);
  const [address, after] = result.stdout.trim().split("\n");
  const [, port] = JSON.parse(address);
  assert.equal(after, "still running");
  const dashes = "-".repeat(40);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines[0], dashes);
  assert.equal(
    lines[1],
    `Exception occurred during processing of request from ('127.0.0.1', ${port})`,
  );
  assert.equal(lines[2], "RangeError: Test error");
  assert.match(lines[3], /^ {4}at /);
  assert.equal(lines[lines.length - 1], dashes);
});

// ---------------------------------------------------------------------------
// SocketWriterTest

// test_socketserver.py SocketWriterTest.test_basics
// Python checks wfile is an io.BufferedIOBase; pysock's unbuffered wfile is
// a SocketWriter over the same socket.
Deno.test("wfile is a SocketWriter on the request's socket (SocketWriterTest.test_basics)", async () => {
  let wfile: unknown;
  let wfileFileno = -2;
  let requestFileno = -3;
  class Handler extends StreamRequestHandler {
    override handle() {
      wfile = this.wfile;
      wfileFileno = (this.wfile as SocketWriter).fileno();
      requestFileno = this.request.fileno();
    }
  }
  await using server = new TCPServer([HOST, 0], Handler);
  {
    await using s = socket(server.addressFamily, SOCK_STREAM, IPPROTO_TCP);
    await s.connect(server.serverAddress);
  }
  await server.handleRequest();
  assert.ok(wfile instanceof SocketWriter);
  assert.equal(wfileFileno, requestFileno);
  assert.ok(requestFileno > 0);
});

// test_socketserver.py SocketWriterTest.test_write
// Python also interrupts the big write with SIGUSR1 to show it is not cut
// short (EINTR). Deno's sends are not interrupted by signals, so that half
// has no twin; what remains: write() sends at once and returns the whole length.
Deno.test("wfile.write sends at once without flush and writes all of a 16 MiB chunk (SocketWriterTest.test_write)", async () => {
  const SOCK_MAX_SIZE = 16 * 1024 * 1024;
  let sent1 = 0;
  let sent2 = 0;
  let received: Uint8Array = new Uint8Array();
  class Handler extends StreamRequestHandler {
    override async handle() {
      sent1 = await this.wfile.write(bytes("write data\n"));
      // Had the write waited for a flush, the client would never answer this.
      received = await this.rfile.readline();
      sent2 = await this.wfile.write(new Uint8Array(SOCK_MAX_SIZE));
    }
  }
  await using server = new TCPServer([HOST, 0], Handler);
  const runClient = async () => {
    await using s = socket(server.addressFamily, SOCK_STREAM, IPPROTO_TCP);
    s.settimeout(SHORT_TIMEOUT);
    await using reader = s.makefile("rb");
    await s.connect(server.serverAddress);
    const response1 = await reader.readline();
    await s.sendall("client response\n");
    const first = await reader.read(100);
    const rest = await reader.read();
    return { response1, first: first.length, received2: rest.length };
  };
  const [, client] = await Promise.all([server.handleRequest(), runClient()]);
  assert.equal(sent1, client.response1.length);
  assert.equal(text(client.response1), "write data\n");
  assert.equal(text(received), "client response\n");
  assert.equal(sent2, SOCK_MAX_SIZE);
  assert.equal(client.first, 100);
  assert.equal(client.received2, SOCK_MAX_SIZE - 100);
});

// ---------------------------------------------------------------------------
// MiscTestCase

// test_socketserver.py MiscTestCase.test_all
// Python's __all__ in camelCase, without the Forking* names (no fork) and
// ThreadingUnixDatagramServer (denoland/deno#6290), plus what pysock adds:
// SocketWriter (Python's private _SocketWriter), BytesIO (io.BytesIO, which
// DatagramRequestHandler's files are) and DEFAULT_GRACE_PERIOD.
Deno.test("socketserver.ts exports Python's names, less the Forking* ones, plus its own (MiscTestCase.test_all)", () => {
  const python = [
    "BaseServer",
    "TCPServer",
    "UDPServer",
    "ThreadingUDPServer",
    "ThreadingTCPServer",
    "BaseRequestHandler",
    "StreamRequestHandler",
    "DatagramRequestHandler",
    "ThreadingMixIn",
    "UnixStreamServer",
    "UnixDatagramServer",
    "ThreadingUnixStreamServer",
  ];
  const own = [
    "SocketWriter",
    "BytesIO",
    "DEFAULT_GRACE_PERIOD",
    // What TCPServer and UDPServer share (Python has it as TCPServer itself).
    "SocketServer",
    // Several processes on one port, since a task cannot use a second core.
    "serveWorkers",
    "RESTART_WINDOW",
  ];
  assert.deepEqual(Object.keys(socketserver).sort(), [...python, ...own].sort());
  assert.equal(socketserver.DEFAULT_GRACE_PERIOD, 5);
});

// test_socketserver.py MiscTestCase.test_shutdown_request_called_if_verify_request_false
// Issue #26309: shutdown_request is called even when verify_request says no.
Deno.test("shutdownRequest is called once when verifyRequest returns false (test_shutdown_request_called_if_verify_request_false)", async () => {
  let handled = false;
  class Handler extends StreamRequestHandler {
    override handle() {
      handled = true;
    }
  }
  class MyServer extends TCPServer {
    shutdownCalled = 0;
    override verifyRequest() {
      return false;
    }
    override shutdownRequest(request: StreamSocket) {
      this.shutdownCalled += 1;
      super.shutdownRequest(request);
    }
  }
  const server = new MyServer([HOST, 0], Handler);
  const s = socket(server.addressFamily, SOCK_STREAM);
  await s.connect(server.serverAddress);
  s.close();
  await server.handleRequest();
  assert.equal(server.shutdownCalled, 1);
  assert.equal(handled, false);
  await server.serverClose();
});

// test_socketserver.py MiscTestCase.test_threads_reaped
// Issue #37193: a ThreadingMixIn server must not keep every request's
// thread. pysock's list of running requests is private; what shows is that
// finished ones are not ended again: after 10 served requests, serverClose
// closes none (abandonRequest is never called) and each request was shut
// down exactly once.
Deno.test("a Threading server keeps no finished request: serverClose after 10 requests ends none again (test_threads_reaped)", async () => {
  let abandoned = 0;
  const ended = new Map<StreamSocket, number>();
  class MyServer extends ThreadingMixIn(TCPServer) {
    protected override abandonRequest(request: StreamSocket) {
      abandoned++;
      super.abandonRequest(request);
    }
    override shutdownRequest(request: StreamSocket) {
      ended.set(request, (ended.get(request) ?? 0) + 1);
      super.shutdownRequest(request);
    }
  }
  const server = new MyServer([HOST, 0], StreamRequestHandler);
  for (let n = 0; n < 10; n++) {
    await using client = await createConnection(server.serverAddress as [string, number]);
    await server.handleRequest();
    // The task has ended once the server has closed its end.
    assert.equal((await client.recv(10)).length, 0);
  }
  await server.serverClose();
  assert.equal(abandoned, 0);
  assert.equal(ended.size, 10);
  assert.deepEqual([...ended.values()], Array(10).fill(1));
});

// ThreadingMixIn.block_on_close (3.7+): server_close() joins the request
// threads. pysock waits for running handlers (up to gracePeriod) likewise.
Deno.test("serverClose waits for a running handler when blockOnClose is true", async () => {
  let finished = false;
  class Handler extends StreamRequestHandler {
    override async handle() {
      await this.wfile.write(await this.rfile.readline());
      finished = true;
    }
  }
  const server = new ThreadingTCPServer([HOST, 0], Handler);
  assert.equal(server.blockOnClose, true);
  await using client = await createConnection(server.serverAddress as [string, number]);
  await server.handleRequest();
  let closed = false;
  const closing = server.serverClose().then(() => closed = true);
  await client.sendall("late\n");
  assert.equal(text(await client.recv(10)), "late\n");
  await closing;
  assert.equal(closed, true);
  assert.equal(finished, true);
});

// ThreadingMixIn.daemon_threads = True: server_close() does not join, the
// thread runs on. Python kills daemon threads at exit; a task cannot be
// killed, so the handler goes on serving its connection after serverClose.
for (
  const [name, attrs] of [["daemonThreads is true", { daemonThreads: true }], [
    "blockOnClose is false",
    { blockOnClose: false },
  ]] as const
) {
  Deno.test(`serverClose leaves a running handler to go on when ${name}`, async () => {
    let finished = false;
    class Handler extends StreamRequestHandler {
      override async handle() {
        await this.wfile.write(await this.rfile.readline());
        finished = true;
      }
    }
    class MyServer extends ThreadingTCPServer {}
    Object.assign(MyServer, attrs);
    const server = new MyServer([HOST, 0], Handler);
    await using client = await createConnection(server.serverAddress as [string, number]);
    await server.handleRequest();
    await server.serverClose();
    assert.equal(server.fileno(), -1);
    assert.equal(finished, false);
    await client.sendall("after close\n");
    assert.equal(text(await client.recv(20)), "after close\n");
    assert.equal((await client.recv(20)).length, 0);
    assert.equal(finished, true);
  });
}

// ---------------------------------------------------------------------------
// StreamRequestHandler and DatagramRequestHandler (Lib/socketserver.py),
// which CPython's tests exercise only through the echo servers above.

// A TCPServer with `Handler`, one client, one handleRequest(): what the client got.
async function serveOnce(
  Handler: typeof StreamRequestHandler,
  client: (s: StreamSocket) => Promise<Uint8Array>,
  errors: unknown[] = [],
): Promise<Uint8Array> {
  class Server extends TCPServer {
    override handleError(_request: StreamSocket, _address: unknown, error?: unknown) {
      errors.push(error);
    }
  }
  await using server = new Server([HOST, 0], Handler);
  await using s = await createConnection(server.serverAddress as [string, number]);
  s.settimeout(SHORT_TIMEOUT);
  const [, got] = await Promise.all([server.handleRequest(), client(s)]);
  return got;
}

async function readToEnd(s: StreamSocket): Promise<Uint8Array> {
  let all: Uint8Array = new Uint8Array();
  for (let i = 0; i < 1000; i++) {
    const data = await s.recv(4096);
    if (data.length === 0) break;
    all = concat(all, data);
  }
  return all;
}

Deno.test("rfile and request.recv read through one buffer, so neither loses the other's bytes", async () => {
  // CPython's buffered rfile (rbufsize -1) would hold "rest" after
  // readline, out of recv's reach; pysock's files read the socket's buffer.
  let line = "";
  class Handler extends StreamRequestHandler {
    override async handle() {
      line = text(await this.rfile.readline());
      await this.request.sendall(await readToEnd(this.request));
    }
  }
  const got = await serveOnce(Handler, async (s) => {
    await s.sendall("line1\nrest");
    s.shutdown(SHUT_WR);
    return await readToEnd(s);
  });
  assert.equal(line, "line1\n");
  assert.equal(text(got), "rest");
});

Deno.test("with wbufsize set, wfile holds writes until finish flushes them", async () => {
  class Handler extends StreamRequestHandler {
    override wbufsize = 8192;
    override async handle() {
      await this.wfile.write(bytes("held\n"));
      await this.rfile.readline();
    }
  }
  const got = await serveOnce(Handler, async (s) => {
    s.settimeout(0.1);
    // Nothing comes while the handler waits for the line: the write is held.
    await assert.rejects(s.recv(10), TimeoutError);
    s.settimeout(SHORT_TIMEOUT);
    await s.sendall("go\n");
    return await readToEnd(s);
  });
  assert.equal(text(got), "held\n");
});

Deno.test("finish closes rfile and wfile, and the server closes the connection", async () => {
  let handler: StreamRequestHandler | undefined;
  class Handler extends StreamRequestHandler {
    override async handle() {
      handler = this;
      await this.wfile.write(bytes("bye"));
    }
  }
  const got = await serveOnce(Handler, readToEnd);
  assert.equal(text(got), "bye");
  assert.equal(handler!.rfile.closed, true);
  assert.equal(handler!.wfile.closed, true);
  assert.equal(handler!.request.fileno(), -1);
});

Deno.test("StreamRequestHandler.timeout makes a silent client's read fail with TimeoutError, reported to handleError", async () => {
  class Handler extends StreamRequestHandler {
    override timeout = 0.05;
    override async handle() {
      await this.rfile.readline();
    }
  }
  const errors: unknown[] = [];
  const got = await serveOnce(Handler, readToEnd, errors);
  assert.equal(got.length, 0);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TimeoutError);
  assert.equal((errors[0] as TimeoutError).message, "timed out");
});

Deno.test("DatagramRequestHandler sends an empty datagram when nothing was written, as Python's does", async () => {
  class Silent extends DatagramRequestHandler {}
  await using server = new UDPServer([HOST, 0], Silent);
  await using client = socket(AF_INET, SOCK_DGRAM);
  client.settimeout(SHORT_TIMEOUT);
  await client.sendto("ping", server.serverAddress);
  await server.handleRequest();
  const [reply, from] = await client.recvfrom(100);
  assert.equal(reply.length, 0);
  assert.deepEqual(from, server.serverAddress);
});

Deno.test("a datagram longer than maxPacketSize reaches the handler cut to maxPacketSize", async () => {
  class Echo extends DatagramRequestHandler {
    override handle() {
      this.wfile.write(this.rfile.read());
    }
  }
  class Small extends UDPServer {
    static override maxPacketSize = 8;
  }
  await using server = new Small([HOST, 0], Echo);
  assert.equal(server.maxPacketSize, 8);
  await using client = socket(AF_INET, SOCK_DGRAM);
  client.settimeout(SHORT_TIMEOUT);
  await client.sendto("0123456789abcdef", server.serverAddress);
  await server.handleRequest();
  assert.equal(text((await client.recvfrom(100))[0]), "01234567");
});

// ---------------------------------------------------------------------------
// BaseServer.handle_request and handle_timeout

Deno.test("handleRequest calls handleTimeout once when no request comes within the server's timeout", async () => {
  let timeouts = 0;
  class MyServer extends TCPServer {
    static override timeout = 0.05;
    override handleTimeout() {
      timeouts++;
    }
  }
  await using server = new MyServer([HOST, 0], StreamRequestHandler);
  assert.equal(server.timeout, 0.05);
  await server.handleRequest();
  assert.equal(timeouts, 1);
});

// Python's handle_request takes the socket's timeout when the server has none.
Deno.test("handleRequest times out on the socket's own timeout when the server's is null", async () => {
  let timeouts = 0;
  class MyServer extends TCPServer {
    override handleTimeout() {
      timeouts++;
    }
  }
  await using server = new MyServer([HOST, 0], StreamRequestHandler);
  assert.equal(server.timeout, null);
  server.socket.settimeout(0.05);
  await server.handleRequest();
  assert.equal(timeouts, 1);
});

Deno.test("handleRequest serves a request that comes within the timeout and does not call handleTimeout", async () => {
  let timeouts = 0;
  class Hello extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall("hello");
    }
  }
  class MyServer extends TCPServer {
    static override timeout = SHORT_TIMEOUT;
    override handleTimeout() {
      timeouts++;
    }
  }
  await using server = new MyServer([HOST, 0], Hello);
  await using client = await createConnection(server.serverAddress as [string, number]);
  await server.handleRequest();
  assert.equal(text(await client.recv(10)), "hello");
  assert.equal(timeouts, 0);
});

// ---------------------------------------------------------------------------
// Faults and graceful shutdown, which CPython's tests leave out.

// A server of `Svr` that collects what handleError gets, serving in the background.
function collecting(Svr: StreamServerClass, errors: unknown[]) {
  return class extends Svr {
    override handleError(_request: StreamSocket, _address: unknown, error?: unknown) {
      errors.push(error);
    }
  };
}

async function echoLine(address: [string, number], line: string): Promise<string> {
  await using c = await createConnection(address, { timeout: SHORT_TIMEOUT });
  await c.sendall(line);
  return text(await readToEnd(c));
}

for (const Svr of [TCPServer, ThreadingTCPServer]) {
  Deno.test(`${Svr.name}: a handler that throws is reported to handleError and the next client is served`, async () => {
    const boom = new Error("boom");
    class Handler extends StreamRequestHandler {
      override async handle() {
        const line = await this.rfile.readline();
        if (text(line) === "boom\n") throw boom;
        await this.wfile.write(line);
      }
    }
    const errors: unknown[] = [];
    const server = new (collecting(Svr, errors))([HOST, 0], Handler);
    const serving = server.serveForever(0.01);
    const address = server.serverAddress as [string, number];
    try {
      // The failed request's connection is ended (shutdownRequest), not left open.
      assert.equal(await echoLine(address, "boom\n"), "");
      assert.equal(await echoLine(address, "next\n"), "next\n");
      assert.deepEqual(errors, [boom]);
    } finally {
      await server.shutdown();
      await serving;
      await server.serverClose();
    }
  });

  Deno.test(`${Svr.name}: a client that resets mid-request (SO_LINGER 0) is reported as ConnectionResetError and the server goes on`, async () => {
    // recv, not rfile.readline: on a reset CPython's readline raises
    // while pysock's returns the partial line first (the error comes with
    // the next read), so only recv gives both the same error at one point.
    class Handler extends BaseRequestHandler {
      override async handle() {
        await this.request.sendall("ready\n");
        let line: Uint8Array = new Uint8Array();
        for (let i = 0; i < 100 && !line.includes(10); i++) {
          const data = await this.request.recv(100);
          if (data.length === 0) break;
          line = concat(line, data);
        }
        await this.request.sendall(line);
      }
    }
    const errors: unknown[] = [];
    const server = new (collecting(Svr, errors))([HOST, 0], Handler);
    const serving = server.serveForever(0.01);
    const [, port] = server.serverAddress as [string, number];
    try {
      // The client waits for the handler to be in its readline, sends half
      // a line and resets: the RST reaches a handler that is reading.
      await python(
        `
import socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
assert c.recv(6) == b"ready\\n"
c.sendall(b"partial")
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`,
        String(port),
      ).output();
      const next = await createConnection([HOST, port], { timeout: SHORT_TIMEOUT });
      try {
        assert.equal(text(await next.recv(6)), "ready\n");
        await next.sendall("after the reset\n");
        assert.equal(text(await readToEnd(next)), "after the reset\n");
      } finally {
        next.close();
      }
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof ConnectionResetError, String(errors[0]));
      assert.equal((errors[0] as OSError).errno, 104);
    } finally {
      await server.shutdown();
      await serving;
      await server.serverClose();
    }
  });

  Deno.test(`${Svr.name}: shutdown waits for a request in flight that ends within the grace period`, async () => {
    let shutDown = false;
    let shutDownWhenHandled: boolean | undefined;
    class Handler extends StreamRequestHandler {
      override async handle() {
        await this.wfile.write(bytes("ready\n"));
        const line = text(await this.rfile.readline());
        await this.wfile.write(bytes(`done: ${line}`));
        shutDownWhenHandled = shutDown;
      }
    }
    const errors: unknown[] = [];
    const server = new (collecting(Svr, errors))([HOST, 0], Handler);
    const serving = server.serveForever(0.01);
    try {
      await using c = await createConnection(server.serverAddress as [string, number]);
      c.settimeout(SHORT_TIMEOUT);
      assert.equal(text(await c.recv(6)), "ready\n");
      const stopping = server.shutdown(SHORT_TIMEOUT).then(() => shutDown = true);
      // The slow client answers only once shutdown() has begun.
      await sleep(20);
      await c.sendall("slow\n");
      assert.equal(text(await readToEnd(c)), "done: slow\n");
      await within(stopping, "shutdown");
      await within(serving, "serveForever");
      assert.equal(shutDownWhenHandled, false);
      assert.deepEqual(errors, []);
    } finally {
      await server.serverClose();
    }
  });

  Deno.test(`${Svr.name}: a handler stuck in recv past the grace period has its connection closed and shutdown resolves`, async () => {
    let running = false;
    let failure: unknown;
    class Stuck extends BaseRequestHandler {
      override async handle() {
        running = true;
        try {
          await this.request.sendall("ready\n");
          await this.request.recv(10);
        } catch (err) {
          failure = err;
          throw err;
        } finally {
          running = false;
        }
      }
    }
    const errors: unknown[] = [];
    const server = new (collecting(Svr, errors))([HOST, 0], Stuck);
    const serving = server.serveForever(0.01);
    try {
      await using c = await createConnection(server.serverAddress as [string, number]);
      c.settimeout(SHORT_TIMEOUT);
      assert.equal(text(await c.recv(6)), "ready\n");
      await within(server.shutdown(0.05), "shutdown after its grace period");
      await within(serving, "serveForever");
      assert.equal(running, false);
      // Closed under the handler: its recv fails as CPython's does on a
      // socket another thread closed (EBADF), and the client sees the end.
      assert.ok(failure instanceof OSError);
      assert.equal(failure.errno, 9);
      assert.equal((await c.recv(10)).length, 0);
      // The server closed it itself: nothing to report.
      assert.deepEqual(errors, []);
    } finally {
      await server.serverClose();
    }
  });
}

Deno.test("serveForever while it runs is a RuntimeError, and it runs again after shutdown", async () => {
  await using server = new TCPServer([HOST, 0], StreamRequestHandler);
  const serving = server.serveForever(0.01);
  await assert.rejects(server.serveForever(0.01), RuntimeError);
  await server.shutdown();
  await serving;
  // Python's serve_forever may be called again after shutdown(); so here.
  const again = server.serveForever(0.01);
  assert.equal(await echoConnectCloses(server.serverAddress as [string, number]), 0);
  await server.shutdown();
  await again;
});

// A StreamRequestHandler that does nothing: the server ends the connection.
async function echoConnectCloses(address: [string, number]): Promise<number> {
  await using c = await createConnection(address, { timeout: SHORT_TIMEOUT });
  return (await c.recv(10)).length;
}

Deno.test("serveForever after serverClose fails with OSError EBADF", async () => {
  const server = new TCPServer([HOST, 0], StreamRequestHandler);
  await server.serverClose();
  const err = await server.serveForever(0.01).catch((e) => e);
  assert.ok(err instanceof OSError);
  assert.equal(err.errno, 9);
  assert.equal(err.message, "[Errno 9] Bad file descriptor");
});

Deno.test("a server on an address in use fails with EADDRINUSE and closes its socket; the address binds once freed", async () => {
  const first = new TCPServer([HOST, 0], StreamRequestHandler);
  const address = first.serverAddress as [string, number];
  let made: StreamSocket | undefined;
  class Watched extends TCPServer {
    override serverBind() {
      made = this.socket;
      super.serverBind();
    }
  }
  const err = (() => {
    try {
      new Watched(address, StreamRequestHandler);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof OSError);
  assert.equal(err.errno, 98);
  assert.equal(err.message, "[Errno 98] Address already in use");
  assert.equal(made!.fileno(), -1);
  await first.serverClose();
  await using later = new TCPServer(address, StreamRequestHandler);
  assert.deepEqual(later.serverAddress, address);
});

// The server's end of a connection it closed first sits in TIME_WAIT on
// its port; /proc/net/tcp lists it (state 06). Deno reads /proc only with
// --allow-all, so `cat` reads it.
async function timeWaitOn(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const { stdout } = await new Deno.Command("cat", { args: ["/proc/net/tcp"] }).output();
  return text(stdout).split("\n").some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "06";
  });
}

Deno.test("allowReuseAddress lets a new server bind while an old connection is in TIME_WAIT", async () => {
  class Hello extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall("hello");
    }
  }
  const old = new TCPServer([HOST, 0], Hello);
  const address = old.serverAddress as [string, number];
  {
    await using c = await createConnection(address, { timeout: SHORT_TIMEOUT });
    await old.handleRequest();
    assert.equal(text(await readToEnd(c)), "hello");
  }
  await old.serverClose();
  let waiting = await timeWaitOn(address[1]);
  for (let i = 0; i < 50 && !waiting; i++) {
    await sleep(5);
    waiting = await timeWaitOn(address[1]);
  }
  assert.ok(waiting, "the server's end is in TIME_WAIT");
  class Reusing extends TCPServer {
    static override allowReuseAddress = true;
  }
  {
    await using reused = new Reusing(address, Hello);
    assert.equal(reused.allowReuseAddress, true);
    assert.deepEqual(reused.serverAddress, address);
  }
  // Python's TCPServer without allow_reuse_address fails here with
  // EADDRINUSE; Deno sets SO_REUSEADDR on every listener it opens (README:
  // SO_REUSEADDR reads 1 on a TCP listener), so pysock's binds as well.
  await using plain = new TCPServer(address, Hello);
  assert.equal(plain.allowReuseAddress, false);
  assert.deepEqual(plain.serverAddress, address);
});

Deno.test("UDPServer.allowReuseAddress lets two servers bind one port; without it the second fails with EADDRINUSE", async () => {
  class Reusing extends UDPServer {
    static override allowReuseAddress = true;
  }
  {
    await using first = new UDPServer([HOST, 0], DatagramRequestHandler);
    assert.throws(
      () => new UDPServer(first.serverAddress, DatagramRequestHandler),
      (e: unknown) => e instanceof OSError && e.errno === 98,
    );
  }
  await using a = new Reusing([HOST, 0], DatagramRequestHandler);
  await using b = new Reusing(a.serverAddress, DatagramRequestHandler);
  assert.deepEqual(b.serverAddress, a.serverAddress);
});

// Linux queues backlog + 1 completed connections; a SYN beyond them is
// dropped, so that connect waits (here until its short timeout).
Deno.test("requestQueueSize is the kernel's backlog: with nothing accepting, connects beyond it time out", async () => {
  for (const size of [1, 3]) {
    class Queued extends TCPServer {
      static override requestQueueSize = size;
    }
    await using server = new Queued([HOST, 0], StreamRequestHandler);
    assert.equal(server.requestQueueSize, size);
    const clients: StreamSocket[] = [];
    let failure: unknown;
    try {
      for (let i = 0; i < size + 4 && failure === undefined; i++) {
        const c = socket();
        clients.push(c);
        c.settimeout(0.2);
        failure = await c.connect(server.serverAddress).catch((e) => e);
      }
    } finally {
      for (const c of clients) c.close();
    }
    assert.ok(failure instanceof TimeoutError, String(failure));
    assert.equal(clients.length - 1, size + 1);
  }
});

Deno.test("bad arguments fail before any I/O: a non-class handler, a negative or non-number interval, a bad address", async () => {
  const port = freePort();
  for (const handler of [42, "Handler", null, {}]) {
    assert.throws(() => new TCPServer([HOST, port], handler as never), TypeError);
    assert.throws(() => new UDPServer([HOST, port], handler as never), TypeError);
  }
  assert.throws(() => new TCPServer([HOST, 70000], StreamRequestHandler), RangeError);
  assert.throws(() => new TCPServer([HOST, "80"] as never, StreamRequestHandler), TypeError);
  assert.throws(() => new TCPServer(42 as never, StreamRequestHandler), TypeError);
  assert.throws(() => new UDPServer([HOST, -1], DatagramRequestHandler), RangeError);
  // None of these took the port.
  await using server = new TCPServer([HOST, port], StreamRequestHandler);
  await assert.rejects(server.serveForever(-1), RangeError);
  await assert.rejects(server.serveForever(NaN), RangeError);
  await assert.rejects(server.serveForever("0.5" as never), TypeError);
  await assert.rejects(server.shutdown(-1), RangeError);
  // The refused calls left no loop running: a real one starts.
  const serving = server.serveForever(0.01);
  await server.shutdown();
  await serving;
});

Deno.test("await using closes the socket and stops a running serveForever", async () => {
  let serving: Promise<void>;
  let outer: ThreadingTCPServer;
  {
    await using server = new ThreadingTCPServer([HOST, 0], StreamRequestHandler);
    outer = server;
    serving = server.serveForever(0.01);
  }
  await within(serving, "serveForever after await using");
  assert.equal(outer.fileno(), -1);
});

// CPython's idiom server_close(); os.unlink(path) frees the path for the
// next server. When an accept was pending at close(), pysock's listener
// keeps the file across Deno's removal (_unix_file.ts) and puts it back once
// Deno lets the listener go; serverClose() resolves only then, so the
// unlink that follows it is for good (found by this port).
Deno.test({
  name: "a Unix server's socket file that the program unlinks after serverClose stays unlinked",
  fn: async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/s.sock`;
      const server = new UnixStreamServer(path, StreamRequestHandler);
      const serving = server.serveForever(0.01);
      await server.shutdown();
      await serving;
      await server.serverClose();
      await Deno.remove(path);
      await sleep(20);
      await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
      await using again = new UnixStreamServer(path, StreamRequestHandler);
      assert.equal(again.serverAddress, path);
    });
  },
});

// ---------------------------------------------------------------------------
// Lib/socketserver.py's class attributes and hooks, as the servers above use them.

Deno.test("the servers' attributes default to Python's class attributes", () => {
  assert.equal(TCPServer.addressFamily, AF_INET);
  assert.equal(TCPServer.socketType, SOCK_STREAM);
  assert.equal(TCPServer.requestQueueSize, 5);
  assert.equal(TCPServer.allowReuseAddress, false);
  assert.equal(TCPServer.allowReusePort, false);
  assert.equal(TCPServer.timeout, null);
  assert.equal(UDPServer.socketType, SOCK_DGRAM);
  assert.equal(UDPServer.maxPacketSize, 8192);
  assert.equal(UDPServer.allowReuseAddress, false);
  assert.equal(UnixStreamServer.addressFamily, AF_UNIX);
  assert.equal(UnixDatagramServer.addressFamily, AF_UNIX);
  assert.equal(ThreadingTCPServer.daemonThreads, false);
  assert.equal(ThreadingTCPServer.blockOnClose, true);
});

// Python's bind_and_activate=False: set attributes on the instance, then
// server_bind() and server_activate() by hand.
Deno.test("with bindAndActivate false, serverBind and serverActivate by hand bind to the real port and serve", async () => {
  class Hello extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall("hello");
    }
  }
  await using server = new TCPServer([HOST, 0], Hello, false);
  assert.deepEqual(server.serverAddress, [HOST, 0]);
  server.allowReuseAddress = true;
  server.serverBind();
  server.serverActivate();
  const [host, port] = server.serverAddress as [string, number];
  assert.equal(host, HOST);
  assert.ok(port > 0);
  await using c = await createConnection([host, port], { timeout: SHORT_TIMEOUT });
  await server.handleRequest();
  assert.equal(text(await readToEnd(c)), "hello");
});

Deno.test({
  name:
    "a TCPServer with addressFamily AF_INET6 serves on ::1 and reports Python's 4-tuple address",
  ignore: !HAS_IPV6,
  fn: async () => {
    class V6 extends ThreadingTCPServer {
      static override addressFamily = AF_INET6;
    }
    const errors: unknown[] = [];
    const MyServer = streamServer(V6, errors);
    const server = new MyServer(["::1", 0], MyStreamHandler);
    const [host, port, flowinfo, scopeId] = server.serverAddress as [
      string,
      number,
      number,
      number,
    ];
    assert.deepEqual([host, flowinfo, scopeId], ["::1", 0, 0]);
    await runServer(server, errors, (family) => streamExamine(family, ["::1", port]), "");
  },
});

// BaseServer.serve_forever calls service_actions() after each request (and
// each poll tick); shutdown() ends the loop without one more call.
Deno.test("serveForever calls serviceActions once after each request", async () => {
  class Counting extends TCPServer {
    actions = 0;
    override serviceActions() {
      this.actions++;
    }
  }
  await using server = new Counting([HOST, 0], MyStreamHandler);
  // A poll interval longer than the test: every call comes from a request.
  const serving = server.serveForever(60);
  try {
    for (let i = 0; i < 3; i++) {
      await streamExamine(AF_INET, server.serverAddress as [string, number]);
    }
  } finally {
    await server.shutdown();
    await serving;
  }
  assert.equal(server.actions, 3);
});

Deno.test("a datagram handler that throws is reported to handleError and the next datagram is answered", async () => {
  const boom = new RangeError("boom");
  class Handler extends DatagramRequestHandler {
    override handle() {
      const data = this.rfile.read();
      if (text(data) === "boom") throw boom;
      this.wfile.write(data);
    }
  }
  const errors: unknown[] = [];
  const server = new (datagramServer(UDPServer, errors))([HOST, 0], Handler);
  const serving = server.serveForever(0.01);
  try {
    await using c = socket(AF_INET, SOCK_DGRAM);
    c.settimeout(SHORT_TIMEOUT);
    await c.sendto("boom", server.serverAddress);
    await c.sendto("next", server.serverAddress);
    // Python runs finish() in a finally, so the failed request still sends
    // its (empty) wfile back.
    const replies = [text((await c.recvfrom(100))[0]), text((await c.recvfrom(100))[0])];
    assert.deepEqual(replies, ["", "next"]);
    assert.deepEqual(errors, [boom]);
  } finally {
    await server.shutdown();
    await serving;
    await server.serverClose();
  }
});

// Python's accept() gives '' for a Unix client that did not bind a name.
Deno.test("a UnixStreamServer's handler sees an unnamed client's address as ''", async () => {
  await withTempDir(async (dir) => {
    let clientAddress: unknown;
    class Handler extends BaseRequestHandler {
      override handle() {
        clientAddress = this.clientAddress;
      }
    }
    const path = `${dir}/s.sock`;
    await using server = new UnixStreamServer(path, Handler);
    await using c = socket(AF_UNIX);
    await c.connect(path);
    await server.handleRequest();
    assert.equal(clientAddress, "");
  });
});

Deno.test("a UDPServer calls handleTimeout when no datagram comes within its timeout", async () => {
  let timeouts = 0;
  class MyServer extends UDPServer {
    static override timeout = 0.05;
    override handleTimeout() {
      timeouts++;
    }
  }
  await using server = new MyServer([HOST, 0], DatagramRequestHandler);
  await server.handleRequest();
  assert.equal(timeouts, 1);
});

// UDPServer.shutdown_request only calls close_request, which does nothing:
// the server's socket stays open for the next datagram.
Deno.test("a datagram verifyRequest refuses gets no reply and the server's socket serves the next", async () => {
  class Echo extends DatagramRequestHandler {
    override handle() {
      this.wfile.write(this.rfile.read());
    }
  }
  class Picky extends UDPServer {
    override verifyRequest(request: DatagramRequest) {
      return text(request[0]) !== "refused";
    }
  }
  await using server = new Picky([HOST, 0], Echo);
  await using c = socket(AF_INET, SOCK_DGRAM);
  c.settimeout(SHORT_TIMEOUT);
  await c.sendto("refused", server.serverAddress);
  await c.sendto("served", server.serverAddress);
  await server.handleRequest();
  await server.handleRequest();
  assert.equal(text((await c.recvfrom(100))[0]), "served");
  assert.notEqual(server.fileno(), -1);
});
