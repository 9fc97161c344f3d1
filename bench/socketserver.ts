/**
 * `deno task bench:socketserver`: issue 16's pair, ThreadingTCPServer against a hand-written
 * pysock accept loop, with 100 clients, in one run. The servers (bench/peer_socketserver.ts,
 * and CPython's socketserver for context) differ only in what serves the connections:
 *
 * - ThreadingTCPServer + BaseRequestHandler, `recv(65536)` → `sendall` in `handle`;
 * - ThreadingTCPServer + StreamRequestHandler, `rfile` lines → `wfile` (bulk: `read(65536)`);
 * - the pysock accept loop: `accept()` in a loop, a task per connection, `recv` → `sendall`;
 * - raw Deno: `Deno.listen`, `read`/`write` with one buffer per connection;
 * - CPython 3's `socketserver.ThreadingTCPServer` + the same BaseRequestHandler.
 *
 * The load is always the same raw Deno client (bench/peer_socketserver.ts), 100 connections:
 * `pingpong` (64 B round trips on connections opened beforehand), `churn` (a connection per
 * round trip: connect, 64 B echoed, close; 100 at a time) and `bulk` (every connection echoes
 * 4 MiB in 64 KiB writes). By default the server runs on CPU 0 and the client in its own
 * process on CPU 1 (taskset), so the client's cost does not hide the server's; `--inproc` also
 * runs each Deno server with the client in one process on CPU 0. Rounds rotate the order of
 * the servers; each cell is the median [min–max] of the rounds, each ratio the median of the
 * per-round ratios.
 *
 * Flags: `--quick` (smaller loads, 3 rounds: well under a minute), `--runs N` (default 5),
 * `--only pingpong,churn,bulk`, `--inproc`, `--md PATH` (write the results as the socketserver
 * section of that page, e.g. bench/results.md, replacing the one there), `--baseline DIR` (a
 * checkout of an earlier commit, `git archive <commit> | tar -x -C DIR`: adds (a) run against
 * that checkout, for a before/after in one run). Every process has a hard deadline.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { canPin, version } from "./_cases.ts";
import type { Spec } from "./_peer.ts";
import { describeFailure, Peer } from "./_proc.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string" },
    inproc: { type: "boolean", default: false },
    md: { type: "string" },
    baseline: { type: "string" },
  },
});
const quick = flags.quick;
const runs = Number(flags.runs ?? (quick ? 3 : 5));
const pin = await canPin();
const DEADLINE_MS = 120_000;
const PEER = [Deno.execPath(), "run", "-A", "bench/peer_socketserver.ts"];
const python = await version("python3", "--version");

interface Server {
  id: string;
  label: string;
  /** The server's program (its `server` role). */
  argv: string[];
  deno: boolean;
  server: Spec["server"];
}
const SERVERS: Server[] = [
  {
    id: "a",
    label: "ThreadingTCPServer+Base",
    argv: PEER,
    deno: true,
    server: "threading",
  },
  {
    id: "b",
    label: "ThreadingTCPServer+Stream",
    argv: PEER,
    deno: true,
    server: "stream",
  },
  { id: "c", label: "accept loop", argv: PEER, deno: true, server: "loop" },
  { id: "d", label: "raw Deno", argv: PEER, deno: true, server: "raw" },
  // (a) against pysock at an earlier commit (its checkout's own peer), for a before/after.
  ...(flags.baseline
    ? [{
      id: "a0",
      label: "(a) at baseline",
      argv: [Deno.execPath(), "run", "-A", `${flags.baseline}/bench/peer_socketserver.ts`],
      deno: true,
      server: "threading" as const,
    }]
    : []),
  ...(python
    ? [{
      id: "e",
      label: `${python.replace("Python ", "CPython ")} socketserver`,
      argv: ["python3", "bench/peer_cpython.py"],
      deno: false,
      server: "threading" as const,
    }]
    : []),
];

interface Load {
  echo: NonNullable<Spec["echo"]>;
  label: string;
  unit: string;
  spec: Partial<Spec>;
}
const base = { workload: "socketserver", conns: 100, size: 64, readBuf: 65536, backlog: 4096 };
const LOADS: Load[] = ([
  {
    echo: "pingpong",
    label: "pingpong: 64 B round trips, 100 open conns",
    unit: "rt/s",
    spec: { rounds: quick ? 30_000 : 100_000 },
  },
  {
    echo: "churn",
    label: "churn: a conn per 64 B round trip, 100 at once",
    unit: "conn/s",
    spec: { rounds: quick ? 4_000 : 10_000 },
  },
  {
    echo: "bulk",
    label: "bulk: 100 conns echo 4 MiB each, 64 KiB writes",
    unit: "MB/s",
    spec: { bytes: (quick ? 1 : 4) * 2 ** 20, chunk: 65536 },
  },
] as Load[]).filter((l) => !flags.only || flags.only.split(",").includes(l.echo));

type Mode = "split" | "inproc";
/** One measurement: the client's rate, or why there is none. */
type Cell = { value: number; seconds: number; cpu: number; serverCpu?: number } | {
  error: string;
};

/** CPU seconds (user + system, all threads) a process has used, from /proc; NaN when gone. */
function processCpu(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function measure(server: Server, load: Load, mode: Mode): Promise<Cell> {
  const spec = { ...base, ...load.spec, echo: load.echo, server: server.server };
  if (mode === "inproc") {
    const argv = [...server.argv, "both", JSON.stringify(spec)];
    const peer = new Peer(argv, pin ? 0 : null, DEADLINE_MS);
    const exit = await peer.wait();
    return exit.result === null ? { error: describeFailure(exit) } : exit.result as Cell;
  }
  const peer = new Peer(
    [...server.argv, "server", JSON.stringify(spec)],
    pin ? 0 : null,
    DEADLINE_MS,
  );
  try {
    const port = await peer.ready();
    const argv = [...PEER, "client", JSON.stringify({ ...spec, port })];
    const cpu0 = processCpu(peer.pid);
    const exit = await new Peer(argv, pin ? 1 : null, DEADLINE_MS).wait();
    if (exit.result === null) return { error: describeFailure(exit) };
    // The server's CPU over the whole client run (connects too), per unit of work: what the
    // server costs, which other processes on the machine disturb less than the rate.
    const work = exit.result.value * exit.result.seconds;
    return { ...exit.result, serverCpu: (processCpu(peer.pid) - cpu0) / work } as Cell;
  } catch (err) {
    return { error: (err as Error).message.slice(0, 80) };
  } finally {
    await peer.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fmt = (x: number) =>
  x.toLocaleString("en-US", { maximumFractionDigits: Math.abs(x) >= 100 ? 0 : 1 });

// samples[mode][load][server] = one value per round (NaN where the round failed).
const samples = new Map<string, number[]>();
// cpuSamples[...] = the server's CPU µs per unit of work, per round (split mode only).
const cpuSamples = new Map<string, number[]>();
const errors = new Map<string, string>();
const key = (mode: Mode, load: Load, server: Server) => `${mode}/${load.echo}/${server.id}`;
const modes: Mode[] = flags.inproc ? ["split", "inproc"] : ["split"];
const started = performance.now();

for (let round = 0; round < runs; round++) {
  for (const mode of modes) {
    for (const load of LOADS) {
      const servers = SERVERS.filter((s) => mode === "split" || s.deno);
      for (let k = 0; k < servers.length; k++) {
        // Rotate each round, so no server always runs right after the same neighbour.
        const server = servers[(k + round) % servers.length];
        const cell = await measure(server, load, mode);
        const id = key(mode, load, server);
        const list = samples.get(id) ?? [];
        list[round] = "error" in cell ? NaN : cell.value;
        samples.set(id, list);
        const cpuList = cpuSamples.get(id) ?? [];
        cpuList[round] = "error" in cell ? NaN : 1e6 * (cell.serverCpu ?? NaN);
        cpuSamples.set(id, cpuList);
        if ("error" in cell) errors.set(id, cell.error);
        console.error(
          `[${round + 1}/${runs}] ${mode.padEnd(6)} ${load.echo.padEnd(8)} ${
            server.label.padEnd(30)
          } ${"error" in cell ? cell.error : `${fmt(cell.value)} ${load.unit}`}`,
        );
      }
    }
  }
}

/** The median of the per-round ratios a ÷ b, with their range. */
function ratio(a: number[] | undefined, b: number[] | undefined): string {
  if (!a || !b) return "—";
  const each = a.map((x, i) => x / b[i]).filter(Number.isFinite);
  if (each.length === 0) return "—";
  const range = each.length > 1
    ? ` [${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)}]`
    : "";
  return `${median(each).toFixed(2)}x${range}`;
}

function table(mode: Mode): string {
  const servers = SERVERS.filter((s) => mode === "split" || s.deno);
  const header = [
    "workload",
    "unit",
    ...servers.map((s) => s.id === "a0" ? s.label : `(${s.id}) ${s.label}`),
    "a ÷ c (target >= 0.90)",
    "b ÷ c",
    "a ÷ d",
    "c ÷ d",
    ...(mode === "split" && python ? ["a ÷ e"] : []),
    ...(flags.baseline ? ["a ÷ (a) at baseline"] : []),
  ];
  const rows = [header];
  for (const load of LOADS) {
    const get = (id: string) => samples.get(key(mode, load, SERVERS.find((s) => s.id === id)!));
    const cells = servers.map((s) => {
      const values = (samples.get(key(mode, load, s)) ?? []).filter(Number.isFinite);
      if (values.length === 0) return errors.get(key(mode, load, s)) ?? "—";
      const range = values.length > 1
        ? ` [${fmt(Math.min(...values))}–${fmt(Math.max(...values))}]`
        : "";
      return `${fmt(median(values))}${range}`;
    });
    rows.push([
      load.label,
      load.unit,
      ...cells,
      ratio(get("a"), get("c")),
      ratio(get("b"), get("c")),
      ratio(get("a"), get("d")),
      ratio(get("c"), get("d")),
      ...(mode === "split" && python ? [ratio(get("a"), get("e"))] : []),
      ...(flags.baseline ? [ratio(get("a"), get("a0"))] : []),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

/** The server's CPU per unit of work (split mode): medians and the ratios a ÷ c, a ÷ d. */
function cpuTable(): string {
  const servers = SERVERS;
  const header = [
    "server CPU per unit",
    "unit",
    ...servers.map((s) => `(${s.id})`),
    "a ÷ c",
    "b ÷ c",
    "a ÷ d",
    ...(flags.baseline ? ["a ÷ a0"] : []),
  ];
  const rows = [header];
  const per = (unit: string) => `µs/${unit.replace("/s", "")}`;
  for (const load of LOADS) {
    const get = (id: string) =>
      cpuSamples.get(key("split", load, SERVERS.find((s) => s.id === id)!));
    rows.push([
      load.echo,
      per(load.unit),
      ...servers.map((s) => {
        const v = (cpuSamples.get(key("split", load, s)) ?? []).filter(Number.isFinite);
        return v.length ? fmt(median(v)) : "—";
      }),
      ratio(get("a"), get("c")),
      ratio(get("b"), get("c")),
      ratio(get("a"), get("d")),
      ...(flags.baseline ? [ratio(get("a"), get("a0"))] : []),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

const seconds = (performance.now() - started) / 1000;
const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown CPU";
const about = [
  `${navigator.hardwareConcurrency} cores (${model}), Linux ${Deno.osRelease()}`,
  `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`,
  pin
    ? "separate processes: server on CPU 0, client on CPU 1 (taskset); in-process: both on CPU 0"
    : "no taskset: unpinned",
].join("\n");
const command = `deno run -A bench/socketserver.ts ${Deno.args.join(" ")}`.trim();
const summary = `${runs} rounds${quick ? " (--quick)" : ""}, ${seconds.toFixed(0)} s`;
const legend = [
  "(a) ThreadingTCPServer, BaseRequestHandler: recv(65536) → sendall",
  "(b) ThreadingTCPServer, StreamRequestHandler: rfile lines → wfile (bulk: rfile.read(65536))",
  "(c) a hand-written pysock accept loop: accept(), a task per conn, recv(65536) → sendall",
  "(d) raw Deno: Deno.listen, conn.read/write, one 64 KiB buffer per conn",
  ...(python ? ["(e) CPython's socketserver.ThreadingTCPServer, the same handler as (a)"] : []),
  ...(flags.baseline ? [`(a0) (a) with pysock at ${flags.baseline}`] : []),
].join("\n");
const tables = [
  legend,
  `client in its own process:\n${table("split")}`,
  `the server's CPU time during the client's run ÷ its work (lower is cheaper; a ratio < 1 ` +
  `means a costs less):\n${cpuTable()}`,
];
if (flags.inproc) tables.push(`client in the server's process:\n${table("inproc")}`);
console.log(`\nsocketserver echo, 100 clients — ${summary}\n${about}\n`);
console.log(tables.join("\n\n"));

if (flags.md) {
  const BEGIN = "<!-- socketserver: written by bench/socketserver.ts -->";
  const END = "<!-- /socketserver -->";
  const section = [
    BEGIN,
    "## socketserver (issue 16)",
    "",
    `Written by \`${command}\` on ${new Date().toISOString().slice(0, 10)}: ${summary}. ` +
    "Each cell is the median of the rounds [min–max]; a ratio is the median of the per-round " +
    "ratios. The load is the same raw Deno client for every server.",
    "",
    "```text",
    about,
    "```",
    "",
    "```text",
    tables.join("\n\n"),
    "```",
    END,
  ].join("\n");
  const old = await Deno.readTextFile(flags.md).catch(() => "");
  const at = old.indexOf(BEGIN);
  const end = old.indexOf(END);
  const next = at >= 0 && end > at
    ? old.slice(0, at) + section + old.slice(end + END.length)
    : `${old.trimEnd()}\n\n${section}\n`;
  await Deno.writeTextFile(flags.md, next);
}
