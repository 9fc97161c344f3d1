/**
 * `deno task bench:workers`: one echo server in 1, 2 and N processes sharing
 * its port through SO_REUSEPORT (pysock's `serveWorkers` running
 * `_server_echo.ts`, a `ThreadingTCPServer`), against the same number of raw
 * Deno processes (`Deno.listen({ reusePort: true })`, a task per
 * connection) in the same run. Prints round trips per second and the ratio
 * to one process.
 *
 * Method, so that it can be rerun on a bigger machine:
 * - The load is its own processes (`bench/peer_workers.ts load`, raw Deno
 *   sockets): `--load-procs` of them, `--conns` connections in all, each
 *   connection sending `--size` bytes and reading their echo back, over and
 *   over, for `--seconds` after a 0.5 s warm-up. Every echo is checked.
 * - The server runs in a host process (`bench/peer_workers.ts serve`) that
 *   starts the workers; `--server-cpus`/`--load-cpus` pin the host (its
 *   workers inherit it) and the load with `taskset -c`. Unpinned by default.
 * - The kernel spreads the connections over the workers (SO_REUSEPORT
 *   hashes each connection's addresses): nothing in pysock balances.
 * - One run per cell; run it twice to see the noise.
 *
 * A fair curve needs the load on cores of its own and not the bottleneck:
 * on a 16-core machine, for instance,
 * `deno task bench:workers --workers 1,2,4,8 --server-cpus 0-7 --load-cpus 8-15 --load-procs 4`.
 * On a 2-core machine the load and the workers share the two cores, so the
 * ratio measures how much a second process gains there, not how it scales.
 *
 * Flags: `--workers 1,2,N` (default 1, 2 and `navigator.hardwareConcurrency`),
 * `--conns 64`, `--size 1024`, `--seconds 3`, `--load-procs 1`,
 * `--server-cpus LIST`, `--load-cpus LIST`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { describeFailure, Peer } from "./_proc.ts";

const { values } = parseArgs({
  options: {
    workers: { type: "string" },
    conns: { type: "string", default: "64" },
    size: { type: "string", default: "1024" },
    seconds: { type: "string", default: "3" },
    "load-procs": { type: "string", default: "1" },
    "server-cpus": { type: "string" },
    "load-cpus": { type: "string" },
  },
});
const cores = navigator.hardwareConcurrency;
const counts = [...new Set((values.workers ?? `1,2,${cores}`).split(",").map(Number))];
if (counts.some((k) => !Number.isInteger(k) || k < 1)) {
  throw new RangeError(`--workers must list whole numbers above 0, got "${values.workers}"`);
}
const conns = Number(values.conns);
const size = Number(values.size);
const seconds = Number(values.seconds);
const loadProcs = Number(values["load-procs"]);
const DEADLINE_MS = (seconds + 60) * 1000;
const PEER = [Deno.execPath(), "run", "-A", "bench/peer_workers.ts"];

const pinned = (cpus: string | undefined, argv: string[]) =>
  cpus === undefined ? argv : ["taskset", "-c", cpus, ...argv];

/** Round trips per second of `impl` in `k` processes, or the failure. */
async function measure(impl: "pysock" | "raw", k: number): Promise<number | string> {
  const host = new Peer(
    pinned(values["server-cpus"], [...PEER, "serve", impl, String(k)]),
    null,
    DEADLINE_MS,
  );
  try {
    const port = await host.ready();
    const share = (i: number) => Math.floor(conns / loadProcs) + (i < conns % loadProcs ? 1 : 0);
    const loads = Array.from({ length: loadProcs }, (_, i) => {
      const spec = JSON.stringify({ port, conns: share(i), seconds, size });
      return new Peer(pinned(values["load-cpus"], [...PEER, "load", spec]), null, DEADLINE_MS);
    });
    const exits = await Promise.all(loads.map((load) => load.wait()));
    const failed = exits.find((exit) => exit.result === null);
    if (failed) return describeFailure(failed);
    return exits.reduce((sum, exit) => sum + exit.result!.value, 0);
  } catch (err) {
    return (err as Error).message.slice(0, 80);
  } finally {
    await host.stop();
  }
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
const cell = (v: number | string) => typeof v === "number" ? `${fmt(v)} rt/s` : v;
const ratio = (a: number | string, b: number | string) =>
  typeof a === "number" && typeof b === "number" ? `${(a / b).toFixed(2)}x` : "—";

const started = performance.now();
const results: { k: number; pysock: number | string; raw: number | string }[] = [];
for (const k of counts) {
  const pysock = await measure("pysock", k);
  const raw = await measure("raw", k);
  console.error(`[${k} processes] pysock ${cell(pysock)}, raw Deno ${cell(raw)}`);
  results.push({ k, pysock, raw });
}
const one = results.find((r) => r.k === 1);
const header = [
  "processes",
  "pysock serveWorkers",
  "÷ 1 process",
  "raw Deno reusePort",
  "÷ 1 process",
  "pysock ÷ raw",
];
const rows = results.map((r) => [
  String(r.k),
  cell(r.pysock),
  one ? ratio(r.pysock, one.pysock) : "—",
  cell(r.raw),
  one ? ratio(r.raw, one.raw) : "—",
  ratio(r.pysock, r.raw),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(
  `echo, ${size} B round trips on ${conns} connections from ${loadProcs} load process(es), ` +
    `${seconds} s a cell, one run; ${cores} cores; server ${
      values["server-cpus"] ?? "unpinned"
    }, ` +
    `load ${values["load-cpus"] ?? "unpinned"}; ${
      ((performance.now() - started) / 1000).toFixed(0)
    } s`,
);
console.log(line(header));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const row of rows) console.log(line(row));
