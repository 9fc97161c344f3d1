// Session 12's mutation audit of readiness and socketserver: each test here
// kills a mutant of selectors.ts, _select.ts, _selector.ts, _ready.ts,
// socketserver.ts, _base_server.ts or _server_handlers.ts that the other
// test files let live (the mutant is named above each test), on real
// loopback sockets, with CPython as the oracle where the behaviour is Python's.

import assert from "node:assert/strict";
import {
  type AbortOptions,
  BaseRequestHandler,
  BaseServer,
  createConnection,
  createServer,
  errno,
  OSError,
  serveWorkers,
  socket,
  socketpair,
  SocketWriter,
  StreamRequestHandler,
  type StreamSocket,
  TCPServer,
  ThreadingTCPServer,
} from "../mod.ts";
import type { Address } from "../socket.ts";
import {
  DefaultSelector,
  EVENT_READ,
  poll,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
  select,
} from "../selectors.ts";
import {
  assertPending,
  MOD,
  Proc,
  python,
  pythonJson,
  rejection,
  resetClients,
  runScript,
  settled,
  sleep,
  text,
} from "./_helpers.ts";

const SELECTORS = new URL("../selectors.ts", import.meta.url).href;
const SOCKETSERVER = new URL("../socketserver.ts", import.meta.url).href;

// _select.ts `sel[kOnClosed] = "fail"` left "drop": the closed socket was
// never reported and select() waited out its whole timeout.
Deno.test("select.select waiting on a socket that is closed meanwhile ends with OSError EBADF", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  const waiting = select([b], [], [], 30);
  b.close();
  const err = await rejection(waiting, "select on a socket closed during the wait");
  assert.ok(err instanceof OSError, String(err));
  assert.equal(err.errno, errno.EBADF);
});

// What CPython's select.poll does with the masks the mutants below touch.
const PY_POLL = `
import select, socket
a, b = socket.socketpair()
a.send(b"x")
p = select.poll()
out = {}
p.register(b, select.POLLPRI)
out["pri"] = p.poll(50)
p.register(b, select.POLLPRI | select.POLLOUT)
out["priOut"] = [ev for _, ev in p.poll(50)]
out["masks"] = []
for m in (0xffff, 0x10000):
    try:
        p.register(b, m)
        out["masks"].append("ok")
    except Exception as e:
        out["masks"].append(type(e).__name__)
print(json.dumps(out))
`;

// _select.ts `mask > 0xffff` to `> 0xfffff`: a mask past poll's unsigned
// short was taken. And a bug found here: a POLLPRI-only registration waited
// for readable (POLLPRI mapped to READ) and reported [fd, 0] for a socket
// with bytes, where CPython (no urgent data ever came) waits out the timeout
// and reports nothing.
Deno.test("poll masks as CPython's: POLLPRI alone never fires for plain bytes, 0x10000 is refused", async () => {
  const theirs = await pythonJson(PY_POLL) as Record<string, unknown>;
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  await a.sendall("x");
  const p = poll();
  p.register(b, POLLPRI);
  const ours: Record<string, unknown> = { pri: await p.poll(50) };
  p.register(b, POLLPRI | POLLOUT);
  ours.priOut = (await p.poll(50)).map(([, events]) => events);
  ours.masks = [0xffff, 0x10000].map((mask) => {
    try {
      p.register(b, mask);
      return "ok";
    } catch (err) {
      // Python's OverflowError is a RangeError here.
      return err instanceof RangeError ? "OverflowError" : String(err);
    }
  });
  assert.deepEqual(ours, theirs);
  assert.deepEqual(ours.priOut, [POLLOUT]);
});

// _select.ts `timeout < 0` (poll's "wait for ever") to `< -1`: poll(-1)
// became a poll of what is ready now.
Deno.test("poll(-1) waits as long as it takes, as poll(2) with a negative timeout", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  const p = poll();
  p.register(b, POLLIN);
  const waiting = p.poll(-1);
  await assertPending(waiting, "poll(-1) with nothing ready");
  await a.sendall("x");
  assert.deepEqual(await settled(waiting, "poll(-1)"), [[b.fileno(), POLLIN]]);
});

// _select.ts `timeout / 1000` dropped: poll's milliseconds were taken as
// seconds, and poll(50) waited 50 s.
Deno.test("poll's timeout is in milliseconds: poll(50) on an idle socket returns nothing, soon", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  const p = poll();
  p.register(b, POLLIN);
  assert.deepEqual(await settled(p.poll(50), "poll(50)", 5_000), []);
});

// _selector.ts checkTimeout's NaN check dropped: select(NaN) ran a wait of
// no length, over and over.
Deno.test("a socket closed while poll() waits ends the wait with POLLNVAL for it, with or without a timeout (it hung, or gave [] at the timeout)", async () => {
  for (const timeout of [5000, null]) {
    const [a, b] = await socketpair();
    await using _b = b;
    const p = poll();
    p.register(a, POLLIN);
    const fd = a.fileno();
    const waiting = p.poll(timeout);
    await sleep(20);
    a.close();
    assert.deepEqual(await waiting, [[fd, POLLNVAL]]);
  }
});

Deno.test("select, DefaultSelector.select and poll refuse NaN and the infinities before they wait, as CPython", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  using sel = new DefaultSelector();
  sel.register(b, EVENT_READ);
  // CPython: ValueError for NaN, OverflowError for an infinity.
  for (const bad of [NaN, Infinity, -Infinity]) {
    await assert.rejects(sel.select(bad), RangeError);
    await assert.rejects(select([b], [], [], bad), RangeError);
    const p = poll();
    p.register(b, POLLIN);
    // Named as poll's, in its unit (it used to say "Cannot select" and seconds).
    await assert.rejects(p.poll(bad), {
      name: "RangeError",
      message: `Cannot poll: timeout must be a finite number of milliseconds, got ${bad}`,
    });
  }
});

// _selector.ts `Deno.refTimer(keepAlive)` dropped: the second select
// without a timeout (the first one's wait unrefs the selector's timer) let
// the process exit while it waited for a peer outside it.
Deno.test("every select without a timeout keeps the process alive for bytes from another process", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/wait.ts`;
    await Deno.writeTextFile(
      script,
      `import { createConnection } from "${MOD}";
import { DefaultSelector, EVENT_READ } from "${SELECTORS}";
// Not top-level await: Deno keeps a process whose top-level await is
// pending alive while an unref'd read is, so only the select's own timer
// keeps this one alive.
async function main() {
  const conn = await createConnection(["127.0.0.1", Number(Deno.args[0])]);
  conn.setblocking(false);
  const sel = new DefaultSelector();
  sel.register(conn, EVENT_READ);
  for (const round of [1, 2]) {
    const ready = sel.select();
    console.log("waiting", round);
    console.log((await ready).length, new TextDecoder().decode(await conn.recv(10)));
  }
  sel.close();
  conn.close();
}
main();
`,
    );
    using server = createServer(["127.0.0.1", 0]);
    await using proc = new Proc("wait.ts", Deno.execPath(), [
      "run",
      "--no-config",
      "--allow-net=127.0.0.1",
      script,
      String(server.getsockname()[1]),
    ]);
    const [conn] = await server.accept();
    await using _conn = conn;
    for (const round of [1, 2]) {
      await proc.waitFor((out) => out.includes(`waiting ${round}\n`));
      await conn.sendall(`late ${round}`);
    }
    const { code, stdout, stderr } = await proc.finish();
    assert.equal(stdout, "waiting 1\n1 late 1\nwaiting 2\n1 late 2\n", stderr);
    assert.equal(code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// What CPython's handle_request does with a non-blocking server socket
// (select(0) finds nothing: handle_timeout) and with a get_request that
// raises OSError (_handle_request_noblock drops it: no handle_timeout).
const PY_HANDLE_REQUEST = `
import socketserver
calls = []
class S(socketserver.TCPServer):
    def handle_timeout(self):
        calls.append("timeout")
class H(socketserver.BaseRequestHandler):
    def handle(self):
        calls.append("handle")
out = {}
with S(("127.0.0.1", 0), H) as s:
    s.socket.setblocking(False)
    s.handle_request()
    out["nonblocking"] = calls[:]
calls.clear()
class F(S):
    def get_request(self):
        raise OSError(103, "Software caused connection abort")
with F(("127.0.0.1", 0), H) as f:
    c = socket.create_connection(f.server_address)
    f.handle_request()
    c.close()
    out["failed"] = calls[:]
print(json.dumps(out))
`;

// _base_server.ts `BlockingIOError` → POLL dropped (handleRequest on a
// non-blocking socket returned without handleTimeout), and `next === FAILED`
// → return dropped (a failed getRequest called handleTimeout).
Deno.test("handleRequest as CPython's: a non-blocking socket times out at once, a failed accept is dropped", async () => {
  const theirs = await pythonJson(PY_HANDLE_REQUEST);
  const calls: string[] = [];
  class S extends TCPServer {
    override handleTimeout() {
      calls.push("timeout");
    }
  }
  class H extends BaseRequestHandler {
    override handle() {
      calls.push("handle");
    }
  }
  const ours: Record<string, string[]> = {};
  {
    await using s = new S(["127.0.0.1", 0], H);
    s.socket.setblocking(false);
    await settled(s.handleRequest(), "handleRequest on a non-blocking socket");
    ours.nonblocking = calls.splice(0);
  }
  class F extends S {
    override getRequest(): Promise<[StreamSocket, Address]> {
      return Promise.reject(new OSError(errno.ECONNABORTED));
    }
  }
  {
    await using f = new F(["127.0.0.1", 0], H);
    await settled(f.handleRequest(), "handleRequest whose accept fails");
    ours.failed = calls.splice(0);
  }
  assert.deepEqual(ours, theirs);
});

// _base_server.ts `this.timeout * 1000` → `this.timeout`: handleRequest took
// its timeout in milliseconds and gave up before the client came.
Deno.test("handleRequest's timeout is in seconds: a client that comes within it is served", async () => {
  let timedOut = false;
  class S extends TCPServer {
    static override timeout = 30;
    override handleTimeout() {
      timedOut = true;
    }
  }
  class Hello extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall("hello");
    }
  }
  await using server = new S(["127.0.0.1", 0], Hello);
  const handling = server.handleRequest();
  await assertPending(handling, "handleRequest with a 30 s timeout and no client");
  await using client = await createConnection(server.serverAddress as [string, number]);
  await settled(handling, "handleRequest once the client came");
  assert.equal(timedOut, false);
  assert.equal(text(await client.recv(10)), "hello");
});

// _base_server.ts `await this.#pause(ms)` after a failed getRequest dropped:
// an accept error that comes again at once (EMFILE) made the loop spin
// instead of waiting for the next poll tick.
Deno.test("serveForever waits for the next poll tick after a failed accept, and shutdown ends that wait", async () => {
  let calls = 0;
  class Failing extends TCPServer {
    override getRequest(): Promise<[StreamSocket, Address]> {
      calls++;
      // A macrotask per failure, so a spinning loop still lets timers run.
      return new Promise((_, reject) => setTimeout(() => reject(new OSError(errno.EMFILE)), 0));
    }
  }
  await using server = new Failing(["127.0.0.1", 0], BaseRequestHandler);
  const serving = server.serveForever(3600);
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.equal(calls, 1, "getRequest called again before the poll interval passed");
  await settled(server.shutdown(), "shutdown during the pause");
  await settled(serving, "serveForever after shutdown");
});

// _base_server.ts "shutdown() came while the request did" dropped: a request
// that a getRequest brought after shutdown() was served anyway.
Deno.test("a request that arrives after shutdown() is not served: it is ended unhandled", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  let handled = false;
  const arrived = Promise.withResolvers<[StreamSocket, Address]>();
  class Late extends TCPServer {
    // Ignores the abort, as a getRequest of a subclass may.
    override getRequest(): Promise<[StreamSocket, Address]> {
      return arrived.promise;
    }
  }
  class H extends BaseRequestHandler {
    override handle() {
      handled = true;
    }
  }
  await using server = new Late(["127.0.0.1", 0], H);
  const serving = server.serveForever(3600);
  const stopping = server.shutdown();
  arrived.resolve([b, ["127.0.0.1", 1]]);
  await settled(stopping, "shutdown");
  await settled(serving, "serveForever");
  assert.equal(handled, false);
  assert.equal(b.closed, true, "the request was ended (shutdownRequest)");
  assert.equal((await a.recv(10)).length, 0);
});

// _base_server.ts `clearTimer(this.#pollTimer)` dropped when the loop ends:
// a long poll interval's timer outlived serveForever and kept the process
// alive (Deno's test sanitizer does not see timers, so this runs a program).
Deno.test("a program whose server has stopped serving exits by itself, leaving no poll timer", async () => {
  const { code, stdout, stderr } = await runScript(
    `import { BaseRequestHandler, TCPServer } from "${SOCKETSERVER}";
const server = new TCPServer(["127.0.0.1", 0], BaseRequestHandler);
const serving = server.serveForever(3600);
await new Promise((resolve) => setTimeout(resolve, 0));
await server.shutdown();
await serving;
await server.serverClose();
console.log("stopped");
`,
    ["--no-config", "--allow-net=127.0.0.1"],
  );
  assert.equal(stdout, "stopped\n", stderr);
  assert.equal(code, 0, "the process exited by itself");
});

// _base_server.ts `if (setup !== undefined) await setup` dropped: handle()
// ran before an async setup() had finished.
Deno.test("an async setup() has finished before handle() runs, and finish() after it", async () => {
  const steps: string[] = [];
  class Steps extends BaseRequestHandler {
    override async setup() {
      await new Promise((resolve) => setTimeout(resolve, 1));
      steps.push("setup");
    }
    override handle() {
      steps.push("handle");
    }
    override async finish() {
      await new Promise((resolve) => setTimeout(resolve, 1));
      steps.push("finish");
    }
  }
  await using server = new TCPServer(["127.0.0.1", 0], Steps);
  await using _client = await createConnection(server.serverAddress as [string, number]);
  await server.handleRequest();
  assert.deepEqual(steps, ["setup", "handle", "finish"]);
});

// _base_server.ts BaseServer.serverClose with daemonThreads not awaiting
// the loop: it resolved while serveForever was still running. (A server
// of BaseServer's own, since TCPServer's serverClose awaits more after it.)
Deno.test("BaseServer.serverClose() with daemonThreads resolves once serveForever has stopped", async () => {
  class Idle extends BaseServer<never> {
    static override daemonThreads = true;
    // A wait for a request that never comes, ended by the serve loop's abort.
    override getRequest(options?: AbortOptions): Promise<[never, Address]> {
      const signal = options!.signal!;
      return new Promise((_, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
  }
  const server = new Idle(["127.0.0.1", 0], BaseRequestHandler as never);
  let stopped = false;
  const serving = server.serveForever(3600).then(() => stopped = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  await server.serverClose();
  assert.equal(stopped, true);
  await serving;
});

// _base_server.ts checkSeconds `value >= 0` → `> 0` (shutdown(0) refused)
// and its `value === Infinity` check dropped (an endless grace accepted).
Deno.test("shutdown(0) is a grace period of none; Infinity is refused by shutdown and serveForever", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  await using server = new TCPServer(["127.0.0.1", 0], BaseRequestHandler);
  assert.ok(
    await rejection(server.serveForever(Infinity), "serveForever(Infinity)") instanceof RangeError,
  );
  assert.ok(await rejection(server.shutdown(Infinity), "shutdown(Infinity)") instanceof RangeError);
  await settled(server.shutdown(0), "shutdown(0) of a server not serving");
});

// A bug found here (the mutant that printed a Unix address unquoted lived,
// because it was right): handleError printed a string address in quotes,
// where CPython's print() shows str(client_address), unquoted.
const PY_HANDLE_ERROR = `
import contextlib, io, socketserver
out = []
for address in ["/tmp/c.sock", "", ("127.0.0.1", 5555), ("::1", 5555, 0, 0)]:
    f = io.StringIO()
    with contextlib.redirect_stderr(f):
        try:
            raise RuntimeError("x")
        except Exception:
            socketserver.BaseServer("x", socketserver.BaseRequestHandler).handle_error(None, address)
    out.append(f.getvalue().split("\\n")[1])
print(json.dumps(out))
`;

Deno.test("handleError names the client address as CPython's print does: a Unix path unquoted", async () => {
  const theirs = await pythonJson(PY_HANDLE_ERROR);
  await using server = new TCPServer(["127.0.0.1", 0], BaseRequestHandler, false);
  const lines: string[] = [];
  const error = console.error;
  console.error = (...data: unknown[]) => lines.push(data.join(" "));
  try {
    const addresses: Address[] = ["/tmp/c.sock", "", ["127.0.0.1", 5555], ["::1", 5555, 0, 0]];
    for (const address of addresses) {
      server.handleError(undefined as never, address, new Error("x"));
    }
  } finally {
    console.error = error;
  }
  const seconds = lines.filter((_, i) => i % 3 === 0).map((line) => line.split("\n")[1]);
  assert.deepEqual(seconds, theirs);
});

// _base_server.ts #drain's last wait (for the handlers it abandoned) dropped:
// shutdown() resolved while a handler whose connection it closed was still
// running its cleanup.
Deno.test("shutdown() past the grace period resolves only once the abandoned handlers have ended", async () => {
  let ended = false;
  const started = Promise.withResolvers<void>();
  class Stuck extends BaseRequestHandler {
    override async handle() {
      try {
        started.resolve();
        await this.request.recv(10);
      } finally {
        // Cleanup that takes a few turns after the connection is closed.
        for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
        ended = true;
      }
    }
  }
  await using server = new ThreadingTCPServer(["127.0.0.1", 0], Stuck);
  const serving = server.serveForever(3600);
  await using _client = await createConnection(server.serverAddress as [string, number]);
  await started.promise;
  await settled(server.shutdown(0), "shutdown(0)");
  assert.equal(ended, true, "shutdown resolved while the handler still ran");
  await serving;
});

// socketserver.ts TCPServer.bindSocket opening the listener with backlog 5
// instead of requestQueueSize: serverActivate then reopened it, and a
// connection the kernel had queued on the first listener was reset.
Deno.test("a connection queued between serverBind and serverActivate is served, whatever requestQueueSize is", async () => {
  class Hello extends BaseRequestHandler {
    override async handle() {
      await this.request.sendall("hello");
    }
  }
  class Big extends TCPServer {
    static override requestQueueSize = 64;
  }
  await using server = new Big(["127.0.0.1", 0], Hello, false);
  server.serverBind();
  await using client = socket();
  // Linux refuses a connect before listen(); Deno's listener is open from
  // bind on, so here the kernel queues it. Either way none may be lost.
  const queued = await client.connectEx(server.serverAddress) === 0;
  server.serverActivate();
  if (!queued) return;
  await settled(server.handleRequest(), "handleRequest of the queued connection");
  assert.equal(text(await client.recv(10)), "hello");
});

// _server_handlers.ts SocketWriter.write returning a string's length in
// UTF-16 units: the count must be the bytes sent, as Python's
// _SocketWriter.write returns the memoryview's nbytes.
Deno.test("SocketWriter.write of a string returns the UTF-8 bytes it sent", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  const w = new SocketWriter(a);
  assert.equal(await w.write("h\u00e9llo \u20ac"), 10);
  assert.equal(text(await recvAll(b, 10)), "h\u00e9llo \u20ac");
});

/** Exactly `n` bytes from `sock`. */
async function recvAll(sock: StreamSocket, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let got = 0; got < n;) {
    const chunk = await sock.recv(n - got);
    assert.ok(chunk.length > 0, "end of stream before all bytes came");
    out.set(chunk, got);
    got += chunk.length;
  }
  return out;
}

// A worker module for serveWorkers, written to a temp dir: "once" serves one
// connection and stops its server from the handler (the worker exits 0 by
// itself); "die" exits 3 soon after it serves; "stuck" holds every connection on a wait that never ends, so a
// graceful shutdown never finishes.
const WORKER_MODULE = `
import { BaseRequestHandler, ThreadingTCPServer } from "${SOCKETSERVER}";
const mode = Deno.args[0];
class Handler extends BaseRequestHandler {
  override async handle() {
    await this.request.sendall("hi");
    if (mode === "once") this.server.shutdown();
    else await new Promise(() => {});
  }
}
class Server extends ThreadingTCPServer {
  static override allowReusePort = true;
}
export default (worker: { port: number }) => {
  // "die": exits with an error soon after it serves, every time it is started.
  if (mode === "die") setTimeout(() => Deno.exit(3), 50);
  return new Server(["127.0.0.1", worker.port], Handler);
};
`;

// _server_workers.ts `this.#closed.resolve()` once every worker has exited 0
// dropped (pool.closed never resolved), and close()'s SIGKILL after
// killAfter dropped (close() waited for ever on a worker whose graceful
// shutdown never ends).
Deno.test("serveWorkers: closed resolves when the workers exit 0 by themselves; close() kills a stuck one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const module = `${dir}/worker.ts`;
    await Deno.writeTextFile(module, WORKER_MODULE);
    const url = new URL(`file://${module}`);
    const flags = ["--no-config", "--allow-net=127.0.0.1"];
    {
      await using pool = await serveWorkers(1, url, { flags, args: ["once"] });
      await using client = await createConnection(pool.address as [string, number]);
      assert.equal(text(await client.recv(10)), "hi");
      await settled(pool.closed, "pool.closed after the worker exited 0");
    }
    {
      await using pool = await serveWorkers(1, url, { flags, args: ["stuck"], killAfter: 0.1 });
      await using client = await createConnection(pool.address as [string, number]);
      assert.equal(text(await client.recv(10)), "hi");
      await settled(pool.close(), "close() of a worker stuck in a handler");
      assert.deepEqual(pool.pids, []);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// _server_workers.ts maxRestarts' default `n` → `n + 1`: a pool of one
// worker that keeps dying gave up after two restarts instead of one.
Deno.test("serveWorkers: by default a pool of n workers gives up after n restarts within the window", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const module = `${dir}/worker.ts`;
    await Deno.writeTextFile(module, WORKER_MODULE);
    const flags = ["--no-config", "--allow-net=127.0.0.1"];
    await using pool = await serveWorkers(1, new URL(`file://${module}`), { flags, args: ["die"] });
    const err = await rejection(pool.closed, "pool.closed of a worker that keeps dying");
    assert.match(String(err), /after 1 restarts in 10 s/);
    assert.equal(pool.restarts, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// socketserver.ts TCPServer.shutdownRequest rethrowing the OSError of its
// shutdown(SHUT_WR): a client that reset while a makefile() file held the
// connection made the server report an error, where CPython's
// shutdown_request drops it ("except OSError: pass").
Deno.test("ending a request whose client reset, while a makefile() file holds it, reports no error", async () => {
  const errors: unknown[] = [];
  const files: { close(): Promise<void> }[] = [];
  class S extends TCPServer {
    override handleError(_request: StreamSocket, _address: Address, error?: unknown) {
      errors.push(error);
    }
  }
  class KeepsFile extends BaseRequestHandler {
    override handle() {
      files.push(this.request.makefile("rb"));
    }
  }
  await using server = new S(["127.0.0.1", 0], KeepsFile);
  await resetClients((server.serverAddress as [string, number])[1]);
  await settled(server.handleRequest(), "handleRequest of a reset client");
  for (const file of files) await file.close();
  assert.equal(files.length, 1);
  assert.deepEqual(errors, []);
});

// What CPython's StreamRequestHandler reports when the client resets before
// a buffered wfile is flushed: finish() drops the flush's OSError, then
// wfile.close() flushes again and raises BrokenPipeError into handle_error.
const PY_FINISH_AFTER_RESET = `
import socketserver, struct, threading
errors = []
class S(socketserver.TCPServer):
    def handle_error(self, request, client_address):
        errors.append(type(sys.exc_info()[1]).__name__)
class Late(socketserver.StreamRequestHandler):
    wbufsize = 65536
    def handle(self):
        try:
            self.rfile.read()
        except OSError:
            pass
        self.wfile.write(bytes(10))
with S(("127.0.0.1", 0), Late) as s:
    def client():
        c = socket.create_connection(s.server_address)
        c.send(b"!")
        time.sleep(0.05)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    threading.Thread(target=client).start()
    s.handle_request()
print(json.dumps(errors))
`;

// BUG: (found while auditing _server_handlers.ts finish, whose flush-error
// swallow survived every mutant run) CPython reports ["BrokenPipeError"]
// here (its BufferedWriter.close() retries the failed flush and raises);
// pysock reports nothing, because SocketFile.close() after a failed flush
// does not raise again (_socket_file.ts, not this audit's file).
Deno.test({
  name: "a client that resets before a buffered wfile is flushed is reported as CPython reports it",
  ignore: true,
  fn: async () => {
    const theirs = await pythonJson(PY_FINISH_AFTER_RESET);
    const errors: string[] = [];
    class S extends TCPServer {
      override handleError(_request: StreamSocket, _address: Address, error?: unknown) {
        errors.push((error as Error).name);
      }
    }
    class Late extends StreamRequestHandler {
      override wbufsize = 65536;
      override async handle() {
        try {
          await this.rfile.read();
        } catch (err) {
          if (!(err instanceof OSError)) throw err;
        }
        await this.wfile.write(new Uint8Array(10));
      }
    }
    await using server = new S(["127.0.0.1", 0], Late);
    await using _peer = python(
      `
import socket, struct, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.send(b"!")
time.sleep(0.05)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`,
      String((server.serverAddress as [string, number])[1]),
    );
    await settled(server.handleRequest(), "handleRequest of a client that resets");
    assert.deepEqual(errors, theirs);
  },
});
