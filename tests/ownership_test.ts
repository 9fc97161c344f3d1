// A received array is the caller's: what its ArrayBuffer holds and what
// transferring that buffer (postMessage, ArrayBuffer.prototype.transfer)
// does, over real sockets. Every receive hands out views of the socket's one
// read buffer (no copy per call); the rule is that a socket's buffers hold
// only its own stream's bytes, so a transfer never touches another socket,
// and a transfer after everything was read loses nothing.

import assert from "node:assert/strict";
import { AF_INET, MSG_PEEK, MSG_WAITALL, SOCK_DGRAM, socket, socketpair } from "../mod.ts";
import { recvMsg, sendMsg } from "../framing.ts";
import { bytes, text } from "./_helpers.ts";

/** Detaches the ArrayBuffer under `data`, as a transfer to a worker does. */
function transferAway(data: Uint8Array): ArrayBuffer {
  const moved = (data.buffer as ArrayBuffer).transfer();
  assert.equal(data.length, 0, "the array is detached");
  return moved;
}

Deno.test("no two sockets' received arrays share an ArrayBuffer", async () => {
  const pairs = await Promise.all(Array.from({ length: 8 }, () => socketpair()));
  try {
    const got = await Promise.all(pairs.map(async ([a, b], i) => {
      await b.sendall(`conn ${i}`);
      return await a.recv(100);
    }));
    assert.deepEqual(got.map(text), pairs.map((_, i) => `conn ${i}`));
    assert.equal(new Set(got.map((g) => g.buffer)).size, got.length);
  } finally {
    for (const [a, b] of pairs) a.close(), b.close();
  }
});

Deno.test("transferring a received array's buffer leaves other sockets' pending receives whole", async () => {
  const [a, b] = await socketpair();
  const [c, d] = await socketpair();
  try {
    await b.sendall("first");
    const first = await a.recv(100);
    const pending = c.recv(100); // c's read is in flight while a's buffer moves
    const moved = new Uint8Array(transferAway(first));
    assert.equal(text(moved.subarray(0, 5)), "first");
    await d.sendall("other");
    assert.equal(text(await pending), "other");
    // The socket whose buffer moved goes on with nothing lost.
    await b.sendall("second");
    assert.equal(text(await a.recv(100)), "second");
    await sendMsg(b, "framed");
    assert.equal(text((await recvMsg(a))!), "framed");
  } finally {
    a.close(), b.close(), c.close(), d.close();
  }
});

Deno.test("transferring the buffer while it holds unread bytes: one TypeError naming the transfer, then end of stream", async () => {
  const [a, b] = await socketpair();
  try {
    await b.sendall("hello world");
    // Wait until all 11 bytes are buffered (consuming none), then take 5.
    assert.equal((await a.recv(11, MSG_PEEK | MSG_WAITALL)).length, 11);
    const head = await a.recv(5);
    assert.equal(text(head), "hello");
    transferAway(head);
    await assert.rejects(
      a.recv(100),
      (e) => e instanceof TypeError && /transferred with 6 unread bytes/.test(e.message),
    );
    assert.equal((await a.recv(100)).length, 0);
  } finally {
    a.close(), b.close();
  }
});

Deno.test("a read pending into the transferred buffer: its receive fails with the TypeError, then end of stream, and nothing crashes", async () => {
  const [a, b] = await socketpair();
  try {
    await b.sendall("x");
    const first = await a.recv(100);
    const pending = a.recv(100); // reads into the rest of the same slab
    transferAway(first);
    await b.sendall("lost");
    await assert.rejects(
      pending,
      (e) => e instanceof TypeError && /transferred with 4 unread/.test(e.message),
    );
    assert.equal((await a.recv(100)).length, 0);
  } finally {
    a.close(), b.close();
  }
});

Deno.test("recvInto whose array's buffer is transferred while it waits: a TypeError naming the bytes that went with it, then end of stream (it resolved to the count, the bytes gone)", async () => {
  const [a, b] = await socketpair();
  try {
    const buf = new Uint8Array(8);
    const pending = a.recvInto(buf);
    transferAway(buf);
    await b.sendall("late");
    await assert.rejects(
      pending,
      (e) =>
        e instanceof TypeError &&
        /transferred while the read was pending, with 4 bytes/.test(e.message),
    );
    assert.equal((await a.recv(100)).length, 0);
  } finally {
    a.close(), b.close();
  }
});

Deno.test("UDP: transferring a datagram's buffer leaves the next datagrams whole", async () => {
  using server = socket(AF_INET, SOCK_DGRAM);
  using client = socket(AF_INET, SOCK_DGRAM);
  server.bind(["127.0.0.1", 0]);
  const addr = server.getsockname();
  await client.sendto("one", addr);
  const [one] = await server.recvfrom(100);
  assert.equal(text(one), "one");
  transferAway(one);
  for (const word of ["two", "three"]) {
    await client.sendto(bytes(word), addr);
    const [got] = await server.recvfrom(100);
    assert.equal(text(got), word);
  }
});
