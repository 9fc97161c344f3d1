// Read calls made without awaiting, timeouts changed under waiting calls,
// timed-out calls followed by bytes, and aborts during each kind of wait,
// over real loopback sockets. Every call's bytes are asserted exactly: each
// byte goes to one call, in call order, once.

import assert from "node:assert/strict";
import {
  createConnection,
  createServer,
  errno,
  MSG_DONTWAIT,
  MSG_PEEK,
  socket,
  TimeoutError,
} from "../mod.ts";
import { recvExactly, recvMsg } from "../framing.ts";
import { DefaultSelector, EVENT_READ, select } from "../selectors.ts";
import {
  assertPending,
  errorOf,
  pair,
  pythonJson,
  rejection,
  settled,
  silentListener,
  sleep,
  text,
} from "./_helpers.ts";

/** A call's result as text (bytes decoded, counts as they are). */
function shown(value: unknown): unknown {
  if (value instanceof Uint8Array) return text(value);
  if (Array.isArray(value)) return value.map(shown);
  return value;
}

Deno.test("recv, makefile readline and read, recvExactly, recvInto, a readable read, recvMsg and MSG_PEEK made without awaiting take the bytes in call order", async () => {
  await using p = await pair();
  const file = p.conn.makefile("rb");
  const reader = p.conn.readable.getReader();
  await sleep(0); // the stream has started: each read() now pulls at once
  const into = new Uint8Array(4);
  // Each call is made now; piece i is sent once call i has settled, so
  // every call but the first waits for the turn, then for its bytes.
  // A call's pieces: all but the last leave it waiting.
  const calls: [string, (string | Uint8Array)[], unknown][] = [];
  const made: Promise<unknown>[] = [];
  const call = (
    what: string,
    start: () => Promise<unknown>,
    piece: string | Uint8Array | (string | Uint8Array)[],
    want: unknown,
  ) => {
    calls.push([what, Array.isArray(piece) ? piece : piece === "" ? [] : [piece], want]);
    made.push(start());
  };
  call("recv(1) #1", () => p.conn.recv(1), "abc", "a");
  call("recv(1) #2", () => p.conn.recv(1), "", "b");
  call("recv(1) #3", () => p.conn.recv(1), "", "c");
  call("readline", () => file.readline(), "de\nfg", "de\n");
  call("recvExactly(3)", () => recvExactly(p.conn, 3), "h", "fgh");
  call("recvInto(4)", () => p.conn.recvInto(into), "ijklm", 4);
  call("readable read", () => reader.read().then((r) => r.value), "", "m");
  call("read(2)", () => file.read(2), "no", "no");
  call("recvMsg", () => recvMsg(p.conn), [new Uint8Array([0, 0, 0, 3, 120]), "yz"], "xyz");
  call("recv(MSG_PEEK)", () => p.conn.recv(100, MSG_PEEK), "PQ", "PQ");
  call("recv", () => p.conn.recv(100), "", "PQ");
  for (let i = 0; i < calls.length; i++) {
    const [what, pieces, want] = calls[i];
    for (const piece of pieces) {
      // The call waits (for its turn or its bytes) until its last piece.
      await assertPending(made[i], what);
      await p.client.sendall(piece);
    }
    assert.deepEqual(shown(await settled(made[i], what)), want, what);
    if (what === "recvInto(4)") assert.equal(text(into), "ijkl");
  }
  reader.releaseLock();
  await file.close();
});

Deno.test("a timed-out recv loses nothing: select, a selector, MSG_PEEK, recvInto, a makefile read and recv then see the late bytes once", async () => {
  await using p = await pair();
  p.conn.settimeout(0.05);
  assert.deepEqual(await errorOf(p.conn.recv(10)), ["TimeoutError", null]);
  await p.client.sendall("abcdef");
  const [readable] = await select([p.conn], [], [], 1);
  assert.deepEqual(readable, [p.conn]);
  using selector = new DefaultSelector();
  selector.register(p.conn, EVENT_READ);
  assert.equal((await selector.select(1)).length, 1);
  assert.equal(text(await p.conn.recv(10, MSG_PEEK)), "abcdef");
  assert.equal(text(await p.conn.recv(3, MSG_PEEK | MSG_DONTWAIT)), "abc");
  const into = new Uint8Array(2);
  assert.equal(await p.conn.recvInto(into), 2);
  assert.equal(text(into), "ab");
  const file = p.conn.makefile("rb");
  assert.equal(text(await file.read(1)), "c");
  await file.close();
  assert.equal(text(await p.conn.recv(10)), "def");
  assert.deepEqual(await errorOf(p.conn.recv(10, MSG_DONTWAIT)), ["BlockingIOError", errno.EAGAIN]);
  assert.equal((await select([p.conn], [], [], 0))[0].length, 0);
  assert.equal((await selector.select(0)).length, 0);
});

Deno.test("settimeout and setblocking under a waiting recv apply to later calls only, as in CPython", async () => {
  // CPython: a thread's recv keeps the timeout it started with; a
  // non-blocking recv beside a blocked one fails at once, and the bytes go
  // to the blocked one.
  const theirs = await pythonJson(`
a, b = tcppair()
out = {}
b.settimeout(0.1)
t = threading.Thread(target=lambda: out.update(timed=err(lambda: b.recv(10))))
t.start(); time.sleep(0.02); b.settimeout(None); t.join()
got = []
t = threading.Thread(target=lambda: got.append(b.recv(10)))
t.start(); time.sleep(0.05); b.setblocking(False)
out["beside"] = err(lambda: b.recv(10))
a.sendall(b"late"); t.join()
out["blocked"] = got[0].decode()
print(json.dumps(out))
`);
  assert.deepEqual(theirs, {
    timed: ["TimeoutError", null],
    beside: ["BlockingIOError", 11],
    blocked: "late",
  });
  await using p = await pair();
  p.conn.settimeout(0.1);
  const timed = p.conn.recv(10);
  p.conn.settimeout(null);
  const blocked = p.conn.recv(10);
  assert.deepEqual(await errorOf(timed), theirs.timed);
  await assertPending(blocked, "the blocking recv");
  p.conn.setblocking(false);
  const beside = await errorOf(p.conn.recv(10));
  await p.client.sendall("late");
  assert.deepEqual(
    { timed: theirs.timed, beside, blocked: text(await settled(blocked, "recv")) },
    theirs,
  );
  // A call queued behind the blocked one keeps the timeout it was made with too.
  p.conn.settimeout(null);
  const first = p.conn.recv(10);
  p.conn.settimeout(0.05);
  const queued = p.conn.recv(10);
  p.conn.settimeout(null);
  const err = await rejection(queued, "the queued recv");
  assert.ok(err instanceof TimeoutError && err.errno === null, String(err));
  await p.client.sendall("first");
  assert.equal(text(await settled(first, "recv")), "first");
});

Deno.test("recvmsg, recvmsgInto, recvfrom and recvfromInto aborted while waiting reject with the reason and leave the bytes to the next call", async () => {
  await using p = await pair();
  const reason = new Error("abort");
  const calls: [string, (signal: AbortSignal) => Promise<unknown>][] = [
    ["recvmsg", (signal) => p.conn.recvmsg(10, 0, 0, { signal })],
    ["recvmsgInto", (signal) => p.conn.recvmsgInto([new Uint8Array(4)], 0, 0, { signal })],
    ["recvfrom", (signal) => p.conn.recvfrom(10, 0, { signal })],
    ["recvfromInto", (signal) => p.conn.recvfromInto(new Uint8Array(4), 0, 0, { signal })],
  ];
  let n = 0;
  for (const [what, start] of calls) {
    const stop = new AbortController();
    const waiting = start(stop.signal);
    await assertPending(waiting, what);
    stop.abort(reason);
    assert.equal(await rejection(waiting, what), reason, what);
    const piece = `m${n++}`;
    await p.client.sendall(piece);
    assert.equal(text(await p.conn.recv(10)), piece, `the bytes after the aborted ${what}`);
  }
});

Deno.test("an accept with a timeout aborted while waiting rejects with the reason; the connection goes to the next accept", async () => {
  await using server = createServer(["127.0.0.1", 0]);
  server.settimeout(30);
  const stop = new AbortController();
  const waiting = server.accept({ signal: stop.signal });
  await assertPending(waiting, "accept");
  stop.abort(new Error("abort"));
  assert.equal(((await rejection(waiting, "accept")) as Error).message, "abort");
  await using client = await createConnection(server.getsockname() as [string, number]);
  const [conn, addr] = await settled(server.accept(), "the next accept");
  using _conn = conn;
  assert.deepEqual(addr, client.getsockname());
});

Deno.test("a connect with a timeout aborted before it expires rejects with the reason, not TimeoutError", async () => {
  await using silent = await silentListener();
  using s = socket();
  s.settimeout(30);
  const stop = new AbortController();
  const connecting = s.connect(silent.addr, { signal: stop.signal });
  await assertPending(connecting, "connect");
  stop.abort(new Error("abort"));
  const err = await rejection(connecting, "connect");
  assert.ok(!(err instanceof TimeoutError) && (err as Error).message === "abort", String(err));
});
