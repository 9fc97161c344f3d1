/**
 * The raw-Deno column: every workload written straight on `Deno.Conn`, `Deno.Listener` and
 * `Deno.DatagramConn`, the way a careful Deno user would without pysock. Its client side of the
 * concurrency row is the load generator for every column of that row.
 *
 * Usage (the harness does this): `deno run -A bench/peer_raw_deno.ts server|client '<spec>'`.
 *
 * @module
 */

import { connectAll, runClient } from "./_echo_client.ts";
import {
  checkFrames,
  cpuTime,
  encodeFrames,
  HOST,
  payload,
  ready,
  result,
  runPeer,
  share,
  type Spec,
  TIMED_OUT,
  UDP,
  udpControl,
  udpCount,
  within,
  type Workload,
} from "./_peer.ts";

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

async function readFull(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  let got = 0;
  while (got < buf.length) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) throw new Error(`EOF after ${got} of ${buf.length} bytes`);
    got += n;
  }
}

function listen(spec: Spec, backlog = 511): Deno.TcpListener {
  const listener = Deno.listen({
    hostname: HOST,
    port: spec.port ?? 0,
    reusePort: spec.reusePort,
    tcpBacklog: backlog,
  });
  ready(listener.addr.port);
  return listener;
}

function connect(spec: Spec): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: HOST, port: spec.port! });
}

// Echo until EOF with one reused buffer per connection: the idiom the concurrency row measures.
async function echo(conn: Deno.Conn, bufsize: number): Promise<void> {
  const buf = new Uint8Array(bufsize);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      await writeAll(conn, buf.subarray(0, n));
    }
  } catch {
    // A peer reset ends this connection only.
  } finally {
    conn.close();
  }
}

async function serveEcho(spec: Spec, bufsize: number, backlog?: number): Promise<void> {
  for await (const conn of listen(spec, backlog)) echo(conn, bufsize);
}

async function bulkServer(spec: Spec): Promise<void> {
  const listener = listen(spec);
  const conn = await listener.accept();
  const chunk = payload(spec.chunk!);
  for (let left = spec.bytes!; left > 0; left -= chunk.length) {
    await writeAll(conn, left >= chunk.length ? chunk : chunk.subarray(0, left));
  }
  conn.close();
  listener.close();
}

// `recv` is measured against reads into a fresh `new Uint8Array(65536)` each time, since
// pysock's recv returns an array the caller owns, as Python's does (V8's cost of fresh memory
// is then on both sides); `into` and `chunks` against one reused buffer, which is how raw Deno
// reads when nothing is kept.
async function bulkClient(spec: Spec): Promise<void> {
  const start = performance.now();
  const cpu0 = cpuTime();
  const conn = await connect(spec);
  let total = 0;
  if (spec.mode === "recv") {
    for (;;) {
      const n = await conn.read(new Uint8Array(65536));
      if (n === null) break;
      total += n;
    }
  } else {
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      total += n;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  if (total !== spec.bytes) throw new Error(`bulk: got ${total} of ${spec.bytes} bytes`);
  result({ cpu: cpuTime() - cpu0, value: total / 1e6 / seconds, seconds });
}

async function pingpongClient(spec: Spec): Promise<void> {
  const conns = await Promise.all(Array.from({ length: spec.conns! }, () => connect(spec)));
  const start = performance.now();
  const cpu0 = cpuTime();
  await Promise.all(conns.map(async (conn, i) => {
    const request = payload(spec.size!);
    const reply = new Uint8Array(spec.size!);
    for (let n = share(spec.rounds!, conns.length, i); n > 0; n--) {
      await writeAll(conn, request);
      await readFull(conn, reply);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  for (const conn of conns) conn.close();
  result({ cpu: cpuTime() - cpu0, value: spec.rounds! / seconds, seconds });
}

// Messages are sliced out of one reused buffer: the straightforward decoder the framing row
// compares recvMsg against. With `views`, each read goes into a fresh buffer and messages are
// views of it (no copy per message): the reference row, as fast as a decoder gets.
class FrameReader {
  #buf = new Uint8Array(256 * 1024);
  #view = new DataView(this.#buf.buffer);
  #start = 0;
  #end = 0;

  constructor(readonly conn: Deno.Conn, readonly views = false) {}

  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const avail = this.#end - this.#start;
      if (avail >= 4) {
        const len = this.#view.getUint32(this.#start);
        if (avail >= 4 + len) {
          const msg = this.views
            ? this.#buf.subarray(this.#start + 4, this.#start + 4 + len)
            : this.#buf.slice(this.#start + 4, this.#start + 4 + len);
          this.#start += 4 + len;
          return msg;
        }
      }
      if (!await this.#fill()) {
        if (avail === 0) return null;
        throw new Error("EOF inside a message");
      }
    }
  }

  async #fill(): Promise<boolean> {
    if (this.views) {
      // Views handed out must stay valid: the rest moves to a fresh buffer.
      const fresh = new Uint8Array(this.#buf.length);
      fresh.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = fresh;
      this.#view = new DataView(fresh.buffer);
      this.#end -= this.#start;
      this.#start = 0;
    } else if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }
}

async function readFrames(conn: Deno.Conn, spec: Spec): Promise<number> {
  const reader = new FrameReader(conn, spec.views);
  let got = 0;
  let last: Uint8Array | null = null;
  for (let msg = await reader.next(); msg !== null; msg = await reader.next()) {
    got++;
    last = msg;
  }
  checkFrames(got, last, spec);
  return got;
}

async function framingRecvServer(spec: Spec): Promise<void> {
  const stream = encodeFrames(spec.count!, spec.size!);
  const listener = listen(spec);
  const conn = await listener.accept();
  for (let off = 0; off < stream.length; off += 65536) {
    await writeAll(conn, stream.subarray(off, off + 65536));
  }
  conn.close();
  listener.close();
}

async function framingRecvClient(spec: Spec): Promise<void> {
  const start = performance.now();
  const cpu0 = cpuTime();
  const conn = await connect(spec);
  const got = await readFrames(conn, spec);
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  result({ cpu: cpuTime() - cpu0, value: got / seconds, seconds });
}

async function framingSendServer(spec: Spec): Promise<void> {
  const listener = listen(spec);
  const conn = await listener.accept();
  const got = await readFrames(conn, spec);
  await writeAll(conn, udpControl(UDP.report, got));
  conn.close();
  listener.close();
}

// One write per message, header and payload in one array: what a hand-written sender does.
async function framingSendClient(spec: Spec): Promise<void> {
  const frames = encodeFrames(spec.count!, spec.size!);
  const start = performance.now();
  const cpu0 = cpuTime();
  const conn = await connect(spec);
  const frameSize = 4 + spec.size!;
  for (let i = 0; i < spec.count!; i++) {
    const body = frames.subarray(i * frameSize + 4, (i + 1) * frameSize);
    const frame = new Uint8Array(frameSize);
    new DataView(frame.buffer).setUint32(0, body.length);
    frame.set(body, 4);
    await writeAll(conn, frame);
  }
  await conn.closeWrite();
  const report = new Uint8Array(5);
  await readFull(conn, report);
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  if (udpCount(report) !== spec.count) throw new Error(`framing: server got ${udpCount(report)}`);
  result({ cpu: cpuTime() - cpu0, value: spec.count! / seconds, seconds });
}

// One reused buffer, whatever the pysock column uses (recvfrom or recvfromInto): that is how
// raw Deno receives.
async function udpServer(spec: Spec): Promise<void> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  ready((sock.addr as Deno.NetAddr).port);
  const buf = new Uint8Array(2048);
  let count = 0;
  for (;;) {
    const [data, from] = await sock.receive(buf);
    if (data[0] === UDP.data) {
      count++;
      if (count % spec.ackEvery! === 0) await sock.send(udpControl(UDP.ack, count), from);
    } else if (data[0] === UDP.end) {
      await sock.send(udpControl(UDP.report, count), from);
    }
  }
}

// Sends while fewer than `window` datagrams are unacknowledged; a stall of 200 ms counts the
// datagrams in flight as lost, so a loss costs time but never hangs the run.
async function udpClient(spec: Spec): Promise<void> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const server: Deno.NetAddr = { transport: "udp", hostname: HOST, port: spec.port! };
  const data = payload(spec.size!);
  data[0] = UDP.data;
  const buf = new Uint8Array(2048);
  let pending: Promise<[Uint8Array, Deno.Addr]> | null = null;
  const receive = async (ms: number): Promise<Uint8Array | null> => {
    pending ??= sock.receive(buf);
    const got = await within(pending, ms);
    if (got === TIMED_OUT) return null;
    pending = null;
    return got[0];
  };
  const start = performance.now();
  const cpu0 = cpuTime();
  let sent = 0;
  let acked = 0;
  let lost = 0;
  while (sent < spec.count!) {
    while (sent < spec.count! && sent - acked - lost < spec.window!) {
      await sock.send(data, server);
      sent++;
    }
    if (sent === spec.count!) break;
    const ack = await receive(200);
    if (ack === null) lost = sent - acked;
    else if (ack[0] === UDP.ack) acked = Math.max(acked, udpCount(ack));
  }
  let delivered = -1;
  for (let tries = 0; tries < 50 && delivered < 0; tries++) {
    await sock.send(new Uint8Array([UDP.end]), server);
    for (let reply = await receive(200); reply !== null; reply = await receive(200)) {
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

// The common load generator of the concurrency row: connects every client first, idle, then
// sends 1 KiB on each and reads the echo.
async function concurrencyClient(spec: Spec): Promise<void> {
  const start = performance.now();
  const cpu0 = cpuTime();
  const conns = await connectAll(spec);
  const connected = performance.now();
  const request = payload(spec.size!);
  await Promise.all(conns.map(async (conn) => {
    await writeAll(conn, request);
    await readFull(conn, new Uint8Array(spec.size!));
  }));
  const seconds = (performance.now() - start) / 1000;
  for (const conn of conns) conn.close();
  result({
    cpu: cpuTime() - cpu0,
    value: seconds,
    seconds,
    connectSeconds: (connected - start) / 1000,
  });
}

// The load generator of the scale curves: `conns` connections opened first, then `rounds`
// round trips of `size` bytes spread over all of them at once; only the echo phase is timed.
async function scaleClient(spec: Spec): Promise<void> {
  const conns = await connectAll(spec);
  const request = payload(spec.size!);
  const start = performance.now();
  const cpu0 = cpuTime();
  await Promise.all(conns.map(async (conn, i) => {
    const reply = new Uint8Array(spec.size!);
    for (let n = share(spec.rounds!, conns.length, i); n > 0; n--) {
      await writeAll(conn, request);
      await readFull(conn, reply);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  for (const conn of conns) conn.close();
  result({ cpu: cpuTime() - cpu0, value: spec.rounds! / seconds, seconds });
}

const servers: Record<string, Workload> = {
  "bulk": bulkServer,
  "pingpong": (spec) => serveEcho(spec, 4096),
  "udp": udpServer,
  "framing-recv": framingRecvServer,
  "framing-send": framingSendServer,
  "concurrency": (spec) => serveEcho(spec, spec.readBuf!, spec.backlog),
  "scale": (spec) => serveEcho(spec, spec.readBuf!, spec.backlog),
  "socketserver": (spec) => serveEcho(spec, spec.readBuf!, spec.backlog),
};

const clients: Record<string, Workload> = {
  "bulk": bulkClient,
  "pingpong": pingpongClient,
  "udp": udpClient,
  "framing-recv": framingRecvClient,
  "framing-send": framingSendClient,
  "concurrency": concurrencyClient,
  "scale": scaleClient,
  "socketserver": async (spec) => result({ ...await runClient(spec) }),
};

if (import.meta.main) await runPeer(servers, clients);
