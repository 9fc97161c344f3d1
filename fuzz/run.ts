// The long fuzz run: `deno task fuzz` feeds 1,000,000 seeded inputs to the
// targets in fuzz/_targets.ts (MessageDecoder, recvMsg, recvMsgs, recvMsgBatches, recvUntil/
// recvExactly, address parsing) and compares every outcome with the
// reference implementations there. Exits 1 with the input's seed on the
// first mismatch, so it can be replayed:
//
//   deno task fuzz                        # 1,000,000 inputs, seed 1
//   deno task fuzz --inputs 50000 --seed 7
//   deno task fuzz --target recvMsg --seed 123456 --inputs 1   # replay one

import { parseArgs } from "node:util";
import { runTarget, TARGETS } from "./_targets.ts";

const { values } = parseArgs({
  options: {
    inputs: { type: "string", default: "1000000" },
    seed: { type: "string", default: "1" },
    target: { type: "string" },
  },
});
const inputs = Number(values.inputs);
const seed = Number(values.seed);
const targets = values.target === undefined
  ? TARGETS
  : TARGETS.filter((t) => t.name === values.target);
if (
  !Number.isSafeInteger(inputs) || inputs < 1 || !Number.isSafeInteger(seed) || targets.length === 0
) {
  console.error(
    `usage: deno task fuzz [--inputs N] [--seed S] [--target ${
      TARGETS.map((t) => t.name).join("|")
    }]`,
  );
  Deno.exit(2);
}

const share = Math.ceil(inputs / targets.length);
const started = performance.now();
let total = 0;
for (const [index, target] of targets.entries()) {
  const count = Math.min(share, inputs - total);
  const from = performance.now();
  // Targets get disjoint seed ranges, so one seed names one input of one target.
  const targetSeed = seed + index * 100_000_000;
  try {
    total += await runTarget(target, targetSeed, count);
  } catch (err) {
    console.error(`FAIL ${target.name}: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
  const seconds = (performance.now() - from) / 1000;
  console.log(`${target.name}: ${count} inputs, no mismatch (${seconds.toFixed(1)} s)`);
}
console.log(
  `fuzz: ${total} inputs, 0 mismatches, seed ${seed}, ${
    ((performance.now() - started) / 1000).toFixed(1)
  } s`,
);
