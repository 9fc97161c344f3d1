// The streaming SHA-256 behind the command line's file check.

import { equal } from "node:assert/strict";
import { Sha256 } from "../_sha256.ts";
import { bytes } from "./_helpers.ts";

function hex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("sha256 matches the FIPS 180-4 test vectors", () => {
  const vectors: [string, string][] = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
  ];
  for (const [input, expected] of vectors) {
    equal(new Sha256().update(bytes(input)).hexdigest(), expected, `sha256(${input})`);
  }
});

Deno.test("sha256 of a million 'a' fed in uneven pieces matches the vector", () => {
  const hash = new Sha256();
  const piece = bytes("a".repeat(997));
  let left = 1_000_000;
  while (left > 0) {
    const n = Math.min(left, piece.length);
    hash.update(piece.subarray(0, n));
    left -= n;
  }
  equal(hash.hexdigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
});

Deno.test("sha256 agrees with crypto.subtle for every length around the block edges", async () => {
  const data = crypto.getRandomValues(new Uint8Array(300));
  for (let length = 0; length <= data.length; length++) {
    const input = data.subarray(0, length);
    const expected = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", input)));
    // Fed whole, and split at an arbitrary point.
    equal(new Sha256().update(input).hexdigest(), expected, `length ${length}`);
    const cut = Math.floor(length / 3);
    const split = new Sha256().update(input.subarray(0, cut)).update(input.subarray(cut));
    equal(split.hexdigest(), expected, `length ${length} split at ${cut}`);
  }
});
