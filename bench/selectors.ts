/**
 * `deno task bench:selectors`: the Python docs' selectors echo server with 1, 100 and
 * 10,000 clients, under pysock and under CPython, against the same echo as a pysock task
 * per connection and as a raw Deno task per connection, in one run. Each server is its
 * own process pinned to CPU 0 (when `taskset` works); the load is always the same raw
 * Deno client on CPU 1: every connection sends 64 bytes and waits for their echo. Prints
 * round trips per second, the server's peak RSS and the ratios, then the CPU time an
 * idle selector with 1,000 registered connections spends over 2 s and over 4 s.
 *
 * Flags: `--quick` (fewer round trips: under a minute). Every part has a hard deadline.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { canPin } from "./_cases.ts";
import { describeFailure, Peer } from "./_proc.ts";

const { values } = parseArgs({ options: { quick: { type: "boolean" } } });
const quick = values.quick ?? false;
const pin = await canPin();
const DEADLINE_MS = 120_000;
const DENO = [Deno.execPath(), "run", "-A", "bench/peer_selectors.ts"];

interface Server {
  label: string;
  argv: string[];
}
const SERVERS: Server[] = [
  { label: "pysock selectors", argv: [...DENO, "server", "selectors"] },
  { label: "CPython selectors", argv: ["python3", "bench/peer_cpython_selectors.py", "server"] },
  { label: "pysock tasks", argv: [...DENO, "server", "tasks"] },
  { label: "raw Deno tasks", argv: [...DENO, "server", "raw"] },
];
const LOADS = [
  { conns: 1, rounds: quick ? 5_000 : 20_000 },
  { conns: 100, rounds: quick ? 20_000 : 100_000 },
  { conns: 10_000, rounds: quick ? 20_000 : 100_000 },
];

interface Cell {
  rate: number;
  rss: number;
  error?: string;
}

async function measure(server: Server, conns: number, rounds: number): Promise<Cell> {
  const peer = new Peer(server.argv, pin ? 0 : null, DEADLINE_MS);
  try {
    const port = await peer.ready();
    const spec = JSON.stringify({ port, conns, rounds, size: 64 });
    const client = new Peer([...DENO, "client", spec], pin ? 1 : null, DEADLINE_MS);
    const exit = await client.wait();
    const rss = peer.memory("VmHWM");
    if (exit.result === null) return { rate: NaN, rss, error: describeFailure(exit) };
    return { rate: exit.result.value, rss };
  } catch (err) {
    return { rate: NaN, rss: NaN, error: (err as Error).message.slice(0, 80) };
  } finally {
    await peer.stop();
  }
}

async function idle(argv: string[]): Promise<string> {
  const peer = new Peer(argv, pin ? 0 : null, DEADLINE_MS);
  const exit = await peer.wait();
  if (exit.result === null) return describeFailure(exit);
  return `${(exit.result.value / 1000).toFixed(1)} ms`;
}

const fmt = (n: number, digits = 0) =>
  Number.isNaN(n) ? "—" : n.toLocaleString("en-US", { maximumFractionDigits: digits });
const ratio = (a: number, b: number) => Number.isNaN(a / b) ? "—" : `${(a / b).toFixed(2)}x`;

const started = performance.now();
const rows: string[][] = [];
for (const { conns, rounds } of LOADS) {
  const cells: Cell[] = [];
  for (const server of SERVERS) {
    const cell = await measure(server, conns, rounds);
    cells.push(cell);
    console.error(
      `[${conns} clients] ${server.label.padEnd(18)} ${cell.error ?? `${fmt(cell.rate)} rt/s`}`,
    );
  }
  const [ours, cpython, tasks, raw] = cells;
  rows.push([
    fmt(conns),
    ...cells.map((c) => c.error ?? `${fmt(c.rate)} rt/s, ${fmt(c.rss, 1)} MiB`),
    ratio(ours.rate, cpython.rate),
    ratio(ours.rate, tasks.rate),
    ratio(ours.rate, raw.rate),
    ratio(ours.rss, cpython.rss),
  ]);
}

// Twice as long again shows whether the cost grows with time (polling) or is fixed.
const idleRows: string[][] = [];
for (
  const [label, argv] of [
    ["pysock selectors", [...DENO, "idle", "selectors", "1000"]],
    ["CPython selectors", ["python3", "bench/peer_cpython_selectors.py", "idle", "1000"]],
    ["pysock tasks (1,000 pending recv)", [...DENO, "idle", "tasks", "1000"]],
  ] as const
) {
  idleRows.push([label, await idle([...argv, "2"]), await idle([...argv, "4"])]);
}

const header = [
  "clients",
  ...SERVERS.map((s) => s.label),
  "pysock sel ÷ CPython",
  "÷ pysock tasks",
  "÷ raw Deno",
  "RSS ÷ CPython",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(
  `selectors echo, 64 B round trips, one run${quick ? " (--quick)" : ""}; ` +
    `server ${pin ? "on CPU 0, client on CPU 1" : "and client unpinned"}; ` +
    `peak server RSS; ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
console.log(line(header));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const row of rows) console.log(line(row));
console.log("\nCPU time while idle with 1,000 connections (whole process), over 2 s / 4 s:");
for (const [label, two, four] of idleRows) {
  console.log(`  ${label.padEnd(34)} ${two.padStart(9)} / ${four}`);
}
