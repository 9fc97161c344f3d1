/**
 * What the benchmark measures: the columns (pysock, raw Deno, CPython, Node), the cases (one
 * workload configuration each) and {@linkcode measure}, which runs one case for one column as a
 * server process and a client process.
 *
 * @module
 */

import { describeFailure, Peer } from "./_proc.ts";
import type { Spec } from "./_peer.ts";

/**
 * A column of the table. `base` is pysock at an earlier commit (`--baseline DIR`), run by the
 * same peers, for a before/after comparison in one run.
 */
export type ImplId = "pysock" | "base" | "raw" | "cpython" | "node";

/** How to run one column's peers. */
export interface Impl {
  /** Column id. */
  id: ImplId;
  /** Column heading, with the version. */
  title: string;
  /** The program for a workload's peers; which file depends on the workload for pysock. */
  argv: (workload: string) => string[];
  /** Why this column cannot run a case (`n/a (...)`), or `null` when it can. */
  missing: (c: Case) => string | null;
}

/** One measured configuration; every table row reads one metric of a case. */
export interface Case {
  /** Id, used by `--only` and in results.json. */
  id: string;
  /** The workload both peers run. */
  workload: string;
  /** Its parameters. */
  spec: Partial<Spec>;
  /** The columns that run it. */
  impls: ImplId[];
  /** `split`: server on CPU 0, client on CPU 1; `same`: both on CPU 0; `none`: unpinned. */
  pin: "split" | "same" | "none";
  /** Server processes sharing the port with SO_REUSEPORT (scale-out); 1 when omitted. */
  servers?: number;
  /** Use raw Deno's client for every column (the concurrency row measures the server). */
  rawClient?: boolean;
  /** A `--quick` run measures this case in its first round only (it takes seconds per cell). */
  once?: boolean;
}

/** What one run of a case measured. */
export interface Sample {
  /** The client's metric (MB/s, round trips/s, msg/s, or seconds). */
  value: number;
  /** Wall time of the client's measured part. */
  seconds: number;
  /** CPU seconds the client spent in its measured part (Deno peers). */
  cpu?: number;
  /** UDP: fraction of datagrams lost. */
  loss?: number;
  /** The servers' peak resident set (VmHWM), MiB. */
  peakMiB?: number;
  /** The servers' resident set when they announced READY, MiB. */
  baseMiB?: number;
}

const DENO = ["deno", "run", "-A", "--unstable-net"];
const PYSOCK_PEERS: Record<string, [peer: string, modules: string[]]> = {
  "udp": ["bench/peer_pysock_udp.ts", ["udp.ts"]],
  "framing-recv": ["bench/peer_pysock_framing.ts", ["socket.ts", "framing.ts"]],
  "framing-send": ["bench/peer_pysock_framing.ts", ["socket.ts", "framing.ts"]],
  "socketserver": ["bench/peer_socketserver.ts", ["socket.ts", "socketserver.ts"]],
};

function exists(path: string): boolean {
  try {
    Deno.statSync(new URL(`../${path}`, import.meta.url));
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `cmd args` and returns what it printed, or `null` when it is not installed.
 *
 * @param cmd Program.
 * @param args Arguments.
 * @returns Its stdout (or stderr when stdout is empty), trimmed.
 */
export async function version(cmd: string, ...args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    if (!out.success) return null;
    return new TextDecoder().decode(out.stdout).trim() ||
      new TextDecoder().decode(out.stderr).trim();
  } catch {
    return null;
  }
}

/**
 * Whether cases can be pinned: `taskset` is installed and there are two cores.
 *
 * @returns True when pinning works here.
 */
export async function canPin(): Promise<boolean> {
  return navigator.hardwareConcurrency >= 2 && (await version("taskset", "--version")) !== null;
}

/**
 * The columns, with what each needs checked once.
 *
 * @param baseline A checkout of pysock at an earlier commit: adds the `base` column, which runs
 *   this tree's pysock peers against that checkout's modules (the peers are copied into its
 *   `bench/`).
 * @returns pysock, (base,) raw Deno, CPython, Node, in table order.
 */
export async function implementations(baseline?: string): Promise<Impl[]> {
  const python = await version("python3", "--version");
  const node = await version("node", "--version");
  const [nodeMajor, nodeMinor] = (node ?? "v0.0").slice(1).split(".").map(Number);
  const nodeReusePort = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 12);
  const pysockPeer = (w: string) => PYSOCK_PEERS[w] ?? ["bench/peer_pysock.ts", ["socket.ts"]];
  return [
    {
      id: "pysock",
      title: "pysock",
      argv: (w) => [...DENO, pysockPeer(w)[0]],
      missing: (c) => {
        const gone = pysockPeer(c.workload)[1].filter((f) => !exists(f));
        return gone.length ? `n/a (module missing: ${gone.join(", ")})` : null;
      },
    },
    ...(baseline === undefined ? [] : [{
      id: "base" as const,
      title: "pysock base",
      argv: (w: string) => [...DENO, `${baseline}/${pysockPeer(w)[0]}`],
      missing: () => null,
    }]),
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
      missing: (c) => {
        if (!node) return "n/a (no node)";
        if (c.servers && !nodeReusePort) return "n/a (reusePort needs Node 22.12+)";
        return null;
      },
    },
  ];
}

/** The connection counts of the scale curves. */
export const SCALE_CONNS = [1, 100, 1_000, 10_000] as const;

/**
 * Every case, in table order: the pairs issue 18 names, the scale curves, and the issue 8 rows
 * that are kept for context. `--quick` runs smaller workloads and leaves out the rows marked
 * `full`.
 *
 * @param quick Smaller workloads, and only the cases a target or the scale curves need.
 * @returns The cases.
 */
export function cases(quick: boolean): Case[] {
  const all: ImplId[] = ["pysock", "raw", "cpython", "node"];
  const bulk = { bytes: (quick ? 256 : 1024) * 2 ** 20, chunk: 65536 };
  const pingpong = { rounds: quick ? 10_000 : 20_000, size: 64 };
  const framing = { count: quick ? 300_000 : 1_000_000, size: 100 };
  const udp = { count: quick ? 50_000 : 200_000, size: 64, window: 128, ackEvery: 32 };
  // The kernel caps the backlog at somaxconn (4096 here); a smaller queue overflows while a
  // slower server catches up, and the dropped SYNs cost a 1 s retransmit.
  const concurrency = { conns: 10_000, size: 1024, backlog: 4096 };
  const scaleout = { conns: 64, rounds: quick ? 30_000 : 100_000, size: 64, reusePort: true };
  // Issue 16's pair: ThreadingTCPServer and a hand-written pysock accept loop, 100 clients.
  const socketserver = { conns: 100, size: 64, readBuf: 65536, backlog: 4096 };
  const echoes = [
    { echo: "pingpong", rounds: quick ? 20_000 : 100_000 },
    { echo: "churn", rounds: quick ? 3_000 : 10_000 },
  ] as const;
  const list: (Case & { full?: boolean })[] = [
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
      id: "bulk-chunks",
      workload: "bulk",
      spec: { ...bulk, mode: "chunks" },
      impls: ["pysock", "raw"],
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
      full: true,
    },
    {
      id: "pingpong-16-pinned",
      workload: "pingpong",
      spec: { ...pingpong, conns: 16 },
      impls: all,
      pin: "same",
      full: true,
    },
    { id: "udp", workload: "udp", spec: udp, impls: all, pin: "split" },
    {
      id: "udp-into",
      workload: "udp",
      spec: { ...udp, mode: "into" },
      impls: ["pysock", "raw", "cpython"],
      pin: "split",
    },
    {
      id: "framing-recv",
      workload: "framing-recv",
      spec: { ...framing, views: true },
      impls: all,
      pin: "split",
    },
    {
      id: "framing-recvmsgs",
      workload: "framing-recv",
      spec: { ...framing, views: true, batch: true, makefile: true },
      impls: ["pysock", "raw", "cpython"],
      pin: "split",
    },
    {
      id: "framing-batches",
      workload: "framing-recv",
      spec: { ...framing, views: true, batch: true, makefile: true, batches: true },
      impls: ["pysock", "raw", "cpython"],
      pin: "split",
    },
    {
      id: "framing-send",
      workload: "framing-send",
      spec: { ...framing, count: framing.count / 5 },
      impls: all,
      pin: "split",
      full: true,
    },
    {
      id: "concurrency-4k",
      workload: "concurrency",
      spec: { ...concurrency, readBuf: 4096 },
      impls: ["pysock", "raw", "cpython"],
      pin: "split",
      rawClient: true,
      once: true,
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
      full: true,
    },
    ...SCALE_CONNS.map((conns): Case => ({
      id: `scale-${conns}`,
      workload: "scale",
      // Enough round trips per point to run about a second (1 conn) and to give each of
      // 10,000 connections a few.
      spec: {
        conns,
        rounds: conns === 1 ? (quick ? 3_000 : 10_000) : quick ? 20_000 : 50_000,
        size: 64,
        readBuf: 4096,
        backlog: 4096,
      },
      impls: ["pysock", "raw", "cpython"],
      pin: "split",
      rawClient: true,
      once: true,
    })),
    // Each ThreadingTCPServer case is followed by its accept loop, so the pair runs back to
    // back in every round; raw Deno's and CPython's servers do not change with `server`.
    ...echoes.flatMap(({ echo, rounds }): Case[] => [
      {
        id: `socketserver-${echo}`,
        workload: "socketserver",
        spec: { ...socketserver, echo, rounds, server: "threading" },
        impls: quick ? ["pysock", "raw"] : ["pysock", "raw", "cpython"],
        pin: "split",
        rawClient: true,
      },
      {
        id: `socketserver-${echo}-loop`,
        workload: "socketserver",
        spec: { ...socketserver, echo, rounds, server: "loop" },
        impls: ["pysock"],
        pin: "split",
        rawClient: true,
      },
    ]),
    {
      id: "scaleout-1",
      workload: "pingpong",
      spec: scaleout,
      impls: all,
      pin: "none",
      servers: 1,
      full: true,
    },
    {
      id: "scaleout-2",
      workload: "pingpong",
      spec: scaleout,
      impls: all,
      pin: "none",
      servers: 2,
      full: true,
    },
  ];
  return list.filter((c) => !quick || !c.full).map(({ full: _, ...c }) => c);
}

/** How {@linkcode measure} places and instruments the peers. */
export interface MeasureOptions {
  /** Kill a peer still running after this many milliseconds. */
  timeoutMs: number;
  /** Pin with `taskset` as the case says (false where taskset or a second core is missing). */
  pin: boolean;
  /** Write a V8 CPU profile of one side (Deno and Node peers) into `dir`. */
  profile?: { side: "server" | "client"; dir: string };
}

function cpus(c: Case, pin: boolean): [number | null, number | null] {
  if (c.pin === "none" || !pin) return [null, null];
  return c.pin === "same" ? [0, 0] : [0, Math.min(1, navigator.hardwareConcurrency - 1)];
}

function profiled(argv: string[], dir: string): string[] {
  const at = argv[0] === "deno" ? 2 : argv[0] === "node" ? 1 : -1;
  if (at < 0) throw new Error(`cannot profile ${argv[0]}: only Deno and Node peers`);
  return [...argv.slice(0, at), "--cpu-prof", `--cpu-prof-dir=${dir}`, ...argv.slice(at)];
}

/**
 * Runs one case for one column: starts the server(s), waits for `READY`, runs the client, reads
 * the servers' memory, stops everything. Every process has a hard deadline.
 *
 * @param c The case.
 * @param impl The column.
 * @param raw The raw-Deno column, whose client drives `rawClient` cases.
 * @param options Deadline, pinning, profiling.
 * @returns The client's measurement plus the servers' memory.
 * @throws {Error} With a one-line reason when a peer fails or times out.
 */
export async function measure(
  c: Case,
  impl: Impl,
  raw: Impl,
  options: MeasureOptions,
): Promise<Sample> {
  const [serverCpu, clientCpu] = cpus(c, options.pin);
  const spec = { workload: c.workload, ...c.spec } as Spec;
  const { side, dir } = options.profile ?? {};
  let serverArgv = impl.argv(c.workload);
  let clientArgv = c.rawClient ? raw.argv(c.workload) : serverArgv;
  if (side === "server") serverArgv = profiled(serverArgv, dir!);
  if (side === "client") clientArgv = profiled(clientArgv, dir!);
  const servers: Peer[] = [];
  try {
    for (let i = 0; i < (c.servers ?? 1); i++) {
      const argv = [...serverArgv, "server", JSON.stringify(spec)];
      const server = new Peer(argv, serverCpu, options.timeoutMs);
      servers.push(server);
      spec.port = await server.ready();
    }
    const baseMiB = sum(servers.map((s) => s.memory("VmRSS")));
    const argv = [...clientArgv, "client", JSON.stringify(spec)];
    const exit = await new Peer(argv, clientCpu, options.timeoutMs).wait();
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
