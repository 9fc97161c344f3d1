// Quick check of recvMsg throughput against a hand-written raw-Deno decoder,
// in one run on loopback. A CPython sender blasts COUNT framed messages of
// SIZE bytes (struct.pack('>I', n) + payload, pre-built, one big sendall) at
// each receiver in turn; the receiver's CPU is what is measured.
//
//   deno run -A bench/framing_quick.ts [--count 1000000] [--size 100] [--rounds 3]
//
// The full benchmark table is bench/run.ts; this file only answers "is
// recvMsg as fast as decoding by hand?".

import { parseArgs } from "node:util";
import { createServer, type StreamSocket } from "../socket.ts";
import { recvMsg } from "../framing.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "1000000" },
    size: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
  },
});
const COUNT = Number(values.count);
const SIZE = Number(values.size);
const ROUNDS = Number(values.rounds);

const SENDER = `
import socket, struct, sys
port, count, size = map(int, sys.argv[1:4])
frame = struct.pack(">I", size) + (bytes(range(256)) * (size // 256 + 1))[:size]
blob = frame * count
s = socket.create_connection(("127.0.0.1", port))
s.sendall(blob)
s.close()
`;

function startSender(port: number): Deno.ChildProcess {
  return new Deno.Command("python3", {
    args: ["-c", SENDER, String(port), String(COUNT), String(SIZE)],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

/** The raw-Deno column: one reused buffer, a DataView, a slice per message. */
async function rawDeno(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sender = startSender(listener.addr.port);
  const conn = await listener.accept();
  const start = performance.now();
  const buf = new Uint8Array(256 * 1024);
  const view = new DataView(buf.buffer);
  let begin = 0;
  let end = 0;
  let count = 0;
  let checksum = 0;
  while (true) {
    if (buf.length - end < 65536) {
      buf.copyWithin(0, begin, end);
      end -= begin;
      begin = 0;
    }
    const n = await conn.read(buf.subarray(end));
    if (n === null) break;
    end += n;
    while (end - begin >= 4) {
      const length = view.getUint32(begin);
      if (end - begin - 4 < length) break;
      const message = buf.slice(begin + 4, begin + 4 + length);
      checksum += message[length - 1];
      count++;
      begin += 4 + length;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  listener.close();
  await sender.status;
  check(count, checksum);
  return count / seconds;
}

/** The pysock column: recvMsg in a loop until null. */
async function pysock(): Promise<number> {
  const server = createServer(["127.0.0.1", 0]);
  const sender = startSender((server.getsockname() as [string, number])[1]);
  const [conn] = await server.accept();
  const start = performance.now();
  let count = 0;
  let checksum = 0;
  for (let m = await recvMsg(conn); m !== null; m = await recvMsg(conn)) {
    checksum += m[m.length - 1];
    count++;
  }
  const seconds = (performance.now() - start) / 1000;
  (conn as StreamSocket).close();
  server.close();
  await sender.status;
  check(count, checksum);
  return count / seconds;
}

function check(count: number, checksum: number): void {
  if (count !== COUNT || checksum !== COUNT * ((SIZE - 1) % 256)) {
    throw new Error(`Cannot trust this run: got ${count} messages, checksum ${checksum}`);
  }
}

const raw: number[] = [];
const ours: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  raw.push(await rawDeno());
  ours.push(await pysock());
}
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => `${(x / 1e6).toFixed(2)} M msgs/s`;
console.log(`${COUNT} messages of ${SIZE} bytes, median of ${ROUNDS} rounds`);
console.log(`raw Deno decoder : ${fmt(median(raw))}   (${raw.map(fmt).join(", ")})`);
console.log(`pysock recvMsg   : ${fmt(median(ours))}   (${ours.map(fmt).join(", ")})`);
console.log(`ratio recvMsg / raw: ${(median(ours) / median(raw)).toFixed(2)}x`);
