// Tiny byte helpers (the few std/bytes functions pysock needs), kept here so
// the package has no dependency outside Deno.

import { describe } from "./_address.ts";

const encoder = new TextEncoder();

/** A shared empty array for internal use; never handed to callers. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * `bytes.subarray(start, start + length)` for the hot path: the constructor
 * skips subarray's species lookup, about 40% of the cost of a small view.
 */
export function view(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);
}

/**
 * Data to send as bytes: a Uint8Array as is (no copy), any other
 * ArrayBufferView or ArrayBuffer as a view, a string as UTF-8.
 * @throws {TypeError} for anything else, and for a detached buffer.
 */
export function toBytes(data: unknown, action: string): Uint8Array {
  if (data instanceof Uint8Array) {
    if (data.length === 0) checkAttached(data, action);
    return data;
  }
  if (typeof data === "string") return encoder.encode(data);
  if (ArrayBuffer.isView(data)) {
    checkAttached(data, action);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) {
    if (data.detached) throw detached(action);
    return new Uint8Array(data);
  }
  throw new TypeError(`Cannot ${action}: expected a Uint8Array or string, got ${describe(data)}`);
}

/**
 * Fails for a view over a detached (transferred) ArrayBuffer. Such a view
 * reads as empty, so a send would quietly send nothing and a receive into
 * it would resolve 0, which means end of stream. Only an empty view can be
 * detached, so callers test the length first and the hot path pays nothing.
 * @throws {TypeError} naming the call.
 */
export function checkAttached(view: ArrayBufferView, action: string): void {
  if ((view.buffer as ArrayBuffer).detached) throw detached(action);
}

function detached(action: string): TypeError {
  return new TypeError(
    `Cannot ${action}: the buffer is detached (its ArrayBuffer was transferred)`,
  );
}

/** Encodes a string as UTF-8. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Concatenates arrays into one new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The index of `needle` in `source[from..to)`, or -1. A one-byte needle uses
 * the native `indexOf`; longer ones compare from the first byte's hits.
 */
export function indexOfNeedle(
  source: Uint8Array,
  needle: Uint8Array,
  from = 0,
  to = source.length,
): number {
  const first = needle[0];
  const last = to - needle.length;
  let i = source.indexOf(first, from);
  while (i !== -1 && i <= last) {
    let j = 1;
    while (j < needle.length && source[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
    i = source.indexOf(first, i + 1);
  }
  return -1;
}
