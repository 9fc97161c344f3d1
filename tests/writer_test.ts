// _writer.ts: the send queue of non-blocking sends (the rest of the write
// path is covered row by row in socket_test.ts), on real loopback sockets.

import assert from "node:assert/strict";
import {
  BlockingIOError,
  BrokenPipeError,
  ConnectionError,
  createConnection,
  errno,
  OSError,
  SHUT_WR,
  type StreamSocket,
} from "../mod.ts";
import { SEND_QUEUE_LIMIT } from "../_writer.ts";
import { pair, python, text } from "./_helpers.ts";

/** Byte `i` of the test stream: a pattern that shows loss, doubling and reordering. */
function pattern(from: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = ((from + i) * 7 + ((from + i) >> 8)) & 0xff;
  return out;
}

/** Non-blocking sends of the pattern until the socket takes no more; the count taken. */
async function fill(sock: StreamSocket, from = 0): Promise<number> {
  let sent = from;
  for (let i = 0; i < 100_000; i++) {
    try {
      sent += await sock.send(pattern(sent, 1 << 20));
    } catch (err) {
      assert.ok(err instanceof BlockingIOError, String(err));
      assert.equal(err.errno, errno.EAGAIN);
      return sent - from;
    }
    // Let the writes in flight land, so the kernel's buffers fill too.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  throw new Error("the socket never filled up");
}

/** Reads until `count` bytes or end of stream; checks them against the pattern from `from`. */
async function drain(sock: StreamSocket, count: number, from = 0): Promise<number> {
  let got = 0;
  while (got < count) {
    const data = await sock.recv(1 << 20);
    if (data.length === 0) break;
    assert.deepEqual(data, pattern(from + got, data.length), `bytes ${from + got}+ differ`);
    got += data.length;
  }
  return got;
}

Deno.test("a non-blocking send returns the count it took at once, and the peer receives exactly those bytes", async () => {
  await using p = await pair();
  p.client.setblocking(false);
  assert.equal(await p.client.send("nonblocking"), 11);
  assert.equal(await p.client.send(new Uint8Array(0)), 0);
  assert.equal(text(await p.conn.recv(100)), "nonblocking");
});

Deno.test("a non-blocking send takes at most what the send queue has room for", async () => {
  await using p = await pair();
  p.client.setblocking(false);
  const n = await p.client.send(pattern(0, 4 * SEND_QUEUE_LIMIT));
  assert.ok(n > 0 && n <= SEND_QUEUE_LIMIT, `took ${n}`);
  assert.equal(await drain(p.conn, n), n);
});

Deno.test("a full socket takes nothing: BlockingIOError, and every byte taken before arrives once, in order", async () => {
  await using p = await pair();
  p.client.setblocking(false);
  const sent = await fill(p.client);
  await assert.rejects(p.client.send("more"), BlockingIOError);
  const draining = drain(p.conn, sent + 4);
  // Once the peer reads, the queue drains and sends are taken again.
  let extra = 0;
  for (let i = 0; i < 10_000 && extra === 0; i++) {
    extra = await p.client.send(pattern(sent, 4)).catch(() => 0);
    if (extra === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.equal(extra, 4);
  assert.equal(await draining, sent + 4);
});

Deno.test("the caller may reuse its array as soon as a non-blocking send returns", async () => {
  await using p = await pair();
  p.client.setblocking(false);
  const sent = await fill(p.client);
  const draining = drain(p.conn, sent);
  assert.equal(await draining, sent);
  const data = new TextEncoder().encode("original");
  let taken = 0;
  for (let i = 0; i < 10_000 && taken === 0; i++) {
    taken = await p.client.send(data).catch(() => 0);
    if (taken === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  data.fill(0x21);
  assert.equal(text(await p.conn.recv(100)), "original".slice(0, taken));
});

Deno.test("bytes of non-blocking sends and of a blocking sendall after them reach the peer in call order", async () => {
  await using p = await pair();
  p.client.setblocking(false);
  const queued = await fill(p.client);
  p.client.setblocking(true);
  const after = p.client.sendall(pattern(queued, 100_000));
  assert.equal(await drain(p.conn, queued + 100_000), queued + 100_000);
  await after;
});

Deno.test("close() right after non-blocking sends still delivers every byte they took, then end of stream", async () => {
  await using p = await pair();
  p.client.setblocking(false);
  const sent = await fill(p.client);
  p.client.close();
  assert.equal(p.client.fileno(), -1);
  await assert.rejects(p.client.send("x"), (err: unknown) => {
    assert.ok(err instanceof OSError && err.errno === errno.EBADF);
    return true;
  });
  assert.equal(await drain(p.conn, Infinity), sent);
});

Deno.test("a recv waiting on a socket closed with queued bytes rejects with EBADF at once", async () => {
  await using p = await pair();
  p.client.setblocking(false);
  await fill(p.client);
  p.client.setblocking(true);
  const waiting = p.client.recv(10);
  p.client.close();
  await assert.rejects(waiting, (err: unknown) => {
    assert.ok(err instanceof OSError && err.errno === errno.EBADF, String(err));
    return true;
  });
  await drain(p.conn, Infinity);
});

Deno.test("when the peer resets while bytes are queued, the next send reports the connection error", async () => {
  await using peer = python(`
import socket, struct
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(2)
print(l.getsockname()[1], flush=True)
data, _ = l.accept()
control, _ = l.accept()
control.recv(1)
data.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
data.close()
control.sendall(b"r")
control.recv(1)
`);
  const port = Number(await peer.firstLine());
  await using s = await createConnection(["127.0.0.1", port]);
  await using control = await createConnection(["127.0.0.1", port]);
  s.setblocking(false);
  await fill(s);
  await control.sendall("!");
  assert.equal(text(await control.recv(1)), "r");
  let err: unknown = null;
  for (let i = 0; i < 10_000 && err === null; i++) {
    err = await s.send("after").then(() => null, (e) => e);
    if (err instanceof BlockingIOError) err = null;
    if (err === null) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.ok(err instanceof ConnectionError, String(err));
  control.close();
  await peer.output();
});

// ---- idle writers are recycled (a connection between writes holds none) ----

/** Reads exactly `count` bytes (or to end of stream); fails after 5 s rather than hang. */
async function recvExactly(sock: StreamSocket, count: number): Promise<Uint8Array> {
  sock.settimeout(5);
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < count) {
    const data = await sock.recv(count - got);
    if (data.length === 0) break;
    parts.push(data);
    got += data.length;
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const part of parts) out.set(part, (at += part.length) - part.length);
  return out;
}

Deno.test("sockets taking turns with recycled writers each deliver exactly their own bytes, in order", async () => {
  const pairs = await Promise.all(Array.from({ length: 6 }, () => pair()));
  try {
    for (let round = 0; round < 20; round++) {
      // Alternately at once (every writer busy) and one at a time (each
      // socket's writer goes idle and the next socket takes it).
      const writes = pairs.map((p, i) => () =>
        p.client.sendall(pattern(i * 1_000_000 + round * 5000, 5000))
      );
      if (round % 2 === 0) await Promise.all(writes.map((write) => write()));
      else for (const write of writes) await write();
      // One socket also sends non-blocking, another half-closes midway, so
      // writers in those states are in play too.
      if (round === 10) {
        pairs[1].client.setblocking(false);
        assert.equal(await pairs[1].client.send(pattern(1_000_000 + 50_000, 100)), 100);
      }
      for (const [i, p] of pairs.entries()) {
        const want = pattern(i * 1_000_000 + round * 5000, 5000);
        assert.deepEqual(await recvExactly(p.conn, 5000), want, `pair ${i}, round ${round}`);
        if (i === 1 && round === 10) {
          assert.deepEqual(await recvExactly(p.conn, 100), pattern(1_000_000 + 50_000, 100));
          p.client.setblocking(true);
        }
      }
    }
    pairs[2].client.shutdown(SHUT_WR);
    await pairs[3].client.sendall("after");
    assert.equal((await recvExactly(pairs[2].conn, 1)).length, 0, "end of stream");
    assert.equal(text(await recvExactly(pairs[3].conn, 5)), "after");
    await assert.rejects(pairs[2].client.sendall("x"), BrokenPipeError);
  } finally {
    for (const p of pairs) await p[Symbol.asyncDispose]();
  }
});

Deno.test("a socket closed as its sendall lands does not hand a closed writer to the next socket", async () => {
  // close() right after sendall: the write completes, then the socket
  // closes before the write's continuation runs. That writer must not be
  // reused, or the next socket's close() would not close its connection
  // and its peer would wait for end of stream for ever.
  for (let i = 0; i < 20; i++) {
    await using a = await pair();
    const sent = a.client.sendall("first");
    a.client.close();
    await sent.catch(() => {});
    await using b = await pair();
    // b closes with its writer held, so that writer's close is what ends b's stream.
    const second = b.client.sendall("second");
    b.client.close();
    await second;
    assert.equal(text(await recvExactly(b.conn, 100)), "second");
  }
});
