/**
 * `deno task bench:tls`: TLS bulk transfer and 64-byte ping-pong through pysock's ssl module,
 * raw Deno (`Deno.listenTls`/`Deno.connectTls`) and CPython's ssl, in one run, each pairing as
 * a server process on CPU 0 and a client process on CPU 1. The pysock client rows talk to the
 * raw Deno server, so their ratio to raw Deno is the client's own cost; the server row the
 * other way round. Certificates are made with openssl in a temp dir and removed afterwards.
 *
 * Flags: `--quick` (64 MiB bulk, 5,000 round trips), `--runs N` (median of N interleaved
 * rounds, default 3: the machine is shared, and one round swings by 2x), `--only a,b` (rows whose
 * label contains one of the words; the raw row always runs, as the ratios' base).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { canPin } from "./_cases.ts";
import { describeFailure, Peer } from "./_proc.ts";
import { makeLocalhostCerts } from "../tools/_certs.ts";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean" },
    runs: { type: "string", default: "3" },
    only: { type: "string" },
  },
});
const runs = Math.max(1, Number(flags.runs));
const DENO = ["deno", "run", "-A", "bench/peer_tls.ts"];
const PYTHON = ["python3", "bench/peer_tls_cpython.py"];

/** One row: who serves, who connects. */
interface Pairing {
  label: string;
  server: string[];
  serverImpl: string;
  client: string[];
  clientImpl: string;
}

const ALL_PAIRINGS: Pairing[] = [
  {
    label: "raw Deno: connectTls <-> listenTls",
    server: DENO,
    serverImpl: "raw",
    client: DENO,
    clientImpl: "raw",
  },
  {
    label: 'pysock client, engine "deno" <-> raw server',
    server: DENO,
    serverImpl: "raw",
    client: DENO,
    clientImpl: "pysock-deno",
  },
  {
    label: "pysock client, node:tls (default) <-> raw server",
    server: DENO,
    serverImpl: "raw",
    client: DENO,
    clientImpl: "pysock",
  },
  {
    label: "raw client <-> pysock server (node:tls)",
    server: DENO,
    serverImpl: "pysock",
    client: DENO,
    clientImpl: "raw",
  },
  {
    label: "pysock <-> pysock (node:tls both ends)",
    server: DENO,
    serverImpl: "pysock",
    client: DENO,
    clientImpl: "pysock",
  },
  {
    label: "CPython ssl <-> CPython ssl",
    server: PYTHON,
    serverImpl: "cpython",
    client: PYTHON,
    clientImpl: "cpython",
  },
];

const only = flags.only?.split(",") ?? null;
const PAIRINGS = ALL_PAIRINGS.filter((p, i) =>
  i === 0 || only === null || only.some((word) => p.label.includes(word))
);

const WORKLOADS = [
  { id: "bulk", unit: "MB/s", spec: { bytes: (flags.quick ? 64 : 256) * 2 ** 20, chunk: 65536 } },
  { id: "pingpong", unit: "rt/s", spec: { size: 64, rounds: flags.quick ? 5000 : 20000 } },
];

async function measure(
  pairing: Pairing,
  workload: typeof WORKLOADS[number],
  files: Record<string, string>,
  pin: boolean,
): Promise<number> {
  const base = { workload: workload.id, ...workload.spec, ...files };
  const server = new Peer(
    [...pairing.server, "server", JSON.stringify({ ...base, impl: pairing.serverImpl })],
    pin ? 0 : null,
    120_000,
  );
  try {
    const port = await server.ready();
    const argv = [
      ...pairing.client,
      "client",
      JSON.stringify({ ...base, impl: pairing.clientImpl, port }),
    ];
    const exit = await new Peer(argv, pin ? 1 : null, 120_000).wait();
    if (exit.result === null || exit.code !== 0) throw new Error(describeFailure(exit));
    return exit.result.value;
  } finally {
    await server.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const dir = await Deno.makeTempDir({ prefix: "pysock_bench_tls_" });
try {
  const files = await makeLocalhostCerts(dir, "bench CA", 1);
  const pin = await canPin();
  const samples = new Map<string, number[]>();
  const failures = new Map<string, string>();
  for (let round = 0; round < runs; round++) {
    for (const workload of WORKLOADS) {
      for (const pairing of PAIRINGS) {
        const key = `${pairing.label}|${workload.id}`;
        try {
          const value = await measure(pairing, workload, files, pin);
          samples.set(key, [...(samples.get(key) ?? []), value]);
        } catch (err) {
          failures.set(key, `failed: ${(err as Error).message.split("\n")[0]}`);
        }
      }
    }
  }
  const cell = (pairing: Pairing, workload: string): number | string => {
    const key = `${pairing.label}|${workload}`;
    const all = samples.get(key);
    return all === undefined ? failures.get(key) ?? "n/a" : median(all);
  };
  const deno = await new Deno.Command("deno", { args: ["--version"], stdout: "piped" }).output();
  const python = await new Deno.Command("python3", { args: ["--version"], stdout: "piped" })
    .output();
  const v = (out: Deno.CommandOutput) => new TextDecoder().decode(out.stdout).split("\n")[0].trim();
  console.log(
    `TLS benchmark, ${runs === 1 ? "one run" : `median of ${runs} runs`}; ${v(deno)}; ${
      v(python)
    }; ` +
      `${pin ? "server on CPU 0, client on CPU 1" : "unpinned"}`,
  );
  console.log(
    `bulk: ${WORKLOADS[0].spec.bytes! / 2 ** 20} MiB server -> client, recv(65536); ` +
      `ping-pong: ${WORKLOADS[1].spec.rounds} round trips of 64 B, one connection\n`,
  );
  const header = ["pairing", "bulk MB/s", "x raw", "ping-pong rt/s", "x raw"];
  const rows = PAIRINGS.map((pairing) => {
    const cols = [pairing.label];
    for (const workload of WORKLOADS) {
      const value = cell(pairing, workload.id);
      const raw = cell(PAIRINGS[0], workload.id);
      if (typeof value !== "number") {
        cols.push(String(value), "");
        continue;
      }
      cols.push(value.toFixed(0));
      cols.push(typeof raw === "number" ? `${(value / raw).toFixed(2)}x` : "");
    }
    return cols;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) => `| ${cols.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
} finally {
  await Deno.remove(dir, { recursive: true });
}
