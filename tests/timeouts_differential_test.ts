// Timeouts and blocking modes against CPython 3.11, call by call: the same
// operation runs on pysock's sockets here and on CPython's own loopback
// sockets in a python3 twin, and the error class, errno, strerror and
// message must be the same; the default timeout of every socket a module
// function makes, socketserver's handler timeout; then the state after:
// what a timed-out call was waiting for goes, whole and once, to the next
// call of each kind. (The write side: blocking_differential_test.ts.)

import assert from "node:assert/strict";
import {
  AF_INET,
  createConnection,
  createServer,
  getdefaulttimeout,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_WAITALL,
  setdefaulttimeout,
  SHUT_WR,
  SOCK_DGRAM,
  socket,
  socketpair,
  type StreamSocket,
} from "../mod.ts";
import { StreamRequestHandler, TCPServer } from "../socketserver.ts";
import { DefaultSelector, EVENT_READ, select } from "../selectors.ts";
import process from "node:process";
import { recvExactly, recvLine, recvMsg } from "../framing.ts";
import {
  assertPending,
  assertSameOutcomes,
  errorOf,
  type Outcome,
  pair,
  pythonJson,
  rejection,
  silentListener,
  text,
} from "./_helpers.ts";
import { PY_SHAPE, type Shape, shape } from "./_timeout_twin.ts";

// ------------------------------------------------------------- settimeout's values
// Python's ValueError and OverflowError are RangeError here (assertSameOutcomes).

const TIMEOUT_VALUES: [string, unknown][] = [
  ["-1", -1],
  ["-0.0", -0],
  ["float('nan')", NaN],
  ["float('inf')", Infinity],
  ["float('-inf')", -Infinity],
  ["'1'", "1"],
  ["0", 0],
  ["0.25", 0.25],
  ["3e6", 3e6],
  ["2**31", 2 ** 31],
  ["9223372036", 9223372036],
  ["9223372036.85", 9223372036.85],
  ["9223372036.86", 9223372036.86],
  ["9223372037", 9223372037],
  ["1e300", 1e300],
  ["None", null],
];

Deno.test("settimeout and setdefaulttimeout take the values CPython takes and refuse the others with its error classes", async () => {
  const theirs = await pythonJson(`
def outcome(call):
    try:
        return {"ok": call()}
    except Exception as e:
        return {"err": type(e).__name__, "msg": str(e)}
def via_socket(v):
    s = socket.socket()
    try:
        s.settimeout(v)
        return s.gettimeout()
    finally:
        s.close()
def via_default(v):
    socket.setdefaulttimeout(v)
    return socket.getdefaulttimeout()
values = [${TIMEOUT_VALUES.map(([py]) => py).join(", ")}]
print(json.dumps([[outcome(lambda: via_socket(v)) for v in values],
                  [outcome(lambda: via_default(v)) for v in values]]))
`) as [Outcome[], Outcome[]];
  const outcome = (call: () => unknown): Outcome => {
    try {
      return { ok: call() };
    } catch (e) {
      return { err: (e as Error).name, msg: (e as Error).message };
    }
  };
  const values = TIMEOUT_VALUES.map(([, value]) => value);
  using s = socket();
  const viaSocket = values.map((v) =>
    outcome(() => {
      s.settimeout(v as number);
      return s.gettimeout();
    })
  );
  const viaDefault = values.map((v) =>
    outcome(() => {
      setdefaulttimeout(v as number);
      return getdefaulttimeout();
    })
  );
  setdefaulttimeout(null);
  const shown = TIMEOUT_VALUES.map(([py]) => py);
  assertSameOutcomes(viaSocket, theirs[0], shown);
  assertSameOutcomes(viaDefault, theirs[1], shown);
});

// Python's setblocking takes an integer (a bool is one): anything else,
// or no argument, is a TypeError. `setblocking()` must not silently make
// the socket non-blocking, nor `setblocking("no")` blocking.
Deno.test("setblocking takes booleans and integers as CPython does and refuses the rest with TypeError", async () => {
  const theirs = await pythonJson(`
s = socket.socket()
def outcome(call):
    try:
        call()
        return {"ok": s.gettimeout()}
    except Exception as e:
        return {"err": type(e).__name__, "msg": str(e)}
values = [lambda: s.setblocking(True), lambda: s.setblocking(False), lambda: s.setblocking(0),
          lambda: s.setblocking(1), lambda: s.setblocking(2), lambda: s.setblocking(-1),
          lambda: s.setblocking(0.5), lambda: s.setblocking("x"), lambda: s.setblocking(None),
          lambda: s.setblocking(), lambda: s.setblocking([])]
print(json.dumps([outcome(v) for v in values]))
`) as Outcome[];
  const inputs: unknown[] = [true, false, 0, 1, 2, -1, 0.5, "x", null, undefined, []];
  using s = socket();
  const ours = inputs.map((v): Outcome => {
    try {
      s.setblocking(v as boolean);
      return { ok: s.gettimeout() };
    } catch (e) {
      return { err: (e as Error).name, msg: (e as Error).message };
    }
  });
  assertSameOutcomes(ours, theirs, inputs.map((v) => v === undefined ? "(no argument)" : v));
});

// JavaScript timers hold at most 2**31 - 1 ms (24.8 days) and fire after
// 1 ms past it; CPython waits up to 9223372036 s. A long timeout must wait.
Deno.test("a timeout longer than a JavaScript timer holds (3e6 s) waits in recv, recvInto, accept, recvfrom, connect and sendall", async () => {
  await using p = await pair();
  await using silent = await silentListener();
  const long = 3e6;
  for (const sock of [p.client, p.server, p.conn]) sock.settimeout(long);
  const recv = p.client.recv(10);
  await assertPending(recv, "recv with a 3e6 s timeout");
  const queued = p.client.recvInto(new Uint8Array(10));
  await assertPending(queued, "a recvInto waiting for its turn with a 3e6 s timeout");
  const accept = p.server.accept();
  await assertPending(accept, "accept with a 3e6 s timeout");
  using u = socket(AF_INET, SOCK_DGRAM);
  u.bind(["127.0.0.1", 0]);
  u.settimeout(long);
  const recvfrom = u.recvfrom(10);
  await assertPending(recvfrom, "recvfrom with a 3e6 s timeout");
  using c = socket();
  c.settimeout(long);
  const connect = c.connect(silent.addr);
  await assertPending(connect, "connect with a 3e6 s timeout");
  const abort = new AbortController();
  const created = createConnection(silent.addr, { timeout: long, signal: abort.signal });
  await assertPending(created, "createConnection with a 3e6 s timeout");
  await using q = await pair();
  q.client.settimeout(long);
  const sendall = q.client.sendall(new Uint8Array(32 << 20));
  await assertPending(sendall, "sendall with a 3e6 s timeout to a peer that reads nothing");
  p.client.close();
  q.client.close();
  u.close();
  c.close();
  p.server.close();
  abort.abort();
  const calls = { recv, queued, recvfrom, connect, accept, sendall, created };
  for (const [what, call] of Object.entries(calls)) {
    assert.notEqual(await errorOf(call), null, `${what} settles with an error at close()`);
  }
});

// ------------------------------------------------------------- what each waiting call raises

Deno.test("every receive and accept, non-blocking, with a timeout and with MSG_DONTWAIT, raises what CPython raises", async () => {
  const theirs = await pythonJson(
    PY_SHAPE + `
srv = socket.create_server(("127.0.0.1", 0))
a = socket.create_connection(srv.getsockname()); b, _ = srv.accept()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
out = []
for t in [0, 0.05]:
    a.settimeout(t); srv.settimeout(t); u.settimeout(t)
    out += [shape(lambda: a.recv(10)), shape(lambda: a.recv_into(bytearray(10))),
            shape(lambda: a.recv(10, socket.MSG_PEEK)), shape(lambda: a.recv(10, socket.MSG_WAITALL)),
            shape(lambda: a.recvmsg(10)), shape(lambda: a.recvfrom(10)),
            shape(lambda: a.recvfrom_into(bytearray(10))), shape(lambda: srv.accept()),
            shape(lambda: u.recvfrom(10)), shape(lambda: u.recvfrom_into(bytearray(10))),
            shape(lambda: u.recvmsg(10)), shape(lambda: u.recv(10))]
a.settimeout(None); u.settimeout(None)
out += [shape(lambda: a.recv(10, socket.MSG_DONTWAIT)),
        shape(lambda: a.recv_into(bytearray(10), 0, socket.MSG_DONTWAIT)),
        shape(lambda: a.recvmsg(10, 0, socket.MSG_DONTWAIT)),
        shape(lambda: u.recvfrom(10, socket.MSG_DONTWAIT)),
        shape(lambda: u.recvmsg(10, 0, socket.MSG_DONTWAIT))]
print(json.dumps(out))
`,
  );
  await using p = await pair();
  const a = p.client;
  using u = socket(AF_INET, SOCK_DGRAM);
  u.bind(["127.0.0.1", 0]);
  const ours: Shape[] = [];
  for (const t of [0, 0.05]) {
    a.settimeout(t);
    p.server.settimeout(t);
    u.settimeout(t);
    for (
      const call of [
        () => a.recv(10),
        () => a.recvInto(new Uint8Array(10)),
        () => a.recv(10, MSG_PEEK),
        () => a.recv(10, MSG_WAITALL),
        () => a.recvmsg(10),
        () => a.recvfrom(10),
        () => a.recvfromInto(new Uint8Array(10)),
        () => p.server.accept(),
        () => u.recvfrom(10),
        () => u.recvfromInto(new Uint8Array(10)),
        () => u.recvmsg(10),
        () => u.recv(10),
      ]
    ) ours.push(await shape(call));
  }
  a.settimeout(null);
  u.settimeout(null);
  for (
    const call of [
      () => a.recv(10, MSG_DONTWAIT),
      () => a.recvInto(new Uint8Array(10), 0, MSG_DONTWAIT),
      () => a.recvmsg(10, 0, MSG_DONTWAIT),
      () => u.recvfrom(10, MSG_DONTWAIT),
      () => u.recvmsg(10, 0, MSG_DONTWAIT),
    ]
  ) ours.push(await shape(call));
  assert.deepEqual(ours, theirs);
});

// ------------------------------------------------------------- default timeouts

Deno.test("setdefaulttimeout reaches createServer, createConnection (unless given one), accept, datagram sockets and socketpair, as CPython's", async () => {
  const theirs = await pythonJson(`
socket.setdefaulttimeout(2.5)
srv = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(srv.getsockname())
c2 = socket.create_connection(srv.getsockname(), timeout=None)
c3 = socket.create_connection(srv.getsockname(), timeout=7)
b, _ = srv.accept()
srv.settimeout(0.5)
b2, _ = srv.accept()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
pa = socket.socketpair()
out = [s.gettimeout() for s in [srv, c, c2, c3, b, b2, u, pa[0], pa[1]]]
socket.setdefaulttimeout(None)
out.append(err(lambda: socket.create_connection(srv.getsockname(), timeout=0)))
print(json.dumps(out))
`);
  setdefaulttimeout(2.5);
  const sockets: { close(): void }[] = [];
  try {
    const srv = createServer(["127.0.0.1", 0]);
    sockets.push(srv);
    const addr = srv.getsockname() as [string, number];
    const c = await createConnection(addr);
    const c2 = await createConnection(addr, { timeout: null });
    const c3 = await createConnection(addr, { timeout: 7 });
    sockets.push(c, c2, c3);
    const [b] = await srv.accept();
    srv.settimeout(0.5);
    const [b2] = await srv.accept();
    const u = socket(AF_INET, SOCK_DGRAM);
    const pa = await socketpair();
    sockets.push(b, b2, u, ...pa);
    const ours: unknown[] = [srv, c, c2, c3, b, b2, u, ...pa].map((s) => s.gettimeout());
    setdefaulttimeout(null);
    ours.push(await errorOf(createConnection(addr, { timeout: 0 })));
    assert.deepEqual(ours, theirs);
  } finally {
    setdefaulttimeout(null);
    for (const s of sockets) s.close();
  }
});

// ------------------------------------------------------------- socketserver

Deno.test("a StreamRequestHandler whose timeout passes with half a line: readline raises TimeoutError, handleError runs, the client sees end of stream, as CPython's", async () => {
  const theirs = await pythonJson(`
import socketserver
seen = []
class H(socketserver.StreamRequestHandler):
    timeout = 0.2
    def handle(self):
        try:
            seen.append(["line", self.rfile.readline().decode()])
        except Exception as e:
            seen.append([type(e).__name__, str(e)])
            raise
class S(socketserver.TCPServer):
    def handle_error(self, request, client_address):
        seen.append(["handle_error"])
with S(("127.0.0.1", 0), H) as srv:
    c = socket.create_connection(srv.server_address)
    c.sendall(b"partial")
    srv.handle_request()
    c.settimeout(5)
    seen.append(["client", c.recv(10).decode()])
    c.close()
print(json.dumps(seen))
`);
  const seen: unknown[] = [];
  class H extends StreamRequestHandler {
    override timeout = 0.2;
    override async handle() {
      try {
        seen.push(["line", text(await this.rfile.readline())]);
      } catch (e) {
        seen.push([(e as Error).name, (e as Error).message]);
        throw e;
      }
    }
  }
  class S extends TCPServer {
    override handleError() {
      seen.push(["handle_error"]);
    }
  }
  await using srv = new S(["127.0.0.1", 0], H);
  using c = await createConnection(srv.serverAddress as [string, number]);
  await c.sendall("partial");
  await srv.handleRequest();
  c.settimeout(5);
  seen.push(["client", text(await c.recv(10))]);
  assert.deepEqual(seen, theirs);
});

// CPython's handle_request waits min(socket timeout, server timeout): a
// non-blocking listening socket means no wait, and handle_timeout.
Deno.test("handleRequest on a non-blocking listening socket with no client calls handleTimeout, as CPython's; with a socket timeout too", async () => {
  const theirs = await pythonJson(`
import socketserver
calls = []
class S(socketserver.TCPServer):
    def handle_timeout(self): calls.append(self.socket.gettimeout())
with S(("127.0.0.1", 0), socketserver.BaseRequestHandler) as srv:
    for t in [0, 0.05]:
        srv.socket.settimeout(t); srv.handle_request()
    srv.timeout = 5; srv.handle_request()
print(json.dumps(calls))
`);
  assert.deepEqual(theirs, [0, 0.05, 0.05]);
  const calls: unknown[] = [];
  class S extends TCPServer {
    override handleTimeout() {
      calls.push(this.socket.gettimeout());
    }
  }
  await using srv = new S(["127.0.0.1", 0], StreamRequestHandler);
  for (const t of [0, 0.05]) {
    srv.socket.settimeout(t);
    await srv.handleRequest();
  }
  srv.timeout = 5;
  await srv.handleRequest();
  assert.deepEqual(calls, theirs);
});

// ------------------------------------------------------------- after a timeout

// Each kind of read: part of what it needs comes before the timeout (none
// for the one-shot receives), the call fails as CPython's would, the rest
// comes, and the next call of the same kind returns it all, once.
const AFTER: [string, string, string, (s: StreamSocket) => Promise<unknown>][] = [
  ["recvmsg", "", "abc", async (s) => text((await s.recvmsg(10))[0])],
  ["recvmsgInto", "", "abc", async (s) => {
    const buf = new Uint8Array(10);
    return text(buf.subarray(0, (await s.recvmsgInto([buf]))[0]));
  }],
  ["recvfrom", "", "abc", async (s) => text((await s.recvfrom(10))[0])],
  ["recvfromInto", "", "abc", async (s) => {
    const buf = new Uint8Array(10);
    return text(buf.subarray(0, (await s.recvfromInto(buf))[0]));
  }],
  ["recv MSG_PEEK then recv", "", "abc", async (s) => {
    const peeked = text(await s.recv(10, MSG_PEEK));
    return [peeked, text(await s.recv(10))];
  }],
  ["recvExactly", "ab", "cde", async (s) => text(await recvExactly(s, 5))],
  ["recvLine", "ab", "c\n", async (s) => text(await recvLine(s))],
  ["recvMsg", "\0\0", "\0\x03abc", async (s) => text((await recvMsg(s))!)],
  ["makefile readline", "ab", "c\n", async (s) => {
    const f = s.makefile("rb");
    try {
      return text(await f.readline());
    } finally {
      await f.close();
    }
  }],
];

for (const timeout of [0, 0.05]) {
  const fails = timeout === 0 ? "BlockingIOError" : "TimeoutError";
  Deno.test(`settimeout(${timeout}): recvmsg, recvmsgInto, recvfrom, recvfromInto, MSG_PEEK, recvExactly, recvLine, recvMsg and readline fail with ${fails}, and the next call returns what came, whole`, async () => {
    for (const [what, before, after, read] of AFTER) {
      await using p = await pair();
      p.conn.settimeout(timeout);
      if (before !== "") {
        await p.client.sendall(before);
        // Buffered before the call: MSG_PEEK sees it without waiting.
        assert.equal(text(await p.conn.recv(10, MSG_PEEK)), before, what);
      }
      const err = await rejection(read(p.conn), what);
      assert.equal((err as Error).name, fails, `${what}: ${err}`);
      await p.client.sendall(after);
      p.conn.settimeout(null);
      const whole = before + after;
      const want = what === "recvMsg"
        ? "abc"
        : what === "recv MSG_PEEK then recv"
        ? [whole, whole]
        : whole;
      assert.deepEqual(await read(p.conn), want, what);
      p.client.shutdown(SHUT_WR);
      assert.equal(text(await p.conn.recv(10)), "", `${what}: nothing left over`);
    }
  });
}

Deno.test("a datagram that comes after a timed-out recvmsg, recvfromInto or recv is returned whole by the next call, once", async () => {
  using u = socket(AF_INET, SOCK_DGRAM);
  u.bind(["127.0.0.1", 0]);
  using sender = socket(AF_INET, SOCK_DGRAM);
  const calls: [string, () => Promise<string>][] = [
    ["recvmsg", async () => text((await u.recvmsg(64))[0])],
    ["recvfromInto", async () => {
      const buf = new Uint8Array(64);
      return text(buf.subarray(0, (await u.recvfromInto(buf))[0]));
    }],
    ["recv", async () => text(await u.recv(64))],
  ];
  for (const timeout of [0, 0.05]) {
    for (const [what, read] of calls) {
      u.settimeout(timeout);
      assert.deepEqual(
        await errorOf(read()),
        [timeout === 0 ? "BlockingIOError" : "TimeoutError", timeout === 0 ? 11 : null],
      );
      await sender.sendto(`${what}-${timeout}`, u.getsockname());
      u.settimeout(5);
      assert.equal(await read(), `${what}-${timeout}`);
      u.settimeout(0);
      assert.deepEqual(await errorOf(read()), ["BlockingIOError", 11], `${what}: nothing repeated`);
    }
  }
});

// ------------------------------------------------------------- documented differences

// CPython's buffered readline on a non-blocking socket returns the part of
// a line that is there, and b"" when nothing is (which reads as end of
// stream). pysock's returns whole lines: BlockingIOError until the line
// end comes, consuming nothing (README, "Smaller differences").
Deno.test("a non-blocking makefile readline with half a line: CPython returns the half, pysock raises BlockingIOError and keeps it for the whole line", async () => {
  const theirs = await pythonJson(`
a, b = tcppair()
f = b.makefile("rb")
b.settimeout(0)
a.sendall(b"ab")
time.sleep(0.2)
out = [f.readline().decode(), f.readline().decode()]
a.sendall(b"c\\n")
time.sleep(0.2)
out.append(f.readline().decode())
print(json.dumps(out))
`);
  assert.deepEqual(theirs, ["ab", "", "c\n"]);
  await using p = await pair();
  const f = p.conn.makefile("rb");
  try {
    p.conn.settimeout(0);
    await p.client.sendall("ab");
    assert.equal(text(await p.conn.recv(2, MSG_PEEK)), "ab");
    assert.deepEqual(await errorOf(f.readline()), ["BlockingIOError", 11]);
    await p.client.sendall("c\n");
    p.conn.settimeout(null);
    assert.equal(text(await f.readline()), "abc\n");
  } finally {
    await f.close();
  }
});

// CPython's kernel goes on sending SYNs after connect() timed out, so a
// second connect raises EALREADY; pysock cancels Deno's connect at the
// timeout, so the socket is free to connect again (README, "Non-blocking
// connect").
Deno.test("the connect after one that timed out: CPython raises EALREADY, pysock starts a new attempt", async () => {
  const theirs = await pythonJson(`
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(0)
fillers = []
for _ in range(8):
    f = socket.socket(); f.settimeout(0.2); fillers.append(f)
    if f.connect_ex(srv.getsockname()) != 0: break
s = socket.socket(); s.settimeout(0.2)
print(json.dumps([err(lambda: s.connect(srv.getsockname())), err(lambda: s.connect(srv.getsockname())),
                  s.connect_ex(srv.getsockname())]))
`);
  assert.deepEqual(theirs, [["TimeoutError", null], ["BlockingIOError", 114], 114]);
  await using silent = await silentListener();
  using s = socket();
  s.settimeout(0.2);
  assert.deepEqual(await errorOf(s.connect(silent.addr)), ["TimeoutError", null]);
  assert.deepEqual(await errorOf(s.connect(silent.addr)), ["TimeoutError", null]);
  assert.equal(await s.connectEx(silent.addr), 11);
});

Deno.test("a socketserver timeout longer than a JavaScript timer holds (3e6 s) waits for the request: handleTimeout is not called", async () => {
  const seen: string[] = [];
  class S extends TCPServer {
    override handleTimeout() {
      seen.push("handle_timeout");
    }
  }
  class H extends StreamRequestHandler {
    override async handle() {
      seen.push(text(await this.rfile.readline()));
    }
  }
  await using srv = new S(["127.0.0.1", 0], H);
  srv.timeout = 3e6;
  const handling = srv.handleRequest();
  await assertPending(handling, "handleRequest with a 3e6 s timeout");
  using c = await createConnection(srv.serverAddress as [string, number]);
  await c.sendall("hello\n");
  await handling;
  assert.deepEqual(seen, ["hello\n"]);
});

// Node's timers warn (TimeoutOverflowWarning) when given more than 2**31 - 1
// ms and fire after 1 ms instead: a select with a long timeout then spun.
Deno.test("select, a selector, serveForever and shutdown given 3e6 s set no timer JavaScript cannot hold", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on("warning", onWarning);
  try {
    await using p = await pair();
    const selected = select([p.client], [], [], 3e6);
    using sel = new DefaultSelector();
    sel.register(p.client, EVENT_READ);
    const selecting = sel.select(3e6);
    await using srv = new TCPServer(["127.0.0.1", 0], StreamRequestHandler);
    const serving = srv.serveForever(3e6);
    await assertPending(Promise.race([selected, selecting, serving]), "the waits");
    await p.conn.sendall("x");
    assert.equal((await selected)[0].length, 1);
    assert.equal((await selecting).length, 1);
    await srv.shutdown(3e6);
    await serving;
  } finally {
    process.off("warning", onWarning);
  }
  assert.deepEqual(warnings, []);
});
