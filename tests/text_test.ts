// _text.ts's UTF-8 units: where each character (or ill-formed sequence)
// ends must agree with how TextDecoder, and CPython's "replace" decoder,
// split the same bytes, or a text file would count characters wrongly.

import assert from "node:assert/strict";
import { codePoints, unitEnd } from "../_text.ts";
import { pythonJson } from "./_helpers.ts";

/** The units of `bytes` as unitEnd cuts them, an incomplete tail as one. */
function units(bytes: Uint8Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < bytes.length;) {
    let j = unitEnd(bytes, i, bytes.length);
    if (j === -1) j = bytes.length;
    out.push([...bytes.subarray(i, j)]);
    i = j;
  }
  return out;
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const TRICKY: number[][] = [
  [0x41, 0xc3, 0xa9], // A é
  [0xf0, 0x9f, 0x98, 0x80], // 😀
  [0xe2, 0x82], // cut-off €
  [0xe2, 0x41], // bad continuation: U+FFFD, then A
  [0xc0, 0x80], // overlong: two U+FFFD
  [0xed, 0xa0, 0x80], // a surrogate: three U+FFFD
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xef, 0xbb, 0xbf, 0x41], // a BOM is a character
  [0xf0, 0x9f, 0x98], // cut-off emoji
  [0x80, 0xbf, 0xfe, 0xff],
];

Deno.test("unitEnd cuts bytes where CPython's replace decoder puts each character", async () => {
  const py = await pythonJson(`
cases = ${JSON.stringify(TRICKY)}
print(json.dumps([len(bytes(c).decode("utf-8", "replace")) for c in cases]))
`) as number[];
  assert.deepEqual(TRICKY.map((c) => units(new Uint8Array(c)).length), py);
});

Deno.test("unitEnd agrees with TextDecoder on 20,000 random byte strings", () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 8;
  for (let n = 0; n < 20_000; n++) {
    const bytes = new Uint8Array(1 + (next() % 12));
    // Mostly high bytes, so multi-byte and ill-formed sequences are common.
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = next() % 4 === 0 ? next() & 0x7f : 0x80 | next();
    }
    const cut = units(bytes);
    assert.equal(cut.length, codePoints(decoder.decode(bytes)), `${[...bytes]}`);
    // Each unit decodes on its own to one character: cutting there changes nothing.
    assert.equal(cut.map((u) => decoder.decode(new Uint8Array(u))).join(""), decoder.decode(bytes));
  }
});

Deno.test("unitEnd says -1 for a sequence cut off by the end of what is there", () => {
  const euro = new Uint8Array([0xe2, 0x82, 0xac]);
  assert.equal(unitEnd(euro, 0, 1), -1);
  assert.equal(unitEnd(euro, 0, 2), -1);
  assert.equal(unitEnd(euro, 0, 3), 3);
});

Deno.test("codePoints counts as Python's len(): a surrogate pair is one character", () => {
  assert.equal(codePoints("a😀b"), 3);
  assert.equal(codePoints("é\n"), 2);
  assert.equal(codePoints("\ud800x"), 2);
  assert.equal(codePoints(""), 0);
});
