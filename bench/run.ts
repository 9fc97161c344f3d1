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
import {
  canPin,
  type Case,
  cases,
  type Impl,
  implementations,
  type ImplId,
  measure,
  type Sample,
} from "./_cases.ts";

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
  {
    label: "framing recvMsg vs raw views",
    unit: "msg/s",
    caseId: "framing-recv-views",
    metric: value,
  },
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

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The ratio of a column to raw Deno: the median of the per-round ratios, since both ran in the
 * same round minutes apart at most, so load that drifts between rounds cancels out. Falls back
 * to the ratio of the medians when a column missed a round.
 */
function ratio(values: number[], raw: number[]): number {
  if (values.length !== raw.length) return median(values) / median(raw);
  return median(values.map((v, i) => v / raw[i]));
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
      const r = typeof rawValues === "string" ? NaN : ratio(values, rawValues);
      if (impl.id !== "raw" && !row.over && Number.isFinite(r)) text += ` ${r.toFixed(2)}x`;
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
    const r = ratio(mine, against);
    const ok = (t.min === undefined || r >= t.min) && (t.max === undefined || r <= t.max);
    out.push(`  ${t.label.padEnd(48)} ${r.toFixed(2)}x  ${ok ? "ok" : "BELOW TARGET"}`);
  }
  return out.join("\n");
}

async function machine(impls: Impl[], pin: boolean): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown CPU";
  return [
    `${navigator.hardwareConcurrency} cores (${model}), Linux ${Deno.osRelease()}`,
    `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ${impls.map((i) => i.title).join(", ")}`,
    pin ? "server on CPU 0, client on CPU 1 (taskset) unless noted" : "no taskset: unpinned",
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
  const pin = await canPin();
  const only = flags.only?.split(",");
  const wanted = flags.impl?.split(",");
  const impls = (await implementations()).filter((i) => !wanted || wanted.includes(i.id));
  const raw = (await implementations()).find((i) => i.id === "raw")!;
  const selected = cases(flags.quick).filter((c) => !only || only.some((o) => c.id.startsWith(o)));
  const byId = new Map(selected.map((c) => [c.id, c]));
  const cells = new Map<string, Cell>();
  const started = performance.now();

  console.error(await machine(impls, pin));
  for (let round = 0; round < runs; round++) {
    for (const c of selected) {
      const order = impls.filter((i) => c.impls.includes(i.id));
      // Rotate the order each round so no column always runs first after a busy neighbour.
      for (let k = 0; k < order.length; k++) {
        const impl = order[(k + round) % order.length];
        const key = `${c.id}/${impl.id}`;
        const known = cells.get(key);
        if (typeof known === "string") continue;
        const reason = impl.missing(c);
        if (reason) {
          cells.set(key, reason);
          continue;
        }
        const t0 = performance.now();
        try {
          const sample = await measure(c, impl, raw, { timeoutMs, pin });
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
    `\npysock benchmarks — median of ${runs} run(s) [min–max], ratio to raw Deno = median of per-round ratios`,
  );
  console.log(await machine(impls, pin));
  console.log(`${flags.quick ? "--quick" : "full"} run, ${fmt(seconds, 0)} s\n`);
  console.log(renderTable(impls, cells, byId, runs));
  console.log(`\n${renderTargets(cells, byId)}`);
  await Deno.writeTextFile(
    flags.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: await machine(impls, pin),
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
