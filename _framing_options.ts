// Framing options and the length header: checked once, so the hot paths
// (sendMsg, recvMsg, the decoder) do no checking and no DataView per message.

import { describe } from "./_address.ts";
import { MessageTooLargeError } from "./errors.ts";

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
export interface Framing {
  readonly header: HeaderSize;
  readonly littleEndian: boolean;
  readonly maxMessage: number;
}

// The largest length each header can carry; 8 bytes is capped at what a JS
// number holds exactly.
export const HEADER_CAPACITY: Readonly<Record<HeaderSize, number>> = {
  1: 0xff,
  2: 0xffff,
  4: 0xffff_ffff,
  8: Number.MAX_SAFE_INTEGER,
};

// Below this a payload is copied behind its header so one write sends both;
// above it the copy costs more than the extra write.
export const COALESCE_LIMIT = 64 * 1024;

export const DEFAULT_FRAMING: Framing = {
  header: 4,
  littleEndian: false,
  maxMessage: DEFAULT_MAX_MESSAGE,
};

const encoder = new TextEncoder();

/**
 * Checks framing options before any I/O.
 * @throws {TypeError} for a wrong type; {RangeError} for a value out of range.
 */
export function resolveFraming(options: FramingOptions | undefined, action: string): Framing {
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
  return { header, littleEndian, maxMessage: checkOptionSize(maxMessage, action, "maxMessage") };
}

// Options are numbers in a range, so 1.5 is out of range (a RangeError),
// unlike a call's integer arguments, which _base.ts's checkSize refuses as a
// TypeError the way Python refuses a float.
function checkOptionSize(value: unknown, action: string, name: string): number {
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

export function checkDelimiter(delimiter: unknown, action: string): Uint8Array {
  const bytes = typeof delimiter === "string" ? encoder.encode(delimiter) : delimiter;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot ${action}: delimiter must be a string or a Uint8Array, got ${describe(delimiter)}`,
    );
  }
  if (bytes.length === 0) throw new RangeError(`Cannot ${action}: delimiter must not be empty`);
  return bytes;
}

export function checkLimit(options: DelimiterOptions | undefined, action: string): number {
  if (options === undefined) return DEFAULT_LIMIT;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot ${action}: options must be an object, got ${describe(options)}`);
  }
  const limit = checkOptionSize(options.limit ?? DEFAULT_LIMIT, action, "limit");
  if (limit === 0) throw new RangeError(`Cannot ${action}: limit must be positive, got 0`);
  return limit;
}

/**
 * Checks that a payload may be sent under `framing`.
 * @throws {RangeError} when it exceeds `maxMessage` or what the header can carry.
 */
export function checkPayload(size: number, framing: Framing, action: string): void {
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
export function writeHeader(
  target: Uint8Array,
  offset: number,
  size: number,
  framing: Framing,
): void {
  const n = framing.header;
  if (n === 8) {
    new DataView(target.buffer, target.byteOffset + offset, 8)
      .setBigUint64(0, BigInt(size), framing.littleEndian);
    return;
  }
  // Plain byte stores, as headerValue reads: no DataView per message.
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
export function readHeader(bytes: Uint8Array, offset: number, framing: Framing): number {
  const size = headerValue(bytes, offset, framing);
  if (size > framing.maxMessage) throw new MessageTooLargeError(size, framing.maxMessage);
  return size;
}

/**
 * The length in the header at `b[i]`, unchecked: the decoders' hot path,
 * plain byte arithmetic with no DataView or BigInt per message. Past 2^53 an
 * 8-byte length is the nearest number (as `Number(bigint)` rounds), which is
 * still over any `maxMessage`.
 */
export function headerValue(b: Uint8Array, i: number, framing: Framing): number {
  const le = framing.littleEndian;
  switch (framing.header) {
    case 1:
      return b[i];
    case 2:
      return le ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1];
    case 4:
      return uint32(b, i, le);
    default:
      return le
        ? uint32(b, i + 4, true) * 2 ** 32 + uint32(b, i, true)
        : uint32(b, i, false) * 2 ** 32 + uint32(b, i + 4, false);
  }
}

function uint32(b: Uint8Array, i: number, le: boolean): number {
  const value = le
    ? b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)
    : (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
  return value >>> 0;
}

/** Header and payload in one array; the payload was checked against `framing`. */
export function frame(payload: Uint8Array, framing: Framing): Uint8Array {
  const out = new Uint8Array(framing.header + payload.length);
  writeHeader(out, 0, payload.length, framing);
  out.set(payload, framing.header);
  return out;
}

/** A header alone, for a payload sent after it. */
export function headerBytes(size: number, framing: Framing): Uint8Array {
  const out = new Uint8Array(framing.header);
  writeHeader(out, 0, size, framing);
  return out;
}
