// Python's recvmsg, recvmsg_into and sendmsg: the argument checks and the
// shapes both socket kinds share.
//
// `ancdata` is always empty. Deno reads and writes sockets with plain
// read/recv and write/send, never recvmsg(2)/sendmsg(2): a control message
// cannot be sent (sendmsg refuses one with EOPNOTSUPP naming it), and none
// can be received: the options that ask the kernel for them (IP_PKTINFO,
// IP_RECVTOS, SO_TIMESTAMP, ...) cannot be set, and descriptors or
// credentials a peer sends over a Unix socket are dropped by the kernel.

import { type Address, describe } from "./_address.ts";
import { concat, toBytes } from "./_bytes.ts";
import { checkInto } from "./_base.ts";
import { SCM_CREDENTIALS, SCM_RIGHTS, SOL_SOCKET } from "./_constants.ts";
import { errno, OSError } from "./errors.ts";

/** One control message: `[level, type, data]`, as Python's `(cmsg_level, cmsg_type, cmsg_data)`. */
export type AncillaryItem = [level: number, type: number, data: Uint8Array];

/**
 * What `recvmsg` resolves to, as Python's tuple: the data, the control
 * messages (always `[]`, see `recvmsg`), the `msg_flags` (`MSG_TRUNC` when
 * a datagram was cut), and the sender's address (`null` on a stream
 * socket, as Python's `None`).
 */
export type RecvmsgResult = [
  data: Uint8Array,
  ancdata: AncillaryItem[],
  msgFlags: number,
  address: Address | null,
];

/** What `recvmsgInto` resolves to: as {@linkcode RecvmsgResult}, with the count written first. */
export type RecvmsgIntoResult = [
  nbytes: number,
  ancdata: AncillaryItem[],
  msgFlags: number,
  address: Address | null,
];

/**
 * Checks `ancbufsize`: room for control messages, which never come.
 * @throws {TypeError} for a non-integer; {RangeError} for a negative size
 *   (Python's ValueError).
 */
export function checkAncbufsize(ancbufsize: unknown, action: string): void {
  if (typeof ancbufsize !== "number" || !Number.isInteger(ancbufsize)) {
    throw new TypeError(
      `Cannot ${action}: ancbufsize must be an integer, got ${describe(ancbufsize)}`,
    );
  }
  if (ancbufsize < 0) {
    throw new RangeError(`Cannot ${action}: ancbufsize must be non-negative, got ${ancbufsize}`);
  }
}

/**
 * Checks `ancdata` for sending: an iterable of `[level, type, data]` items,
 * and empty.
 * @throws {TypeError} when not iterable, or for an item that is not three
 *   elements (two integers and bytes), as Python checks every item first.
 * @throws {OSError} `EOPNOTSUPP` naming the first control message: Deno
 *   cannot send one.
 */
export function checkAncdata(ancdata: unknown, action: string): void {
  if (ancdata === undefined) return;
  if (!isIterable(ancdata) || typeof ancdata === "string") {
    throw new TypeError(
      `Cannot ${action}: ancdata must be an array of [level, type, data], got ${describe(ancdata)}`,
    );
  }
  const items = [...ancdata];
  for (const item of items) {
    const valid = Array.isArray(item) && item.length === 3 && Number.isInteger(item[0]) &&
      Number.isInteger(item[1]) && (ArrayBuffer.isView(item[2]) || item[2] instanceof ArrayBuffer);
    if (!valid) {
      throw new TypeError(
        `Cannot ${action}: each ancdata item must be [level, type, data] (two integers and bytes), got ${
          describe(item)
        }`,
      );
    }
  }
  if (items.length === 0) return;
  const [level, type] = items[0] as [number, number];
  const name = level === SOL_SOCKET && type === SCM_RIGHTS
    ? "SCM_RIGHTS (file descriptors)"
    : level === SOL_SOCKET && type === SCM_CREDENTIALS
    ? "SCM_CREDENTIALS"
    : `the control message [${level}, ${type}, …]`;
  throw new OSError(errno.EOPNOTSUPP, {
    detail: `Deno cannot send ${name}: it has no sendmsg(2)`,
  });
}

/**
 * The bytes of `buffers` (an iterable of byte arrays or strings) as one
 * array: the first one itself when it is the only one.
 * @throws {TypeError} for a non-iterable, a single array or string passed
 *   instead of a list, or an element that is not bytes.
 */
export function gather(buffers: unknown, action: string): Uint8Array {
  if (
    !isIterable(buffers) || typeof buffers === "string" || ArrayBuffer.isView(buffers) ||
    buffers instanceof ArrayBuffer
  ) {
    throw new TypeError(
      `Cannot ${action}: buffers must be an array of byte arrays, got ${describe(buffers)}`,
    );
  }
  const parts: Uint8Array[] = [];
  for (const part of buffers) parts.push(toBytes(part, action));
  return parts.length === 1 ? parts[0] : concat(parts);
}

/**
 * Checks the buffers of `recvmsgInto`: an iterable of attached `Uint8Array`s.
 * @returns Them, as an array.
 * @throws {TypeError} for anything else.
 */
export function checkTargets(buffers: unknown, action: string): Uint8Array[] {
  if (!isIterable(buffers) || ArrayBuffer.isView(buffers) || typeof buffers === "string") {
    throw new TypeError(
      `Cannot ${action}: buffers must be an array of Uint8Array, got ${describe(buffers)}`,
    );
  }
  return Array.from(buffers, (buf) => checkInto(buf, 0, action));
}

/** The total room in `targets`. */
export function roomOf(targets: readonly Uint8Array[]): number {
  let room = 0;
  for (const target of targets) room += target.length;
  return room;
}

/** Copies `data` across `targets` in order, filling each before the next; returns its length. */
export function scatter(data: Uint8Array, targets: readonly Uint8Array[]): number {
  let at = 0;
  for (const target of targets) {
    if (at >= data.length) break;
    const part = data.subarray(at, at + target.length);
    target.set(part);
    at += part.length;
  }
  return data.length;
}

// Linux on 64-bit: a cmsghdr is 16 bytes and data is aligned to 8. Python
// refuses a result that does not fit in a (signed) socklen_t.
const CMSG_HEADER = 16;
const SOCKLEN_MAX = 0x7fffffff;

/**
 * The `ancbufsize` that fits one control message of `length` data bytes,
 * without trailing padding (Python's `socket.CMSG_LEN`). pysock receives
 * no control messages (see `recvmsg`), but programs compute their buffer
 * sizes with it.
 *
 * @param length The data bytes of the message.
 * @returns `16 + length` on Linux.
 * @throws {TypeError} for a non-integer; {RangeError} out of range
 *   (Python's OverflowError).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CMSG_LEN } from "./mod.ts";
 * assert.equal(CMSG_LEN(4), 20);
 * ```
 */
export function CMSG_LEN(length: number): number {
  checkCmsgLength(length, SOCKLEN_MAX - CMSG_HEADER, "CMSG_LEN");
  return CMSG_HEADER + length;
}

/**
 * The room one control message of `length` data bytes takes in a buffer,
 * with its padding (Python's `socket.CMSG_SPACE`).
 *
 * @param length The data bytes of the message.
 * @returns `16 + length` rounded up to a multiple of 8, on Linux.
 * @throws {TypeError} for a non-integer; {RangeError} out of range
 *   (Python's OverflowError).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CMSG_SPACE } from "./mod.ts";
 * assert.equal(CMSG_SPACE(4), 24);
 * ```
 */
export function CMSG_SPACE(length: number): number {
  checkCmsgLength(length, SOCKLEN_MAX - (CMSG_HEADER + 8), "CMSG_SPACE");
  return CMSG_HEADER + ((length + 7) & ~7);
}

function checkCmsgLength(length: unknown, max: number, name: string): void {
  if (typeof length !== "number" || !Number.isInteger(length)) {
    throw new TypeError(`Cannot ${name}: length must be an integer, got ${describe(length)}`);
  }
  if (length < 0 || length > max) {
    throw new RangeError(`Cannot ${name}: length must be 0-${max}, got ${length}`);
  }
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}
