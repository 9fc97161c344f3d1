// Address conversions of Python's socket module (inet_aton, inet_ntoa,
// inet_pton, inet_ntop), byte order (htons, ntohs, htonl, ntohl) and the IPv6
// normal form. Python calls glibc for all of these; the parsers and the
// formatter below follow glibc's rules (resolv/inet_addr.c, inet_pton.c,
// inet_ntop.c) so that every input is accepted or refused exactly as there.

import { checkCString, describe } from "./_address.ts";
import { checkAttached } from "./_bytes.ts";
import { AF_INET, AF_INET6 } from "./_constants.ts";
import { errno, errorFromErrno, OSError } from "./errors.ts";

/**
 * Python's `OSError("message")`, raised with a message alone: `message` is
 * the bare text, as `str(err)` is in Python, and `errno` and `strerror` are
 * `null` (Python's `None`).
 */
export function plainOSError(message: string): OSError {
  const err = new OSError(null);
  err.message = message;
  return err;
}

const MAX_LAST_PART = [0xffffffff, 0xffffff, 0xffff, 0xff];

/**
 * An IPv4 address in any form C's `inet_aton` takes ("127.1", "0x7f.1",
 * "017700000001"), as an unsigned 32-bit number, or -1.
 *
 * `exact` refuses trailing text, as glibc's `getaddrinfo` does; without it,
 * anything after a whitespace character is ignored, as `inet_aton` does.
 */
export function parseIpv4Lenient(text: string, exact: boolean): number {
  const parts: number[] = [];
  let i = 0;
  let value = 0;
  for (;;) {
    // Each part is read as strtoul(s, &end, 0) reads it: 0x.. hex, 0.. octal.
    let c = text.charCodeAt(i);
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    let base = 10;
    if (c === 0x30) {
      const x = text.charCodeAt(i + 1) | 0x20;
      if (x === 0x78 && hexValue(text.charCodeAt(i + 2)) >= 0) {
        base = 16;
        i += 2;
      } else {
        base = 8;
      }
    }
    value = 0;
    for (;;) {
      c = text.charCodeAt(i);
      const digit = hexValue(c);
      if (digit < 0 || digit >= base) break;
      value = value * base + digit;
      if (value > 0xffffffff) return -1;
      i++;
    }
    if (c !== 0x2e) break; // not "."
    if (parts.length > 2 || value > 0xff) return -1;
    parts.push(value);
    i++;
  }
  if (i < text.length && (exact || !isCSpace(text.charCodeAt(i)))) return -1;
  if (value > MAX_LAST_PART[parts.length]) return -1;
  let result = 0;
  for (let k = 0; k < parts.length; k++) result += parts[k] * 2 ** (24 - 8 * k);
  return result + value;
}

/**
 * inet_pton(AF_INET) of `text` from `start` to its end: exactly four decimal
 * parts 0-255, no leading zeros. Fills `into[at..at+4)` on success.
 */
export function parseIpv4Strict(
  text: string,
  start: number,
  into: Uint8Array,
  at: number,
): boolean {
  let octets = 0;
  let sawDigit = false;
  let current = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (sawDigit && current === 0) return false;
      current = current * 10 + (c - 0x30);
      if (current > 255) return false;
      if (!sawDigit) {
        if (++octets > 4) return false;
        sawDigit = true;
      }
    } else if (c === 0x2e && sawDigit) {
      if (octets === 4) return false;
      into[at + octets - 1] = current;
      current = 0;
      sawDigit = false;
    } else {
      return false;
    }
  }
  if (octets < 4) return false;
  into[at + 3] = current;
  return true;
}

/**
 * inet_pton(AF_INET6), glibc's rules: hex groups of at most four digits, one
 * `::`, an optional dotted IPv4 tail. Fills `into` (16 bytes) on success.
 */
export function parseIpv6(text: string, into: Uint8Array): boolean {
  const end = text.length;
  let i = 0;
  if (end === 0) return false;
  if (text.charCodeAt(0) === 0x3a) {
    if (end < 2 || text.charCodeAt(1) !== 0x3a) return false;
    i = 1;
  }
  into.fill(0);
  let tp = 0;
  let colon = -1;
  let token = i;
  let digits = 0;
  let value = 0;
  while (i < end) {
    const c = text.charCodeAt(i++);
    const digit = hexValue(c);
    if (digit >= 0) {
      if (digits === 4) return false;
      value = (value << 4) | digit;
      digits++;
      continue;
    }
    if (c === 0x3a) {
      token = i;
      if (digits === 0) {
        if (colon !== -1) return false;
        colon = tp;
        continue;
      }
      if (i === end || tp + 2 > 16) return false;
      into[tp++] = value >> 8;
      into[tp++] = value & 0xff;
      digits = 0;
      value = 0;
      continue;
    }
    if (c === 0x2e && tp + 4 <= 16 && parseIpv4Strict(text, token, into, tp)) {
      tp += 4;
      digits = 0;
      break;
    }
    return false;
  }
  if (digits > 0) {
    if (tp + 2 > 16) return false;
    into[tp++] = value >> 8;
    into[tp++] = value & 0xff;
  }
  if (colon !== -1) {
    if (tp === 16) return false;
    const moved = tp - colon;
    into.copyWithin(16 - moved, colon, tp);
    into.fill(0, colon, 16 - moved);
    tp = 16;
  }
  return tp === 16;
}

/**
 * glibc's inet_ntop(AF_INET6) (RFC 5952 but for one rule): lowercase hex, the
 * first longest run of two or more zero groups as `::`, and a dotted tail for
 * IPv4-mapped (`::ffff:1.2.3.4`) and IPv4-compatible (`::1.2.3.4`) addresses.
 */
export function formatIpv6(bytes: Uint8Array): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let w = 0; w < 8; w++) {
    if (bytes[2 * w] === 0 && bytes[2 * w + 1] === 0) {
      if (curBase === -1) {
        curBase = w;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase !== -1) {
      if (curLen > bestLen) [bestBase, bestLen] = [curBase, curLen];
      curBase = -1;
    }
  }
  if (curBase !== -1 && curLen > bestLen) [bestBase, bestLen] = [curBase, curLen];
  if (bestLen < 2) bestBase = -1;
  let out = "";
  for (let w = 0; w < 8; w++) {
    if (bestBase !== -1 && w >= bestBase && w < bestBase + bestLen) {
      if (w === bestBase) out += ":";
      continue;
    }
    if (w !== 0) out += ":";
    if (
      w === 6 && bestBase === 0 &&
      (bestLen === 6 || (bestLen === 5 && bytes[10] === 0xff && bytes[11] === 0xff))
    ) {
      return out + `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
    }
    out += ((bytes[2 * w] << 8) | bytes[2 * w + 1]).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ":";
  return out;
}

/**
 * Whether an IPv6 address (16 bytes) takes an interface name as its zone, as
 * glibc's __inet6_scopeid_pton has it: link-local unicast (fe80::/10) and
 * interface- or link-local multicast (ffx1::, ffx2::). Any address takes a
 * number.
 */
export function takesInterfaceZone(bytes: Uint8Array): boolean {
  if (bytes[0] === 0xfe) return (bytes[1] & 0xc0) === 0x80;
  return bytes[0] === 0xff && ((bytes[1] & 0x0f) === 0x01 || (bytes[1] & 0x0f) === 0x02);
}

/** Whether `zone` is a numeric IPv6 zone glibc reads (digits, at most 2**32-1). */
export function isNumericZone(zone: string): boolean {
  return /^\d+$/.test(zone) && Number(zone) <= 0xffffffff;
}

/** Dotted-quad text of an unsigned 32-bit address. */
export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

// One-entry memo for normalizeIpv6: a datagram socket sees the same peer
// again and again, and recvfrom normalises every sender's address.
let lastRaw = "";
let lastNormal = "";
const scratch = new Uint8Array(16);

/**
 * The compressed form Python gives an IPv6 address (`0:0:0:0:0:0:0:1` →
 * `::1`, `::FFFF:1.2.3.4` → `::ffff:1.2.3.4`), keeping a `%zone` suffix as is.
 * Anything that is not an IPv6 address comes back unchanged, so the function
 * can be applied to every host a socket returns.
 */
export function normalizeIpv6(host: string): string {
  if (host === lastRaw) return lastNormal;
  const zone = host.indexOf("%");
  const address = zone === -1 ? host : host.slice(0, zone);
  if (!address.includes(":") || !parseIpv6(address, scratch)) return host;
  const normal = zone === -1 ? formatIpv6(scratch) : formatIpv6(scratch) + host.slice(zone);
  lastRaw = host;
  lastNormal = normal;
  return normal;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

// C's isspace() in the C locale.
function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function checkPacked(value: unknown, action: string): Uint8Array {
  // A detached buffer reads as no bytes: the README's TypeError, not a wrong length.
  if (value instanceof Uint8Array) {
    if (value.length === 0) checkAttached(value, action);
    return value;
  }
  if (ArrayBuffer.isView(value)) {
    checkAttached(value, action);
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof ArrayBuffer) {
    checkAttached({ buffer: value } as ArrayBufferView, action);
    return new Uint8Array(value);
  }
  throw new TypeError(`Cannot ${action}: packed_ip must be a Uint8Array, got ${describe(value)}`);
}

function checkFamily(value: unknown, action: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${action}: family must be an integer, got ${describe(value)}`);
  }
  // A C int, as CPython's OverflowError says for anything wider.
  if (value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RangeError(`Cannot ${action}: family ${value} does not fit a C int`);
  }
  return value;
}

/**
 * Converts an IPv4 address in dotted form to its 4 bytes in network order
 * (Python's `socket.inet_aton`). Like C's `inet_aton`, it also takes the
 * short and based forms: `"127.1"`, `"0x7f.1"`, `"0177.0.0.1"`, `"2130706433"`.
 *
 * @param ipString The address.
 * @returns A new 4-byte array.
 * @throws {OSError} `illegal IP address string passed to inet_aton` when the
 *   text is no IPv4 address (`errno` `null`, as Python's is `None`).
 * @throws {TypeError} when `ipString` is not a string.
 * @throws {RangeError} when it contains a NUL (Python's `ValueError`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inet_aton } from "./mod.ts";
 *
 * assert.deepEqual(inet_aton("127.0.0.1"), new Uint8Array([127, 0, 0, 1]));
 * assert.deepEqual(inet_aton("127.1"), new Uint8Array([127, 0, 0, 1]));
 * assert.throws(() => inet_aton("300.1.2.3"), {
 *   message: "illegal IP address string passed to inet_aton",
 * });
 * ```
 */
export function inet_aton(ipString: string): Uint8Array {
  const text = checkCString(ipString, "inet_aton", "ip_string");
  const value = parseIpv4Lenient(text, false);
  if (value < 0) throw plainOSError("illegal IP address string passed to inet_aton");
  return new Uint8Array([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}

/**
 * Converts 4 bytes in network order to dotted-quad text (Python's
 * `socket.inet_ntoa`).
 *
 * @param packedIp Exactly 4 bytes (a Uint8Array, another view, or an ArrayBuffer).
 * @returns The address, e.g. `"1.2.3.4"`.
 * @throws {OSError} `packed IP wrong length for inet_ntoa` for any other length,
 *   as Python 3.11 raises it.
 * @throws {TypeError} when `packedIp` holds no bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inet_ntoa } from "./mod.ts";
 *
 * assert.equal(inet_ntoa(new Uint8Array([170, 85, 170, 85])), "170.85.170.85");
 * assert.throws(() => inet_ntoa(new Uint8Array(3)), {
 *   message: "packed IP wrong length for inet_ntoa",
 * });
 * ```
 */
export function inet_ntoa(packedIp: Uint8Array): string {
  const bytes = checkPacked(packedIp, "inet_ntoa");
  if (bytes.length !== 4) throw plainOSError("packed IP wrong length for inet_ntoa");
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Converts an address in text form to its packed bytes (Python's
 * `socket.inet_pton`): 4 bytes for `AF_INET` (strict dotted quad, no
 * shorthand), 16 for `AF_INET6` (any valid form, including a dotted tail).
 *
 * @param addressFamily `AF_INET` or `AF_INET6`.
 * @param ipString The address.
 * @returns A new 4- or 16-byte array.
 * @throws {OSError} `illegal IP address string passed to inet_pton` for text
 *   that is no address of the family; `EAFNOSUPPORT` (97) for another family.
 * @throws {TypeError} for a non-integer family or a non-string address.
 * @throws {RangeError} for a NUL in the address or a family wider than a C
 *   int (Python's `ValueError`, `OverflowError`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET6, inet_pton } from "./mod.ts";
 *
 * const packed = inet_pton(AF_INET6, "::1");
 * assert.equal(packed.length, 16);
 * assert.equal(packed[15], 1);
 * assert.throws(() => inet_pton(AF_INET6, "1::2::3"), {
 *   message: "illegal IP address string passed to inet_pton",
 * });
 * ```
 */
export function inet_pton(addressFamily: number, ipString: string): Uint8Array {
  const family = checkFamily(addressFamily, "inet_pton");
  const text = checkCString(ipString, "inet_pton", "ip_string");
  let out: Uint8Array;
  if (family === AF_INET) {
    out = new Uint8Array(4);
    if (parseIpv4Strict(text, 0, out, 0)) return out;
  } else if (family === AF_INET6) {
    out = new Uint8Array(16);
    if (parseIpv6(text, out)) return out;
  } else {
    throw errorFromErrno(errno.EAFNOSUPPORT);
  }
  throw plainOSError("illegal IP address string passed to inet_pton");
}

/**
 * Converts packed bytes to the text form Python gives (Python's
 * `socket.inet_ntop`): dotted quad for `AF_INET`; for `AF_INET6` the
 * compressed lowercase form glibc writes, with a dotted tail for IPv4-mapped
 * addresses (`::ffff:1.2.3.4`).
 *
 * @param addressFamily `AF_INET` or `AF_INET6`.
 * @param packedIp 4 or 16 bytes.
 * @returns The address text.
 * @throws {RangeError} for a length that does not fit the family (Python's
 *   `ValueError`), or an unknown family.
 * @throws {TypeError} for a non-integer family or no bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET6, inet_ntop, inet_pton } from "./mod.ts";
 *
 * assert.equal(inet_ntop(AF_INET6, inet_pton(AF_INET6, "0:0:0:0:0:0:0:1")), "::1");
 * assert.equal(inet_ntop(AF_INET6, inet_pton(AF_INET6, "::FFFF:102:304")), "::ffff:1.2.3.4");
 * assert.throws(() => inet_ntop(AF_INET6, new Uint8Array(4)), RangeError);
 * ```
 */
export function inet_ntop(addressFamily: number, packedIp: Uint8Array): string {
  const family = checkFamily(addressFamily, "inet_ntop");
  const bytes = checkPacked(packedIp, "inet_ntop");
  const expected = family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0;
  if (expected === 0) {
    throw new RangeError(`Cannot inet_ntop: unknown address family ${family}`);
  }
  if (bytes.length !== expected) {
    throw new RangeError(
      `Cannot inet_ntop: invalid length of packed IP address string (${bytes.length} bytes, ` +
        `${family === AF_INET ? "AF_INET" : "AF_INET6"} takes ${expected})`,
    );
  }
  return family === AF_INET ? inet_ntoa(bytes) : formatIpv6(bytes);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkUnsigned(x: unknown, bits: 16 | 32, action: string): number {
  if (typeof x !== "number" || !Number.isInteger(x)) {
    throw new TypeError(`Cannot ${action}: expected an integer, got ${describe(x)}`);
  }
  if (x < 0) {
    throw new RangeError(
      `Cannot ${action}: can't convert negative value ${x} to an unsigned ${bits}-bit integer`,
    );
  }
  if (x > (bits === 16 ? 0xffff : 0xffffffff)) {
    throw new RangeError(`Cannot ${action}: ${x} is too large for an unsigned ${bits}-bit integer`);
  }
  return x;
}

function swap16(x: number): number {
  return LITTLE_ENDIAN ? ((x & 0xff) << 8) | (x >>> 8) : x;
}

function swap32(x: number): number {
  if (!LITTLE_ENDIAN) return x;
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * Converts a 16-bit number from host to network byte order (Python's
 * `socket.htons`): swaps the two bytes on a little-endian host.
 *
 * @param x An integer 0-65535.
 * @returns The converted number.
 * @throws {RangeError} for a negative number or one over 16 bits (Python's `OverflowError`).
 * @throws {TypeError} for a non-integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { htons } from "./mod.ts";
 *
 * assert.equal(htons(0x1234), 0x3412); // on a little-endian host, as x86 and ARM are
 * assert.throws(() => htons(70000), RangeError);
 * ```
 */
export function htons(x: number): number {
  return swap16(checkUnsigned(x, 16, "htons"));
}

/**
 * Converts a 16-bit number from network to host byte order (Python's
 * `socket.ntohs`).
 *
 * @param x An integer 0-65535.
 * @returns The converted number.
 * @throws {RangeError} for a negative number or one over 16 bits.
 * @throws {TypeError} for a non-integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { htons, ntohs } from "./mod.ts";
 *
 * assert.equal(ntohs(htons(8080)), 8080);
 * assert.throws(() => ntohs(-1), RangeError);
 * ```
 */
export function ntohs(x: number): number {
  return swap16(checkUnsigned(x, 16, "ntohs"));
}

/**
 * Converts a 32-bit number from host to network byte order (Python's
 * `socket.htonl`).
 *
 * @param x An integer 0-4294967295.
 * @returns The converted number (unsigned).
 * @throws {RangeError} for a negative number or one over 32 bits.
 * @throws {TypeError} for a non-integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { htonl } from "./mod.ts";
 *
 * assert.equal(htonl(1), 0x01000000); // on a little-endian host
 * assert.throws(() => htonl(2 ** 32), RangeError);
 * ```
 */
export function htonl(x: number): number {
  return swap32(checkUnsigned(x, 32, "htonl"));
}

/**
 * Converts a 32-bit number from network to host byte order (Python's
 * `socket.ntohl`).
 *
 * @param x An integer 0-4294967295.
 * @returns The converted number (unsigned).
 * @throws {RangeError} for a negative number or one over 32 bits.
 * @throws {TypeError} for a non-integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { htonl, INADDR_LOOPBACK, ntohl } from "./mod.ts";
 *
 * assert.equal(ntohl(htonl(INADDR_LOOPBACK)), 0x7f000001);
 * ```
 */
export function ntohl(x: number): number {
  return swap32(checkUnsigned(x, 32, "ntohl"));
}
