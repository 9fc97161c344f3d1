// BytesIO, the in-memory file of DatagramRequestHandler: Python's io.BytesIO
// semantics, checked against CPython where they could differ.

import assert from "node:assert/strict";
import { BytesIO } from "../socketserver.ts";
import { OSError } from "../errors.ts";
import { bytes, text } from "./_helpers.ts";

Deno.test("BytesIO reads lines, sizes and the rest as Python's does", () => {
  const f = new BytesIO("one\ntwo\nthree");
  assert.equal(text(f.readline()), "one\n");
  assert.equal(text(f.readline(2)), "tw");
  assert.equal(text(f.readline()), "o\n");
  assert.equal(text(f.read(3)), "thr");
  assert.equal(text(f.read()), "ee");
  assert.equal(f.read().length, 0);
  assert.equal(f.readline().length, 0);
  assert.equal(f.tell(), 13);
});

Deno.test("BytesIO iterates and readlines by line, the last without a newline", () => {
  assert.deepEqual([...new BytesIO("a\nb\nc")].map(text), ["a\n", "b\n", "c"]);
  assert.deepEqual(new BytesIO("x\n\ny\n").readlines().map(text), ["x\n", "\n", "y\n"]);
  assert.deepEqual(new BytesIO().readlines(), []);
});

Deno.test("BytesIO copies what it is given and what it returns", () => {
  const source = bytes("abc");
  const f = new BytesIO(source);
  source[0] = 0x7a;
  const got = f.read();
  assert.equal(text(got), "abc");
  got[1] = 0x7a;
  assert.equal(text(f.getvalue()), "abc");
});

Deno.test("BytesIO writes at the position, overwriting and extending; a gap reads as zeros", () => {
  const f = new BytesIO();
  assert.equal(f.write("hello world"), 11);
  assert.equal(f.seek(6), 6);
  f.write("there, friend");
  assert.equal(text(f.getvalue()), "hello there, friend");
  f.seek(0, 2);
  assert.equal(f.tell(), 19);
  f.seek(2, 1);
  f.write(new Uint8Array([0x21]));
  assert.deepEqual([...f.getvalue().subarray(19)], [0, 0, 0x21]);
  // Many small writes keep every byte, in order.
  const g = new BytesIO();
  for (let i = 0; i < 1000; i++) g.write(new Uint8Array([i & 0xff]));
  assert.deepEqual([...g.getvalue()], Array.from({ length: 1000 }, (_, i) => i & 0xff));
});

Deno.test("BytesIO rejects bad arguments before touching its contents", () => {
  const f = new BytesIO("abc");
  assert.throws(() => f.seek(-1), RangeError);
  assert.throws(() => f.seek(0, 3 as 0), RangeError);
  // CPython: TypeError for a whence that is no integer, OverflowError for a huge offset.
  assert.throws(() => f.seek(0, "x" as never), TypeError);
  assert.throws(() => f.seek(1e300), RangeError);
  assert.throws(() => f.seek(1.5), TypeError);
  assert.throws(() => f.read(1.5), TypeError);
  assert.throws(() => f.read(-1.5), TypeError);
  assert.throws(() => f.readline("2" as unknown as number), TypeError);
  assert.throws(() => f.write(42 as unknown as string), TypeError);
  assert.equal(text(f.read()), "abc");
});

Deno.test("BytesIO fails every call once closed with EBADF", () => {
  const f = new BytesIO("abc");
  f.close();
  assert.equal(f.closed, true);
  for (const call of [() => f.read(), () => f.readline(), () => f.write("x"), () => f.getvalue()]) {
    assert.throws(call, (err: unknown) => err instanceof OSError && err.errno === 9);
  }
});
