// StreamSocket.chunks() (_chunks.ts) over real sockets: every byte in order,
// the ownership rule (one buffer, read over by the next call), bytes read
// ahead by other readers first, timeouts that lose nothing, close, break,
// and the argument checks.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  errno,
  OSError,
  SHUT_WR,
  socket,
  socketpair,
  type StreamSocket,
  TimeoutError,
} from "../mod.ts";
import { recvExactly } from "../framing.ts";
import { bytes, text } from "./_helpers.ts";

/** `length` bytes counting up from `start`, modulo 251 (a prime: chunk edges never line up). */
function pattern(length: number, start = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) % 251);
}

async function pairOf(): Promise<[StreamSocket, StreamSocket] & AsyncDisposable> {
  const [a, b] = await socketpair();
  return Object.assign([a, b] as [StreamSocket, StreamSocket], {
    [Symbol.asyncDispose]() {
      a.close();
      b.close();
      return Promise.resolve();
    },
  });
}

Deno.test("chunks yields every byte of a 3 MiB stream in order, none longer than bufsize, then ends", async () => {
  await using sockets = await pairOf();
  const [a, b] = sockets;
  const wire = pattern(3 * 2 ** 20);
  const sending = a.sendall(wire).then(() => a.shutdown(SHUT_WR));
  let offset = 0;
  let longest = 0;
  for await (const chunk of b.chunks(10_000)) {
    longest = Math.max(longest, chunk.length);
    // Checked inside the loop body: the chunk is read over by the next turn.
    ok(chunk.every((byte, i) => byte === wire[offset + i]), `bytes at ${offset}`);
    offset += chunk.length;
  }
  await sending;
  equal(offset, wire.length);
  ok(longest <= 10_000 && longest > 0);
});

Deno.test("chunks hands out views of one buffer, which the next chunk reads over", async () => {
  await using sockets = await pairOf();
  const [a, b] = sockets;
  const chunks = b.chunks(16);
  await a.sendall("first");
  const first = await chunks.next();
  equal(text(first.value!), "first");
  const kept = first.value!.slice();
  await a.sendall("SECOND");
  const second = await chunks.next();
  equal(text(second.value!), "SECOND");
  // The documented rule: the same memory, so the first view now shows the new bytes.
  equal(first.value!.buffer, second.value!.buffer);
  equal(text(first.value!), "SECON");
  equal(text(kept), "first");
  await chunks.return?.();
});

Deno.test("chunks returns the bytes a framing reader read ahead first", async () => {
  await using sockets = await pairOf();
  const [a, b] = sockets;
  await a.sendall("head:rest of the stream");
  a.close();
  // recvExactly reads the whole segment into the socket's buffer and takes 5 bytes.
  equal(text(await recvExactly(b, 5)), "head:");
  const parts: string[] = [];
  for await (const chunk of b.chunks()) parts.push(text(chunk));
  equal(parts.join(""), "rest of the stream");
});

Deno.test("chunks with a timeout rejects with TimeoutError, ends, and a new chunks() gets the bytes", async () => {
  await using sockets = await pairOf();
  const [a, b] = sockets;
  b.settimeout(0.05);
  const chunks = b.chunks();
  await rejects(chunks.next(), TimeoutError);
  deepEqual(await chunks.next(), { value: undefined, done: true });
  await a.sendall("late");
  a.close();
  const parts: string[] = [];
  for await (const chunk of b.chunks()) parts.push(text(chunk));
  equal(parts.join(""), "late");
});

Deno.test("break out of chunks leaves the socket open and its next bytes to recv", async () => {
  await using sockets = await pairOf();
  const [a, b] = sockets;
  await a.sendall("one");
  for await (const chunk of b.chunks()) {
    equal(text(chunk), "one");
    break;
  }
  await a.sendall("two");
  equal(text(await b.recv(10)), "two");
});

Deno.test("return() while a next() waits: that next() still delivers the bytes it takes (they were dropped), then the iterator is done", async () => {
  await using sockets = await pairOf();
  const [a, b] = sockets;
  const it = b.chunks(100);
  const waiting = it.next();
  deepEqual(await it.return!(), { value: undefined, done: true });
  await a.sendall("taken");
  const got = await waiting;
  equal(got.done, false);
  equal(text(got.value!), "taken");
  deepEqual(await it.next(), { value: undefined, done: true });
  await a.sendall("later");
  equal(text(await b.recv(100)), "later");
});

Deno.test("a chunk waiting when the socket closes rejects with EBADF", async () => {
  await using sockets = await pairOf();
  const [, b] = sockets;
  const waiting = b.chunks().next();
  b.close();
  await rejects(waiting, (e) => e instanceof OSError && e.errno === errno.EBADF);
});

Deno.test("chunks on a closed or unconnected socket rejects on the first next()", async () => {
  await using sockets = await pairOf();
  const [a] = sockets;
  a.close();
  await rejects(a.chunks().next(), (e) => e instanceof OSError && e.errno === errno.EBADF);
  using fresh = socket();
  await rejects(fresh.chunks().next(), (e) => e instanceof OSError && e.errno === errno.ENOTCONN);
});

Deno.test("chunks checks bufsize before any I/O", async () => {
  await using sockets = await pairOf();
  const [a, b] = sockets;
  throws(() => b.chunks(0), RangeError);
  throws(() => b.chunks(-1), RangeError);
  throws(() => b.chunks(1.5), TypeError);
  throws(() => b.chunks("64" as unknown as number), TypeError);
  await a.sendall(bytes("still in step"));
  equal(text(await b.recv(100)), "still in step");
});
