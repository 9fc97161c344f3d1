// The pure codec: length-prefixed messages in and out of bytes, for any
// transport. framing.ts re-exports it.

import { describe } from "./_address.ts";
import { toBytes } from "./_bytes.ts";
import { IncompleteReadError, MessageTooLargeError } from "./errors.ts";
import {
  checkPayload,
  frame,
  type Framing,
  type FramingOptions,
  readHeader,
  resolveFraming,
} from "./_framing_options.ts";
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
