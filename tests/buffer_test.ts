// The one read buffer (_buffer.ts) through its package API: every read
// primitive, end of stream, limits, the turn discipline (_turns.ts),
// timeouts, shutdown, read errors and the ref/unref of a kept read.
//
// Most tests drive the buffer from ScriptedSource, a real implementation of
// the buffer's Source interface whose reads resolve when the test pushes
// bytes, end of stream or an error; that makes every interleaving exact and
// repeatable. A few tests run it over real loopback TCP connections.

import assert from "node:assert/strict";
import { ReadBuffer, type Source } from "../_buffer.ts";
import type { Framing } from "../_framing_options.ts";
import {
  BlockingIOError,
  ConnectionResetError,
  errno,
  fromDenoError,
  IncompleteReadError,
  LimitOverrunError,
  MessageTooLargeError,
  OSError,
  TimeoutError,
} from "../errors.ts";
import { bytes, python } from "./_helpers.ts";

// ---------------------------------------------------------------------------
// The scripted source and the helpers the tests share.

/** One thing a scripted read can bring: bytes, end of stream (`null`) or an error. */
type Event = { data: Uint8Array } | null | { error: unknown };

/**
 * A Source whose reads are answered, in order, by what the test pushes: each
 * read gets one pushed chunk (or as much of it as fits; the rest stays for the
 * next read), like one TCP segment. End of stream stays: every later read
 * gets `null`, as from a `Deno.Conn`.
 */
class ScriptedSource implements Source {
  #events: Event[] = [];
  #pending: {
    target: Uint8Array;
    resolve: (n: number | null) => void;
    reject: (err: unknown) => void;
  } | null = null;
  /** How many reads the buffer started. */
  reads = 0;
  /** Every ref() and unref() call, in order. */
  readonly log: ("ref" | "unref")[] = [];

  read(p: Uint8Array): Promise<number | null> {
    // The buffer promises at most one pending read; a Deno.Conn would not
    // say, so the scripted source refuses a second one loudly.
    if (this.#pending !== null) throw new Error("a second read while one is pending");
    this.reads++;
    return new Promise((resolve, reject) => {
      this.#pending = { target: p, resolve, reject };
      this.#serve();
    });
  }

  ref(): void {
    this.log.push("ref");
  }

  unref(): void {
    this.log.push("unref");
  }

  /** Whether a read is pending, waiting for the test to push something. */
  get pendingRead(): boolean {
    return this.#pending !== null;
  }

  /** The array the pending read would fill, or `null`. */
  get pendingTarget(): Uint8Array | null {
    return this.#pending?.target ?? null;
  }

  /** How many pushed events no read has taken yet. */
  get queued(): number {
    return this.#events.length;
  }

  /** Queues bytes for the next read. */
  push(data: Uint8Array | string | number[]): void {
    const chunk = typeof data === "string"
      ? bytes(data)
      : data instanceof Uint8Array
      ? data
      : new Uint8Array(data);
    this.#events.push({ data: chunk });
    this.#serve();
  }

  /** Ends the stream: this read and every later one gets `null`. */
  end(): void {
    this.#events.push(null);
    this.#serve();
  }

  /** Makes the next read reject with `error`. */
  fail(error: unknown): void {
    this.#events.push({ error });
    this.#serve();
  }

  #serve(): void {
    const pending = this.#pending;
    if (pending === null || this.#events.length === 0) return;
    this.#pending = null;
    const event = this.#events[0];
    if (event === null) return pending.resolve(null);
    if ("error" in event) {
      this.#events.shift();
      return pending.reject(event.error);
    }
    const n = Math.min(pending.target.length, event.data.length);
    pending.target.set(event.data.subarray(0, n));
    if (n === event.data.length) this.#events.shift();
    else this.#events[0] = { data: event.data.subarray(n) };
    pending.resolve(n);
  }
}

/** What `translate` makes of a read error: the raw error and owner it was given. */
class Translated extends Error {
  constructor(readonly raw: unknown, readonly owner: unknown) {
    super("translated read error");
    this.name = "Translated";
  }
}

/** The owner every scripted buffer passes to `translate`. */
const OWNER = { what: "the socket that owns the buffer" };

/** A buffer over a fresh scripted source; `translations` records every call to `translate`. */
function scripted(): {
  source: ScriptedSource;
  buffer: ReadBuffer;
  translations: [unknown, unknown][];
} {
  const source = new ScriptedSource();
  const translations: [unknown, unknown][] = [];
  const buffer = new ReadBuffer(source, (err, owner) => {
    translations.push([err, owner]);
    return new Translated(err, owner);
  }, OWNER);
  return { source, buffer, translations };
}

/** Resolves once every callback already due, including those of a settled read, has run. */
function turnOfTheLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Marks a rejection of `promise` as handled now, so that the test may check it later. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

type Outcome<T> = { value: T } | { error: unknown } | "pending";

/**
 * Where `promise` stands once every callback already due has run. Scripted
 * reads settle in microtasks, so one macrotask later anything that can
 * settle without a timer has: a call that should have finished fails the
 * test instead of hanging it.
 */
async function outcome<T>(promise: Promise<T>): Promise<Outcome<T>> {
  let out: Outcome<T> = "pending";
  promise.then((value) => out = { value }, (error) => out = { error });
  await turnOfTheLoop();
  return out;
}

/** The value `promise` has resolved to (see {@linkcode outcome}). */
async function value<T>(promise: Promise<T>): Promise<T> {
  const out = await outcome(promise);
  if (out === "pending") assert.fail("the call is still pending");
  if ("error" in out) throw out.error;
  return out.value;
}

/** The error `promise` has rejected with (see {@linkcode outcome}). */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  const out = await outcome(promise);
  if (out === "pending") assert.fail("the call is still pending");
  if ("value" in out) assert.fail(`the call resolved with ${String(out.value)}`);
  return out.error;
}

/** Asserts that `promise` is still pending once every due callback has run. */
async function assertPending(promise: Promise<unknown>): Promise<void> {
  assert.equal(await outcome(promise), "pending");
}

/** The error a promise that must reject (on a timer or I/O) rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    const got = await promise;
    return assert.fail(`the call resolved with ${String(got)}`);
  } catch (err) {
    return err;
  }
}

/** Asserts that `err` is exactly a `Class` OSError with errno `code` and `message`. */
function assertOSError(
  err: unknown,
  Class: new (...args: never[]) => OSError,
  code: number | null,
  message: string,
): void {
  assert.ok(err instanceof Class, `expected ${Class.name}, got ${String(err)}`);
  assert.equal(err.constructor, Class);
  assert.equal(err.errno, code);
  assert.equal(err.message, message);
}

/** Asserts that `err` is the TimeoutError of a call that ran out of time. */
function assertTimeout(err: unknown): void {
  // Python's socket timeout: no errno, the message "timed out".
  assertOSError(err, TimeoutError, null, "timed out");
}

/** Asserts that `err` is the BlockingIOError of a call with timeout 0 that would wait. */
function assertBlocking(err: unknown): void {
  assertOSError(
    err,
    BlockingIOError,
    errno.EAGAIN,
    "[Errno 11] Resource temporarily unavailable",
  );
}

/** Asserts that `err` is an IncompleteReadError carrying exactly `partial` and `expected`. */
function assertIncomplete(err: unknown, partial: string, expected: number | null): void {
  assert.ok(err instanceof IncompleteReadError, `expected IncompleteReadError, got ${err}`);
  assert.deepEqual(err.partial, bytes(partial));
  assert.equal(err.expected, expected);
  assert.equal(
    err.message,
    `${bytes(partial).length} bytes read on a total of ${expected ?? "undefined"} expected bytes`,
  );
}

/** Asserts that `err` is a LimitOverrunError with exactly `message` and `consumed`. */
function assertOverrun(err: unknown, message: string, consumed: number): void {
  assert.ok(err instanceof LimitOverrunError, `expected LimitOverrunError, got ${err}`);
  assert.equal(err.message, message);
  assert.equal(err.consumed, consumed);
}

/** Asserts that `err` is what `translate` made of `raw`, with the buffer's owner. */
function assertTranslated(err: unknown, raw: unknown): void {
  assert.ok(err instanceof Translated, `expected the translated error, got ${err}`);
  assert.equal(err.raw, raw);
  assert.equal(err.owner, OWNER);
}

/** Pushes `data` and waits until the buffer holds it, consuming nothing. */
async function fill(source: ScriptedSource, buffer: ReadBuffer, data: string | number[]) {
  source.push(data);
  await value(buffer.peek(1, null));
  assert.equal(buffer.buffered, typeof data === "string" ? bytes(data).length : data.length);
}

/** `length` bytes of a deterministic pattern, so that a byte out of place shows. */
function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + (i >> 8)) % 251;
  return out;
}

/** A small deterministic generator of integers in [0, n). */
function prng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
}

/** Sizes of 1 byte to 64 KiB, in an order that makes reads both split and gather chunks. */
const CHUNK_SIZES = [1, 13, 512, 4096, 65536, 777, 2, 30000, 2047, 2048, 2049, 511, 65535];

/** `data` cut into chunks of {@linkcode CHUNK_SIZES}, in turn. */
function chunked(data: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = Math.min(CHUNK_SIZES[i % CHUNK_SIZES.length], data.length - at);
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

const MiB = 1 << 20;

/** Parses a 2-byte big-endian header, counting its calls in `context`. */
// Records with a 2-byte big-endian length, at most 1,000 bytes.
const SIZE16: Framing = { header: 2, littleEndian: false, maxMessage: 1000 };

// ---------------------------------------------------------------------------
// readSome

Deno.test("readSome returns at most max of the bytes one read brought, and the rest on the next call", async () => {
  const { source, buffer } = scripted();
  const first = buffer.readSome(5, null);
  await assertPending(first);
  source.push("hello world");
  assert.deepEqual(await value(first), bytes("hello"));
  assert.equal(buffer.buffered, 6);
  assert.deepEqual(await value(buffer.readSome(100, null)), bytes(" world"));
  assert.equal(buffer.buffered, 0);
  assert.equal(source.reads, 1);
});

// A ping-pong of messages that fill most of a read: each read must have room
// for a message as large as the last one, or the slab's leftover tail splits
// the next message across two recv()s (CPython's recv(4096) returns each
// whole; so did pysock only 7 times in 8 at 1,500 bytes).
Deno.test("readSome(4096) returns each 1,500-byte segment whole, message after message", async () => {
  const { source, buffer } = scripted();
  for (let i = 0; i < 20; i++) {
    const message = pattern(1500).map((b) => b ^ i);
    const got = buffer.readSome(4096, null);
    source.push(message);
    assert.deepEqual(await value(got), message, `message ${i}`);
  }
  assert.equal(source.reads, 20);
});

Deno.test("readSome returns an empty array at end of stream, and on every call after it", async () => {
  const { source, buffer } = scripted();
  const pending = buffer.readSome(10, null);
  source.end();
  assert.deepEqual(await value(pending), new Uint8Array(0));
  assert.deepEqual(await value(buffer.readSome(10, null)), new Uint8Array(0));
  assert.deepEqual(await value(buffer.readSome(10, 5)), new Uint8Array(0));
  assert.deepEqual(await value(buffer.readSome(10, 0)), new Uint8Array(0));
});

Deno.test("views returned by readSome, readExactly and readLine never change as later reads reuse and grow the buffer", async () => {
  const { source, buffer } = scripted();
  const data = pattern(600_000);
  for (const chunk of chunked(data)) source.push(chunk);
  const random = prng(7);
  const views: Uint8Array[] = [];
  let consumed = 0;
  while (consumed < data.length) {
    const avail = buffer.buffered;
    let got: Uint8Array;
    switch (avail === 0 ? 0 : 1 + random(4)) {
      case 0:
        got = await buffer.readSome(1 + random(70_000), null);
        break;
      case 1:
        got = await buffer.readSome(1 + random(avail), null);
        break;
      case 2:
        got = await buffer.readExactly(1 + random(avail), null);
        break;
      case 3:
        got = await buffer.readLine(1 + random(avail), null);
        break;
      default: {
        // A copy out of the buffer, so that the buffer may move what is left.
        const into = new Uint8Array(1 + random(avail));
        got = into.subarray(0, await buffer.readInto(into, null));
      }
    }
    assert.notEqual(got.length, 0);
    views.push(got);
    consumed += got.length;
  }
  // Checked only now, after every later read had its chance to overwrite them.
  let at = 0;
  for (const view of views) {
    assert.deepEqual(view, data.subarray(at, at + view.length));
    at += view.length;
  }
  assert.equal(at, data.length);
  assert.equal(buffer.buffered, 0);
  assert.equal(source.queued, 0);
});

// ---------------------------------------------------------------------------
// readInto

Deno.test("readInto fills the array from the buffered bytes and leaves the rest for the next call", async () => {
  const { source, buffer } = scripted();
  await fill(source, buffer, "abcdef");
  const into = new Uint8Array(4);
  assert.equal(await value(buffer.readInto(into, null)), 4);
  assert.deepEqual(into, bytes("abcd"));
  const rest = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  assert.equal(await value(buffer.readInto(rest, null)), 2);
  assert.deepEqual(rest, new Uint8Array([0x65, 0x66, 0xff, 0xff]));
  assert.equal(buffer.buffered, 0);
});

Deno.test("readInto with nothing buffered waits for one read and returns its count", async () => {
  const { source, buffer } = scripted();
  const into = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  const count = buffer.readInto(into, null);
  await assertPending(count);
  source.push("xy");
  assert.equal(await value(count), 2);
  assert.deepEqual(into, new Uint8Array([0x78, 0x79, 0xff, 0xff]));
  assert.equal(buffer.buffered, 0);
  // With a deadline the read goes through the buffer; the result is the same.
  const timed = buffer.readInto(into, 5);
  await assertPending(timed);
  source.push("z");
  assert.equal(await value(timed), 1);
  assert.deepEqual(into, new Uint8Array([0x7a, 0x79, 0xff, 0xff]));
});

Deno.test("readInto returns 0 at end of stream, with or without a timeout", async () => {
  const { source, buffer } = scripted();
  const into = new Uint8Array(4);
  const count = buffer.readInto(into, null);
  source.end();
  assert.equal(await value(count), 0);
  assert.equal(await value(buffer.readInto(into, null)), 0);
  assert.equal(await value(buffer.readInto(into, 5)), 0);
  assert.deepEqual(into, new Uint8Array(4));
});

// ---------------------------------------------------------------------------
// peek

Deno.test("peek returns up to max buffered bytes without consuming them or waiting for more", async () => {
  const { source, buffer } = scripted();
  source.push("hello");
  assert.deepEqual(await value(buffer.peek(3, null)), bytes("hel"));
  assert.equal(buffer.buffered, 5);
  assert.deepEqual(await value(buffer.peek(10, null)), bytes("hello"));
  assert.equal(buffer.buffered, 5);
  assert.deepEqual(await value(buffer.readSome(10, null)), bytes("hello"));
});

Deno.test("peek returns a copy: changing it changes nothing read later", async () => {
  const { source, buffer } = scripted();
  source.push("hello");
  const peeked = await value(buffer.peek(5, null));
  peeked.fill(0);
  const got = await value(buffer.readSome(5, null));
  assert.deepEqual(got, bytes("hello"));
  assert.notEqual(peeked.buffer, got.buffer);
});

Deno.test("peek waits for a byte when nothing is buffered and returns an empty array at end of stream", async () => {
  const { source, buffer } = scripted();
  const peeked = buffer.peek(4, null);
  await assertPending(peeked);
  source.end();
  assert.deepEqual(await value(peeked), new Uint8Array(0));
});

// ---------------------------------------------------------------------------
// readExactly

Deno.test("readExactly waits until all n bytes are there and returns exactly them", async () => {
  const { source, buffer } = scripted();
  const five = buffer.readExactly(5, null);
  source.push("ab");
  await assertPending(five);
  assert.equal(buffer.buffered, 2);
  source.push("cdef");
  assert.deepEqual(await value(five), bytes("abcde"));
  assert.equal(buffer.buffered, 1);
  assert.deepEqual(await value(buffer.readExactly(0, null)), new Uint8Array(0));
  assert.deepEqual(await value(buffer.readExactly(1, null)), bytes("f"));
});

Deno.test("readExactly at end of stream throws IncompleteReadError with the partial bytes and the count expected", async () => {
  const { source, buffer } = scripted();
  const ten = buffer.readExactly(10, null);
  source.push("abc");
  source.end();
  assertIncomplete(await failure(ten), "abc", 10);
  assert.equal(buffer.buffered, 0);
  assertIncomplete(await failure(buffer.readExactly(1, null)), "", 1);
});

Deno.test("readExactly of 1 MiB from a source giving chunks of 1 byte to 64 KiB returns every byte in order", async () => {
  const { source, buffer } = scripted();
  const data = pattern(MiB);
  for (const chunk of chunked(data)) source.push(chunk);
  source.push("tail");
  const got = await value(buffer.readExactly(MiB, null));
  assert.equal(got.length, MiB);
  assert.deepEqual(got, data);
  assert.deepEqual(await value(buffer.readSome(10, null)), bytes("tail"));
  // The 1 MiB view stays as it was once the buffer reads on.
  source.push(pattern(70_000));
  assert.deepEqual(await value(buffer.readExactly(70_000, null)), pattern(70_000));
  assert.deepEqual(got, data);
});

Deno.test("a readExactly that times out consumes nothing, and the next call returns the bytes that arrive later", async () => {
  const { source, buffer } = scripted();
  source.push("ab");
  assertTimeout(await rejection(buffer.readExactly(4, 0.05)));
  assert.equal(buffer.buffered, 2);
  source.push("cd");
  assert.deepEqual(await value(buffer.readExactly(4, null)), bytes("abcd"));
  assert.equal(source.reads, 2);
});

// ---------------------------------------------------------------------------
// readAll

Deno.test("readAll returns every byte up to end of stream, then empty arrays", async () => {
  const { source, buffer } = scripted();
  const all = buffer.readAll(null);
  source.push("ab");
  source.push("cd");
  await assertPending(all);
  source.push("ef");
  source.end();
  assert.deepEqual(await value(all), bytes("abcdef"));
  assert.deepEqual(await value(buffer.readAll(null)), new Uint8Array(0));
});

Deno.test("readAll of 1 MiB in chunks of 1 byte to 64 KiB returns every byte in order", async () => {
  const { source, buffer } = scripted();
  const data = pattern(MiB + 3);
  for (const chunk of chunked(data)) source.push(chunk);
  source.end();
  assert.deepEqual(await value(buffer.readAll(null)), data);
});

Deno.test("a readAll that times out loses nothing: the next readAll returns every byte", async () => {
  const { source, buffer } = scripted();
  source.push("abc");
  assertTimeout(await rejection(buffer.readAll(0.05)));
  assert.equal(buffer.buffered, 3);
  source.push("def");
  source.end();
  assert.deepEqual(await value(buffer.readAll(null)), bytes("abcdef"));
});

// ---------------------------------------------------------------------------
// readPrefixed

Deno.test("readPrefixed returns one record's payload and leaves the next record buffered", async () => {
  const { source, buffer } = scripted();
  source.push([0, 3, 0x61, 0x62, 0x63, 0, 2, 0x64, 0x65, 0, 0]);
  assert.deepEqual(await value(buffer.readPrefixed(SIZE16, null)), bytes("abc"));
  assert.equal(buffer.buffered, 6);
  // Already buffered: served at once.
  assert.deepEqual(await value(buffer.readPrefixed(SIZE16, null)), bytes("de"));
  assert.deepEqual(await value(buffer.readPrefixed(SIZE16, null)), new Uint8Array(0));
  assert.equal(buffer.buffered, 0);
});

Deno.test("readPrefixed waits for a record split across reads", async () => {
  const { source, buffer } = scripted();
  const record = buffer.readPrefixed(SIZE16, null);
  source.push([0]);
  await assertPending(record);
  source.push([3, 0x61]);
  await assertPending(record);
  source.push([0x62, 0x63, 0x7a]);
  assert.deepEqual(await value(record), bytes("abc"));
  assert.equal(buffer.buffered, 1);
});

Deno.test("readPrefixed returns null at end of stream before a header", async () => {
  const { source, buffer } = scripted();
  const record = buffer.readPrefixed(SIZE16, null);
  source.end();
  assert.equal(await value(record), null);
  assert.equal(await value(buffer.readPrefixed(SIZE16, null)), null);
});

Deno.test("readPrefixed at end of stream inside the header throws IncompleteReadError with the header bytes so far", async () => {
  const { source, buffer } = scripted();
  const record = buffer.readPrefixed({ ...SIZE16, header: 4 }, null);
  source.push([0, 0, 1]);
  source.end();
  const err = await failure(record);
  assert.ok(err instanceof IncompleteReadError);
  assert.deepEqual(err.partial, new Uint8Array([0, 0, 1]));
  assert.equal(err.expected, 4);
  assert.equal(buffer.buffered, 0);
});

Deno.test("readPrefixed at end of stream inside the payload throws IncompleteReadError with the payload so far and its size", async () => {
  const { source, buffer } = scripted();
  const record = buffer.readPrefixed(SIZE16, null);
  source.push([0, 5, 0x61, 0x62]);
  source.end();
  assertIncomplete(await failure(record), "ab", 5);
  assert.equal(buffer.buffered, 0);
  assert.equal(await value(buffer.readPrefixed(SIZE16, null)), null);
});

Deno.test("a readPrefixed that times out consumes nothing, and the next call returns the whole record", async () => {
  const { source, buffer } = scripted();
  source.push([0]);
  assertTimeout(await rejection(buffer.readPrefixed(SIZE16, 0.05)));
  assert.equal(buffer.buffered, 1);
  source.push([4, 0x61]);
  assertTimeout(await rejection(buffer.readPrefixed(SIZE16, 0.05)));
  assert.equal(buffer.buffered, 3);
  source.push([0x62, 0x63, 0x64]);
  assert.deepEqual(await value(buffer.readPrefixed(SIZE16, null)), bytes("abcd"));
  assert.equal(buffer.buffered, 0);
});

Deno.test("a header over maxMessage: readPrefixed rejects with MessageTooLargeError and the header is consumed", async () => {
  const tooLarge = (err: unknown) => {
    assert.ok(err instanceof MessageTooLargeError);
    assert.equal(err.size, 0x0909);
    assert.equal(err.maxMessage, 1000);
  };
  // The header was buffered before the call.
  {
    const { source, buffer } = scripted();
    await fill(source, buffer, [9, 9, 0x78, 0x79]);
    tooLarge(await failure(buffer.readPrefixed(SIZE16, null)));
    assert.equal(buffer.buffered, 2);
    assert.deepEqual(await value(buffer.readSome(10, null)), bytes("xy"));
  }
  // The header arrived while the call waited.
  {
    const { source, buffer } = scripted();
    const record = buffer.readPrefixed(SIZE16, null);
    await assertPending(record);
    source.push([9, 9, 0x78, 0x79]);
    tooLarge(await failure(record));
    assert.equal(buffer.buffered, 2);
    assert.deepEqual(await value(buffer.readSome(10, null)), bytes("xy"));
  }
});

// ---------------------------------------------------------------------------
// readUntil

Deno.test("readUntil returns the bytes up to and including the delimiter and leaves the rest", async () => {
  const { source, buffer } = scripted();
  source.push("GET / HTTP/1.0\r\nHost");
  assert.deepEqual(
    await value(buffer.readUntil(bytes("\r\n"), 100, null)),
    bytes("GET / HTTP/1.0\r\n"),
  );
  assert.equal(buffer.buffered, 4);
  assert.deepEqual(await value(buffer.readSome(10, null)), bytes("Host"));
});

Deno.test("readUntil finds a delimiter split across two reads", async () => {
  const { source, buffer } = scripted();
  const line = buffer.readUntil(bytes("\r\n"), 100, null);
  source.push("ab\r");
  await assertPending(line);
  source.push("\ncd");
  assert.deepEqual(await value(line), bytes("ab\r\n"));
  assert.equal(buffer.buffered, 2);
});

Deno.test("readUntil allows exactly limit bytes before the delimiter", async () => {
  const { source, buffer } = scripted();
  source.push("abcd\nefgh");
  assert.deepEqual(await value(buffer.readUntil(bytes("\n"), 4, null)), bytes("abcd\n"));
  // Four bytes searched and none is the delimiter: it may still come next.
  const next = buffer.readUntil(bytes("\n"), 4, null);
  await assertPending(next);
  source.push("\n");
  assert.deepEqual(await value(next), bytes("efgh\n"));
});

Deno.test("readUntil throws LimitOverrunError when no delimiter comes within the limit, and the bytes stay readable", async () => {
  const { source, buffer } = scripted();
  source.push("abcdef");
  assertOverrun(
    await failure(buffer.readUntil(bytes("\n"), 4, null)),
    "Separator is not found, and chunk exceed the limit",
    6,
  );
  assert.equal(buffer.buffered, 6);
  assert.deepEqual(await value(buffer.readSome(10, null)), bytes("abcdef"));
});

Deno.test("readUntil throws LimitOverrunError when the delimiter comes after more than limit bytes, and the bytes stay readable", async () => {
  const { source, buffer } = scripted();
  source.push("abcdef\nxyz");
  assertOverrun(
    await failure(buffer.readUntil(bytes("\n"), 4, null)),
    "Separator is found, but chunk is longer than limit",
    6,
  );
  assert.equal(buffer.buffered, 10);
  assert.deepEqual(await value(buffer.readUntil(bytes("\n"), 6, null)), bytes("abcdef\n"));
});

Deno.test("readUntil with a two-byte delimiter counts a delimiter that may start in the last byte as within the limit", async () => {
  const { source, buffer } = scripted();
  const line = buffer.readUntil(bytes("\r\n"), 4, null);
  source.push("abcde");
  // Searched up to offset 4 (asyncio's buflen + 1 - seplen): not past the limit yet.
  await assertPending(line);
  source.push("f");
  assertOverrun(await failure(line), "Separator is not found, and chunk exceed the limit", 5);
  assert.equal(buffer.buffered, 6);
});

Deno.test("readUntil at end of stream throws IncompleteReadError with every byte read and expected null", async () => {
  const { source, buffer } = scripted();
  const line = buffer.readUntil(bytes("\n"), 100, null);
  source.push("abc");
  source.end();
  assertIncomplete(await failure(line), "abc", null);
  assert.equal(buffer.buffered, 0);
  assertIncomplete(await failure(buffer.readUntil(bytes("\n"), 100, null)), "", null);
});

Deno.test("a readUntil that times out consumes nothing, and the next call returns the line once its delimiter arrives", async () => {
  const { source, buffer } = scripted();
  source.push("ab");
  assertTimeout(await rejection(buffer.readUntil(bytes("\n"), 100, 0.05)));
  assert.equal(buffer.buffered, 2);
  source.push("c\nd");
  assert.deepEqual(await value(buffer.readUntil(bytes("\n"), 100, null)), bytes("abc\n"));
  assert.equal(buffer.buffered, 1);
});

// ---------------------------------------------------------------------------
// readLine

Deno.test("readLine returns one line at a time, newline included, waiting for the rest of a line", async () => {
  const { source, buffer } = scripted();
  source.push("one\ntwo\nthr");
  assert.deepEqual(await value(buffer.readLine(100, null)), bytes("one\n"));
  assert.deepEqual(await value(buffer.readLine(100, null)), bytes("two\n"));
  const third = buffer.readLine(100, null);
  await assertPending(third);
  source.push("ee\nfour");
  assert.deepEqual(await value(third), bytes("three\n"));
  assert.equal(buffer.buffered, 4);
});

Deno.test("readLine returns max bytes when no newline comes within them", async () => {
  const { source, buffer } = scripted();
  source.push("abcdef\nab\n");
  assert.deepEqual(await value(buffer.readLine(3, null)), bytes("abc"));
  assert.deepEqual(await value(buffer.readLine(4, null)), bytes("def\n"));
  assert.deepEqual(await value(buffer.readLine(3, null)), bytes("ab\n"));
  // Exactly max bytes and no newline: no wait for more.
  await fill(source, buffer, "uvw");
  assert.deepEqual(await value(buffer.readLine(3, null)), bytes("uvw"));
  // Two bytes and no newline yet, with max 3: it waits for the third.
  const line = buffer.readLine(3, null);
  source.push("xy");
  await assertPending(line);
  source.push("z\n");
  assert.deepEqual(await value(line), bytes("xyz"));
  assert.deepEqual(await value(buffer.readLine(3, null)), bytes("\n"));
});

Deno.test("readLine returns what is left at end of stream, then empty arrays", async () => {
  const { source, buffer } = scripted();
  const line = buffer.readLine(100, null);
  source.push("tail");
  await assertPending(line);
  source.end();
  assert.deepEqual(await value(line), bytes("tail"));
  assert.deepEqual(await value(buffer.readLine(100, null)), new Uint8Array(0));
  assert.deepEqual(await value(buffer.readLine(100, null)), new Uint8Array(0));
});

Deno.test("a readLine that times out loses nothing: the next call returns the whole line", async () => {
  const { source, buffer } = scripted();
  source.push("par");
  assertTimeout(await rejection(buffer.readLine(100, 0.05)));
  assert.equal(buffer.buffered, 3);
  source.push("tial\n");
  assert.deepEqual(await value(buffer.readLine(100, null)), bytes("partial\n"));
});

// ---------------------------------------------------------------------------
// The turn discipline

Deno.test("calls made without awaiting are served whole and in call order", async () => {
  const { source, buffer } = scripted();
  const three = buffer.readExactly(3, null);
  const some = buffer.readSome(10, null);
  const two = buffer.readExactly(2, null);
  const line = buffer.readLine(100, null);
  source.push("ab");
  for (const call of [three, some, two, line]) await assertPending(call);
  source.push("cde");
  assert.deepEqual(await value(three), bytes("abc"));
  assert.deepEqual(await value(some), bytes("de"));
  await assertPending(two);
  source.push("fgh\n");
  assert.deepEqual(await value(two), bytes("fg"));
  assert.deepEqual(await value(line), bytes("h\n"));
  assert.equal(buffer.buffered, 0);
});

Deno.test("a readSome made while another call waits does not take the bytes buffered for that call", async () => {
  const { source, buffer } = scripted();
  const five = buffer.readExactly(5, null);
  source.push("abc");
  const some = buffer.readSome(10, null);
  await assertPending(five);
  await assertPending(some);
  source.push("defgh");
  assert.deepEqual(await value(five), bytes("abcde"));
  assert.deepEqual(await value(some), bytes("fgh"));
});

Deno.test("a readPrefixed made while another call waits queues, even with a whole record buffered", async () => {
  const { source, buffer } = scripted();
  const four = buffer.readExactly(4, null);
  source.push([0, 1, 0x78]);
  const record = buffer.readPrefixed(SIZE16, null);
  await assertPending(four);
  await assertPending(record);
  source.push([0x79, 0, 1, 0x7a]);
  assert.deepEqual(await value(four), new Uint8Array([0, 1, 0x78, 0x79]));
  assert.deepEqual(await value(record), bytes("z"));
});

Deno.test("readInto reading straight into its array still holds the turn: a readSome after it gets the next bytes", async () => {
  const { source, buffer } = scripted();
  const into = new Uint8Array(8);
  const count = buffer.readInto(into, null);
  const some = buffer.readSome(8, null);
  source.push("ab");
  assert.equal(await value(count), 2);
  assert.deepEqual(into.subarray(0, 2), bytes("ab"));
  await assertPending(some);
  source.push("cd");
  assert.deepEqual(await value(some), bytes("cd"));
});

Deno.test("a call that times out waiting for its turn leaves the queue, and the calls after it still get theirs", async () => {
  const { source, buffer } = scripted();
  const three = buffer.readExactly(3, null);
  const impatient = buffer.readSome(10, 0.05);
  const patient = buffer.readSome(10, null);
  assertTimeout(await rejection(impatient));
  await assertPending(three);
  source.push("abcxyz");
  assert.deepEqual(await value(three), bytes("abc"));
  assert.deepEqual(await value(patient), bytes("xyz"));
});

Deno.test("with timeout 0, a call that would wait for its turn fails at once with BlockingIOError", async () => {
  const { source, buffer } = scripted();
  const three = buffer.readExactly(3, null);
  const calls = [
    buffer.readSome(10, 0),
    buffer.readInto(new Uint8Array(4), 0),
    buffer.peek(10, 0),
    buffer.readExactly(1, 0),
    buffer.readAll(0),
    buffer.readPrefixed(SIZE16, 0),
    buffer.readUntil(bytes("\n"), 10, 0),
    buffer.readLine(10, 0),
  ];
  for (const err of await Promise.all(calls.map(failure))) assertBlocking(err);
  source.push("abc");
  assert.deepEqual(await value(three), bytes("abc"));
});

Deno.test("with timeout 0, a call that would wait for bytes fails with BlockingIOError and loses nothing", async () => {
  const { source, buffer } = scripted();
  assertBlocking(await rejection(buffer.readSome(10, 0)));
  // The read it started stays pending; what it brings is there for the next call.
  assert.equal(source.pendingRead, true);
  source.push("ab");
  assertBlocking(await rejection(buffer.readExactly(3, 0)));
  assert.equal(buffer.buffered, 2);
  assert.deepEqual(await value(buffer.readSome(10, 0)), bytes("ab"));
  source.push("cd");
  assert.deepEqual(await value(buffer.readSome(10, 0)), bytes("cd"));
  // Bytes the source has ready for a new read are returned without blocking.
  assert.equal(source.pendingRead, false);
  source.push("ef");
  assert.deepEqual(await value(buffer.readSome(10, 0)), bytes("ef"));
});

Deno.test("a call queued behind one that times out on its bytes takes the turn and gets the bytes that arrive later", async () => {
  const { source, buffer } = scripted();
  const five = buffer.readExactly(5, 0.05);
  const some = buffer.readSome(10, null);
  assertTimeout(await rejection(five));
  await assertPending(some);
  source.push("abc");
  assert.deepEqual(await value(some), bytes("abc"));
  // Both calls waited on the one read.
  assert.equal(source.reads, 1);
});

Deno.test("a readSome that times out leaves its read pending, and the next call returns what it brings", async () => {
  const { source, buffer } = scripted();
  assertTimeout(await rejection(buffer.readSome(10, 0.05)));
  assert.equal(source.pendingRead, true);
  source.push("late");
  await turnOfTheLoop();
  assert.equal(buffer.buffered, 4);
  assert.deepEqual(await value(buffer.readSome(10, null)), bytes("late"));
  assert.equal(source.reads, 1);
});

// ---------------------------------------------------------------------------
// shutdown

Deno.test("shutdown wakes a waiting readSome with an empty array at once, and the call queued behind it with end of stream", async () => {
  const { source, buffer } = scripted();
  const some = buffer.readSome(10, null);
  const three = buffer.readExactly(3, null);
  await assertPending(some);
  await assertPending(three);
  buffer.shutdown();
  assert.deepEqual(await value(some), new Uint8Array(0));
  assertIncomplete(await failure(three), "", 3);
  // The read stays pending (Deno cannot cancel it); what it brings is dropped.
  assert.equal(source.pendingRead, true);
  source.push("late");
  await turnOfTheLoop();
  assert.equal(source.pendingRead, false);
  assert.equal(buffer.buffered, 0);
  assert.deepEqual(await value(buffer.readSome(10, null)), new Uint8Array(0));
});

Deno.test("shutdown wakes a waiting readInto with 0 at once", async () => {
  // Reading straight into the caller's array.
  {
    const { buffer } = scripted();
    const count = buffer.readInto(new Uint8Array(4), null);
    await assertPending(count);
    buffer.shutdown();
    assert.equal(await value(count), 0);
  }
  // Reading into the buffer, with a deadline.
  {
    const { buffer } = scripted();
    const count = buffer.readInto(new Uint8Array(4), 5);
    await assertPending(count);
    buffer.shutdown();
    assert.equal(await value(count), 0);
  }
});

Deno.test("shutdown wakes a waiting readExactly with IncompleteReadError and drops its partial bytes", async () => {
  const { source, buffer } = scripted();
  const five = buffer.readExactly(5, 5);
  source.push("ab");
  await assertPending(five);
  buffer.shutdown();
  assertIncomplete(await failure(five), "", 5);
  assert.equal(buffer.buffered, 0);
});

Deno.test("after shutdown every read sees end of stream and the buffered bytes are dropped", async () => {
  const { source, buffer } = scripted();
  source.push("abc");
  assertTimeout(await rejection(buffer.readExactly(5, 0.05)));
  assert.equal(buffer.buffered, 3);
  buffer.shutdown();
  assert.equal(buffer.buffered, 0);
  source.push("late");
  await turnOfTheLoop();
  assert.equal(source.pendingRead, false);
  assert.equal(buffer.buffered, 0);
  assert.deepEqual(await value(buffer.readSome(10, null)), new Uint8Array(0));
  assert.equal(await value(buffer.readInto(new Uint8Array(4), null)), 0);
  assert.deepEqual(await value(buffer.peek(10, null)), new Uint8Array(0));
  assertIncomplete(await failure(buffer.readExactly(1, null)), "", 1);
  assert.deepEqual(await value(buffer.readAll(null)), new Uint8Array(0));
  assert.equal(await value(buffer.readPrefixed(SIZE16, null)), null);
  assertIncomplete(await failure(buffer.readUntil(bytes("\n"), 10, null)), "", null);
  assert.deepEqual(await value(buffer.readLine(10, null)), new Uint8Array(0));
  assert.equal(source.reads, 2);
});

// ---------------------------------------------------------------------------
// Read errors

Deno.test("a read error passes through translate once, with the owner, and the stream then reads as ended", async () => {
  const { source, buffer, translations } = scripted();
  const raw = new Error("the source failed");
  const some = buffer.readSome(10, null);
  source.fail(raw);
  assertTranslated(await failure(some), raw);
  assert.deepEqual(translations, [[raw, OWNER]]);
  assert.deepEqual(await value(buffer.readSome(10, null)), new Uint8Array(0));
  assertIncomplete(await failure(buffer.readExactly(1, null)), "", 1);
  assert.deepEqual(await value(buffer.readLine(10, null)), new Uint8Array(0));
  assert.equal(translations.length, 1);
  assert.equal(source.reads, 1);
});

Deno.test("bytes buffered before a read error are returned by readSome after the error is reported", async () => {
  const { source, buffer, translations } = scripted();
  const raw = new Error("reset");
  const five = buffer.readExactly(5, null);
  source.push("abc");
  await assertPending(five);
  source.fail(raw);
  assertTranslated(await failure(five), raw);
  assert.equal(buffer.buffered, 3);
  assert.deepEqual(await value(buffer.readSome(10, null)), bytes("abc"));
  assert.deepEqual(await value(buffer.readSome(10, null)), new Uint8Array(0));
  assert.equal(translations.length, 1);
});

Deno.test("when a kept read fails while nobody waits, readSome returns the buffered bytes first, then the error, then end of stream", async () => {
  const { source, buffer, translations } = scripted();
  const raw = new Error("reset");
  source.push("abc");
  assertTimeout(await rejection(buffer.readExactly(5, 0.05)));
  source.fail(raw);
  await turnOfTheLoop();
  assert.equal(source.pendingRead, false);
  assert.equal(translations.length, 0);
  assert.deepEqual(await value(buffer.readSome(10, null)), bytes("abc"));
  assertTranslated(await failure(buffer.readSome(10, null)), raw);
  assert.deepEqual(await value(buffer.readSome(10, null)), new Uint8Array(0));
  assert.deepEqual(translations, [[raw, OWNER]]);
});

Deno.test("readInto reports a read error through translate, then returns 0", async () => {
  const { source, buffer, translations } = scripted();
  const raw = new Error("reset");
  const into = new Uint8Array(4);
  const count = buffer.readInto(into, null);
  source.fail(raw);
  assertTranslated(await failure(count), raw);
  assert.equal(await value(buffer.readInto(into, null)), 0);
  assert.equal(translations.length, 1);
});

Deno.test("readUntil, readPrefixed and readAll report a read error, and the bytes stay for the call after it", async () => {
  const raw = new Error("reset");
  {
    const { source, buffer } = scripted();
    const line = buffer.readUntil(bytes("\n"), 100, null);
    source.push("ab");
    await assertPending(line);
    source.fail(raw);
    assertTranslated(await failure(line), raw);
    assertIncomplete(await failure(buffer.readUntil(bytes("\n"), 100, null)), "ab", null);
  }
  {
    const { source, buffer } = scripted();
    const record = buffer.readPrefixed(SIZE16, null);
    source.push([0, 4, 0x61]);
    await assertPending(record);
    source.fail(raw);
    assertTranslated(await failure(record), raw);
    assert.equal(buffer.buffered, 3);
    assertIncomplete(
      await failure(buffer.readPrefixed(SIZE16, null)),
      "a",
      4,
    );
  }
  {
    const { source, buffer } = scripted();
    const all = buffer.readAll(null);
    source.push("ab");
    await assertPending(all);
    source.fail(raw);
    assertTranslated(await failure(all), raw);
    assert.deepEqual(await value(buffer.readAll(null)), bytes("ab"));
  }
});

Deno.test("when a kept read fails while nobody waits, readLine returns the last bytes before the error, then the error, then end of stream", async () => {
  const { source, buffer, translations } = scripted();
  const raw = new Error("reset");
  source.push("ab");
  assertTimeout(await rejection(buffer.readLine(100, 0.05)));
  source.fail(raw);
  await turnOfTheLoop();
  assert.equal(source.pendingRead, false);
  assert.deepEqual(await value(buffer.readLine(100, null)), bytes("ab"));
  assertTranslated(await failure(buffer.readLine(100, null)), raw);
  assert.deepEqual(await value(buffer.readLine(100, null)), new Uint8Array(0));
  assert.equal(translations.length, 1);
});

Deno.test({
  name:
    "a readLine waiting on a partial line returns the last bytes before a read error, then the error, then end of stream",

  async fn() {
    const { source, buffer, translations } = scripted();
    const raw = new Error("reset");
    const line = buffer.readLine(100, null);
    source.push("ab");
    await assertPending(line);
    source.fail(raw);
    assert.deepEqual(await value(line), bytes("ab"));
    assertTranslated(await failure(buffer.readLine(100, null)), raw);
    assert.deepEqual(await value(buffer.readLine(100, null)), new Uint8Array(0));
    assert.equal(translations.length, 1);
  },
});

Deno.test("an EBADF error is reported to every waiting call and to every call after it, and drops the buffered bytes", async () => {
  const source = new ScriptedSource();
  let translated = 0;
  const buffer = new ReadBuffer(source, () => {
    translated++;
    return new OSError(errno.EBADF);
  });
  const five = buffer.readExactly(5, null);
  const some = buffer.readSome(10, null);
  source.push("ab");
  await assertPending(five);
  source.fail(new Error("closed"));
  const calls = [five, some, buffer.readSome(10, null), buffer.readLine(10, null)];
  for (const err of await Promise.all(calls.map(failure))) {
    assertOSError(err, OSError, errno.EBADF, "[Errno 9] Bad file descriptor");
  }
  assert.equal(buffer.buffered, 0);
  assert.equal(translated, 4);
});

// ---------------------------------------------------------------------------
// ref and unref of a kept read

Deno.test("a read left pending by a timed-out call is unref'd while nobody waits and ref'd again when a call waits", async () => {
  const { source, buffer } = scripted();
  assertTimeout(await rejection(buffer.readSome(10, 0.05)));
  assert.deepEqual(source.log, ["unref"]);
  assertTimeout(await rejection(buffer.readExactly(1, 0.05)));
  assert.deepEqual(source.log, ["unref", "ref", "unref"]);
  const some = buffer.readSome(10, null);
  await assertPending(some);
  assert.deepEqual(source.log, ["unref", "ref", "unref", "ref"]);
  source.push("abc");
  assert.deepEqual(await value(some), bytes("abc"));
  // The read landed with its caller waiting: nothing left to unref.
  assert.deepEqual(source.log, ["unref", "ref", "unref", "ref"]);
  // A read with its caller waiting from the start is never unref'd.
  const next = buffer.readSome(10, null);
  source.push("d");
  assert.deepEqual(await value(next), bytes("d"));
  assert.deepEqual(source.log, ["unref", "ref", "unref", "ref"]);
  assert.equal(source.reads, 2);
});

Deno.test("a kept read that lands while nobody waits leaves the source unref'd until a call waits again", async () => {
  const { source, buffer } = scripted();
  assertTimeout(await rejection(buffer.readSome(10, 0.05)));
  source.push("ab");
  await turnOfTheLoop();
  assert.equal(buffer.buffered, 2);
  assert.deepEqual(source.log, ["unref"]);
  // Buffered bytes need no wait: no ref.
  assert.deepEqual(await value(buffer.readSome(10, null)), bytes("ab"));
  assert.deepEqual(source.log, ["unref"]);
  // The next wait starts a new read and refs the source for it.
  const some = buffer.readSome(10, null);
  await assertPending(some);
  assert.deepEqual(source.log, ["unref", "ref"]);
  source.push("c");
  assert.deepEqual(await value(some), bytes("c"));
  assert.equal(source.reads, 2);
});

Deno.test("shutdown unrefs the read a waiting readSome leaves pending", async () => {
  const { source, buffer } = scripted();
  const some = buffer.readSome(10, null);
  await assertPending(some);
  assert.deepEqual(source.log, []);
  buffer.shutdown();
  assert.deepEqual(await value(some), new Uint8Array(0));
  assert.deepEqual(source.log, ["unref"]);
});

Deno.test("a source without ref and unref serves timed-out calls and later reads", async () => {
  const pending: ((n: number | null) => void)[] = [];
  const targets: Uint8Array[] = [];
  const source: Source = {
    read(p) {
      targets.push(p);
      return new Promise((resolve) => pending.push(resolve));
    },
  };
  const buffer = new ReadBuffer(source, (err) => err);
  assertTimeout(await rejection(buffer.readSome(10, 0.05)));
  const some = buffer.readSome(10, null);
  await assertPending(some);
  targets[0].set(bytes("ok"));
  pending[0](2);
  assert.deepEqual(await value(some), bytes("ok"));
  assert.equal(targets.length, 1);
});

// ---------------------------------------------------------------------------
// Over real loopback connections

/** A connected TCP pair on 127.0.0.1: `near` is read through a buffer, `far` is the peer. */
async function tcpPair(): Promise<{ near: Deno.TcpConn; far: Deno.TcpConn } & Disposable> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept();
  const near = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const far = await accepting;
  return {
    near,
    far,
    [Symbol.dispose]() {
      for (const conn of [near, far]) {
        try {
          conn.close();
        } catch { /* closed by the test */ }
      }
    },
  };
}

/** Writes all of `data`, in as many writes as the connection takes. */
async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

const fromDeno = (err: unknown) => fromDenoError(err);

Deno.test("over loopback, the buffer returns exactly what the peer wrote and end of stream once it closes", async () => {
  using tcp = await tcpPair();
  const buffer = new ReadBuffer(tcp.near, fromDeno);
  await writeAll(tcp.far, bytes("hello\nworld\r\n"));
  const record = new Uint8Array([0, 3, 0x61, 0x62, 0x63, 0x78, 0x79]);
  const writing = (async () => {
    await writeAll(tcp.far, record);
    tcp.far.close();
  })();
  assert.deepEqual(await buffer.readLine(100, null), bytes("hello\n"));
  assert.deepEqual(await buffer.readUntil(bytes("\r\n"), 100, null), bytes("world\r\n"));
  assert.deepEqual(await buffer.readPrefixed(SIZE16, null), bytes("abc"));
  await writing;
  assertIncomplete(await rejection(buffer.readExactly(5, null)), "xy", 5);
  assert.deepEqual(await buffer.readSome(10, null), new Uint8Array(0));
  assert.deepEqual(await buffer.readAll(null), new Uint8Array(0));
});

Deno.test("over loopback, 1 MiB the peer writes is read exactly by readExactly and then by readAll", async () => {
  using tcp = await tcpPair();
  const buffer = new ReadBuffer(tcp.near, fromDeno);
  const data = pattern(2 * MiB);
  const writing = (async () => {
    await writeAll(tcp.far, data);
    tcp.far.close();
  })();
  assert.deepEqual(await buffer.readExactly(MiB, null), data.subarray(0, MiB));
  assert.deepEqual(await buffer.readAll(null), data.subarray(MiB));
  await writing;
});

Deno.test("over loopback, a readExactly that times out loses nothing: the next call returns the bytes that arrive later", async () => {
  using tcp = await tcpPair();
  const buffer = new ReadBuffer(tcp.near, fromDeno);
  await writeAll(tcp.far, bytes("ab"));
  assertTimeout(await rejection(buffer.readExactly(4, 0.05)));
  await writeAll(tcp.far, bytes("cd"));
  assert.deepEqual(await buffer.readExactly(4, null), bytes("abcd"));
  tcp.far.close();
  assert.deepEqual(await buffer.readSome(10, null), new Uint8Array(0));
});

/**
 * A Python peer that prints its port, reads two bytes, sends `before` and
 * resets the connection (SO_LINGER 0). Deno has no SO_LINGER, and its
 * close() shuts down writing first, so a peer closing with unread bytes
 * sends FIN before RST: the reset has to come from Python.
 */
const RESETTING_PEER = `
import socket, struct
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
got = b""
while len(got) < 2:
    d = c.recv(2 - len(got))
    if not d:
        break
    got += d
c.sendall(b"before")
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
l.close()
`;

Deno.test("over loopback, a peer's reset comes after the bytes sent before it, is reported once as ConnectionResetError, then the stream reads as ended", async () => {
  await using peer = python(RESETTING_PEER);
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(await peer.firstLine()) });
  const buffer = new ReadBuffer(conn, fromDeno);
  const first = buffer.readSome(100, null);
  await writeAll(conn, bytes("go"));
  assert.deepEqual(await first, bytes("before"));
  assertOSError(
    await rejection(buffer.readSome(100, null)),
    ConnectionResetError,
    errno.ECONNRESET,
    "[Errno 104] Connection reset by peer",
  );
  assert.deepEqual(await buffer.readSome(100, null), new Uint8Array(0));
  assert.equal(await buffer.readInto(new Uint8Array(4), null), 0);
  assertIncomplete(await rejection(buffer.readExactly(1, null)), "", 1);
  await peer.output();
});

/**
 * A loopback connection as the buffer's source, with its ref/unref calls
 * recorded and its last read kept, so that a test can let that read end
 * before closing (Deno cannot cancel it, denoland/deno#13688).
 */
function recorded(
  conn: Deno.TcpConn,
): Source & { calls: string[]; lastRead: () => Promise<unknown> } {
  const calls: string[] = [];
  let last: Promise<number | null> = Promise.resolve(null);
  return {
    calls,
    lastRead: () => last,
    read: (p) => last = conn.read(p),
    ref: () => (calls.push("ref"), conn.ref()),
    unref: () => (calls.push("unref"), conn.unref()),
  };
}

Deno.test("over loopback, shutdown wakes a waiting readSome with an empty array at once and unrefs its pending read", async () => {
  using tcp = await tcpPair();
  const source = recorded(tcp.near);
  const buffer = new ReadBuffer(source, fromDeno);
  const some = buffer.readSome(10, null);
  const read = source.lastRead();
  buffer.shutdown();
  assert.deepEqual(await some, new Uint8Array(0));
  assert.deepEqual(source.calls, ["unref"]);
  // What the peer sends now lands in the pending read and is dropped. The
  // read is unref'd: the test refs the connection to wait for it.
  tcp.near.ref();
  await writeAll(tcp.far, bytes("late"));
  assert.equal(await read, 4);
  assert.equal(buffer.buffered, 0);
  assert.deepEqual(await buffer.readSome(10, null), new Uint8Array(0));
});

Deno.test("over loopback, shutdown wakes a readExactly waiting with partial bytes with IncompleteReadError and drops them", async () => {
  using tcp = await tcpPair();
  const source = recorded(tcp.near);
  const buffer = new ReadBuffer(source, fromDeno);
  await writeAll(tcp.far, bytes("partial"));
  const ten = handled(buffer.readExactly(10, null));
  // Until the seven bytes are buffered and the call waits on its next read.
  for (let i = 0; i < 100 && buffer.buffered < 7; i++) {
    await source.lastRead();
    await turnOfTheLoop();
  }
  assert.equal(buffer.buffered, 7);
  const read = source.lastRead();
  buffer.shutdown();
  assertIncomplete(await rejection(ten), "", 10);
  assert.equal(buffer.buffered, 0);
  tcp.near.ref();
  await writeAll(tcp.far, bytes("late"));
  assert.equal(await read, 4);
  assert.equal(buffer.buffered, 0);
  assert.deepEqual(await buffer.readAll(null), new Uint8Array(0));
});

// ---------------------------------------------------------------------------
// Memory shared between buffers: small reads go into pieces of blocks that
// many buffers share, so no two pending reads may overlap, and no view handed
// out may change when another buffer reads.

/** Whether two arrays share any byte of memory. */
function overlap(a: Uint8Array, b: Uint8Array): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

Deno.test("the pending reads of 200 idle buffers each target an ArrayBuffer of their own, and no view handed out ever changes", async () => {
  const all = Array.from({ length: 200 }, () => scripted());
  const kept: [Uint8Array, number][] = [];
  for (let round = 0; round < 3; round++) {
    const calls = all.map(({ buffer }) => buffer.readSome(4096, null));
    const targets = all.map(({ source }) => source.pendingTarget!);
    let shared = 0;
    for (let i = 0; i < targets.length; i++) {
      for (let j = i + 1; j < targets.length; j++) {
        assert.ok(!overlap(targets[i], targets[j]), `reads ${i} and ${j} overlap`);
        if (targets[i].buffer === targets[j].buffer) shared++;
      }
    }
    // No socket's bytes share an ArrayBuffer with another's: an array recv
    // returned exposes (through .buffer), or lets its caller transfer, only
    // bytes of its own stream.
    assert.equal(shared, 0);
    // Answer in reverse order, each buffer with its own bytes (a round's size differs).
    for (let i = all.length - 1; i >= 0; i--) {
      all[i].source.push(new Array(100 + round * 700).fill((i + round) % 256));
    }
    const got = await Promise.all(calls);
    got.forEach((view, i) => kept.push([view, (i + round) % 256]));
  }
  for (const [view, value] of kept) assert.ok(view.every((b) => b === value));
  assert.equal(kept.length, 600);
});
