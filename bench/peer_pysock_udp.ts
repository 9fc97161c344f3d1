/**
 * The pysock column for the UDP rows: `sendto`/`recvfrom` (or `recvfromInto`) on
 * `socket(AF_INET, SOCK_DGRAM)`, with the same ack window as the other columns.
 *
 * Usage (the harness does this): `deno run -A bench/peer_pysock_udp.ts server|client '<spec>'`.
 *
 * @module
 */

import { AF_INET, SOCK_DGRAM, socket } from "../socket.ts";
import { TimeoutError } from "../errors.ts";
import {
  cpuTime,
  HOST,
  payload,
  ready,
  result,
  runPeer,
  type Spec,
  UDP,
  udpControl,
  udpCount,
} from "./_peer.ts";

async function server(spec: Spec): Promise<void> {
  const sock = socket(AF_INET, SOCK_DGRAM);
  sock.bind([HOST, 0]);
  ready(sock.getsockname()[1] as number);
  let count = 0;
  // `into`: recvfromInto one reused buffer; otherwise recvfrom, a fresh array per datagram.
  const buf = spec.mode === "into" ? new Uint8Array(2048) : null;
  for (;;) {
    const [data, from] = buf === null
      ? await sock.recvfrom(2048)
      : [buf, (await sock.recvfromInto(buf))[1]] as const;
    if (data[0] === UDP.data) {
      count++;
      if (count % spec.ackEvery! === 0) await sock.sendto(udpControl(UDP.ack, count), from);
    } else if (data[0] === UDP.end) {
      await sock.sendto(udpControl(UDP.report, count), from);
    }
  }
}

// Sends while fewer than `window` datagrams are unacknowledged; a 200 ms stall counts the
// datagrams in flight as lost (a timed-out recvfrom loses no datagram, so nothing else changes).
async function client(spec: Spec): Promise<void> {
  const sock = socket(AF_INET, SOCK_DGRAM);
  sock.settimeout(0.2);
  const to: [string, number] = [HOST, spec.port!];
  const data = payload(spec.size!);
  data[0] = UDP.data;
  const receive = async (): Promise<Uint8Array | null> => {
    try {
      return (await sock.recvfrom(2048))[0];
    } catch (err) {
      if (err instanceof TimeoutError) return null;
      throw err;
    }
  };
  const start = performance.now();
  const cpu0 = cpuTime();
  let sent = 0;
  let acked = 0;
  let lost = 0;
  while (sent < spec.count!) {
    while (sent < spec.count! && sent - acked - lost < spec.window!) {
      await sock.sendto(data, to);
      sent++;
    }
    if (sent === spec.count!) break;
    const ack = await receive();
    if (ack === null) lost = sent - acked;
    else if (ack[0] === UDP.ack) acked = Math.max(acked, udpCount(ack));
  }
  let delivered = -1;
  for (let tries = 0; tries < 50 && delivered < 0; tries++) {
    await sock.sendto(new Uint8Array([UDP.end]), to);
    for (let reply = await receive(); reply !== null; reply = await receive()) {
      if (reply[0] === UDP.report) {
        delivered = udpCount(reply);
        break;
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  sock.close();
  if (delivered < 0) throw new Error("udp: no report from the server");
  result({
    cpu: cpuTime() - cpu0,
    value: delivered / seconds,
    loss: (spec.count! - delivered) / spec.count!,
    seconds,
  });
}

if (import.meta.main) await runPeer({ udp: server }, { udp: client });
