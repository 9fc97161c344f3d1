// Lifecycle of a stream socket under pending calls: close(), shutdown() and
// connect() while other calls wait, and what a connection that the peer
// reset answers afterwards. Each case is checked against CPython 3.11 on
// Linux (a twin run in the same test) where the kernel decides, and against
// API.md where pysock does ("pending calls settle with EBADF, none hangs").
// Loopback only: silence is a listener whose accept queue is full.

import assert from "node:assert/strict";
import {
  AF_UNIX,
  createConnection,
  createServer,
  errno,
  OSError,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_ERROR,
  socket,
  SOL_SOCKET,
  type StreamSocket,
} from "../mod.ts";
import { recvMsg } from "../framing.ts";
import { select } from "../selectors.ts";
import {
  assertPending,
  bytes,
  errorOf,
  errorOfCall,
  freePort,
  pair,
  python,
  pythonJson,
  rejection,
  settled,
  silentListener,
} from "./_helpers.ts";

/** Asserts that `promise` rejects with `OSError` `EBADF`, and does so without hanging. */
async function assertEbadf(promise: Promise<unknown>, what: string): Promise<void> {
  const err = await rejection(promise, what);
  assert.ok(err instanceof OSError && err.errno === errno.EBADF, `${what}: ${err}`);
}

/** What a call gave, as the twins print it: `["ok", value]` (byte counts for bytes) or `[class, errno]`. */
async function outcome(call: () => unknown): Promise<unknown[]> {
  try {
    const value = await call();
    return ["ok", value instanceof Uint8Array ? value.length : value ?? null];
  } catch (e) {
    return [(e as Error).name, (e as OSError).errno ?? null];
  }
}

const PY_OUTCOME = `
import struct
def outcome(call):
    try:
        value = call()
        return ["ok", len(value) if isinstance(value, bytes) else value]
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
`;

// A second connect while one is in progress must not open a second
// connection (pysock used to: the first Deno.Conn leaked and the socket
// silently switched to the second); bind() and listen() then fail as on a
// socket the kernel has bound for the connect.
Deno.test("a connect while another is in progress fails with BlockingIOError EALREADY, bind and listen with EINVAL, as CPython", async () => {
  const theirs = await pythonJson(
    PY_OUTCOME + `
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(0)
fillers = []
for _ in range(8):
    f = socket.socket(); f.settimeout(0.2); fillers.append(f)
    if f.connect_ex(srv.getsockname()) != 0: break
c = socket.socket(); c.setblocking(False)
addr = srv.getsockname()
out = [outcome(lambda: c.connect(addr)), outcome(lambda: c.connect(addr)),
       outcome(lambda: c.bind(("127.0.0.1", 0))), outcome(lambda: c.listen()),
       outcome(lambda: c.connect_ex(addr))]
print(json.dumps(out))
`,
  );
  assert.deepEqual(theirs, [
    ["BlockingIOError", errno.EINPROGRESS],
    ["BlockingIOError", errno.EALREADY],
    ["OSError", errno.EINVAL],
    ["OSError", errno.EINVAL],
    ["ok", errno.EALREADY],
  ]);
  await using silent = await silentListener();
  // Non-blocking, as the twin; then blocking, where the first connect is an unawaited promise.
  using nb = socket();
  nb.setblocking(false);
  const ours = [
    await outcome(() => nb.connect(silent.addr)),
    await outcome(() => nb.connect(silent.addr)),
    await outcome(() => nb.bind(["127.0.0.1", 0])),
    await outcome(() => nb.listen()),
    await outcome(() => nb.connectEx(silent.addr)),
  ];
  assert.deepEqual(ours, theirs);
  const blocking = socket();
  const first = blocking.connect(silent.addr);
  assert.deepEqual(await outcome(() => blocking.connect(silent.addr)), theirs[1]);
  assert.deepEqual(await outcome(() => blocking.bind(["127.0.0.1", 0])), theirs[2]);
  assert.deepEqual(await outcome(() => blocking.listen()), theirs[3]);
  assert.deepEqual(await outcome(() => blocking.connectEx(silent.addr)), theirs[4]);
  assert.deepEqual(blocking.getsockname(), ["0.0.0.0", 0]);
  blocking.close();
  await assertEbadf(first, "the connect pending at close()");
});

// A non-blocking connect that failed used to be forgotten: the next connect
// started a new attempt (EINPROGRESS), so a program polling with connectEx
// until it stops saying EINPROGRESS looped for ever against a closed port.
Deno.test("the connect after a failed non-blocking connect reports the failure (ECONNABORTED once SO_ERROR took it), then starts afresh, as CPython", async () => {
  const theirs = await pythonJson(
    PY_OUTCOME + `
import select
srv = socket.create_server(("127.0.0.1", 0)); addr = srv.getsockname(); srv.close()
s = socket.socket(); s.setblocking(False)
out = [s.connect_ex(addr)]
select.select([], [s], [], 5)
out += [s.connect_ex(addr), s.connect_ex(addr)]
select.select([], [s], [], 5)
out += [s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), outcome(lambda: s.connect(addr)), s.connect_ex(addr)]
s.close()
print(json.dumps(out))
`,
  );
  const { ECONNABORTED, ECONNREFUSED, EINPROGRESS } = errno;
  assert.deepEqual(theirs, [
    EINPROGRESS,
    ECONNREFUSED,
    EINPROGRESS,
    ECONNREFUSED,
    ["ConnectionAbortedError", ECONNABORTED],
    EINPROGRESS,
  ]);
  const addr: [string, number] = ["127.0.0.1", freePort()];
  using s = socket();
  s.setblocking(false);
  const ours: unknown[] = [await s.connectEx(addr)];
  await select([], [s], [], 5);
  ours.push(await s.connectEx(addr), await s.connectEx(addr));
  await select([], [s], [], 5);
  ours.push(s.getsockopt(SOL_SOCKET, SO_ERROR), await outcome(() => s.connect(addr)));
  ours.push(await s.connectEx(addr));
  assert.deepEqual(ours, theirs);
});

Deno.test("a connect that failed leaves the socket free to connect again", async () => {
  await using server = createServer(["127.0.0.1", 0]);
  await using silent = await silentListener();
  using s = socket();
  s.settimeout(0.1);
  assert.deepEqual(await errorOf(s.connect(silent.addr)), ["TimeoutError", null]);
  s.settimeout(null);
  await s.connect(server.getsockname());
  const [conn] = await server.accept();
  using _conn = conn;
  await s.sendall("after");
  assert.deepEqual(await conn.recv(10), bytes("after"));
});

Deno.test("close() settles every pending call with EBADF: sendall of 64 MiB and the writes queued behind it, recvmsg, chunks, readable and writable", async () => {
  await using p = await pair();
  await using q = await pair();
  const big = new Uint8Array(64 << 20);
  const reader = p.conn.readable.getReader();
  const writer = q.conn.writable.getWriter();
  q.conn.settimeout(30); // the deadline path of the writer, on the second pair
  const calls: [string, Promise<unknown>][] = [
    ["sendall (no deadline)", p.conn.sendall(big)],
    ["sendall queued behind it", p.conn.sendall("tail")],
    ["send queued behind it", p.conn.send("x")],
    ["readable read", reader.read()],
    ["writable write of 64 MiB", writer.write(big)],
    ["recvmsg", q.conn.recvmsg(10)],
    ["chunks().next()", q.conn.chunks(16).next()],
  ];
  for (const [what, call] of calls) await assertPending(call, what);
  p.conn.close();
  q.conn.close();
  for (const [what, call] of calls) await assertEbadf(call, what);
  await assertEbadf(reader.closed, "readable closed");
  await assertEbadf(writer.closed, "writable closed");
});

Deno.test("a makefile read waits through a close() the file defers, gets its bytes, and its next read ends with EBADF when the file closes", async () => {
  await using p = await pair();
  const file = p.conn.makefile("rb");
  const read = file.read(4);
  p.conn.close(); // deferred: the file holds the socket, as in CPython
  assert.equal(p.conn.fileno() > 0, true);
  await p.client.sendall("abcd");
  assert.deepEqual(await settled(read, "read(4)"), bytes("abcd"));
  const line = file.readline();
  await assertPending(line, "readline");
  await file.close();
  assert.equal(p.conn.fileno(), -1);
  await assertEbadf(line, "readline pending when the file closed");
});

// Aborting a WritableStream waits for the write in flight before the sink's
// abort runs, so with a peer that reads nothing abort() used to hang and
// the socket stayed open; the controller's signal closes it at once.
Deno.test("abort() on a writable whose write waits on a peer that reads nothing closes the socket at once; the write rejects with EBADF", async () => {
  await using p = await pair();
  const writer = p.conn.writable.getWriter();
  const write = writer.write(new Uint8Array(64 << 20));
  await assertPending(write, "write");
  const aborting = writer.abort(new Error("stop"));
  await assertEbadf(write, "the write in flight");
  await settled(aborting, "abort()");
  assert.equal(p.conn.fileno(), -1);
});

// An aborted pipeTo into `writable` cannot close the socket while a write
// waits on a peer that reads nothing: the Streams spec makes pipeTo wait for
// every chunk it read to be written before it aborts the destination, so
// neither the sink's abort nor the controller's signal is reached. README
// says so: close the socket yourself, which ends the write and the pipe.
Deno.test("pipeTo aborted while a write waits on a peer that reads nothing leaves the socket open, as the Streams spec says; close() then ends the pipe", async () => {
  await using p = await pair();
  const stop = new AbortController();
  const source = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(new Uint8Array(1 << 20)),
  });
  const piping = source.pipeTo(p.conn.writable, { signal: stop.signal });
  await assertPending(piping, "pipeTo");
  stop.abort(new Error("enough"));
  await assertPending(piping, "pipeTo after abort");
  assert.notEqual(p.conn.fileno(), -1);
  p.conn.close();
  await rejection(piping, "pipeTo");
  assert.equal(p.conn.fileno(), -1);
});

Deno.test("shutdown twice for each how, after close, unconnected and bound: the results of CPython", async () => {
  const theirs = await pythonJson(
    PY_OUTCOME + `
a, b = tcppair()
out = [outcome(lambda: a.shutdown(how)) for how in (1, 1, 0, 0, 2, 2)]
a.close(); b.close()
out.append(outcome(lambda: a.shutdown(2)))
s = socket.socket(); out.append(outcome(lambda: s.shutdown(1)))
s.bind(("127.0.0.1", 0)); out.append(outcome(lambda: s.shutdown(0))); s.close()
print(json.dumps(out))
`,
  );
  await using p = await pair();
  const ours = [];
  for (const how of [SHUT_WR, SHUT_WR, SHUT_RD, SHUT_RD, SHUT_RDWR, SHUT_RDWR]) {
    ours.push(await outcome(() => p.conn.shutdown(how)));
  }
  p.conn.close();
  ours.push(await outcome(() => p.conn.shutdown(SHUT_RDWR)));
  using s = socket();
  ours.push(await outcome(() => s.shutdown(SHUT_WR)));
  s.bind(["127.0.0.1", 0]);
  ours.push(await outcome(() => s.shutdown(SHUT_RD)));
  assert.deepEqual(ours, theirs);
});

// CPython's sendall blocked in the kernel fails with BrokenPipeError when
// another thread shuts the socket down, and the peer gets only what the
// kernel had taken. Deno cannot withdraw a write it has started, so pysock
// sends end of stream after it instead (socket.ts, shutdown): the peer gets
// every byte, then end of stream.
Deno.test("shutdown(SHUT_RDWR) under a pending recv and a pending 8 MiB sendall: recv ends at once, every byte reaches the peer, then end of stream", async () => {
  await using p = await pair();
  const data = new Uint8Array(8 << 20).map((_, i) => i % 251);
  const recv = p.conn.recv(10);
  const sending = p.conn.sendall(data);
  await assertPending(sending, "sendall");
  p.conn.shutdown(SHUT_RDWR);
  assert.deepEqual(await settled(recv, "recv"), new Uint8Array(0));
  assert.deepEqual(await errorOf(p.conn.send("late")), ["BrokenPipeError", errno.EPIPE]);
  const got = await p.client.makefile("rb").read();
  assert.equal(got.length, data.length);
  assert.deepEqual(got, data);
  await settled(sending, "sendall");
});

// The peer reads 1 MiB of a 64 MiB sendall, or waits for "go", then resets.
const RESETTING_PEER = `
import socket, struct, sys
srv = socket.create_server(("127.0.0.1", 0))
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
got = 0
while got < int(sys.argv[1]):
    got += len(c.recv(65536))
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`;

/** What the calls after a reset give: the sequence CPython's twin runs too. */
async function afterReset(s: StreamSocket): Promise<unknown[]> {
  return [
    await outcome(() => s.recv(10)),
    errorOfCall(() => s.getpeername()),
    errorOfCall(() => s.shutdown(SHUT_RDWR)),
    await outcome(() => s.send("x")),
    await outcome(() => s.sendall("x")),
    await outcome(() => s.recv(10)),
  ];
}

Deno.test("after a reset seen by sendall or recv, the next calls answer as CPython's: recv empty, getpeername and shutdown ENOTCONN, send EPIPE", async () => {
  const theirs = await pythonJson(
    PY_OUTCOME + `
def scenario(read_first, first):
    srv = socket.create_server(("127.0.0.1", 0))
    def peer():
        c, _ = srv.accept()
        got = 0
        while got < read_first:
            got += len(c.recv(65536))
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    t = threading.Thread(target=peer); t.start()
    s = socket.create_connection(srv.getsockname())
    out = [outcome(lambda: first(s))]
    t.join(); time.sleep(0.05)
    def err_of(call):
        r = outcome(call)
        return None if r[0] == "ok" else r
    out += [outcome(lambda: s.recv(10)), err_of(s.getpeername), err_of(lambda: s.shutdown(2)),
            outcome(lambda: s.send(b"x")), outcome(lambda: s.sendall(b"x")), outcome(lambda: s.recv(10))]
    s.close(); srv.close()
    return out
def go_then_recv(s):
    s.sendall(b"go")
    return s.recv(10)
print(json.dumps([scenario(1 << 20, lambda s: s.sendall(bytes(64 << 20))), scenario(2, go_then_recv)]))
`,
  );
  const ours = [];
  for (
    const [readFirst, first] of [
      [1 << 20, (s: StreamSocket) => s.sendall(new Uint8Array(64 << 20))],
      [2, async (s: StreamSocket) => (await s.sendall("go"), await s.recv(10))],
    ] as const
  ) {
    await using peer = python(RESETTING_PEER, String(readFirst));
    const port = Number(await peer.firstLine());
    using s = socket();
    await s.connect(["127.0.0.1", port]);
    const run = [await outcome(() => first(s))];
    await peer.output();
    ours.push([...run, ...await afterReset(s)]);
  }
  const [sendallFirst, recvFirst] = theirs as unknown[][];
  assert.deepEqual(sendallFirst[0], ["ConnectionResetError", errno.ECONNRESET]);
  assert.deepEqual(recvFirst[0], ["ConnectionResetError", errno.ECONNRESET]);
  assert.deepEqual(ours, theirs);
});

// shutdown() on a listening socket, as Linux does it (the usual way to wake
// a thread blocked in accept): SHUT_WR does nothing, SHUT_RD stops the
// listener, so a connection queued on it is reset, a new one is refused,
// accept fails with EINVAL and a second shutdown with ENOTCONN, while
// getsockname() keeps the address, until listen() opens it again.
const LISTENER_SHUTDOWN = `
import json, select, socket
out = []
def step(f):
    try:
        r = f()
        out.append(["ok", r])
    except OSError as e:
        out.append([type(e).__name__, e.errno])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
name = s.getsockname()
step(lambda: s.shutdown(socket.SHUT_WR))
queued = socket.create_connection(name)
step(lambda: s.shutdown(socket.SHUT_RD))
step(lambda: s.accept() and None)
step(lambda: [len(ready) for ready in select.select([s], [s], [s], 0)])
step(lambda: socket.create_connection(name).close())
step(lambda: queued.recv(1))
step(lambda: list(s.getsockname()) == list(name))
step(lambda: s.shutdown(socket.SHUT_RDWR))
s.listen(4)
c = socket.create_connection(s.getsockname()); a, addr = s.accept()
step(lambda: list(addr) == list(c.getsockname()))
print(json.dumps(out))
`;

Deno.test("shutdown on a listening socket: SHUT_WR does nothing, SHUT_RD stops it until listen() again, as CPython", async () => {
  const theirs = await pythonJson(LISTENER_SHUTDOWN);
  const ours: unknown[] = [];
  const step = async (f: () => unknown) => {
    const failed = await errorOf((async () => ours.push(["ok", (await f()) ?? null]))());
    if (failed !== null) ours.push(failed);
  };
  await using s = createServer(["127.0.0.1", 0]);
  const name = s.getsockname();
  await step(() => s.shutdown(SHUT_WR));
  await using queued = await createConnection(name as [string, number]);
  await step(() => s.shutdown(SHUT_RD));
  await step(() => s.accept());
  await step(async () => (await select([s], [s], [s], 0)).map((ready) => ready.length));
  await step(async () => (await createConnection(name as [string, number])).close());
  await step(() => queued.recv(1));
  await step(() => JSON.stringify(s.getsockname()) === JSON.stringify(name));
  await step(() => s.shutdown(SHUT_RDWR));
  s.listen(4);
  await using c = await createConnection(s.getsockname() as [string, number]);
  const [a, addr] = await s.accept();
  await using _a = a;
  await step(() => JSON.stringify(addr) === JSON.stringify(c.getsockname()));
  assert.deepEqual(ours, theirs);
  assert.deepEqual(ours.map((o) => (o as unknown[])[1]), [
    null,
    null,
    errno.EINVAL,
    [1, 1, 0],
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    true,
    errno.ENOTCONN,
    true,
  ]);
});

Deno.test("shutdown(SHUT_RD) ends an accept waiting on the listener with EINVAL; close() afterwards settles", async () => {
  const s = createServer(["127.0.0.1", 0]);
  const accepting = s.accept();
  const timed = (() => {
    s.settimeout(5);
    return s.accept();
  })();
  s.shutdown(SHUT_RD);
  assert.deepEqual(await errorOf(accepting), ["OSError", errno.EINVAL]);
  assert.deepEqual(await errorOf(timed), ["OSError", errno.EINVAL]);
  await s.close();
  assert.deepEqual(await errorOf(s.accept()), ["OSError", errno.EBADF]);
});

Deno.test("shutdown of a listening AF_UNIX socket: SHUT_WR does nothing, SHUT_RD is EOPNOTSUPP (Linux keeps the queue, Deno cannot)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using s = socket(AF_UNIX);
    s.bind(`${dir}/s`);
    s.listen();
    s.shutdown(SHUT_WR);
    const err = errorOfCall(() => s.shutdown(SHUT_RD));
    assert.deepEqual(err, ["OSError", errno.EOPNOTSUPP]);
    await using c = socket(AF_UNIX);
    await c.connect(`${dir}/s`);
    const [conn] = await s.accept();
    await conn.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recvMsg, recv and a makefile readline queued together all end with EBADF at close(), the file's once it closes", async () => {
  await using p = await pair();
  const file = p.conn.makefile("rb");
  const calls: [string, Promise<unknown>][] = [
    ["recvMsg", recvMsg(p.conn)],
    ["recv", p.conn.recv(10)],
    ["readline", file.readline()],
  ];
  await p.client.sendall(new Uint8Array([0, 0, 0, 9, 1]));
  for (const [what, call] of calls) await assertPending(call, what);
  p.conn.close();
  for (const [what, call] of calls) {
    await assertPending(call, `${what} while the file holds the socket`);
  }
  await file.close();
  for (const [what, call] of calls) await assertEbadf(call, what);
});
