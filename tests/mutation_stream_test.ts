// Tests from a mutation audit of the stream socket (socket.ts and the files
// it is made of: _base.ts, _writer.ts, _listener.ts, _connect.ts,
// _stream_options.ts, _stream_messages.ts, _create.ts, _sendfile.ts,
// _repr.ts, _timer.ts): each pins a behaviour that a one-spot change of the
// code left every other test passing. Python's behaviour comes from a
// python3 twin run in the same test; the rest is API.md's contract.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  createConnection,
  createServer,
  errno,
  getdefaulttimeout,
  MSG_DONTWAIT,
  OSError,
  setdefaulttimeout,
  SHUT_RD,
  SO_ERROR,
  socket,
  SOL_SOCKET,
  type StreamSocket,
  TimeoutError,
} from "../mod.ts";
import { select } from "../selectors.ts";
import {
  errorOf,
  errorOfCall,
  HAS_IPV6,
  MOD,
  outcome,
  pair,
  PY_OUTCOME,
  pythonChat,
  pythonJson,
  rejection,
  runScript,
  settled,
  silentListener,
  sleep,
} from "./_helpers.ts";

// CPython's largest timeout: the largest double below 2**63 ns.
const MAX_TIMEOUT = 9223372036.854775;

Deno.test("settimeout and setdefaulttimeout take CPython's range to the last double: -0 reads back as +0, the largest timeout is taken and the next double refused", async () => {
  const py = await pythonJson(
    PY_OUTCOME + `
import math
s = socket.socket()
top = ${MAX_TIMEOUT}
out = []
for v in [-0.0, top, math.nextafter(top, math.inf)]:
    out.append([outcome(lambda: s.settimeout(v)), str(s.gettimeout())])
socket.setdefaulttimeout(-0.0)
out.append(str(socket.getdefaulttimeout()))
socket.setdefaulttimeout(None)
s.close()
print(json.dumps(out))
`,
  );
  using s = socket();
  const ours: unknown[] = [];
  for (const v of [-0, MAX_TIMEOUT, 9223372036.854776]) {
    const result = outcome(() => s.settimeout(v));
    // Python's ValueError/OverflowError is a RangeError here.
    const mapped = Array.isArray(result) && result[0] === "RangeError"
      ? ["OverflowError", null]
      : result;
    const t = s.gettimeout();
    ours.push([mapped, Object.is(t, -0) ? "-0.0" : t === 0 ? "0.0" : String(t)]);
  }
  setdefaulttimeout(-0);
  const d = getdefaulttimeout();
  setdefaulttimeout(null);
  ours.push(Object.is(d, -0) ? "-0.0" : "0.0");
  // Python prints the top timeout with its shortest repr; so does String().
  assert.deepEqual(ours, py);
});

Deno.test("select given the fileno() of a socket closed since is EBADF, as CPython's, not a report on the closed socket", async () => {
  const py = await pythonJson(`
import select
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
fd = s.fileno()
s.close()
print(json.dumps(err(lambda: select.select([fd], [], [], 0))))
`);
  const s = socket();
  s.bind(["127.0.0.1", 0]);
  s.listen();
  const fd = s.fileno();
  s.close();
  let got: unknown = null;
  try {
    await select([fd], [], [], 0);
  } catch (e) {
    got = [(e as Error).name, (e as OSError).errno];
  }
  assert.deepEqual(got, py);
});

Deno.test("close() while non-blocking sends are still queued for a peer that reads nothing: a pending recv and a queued sendall settle with EBADF, and the peer gets every byte taken, then end of stream", async () => {
  await using p = await pair();
  // Fill the peer's window and then the writer's own send queue: MSG_DONTWAIT
  // sends until they keep failing, so a write is in flight when close() comes.
  const chunk = new Uint8Array(65536).fill(7);
  let taken = 0;
  let blocked = 0;
  for (let i = 0; i < 2000 && blocked < 20; i++) {
    try {
      taken += await p.client.send(chunk, MSG_DONTWAIT);
      blocked = 0;
    } catch (e) {
      assert.ok(e instanceof BlockingIOError, String(e));
      blocked++;
      await sleep(1);
    }
  }
  assert.equal(blocked, 20, "the send queue never filled");
  const receiving = p.client.recv(10);
  const late = p.client.sendall("late");
  p.client.close();
  for (const [call, what] of [[receiving, "a recv"], [late, "a sendall"]] as const) {
    const e = await rejection(call, `${what} pending at close()`, 5000);
    assert.ok(e instanceof OSError && e.errno === errno.EBADF, `${what}: ${e}`);
  }
  // close() kept the connection until the queue was written, and no longer.
  const drain = async () => {
    let got = 0;
    for (let i = 0; i < 100_000; i++) {
      const data = await p.conn.recv(1 << 20);
      if (data.length === 0) return got;
      assert.ok(data.every((b) => b === 7), "a byte that no send took");
      got += data.length;
    }
    return got;
  };
  assert.equal(await settled(drain(), "the peer reading to end of stream", 5000), taken);
});

Deno.test("a connect whose connection arrives just after close() rejects with EBADF and closes that connection, rather than handing a closed socket a live one", async () => {
  await using srv = createServer(["127.0.0.1", 0]);
  const s = socket();
  const real = Deno.connect;
  // The connection is made, and close() comes before connect() sees it.
  const patched = async (options: Deno.ConnectOptions) => {
    const conn = await real(options);
    s.close();
    return conn;
  };
  Object.defineProperty(Deno, "connect", { value: patched, configurable: true, writable: true });
  let e: unknown;
  try {
    e = await rejection(s.connect(srv.getsockname()), "a connect closed under it");
  } finally {
    Object.defineProperty(Deno, "connect", { value: real, configurable: true, writable: true });
  }
  assert.ok(e instanceof OSError && e.errno === errno.EBADF, String(e));
  // The listener got the connection, and its client end was closed: end of stream.
  const [conn] = await srv.accept();
  await using _conn = conn;
  assert.equal((await conn.recv(10)).length, 0);
});

Deno.test("createServer's bind failure names the address as CPython's repr does, for a TCP port in use and a Unix path with quotes and a tab", async () => {
  const py = await pythonJson(`
import shutil, tempfile
d = tempfile.mkdtemp()
path = d + "/a'b\\"c\\td"
out = []
held = socket.create_server(("127.0.0.1", 0))
first = socket.socket(socket.AF_UNIX)
first.bind(path)
for args in [(held.getsockname(), socket.AF_INET), (path, socket.AF_UNIX)]:
    try:
        socket.create_server(args[0], family=args[1]).close()
        out.append(None)
    except OSError as e:
        out.append([type(e).__name__, e.errno, str(e).replace(d, "D").replace(str(args[0][1]) if args[1] == socket.AF_INET else "\\0", "PORT")])
held.close()
first.close()
shutil.rmtree(d)
print(json.dumps(out))
`);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a'b"c\td`;
    await using held = createServer(["127.0.0.1", 0]);
    await using first = socket(AF_UNIX);
    first.bind(path);
    const port = held.getsockname()[1] as number;
    const ours: unknown[] = [];
    for (const [address, family] of [[["127.0.0.1", port], AF_INET], [path, AF_UNIX]] as const) {
      try {
        createServer(address, { family }).close();
        ours.push(null);
      } catch (e) {
        const err = e as OSError;
        const message = err.message.replaceAll(dir, "D").replace(String(port), "PORT");
        ours.push([err.name, err.errno, message]);
      }
    }
    assert.deepEqual(ours, py);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A CPython listener whose connections are never read: for each line on
// stdin it accepts the next one and resets it.
const PY_RESETTING_PEER = `
import json, socket, struct, sys
srv = socket.create_server(("127.0.0.1", 0))
print(json.dumps(srv.getsockname()[1]), flush=True)
for line in sys.stdin:
    b, _ = srv.accept()
    b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    b.close()
    print(json.dumps("reset"), flush=True)
srv.close()
`;

Deno.test("after a sendall timed out on a full connection the socket is not writable, and once the peer resets it is: a send (non-blocking, or with the timeout) reports ECONNRESET, the next EPIPE, and recv the end, as CPython's", async () => {
  const py = await pythonJson(`
import select, struct
out = []
for flags in (socket.MSG_DONTWAIT, 0):
    a, b = tcppair()
    a.settimeout(0.1)
    big = b"x" * (1 << 20)
    for i in range(200):
        try:
            a.sendall(big)
        except TimeoutError:
            break
    out.append(i > 0)
    out.append(len(select.select([], [a], [], 0)[1]))
    b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    b.close()
    time.sleep(0.05)
    out.append(len(select.select([], [a], [], 0)[1]))
    out += [err(lambda: a.send(b"x", flags)), err(lambda: a.send(b"x")), len(a.recv(1))]
    a.close()
print(json.dumps(out))
`);
  await using peer = pythonChat(PY_RESETTING_PEER);
  const port = await peer.receive() as number;
  const ours: unknown[] = [];
  for (const flags of [MSG_DONTWAIT, 0]) {
    await using a = socket();
    await a.connect(["127.0.0.1", port]);
    a.settimeout(0.1);
    const big = new Uint8Array(1 << 20);
    let i = 0;
    for (; i < 200; i++) {
      try {
        await a.sendall(big);
      } catch (e) {
        assert.ok(e instanceof TimeoutError, String(e));
        break;
      }
    }
    ours.push(i > 0, (await select([], [a], [], 0))[1].length);
    await peer.send("reset");
    await peer.receive();
    // The RST leaves with the close itself; give loopback a moment to deliver it (as resetClients).
    await sleep(50);
    ours.push((await select([], [a], [], 0))[1].length);
    ours.push(await errorOf(a.send("x", flags)), await errorOf(a.send("x")));
    ours.push((await a.recv(1)).length);
  }
  assert.deepEqual(ours, py);
});

Deno.test("after the peer resets a connection that holds bytes queued by non-blocking sends, sendall reports ECONNRESET and the next one EPIPE, as CPython's", async () => {
  const py = await pythonJson(`
import struct
a, b = tcppair()
a.setblocking(False)
chunk = b"x" * 65536
for i in range(2000):
    try:
        a.send(chunk)
    except BlockingIOError:
        break
a.setblocking(True)
b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
b.close()
time.sleep(0.05)
out = [err(lambda: a.sendall(b"x")), err(lambda: a.sendall(b"x"))]
a.close()
print(json.dumps(out))
`);
  await using peer = pythonChat(PY_RESETTING_PEER);
  const port = await peer.receive() as number;
  await using a = socket();
  await a.connect(["127.0.0.1", port]);
  const chunk = new Uint8Array(65536);
  let blocked = 0;
  for (let i = 0; i < 2000 && blocked < 20; i++) {
    try {
      await a.send(chunk, MSG_DONTWAIT);
      blocked = 0;
    } catch (e) {
      assert.ok(e instanceof BlockingIOError, String(e));
      blocked++;
      await sleep(1);
    }
  }
  await peer.send("reset");
  await peer.receive();
  await sleep(50);
  assert.deepEqual([await errorOf(a.sendall("x")), await errorOf(a.sendall("x"))], py);
});

/** Reads from `sock` until `n` bytes came or the stream ended; the bytes. */
async function readAll(sock: StreamSocket, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  for (let i = 0; i < 100_000 && got < n; i++) {
    const k = await sock.recvInto(out.subarray(got));
    if (k === 0) break;
    got += k;
  }
  return out.subarray(0, got);
}

Deno.test("a non-blocking sendall, and one with MSG_DONTWAIT, larger than the connection holds waits for every byte instead of failing part way (README: a retry would send them twice)", async () => {
  await using p = await pair();
  const size = 16 << 20;
  const first = new Uint8Array(size).fill(1);
  const second = new Uint8Array(size).fill(2);
  p.client.setblocking(false);
  const sending = p.client.sendall(first);
  p.client.setblocking(true);
  const flagged = p.client.sendall(second, MSG_DONTWAIT);
  const got = await readAll(p.conn, 2 * size);
  await settled(sending, "the non-blocking sendall");
  await settled(flagged, "the sendall with MSG_DONTWAIT");
  assert.equal(got.length, 2 * size);
  assert.ok(
    got.subarray(0, size).every((b) => b === 1) && got.subarray(size).every((b) => b === 2),
  );
});

Deno.test("a sendall that timed out waiting for its turn behind a blocked sendall keeps the order of the calls after it: their bytes come after the blocked one's, whole", async () => {
  await using p = await pair();
  const size = 16 << 20;
  const blocked = p.client.sendall(new Uint8Array(size).fill(97));
  p.client.settimeout(0.05);
  const late = p.client.sendall("b");
  p.client.settimeout(null);
  const e = await rejection(late, "a sendall queued with a timeout");
  assert.ok(e instanceof TimeoutError, String(e));
  const after = p.client.sendall("c");
  const got = await readAll(p.conn, size + 1);
  await settled(blocked, "the blocked sendall");
  await settled(after, "the sendall after the timed-out one");
  assert.equal(got.length, size + 1);
  assert.ok(
    got.subarray(0, size).every((b) => b === 97),
    "bytes of another call inside the blocked one's",
  );
  assert.equal(got[size], 99);
});

Deno.test("listen() after shutdown(SHUT_RD) of a listener bound to port 0 takes a new port, as CPython's on Linux, where a client connects", async () => {
  const py = await pythonJson(`
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
before = s.getsockname()[1]
s.shutdown(socket.SHUT_RD)
s.listen()
after = s.getsockname()[1]
c = socket.create_connection(("127.0.0.1", after))
conn, _ = s.accept()
out = [before == after, after > 0]
for x in (c, conn, s): x.close()
print(json.dumps(out))
`);
  await using s = socket();
  s.bind(["127.0.0.1", 0]);
  s.listen();
  const before = s.getsockname()[1];
  s.shutdown(SHUT_RD);
  s.listen();
  const after = s.getsockname()[1] as number;
  await using _c = await createConnection(["127.0.0.1", after]);
  const [conn] = await s.accept();
  conn.close();
  assert.deepEqual([before === after, after > 0], py);
});

Deno.test("a client that connected after bind() and before listen() is accepted by that listen when it needs no reopening: TCP with the default backlog, Unix with any (bind()'s doc)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [family, address, backlog] of [
        [AF_INET, ["127.0.0.1", 0], undefined],
        [AF_UNIX, `${dir}/l`, 5],
      ] as const
    ) {
      await using s = socket(family);
      s.bind(address);
      await using c = socket(family);
      await c.connect(s.getsockname());
      s.listen(backlog);
      s.settimeout(5);
      const [conn] = await s.accept();
      await using _conn = conn;
      await c.sendall("early");
      assert.deepEqual(await readAll(conn, 5), new TextEncoder().encode("early"));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an accept ended by its signal leaves the kept accept unref'd: a program that then stops waiting exits by itself, its listener still open", async () => {
  const result = await runScript(
    `
import { createServer } from ${JSON.stringify(MOD)};
const server = createServer(["127.0.0.1", 0]);
const stop = new AbortController();
const accepting = server.accept({ signal: stop.signal });
stop.abort(new Error("enough"));
console.log(await accepting.catch((e) => e.message));
`,
    ["--allow-net=127.0.0.1"],
  );
  assert.deepEqual([result.code, result.stdout.trim()], [0, "enough"], result.stderr);
});

Deno.test("listen() takes a backlog within a C int, negatives too, and refuses one past either end, as CPython's OverflowError", async () => {
  const py = await pythonJson(`
out = []
for v in [2**31 - 1, 2**31, -2**31, -2**31 - 1, -1]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    out.append(err(lambda: s.listen(v)))
    s.close()
print(json.dumps(out))
`) as unknown[];
  const ours: unknown[] = [];
  for (const v of [2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, -1]) {
    using s = socket();
    s.bind(["127.0.0.1", 0]);
    const got = errorOfCall(() => s.listen(v));
    ours.push(got?.[0] === "RangeError" ? ["OverflowError", null] : got);
  }
  assert.deepEqual(ours, py);
});

Deno.test("select() reports a listener readable only once a connection is there, not while its kept accept waits, as CPython's", async () => {
  const py = await pythonJson(`
import select
s = socket.create_server(("127.0.0.1", 0))
out = [len(select.select([s], [], [], 0)[0]), len(select.select([s], [], [], 0)[0])]
c = socket.create_connection(s.getsockname())
out.append(len(select.select([s], [], [], 5)[0]))
for x in (c, s.accept()[0], s): x.close()
print(json.dumps(out))
`);
  await using s = createServer(["127.0.0.1", 0]);
  const ours = [(await select([s], [], [], 0))[0].length, (await select([s], [], [], 0))[0].length];
  await using _c = await createConnection(s.getsockname() as [string, number]);
  ours.push((await select([s], [], [], 5))[0].length);
  const [conn] = await s.accept();
  conn.close();
  assert.deepEqual(ours, py);
});

Deno.test("a non-blocking connect to a Unix listener whose accept queue is full ends at once: writable, SO_ERROR EAGAIN (CPython raises that EAGAIN from connect itself)", async () => {
  await using chat = pythonChat(`
import json, shutil, socket, sys, tempfile
d = tempfile.mkdtemp()
l = socket.socket(socket.AF_UNIX)
l.bind(d + "/l")
l.listen(0)
print(json.dumps(d + "/l"), flush=True)
sys.stdin.readline()
shutil.rmtree(d)
`);
  const path = await chat.receive() as string;
  await using first = socket(AF_UNIX);
  await first.connect(path);
  await using s = socket(AF_UNIX);
  s.setblocking(false);
  assert.deepEqual(await errorOf(s.connect(path)), ["BlockingIOError", errno.EINPROGRESS]);
  assert.deepEqual((await select([], [s], [], 5))[1], [s]);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), errno.EAGAIN);
});

Deno.test("a Unix connect closed while Deno's connect is still under way closes the connection that arrives after, so the listener's side reads the end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/l`;
    await using srv = socket(AF_UNIX);
    srv.bind(path);
    srv.listen();
    const s = socket(AF_UNIX);
    const gate = Promise.withResolvers<void>();
    const real = Deno.connect;
    const late = async (options: Deno.UnixConnectOptions) => {
      await gate.promise;
      return await real(options);
    };
    Object.defineProperty(Deno, "connect", { value: late, configurable: true, writable: true });
    let e: unknown;
    try {
      const connecting = s.connect(path);
      s.close();
      e = await rejection(connecting, "a connect closed under it");
    } finally {
      Object.defineProperty(Deno, "connect", { value: real, configurable: true, writable: true });
    }
    assert.ok(e instanceof OSError && e.errno === errno.EBADF, String(e));
    gate.resolve();
    const [conn] = await srv.accept();
    await using _conn = conn;
    assert.equal((await settled(conn.recv(10), "the recv of the late connection", 5000)).length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("socket() refuses a type past Linux's SOCK_MAX with EINVAL and a protocol with EPROTONOSUPPORT below the kernel's IPPROTO_MAX (263), EINVAL from it, as CPython's", async () => {
  const py = await pythonJson(`
def made(f):
    try:
        f().close()
        return None
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
out = [made(lambda: socket.socket(socket.AF_INET, 11))]
out += [made(lambda: socket.socket(fam, typ, p)) for fam, typ in ((2, 1), (10, 2)) for p in (256, 261, 263)]
print(json.dumps(out))
`);
  const made = (call: () => { close(): void }) => {
    try {
      call().close();
      return null;
    } catch (e) {
      return [(e as Error).name, (e as OSError).errno ?? null];
    }
  };
  const ours = [made(() => socket(AF_INET, 11))];
  for (const [family, type] of [[2, 1], [10, 2]]) {
    for (const proto of [256, 261, 263]) ours.push(made(() => socket(family, type, proto)));
  }
  assert.deepEqual(ours, py);
});

Deno.test("createConnection refuses a source address with a host, even with port 0, rather than drop it (API.md: EOPNOTSUPP, never a silent drop)", async () => {
  await using srv = createServer(["127.0.0.1", 0]);
  const [host, port] = srv.getsockname() as [string, number];
  for (const source of [["127.0.0.1", 0], ["127.0.0.1", 1234], ["", 1234]] as const) {
    const e = await rejection(
      createConnection([host, port], { sourceAddress: source }),
      `createConnection from ${source}`,
    );
    assert.ok(e instanceof OSError && e.errno === errno.EOPNOTSUPP, `${source}: ${e}`);
  }
  // ("", 0) is no source address at all, as in CPython: it connects.
  await using c = await createConnection([host, port], { sourceAddress: ["", 0] });
  const [conn] = await srv.accept();
  conn.close();
  assert.equal(c.getpeername()[1], port);
});

Deno.test("createConnection with allErrors aborted by its signal mid-connect rejects with the signal's reason, not an ExceptionGroup", async () => {
  await using silent = await silentListener();
  const stop = new AbortController();
  const connecting = createConnection(silent.addr, { signal: stop.signal, allErrors: true });
  await sleep(20);
  const reason = new Error("given up");
  stop.abort(reason);
  assert.equal(await rejection(connecting, "an aborted createConnection"), reason);
});

Deno.test("sendfile by path closes the file it opened, sending it whole or from an offset: the process holds no more descriptors after than before", async () => {
  // In a process of its own: the test runner's other modules open and close
  // descriptors in this one meanwhile. Deno's sanitizer does not see a
  // leaked file here, so Linux's view (/proc/self/fd) is the oracle.
  const result = await runScript(
    `import { createConnection, createServer } from ${JSON.stringify(MOD)};
const dir = await Deno.makeTempDir();
const path = dir + "/f";
await Deno.writeTextFile(path, "0123456789");
const server = createServer(["127.0.0.1", 0]);
const client = await createConnection(server.getsockname());
const [conn] = await server.accept();
const descriptors = async () => (await Array.fromAsync(Deno.readDir("/proc/self/fd"))).length;
const before = await descriptors();
const sent = [await client.sendfile(path), await client.sendfile(path, 4, 3)];
const after = await descriptors();
let got = "";
while (got.length < 13) got += new TextDecoder().decode(await conn.recv(64));
console.log(JSON.stringify({ sent, got, leaked: after - before }));
conn.close(); client.close(); server.close();
await Deno.remove(dir, { recursive: true });
`,
    ["--allow-all"],
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { sent: [10, 3], got: "0123456789456", leaked: 0 });
});

// socket.ts #bind: "localhost" is where connect() and getaddrinfo() put it
// for the socket's family. Deno's own lookup gave 127.0.0.1, which an
// AF_INET6 listener bound as ::ffff:127.0.0.1, where a connect to
// localhost (::1) found nobody. (Found by the datagram audit's twin test.)
Deno.test({
  name:
    "listen on localhost with an AF_INET6 stream socket binds ::1, where connect to localhost goes",
  ignore: !HAS_IPV6,
  async fn() {
    using server = socket(AF_INET6);
    server.bind(["localhost", 0]);
    server.listen();
    const [host, port] = server.getsockname() as [string, number];
    assert.equal(host, "::1");
    await using client = socket(AF_INET6);
    await client.connect(["localhost", port]);
    const [conn] = await server.accept();
    await using _conn = conn;
    await client.sendall("to localhost");
    assert.equal(new TextDecoder().decode(await conn.recv(32)), "to localhost");
    using v4 = socket(AF_INET);
    v4.bind(["localhost", 0]);
    assert.equal(v4.getsockname()[0], "127.0.0.1");
  },
});

// _sendfile.ts: a path sendfile opens itself fails as CPython's open() and
// read() of it do, naming the path.
Deno.test("sendfile of a directory or a missing path fails with CPython's class and message, naming the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const paths = [dir, `${dir}/missing`, `${dir}/it's`];
    await Deno.mkdir(paths[2]);
    const py = await pythonJson(
      `
import json, sys, socket
a, b = socket.socketpair()
out = []
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            a.sendfile(f)
        out.append(None)
    except OSError as e:
        out.append([type(e).__name__, str(e)])
a.close(); b.close()
print(json.dumps(out))
`,
      ...paths,
    ) as [string, string][];
    await using p = await pair();
    for (const [i, path] of paths.entries()) {
      const err = await p.client.sendfile(path).then(() => null, (e: Error) => e);
      assert.deepEqual(err && [err.name, err.message], py[i], path);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
