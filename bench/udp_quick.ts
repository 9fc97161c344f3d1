// Quick check of DatagramSocket throughput against raw Deno.DatagramConn, in one
// run on loopback: 64-byte datagrams, sent in windows of WINDOW (each send
// awaited) and then received, so none is dropped and both columns do the same
// work. Rounds alternate raw and pysock, back to back, so a busy machine
// slows both alike; the median of each column and of the per-round ratios
// is reported, for wall time (datagrams/s) and for the process's CPU time
// (steadier when other processes share the machine).
//
//   deno run -A bench/udp_quick.ts [--count 10000] [--window 64] [--rounds 31] [--timeout S]
//
// `--timeout S` gives pysock's receiver `settimeout(S)`, so every recvfrom
// takes the general path (a deadline per call) instead of the blocking one.
//
// The full benchmark table is bench/run.ts; this file only answers "is
// sendto/recvfrom as fast as Deno's own datagram socket?".

import process from "node:process";
import { parseArgs } from "node:util";
import { AF_INET, SOCK_DGRAM, socket } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "10000" },
    window: { type: "string", default: "64" },
    rounds: { type: "string", default: "31" },
    timeout: { type: "string" },
  },
});
const COUNT = Number(values.count);
const WINDOW = Number(values.window);
const ROUNDS = Number(values.rounds);
const TIMEOUT = values.timeout === undefined ? null : Number(values.timeout);
const PAYLOAD = Uint8Array.from({ length: 64 }, (_, i) => i);
let senders = 0;

/**
 * The raw-Deno column: one reused receive buffer, Deno's address objects as
 * they come. With `readSender`, it also reads the sender's host and port, as
 * a server that replies must (Deno's address objects are slow to read).
 */
async function rawDeno(readSender = false): Promise<Timing> {
  const receiver = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = receiver.addr;
  const buf = new Uint8Array(65536);
  let bytes = 0;
  const start = begin();
  for (let done = 0; done < COUNT; done += WINDOW) {
    for (let i = 0; i < WINDOW; i++) await sender.send(PAYLOAD, to);
    for (let i = 0; i < WINDOW; i++) {
      const [data, from] = await receiver.receive(buf);
      bytes += data.length;
      if (readSender) {
        senders += (from as Deno.NetAddr).hostname.length + (from as Deno.NetAddr).port;
      }
    }
  }
  const elapsed = end(start);
  check(bytes);
  receiver.close();
  sender.close();
  return elapsed;
}

/** The pysock column: sendto/recvfrom, each recvfrom returning a fresh array and tuple. */
async function pysock(): Promise<Timing> {
  using receiver = socket(AF_INET, SOCK_DGRAM);
  receiver.bind(["127.0.0.1", 0]);
  receiver.settimeout(TIMEOUT);
  using sender = socket(AF_INET, SOCK_DGRAM);
  sender.bind(["127.0.0.1", 0]);
  const to = receiver.getsockname();
  let bytes = 0;
  const start = begin();
  for (let done = 0; done < COUNT; done += WINDOW) {
    for (let i = 0; i < WINDOW; i++) await sender.sendto(PAYLOAD, to);
    for (let i = 0; i < WINDOW; i++) bytes += (await receiver.recvfrom(2048))[0].length;
  }
  const elapsed = end(start);
  check(bytes);
  return elapsed;
}

/** Wall and CPU milliseconds. */
type Timing = [wall: number, cpu: number];

function begin(): Timing {
  const { user, system } = process.cpuUsage();
  return [performance.now(), (user + system) / 1000];
}

function end([wall, cpu]: Timing): Timing {
  const now = begin();
  return [now[0] - wall, now[1] - cpu];
}

function check(bytes: number): void {
  const expected = Math.ceil(COUNT / WINDOW) * WINDOW * PAYLOAD.length;
  if (bytes !== expected) throw new Error(`received ${bytes} bytes, expected ${expected}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const datagrams = Math.ceil(COUNT / WINDOW) * WINDOW;
const columns = {
  raw: () => rawDeno(),
  rawReadingSender: () => rawDeno(true),
  pysock: () => pysock(),
};
type Column = keyof typeof columns;
const names = Object.keys(columns) as Column[];
const wall: Record<Column, number[]> = { raw: [], rawReadingSender: [], pysock: [] };
const vsRaw: Timing[] = [];
const vsReading: Timing[] = [];
for (const name of names) await columns[name](); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  // Rotate which goes first, so no column always gets the warmer machine.
  const times = {} as Record<Column, Timing>;
  for (let i = 0; i < names.length; i++) {
    const name = names[(round + i) % names.length];
    times[name] = await columns[name]();
  }
  for (const name of names) wall[name].push(times[name][0]);
  vsRaw.push([times.raw[0] / times.pysock[0], times.raw[1] / times.pysock[1]]);
  vsReading.push([
    times.rawReadingSender[0] / times.pysock[0],
    times.rawReadingSender[1] / times.pysock[1],
  ]);
}
const rate = (ms: number) => Math.round(datagrams / (ms / 1000)).toLocaleString("en-US");
const ratio = (pairs: Timing[]) =>
  `throughput ${median(pairs.map((p) => p[0])).toFixed(3)}x, ` +
  `CPU per datagram ${median(pairs.map((p) => p[1])).toFixed(3)}x`;
console.log(
  `64-byte datagrams, window ${WINDOW}, ${datagrams} per round, median of ${ROUNDS}` +
    (TIMEOUT === null ? "" : `, pysock receiver timeout ${TIMEOUT} s`),
);
console.log(`raw Deno.DatagramConn                ${rate(median(wall.raw))} datagrams/s`);
console.log(
  `raw, reading each sender's address   ${rate(median(wall.rawReadingSender))} datagrams/s`,
);
console.log(`pysock sendto/recvfrom               ${rate(median(wall.pysock))} datagrams/s`);
console.log(`pysock / raw (median per round): ${ratio(vsRaw)}`);
console.log(`pysock / raw reading the sender: ${ratio(vsReading)}`);
