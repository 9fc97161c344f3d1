// The codec as Web Streams: framing.ts re-exports them.

import { describe } from "./_address.ts";
import { concat, indexOfNeedle, toBytes } from "./_bytes.ts";
import { MessageDecoder } from "./_codec.ts";
import { LimitOverrunError } from "./errors.ts";
import {
  checkDelimiter,
  checkLimit,
  checkPayload,
  COALESCE_LIMIT,
  type DelimiterStreamOptions,
  frame,
  type FramingOptions,
  headerBytes,
  resolveFraming,
} from "./_framing_options.ts";
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
