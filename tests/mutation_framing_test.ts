// Framing edges the mutation audit of session 12 found no test for
// (_codec_streams.ts, _messages.ts): each test here fails when one behaviour-bearing spot
// is changed: the codec streams, and the message iterators over loopback.

import assert from "node:assert/strict";
import { DelimiterDecoderStream, LimitOverrunError, recvMsgBatches, recvMsgs } from "../framing.ts";
import { errno, OSError, socketpair } from "../mod.ts";
import { bytes, text } from "./_helpers.ts";

Deno.test("DelimiterDecoderStream hands out the segments before an over-long one in the same chunk, then errors", async () => {
  // asyncio's rule: the delimiter does not count, so 10 bytes fit a limit of 10.
  const input = ReadableStream.from([bytes("ok\n0123456789\n" + "x".repeat(20)), bytes("more\n")]);
  const reader = input.pipeThrough(new DelimiterDecoderStream("\n", { limit: 10 })).getReader();
  assert.equal(text((await reader.read()).value!), "ok");
  // A reader that takes its time: by now the stream has met the long segment.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(text((await reader.read()).value!), "0123456789");
  const err = await reader.read().then(() => null, (e) => e);
  assert.ok(err instanceof LimitOverrunError, String(err));
  assert.equal(err.message, "Separator is not found, and chunk exceed the limit");
});

Deno.test("DelimiterDecoderStream keeps its own delimiter and its own copy of a segment held across chunks", async () => {
  const delimiter = bytes("\n");
  const splitter = new DelimiterDecoderStream(delimiter);
  // The caller's arrays are its own again once handed over.
  delimiter[0] = 0x7c;
  const reader = splitter.readable.getReader();
  const writer = splitter.writable.getWriter();
  const first = reader.read();
  const chunk = bytes("ab|c");
  await writer.write(chunk);
  chunk.set(bytes("wxyz"));
  await writer.write(bytes("d\ne"));
  assert.equal(text((await first).value!), "ab|cd");
  const rest = reader.read();
  await writer.close();
  assert.equal(text((await rest).value!), "e");
  assert.equal((await reader.read()).done, true);
});

Deno.test("recvMsgs and recvMsgBatches are done after a next() that failed before any I/O", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  const bad = recvMsgs(a, { header: 3 as 4 });
  assert.ok(await bad.next().then(() => null, (e) => e) instanceof RangeError);
  assert.deepEqual(await bad.next(), { value: undefined, done: true });
  const messages = recvMsgs(b);
  const batches = recvMsgBatches(b);
  b.close();
  for (const iterator of [messages, batches]) {
    const err = await iterator.next().then(() => null, (e) => e);
    assert.ok(err instanceof OSError && err.errno === errno.EBADF, String(err));
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  }
});
