// Tiny byte helpers (the few std/bytes functions pysock needs), kept here so
// the package has no dependency outside Deno.

import { describe } from "./_address.ts";

const encoder = new TextEncoder();

/** A shared empty array for internal use; never handed to callers. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Data to send as bytes: a Uint8Array as is (no copy), any other
 * ArrayBufferView or ArrayBuffer as a view, a string as UTF-8.
 * @throws {TypeError} for anything else.
 */
export function toBytes(data: unknown, action: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return encoder.encode(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`Cannot ${action}: expected a Uint8Array or string, got ${describe(data)}`);
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
