// The package's doc examples are tests (`deno test --doc`): each must check
// its results with node:assert/strict, since console.assert only prints and
// an example checked with it passes even when it is wrong.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// What is not part of the package or its examples: tests and benchmarks may
// print what they like.
const SKIPPED = new Set(["tests", "bench", "node_modules", ".git", "coverage"]);

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (SKIPPED.has(entry.name)) continue;
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) yield* sources(`${path}/`);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("no source file or example checks a result with console.assert", async () => {
  const offenders: string[] = [];
  let files = 0;
  for await (const path of sources(ROOT)) {
    files++;
    const text = await Deno.readTextFile(path);
    text.split("\n").forEach((line, i) => {
      if (line.includes("console" + ".assert(")) {
        offenders.push(`${path.slice(ROOT.length)}:${i + 1}`);
      }
    });
  }
  assert.ok(files > 20, `expected the package's sources, read ${files} files`);
  assert.deepEqual(offenders, []);
});

Deno.test("every exported doc example imports node:assert/strict when it asserts", async () => {
  const missing: string[] = [];
  for await (const path of sources(ROOT)) {
    const text = await Deno.readTextFile(path);
    for (const match of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      const block = match[1];
      if (/\bassert\.\w+\(/.test(block) && !block.includes('from "node:assert/strict"')) {
        const line = text.slice(0, match.index).split("\n").length;
        missing.push(`${path.slice(ROOT.length)}:${line}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});
