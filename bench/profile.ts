/**
 * `deno task bench:profile <case> [--impl pysock] [--side client|server] [--top 25] [--scale N]`:
 * runs one
 * benchmark case once with a V8 CPU profile of one side (Deno and Node peers) and prints where
 * the time goes, by function with file and line, self and inclusive. The profile is kept in a
 * temp dir for Chrome DevTools.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { canPin, cases, implementations, measure } from "./_cases.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = new URL("..", import.meta.url).href;

function place(frame: CallFrame): string {
  const file = frame.url.replace(ROOT, "");
  const where = file ? ` ${file}:${frame.lineNumber + 1}` : "";
  return `${frame.functionName || "(anonymous)"}${where}`;
}

/**
 * Self and inclusive time per function, as percentages of the busy (non-idle) time.
 *
 * @param profile A `.cpuprofile`.
 * @param top How many functions to list.
 * @returns The report.
 */
export function summarize(profile: CpuProfile, top: number): string {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const leaf = place(nodes.get(id)!.callFrame);
    if (leaf === "(idle)") return;
    busy += dt;
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = place(nodes.get(at)!.callFrame);
      if (key === "(root)" || seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  });
  const list = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([k, t]) => `  ${(100 * t / busy).toFixed(1).padStart(5)}%  ${k}`);
  return [
    `busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms profiled`,
    "self (% of busy):",
    ...list(self),
    "inclusive (% of busy):",
    ...list(inclusive),
  ].join("\n");
}

async function main(): Promise<void> {
  const { values: flags, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      impl: { type: "string", default: "pysock" },
      side: { type: "string", default: "client" },
      top: { type: "string", default: "25" },
      quick: { type: "boolean", default: false },
      scale: { type: "string", default: "1" },
    },
  });
  const all = cases(flags.quick);
  const c = all.find((c) => c.id === positionals[0]);
  if (c === undefined || (flags.side !== "client" && flags.side !== "server")) {
    console.error(
      `Usage: deno task bench:profile <case> [--impl pysock|raw|node] [--side client|server]
cases: ${all.map((c) => c.id).join(", ")}`,
    );
    Deno.exit(2);
  }
  // A longer run gives the profiler more samples of the steady state.
  const scale = Number(flags.scale);
  for (const key of ["bytes", "rounds", "count"] as const) {
    if (c.spec[key] !== undefined) c.spec[key] = c.spec[key]! * scale;
  }
  const impls = await implementations();
  const impl = impls.find((i) => i.id === flags.impl)!;
  const raw = impls.find((i) => i.id === "raw")!;
  const dir = await Deno.makeTempDir({ prefix: "pysock-profile-" });
  const sample = await measure(c, impl, raw, {
    timeoutMs: 120_000,
    pin: await canPin(),
    profile: { side: flags.side, dir },
  });
  console.log(`${c.id} / ${impl.id} / ${flags.side}: ${sample.value.toFixed(2)} (${dir})`);
  for (const entry of Deno.readDirSync(dir)) {
    const profile = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)) as CpuProfile;
    console.log(summarize(profile, Number(flags.top)));
  }
}

if (import.meta.main) await main();
