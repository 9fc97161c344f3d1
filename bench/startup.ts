// What importing pysock costs a process before it opens a socket: resident
// memory and time, against a Deno program that imports nothing (raw Deno),
// CPython importing socket, ssl, selectors and socketserver, and Node
// requiring net, tls and dgram. Every measurement is a fresh process; each
// round runs every column once, in turn, after one warm-up round that fills
// Deno's transpile cache. Cells are the median [min–max] of the rounds, and
// a ratio is the median of the per-round ratios to raw Deno.
//
//   deno run -A bench/startup.ts [--rounds 15] [--baseline DIR]
//
// `--baseline DIR` adds a column for the package at DIR (a checkout of an
// earlier commit, e.g. `git worktree add DIR <commit>`), importing its mod.ts.

import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "15" }, baseline: { type: "string" } },
});
const ROUNDS = Number(values.rounds);
const ROOT = new URL("../", import.meta.url);
const PROBE = new URL("_startup_probe.ts", import.meta.url).pathname;

interface Column {
  title: string;
  argv: string[];
}

// RSS and import time as each program reads them of itself, printed as JSON.
const PYTHON = `import json, re, time
t = time.perf_counter()
import socket, ssl, selectors, socketserver
ms = (time.perf_counter() - t) * 1000
rss = int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"rss": rss, "ms": ms}))`;
const NODE = `const t = performance.now();
require("node:net"); require("node:tls"); require("node:dgram");
const ms = performance.now() - t;
const rss = Number(/VmRSS:\\s+(\\d+)/.exec(require("node:fs").readFileSync("/proc/self/status", "utf8"))[1]) / 1024;
console.log(JSON.stringify({ rss, ms }));`;

const deno = (target: string) => [Deno.execPath(), "run", "-A", "--unstable-net", PROBE, target];
const columns: Column[] = [
  { title: "pysock mod.ts", argv: deno(new URL("mod.ts", ROOT).href) },
  { title: "pysock socket.ts", argv: deno(new URL("socket.ts", ROOT).href) },
  { title: "raw Deno", argv: deno("") },
  { title: "CPython", argv: ["python3", "-c", PYTHON] },
  { title: "Node", argv: ["node", "-e", NODE] },
];
if (values.baseline !== undefined) {
  const dir = values.baseline.startsWith("/")
    ? values.baseline
    : `${Deno.cwd()}/${values.baseline}`;
  columns.splice(1, 0, { title: "baseline mod.ts", argv: deno(`file://${dir}/mod.ts`) });
}
const RAW = columns.findIndex((c) => c.title === "raw Deno");

interface Sample {
  rss: number;
  ms: number;
  wall: number;
}

async function run(column: Column): Promise<Sample | null> {
  const start = performance.now();
  let output;
  try {
    output = await new Deno.Command(column.argv[0], {
      args: column.argv.slice(1),
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    return null; // not installed
  }
  const wall = performance.now() - start;
  if (!output.success) {
    throw new Error(`${column.title} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const { rss, ms } = JSON.parse(new TextDecoder().decode(output.stdout));
  return { rss, ms, wall };
}

const samples: (Sample | null)[][] = columns.map(() => []);
for (let round = -1; round < ROUNDS; round++) {
  for (const [i, column] of columns.entries()) {
    const sample = await run(column);
    if (round >= 0) samples[i].push(sample);
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function cell(i: number, metric: keyof Sample, withRatio: boolean): string {
  const own = samples[i];
  if (own.some((s) => s === null)) return "n/a (not installed)";
  const xs = own.map((s) => s![metric]);
  const text = `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)}–${
    Math.max(...xs).toFixed(1)
  }]`;
  if (i === RAW || !withRatio) return text;
  const ratios = own.map((s, r) => s![metric] / samples[RAW][r]![metric]);
  return `${text} ${median(ratios).toFixed(2)}x`;
}

// Raw Deno imports nothing, so the imports' time has no ratio.
const rows: [string, keyof Sample, boolean][] = [
  ["RSS after the imports, MiB", "rss", true],
  ["the imports, ms", "ms", false],
  ["whole process (start, import, exit), ms", "wall", true],
];
const table = [
  ["", ...columns.map((c) => c.title)],
  ...rows.map(([label, metric, ratio]) => [
    label,
    ...columns.map((_, i) => cell(i, metric, ratio)),
  ]),
];
const widths = table[0].map((_, j) => Math.max(...table.map((row) => row[j].length)));
console.log(`start-up, ${ROUNDS} rounds (ratios: to raw Deno, median of per-round ratios)`);
console.log("raw Deno imports nothing; CPython imports socket, ssl, selectors and socketserver;");
console.log("Node requires net, tls and dgram\n");
for (const [r, row] of table.entries()) {
  console.log(
    row.map((text, j) => j === 0 ? text.padEnd(widths[j]) : text.padStart(widths[j])).join("  "),
  );
  if (r === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
}
