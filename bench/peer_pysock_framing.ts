/**
 * The pysock column for the framing rows: `recvMsg` (or, with `batch`, the `recvMsgs` iterator,
 * and with `batches` too, `recvMsgBatches`)
 * against a stream of length-prefixed messages, and `sendMsg` once per message.
 *
 * Usage (the harness does this): `deno run -A bench/peer_pysock_framing.ts server|client '<spec>'`.
 *
 * @module
 */

import { recvExactly, recvMsg, recvMsgBatches, recvMsgs, sendMsg } from "../framing.ts";
import { SHUT_WR, type StreamSocket } from "../socket.ts";
import {
  checkFrames,
  cpuTime,
  encodeFrames,
  result,
  runPeer,
  type Spec,
  UDP,
  udpControl,
  udpCount,
  type Workload,
} from "./_peer.ts";
import { connect, listen } from "./peer_pysock.ts";

async function readFrames(sock: StreamSocket, spec: Spec): Promise<number> {
  let got = 0;
  let last: Uint8Array | null = null;
  if (spec.batches) {
    for await (const batch of recvMsgBatches(sock)) {
      got += batch.length;
      last = batch[batch.length - 1];
    }
  } else if (spec.batch) {
    for await (const msg of recvMsgs(sock)) {
      got++;
      last = msg;
    }
  } else {
    for (let msg = await recvMsg(sock); msg !== null; msg = await recvMsg(sock)) {
      got++;
      last = msg;
    }
  }
  checkFrames(got, last, spec);
  return got;
}

async function recvServer(spec: Spec): Promise<void> {
  const stream = encodeFrames(spec.count!, spec.size!);
  const server = listen(spec);
  const [conn] = await server.accept();
  for (let off = 0; off < stream.length; off += 65536) {
    await conn.sendall(stream.subarray(off, off + 65536));
  }
  conn.close();
  server.close();
}

async function recvClient(spec: Spec): Promise<void> {
  const start = performance.now();
  const cpu0 = cpuTime();
  const sock = await connect(spec);
  const got = await readFrames(sock, spec);
  const seconds = (performance.now() - start) / 1000;
  sock.close();
  result({ cpu: cpuTime() - cpu0, value: got / seconds, seconds });
}

async function sendServer(spec: Spec): Promise<void> {
  const server = listen(spec);
  const [conn] = await server.accept();
  const got = await readFrames(conn, spec);
  await conn.sendall(udpControl(UDP.report, got));
  conn.close();
  server.close();
}

async function sendClient(spec: Spec): Promise<void> {
  const frames = encodeFrames(spec.count!, spec.size!);
  const frameSize = 4 + spec.size!;
  const start = performance.now();
  const cpu0 = cpuTime();
  const sock = await connect(spec);
  for (let i = 0; i < spec.count!; i++) {
    await sendMsg(sock, frames.subarray(i * frameSize + 4, (i + 1) * frameSize));
  }
  sock.shutdown(SHUT_WR);
  const report = await recvExactly(sock, 5);
  const seconds = (performance.now() - start) / 1000;
  sock.close();
  if (udpCount(report) !== spec.count) throw new Error(`framing: server got ${udpCount(report)}`);
  result({ cpu: cpuTime() - cpu0, value: spec.count! / seconds, seconds });
}

const servers: Record<string, Workload> = {
  "framing-recv": recvServer,
  "framing-send": sendServer,
};
const clients: Record<string, Workload> = {
  "framing-recv": recvClient,
  "framing-send": sendClient,
};

if (import.meta.main) await runPeer(servers, clients);
