// Blocking and the write side against CPython 3.11: sends on a full
// connection, a write waiting its turn behind a blocked one, what a
// timed-out sendall, sendfile or makefile write leaves the peer, and TLS's
// timeouts and backpressure. The python3 twin runs the same operation on
// its own loopback sockets.

import assert from "node:assert/strict";
import {
  createConnection,
  createServer,
  MSG_DONTWAIT,
  MSG_PEEK,
  SHUT_WR,
  type StreamSocket,
} from "../mod.ts";
import { recvExactly } from "../framing.ts";
import { PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER, SSLContext, type SSLSocket } from "../ssl.ts";
import { assertPending, errorOf, pair, python, pythonJson, rejection, text } from "./_helpers.ts";
import { certs } from "./_ssl_helpers.ts";
import { drain, PY_SHAPE, type Shape, shape } from "./_timeout_twin.ts";

// ------------------------------------------------------------- sends

// A peer that reads nothing: each kind of send is repeated until it raises
// (the kernel may still take a byte or two into its last segment), and the
// error must be CPython's. A non-blocking pysock send first fills its 64 KiB
// send queue (README, "Non-blocking sends"); a non-blocking sendall waits
// for every byte, so it is left out.
Deno.test("send, sendall, sendmsg and sendfile on a full connection, non-blocking, with a timeout and with MSG_DONTWAIT, raise what CPython raises", async () => {
  const theirs = await pythonJson(
    PY_SHAPE + `
import os, tempfile
def until_raised(call):
    for _ in range(1000):
        got = shape(call)
        if got != ["ok"]: return got
    return got
a, b = tcppair()
chunk = b"x" * 16384
out = []
a.settimeout(0.2)
out.append(until_raised(lambda: a.sendall(chunk * 2048)))
a.settimeout(0)
out.append(until_raised(lambda: a.send(chunk)))
a.settimeout(None)
out.append(until_raised(lambda: a.send(chunk, socket.MSG_DONTWAIT)))
a.settimeout(0.05)
out += [until_raised(lambda: a.send(chunk)), until_raised(lambda: a.sendall(chunk)),
        until_raised(lambda: a.sendmsg([chunk]))]
fd, path = tempfile.mkstemp(); os.write(fd, chunk); os.close(fd)
with open(path, "rb") as f: out.append(until_raised(lambda: a.sendfile(f, 0)))
a.settimeout(0)
with open(path, "rb") as f: out.append(shape(lambda: a.sendfile(f, 0)))
os.remove(path)
print(json.dumps(out))
`,
  ) as Shape[];
  await using p = await pair();
  const a = p.client;
  const chunk = new Uint8Array(16384).fill(120);
  const untilRaised = async (call: () => Promise<unknown>) => {
    let got: Shape = ["ok"];
    for (let i = 0; i < 1000 && got[0] === "ok"; i++) got = await shape(call);
    return got;
  };
  a.settimeout(0.2);
  const ours: Shape[] = [await untilRaised(() => a.sendall(new Uint8Array(32 << 20)))];
  a.settimeout(0);
  ours.push(await untilRaised(() => a.send(chunk)));
  a.settimeout(null);
  ours.push(await untilRaised(() => a.send(chunk, MSG_DONTWAIT)));
  a.settimeout(0.05);
  ours.push(await untilRaised(() => a.send(chunk)), await untilRaised(() => a.sendall(chunk)));
  ours.push(await untilRaised(() => a.sendmsg([chunk])));
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/f`, chunk);
    ours.push(await untilRaised(() => a.sendfile(`${dir}/f`, 0)));
    a.settimeout(0);
    ours.push(await shape(() => a.sendfile(`${dir}/f`, 0)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Python's ValueError is a RangeError here, with the same words.
  const last = theirs.length - 1;
  assert.deepEqual(theirs[last], [
    "ValueError",
    null,
    null,
    "non-blocking sockets are not supported",
  ]);
  assert.deepEqual(ours[last], [
    "RangeError",
    null,
    null,
    "Cannot sendfile: non-blocking sockets are not supported",
  ]);
  assert.deepEqual(ours.slice(0, last), theirs.slice(0, last));
  a.close(); // the writes still queued end with EBADF
});

// In CPython a timeout bounds each call however it waits: a thread's
// sendall with a timeout, while another thread's blocking sendall holds the
// full connection, times out. pysock queues writes (README, "Writes are
// ordered for you"), and the wait for its turn must count against the
// timeout, as it does for reads; the bytes must still never interleave.
Deno.test("a send, sendall or sendmsg with a timeout queued behind a blocked sendall times out, as CPython's, and the bytes after it keep their order", async () => {
  const theirs = await pythonJson(`
a, b = tcppair()
big = threading.Thread(target=lambda: err(lambda: a.sendall(b"x" * (32 << 20))))
big.start()
time.sleep(0.3)
a.settimeout(0.2)
out = [err(lambda: a.sendall(b"y")), err(lambda: a.send(b"y")), err(lambda: a.sendmsg([b"y"]))]
a.close(); b.close(); big.join()
print(json.dumps(out))
`);
  assert.deepEqual(theirs, [["TimeoutError", null], ["TimeoutError", null], [
    "TimeoutError",
    null,
  ]]);
  await using p = await pair();
  const size = 32 << 20;
  const big = p.client.sendall(new Uint8Array(size).fill(120));
  await assertPending(big, "a blocking sendall to a peer that reads nothing");
  p.client.settimeout(0.2);
  const failed = async (call: Promise<unknown>, what: string) => {
    const err = await rejection(call, what) as { name: string; errno: unknown };
    return [err.name, err.errno];
  };
  const ours = [
    await failed(p.client.sendall("y"), "sendall"),
    await failed(p.client.send("y"), "send"),
    await failed(p.client.sendmsg([new Uint8Array([121])]), "sendmsg"),
  ];
  assert.deepEqual(ours, theirs);
  // The timed-out calls wrote nothing; a write after them still waits for the big one.
  p.client.settimeout(null);
  const after = p.client.sendall("z");
  p.client.shutdown(SHUT_WR);
  const got = await drain(p.conn);
  await big;
  await after;
  assert.equal(got.length, size + 1);
  assert.ok(got.subarray(0, size).every((byte) => byte === 120), "the big write, whole and first");
  assert.equal(text(got.subarray(size)), "z");
});

// CPython's sendall does not say how much it sent before the timeout; the
// peer does. A retry of the whole data after it therefore repeats that
// unknown prefix: the peer sees data[:k] + data. pysock must give the same
// shape: what went out before the timeout (the write in flight included)
// is a prefix, and the retry's bytes follow it whole.
Deno.test("a sendall retried after a timeout leaves the peer a prefix of the data and then the whole data, as CPython's", async () => {
  const size = 8 << 20;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
  const check = (received: Uint8Array) => {
    const k = received.length - size;
    // CPython's prefix is what the kernel took (0 < k < size); pysock's adds
    // the write in flight at the timeout, which Deno cannot recall: it may be
    // every byte.
    assert.ok(k > 0 && k <= size, `a prefix went out before the retry (${k} bytes)`);
    assert.deepEqual(received.subarray(0, k), data.subarray(0, k), `the prefix`);
    assert.deepEqual(received.subarray(k), data, `the retry's bytes, whole`);
  };
  // CPython checks its own stream (random data, so a shifted copy cannot match).
  const theirs = await pythonJson(`
import os
size = ${size}
data = os.urandom(size)
a, b = tcppair()
a.settimeout(0.2)
timed_out = err(lambda: a.sendall(data))
got = bytearray()
def drain():
    while True:
        chunk = b.recv(1 << 20)
        if not chunk: return
        got.extend(chunk)
reader = threading.Thread(target=drain); reader.start()
a.settimeout(None)
a.sendall(data)
a.shutdown(socket.SHUT_WR)
reader.join()
k = len(got) - size
print(json.dumps([timed_out, 0 < k < size, got == data[:k] + data]))
`);
  assert.deepEqual(theirs, [["TimeoutError", null], true, true]);
  await using p = await pair();
  p.client.settimeout(0.2);
  assert.deepEqual(await errorOf(p.client.sendall(data)), ["TimeoutError", null]);
  const draining = drain(p.conn);
  p.client.settimeout(null);
  await p.client.sendall(data);
  p.client.shutdown(SHUT_WR);
  const received = await draining;
  check(received);
});

// CPython's sendfile seeks the file to where what it sent ends, also when
// it times out: sendfile(file, file.tell()) then resumes with no gap and no
// repeat. pysock's file position must say the same.
Deno.test("after a sendfile that timed out the file's position is where the peer's bytes end, so a resumed sendfile leaves no gap and no repeat, as CPython's", async () => {
  const size = 32 << 20;
  const theirs = await pythonJson(`
import os, tempfile
fd, path = tempfile.mkstemp(); os.write(fd, os.urandom(${size})); os.close(fd)
a, b = tcppair()
got = bytearray()
with open(path, "rb") as f:
    a.settimeout(0.2)
    timed_out = err(lambda: a.sendfile(f))
    position = f.tell()
    reader = threading.Thread(target=lambda: [got.extend(c) for c in iter(lambda: b.recv(1 << 20), b"")])
    reader.start()
    a.settimeout(None)
    a.sendfile(f, position)
    a.shutdown(socket.SHUT_WR)
    reader.join()
    f.seek(0)
    whole = f.read()
os.remove(path)
print(json.dumps([timed_out, 0 < position < ${size}, bytes(got) == whole]))
`);
  assert.deepEqual(theirs, [["TimeoutError", null], true, true]);
  const dir = await Deno.makeTempDir();
  try {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    await Deno.writeFile(`${dir}/f`, data);
    using f = await Deno.open(`${dir}/f`);
    await using p = await pair();
    p.client.settimeout(0.2);
    const timedOut = await errorOf(p.client.sendfile(f));
    const position = await f.seek(0, Deno.SeekMode.Current);
    const draining = drain(p.conn);
    p.client.settimeout(null);
    await p.client.sendfile(f, position);
    p.client.shutdown(SHUT_WR);
    const got = await draining;
    assert.deepEqual(timedOut, ["TimeoutError", null]);
    assert.ok(position > 0 && position < size, `position ${position}`);
    assert.equal(got.length, size, "no gap, no repeat");
    assert.ok(got.every((byte, i) => byte === data[i]), "the bytes, in order");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a makefile write that timed out: TimeoutError, flush then succeeds, and the peer gets a prefix of the data then what was written after, as CPython's", async () => {
  const size = 32 << 20;
  const theirs = await pythonJson(`
import os
data = os.urandom(${size})
a, b = tcppair()
w = a.makefile("wb")
a.settimeout(0.2)
out = [err(lambda: w.write(data)), err(w.flush)]
got = bytearray()
reader = threading.Thread(target=lambda: [got.extend(c) for c in iter(lambda: b.recv(1 << 20), b"")])
reader.start()
a.settimeout(None)
w.write(b"tail"); w.flush(); w.close()
a.shutdown(socket.SHUT_WR)
reader.join()
k = len(got) - 4
print(json.dumps(out + [0 < k < ${size}, bytes(got) == data[:k] + b"tail"]))
`);
  assert.deepEqual(theirs, [["TimeoutError", null], null, true, true]);
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  await using p = await pair();
  const w = p.client.makefile("wb");
  p.client.settimeout(0.2);
  const ours: unknown[] = [await errorOf(w.write(data)), await errorOf(w.flush())];
  const draining = drain(p.conn);
  p.client.settimeout(null);
  await w.write(new TextEncoder().encode("tail"));
  await w.flush();
  await w.close();
  p.client.shutdown(SHUT_WR);
  const got = await draining;
  const k = got.length - 4;
  // pysock's prefix may be all of the data: the write in flight completes (README).
  ours.push(0 < k && k <= size, text(got.subarray(k)) === "tail");
  assert.ok(got.subarray(0, k).every((byte, i) => byte === data[i]), "a prefix, no gap");
  assert.deepEqual(ours, theirs);
});

// ------------------------------------------------------------- TLS

// A CPython TLS client that sends 64 MiB in 1 MiB sendall calls with a 2 s
// timeout, to a server that never reads: it must time out once the
// kernel's buffers are full, as against CPython's own server.
const PY_TLS_SENDER = `
import ssl
def send_until_timeout(port):
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    s.settimeout(2)
    sent, failed = 0, None
    try:
        while sent < (64 << 20):
            s.sendall(b"x" * (1 << 20)); sent += 1 << 20
    except Exception as e:
        failed = type(e).__name__
    s.close()
    return [failed, sent < (64 << 20)]
`;

Deno.test({
  name:
    "a TLS peer's sendall to a pysock SSLSocket that reads nothing times out as against CPython's, instead of being buffered without bound",
  fn: async () => {
    const c = await certs();
    const theirs = await pythonJson(
      PY_TLS_SENDER + `
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); sctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = socket.create_server(("127.0.0.1", 0))
held = []
def serve():
    conn, _ = srv.accept()
    held.append(sctx.wrap_socket(conn, server_side=True))
threading.Thread(target=serve).start()
print(json.dumps(send_until_timeout(srv.getsockname()[1])))
`,
      c.server,
      c.serverKey,
    );
    assert.deepEqual(theirs, ["TimeoutError", true]);
    const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
    ctx.loadCertChain(c.server, c.serverKey);
    await using listener = await ctx.wrapSocket(createServer(["127.0.0.1", 0]), {
      serverSide: true,
    });
    const peer = python(
      "import json, socket, sys\n" + PY_TLS_SENDER +
        "print(json.dumps(send_until_timeout(int(sys.argv[1]))))",
      String(listener.getsockname()[1]),
    );
    await using _peer = peer;
    const [conn] = await listener.accept();
    try {
      assert.deepEqual(JSON.parse(await peer.output()), theirs);
    } finally {
      conn.close();
    }
  },
});

/** A pysock TLS client and the server's end, handshaken; disposing closes both and the listener. */
async function tlsPair(): Promise<AsyncDisposable & { client: SSLSocket; conn: SSLSocket }> {
  const c = await certs();
  const server = new SSLContext(PROTOCOL_TLS_SERVER);
  server.loadCertChain(c.server, c.serverKey);
  const client = new SSLContext(PROTOCOL_TLS_CLIENT);
  client.loadVerifyLocations(c.ca);
  const listener = await server.wrapSocket(createServer(["127.0.0.1", 0]), { serverSide: true });
  const accepting = listener.accept();
  const raw = await createConnection(["127.0.0.1", listener.getsockname()[1] as number]);
  const sock = await client.wrapSocket(raw, { serverHostname: "localhost" });
  const [conn] = await accepting;
  return {
    client: sock,
    conn,
    [Symbol.asyncDispose]() {
      sock.close();
      conn.close();
      listener.close();
      return Promise.resolve();
    },
  };
}

Deno.test("the bytes a TLS peer sent while the SSLSocket read nothing all come, in order, once it reads", async () => {
  await using p = await tlsPair();
  const size = 16 << 20;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
  const sending = p.client.sendall(data);
  await assertPending(sending, "a sendall of 16 MiB to an SSLSocket nobody reads");
  const got = await recvExactly(p.conn, size);
  await sending;
  assert.ok(got.every((byte, i) => byte === data[i]), "every byte, in order");
});

// A CPython TLS client `t` connected to a CPython TLS server in a thread
// (its socket kept in `held`), for the twins below; argv: cert, key.
const PY_TLS_PAIR = `
import ssl
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); sctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
srv = socket.create_server(("127.0.0.1", 0)); held = []
def serve():
    conn, _ = srv.accept(); held.append(sctx.wrap_socket(conn, server_side=True))
threading.Thread(target=serve).start()
t = ctx.wrap_socket(socket.create_connection(srv.getsockname()), server_hostname="localhost")
`;

// CPython's SSLSocket names the operation that timed out; non-blocking, it
// raises SSLWantReadError / SSLWantWriteError (whose messages add the
// _ssl.c line, which pysock leaves out).
Deno.test("an SSLSocket's recv, recvInto, send and sendall time out, and fail non-blocking, as CPython's", async () => {
  const c = await certs();
  const theirs = await pythonJson(
    PY_SHAPE + PY_TLS_PAIR + `
chunk = b"x" * (1 << 20)
def until_raised(call):
    for _ in range(1000):
        got = shape(call)
        if got != ["ok"]: return got
    return got
t.settimeout(0)
out = [shape(lambda: t.recv(10)), shape(lambda: t.recv_into(bytearray(10)))]
t.settimeout(0.2)
out += [shape(lambda: t.recv(10)), shape(lambda: t.recv_into(bytearray(10))),
        until_raised(lambda: t.sendall(chunk)), until_raised(lambda: t.send(chunk))]
t.settimeout(0)
out.append(until_raised(lambda: t.send(chunk)))
print(json.dumps([[k, e, s and s.split(" (_ssl.c")[0], m.split(" (_ssl.c")[0]] if k != "ok" else [k]
                  for k, e, s, m in [x + [None] * (4 - len(x)) for x in out]]))
`,
    c.server,
    c.serverKey,
  );
  await using p = await tlsPair();
  const t = p.client;
  const chunk = new Uint8Array(1 << 20);
  const untilRaised = async (call: () => Promise<unknown>) => {
    let got: Shape = ["ok"];
    for (let i = 0; i < 1000 && got[0] === "ok"; i++) got = await shape(call);
    return got;
  };
  t.settimeout(0);
  const ours: Shape[] = [
    await shape(() => t.recv(10)),
    await shape(() => t.recvInto(new Uint8Array(10))),
  ];
  t.settimeout(0.2);
  ours.push(await shape(() => t.recv(10)), await shape(() => t.recvInto(new Uint8Array(10))));
  ours.push(await untilRaised(() => t.sendall(chunk)), await untilRaised(() => t.send(chunk)));
  t.settimeout(0);
  ours.push(await untilRaised(() => t.send(chunk)));
  assert.deepEqual(ours, theirs);
});

// An SSLSocket is a StreamSocket, so code written for one can pass flags;
// TLS cannot honour them (MSG_DONTWAIT would block, MSG_PEEK consume), and
// CPython refuses them: ValueError, a RangeError here.
Deno.test("an SSLSocket refuses flags on recv, recvInto, send and sendall, as CPython's, instead of ignoring them", async () => {
  const c = await certs();
  const theirs = await pythonJson(
    PY_TLS_PAIR + `
D, P = socket.MSG_DONTWAIT, socket.MSG_PEEK
print(json.dumps([err(lambda: t.recv(10, D)), err(lambda: t.recv(10, P)),
                  err(lambda: t.recv_into(bytearray(10), 0, D)), err(lambda: t.send(b"x", D)),
                  err(lambda: t.sendall(b"x", D))]))
`,
    c.server,
    c.serverKey,
  ) as [string, unknown][];
  assert.deepEqual(theirs.map(([name]) => name), Array(5).fill("ValueError"));
  await using p = await tlsPair();
  const s: StreamSocket = p.client;
  const ours = [
    await errorOf(s.recv(10, MSG_DONTWAIT)),
    await errorOf(s.recv(10, MSG_PEEK)),
    await errorOf(s.recvInto(new Uint8Array(10), 0, MSG_DONTWAIT)),
    await errorOf(s.send("x", MSG_DONTWAIT)),
    await errorOf(s.sendall("x", MSG_DONTWAIT)),
  ];
  assert.deepEqual(ours, theirs.map(() => ["RangeError", null]));
  // Nothing was consumed or sent: the bytes are the next plain call's.
  await p.conn.sendall("abc");
  assert.equal(text(await recvExactly(s, 3)), "abc");
});

Deno.test("an SSLSocket's recv and recvInto take a signal as a plain socket's do: the abort ends the wait, and the bytes go to the next call", async () => {
  await using p = await tlsPair();
  const s: StreamSocket = p.client;
  for (
    const call of [
      (signal: AbortSignal) => s.recv(10, 0, { signal }),
      (signal: AbortSignal) => s.recvInto(new Uint8Array(10), 0, 0, { signal }),
    ]
  ) {
    const abort = new AbortController();
    const waiting = call(abort.signal);
    await assertPending(waiting, "a receive with a signal");
    abort.abort(new Error("stop"));
    assert.equal(((await rejection(waiting, "the aborted receive")) as Error).message, "stop");
  }
  await p.conn.sendall("abc");
  assert.equal(text(await recvExactly(s, 3)), "abc");
});
