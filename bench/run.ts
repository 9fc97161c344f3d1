/**
 * `deno task bench`: every workload of issue 8 for pysock, raw Deno, CPython and Node in one
 * run, server and client as separate processes pinned to one core each, rounds interleaved so
 * drift hits every column alike. Prints one table (median of the runs, min–max, ratio to raw
 * Deno) and the targets, and writes every sample to bench/results.json.
 *
 * Flags: `--quick` (64 MiB bulk, one run: under a minute), `--runs N` (default 5), `--only a,b` (case ids
 * or prefixes: bulk, pingpong, udp, framing, concurrency, scaleout), `--impl pysock,raw,...`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { describeFailure, Peer } from "./_proc.ts";
import type { Spec } from "./_peer.ts";

type ImplId = "pysock" | "raw" | "cpython" | "node";

interface Impl {
  id: ImplId;
  title: string;
  /** The program for a workload's peers; which file depends on the workload for pysock. */
  argv: (workload: string) => string[];
  /** Why this column cannot run a workload, or `null` when it can. */
  missing: (workload: string) => string | null;
}

/** One measured configuration; every table row reads one metric of a case. */
interface Case {
  id: string;
  workload: string;
  spec: Partial<Spec>;
  impls: ImplId[];
  /** `split`: server on CPU 0, client on CPU 1; `same`: both on CPU 0; `none`: unpinned. */
  pin: "split" | "same" | "none";
  servers?: number;
  /** Use raw Deno's client for every column (the concurrency row measures the server). */
  rawClient?: boolean;
}

interface Sample {
  value: number;
  seconds: number;
  loss?: number;
  peakMiB?: number;
  baseMiB?: number;
}

type Cell = Sample[] | string;

interface Row {
  label: string;
  unit: string;
  caseId: string;
  metric: (s: Sample, c: Case) => number;
  decimals?: number;
  /** A row computed from two cases, per round: `metric(a) / metric(b)`. */
  over?: string;
}

const DENO = ["deno", "run", "-A", "--unstable-net"];
const PYSOCK_FILES: Record<string, [string, string[]]> = {
  "udp": ["bench/peer_pysock_udp.ts", ["udp.ts"]],
  "framing-recv": ["bench/peer_pysock_framing.ts", ["socket.ts", "framing.ts"]],
  "framing-send": ["bench/peer_pysock_framing.ts", ["socket.ts", "framing.ts"]],
};

function exists(path: string): boolean {
  try {
    Deno.statSync(new URL(`../${path}`, import.meta.url));
    return true;
  } catch {
    return false;
  }
}

async function version(cmd: string, ...args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    if (!out.success) return null;
    return new TextDecoder().decode(out.stdout).trim() ||
      new TextDecoder().decode(out.stderr).trim();
  } catch {
    return null;
  }
}

async function implementations(): Promise<Impl[]> {
  const python = await version("python3", "--version");
  const node = await version("node", "--version");
  const [nodeMajor, nodeMinor] = (node ?? "v0.0").slice(1).split(".").map(Number);
  const nodeReusePort = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 12);
  const pysockPeer = (w: string) => PYSOCK_FILES[w] ?? ["bench/peer_pysock.ts", ["socket.ts"]];
  return [
    {
      id: "pysock",
      title: "pysock",
      argv: (w) => [...DENO, pysockPeer(w)[0]],
      missing: (w) => {
        const gone = pysockPeer(w)[1].filter((f) => !exists(f));
        return gone.length ? `n/a (module missing: ${gone.join(", ")})` : null;
      },
    },
    {
      id: "raw",
      title: "raw Deno",
      argv: () => [...DENO, "bench/peer_raw_deno.ts"],
      missing: () => null,
    },
    {
      id: "cpython",
      title: python ? python.replace("Python ", "CPython ") : "CPython",
      argv: () => ["python3", "bench/peer_cpython.py"],
      missing: () => python ? null : "n/a (no python3)",
    },
    {
      id: "node",
      title: node ? `Node ${node}` : "Node",
      argv: () => ["node", "bench/peer_node.mjs"],
      missing: (w) => {
        if (!node) return "n/a (no node)";
        if (w === "scaleout" && !nodeReusePort) return "n/a (reusePort needs Node 22.12+)";
        return null;
      },
    },
  ];
}

function cases(quick: boolean): Case[] {
  const all: ImplId[] = ["pysock", "raw", "cpython", "node"];
  const bulk = { bytes: (quick ? 64 : 512) * 2 ** 20, chunk: 65536 };
  const pingpong = { rounds: 20_000, size: 64 };
  const framing = { count: 200_000, size: 100 };
  const concurrency = { conns: 10_000, size: 1024 };
  const scaleout = { conns: 64, rounds: quick ? 30_000 : 100_000, size: 64, reusePort: true };
  return [
    {
      id: "bulk-recv",
      workload: "bulk",
      spec: { ...bulk, mode: "recv" },
      impls: all,
      pin: "split",
    },
    {
      id: "bulk-into",
      workload: "bulk",
      spec: { ...bulk, mode: "into" },
      impls: all,
      pin: "split",
    },
    {
      id: "pingpong-1",
      workload: "pingpong",
      spec: { ...pingpong, conns: 1 },
      impls: all,
      pin: "split",
    },
    {
      id: "pingpong-16",
      workload: "pingpong",
      spec: { ...pingpong, conns: 16 },
      impls: all,
      pin: "split",
    },
    {
      id: "pingpong-1-pinned",
      workload: "pingpong",
      spec: { ...pingpong, conns: 1 },
      impls: all,
      pin: "same",
    },
    {
      id: "pingpong-16-pinned",
      workload: "pingpong",
      spec: { ...pingpong, conns: 16 },
      impls: all,
      pin: "same",
    },
    {
      id: "udp",
      workload: "udp",
      spec: { count: quick ? 30_000 : 200_000, size: 64, window: 128, ackEvery: 32 },
      impls: all,
      pin: "split",
    },
    { id: "framing-recv", workload: "framing-recv", spec: framing, impls: all, pin: "split" },
    { id: "framing-send", workload: "framing-send", spec: framing, impls: all, pin: "split" },
    {
      id: "concurrency-4k",
      workload: "concurrency",
      spec: { ...concurrency, readBuf: 4096 },
      impls: ["pysock", "raw", "cpython"],
      pin: "split",
      rawClient: true,
    },
    {
      id: "concurrency-64k",
      workload: "concurrency",
      spec: { ...concurrency, readBuf: 65536 },
      // asyncio reads 256 KiB per recv whatever the read size, so CPython runs the 4 KiB row
      // only; Node reads 64 KiB per recv, so it runs this row only.
      impls: ["pysock", "raw", "node"],
      pin: "split",
      rawClient: true,
    },
    { id: "scaleout-1", workload: "pingpong", spec: scaleout, impls: all, pin: "none", servers: 1 },
    { id: "scaleout-2", workload: "pingpong", spec: scaleout, impls: all, pin: "none", servers: 2 },
  ];
}

const value = (s: Sample) => s.value;
const ROWS: Row[] = [
  { label: "bulk TCP, recv(65536)", unit: "MB/s", caseId: "bulk-recv", metric: value },
  { label: "bulk TCP, recvInto", unit: "MB/s", caseId: "bulk-into", metric: value },
  { label: "ping-pong 64 B, 1 conn", unit: "rt/s", caseId: "pingpong-1", metric: value },
  { label: "ping-pong 64 B, 16 conns", unit: "rt/s", caseId: "pingpong-16", metric: value },
  {
    label: "ping-pong, 1 conn, both on CPU 0",
    unit: "rt/s",
    caseId: "pingpong-1-pinned",
    metric: value,
  },
  {
    label: "ping-pong, 16 conns, both on CPU 0",
    unit: "rt/s",
    caseId: "pingpong-16-pinned",
    metric: value,
  },
  { label: "UDP 64 B delivered", unit: "dgram/s", caseId: "udp", metric: value },
  {
    label: "UDP 64 B loss",
    unit: "%",
    caseId: "udp",
    metric: (s) => 100 * (s.loss ?? 0),
    decimals: 2,
  },
  { label: "framing recvMsg, 100 B", unit: "msg/s", caseId: "framing-recv", metric: value },
  { label: "framing sendMsg, 100 B", unit: "msg/s", caseId: "framing-send", metric: value },
  {
    label: "10k conns, 4 KiB reads: time",
    unit: "s",
    caseId: "concurrency-4k",
    metric: value,
    decimals: 2,
  },
  {
    label: "10k conns, 4 KiB reads: peak RSS",
    unit: "MiB",
    caseId: "concurrency-4k",
    metric: (s) => s.peakMiB!,
  },
  {
    label: "10k conns, 4 KiB reads: RSS/conn",
    unit: "KiB",
    caseId: "concurrency-4k",
    metric: perConn,
    decimals: 1,
  },
  {
    label: "10k conns, 64 KiB reads: time",
    unit: "s",
    caseId: "concurrency-64k",
    metric: value,
    decimals: 2,
  },
  {
    label: "10k conns, 64 KiB reads: peak RSS",
    unit: "MiB",
    caseId: "concurrency-64k",
    metric: (s) => s.peakMiB!,
  },
  {
    label: "10k conns, 64 KiB reads: RSS/conn",
    unit: "KiB",
    caseId: "concurrency-64k",
    metric: perConn,
    decimals: 1,
  },
  { label: "reusePort, 1 server", unit: "rt/s", caseId: "scaleout-1", metric: value },
  { label: "reusePort, 2 servers", unit: "rt/s", caseId: "scaleout-2", metric: value },
  {
    label: "reusePort gain, 2 vs 1",
    unit: "x",
    caseId: "scaleout-2",
    over: "scaleout-1",
    metric: value,
    decimals: 2,
  },
];

function perConn(s: Sample, c: Case): number {
  return ((s.peakMiB! - s.baseMiB!) * 1024) / c.spec.conns!;
}

function cpus(c: Case): [number | null, number | null] {
  if (c.pin === "none" || !hasTaskset) return [null, null];
  return c.pin === "same" ? [0, 0] : [0, Math.min(1, navigator.hardwareConcurrency - 1)];
}

let hasTaskset = false;

async function measure(c: Case, impl: Impl, raw: Impl, timeoutMs: number): Promise<Sample> {
  const [serverCpu, clientCpu] = cpus(c);
  const spec = { workload: c.workload, ...c.spec } as Spec;
  const argv = impl.argv(c.workload);
  const servers: Peer[] = [];
  try {
    for (let i = 0; i < (c.servers ?? 1); i++) {
      const server = new Peer([...argv, "server", JSON.stringify(spec)], serverCpu, timeoutMs);
      servers.push(server);
      spec.port = await server.ready();
    }
    const baseMiB = sum(servers.map((s) => s.memory("VmRSS")));
    const clientArgv = c.rawClient ? raw.argv(c.workload) : argv;
    const client = new Peer([...clientArgv, "client", JSON.stringify(spec)], clientCpu, timeoutMs);
    const exit = await client.wait();
    const peakMiB = sum(servers.map((s) => s.memory("VmHWM")));
    if (exit.result === null || exit.code !== 0) throw new Error(describeFailure(exit));
    return { ...exit.result, peakMiB, baseMiB } as Sample;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmt(x: number, decimals?: number): string {
  if (!Number.isFinite(x)) return "?";
  const d = decimals ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  return x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** The per-round values of a row for one column, or the reason it has none. */
function rowValues(
  row: Row,
  impl: ImplId,
  cells: Map<string, Cell>,
  byId: Map<string, Case>,
): number[] | string {
  const c = byId.get(row.caseId)!;
  const cell = cells.get(`${row.caseId}/${impl}`);
  if (cell === undefined) return "—";
  if (typeof cell === "string") return cell;
  const values = cell.map((s) => row.metric(s, c));
  if (row.over === undefined) return values;
  const base = cells.get(`${row.over}/${impl}`);
  if (base === undefined || typeof base === "string") return base ?? "—";
  const baseCase = byId.get(row.over)!;
  return values.map((v, i) => v / row.metric(base[i], baseCase)).filter(Number.isFinite);
}

function renderTable(
  impls: Impl[],
  cells: Map<string, Cell>,
  byId: Map<string, Case>,
  runs: number,
): string {
  const header = ["workload", "unit", ...impls.map((i) => i.title)];
  const lines = [header];
  for (const row of ROWS) {
    if (!byId.has(row.caseId) || (row.over && !byId.has(row.over))) continue;
    const rawValues = rowValues(row, "raw", cells, byId);
    const rawMedian = typeof rawValues === "string" ? NaN : median(rawValues);
    const line = [row.label, row.unit];
    for (const impl of impls) {
      const values = rowValues(row, impl.id, cells, byId);
      if (typeof values === "string") {
        line.push(values);
        continue;
      }
      if (values.length === 0) {
        line.push("?");
        continue;
      }
      const mid = median(values);
      let text = fmt(mid, row.decimals);
      if (runs > 1) {
        text += ` [${fmt(Math.min(...values), row.decimals)}–${
          fmt(Math.max(...values), row.decimals)
        }]`;
      }
      if (impl.id !== "raw" && !row.over && rawMedian > 0) {
        text += ` ${(mid / rawMedian).toFixed(2)}x`;
      }
      line.push(text);
    }
    lines.push(line);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const pad = (l: string[]) =>
    l.map((s, i) => i < 2 ? s.padEnd(widths[i]) : s.padStart(widths[i])).join("  ");
  return [pad(lines[0]), widths.map((w) => "-".repeat(w)).join("  "), ...lines.slice(1).map(pad)]
    .join("\n");
}

interface Target {
  label: string;
  row: string;
  /** The other side of the ratio: a row label for a raw column in another row. */
  againstRow?: string;
  min?: number;
  max?: number;
}

const TARGETS: Target[] = [
  { label: "bulk recv(65536) >= 0.95x raw", row: "bulk TCP, recv(65536)", min: 0.95 },
  { label: "bulk recvInto >= 0.98x raw", row: "bulk TCP, recvInto", min: 0.98 },
  { label: "ping-pong 1 conn >= 0.90x raw", row: "ping-pong 64 B, 1 conn", min: 0.9 },
  { label: "ping-pong 16 conns >= 0.90x raw", row: "ping-pong 64 B, 16 conns", min: 0.9 },
  {
    label: "ping-pong pinned, 1 conn >= 0.85x raw",
    row: "ping-pong, 1 conn, both on CPU 0",
    min: 0.85,
  },
  {
    label: "ping-pong pinned, 16 conns >= 0.85x raw",
    row: "ping-pong, 16 conns, both on CPU 0",
    min: 0.85,
  },
  { label: "UDP delivered >= 0.90x raw", row: "UDP 64 B delivered", min: 0.9 },
  { label: "framing recvMsg >= 3.5x raw slice() decoder", row: "framing recvMsg, 100 B", min: 3.5 },
  {
    label: "10k conns, 64 KiB recv: time <= raw 4 KiB",
    row: "10k conns, 64 KiB reads: time",
    againstRow: "10k conns, 4 KiB reads: time",
    max: 1,
  },
  {
    label: "10k conns, 64 KiB recv: peak RSS <= raw 4 KiB",
    row: "10k conns, 64 KiB reads: peak RSS",
    againstRow: "10k conns, 4 KiB reads: peak RSS",
    max: 1,
  },
  {
    label: "10k conns, 4 KiB recv: time <= raw 4 KiB",
    row: "10k conns, 4 KiB reads: time",
    max: 1,
  },
  {
    label: "10k conns, 4 KiB recv: peak RSS <= raw 4 KiB",
    row: "10k conns, 4 KiB reads: peak RSS",
    max: 1,
  },
];

function renderTargets(cells: Map<string, Cell>, byId: Map<string, Case>): string {
  const out = ["targets (issue 8, pysock ÷ raw Deno):"];
  const find = (label: string) => ROWS.find((r) => r.label === label)!;
  for (const t of TARGETS) {
    const row = find(t.row);
    if (!byId.has(row.caseId)) continue;
    const mine = rowValues(row, "pysock", cells, byId);
    const against = rowValues(t.againstRow ? find(t.againstRow) : row, "raw", cells, byId);
    if (typeof mine === "string" || typeof against === "string") {
      out.push(`  ${t.label.padEnd(48)} ${typeof mine === "string" ? mine : against}`);
      continue;
    }
    const ratio = median(mine) / median(against);
    const ok = (t.min === undefined || ratio >= t.min) && (t.max === undefined || ratio <= t.max);
    out.push(`  ${t.label.padEnd(48)} ${ratio.toFixed(2)}x  ${ok ? "ok" : "BELOW TARGET"}`);
  }
  return out.join("\n");
}

async function machine(impls: Impl[]): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown CPU";
  return [
    `${navigator.hardwareConcurrency} cores (${model}), Linux ${Deno.osRelease()}`,
    `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ${impls.map((i) => i.title).join(", ")}`,
    hasTaskset ? "server on CPU 0, client on CPU 1 (taskset) unless noted" : "no taskset: unpinned",
  ].join("\n");
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      only: { type: "string" },
      impl: { type: "string" },
      timeout: { type: "string", default: "120" },
      json: { type: "string", default: new URL("results.json", import.meta.url).pathname },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (flags.help) {
    console.log(
      "Usage: deno task bench [--quick] [--runs N] [--only bulk,pingpong,...] [--impl pysock,raw,cpython,node]",
    );
    return;
  }
  const runs = Number(flags.runs ?? (flags.quick ? 1 : 5));
  const timeoutMs = Number(flags.timeout) * 1000;
  hasTaskset = (await version("taskset", "--version")) !== null &&
    navigator.hardwareConcurrency >= 2;
  const only = flags.only?.split(",");
  const wanted = flags.impl?.split(",");
  const impls = (await implementations()).filter((i) => !wanted || wanted.includes(i.id));
  const raw = (await implementations()).find((i) => i.id === "raw")!;
  const selected = cases(flags.quick).filter((c) => !only || only.some((o) => c.id.startsWith(o)));
  const byId = new Map(selected.map((c) => [c.id, c]));
  const cells = new Map<string, Cell>();
  const started = performance.now();

  console.error(await machine(impls));
  for (let round = 0; round < runs; round++) {
    for (const c of selected) {
      const order = impls.filter((i) => c.impls.includes(i.id));
      // Rotate the order each round so no column always runs first after a busy neighbour.
      for (let k = 0; k < order.length; k++) {
        const impl = order[(k + round) % order.length];
        const key = `${c.id}/${impl.id}`;
        const known = cells.get(key);
        if (typeof known === "string") continue;
        const reason = impl.missing(
          c.workload === "pingpong" && c.servers ? "scaleout" : c.workload,
        );
        if (reason) {
          cells.set(key, reason);
          continue;
        }
        const t0 = performance.now();
        try {
          const sample = await measure(c, impl, raw, timeoutMs);
          cells.set(key, [...(known ?? []), sample]);
          const took = `(${fmt((performance.now() - t0) / 1000, 1)} s)`;
          console.error(
            `[${round + 1}/${runs}] ${key.padEnd(30)} ${fmt(sample.value).padStart(12)} ${took}`,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const text = message.startsWith("n/a") ? message : `error: ${message}`;
          cells.set(key, text);
          console.error(`[${round + 1}/${runs}] ${key.padEnd(30)} ${text}`);
        }
      }
    }
  }

  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\npysock benchmarks — median of ${runs} run(s) [min–max], ratio to raw Deno in the same run`,
  );
  console.log(await machine(impls));
  console.log(`${flags.quick ? "--quick" : "full"} run, ${fmt(seconds, 0)} s\n`);
  console.log(renderTable(impls, cells, byId, runs));
  console.log(`\n${renderTargets(cells, byId)}`);
  await Deno.writeTextFile(
    flags.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: await machine(impls),
        runs,
        quick: flags.quick,
        cases: selected,
        cells: Object.fromEntries(cells),
      },
      null,
      2,
    ) + "\n",
  );
}

if (import.meta.main) await main();
