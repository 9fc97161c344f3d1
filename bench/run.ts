/**
 * `deno task bench`: the pairs of issue 18 (and the rows of issue 8 kept for context) for
 * pysock, raw Deno, CPython and Node in one run, server and client as separate processes pinned
 * to one core each, rounds interleaved and rotated so drift hits every column alike. Prints one
 * table (median of the runs, min–max, ratio to raw Deno) and the targets with the median and
 * range of their per-round ratios; writes every sample to bench/results.json, and a full run
 * writes bench/results.md and the scale curves' plot bench/scale.svg (bench/plot.ts).
 *
 * Flags: `--quick` (smaller workloads, 3 rounds, the slow 10,000-connection cases in the first
 * only, no Node column and no context-only rows: under two minutes), `--runs N` (default 5),
 * `--only a,b` (case ids or prefixes: bulk, pingpong, udp, framing, concurrency, scale,
 * socketserver, scaleout), `--impl pysock,raw,...`, `--md PATH` (write the results page there; only a complete
 * run writes it unless asked), `--baseline DIR` (a checkout of an
 * earlier commit, e.g. `git archive <commit> | tar -x -C DIR`: adds a "pysock base" column and a
 * pysock ÷ base section, for before/after in one run).
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
  SCALE_CONNS,
} from "./_cases.ts";
import { scaleSvg, type Series } from "./plot.ts";

type Cell = Sample[] | string;

/** Rounds of a `--quick` run: enough for a median, within two minutes. */
const QUICK_RUNS = 3;

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
const peak = (s: Sample) => s.peakMiB!;

/** The rows of one scale point: echo round trips per second and the server's peak RSS. */
function scaleRows(conns: number): Row[] {
  const n = conns.toLocaleString("en-US");
  return [
    { label: `scale, ${n} conns: echo`, unit: "rt/s", caseId: `scale-${conns}`, metric: value },
    { label: `scale, ${n} conns: peak RSS`, unit: "MiB", caseId: `scale-${conns}`, metric: peak },
  ];
}

/**
 * The rows of one socketserver load: ThreadingTCPServer (pysock column; raw Deno's and CPython's
 * own servers beside it), the pysock accept loop, and the first ÷ the second per round.
 */
function socketserverRows(echo: string, what: string, unit: string): Row[] {
  const id = `socketserver-${echo}`;
  return [
    { label: `socketserver, ${what}: ThreadingTCPServer`, unit, caseId: id, metric: value },
    { label: `socketserver, ${what}: accept loop`, unit, caseId: `${id}-loop`, metric: value },
    {
      label: `socketserver, ${what}: ThreadingTCPServer ÷ accept loop`,
      unit: "x",
      caseId: id,
      over: `${id}-loop`,
      metric: value,
      decimals: 2,
    },
  ];
}

const ROWS: Row[] = [
  {
    label: "bulk TCP, recv(65536) | raw: fresh array per read",
    unit: "MB/s",
    caseId: "bulk-recv",
    metric: value,
  },
  {
    label: "bulk TCP, recvInto | raw: one reused buffer",
    unit: "MB/s",
    caseId: "bulk-into",
    metric: value,
  },
  {
    label: "bulk TCP, chunks(65536) | raw: one reused buffer",
    unit: "MB/s",
    caseId: "bulk-chunks",
    metric: value,
  },
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
  { label: "UDP 64 B recvfrom/sendto, delivered", unit: "dgram/s", caseId: "udp", metric: value },
  {
    label: "UDP 64 B recvfrom/sendto, loss",
    unit: "%",
    caseId: "udp",
    metric: (s) => 100 * (s.loss ?? 0),
    decimals: 2,
  },
  {
    label: "UDP 64 B recvfromInto, delivered",
    unit: "dgram/s",
    caseId: "udp-into",
    metric: value,
  },
  {
    label: "UDP 64 B recvfromInto, loss",
    unit: "%",
    caseId: "udp-into",
    metric: (s) => 100 * (s.loss ?? 0),
    decimals: 2,
  },
  {
    label: "framing recvMsg, 100 B | raw: views decoder",
    unit: "msg/s",
    caseId: "framing-recv",
    metric: value,
  },
  {
    label: "framing recvMsgs, 100 B | raw: views; CPython: makefile+struct",
    unit: "msg/s",
    caseId: "framing-recvmsgs",
    metric: value,
  },
  {
    label: "framing recvMsgBatches, 100 B | raw: views; CPython: makefile+struct",
    unit: "msg/s",
    caseId: "framing-batches",
    metric: value,
  },
  { label: "framing sendMsg, 100 B", unit: "msg/s", caseId: "framing-send", metric: value },
  {
    label: "10k idle-then-echo, 4 KiB reads: time",
    unit: "s",
    caseId: "concurrency-4k",
    metric: value,
    decimals: 2,
  },
  {
    label: "10k idle-then-echo, 4 KiB reads: peak RSS",
    unit: "MiB",
    caseId: "concurrency-4k",
    metric: peak,
  },
  {
    label: "10k idle-then-echo, 4 KiB reads: per conn",
    unit: "B",
    caseId: "concurrency-4k",
    metric: perConn,
    decimals: 0,
  },
  {
    label: "10k idle-then-echo, 64 KiB reads: time",
    unit: "s",
    caseId: "concurrency-64k",
    metric: value,
    decimals: 2,
  },
  {
    label: "10k idle-then-echo, 64 KiB reads: peak RSS",
    unit: "MiB",
    caseId: "concurrency-64k",
    metric: peak,
  },
  {
    label: "10k idle-then-echo, 64 KiB reads: per conn",
    unit: "B",
    caseId: "concurrency-64k",
    metric: perConn,
    decimals: 0,
  },
  ...SCALE_CONNS.flatMap(scaleRows),
  ...socketserverRows("pingpong", "64 B round trips on 100 open conns", "rt/s"),
  ...socketserverRows("churn", "a conn per 64 B round trip, 100 at once", "conn/s"),
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

/** Bytes of peak RSS above the server's RSS at READY, per connection. */
function perConn(s: Sample, c: Case): number {
  return ((s.peakMiB! - s.baseMiB!) * 2 ** 20) / c.spec.conns!;
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
  /** The row whose pysock column is measured. */
  row: string;
  /** The column on the other side of the ratio; raw Deno when omitted. */
  against?: ImplId;
  /** The row is a ratio already (an `over` row): its pysock column is the verdict. */
  ratioRow?: boolean;
  min?: number;
  max?: number;
}

const BULK_RECV = ROWS[0].label;
const BULK_INTO = ROWS[1].label;
const TARGETS: Target[] = [
  { label: "recv >= 0.95x raw fresh-array reads", row: BULK_RECV, min: 0.95 },
  { label: "recvInto >= 0.98x raw reused-buffer reads", row: BULK_INTO, min: 0.98 },
  { label: "ping-pong 1 conn >= 0.95x raw", row: "ping-pong 64 B, 1 conn", min: 0.95 },
  { label: "ping-pong 16 conns >= 0.95x raw", row: "ping-pong 64 B, 16 conns", min: 0.95 },
  {
    label: "recvMsg >= 0.90x raw views decoder",
    row: "framing recvMsg, 100 B | raw: views decoder",
    min: 0.9,
  },
  {
    label: "recvMsgs >= 1.00x raw views decoder",
    row: "framing recvMsgs, 100 B | raw: views; CPython: makefile+struct",
    min: 1,
  },
  {
    label: "recvMsgs >= 4x CPython makefile+struct",
    row: "framing recvMsgs, 100 B | raw: views; CPython: makefile+struct",
    against: "cpython",
    min: 4,
  },
  {
    // Not one of the issue's pairs: the batch-per-step idiom that issue 18's analysis pointed to.
    label: "recvMsgBatches >= 4x CPython (idiom)",
    row: "framing recvMsgBatches, 100 B | raw: views; CPython: makefile+struct",
    against: "cpython",
    min: 4,
  },
  {
    label: "UDP recvfrom/sendto >= 0.95x raw",
    row: "UDP 64 B recvfrom/sendto, delivered",
    min: 0.95,
  },
  { label: "UDP recvfromInto >= 0.98x raw", row: "UDP 64 B recvfromInto, delivered", min: 0.98 },
  {
    label: "10k idle-then-echo peak RSS <= raw 4 KiB",
    row: "10k idle-then-echo, 4 KiB reads: peak RSS",
    max: 1,
  },
  {
    label: "socketserver >= 0.90x accept loop, rt",
    row: "socketserver, 64 B round trips on 100 open conns: ThreadingTCPServer ÷ accept loop",
    ratioRow: true,
    min: 0.9,
  },
  {
    label: "socketserver >= 0.90x accept loop, churn",
    row: "socketserver, a conn per 64 B round trip, 100 at once: ThreadingTCPServer ÷ accept loop",
    ratioRow: true,
    min: 0.9,
  },
];

/** One target's verdict: the median per-round ratio and its range, or why there is none. */
interface Verdict {
  target: Target;
  ratio?: number;
  low?: number;
  high?: number;
  ok?: boolean;
  /** The same ratio in client work per CPU second, where both columns report CPU time. */
  cpu?: number;
  missing?: string;
}

function verdicts(cells: Map<string, Cell>, byId: Map<string, Case>): Verdict[] {
  const out: Verdict[] = [];
  for (const t of TARGETS) {
    const row = ROWS.find((r) => r.label === t.row)!;
    if (!byId.has(row.caseId) || (row.over && !byId.has(row.over))) continue;
    const mine = rowValues(row, "pysock", cells, byId);
    if (t.ratioRow) {
      if (typeof mine === "string" || mine.length === 0) {
        out.push({ target: t, missing: typeof mine === "string" ? mine : "?" });
        continue;
      }
      const r = median(mine);
      const ok = (t.min === undefined || r >= t.min) && (t.max === undefined || r <= t.max);
      out.push({ target: t, ratio: r, low: Math.min(...mine), high: Math.max(...mine), ok });
      continue;
    }
    const against = rowValues(row, t.against ?? "raw", cells, byId);
    if (typeof mine === "string" || typeof against === "string") {
      out.push({ target: t, missing: typeof mine === "string" ? mine : against as string });
      continue;
    }
    const r = ratio(mine, against);
    const each = mine.length === against.length ? mine.map((v, i) => v / against[i]) : [r];
    const ok = (t.min === undefined || r >= t.min) && (t.max === undefined || r <= t.max);
    const cpu = cpuRatio(row, cells, "pysock", t.against ?? "raw");
    out.push({ target: t, ratio: r, low: Math.min(...each), high: Math.max(...each), ok, cpu });
  }
  return out;
}

/**
 * The median per-round ratio of the client's work per CPU second (a rate row's value × its
 * seconds ÷ its CPU seconds), for two Deno columns: how much CPU pysock spends on the same work,
 * which a shared machine disturbs less than the wall time. `undefined` where a column has no
 * CPU time (CPython, Node) or the row is not a rate.
 */
function cpuRatio(
  row: Row,
  cells: Map<string, Cell>,
  a: ImplId,
  b: ImplId,
): number | undefined {
  if (row.metric !== value || row.unit === "s") return undefined;
  const work = (impl: ImplId) => {
    const cell = cells.get(`${row.caseId}/${impl}`);
    if (typeof cell !== "object") return [];
    return cell.map((s) => (s.value * s.seconds) / s.cpu!);
  };
  const [x, y] = [work(a), work(b)];
  if (x.length === 0 || x.length !== y.length) return undefined;
  const each = x.map((v, i) => v / y[i]);
  return each.every(Number.isFinite) ? median(each) : undefined;
}

function renderTargets(list: Verdict[]): string {
  const out = [
    "targets (issues 18 and 16; pysock ÷ the named column, median of per-round ratios):",
  ];
  for (const v of list) {
    const label = v.target.label.padEnd(44);
    if (v.missing !== undefined) {
      out.push(`  ${label} ${v.missing}`);
      continue;
    }
    const range = v.low === v.high ? "" : ` [${v.low!.toFixed(2)}–${v.high!.toFixed(2)}]`;
    const verdict = `${v.ratio!.toFixed(2)}x${range}  ${v.ok ? "met" : "NOT MET"}`;
    const cpu = v.cpu === undefined ? "" : `   (client work per CPU second: ${v.cpu.toFixed(2)}x)`;
    out.push(`  ${label} ${verdict.padEnd(28)}${cpu}`.trimEnd());
  }
  return out.join("\n");
}

/** pysock ÷ pysock base for every row both ran: the before/after of a change, in one run. */
function renderVersus(cells: Map<string, Cell>, byId: Map<string, Case>): string {
  const out = ["pysock ÷ pysock base (median of per-round ratios [min–max]):"];
  for (const row of ROWS) {
    if (!byId.has(row.caseId) || row.over) continue;
    const now = rowValues(row, "pysock", cells, byId);
    const before = rowValues(row, "base", cells, byId);
    if (typeof now === "string" || typeof before === "string") continue;
    if (now.length !== before.length || now.length === 0) continue;
    const each = now.map((v, i) => v / before[i]).filter(Number.isFinite);
    if (each.length === 0) continue;
    const range = (xs: number[]) =>
      `${median(xs).toFixed(3)}x [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`;
    // The client's work per CPU second, where the row's metric is a rate: steadier than the
    // wall time when other processes share the machine.
    const efficiency = (impl: ImplId) => {
      const cell = cells.get(`${row.caseId}/${impl}`);
      if (row.metric !== value || typeof cell !== "object") return [];
      return cell.map((s) => (s.value * s.seconds) / s.cpu!);
    };
    const [a, b] = [efficiency("pysock"), efficiency("base")];
    const cpu = a.length === b.length && a.length > 0 && a.every(Number.isFinite)
      ? `   client CPU: ${range(a.map((v, i) => v / b[i]))}`
      : "";
    out.push(`  ${row.label.padEnd(64)} wall: ${range(each)}${cpu}`);
  }
  return out.join("\n");
}

/**
 * Copies this tree's bench peers into `dir` (a checkout of an earlier commit, e.g. from
 * `git archive`), so the `base` column runs the same peers against the older modules.
 */
async function prepareBaseline(dir: string): Promise<string> {
  const root = new URL("..", import.meta.url).pathname;
  const absolute = dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
  await Deno.mkdir(`${absolute}/bench`, { recursive: true });
  for (const entry of Deno.readDirSync(`${root}bench`)) {
    if (!entry.isFile || !/^(_|peer_)/.test(entry.name)) continue;
    await Deno.copyFile(`${root}bench/${entry.name}`, `${absolute}/bench/${entry.name}`);
  }
  return absolute;
}

/** The scale curves of every column that ran them: median echo rate and peak RSS per point. */
function scaleSeries(impls: Impl[], cells: Map<string, Cell>): Series[] {
  const series: Series[] = [];
  for (const impl of impls) {
    const points: Series["points"] = [];
    for (const conns of SCALE_CONNS) {
      const cell = cells.get(`scale-${conns}/${impl.id}`);
      if (cell === undefined || typeof cell === "string" || cell.length === 0) continue;
      points.push({
        conns,
        rate: median(cell.map(value)),
        rssMiB: median(cell.map(peak)),
      });
    }
    if (points.length > 0) series.push({ name: impl.title, points });
  }
  return series;
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

/**
 * How noisy the run was: for each row with several rounds, raw Deno's spread (max − min) as a
 * fraction of its median; the median and the largest over the rows.
 */
function noise(cells: Map<string, Cell>, byId: Map<string, Case>): string {
  const spreads: [number, string][] = [];
  for (const row of ROWS) {
    if (!byId.has(row.caseId) || row.over || row.unit === "%") continue;
    const values = rowValues(row, "raw", cells, byId);
    if (typeof values === "string" || values.length < 2) continue;
    spreads.push([(Math.max(...values) - Math.min(...values)) / median(values), row.label]);
  }
  if (spreads.length === 0) return "noise: one round, not measured";
  spreads.sort((a, b) => a[0] - b[0]);
  const [worst, label] = spreads.at(-1)!;
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  return `noise: raw Deno's spread across rounds (max − min over median) is ${
    pct(median(spreads.map((s) => s[0])))
  } in the median row, ${pct(worst)} at most (${label})`;
}

function scaleTable(series: Series[]): string {
  const header = ["connections", ...series.flatMap((s) => [`${s.name} rt/s`, `${s.name} MiB`])];
  const lines = [header.join(" | ")];
  lines.push(header.map(() => "---").join(" | "));
  for (const conns of SCALE_CONNS) {
    const line = [conns.toLocaleString("en-US")];
    for (const s of series) {
      const p = s.points.find((p) => p.conns === conns);
      line.push(p ? fmt(p.rate, 0) : "—", p ? fmt(p.rssMiB, 0) : "—");
    }
    lines.push(line.join(" | "));
  }
  return lines.map((l) => `| ${l} |`).join("\n");
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
      md: { type: "string" },
      baseline: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (flags.help) {
    console.log(
      "Usage: deno task bench [--quick] [--runs N] [--only bulk,pingpong,...] " +
        "[--impl pysock,raw,cpython,node] [--md bench/results.md]",
    );
    return;
  }
  const runs = Number(flags.runs ?? (flags.quick ? QUICK_RUNS : 5));
  const timeoutMs = Number(flags.timeout) * 1000;
  const pin = await canPin();
  const only = flags.only?.split(",");
  // The quick run leaves Node out: no target names it.
  const wanted = flags.impl?.split(",") ?? (flags.quick ? ["pysock", "raw", "cpython"] : undefined);
  const baseline = flags.baseline === undefined ? undefined : await prepareBaseline(flags.baseline);
  const impls = (await implementations(baseline)).filter((i) =>
    !wanted || wanted.includes(i.id) || i.id === "base"
  );
  const raw = impls.find((i) => i.id === "raw") ??
    (await implementations()).find((i) => i.id === "raw")!;
  const selected = cases(flags.quick).filter((c) => !only || only.some((o) => c.id.startsWith(o)));
  const byId = new Map(selected.map((c) => [c.id, c]));
  const cells = new Map<string, Cell>();
  const started = performance.now();

  console.error(await machine(impls, pin));
  for (let round = 0; round < runs; round++) {
    for (const c of selected) {
      if (flags.quick && c.once && round > 0) continue;
      const order = impls.filter((i) =>
        c.impls.includes(i.id) || (i.id === "base" && c.impls.includes("pysock"))
      );
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
  const verdictList = verdicts(cells, byId);
  const table = renderTable(impls, cells, byId, runs);
  const targets = renderTargets(verdictList);
  const noisy = noise(cells, byId);
  const about = await machine(impls, pin);
  const command = `deno run -A bench/run.ts ${Deno.args.join(" ")}`.trim();
  console.log(
    `\npysock benchmarks — median of ${runs} run(s) [min–max], ratio to raw Deno = median of per-round ratios`,
  );
  console.log(about);
  console.log(`${flags.quick ? "--quick" : "full"} run, ${fmt(seconds, 0)} s; ${noisy}\n`);
  console.log(table);
  console.log(`\n${targets}`);
  if (baseline !== undefined) console.log(`\n${renderVersus(cells, byId)}`);
  await Deno.writeTextFile(
    flags.json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: about,
        command,
        runs,
        seconds,
        quick: flags.quick,
        cases: selected,
        cells: Object.fromEntries(cells),
        scale: scaleSeries(impls, cells),
        targets: verdictList.map(({ target, ...v }) => ({ label: target.label, ...v })),
      },
      null,
      2,
    ) + "\n",
  );
  // Only a complete run replaces the results page.
  const complete = !flags.quick && !only && !wanted && baseline === undefined;
  const md = flags.md ?? (complete ? new URL("results.md", import.meta.url).pathname : undefined);
  if (md === undefined) return;
  const series = scaleSeries(impls, cells);
  const svg = md.replace(/[^/]*$/, "scale.svg");
  if (series.length > 0) await Deno.writeTextFile(svg, scaleSvg(series));
  // bench/socketserver.ts writes its own section of the page: keep it.
  const old = await Deno.readTextFile(md).catch(() => "");
  const kept = old.match(/<!-- socketserver: [^]*?<!-- \/socketserver -->/)?.[0];
  await Deno.writeTextFile(
    md,
    [
      "# pysock benchmark results",
      "",
      `Written by \`${command}\` on ${new Date().toISOString().slice(0, 10)}: ${runs} rounds, ` +
      `${fmt(seconds, 0)} s. Each cell is the median of the rounds [min–max]; a ratio is the ` +
      "median of the per-round ratios to raw Deno, since the columns of one round ran minutes " +
      "apart at most.",
      "",
      "```text",
      about,
      noisy,
      "```",
      "",
      "## Table",
      "",
      "```text",
      table,
      "```",
      "",
      "## Targets",
      "",
      "```text",
      targets,
      "```",
      "",
      "## Scale curves",
      "",
      "Echo round trips per second (64 B, a raw Deno client, every connection busy at once) and " +
      "the server's peak RSS, by number of concurrent connections.",
      "",
      series.length > 0 ? "![scale curves](scale.svg)\n" : "",
      scaleTable(series),
      "",
      ...(kept ? [kept, ""] : []),
    ].join("\n"),
  );
}

if (import.meta.main) await main();
