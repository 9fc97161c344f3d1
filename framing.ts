/**
 * Message boundaries over a byte stream.
 *
 * TCP delivers bytes, not messages: two `sendall` calls can arrive as one
 * `recv` (the "sticky packets" of socket tutorials) and one can arrive in
 * pieces. This module gives messages back their edges with a length header,
 * without the send-the-size-then-wait-for-an-ack round trip tutorials use.
 *
 * The default header is 4 bytes, unsigned, big-endian: the bytes of Python's
 * `struct.pack(">I", len(payload)) + payload`, so a Python peer interoperates.
 *
 * - {@linkcode encodeMessage} and {@linkcode MessageDecoder}: the pure codec,
 *   for any transport.
 * - {@linkcode MessageEncoderStream}, {@linkcode MessageDecoderStream} and
 *   {@linkcode DelimiterDecoderStream}: the same as Web Streams.
 *
 * @example Encoding and decoding without a socket
 * ```ts
 * import { encodeMessage, MessageDecoder } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const wire = new Uint8Array([...encodeMessage("hi"), ...encodeMessage("there")]);
 * deepEqual(wire.subarray(0, 6), new Uint8Array([0, 0, 0, 2, 104, 105]));
 *
 * const decoder = new MessageDecoder();
 * const messages = [...decoder.push(wire.subarray(0, 3)), ...decoder.push(wire.subarray(3))];
 * deepEqual(messages.map((m) => new TextDecoder().decode(m)), ["hi", "there"]);
 * ```
 *
 * @module
 */

import { kReader, type ReadBuffer } from "./_buffer.ts";
import { concat, indexOfNeedle, toBytes as bytesOf } from "./_bytes.ts";
import { IncompleteReadError, LimitOverrunError, MessageTooLargeError } from "./errors.ts";
import type { StreamSocket } from "./socket.ts";

/**
 * The default `maxMessage`: 16 MiB. A header announcing more is refused
 * before anything is allocated, so a hostile or confused peer cannot make the
 * receiver reserve gigabytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_MESSAGE } from "./framing.ts";
 * assert.equal(DEFAULT_MAX_MESSAGE, 16 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_MESSAGE: number = 16 * 1024 * 1024;

/**
 * The default `limit` of the delimiter readers: 64 KiB, asyncio's
 * `_DEFAULT_LIMIT`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_LIMIT } from "./framing.ts";
 * assert.equal(DEFAULT_LIMIT, 65536);
 * ```
 */
export const DEFAULT_LIMIT: number = 64 * 1024;

/** The length header sizes in bytes: 8 is a 64-bit header. */
export type HeaderSize = 1 | 2 | 4 | 8;

/** How messages are framed. Both peers must use the same `header` and `littleEndian`. */
export interface FramingOptions {
  /** Bytes in the unsigned length header. @default {4} */
  header?: HeaderSize;
  /** Whether the header is little-endian. @default {false} (network byte order) */
  littleEndian?: boolean;
  /**
   * The largest payload accepted, in bytes. Receiving refuses a larger header
   * with {@linkcode MessageTooLargeError} before allocating; sending refuses a
   * larger payload with a `RangeError` before writing anything.
   * @default {DEFAULT_MAX_MESSAGE}
   */
  maxMessage?: number;
}

/** Options of the delimiter readers. */
export interface DelimiterOptions {
  /**
   * The longest segment accepted before the delimiter, in bytes; longer
   * raises {@linkcode LimitOverrunError}. @default {DEFAULT_LIMIT}
   */
  limit?: number;
}

/** Options of {@linkcode DelimiterDecoderStream}. */
export interface DelimiterStreamOptions extends DelimiterOptions {
  /**
   * `"discard"` drops the delimiter from each segment; `"suffix"` keeps it at
   * the end, as `recvUntil` does. @default {"discard"}
   */
  disposition?: "discard" | "suffix";
}

/** Checked framing options, resolved once so hot paths do no checking. */
interface Framing {
  readonly header: HeaderSize;
  readonly littleEndian: boolean;
  readonly maxMessage: number;
}

// The largest length each header can carry; 8 bytes is capped at what a JS
// number holds exactly.
const HEADER_CAPACITY: Readonly<Record<HeaderSize, number>> = {
  1: 0xff,
  2: 0xffff,
  4: 0xffff_ffff,
  8: Number.MAX_SAFE_INTEGER,
};

// Below this a payload is copied behind its header so one write sends both;
// above it the copy costs more than the extra write.
const COALESCE_LIMIT = 64 * 1024;

const DEFAULT_FRAMING: Framing = {
  header: 4,
  littleEndian: false,
  maxMessage: DEFAULT_MAX_MESSAGE,
};

const encoder = new TextEncoder();

function describe(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : `an object`;
}

/**
 * Checks framing options before any I/O.
 * @throws {TypeError} for a wrong type; {RangeError} for a value out of range.
 */
function resolveFraming(options: FramingOptions | undefined, action: string): Framing {
  if (options === undefined) return DEFAULT_FRAMING;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot ${action}: options must be an object, got ${describe(options)}`);
  }
  const { header = 4, littleEndian = false, maxMessage = DEFAULT_MAX_MESSAGE } = options;
  if (typeof header !== "number") {
    throw new TypeError(`Cannot ${action}: header must be a number, got ${describe(header)}`);
  }
  if (!(header in HEADER_CAPACITY)) {
    throw new RangeError(`Cannot ${action}: header must be 1, 2, 4 or 8 bytes, got ${header}`);
  }
  if (typeof littleEndian !== "boolean") {
    throw new TypeError(
      `Cannot ${action}: littleEndian must be a boolean, got ${describe(littleEndian)}`,
    );
  }
  return { header, littleEndian, maxMessage: checkSize(maxMessage, "maxMessage", action) };
}

function checkSize(value: unknown, name: string, action: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot ${action}: ${name} must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${value}`,
    );
  }
  return value;
}

function checkDelimiter(delimiter: unknown, action: string): Uint8Array {
  const bytes = typeof delimiter === "string" ? encoder.encode(delimiter) : delimiter;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot ${action}: delimiter must be a string or a Uint8Array, got ${describe(delimiter)}`,
    );
  }
  if (bytes.length === 0) throw new RangeError(`Cannot ${action}: delimiter must not be empty`);
  return bytes;
}

function checkLimit(options: DelimiterOptions | undefined, action: string): number {
  if (options === undefined) return DEFAULT_LIMIT;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot ${action}: options must be an object, got ${describe(options)}`);
  }
  const limit = checkSize(options.limit ?? DEFAULT_LIMIT, "limit", action);
  if (limit === 0) throw new RangeError(`Cannot ${action}: limit must be positive, got 0`);
  return limit;
}

/** Turns a payload into bytes, as `sendall` does: strings as UTF-8, views as their bytes. */
function toBytes(data: Uint8Array | string, action: string): Uint8Array {
  return bytesOf(data, action);
}

/**
 * Checks that a payload may be sent under `framing`.
 * @throws {RangeError} when it exceeds `maxMessage` or what the header can carry.
 */
function checkPayload(size: number, framing: Framing, action: string): void {
  if (size > framing.maxMessage) {
    throw new RangeError(
      `Cannot ${action}: the ${size}-byte message exceeds maxMessage (${framing.maxMessage} bytes)`,
    );
  }
  if (size > HEADER_CAPACITY[framing.header]) {
    throw new RangeError(
      `Cannot ${action}: the ${size}-byte message does not fit a ${framing.header}-byte header`,
    );
  }
}

/** Writes `size` as a header of `framing.header` bytes at `target[offset]`. */
function writeHeader(target: Uint8Array, offset: number, size: number, framing: Framing): void {
  const n = framing.header;
  if (n === 8) {
    new DataView(target.buffer, target.byteOffset + offset, 8)
      .setBigUint64(0, BigInt(size), framing.littleEndian);
    return;
  }
  // Plain byte stores, as readHeaderSmall reads: no DataView per message.
  for (let i = 0; i < n; i++) {
    const shift = 8 * (framing.littleEndian ? i : n - 1 - i);
    target[offset + i] = (size >>> shift) & 0xff;
  }
}

/**
 * Reads the length in the header at `bytes[offset]`, which must hold
 * `framing.header` bytes.
 * @throws {MessageTooLargeError} when it exceeds `maxMessage`.
 */
function readHeader(bytes: Uint8Array, offset: number, framing: Framing): number {
  const size = framing.header === 8 ? readHeader64(bytes, offset, framing) : readHeaderSmall(
    bytes,
    offset,
    framing,
  );
  if (size > framing.maxMessage) throw new MessageTooLargeError(size, framing.maxMessage);
  return size;
}

// The decoder's hot path: plain byte arithmetic, no DataView allocated per message.
function readHeaderSmall(b: Uint8Array, i: number, framing: Framing): number {
  if (framing.header === 1) return b[i];
  if (framing.header === 2) {
    return framing.littleEndian ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1];
  }
  const value = framing.littleEndian
    ? b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)
    : (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
  return value >>> 0;
}

function readHeader64(b: Uint8Array, i: number, framing: Framing): number {
  const big = new DataView(b.buffer, b.byteOffset + i, 8).getBigUint64(0, framing.littleEndian);
  // Past 2^53 a number would silently round; report the size as the
  // nearest number, which is still over any maxMessage.
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MessageTooLargeError(Number(big), framing.maxMessage);
  }
  return Number(big);
}

/**
 * Frames one message: a length header followed by the payload.
 *
 * @param data The payload; a string is sent as UTF-8.
 * @param options The header size, byte order and `maxMessage`.
 * @returns A new array holding header and payload.
 * @throws {TypeError} when `data` or an option has the wrong type.
 * @throws {RangeError} when an option is out of range, or the payload exceeds
 *   `maxMessage` or what the header can carry (255 bytes for a 1-byte header).
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeMessage("abc"), new Uint8Array([0, 0, 0, 3, 97, 98, 99]));
 * deepEqual(
 *   encodeMessage(new Uint8Array([7]), { header: 2, littleEndian: true }),
 *   new Uint8Array([1, 0, 7]),
 * );
 * ```
 */
export function encodeMessage(data: Uint8Array | string, options?: FramingOptions): Uint8Array {
  const framing = resolveFraming(options, "encode a message");
  const payload = toBytes(data, "encode a message");
  checkPayload(payload.length, framing, "encode a message");
  return frame(payload, framing);
}

/** Header and payload in one array; the payload was checked against `framing`. */
function frame(payload: Uint8Array, framing: Framing): Uint8Array {
  const out = new Uint8Array(framing.header + payload.length);
  writeHeader(out, 0, payload.length, framing);
  out.set(payload, framing.header);
  return out;
}

function headerBytes(size: number, framing: Framing): Uint8Array {
  const out = new Uint8Array(framing.header);
  writeHeader(out, 0, size, framing);
  return out;
}

/**
 * Splits a byte stream back into the messages {@linkcode encodeMessage}
 * framed. Push chunks of any size, in order; each call returns the messages
 * the chunk completed.
 *
 * A message that lies wholly inside one pushed chunk is returned as a view
 * of that chunk (`subarray`), not a copy: the chunk must not be overwritten
 * while its messages are in use. Only a message spread over several chunks
 * is copied, into an array allocated once at its final size.
 *
 * A header announcing more than `maxMessage` throws
 * {@linkcode MessageTooLargeError} before anything is allocated. Framing is
 * lost after such a header, so the decoder stays failed: every later call
 * throws the same error. Messages the same chunk completed before the bad
 * header are returned first, and the error comes from the next call.
 *
 * @example
 * ```ts
 * import { encodeMessage, MessageDecoder } from "./framing.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const wire = new Uint8Array([...encodeMessage("one"), ...encodeMessage("two")]);
 * const decoder = new MessageDecoder();
 * const messages: Uint8Array[] = [];
 * for (const byte of wire) messages.push(...decoder.push(new Uint8Array([byte])));
 * deepEqual(messages.map((m) => new TextDecoder().decode(m)), ["one", "two"]);
 * equal(decoder.buffered, 0);
 * decoder.end(); // throws IncompleteReadError if a message were cut short
 * ```
 */
export class MessageDecoder {
  readonly #framing: Framing;
  // A header cut by a chunk edge collects here.
  readonly #head = new Uint8Array(8);
  #headFill = 0;
  // A payload cut by a chunk edge collects here, allocated at its final size.
  #body: Uint8Array | null = null;
  #bodyFill = 0;
  #error: unknown = undefined;

  /**
   * Creates a decoder at the start of a stream.
   *
   * @param options The header size, byte order and `maxMessage`.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when an option is out of range.
   */
  constructor(options?: FramingOptions) {
    this.#framing = resolveFraming(options, "create a MessageDecoder");
  }

  /** Bytes held for a message not yet complete (its header included). */
  get buffered(): number {
    return this.#headFill + (this.#body === null ? 0 : this.#framing.header + this.#bodyFill);
  }

  /**
   * Feeds the next chunk of the stream.
   *
   * @param chunk The next bytes, of any length (empty is fine).
   * @returns The messages this chunk completed, in order; views of `chunk`
   *   where a message lies wholly inside it.
   * @throws {MessageTooLargeError} when a header announces more than `maxMessage`.
   * @throws {TypeError} when `chunk` is not a Uint8Array.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const messages: Uint8Array[] = [];
    this.decode(chunk, (message) => messages.push(message));
    return messages;
  }

  /**
   * Like {@linkcode MessageDecoder.push}, but hands each message to `emit` as
   * soon as it is complete, with no array in between.
   *
   * @param chunk The next bytes, of any length.
   * @param emit Called once per completed message, in order.
   * @throws {MessageTooLargeError} when a header announces more than
   *   `maxMessage`; the messages before it have been emitted.
   * @throws {TypeError} when `chunk` is not a Uint8Array.
   *
   * @example
   * ```ts
   * import { encodeMessage, MessageDecoder } from "./framing.ts";
   * import { equal } from "node:assert/strict";
   *
   * let count = 0;
   * new MessageDecoder().decode(encodeMessage("x"), () => count++);
   * equal(count, 1);
   * ```
   */
  decode(chunk: Uint8Array, emit: (message: Uint8Array) => void): void {
    if (this.#error !== undefined) throw this.#error;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot decode messages: chunk must be a Uint8Array, got ${describe(chunk)}`,
      );
    }
    let emitted = false;
    const counted = (message: Uint8Array) => {
      emitted = true;
      emit(message);
    };
    try {
      const offset = this.#resume(chunk, counted);
      if (offset < chunk.length) this.#scan(chunk, offset, counted);
    } catch (err) {
      this.#error = err;
      // Deliver what came before the bad header; the next call reports it.
      if (emitted && err instanceof MessageTooLargeError) return;
      throw err;
    }
  }

  /**
   * Declares the end of the stream.
   *
   * @throws {IncompleteReadError} when it cuts a message: inside the header,
   *   `partial` holds the header bytes and `expected` the header size; inside
   *   the payload, `partial` holds the payload bytes and `expected` its length.
   * @throws {MessageTooLargeError} when a bad header has not been reported yet.
   *
   * @example
   * ```ts
   * import { IncompleteReadError } from "./errors.ts";
   * import { MessageDecoder } from "./framing.ts";
   * import { equal, throws } from "node:assert/strict";
   *
   * const decoder = new MessageDecoder();
   * decoder.push(new Uint8Array([0, 0, 0, 5, 104, 105]));
   * throws(() => decoder.end(), (e) => e instanceof IncompleteReadError && e.expected === 5);
   * ```
   */
  end(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#headFill > 0) {
      throw new IncompleteReadError(this.#head.slice(0, this.#headFill), this.#framing.header);
    }
    if (this.#body !== null) {
      throw new IncompleteReadError(this.#body.subarray(0, this.#bodyFill), this.#body.length);
    }
  }

  /** Completes a message left unfinished by earlier chunks; returns the offset reached. */
  #resume(chunk: Uint8Array, emit: (message: Uint8Array) => void): number {
    let offset = 0;
    if (this.#headFill > 0) {
      const take = Math.min(this.#framing.header - this.#headFill, chunk.length);
      this.#head.set(chunk.subarray(0, take), this.#headFill);
      this.#headFill += take;
      offset = take;
      if (this.#headFill < this.#framing.header) return offset;
      this.#headFill = 0;
      const size = readHeader(this.#head, 0, this.#framing);
      if (chunk.length - offset >= size) {
        emit(chunk.subarray(offset, offset + size));
        return offset + size;
      }
      this.#body = new Uint8Array(size);
      this.#bodyFill = 0;
    }
    const body = this.#body;
    if (body === null) return offset;
    const take = Math.min(body.length - this.#bodyFill, chunk.length - offset);
    body.set(chunk.subarray(offset, offset + take), this.#bodyFill);
    this.#bodyFill += take;
    if (this.#bodyFill < body.length) return chunk.length;
    this.#body = null;
    emit(body);
    return offset + take;
  }

  /** Emits every whole message in `chunk[offset..]` as a view; keeps the tail. */
  #scan(chunk: Uint8Array, offset: number, emit: (message: Uint8Array) => void): void {
    const headerSize = this.#framing.header;
    const end = chunk.length;
    while (end - offset >= headerSize) {
      const size = readHeader(chunk, offset, this.#framing);
      offset += headerSize;
      if (end - offset < size) {
        this.#body = new Uint8Array(size);
        this.#body.set(chunk.subarray(offset));
        this.#bodyFill = end - offset;
        return;
      }
      emit(chunk.subarray(offset, offset + size));
      offset += size;
    }
    if (offset < end) {
      this.#head.set(chunk.subarray(offset));
      this.#headFill = end - offset;
    }
  }
}

/**
 * A `TransformStream` that frames each chunk written to it as one message
 * (header, then payload). Strings are sent as UTF-8. Large payloads pass
 * through uncopied, after their header.
 *
 * @example
 * ```ts
 * import { MessageDecoderStream, MessageEncoderStream } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const messages = await Array.fromAsync(
 *   ReadableStream.from(["ping", "pong"])
 *     .pipeThrough(new MessageEncoderStream())
 *     .pipeThrough(new MessageDecoderStream())
 *     .pipeThrough(new TextDecoderStream()),
 * );
 * deepEqual(messages, ["ping", "pong"]);
 * ```
 */
export class MessageEncoderStream extends TransformStream<Uint8Array | string, Uint8Array> {
  /**
   * Creates an encoder stream; options are checked here, before any data flows.
   *
   * @param options The header size, byte order and `maxMessage`.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when an option is out of range.
   */
  constructor(options?: FramingOptions) {
    const framing = resolveFraming(options, "create a MessageEncoderStream");
    const action = "encode a message";
    super({
      transform(chunk, controller) {
        const payload = toBytes(chunk, action);
        checkPayload(payload.length, framing, action);
        if (payload.length <= COALESCE_LIMIT) return controller.enqueue(frame(payload, framing));
        controller.enqueue(headerBytes(payload.length, framing));
        controller.enqueue(payload);
      },
    });
  }
}

/**
 * A `TransformStream` that turns a byte stream back into the messages it
 * carries, with a {@linkcode MessageDecoder}. Messages are views of the
 * incoming chunks where they lie wholly inside one.
 *
 * The stream errors with {@linkcode MessageTooLargeError} on a header over
 * `maxMessage`, and with {@linkcode IncompleteReadError} when the input ends
 * inside a message. A Web Stream drops the chunks still queued when it
 * errors, so a bad header is reported with the next chunk, once the reader
 * has taken the messages before it; at the very end of the input, messages
 * not yet read when the stream errors are lost.
 *
 * @example Reading framed messages from a Python peer's bytes
 * ```ts
 * import { MessageDecoderStream } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * // struct.pack(">I", 2) + b"hi", delivered in two pieces
 * const bytes = ReadableStream.from([new Uint8Array([0, 0]), new Uint8Array([0, 2, 104, 105])]);
 * const messages = await Array.fromAsync(bytes.pipeThrough(new MessageDecoderStream()));
 * deepEqual(messages, [new Uint8Array([104, 105])]);
 * ```
 */
export class MessageDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates a decoder stream; options are checked here, before any data flows.
   *
   * @param options The header size, byte order and `maxMessage`.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when an option is out of range.
   */
  constructor(options?: FramingOptions) {
    const decoder = new MessageDecoder(options);
    super({
      transform(chunk, controller) {
        decoder.decode(chunk, (message) => controller.enqueue(message));
      },
      flush() {
        decoder.end();
      },
    });
  }
}

/**
 * Splits a byte stream at a delimiter (a line break, a NUL, any byte
 * sequence), as asyncio's `readuntil` does for one reader. Segments that lie
 * wholly inside one incoming chunk are views of it; only segments spread
 * over chunks are copied.
 *
 * A segment longer than `limit` before its delimiter errors the stream with
 * {@linkcode LimitOverrunError} (asyncio's rule: the delimiter does not
 * count), reported with the next chunk when the same chunk held segments
 * before it, as {@linkcode MessageDecoderStream} does. Bytes after the last
 * delimiter are emitted as a final segment when the input ends, as a last
 * line without a newline is still a line.
 *
 * @example Lines from a stream of bytes
 * ```ts
 * import { DelimiterDecoderStream } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const segments = await Array.fromAsync(
 *   ReadableStream.from(["GET / HTTP/1.0\r", "\nHost: x\r\n\r\n"])
 *     .pipeThrough(new TextEncoderStream())
 *     .pipeThrough(new DelimiterDecoderStream("\r\n")),
 * );
 * const lines = segments.map((line) => new TextDecoder().decode(line));
 * deepEqual(lines, ["GET / HTTP/1.0", "Host: x", ""]);
 * ```
 */
export class DelimiterDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Creates a splitter stream; arguments are checked here, before any data flows.
   *
   * @param delimiter The bytes that end each segment; a string is UTF-8.
   * @param options `limit` (default {@linkcode DEFAULT_LIMIT}) and `disposition`.
   * @throws {TypeError} when the delimiter or an option has the wrong type.
   * @throws {RangeError} when the delimiter is empty or `limit` is not positive.
   */
  constructor(delimiter: Uint8Array | string, options?: DelimiterStreamOptions) {
    const action = "create a DelimiterDecoderStream";
    const delim = checkDelimiter(delimiter, action).slice();
    const limit = checkLimit(options, action);
    const disposition = options?.disposition ?? "discard";
    if (disposition !== "discard" && disposition !== "suffix") {
      throw new TypeError(
        `Cannot ${action}: disposition must be "discard" or "suffix", got ${describe(disposition)}`,
      );
    }
    const splitter = new DelimiterSplitter(delim, limit, disposition === "suffix");
    super({
      transform(chunk, controller) {
        splitter.push(chunk, (segment) => controller.enqueue(segment));
      },
      flush(controller) {
        const tail = splitter.end();
        if (tail !== null) controller.enqueue(tail);
      },
    });
  }
}

/** The state machine behind {@linkcode DelimiterDecoderStream}. */
class DelimiterSplitter {
  readonly #delimiter: Uint8Array;
  readonly #limit: number;
  readonly #keep: boolean;
  // Bytes of the current segment from earlier chunks, not yet joined.
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  #error: unknown = undefined;

  constructor(delimiter: Uint8Array, limit: number, keep: boolean) {
    this.#delimiter = delimiter;
    this.#limit = limit;
    this.#keep = keep;
  }

  push(chunk: Uint8Array, emit: (segment: Uint8Array) => void): void {
    if (this.#error !== undefined) throw this.#error;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`Cannot split: chunk must be a Uint8Array, got ${describe(chunk)}`);
    }
    let emitted = false;
    try {
      this.#split(chunk, (segment) => {
        emitted = true;
        emit(segment);
      });
    } catch (err) {
      this.#error = err;
      // A stream that errors drops the segments still queued: defer the
      // error to the next call, by which time the reader has taken them.
      if (!emitted || !(err instanceof LimitOverrunError)) throw err;
    }
  }

  #split(chunk: Uint8Array, emit: (segment: Uint8Array) => void): void {
    let offset = this.#pendingLength > 0 ? this.#finishPending(chunk, emit) : 0;
    if (offset === -1) return this.#hold(chunk);
    const dlen = this.#delimiter.length;
    while (offset < chunk.length) {
      const at = indexOfNeedle(chunk, this.#delimiter, offset);
      if (at === -1) break;
      this.#checkFound(at - offset);
      emit(chunk.subarray(offset, this.#keep ? at + dlen : at));
      offset = at + dlen;
    }
    if (offset < chunk.length) this.#hold(chunk.subarray(offset));
  }

  /** The bytes after the last delimiter, or null when there are none. */
  end(): Uint8Array | null {
    if (this.#error !== undefined) throw this.#error;
    if (this.#pendingLength === 0) return null;
    const tail = concat(this.#pending);
    this.#pending = [];
    this.#pendingLength = 0;
    return tail;
  }

  /**
   * Ends the held segment if `chunk` completes it (the delimiter may straddle
   * the edge); returns where the scan of `chunk` goes on, or -1 when the
   * whole chunk belongs to the held segment.
   */
  #finishPending(chunk: Uint8Array, emit: (segment: Uint8Array) => void): number {
    const dlen = this.#delimiter.length;
    // Join the held tail that could start a delimiter with the head of the
    // chunk, and look for a delimiter across the edge there.
    const tailLength = Math.min(dlen - 1, this.#pendingLength);
    if (tailLength > 0) {
      const tail = this.#lastBytes(tailLength);
      const bridge = new Uint8Array(tailLength + Math.min(dlen - 1, chunk.length));
      bridge.set(tail);
      bridge.set(chunk.subarray(0, bridge.length - tailLength), tailLength);
      const at = indexOfNeedle(bridge, this.#delimiter, 0);
      if (at !== -1 && at < tailLength) {
        const segmentLength = this.#pendingLength - tailLength + at;
        this.#checkFound(segmentLength);
        const consumed = at + dlen - tailLength;
        const whole = concat([...this.#pending, chunk.subarray(0, consumed)]);
        emit(this.#keep ? whole : whole.subarray(0, segmentLength));
        this.#pending = [];
        this.#pendingLength = 0;
        return consumed;
      }
    }
    const at = indexOfNeedle(chunk, this.#delimiter, 0);
    if (at === -1) return -1;
    this.#checkFound(this.#pendingLength + at);
    const end = this.#keep ? at + dlen : at;
    const whole = concat([...this.#pending, chunk.subarray(0, end)]);
    this.#pending = [];
    this.#pendingLength = 0;
    emit(whole);
    return at + dlen;
  }

  #lastBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let need = n;
    for (let i = this.#pending.length - 1; need > 0; i--) {
      const part = this.#pending[i];
      const take = Math.min(need, part.length);
      out.set(part.subarray(part.length - take), need - take);
      need -= take;
    }
    return out;
  }

  // The segment is copied: the caller may reuse the chunk it came in.
  #hold(bytes: Uint8Array): void {
    this.#pending.push(bytes.slice());
    this.#pendingLength += bytes.length;
    // With no delimiter yet, the earliest one could start dlen-1 bytes
    // before the end; past the limit even then, the segment is too long.
    const shortest = this.#pendingLength - (this.#delimiter.length - 1);
    if (shortest > this.#limit) {
      throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", shortest);
    }
  }

  #checkFound(segmentLength: number): void {
    if (segmentLength > this.#limit) {
      throw new LimitOverrunError(
        "Separator is found, but chunk is longer than limit",
        segmentLength,
      );
    }
  }
}

// ---------------------------------------------------------------------------
// Over a socket: the socket's own read buffer, so bytes read ahead here are
// the next bytes recv() and makefile() see, and the other way round.

/** A socket's buffer and timeout, checked before any I/O. */
function readerOf(sock: StreamSocket, action: string): ReadBuffer {
  const reader = (sock as Partial<StreamSocket> | null)?.[kReader];
  if (typeof reader !== "function") {
    throw new TypeError(`Cannot ${action}: expected a stream socket, got ${describe(sock)}`);
  }
  return reader.call(sock);
}

/**
 * Sends one length-prefixed message: the header, then the payload. With the
 * default options the bytes are Python's
 * `sock.sendall(struct.pack(">I", len(payload)) + payload)`.
 *
 * A small payload is copied behind its header and sent with one write (one
 * system call, one TCP segment); a large one (over 64 KiB) is sent after its
 * header without being copied. Calls made before the previous one resolved
 * wait for it, so concurrent messages never interleave on the wire.
 *
 * @param sock A connected stream socket; its timeout applies.
 * @param data The payload; a string is sent as UTF-8.
 * @param options The header size, byte order and `maxMessage`.
 * @returns Resolves once every byte is written.
 * @throws {TypeError} when `data` or an option has the wrong type.
 * @throws {RangeError} when an option is out of range or the payload exceeds
 *   `maxMessage` or the header's capacity; nothing is sent.
 * @throws {OSError} as `sendall` does (`BrokenPipeError`, `TimeoutError`, `EBADF`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvMsg, sendMsg } from "./framing.ts";
 *
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * await sendMsg(a, "first");
 * await sendMsg(a, new Uint8Array([1, 2, 3]));
 * assert.equal(new TextDecoder().decode((await recvMsg(b))!), "first");
 * assert.equal((await recvMsg(b))!.length, 3);
 * ```
 */
export function sendMsg(
  sock: StreamSocket,
  data: Uint8Array | string,
  options?: FramingOptions,
): Promise<void> {
  const action = "send a message";
  let payload: Uint8Array;
  let framing: Framing;
  try {
    framing = resolveFraming(options, action);
    payload = toBytes(data, action);
    checkPayload(payload.length, framing, action);
    readerOf(sock, action);
  } catch (err) {
    return Promise.reject(err);
  }
  if (payload.length <= COALESCE_LIMIT) return sock.sendall(frame(payload, framing));
  // The socket queues a sendall behind one still in progress, so the two
  // parts, and concurrent messages, go out whole and in call order.
  const first = sock.sendall(headerBytes(payload.length, framing));
  const second = sock.sendall(payload);
  return Promise.all([first, second]).then(() => {});
}

/**
 * Receives one length-prefixed message, as sent by {@linkcode sendMsg} or by
 * Python's `sock.sendall(struct.pack(">I", len(payload)) + payload)`.
 *
 * Messages already read ahead are parsed from the socket's buffer without a
 * system call, and returned as views of it, not copies; each array is the
 * caller's own and never changes.
 *
 * A call made while another read call on the socket is still waiting
 * (`recvMsg`, {@linkcode recvExactly}, {@linkcode recvUntil},
 * {@linkcode recvLine}, `recv`, `recvInto`, a `makefile` read) waits for it:
 * reads are served one at a time, whole and in call order, so two `recvMsg`
 * calls made without awaiting the first get message 1 and message 2.
 *
 * @param sock A connected stream socket; its timeout applies to the whole
 *   message, a wait for an earlier read call included. A timed-out call
 *   consumes nothing: the next `recvMsg` returns
 *   the message, and a plain `recv` in between would see it whole, header
 *   first.
 * @param options The header size, byte order and `maxMessage`.
 * @returns The payload, or `null` at a clean end of stream between messages.
 * @throws {MessageTooLargeError} when the header announces more than
 *   `maxMessage`, before anything is allocated for it. The header has been
 *   consumed, so framing is lost: close the connection.
 * @throws {IncompleteReadError} at end of stream inside a message: inside the
 *   header, `partial` is the header bytes and `expected` the header size;
 *   inside the payload, `partial` is the payload so far and `expected` its length.
 * @throws {TimeoutError} past the timeout; {BlockingIOError} when non-blocking
 *   and the message is not all there.
 * @throws {TypeError|RangeError} for bad options, before any I/O.
 *
 * @example A server that reads messages until the client closes
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvMsg, sendMsg } from "./framing.ts";
 *
 * const [client, server] = await socketpair();
 * await using _s = server;
 * await sendMsg(client, "one");
 * await sendMsg(client, "two");
 * client.close();
 * const received: string[] = [];
 * for (let m = await recvMsg(server); m !== null; m = await recvMsg(server)) {
 *   received.push(new TextDecoder().decode(m));
 * }
 * assert.equal(received.join(), "one,two");
 * ```
 */
export function recvMsg(
  sock: StreamSocket,
  options?: FramingOptions,
): Promise<Uint8Array | null> {
  try {
    const framing = resolveFraming(options, RECV_MSG);
    const reader = readerOf(sock, RECV_MSG);
    // A message already buffered (a read brings many small ones at once)
    // comes back without an async frame, as a view, not a copy.
    return reader.readPrefixed(framing.header, readHeader, framing, sock.gettimeout());
  } catch (err) {
    return Promise.reject(err);
  }
}

const RECV_MSG = "receive a message";

/**
 * Receives exactly `n` bytes (asyncio's `readexactly`), from the socket's
 * own buffer. Like every read call on the socket it is served whole and in
 * call order: made while another read waits, it waits for it (see
 * {@linkcode recvMsg}).
 *
 * @param sock A connected stream socket; its timeout applies. A timed-out
 *   call consumes nothing: the bytes are there for the next call.
 * @param n How many bytes. Room for all of them is reserved up front: check a
 *   length that came from the peer against a limit before passing it here.
 * @returns `n` bytes, the caller's own.
 * @throws {IncompleteReadError} when the stream ends first; `partial` holds
 *   what arrived and `expected` is `n`.
 * @throws {TypeError} for a non-integer `n`; {RangeError} for a negative one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvExactly } from "./framing.ts";
 *
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * await a.sendall("abc");
 * await a.sendall("def");
 * assert.equal(new TextDecoder().decode(await recvExactly(b, 5)), "abcde");
 * ```
 */
export async function recvExactly(sock: StreamSocket, n: number): Promise<Uint8Array> {
  const action = "receive exactly n bytes";
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`Cannot ${action}: n must be an integer, got ${describe(n)}`);
  }
  if (n < 0) throw new RangeError(`Cannot ${action}: n must be non-negative, got ${n}`);
  const reader = readerOf(sock, action);
  return await reader.readExactly(n, sock.gettimeout());
}

/**
 * Receives bytes up to and including `delimiter` (asyncio's `readuntil`),
 * from the socket's own buffer. Like every read call on the socket it is
 * served whole and in call order: made while another read waits, it waits
 * for it (see {@linkcode recvMsg}).
 *
 * @param sock A connected stream socket; its timeout applies. A timed-out
 *   call consumes nothing.
 * @param delimiter The bytes to stop after; a string is UTF-8.
 * @param options `limit`: the longest segment accepted before the
 *   delimiter, {@linkcode DEFAULT_LIMIT} by default.
 * @returns The bytes, delimiter included.
 * @throws {LimitOverrunError} when no delimiter comes within `limit` bytes;
 *   nothing is consumed, so `recv` still returns the bytes.
 * @throws {IncompleteReadError} when the stream ends before a delimiter;
 *   `partial` holds the bytes (consumed) and `expected` is `null`.
 * @throws {TypeError|RangeError} for a bad delimiter or limit, before any I/O.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvUntil } from "./framing.ts";
 *
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * await a.sendall("HELO x\r\nQUIT\r\n");
 * const line = await recvUntil(b, "\r\n");
 * assert.equal(new TextDecoder().decode(line), "HELO x\r\n");
 * ```
 */
export async function recvUntil(
  sock: StreamSocket,
  delimiter: Uint8Array | string,
  options?: DelimiterOptions,
): Promise<Uint8Array> {
  const action = "receive until a delimiter";
  const delim = checkDelimiter(delimiter, action);
  const limit = checkLimit(options, action);
  const reader = readerOf(sock, action);
  return await reader.readUntil(delim, limit, sock.gettimeout());
}

/**
 * Receives one line, up to and including `\n` (asyncio's `readline`), from
 * the socket's own buffer. At end of stream the last bytes come back
 * without a newline, and then an empty array. Like every read call on the
 * socket it is served whole and in call order: made while another read
 * waits, it waits for it (see {@linkcode recvMsg}).
 *
 * Unlike asyncio's `readline`, which drops the buffered bytes when the line
 * is too long, an over-long line stays readable, as API.md asks.
 *
 * @param sock A connected stream socket; its timeout applies.
 * @param options `limit`: the longest line accepted, newline not counted;
 *   {@linkcode DEFAULT_LIMIT} by default.
 * @returns The line with its `\n`; the rest at end of stream; empty after it.
 * @throws {LimitOverrunError} when no newline comes within `limit` bytes;
 *   nothing is consumed.
 * @throws {TypeError|RangeError} for a bad limit, before any I/O.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvLine } from "./framing.ts";
 *
 * const [a, b] = await socketpair();
 * await using _b = b;
 * await a.sendall("one\ntwo");
 * a.close();
 * const lines = [await recvLine(b), await recvLine(b), await recvLine(b)];
 * assert.equal(lines.map((l) => new TextDecoder().decode(l)).join("|"), "one\n|two|");
 * ```
 */
export async function recvLine(
  sock: StreamSocket,
  options?: DelimiterOptions,
): Promise<Uint8Array> {
  try {
    return await recvUntil(sock, NEWLINE, options);
  } catch (err) {
    if (err instanceof IncompleteReadError) return err.partial;
    throw err;
  }
}

const NEWLINE = new Uint8Array([10]);
