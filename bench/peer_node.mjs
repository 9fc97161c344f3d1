// The Node column: each workload on `net` and `dgram`, in Node's usual event style. Same
// protocol as bench/_peer.ts: `server|client '<spec json>'`, a server prints `READY <port>`, a
// client prints `RESULT <json>`.

import dgram from "node:dgram";
import net from "node:net";
import process from "node:process";
import { once } from "node:events";

const HOST = "127.0.0.1";
const DATA = 0x44, ACK = 0x41, END = 0x45, REPORT = 0x52;

const ready = (port) => console.log(`READY ${port}`);
const result = (values) => console.log(`RESULT ${JSON.stringify(values)}`);
const now = () => performance.now() / 1000;

function control(kind, count) {
  const out = Buffer.alloc(5);
  out[0] = kind;
  out.writeUInt32BE(count, 1);
  return out;
}

async function listen(spec, onConnection, backlog = 511) {
  const server = net.createServer(onConnection);
  server.listen({ host: HOST, port: spec.port ?? 0, backlog, reusePort: spec.reusePort });
  await once(server, "listening");
  ready(server.address().port);
  return server;
}

async function connect(spec, options = {}) {
  const sock = net.connect({ host: HOST, port: spec.port, ...options });
  await once(sock, "connect");
  return sock;
}

function echo(sock) {
  sock.on("data", (data) => sock.write(data));
  sock.on("end", () => sock.end());
  sock.on("error", () => sock.destroy());
}

// Writes `total` bytes, `chunk` at a time, `partAt(offset, length)` giving each piece.
function writeChunks(sock, total, chunk, partAt) {
  return new Promise((resolve, reject) => {
    let off = 0;
    const pump = () => {
      while (off < total) {
        const part = partAt(off, Math.min(chunk, total - off));
        off += part.length;
        if (!sock.write(part)) return sock.once("drain", pump);
      }
      sock.end(resolve);
    };
    sock.on("error", reject);
    pump();
  });
}

async function bulkServer(spec) {
  const chunk = Buffer.alloc(spec.chunk, 0x78);
  const server = await listen(spec, async (sock) => {
    await writeChunks(sock, spec.bytes, spec.chunk, (_, n) => chunk.subarray(0, n));
    server.close();
  });
}

// `recv` reads Node's own 'data' buffers; `into` hands Node one reused buffer via `onread`.
async function bulkClient(spec) {
  const start = now();
  let total = 0;
  const options = spec.mode === "into"
    ? { onread: { buffer: Buffer.alloc(65536), callback: (n) => void (total += n) } }
    : {};
  const sock = await connect(spec, options);
  if (spec.mode !== "into") sock.on("data", (data) => void (total += data.length));
  await once(sock, "end");
  const seconds = now() - start;
  sock.destroy();
  if (total !== spec.bytes) throw new Error(`bulk: got ${total} of ${spec.bytes} bytes`);
  result({ value: total / 1e6 / seconds, seconds });
}

function pingpong(sock, rounds, request) {
  return new Promise((resolve, reject) => {
    let got = 0;
    let left = rounds;
    sock.on("data", (data) => {
      got += data.length;
      if (got < request.length) return;
      got -= request.length;
      if (--left === 0) return resolve();
      sock.write(request);
    });
    sock.on("error", reject);
    sock.write(request);
  });
}

async function pingpongClient(spec) {
  const conns = await Promise.all(Array.from({ length: spec.conns }, () => connect(spec)));
  const request = Buffer.alloc(spec.size, 0x78);
  const start = now();
  await Promise.all(conns.map((sock, i) => {
    const rounds = Math.floor(spec.rounds / conns.length) + (i < spec.rounds % conns.length);
    return pingpong(sock, rounds, request);
  }));
  const seconds = now() - start;
  for (const sock of conns) sock.destroy();
  result({ value: spec.rounds / seconds, seconds });
}

function encodeFrames(count, size) {
  const frame = 4 + size;
  const out = Buffer.alloc(count * frame, 0x78);
  for (let i = 0; i < count; i++) {
    out.writeUInt32BE(size, i * frame);
    out.writeUInt32BE(i, i * frame + 4);
  }
  return out;
}

// Node's usual idiom: concat what is pending with the new chunk, subarray each message out.
function frameDecoder(onMessage) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      onMessage(buf.subarray(4, 4 + len));
      buf = buf.subarray(4 + len);
    }
    pending = buf;
  };
}

function readFrames(sock, spec) {
  return new Promise((resolve, reject) => {
    let got = 0;
    let last = null;
    sock.on(
      "data",
      frameDecoder((msg) => {
        got++;
        last = msg;
      }),
    );
    sock.on("end", () => {
      const index = last ? last.readUInt32BE(0) : -1;
      if (got !== spec.count || last.length !== spec.size || index !== got - 1) {
        reject(new Error(`framing: got ${got} messages, last #${index}`));
      }
      resolve(got);
    });
    sock.on("error", reject);
  });
}

async function framingRecvServer(spec) {
  const stream = encodeFrames(spec.count, spec.size);
  const server = await listen(spec, async (sock) => {
    await writeChunks(sock, stream.length, 65536, (off, n) => stream.subarray(off, off + n));
    server.close();
  });
}

async function framingRecvClient(spec) {
  const start = now();
  const sock = await connect(spec);
  const got = await readFrames(sock, spec);
  const seconds = now() - start;
  sock.destroy();
  result({ value: got / seconds, seconds });
}

async function framingSendServer(spec) {
  const server = await listen(spec, async (sock) => {
    sock.allowHalfOpen = true;
    const got = await readFrames(sock, spec);
    sock.end(control(REPORT, got));
    server.close();
  });
}

// One write per message, waiting for 'drain' when Node's queue is full.
async function framingSendClient(spec) {
  const frames = encodeFrames(spec.count, spec.size);
  const frameSize = 4 + spec.size;
  const start = now();
  const sock = await connect(spec, { allowHalfOpen: true });
  const report = new Promise((resolve) => {
    let got = Buffer.alloc(0);
    sock.on("data", (data) => {
      got = Buffer.concat([got, data]);
      if (got.length >= 5) resolve(got.readUInt32BE(1));
    });
  });
  for (let i = 0; i < spec.count; i++) {
    const frame = Buffer.allocUnsafe(frameSize);
    frames.copy(frame, 0, i * frameSize, (i + 1) * frameSize);
    if (!sock.write(frame)) await once(sock, "drain");
  }
  sock.end();
  const got = await report;
  const seconds = now() - start;
  sock.destroy();
  if (got !== spec.count) throw new Error(`framing: server got ${got}`);
  result({ value: spec.count / seconds, seconds });
}

async function udpServer(spec) {
  const sock = dgram.createSocket("udp4");
  let count = 0;
  sock.on("message", (data, from) => {
    if (data[0] === DATA) {
      count++;
      if (count % spec.ackEvery === 0) sock.send(control(ACK, count), from.port, from.address);
    } else if (data[0] === END) {
      sock.send(control(REPORT, count), from.port, from.address);
    }
  });
  sock.bind(0, HOST);
  await once(sock, "listening");
  ready(sock.address().port);
}

// The same window as the other columns: send while fewer than `window` are unacked, count the
// datagrams in flight as lost after a 200 ms stall.
async function udpClient(spec) {
  const sock = dgram.createSocket("udp4");
  sock.bind(0, HOST);
  await once(sock, "listening");
  const data = Buffer.alloc(spec.size, 0x78);
  data[0] = DATA;
  const send = (buf) =>
    new Promise((resolve, reject) =>
      sock.send(buf, spec.port, HOST, (err) => err ? reject(err) : resolve())
    );
  let sent = 0, acked = 0, lost = 0, delivered = -1;
  let wake = null;
  sock.on("message", (msg) => {
    if (msg[0] === ACK) acked = Math.max(acked, msg.readUInt32BE(1));
    if (msg[0] === REPORT) delivered = msg.readUInt32BE(1);
    wake?.();
  });
  const wait = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve(true);
      };
    });
  const start = now();
  while (sent < spec.count) {
    while (sent < spec.count && sent - acked - lost < spec.window) {
      await send(data);
      sent++;
    }
    if (sent === spec.count) break;
    if (!await wait(200)) lost = sent - acked;
  }
  for (let tries = 0; tries < 50 && delivered < 0; tries++) {
    await send(Buffer.from([END]));
    while (delivered < 0 && await wait(200));
  }
  const seconds = now() - start;
  sock.close();
  if (delivered < 0) throw new Error("udp: no report from the server");
  result({ value: delivered / seconds, loss: (spec.count - delivered) / spec.count, seconds });
}

const servers = {
  "bulk": bulkServer,
  "pingpong": (spec) => listen(spec, echo),
  "udp": udpServer,
  "framing-recv": framingRecvServer,
  "framing-send": framingSendServer,
  "concurrency": (spec) => listen(spec, echo, spec.backlog),
};

const clients = {
  "bulk": bulkClient,
  "pingpong": pingpongClient,
  "udp": udpClient,
  "framing-recv": framingRecvClient,
  "framing-send": framingSendClient,
};

const [role, json] = process.argv.slice(2);
const spec = JSON.parse(json);
await (role === "server" ? servers : clients)[spec.workload](spec);
