// _inet.ts: inet_aton, inet_ntoa, inet_pton, inet_ntop, byte order and the
// IPv6 normal form, each compared with CPython on the same inputs.

import assert from "node:assert/strict";
import {
  formatIpv6,
  htonl,
  htons,
  inet_aton,
  inet_ntoa,
  inet_ntop,
  inet_pton,
  normalizeIpv6,
  ntohl,
  ntohs,
  parseIpv4Lenient,
} from "../_inet.ts";
import { AF_INET, AF_INET6, AF_UNIX, INADDR_LOOPBACK } from "../_constants.ts";
import { errno, OSError } from "../errors.ts";
import { prng } from "../fuzz/_targets.ts";
import { assertSameOutcomes, type Outcome, python } from "./_helpers.ts";

/** What a call gave: bytes as hex, text, a number, or the error's class and message. */

function outcome(fn: () => Uint8Array | string | number): Outcome {
  try {
    const r = fn();
    return { ok: r instanceof Uint8Array ? toHex(r) : r };
  } catch (e) {
    return { err: (e as Error).constructor.name, msg: (e as Error).message };
  }
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
}

// Runs `calls` (one Python expression over `a`, `b` per row) under CPython and
// returns each row's outcome, errors as [class name, str(e)].
async function cpython(expr: string, rows: unknown[][]): Promise<Outcome[]> {
  const code = `
import json, socket, sys
from socket import *
out = []
for a, b in json.loads(sys.argv[1]):
    try:
        r = ${expr}
        out.append({"ok": r.hex() if isinstance(r, bytes) else r})
    except Exception as e:
        out.append({"err": type(e).__name__, "msg": str(e)})
print(json.dumps(out))
`;
  await using py = python(code, JSON.stringify(rows));
  return JSON.parse(await py.output());
}

function fuzzStrings(alphabet: string, count: number, maxLength: number, seed: number): string[] {
  const next = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(next() * maxLength);
    let s = "";
    for (let j = 0; j < length; j++) s += alphabet[Math.floor(next() * alphabet.length)];
    out.push(s);
  }
  return out;
}

const IPV4_TEXTS = [
  // CPython's testIPv4toString and testIPv4_inet_aton_fourbytes
  "0.0.0.0",
  "255.0.255.0",
  "170.170.170.170",
  "1.2.3.4",
  "255.255.255.255",
  "0.0.0.",
  "300.0.0.0",
  "a.0.0.0",
  "1.2.3.4.5",
  "::1",
  // inet_aton's short, hex and octal forms, and where they stop
  "127.1",
  "0x7f.1",
  "0177.0.0.1",
  "1",
  "4294967295",
  "4294967296",
  "1.2.3",
  "1.65535",
  "1.65536",
  "1.2.65535",
  "1.2.65536",
  "1.16777215",
  "1.16777216",
  "0xffffffff",
  "0x100000000",
  "0XFF.0.0.1",
  "0x",
  "0x.1",
  "08.1.1.1",
  "0.08",
  "1.256.1",
  "1..2",
  ".1",
  "1.",
  "",
  "a",
  "00000000000000000001",
  "0x00000000000000001",
  "99999999999999999999999",
  "1.2.3.0x4",
  "1.2.3.4x",
  "1.2.3.04",
  "01.2.3.4",
  // trailing and leading whitespace
  "1.2.3.4 ",
  "1.2.3.4 x",
  "1.2.3.4\tz",
  "1.2.3.4\n",
  "1.2.3.4\v",
  " 1.2.3.4",
  "1.2.3.4\u00a0",
  "é",
  "１.2.3.4",
];

Deno.test("inet_aton and inet_pton(AF_INET) accept and refuse what CPython does, with its errors", async () => {
  const texts = [...IPV4_TEXTS, ...fuzzStrings("0123456789x.", 1500, 14, 4)];
  const rows = texts.map((t) => [t, null]);
  const aton = await cpython("inet_aton(a)", rows);
  assertSameOutcomes(texts.map((t) => outcome(() => inet_aton(t))), aton, texts);
  const pton = await cpython("inet_pton(AF_INET, a)", rows);
  assertSameOutcomes(texts.map((t) => outcome(() => inet_pton(AF_INET, t))), pton, texts);
});

const IPV6_TEXTS = [
  // CPython's testIPv6toString
  "::",
  "0::0",
  "1::",
  "45ef:76cb:1a:56ef:afeb:bac:1924:aeae",
  "ad42:abc::127:0:254:2",
  "12:a::",
  "0x20::",
  ":::",
  "::0::",
  "1::abc::",
  "1::abc::def",
  "1:2:3:4:5:6",
  "1:2:3:4:5:6:",
  "1:2:3:4:5:6:7:8:0",
  "1:2:3:4:5:6:7:8:",
  "::254.42.23.64",
  "42::a29b:254.42.23.64",
  "42:a8b9:0:2:ffff:a29b:254.42.23.64",
  "255.254.253.252",
  "1::260.2.3.0",
  "1::0.be.e.0",
  "1:2:3:4:5:6:7:1.2.3.4",
  "::1.2.3.4:0",
  "0.100.200.0:3:4:5:6:7:8",
  // more edges
  "::1",
  "0:0:0:0:0:0:0:1",
  "::ffff:1.2.3.4",
  "::FFFF:1.2.3.4",
  "::ffff:01.2.3.4",
  "::ffff:1.2.3",
  "1:2:3:4:5:6:1.2.3.4",
  "1:2:3:4:5:6:7::",
  "::2:3:4:5:6:7:8",
  "1:2:3:4:5:6:7:8",
  "1::2:3:4:5:6:7:8",
  "1:2:3:4::5:6:7:8",
  "12345::",
  "00000::",
  "0000::",
  "ABCD::EF",
  "fe80::1%eth0",
  "[::1]",
  ":1::",
  " ::1",
  "::1 ",
  "",
  ":",
  "1:",
  "::ffff:256.1.1.1",
];

Deno.test("inet_pton(AF_INET6) accepts and refuses what CPython does", async () => {
  const texts = [...IPV6_TEXTS, ...fuzzStrings("0123af:.", 2000, 18, 6)];
  const rows = texts.map((t) => [t, null]);
  const theirs = await cpython("inet_pton(AF_INET6, a)", rows);
  assertSameOutcomes(texts.map((t) => outcome(() => inet_pton(AF_INET6, t))), theirs, texts);
});

// Addresses with zero groups in every arrangement, where compression rules differ.
function packedIpv6Cases(): string[] {
  const cases = [
    "00000000000000000000000000000000",
    "00000000000000000000000000000001",
    "00000000000000000000ffff01020304",
    "00000000000000000000000001020304",
    "00000000000000000000000000000101",
    "000000000000000000000000ffff0000",
    "0000000000000000ffff000001020304",
    "00000000000000000000fffe01020304",
    "00000000000000000000ffff00000000",
    "00000000000000000000000000010203",
    "0aef0b0105061001ffff999700550170",
    "fe80000000000000abcdabcdabcdabcd",
  ];
  // Every pattern of zero and non-zero groups (2^8), non-zero groups varying.
  for (let mask = 0; mask < 256; mask++) {
    let hex = "";
    for (let w = 0; w < 8; w++) {
      hex += mask & (1 << w) ? (w * 0x1111 + 1).toString(16).padStart(4, "0") : "0000";
    }
    cases.push(hex);
  }
  return cases;
}

Deno.test("inet_ntop(AF_INET6) writes exactly what CPython writes for every zero-run pattern", async () => {
  const hexes = packedIpv6Cases();
  const theirs = await cpython(
    "inet_ntop(AF_INET6, bytes.fromhex(a))",
    hexes.map((h) => [h, null]),
  );
  assertSameOutcomes(
    hexes.map((h) => outcome(() => inet_ntop(AF_INET6, fromHex(h)))),
    theirs,
    hexes,
  );
});

Deno.test("normalizeIpv6 gives inet_ntop(inet_pton(x)) and leaves other hosts alone", async () => {
  const texts = IPV6_TEXTS.filter((t) => {
    try {
      inet_pton(AF_INET6, t);
      return true;
    } catch {
      return false;
    }
  });
  const theirs = await cpython(
    "inet_ntop(AF_INET6, inet_pton(AF_INET6, a))",
    texts.map((t) => [t, null]),
  );
  assertSameOutcomes(texts.map((t) => ({ ok: normalizeIpv6(t) })), theirs, texts);
  assert.equal(normalizeIpv6("0:0:0:0:0:0:0:1"), "::1");
  assert.equal(normalizeIpv6("FE80:0:0:0:0:0:0:1%eth0"), "fe80::1%eth0");
  assert.equal(normalizeIpv6("FE80:0:0:0:0:0:0:1%eth0"), "fe80::1%eth0"); // memoised answer
  for (const other of ["127.0.0.1", "localhost", "", "/tmp/x.sock", "1::2::3", "::1%"]) {
    assert.equal(normalizeIpv6(other), other === "::1%" ? "::1%" : other);
  }
});

Deno.test("inet_ntoa and inet_ntop(AF_INET) match CPython, length errors included", async () => {
  const hexes = [
    "01000100",
    "aa55aa55",
    "ffffffff",
    "01020304",
    "00000000",
    "000000",
    "0000000000",
    "00".repeat(16),
    "",
  ];
  const ntoa = await cpython("inet_ntoa(bytes.fromhex(a))", hexes.map((h) => [h, null]));
  assertSameOutcomes(hexes.map((h) => outcome(() => inet_ntoa(fromHex(h)))), ntoa, hexes);
  const ntop = await cpython("inet_ntop(AF_INET, bytes.fromhex(a))", hexes.map((h) => [h, null]));
  assertSameOutcomes(hexes.map((h) => outcome(() => inet_ntop(AF_INET, fromHex(h)))), ntop, hexes);
  const v6 = ["00".repeat(15), "12".repeat(17), "12".repeat(4)];
  const ntop6 = await cpython("inet_ntop(AF_INET6, bytes.fromhex(a))", v6.map((h) => [h, null]));
  assertSameOutcomes(v6.map((h) => outcome(() => inet_ntop(AF_INET6, fromHex(h)))), ntop6, v6);
});

Deno.test("inet_ntoa and inet_ntop take any byte view and refuse strings", () => {
  const bytes = new Uint8Array([9, 170, 85, 170, 85, 9]);
  assert.equal(inet_ntoa(bytes.subarray(1, 5)), "170.85.170.85");
  assert.equal(
    inet_ntoa(new DataView(bytes.buffer, 1, 4) as unknown as Uint8Array),
    "170.85.170.85",
  );
  assert.equal(
    inet_ntop(AF_INET, new Uint8Array([1, 2, 3, 4]).buffer as unknown as Uint8Array),
    "1.2.3.4",
  );
  assert.throws(() => inet_ntoa("1234" as unknown as Uint8Array), {
    name: "TypeError",
    message: 'Cannot inet_ntoa: packed_ip must be a Uint8Array, got "1234"',
  });
  assert.throws(() => inet_ntop(AF_INET, 4 as unknown as Uint8Array), TypeError);
});

Deno.test("inet_pton and inet_ntop refuse other families as CPython does", () => {
  for (const family of [AF_UNIX, 99]) {
    assert.throws(
      () => inet_pton(family, "1.2.3.4"),
      (e: unknown) =>
        e instanceof OSError && e.errno === errno.EAFNOSUPPORT &&
        e.message === "[Errno 97] Address family not supported by protocol",
    );
    assert.throws(() => inet_ntop(family, new Uint8Array(4)), {
      name: "RangeError",
      message: `Cannot inet_ntop: unknown address family ${family}`,
    });
  }
  assert.throws(() => inet_pton("2" as unknown as number, "1.2.3.4"), TypeError);
  assert.throws(() => inet_ntop(2.5, new Uint8Array(4)), TypeError);
});

Deno.test("address text with a NUL is a RangeError, of the wrong type a TypeError, before parsing", () => {
  // CPython: ValueError("embedded null character"), which is a RangeError here.
  assert.throws(() => inet_aton("1.2.3.4\0x"), {
    name: "RangeError",
    message: "Cannot inet_aton: ip_string contains a NUL character",
  });
  assert.throws(() => inet_pton(AF_INET6, "::1\0"), RangeError);
  assert.throws(() => inet_aton(new Uint8Array(4) as unknown as string), {
    name: "TypeError",
    message: "Cannot inet_aton: ip_string must be a string, got Uint8Array(4)",
  });
  assert.throws(() => inet_pton(AF_INET, 1 as unknown as string), TypeError);
});

Deno.test("a refused address is an OSError with Python's text and no errno (Python's None)", () => {
  const err = (() => {
    try {
      inet_aton("1.2.3.4.5");
    } catch (e) {
      return e as OSError;
    }
  })();
  assert.ok(err instanceof OSError);
  assert.equal(err.message, "illegal IP address string passed to inet_aton");
  assert.equal(String(err), "OSError: illegal IP address string passed to inet_aton");
  assert.equal(err.strerror, null);
  assert.equal(err.errno, null);
});

const ORDER_VALUES = [
  0,
  1,
  2,
  0x1234,
  0xffff,
  0x10000,
  0x12345678,
  0x76543210,
  0x7fffffff,
  0x80000000,
  0xffffffff,
  2 ** 32,
  2 ** 34,
  -1,
  -2,
  -(2 ** 15) - 1,
  -(2 ** 31) - 1,
  2 ** 53,
];

Deno.test("htons, ntohs, htonl and ntohl give CPython's numbers and range errors", async () => {
  for (
    const [name, fn] of [["htons", htons], ["ntohs", ntohs], ["htonl", htonl], [
      "ntohl",
      ntohl,
    ]] as const
  ) {
    const theirs = await cpython(`${name}(a)`, ORDER_VALUES.map((v) => [v, null]));
    const ours = ORDER_VALUES.map((v) => outcome(() => fn(v)));
    assertSameOutcomes(ours, theirs, ORDER_VALUES);
  }
});

Deno.test("byte-order functions are their own inverse on the low bits (CPython's testNtoH)", () => {
  for (const [fn, bits] of [[htonl, 32], [ntohl, 32], [htons, 16], [ntohs, 16]] as const) {
    const mask = bits === 32 ? 0xffffffff : 0xffff;
    for (const i of [0, 1, 0xffff, ~0xffff, 2, 0x01234567, 0x76543210]) {
      const low = (i & mask) >>> 0;
      assert.equal(fn(fn(low)), low);
    }
    assert.equal(fn(mask), mask);
    assert.throws(() => fn(2 ** 34), RangeError);
  }
});

Deno.test("byte-order range errors name the call and the value", () => {
  assert.throws(() => htons(70000), {
    name: "RangeError",
    message: "Cannot htons: 70000 is too large for an unsigned 16-bit integer",
  });
  assert.throws(() => ntohl(-1), {
    name: "RangeError",
    message: "Cannot ntohl: can't convert negative value -1 to an unsigned 32-bit integer",
  });
  assert.throws(() => htonl(1.5), {
    name: "TypeError",
    message: "Cannot htonl: expected an integer, got 1.5",
  });
  assert.throws(() => htons("1" as unknown as number), TypeError);
  assert.throws(() => htons(NaN), TypeError);
  assert.equal(ntohl(htonl(INADDR_LOOPBACK)), INADDR_LOOPBACK);
});

Deno.test("inet_aton's exact form (getaddrinfo's) refuses the trailing text inet_aton ignores", () => {
  assert.equal(parseIpv4Lenient("1.2.3.4 x", false), 0x01020304);
  assert.equal(parseIpv4Lenient("1.2.3.4 ", true), -1);
  assert.equal(parseIpv4Lenient("0x7f.1", true), 0x7f000001);
  assert.equal(parseIpv4Lenient("1.2.3", true), 0x01020003);
});

Deno.test("formatIpv6 writes the address of 16 bytes without any zone", () => {
  assert.equal(formatIpv6(inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  assert.equal(formatIpv6(inet_pton(AF_INET6, "2001:0:0:1:0:0:0:1")), "2001:0:0:1::1");
});

Deno.test("a detached buffer given to inet_ntoa or inet_ntop is a TypeError saying so, not a wrong length", () => {
  const detachedView = () => {
    const view = new Uint8Array(4);
    structuredClone(view.buffer, { transfer: [view.buffer] });
    return view;
  };
  const message = /^Cannot inet_nto[ap]: the buffer is detached/;
  assert.throws(() => inet_ntoa(detachedView()), { name: "TypeError", message });
  assert.throws(() => inet_ntop(AF_INET, detachedView()), { name: "TypeError", message });
  const buffer = new ArrayBuffer(4);
  structuredClone(buffer, { transfer: [buffer] });
  assert.throws(() => inet_ntoa(buffer as never), { name: "TypeError", message });
});
