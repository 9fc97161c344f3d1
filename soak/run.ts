// The soak test (`deno task soak`, not part of `deno task test`): load and
// leaks on loopback, against a pysock echo server in its own process.
//
//   1. 100,000 connect/close cycles: RSS and JS heap of both processes at the
//      start and at the end (after a first, unmeasured 100,000 that bring
//      Deno's own buffers to their plateau).
//   2. 100,000 timed-out receives (recv and recvMsg, 1 ms timeouts) on idle
//      connections, then one message on each that must still arrive: RSS
//      and JS heap before and after (measured once Deno's own timers have
//      reached their RSS plateau).
//   3. 10,000 concurrent connections, each sending 100 framed messages and
//      checking every echo: 0 lost, 0 corrupted.
//
// RSS is measured after a full GC (`--v8-flags=--expose-gc`); "flat" means
// the end is at most 10% above the start (it may be below: the allocator
// returns memory late, and a leak only grows). Options shrink a run:
//   deno task soak --connections 1000 --messages 10 --cycles 10000 --receives 10000

import { parseArgs } from "node:util";
import { createConnection, socket, type StreamSocket, TimeoutError } from "../mod.ts";
import { recvMsg, sendMsg } from "../framing.ts";
import { CONTROL } from "./_server.ts";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "10000" },
    messages: { type: "string", default: "100" },
    cycles: { type: "string", default: "100000" },
    receives: { type: "string", default: "100000" },
  },
});
const CONNECTIONS = Number(values.connections);
const MESSAGES = Number(values.messages);
const CYCLES = Number(values.cycles);
const RECEIVES = Number(values.receives);

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** This process's RSS in MiB, after a full collection. */
function rss(): number {
  gc();
  gc();
  return mib(Deno.memoryUsage().rss);
}

/** This process's live JavaScript heap in MiB, after a full collection. */
function heap(): number {
  gc();
  gc();
  return mib(Deno.memoryUsage().heapUsed);
}

function mib(bytes: number): number {
  return Math.round(bytes / 1048576 * 10) / 10;
}

function seconds(since: number): number {
  return Math.round(performance.now() - since) / 1000;
}

/** Whether `end` is at most 10% above `start`: RSS may fall (memory given back), a leak only grows. */
function flat(start: number, end: number): boolean {
  return end <= start * 1.1;
}

// ---- the server process ----

const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--v8-flags=--expose-gc",
    "--allow-net=127.0.0.1",
    new URL("./_server.ts", import.meta.url).pathname,
  ],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const port = await firstLine(server.stdout);
const address: [string, number] = ["127.0.0.1", port];

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the soak server exited before printing its port");
    text += value;
  }
  reader.releaseLock();
  return Number(text.trim());
}

interface ServerStats {
  accepted: number;
  live: number;
  echoed: number;
  errors: number;
  rss: number;
  heap: number;
}

/** The server's own figures, asked over a connection of its own. */
async function serverStats(): Promise<ServerStats> {
  await using conn = await createConnection(address);
  await sendMsg(conn, new Uint8Array([CONTROL]));
  return JSON.parse(new TextDecoder().decode((await recvMsg(conn))!));
}

/** Runs `count` tasks, at most `width` at a time. */
async function pool(count: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

// ---- 3. concurrent connections × framed messages ----

/** Message `seq` of connection `id`: its bytes and length follow from both. */
function payload(id: number, seq: number): Uint8Array {
  const out = new Uint8Array(1 + ((id * 7 + seq * 13) % 512));
  out[0] = 1; // never CONTROL
  for (let i = 1; i < out.length; i++) out[i] = (id + seq * 31 + i) & 0xff;
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function concurrentMessages() {
  const rssStart = rss();
  const opened = performance.now();
  const conns: StreamSocket[] = new Array(CONNECTIONS);
  // Open in waves the server's accept queue can take.
  await pool(CONNECTIONS, 500, async (id) => {
    conns[id] = await createConnection(address);
  });
  const openSeconds = seconds(opened);
  const live = (await serverStats()).live - 1;
  const started = performance.now();
  let sent = 0;
  let echoed = 0;
  let lost = 0;
  let corrupted = 0;
  await Promise.all(conns.map(async (conn, id) => {
    for (let seq = 0; seq < MESSAGES; seq++) {
      const message = payload(id, seq);
      await sendMsg(conn, message);
      sent++;
      const echo = await recvMsg(conn).catch(() => null);
      if (echo === null) {
        lost += MESSAGES - seq;
        return;
      }
      if (same(echo, message)) echoed++;
      else corrupted++;
    }
  }));
  const exchangeSeconds = seconds(started);
  const rssPeak = mib(Deno.memoryUsage().rss);
  for (const conn of conns) conn.close();
  return {
    connections: CONNECTIONS,
    concurrentAtServer: live,
    messagesPerConnection: MESSAGES,
    sent,
    echoed,
    lost,
    corrupted,
    openSeconds,
    exchangeSeconds,
    messagesPerSecond: Math.round(echoed / exchangeSeconds),
    clientRssMiB: { start: rssStart, withAllOpen: rssPeak, end: rss() },
  };
}

// ---- 1. connect/close cycles ----

async function connectCloseCycles() {
  const cycle = async () => {
    const s = socket();
    try {
      await s.connect(address);
    } catch {
      failed++;
    } finally {
      s.close();
    }
    done++;
  };
  let done = 0;
  let failed = 0;
  const initial = { client: rss(), server: (await serverStats()).rss };
  // Deno's own buffers raise RSS to a plateau over the first ~100,000
  // connections whoever drives them (raw Deno.listen/Deno.connect too), with
  // the JS heap flat: a first, unmeasured round reaches it, so the measured
  // round shows what pysock adds.
  await pool(CYCLES, 32, cycle);
  await settle();
  const serverStart = await serverStats();
  const rssStart = rss();
  const heapStart = heap();
  done = 0;
  const started = performance.now();
  await pool(CYCLES, 32, cycle);
  const total = seconds(started);
  await settle();
  const end = await serverStats();
  const rssEnd = rss();
  const heapEnd = heap();
  return {
    cycles: done,
    failed,
    seconds: total,
    cyclesPerSecond: Math.round(done / total),
    rssBeforeFirstRoundMiB: { client: initial.client, server: mib(initial.server) },
    clientRssMiB: { start: rssStart, end: rssEnd },
    clientHeapMiB: { start: heapStart, end: heapEnd },
    clientFlat: flat(rssStart, rssEnd),
    serverRssMiB: { start: mib(serverStart.rss), end: mib(end.rss) },
    serverHeapMiB: { start: mib(serverStart.heap), end: mib(end.heap) },
    serverFlat: flat(serverStart.rss, end.rss),
    serverLiveAfter: end.live - 1,
  };
}

/** Lets the server see the last end-of-streams before it is asked for figures. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 500));
}

// ---- 2. timed-out receives ----

async function timedOutReceives() {
  const width = 100;
  const perConn = Math.ceil(RECEIVES / width);
  const conns = await Promise.all(Array.from({ length: width }, () => createConnection(address)));
  // Deno's timers alone raise RSS to a plateau (about 110 MiB for 100 x 1,000
  // bare 1 ms setTimeouts, JS heap flat): reach it first, so what follows
  // measures pysock and not the timer allocator's high-water mark.
  const bareTimers = Math.min(perConn, 1000);
  await Promise.all(conns.map(async () => {
    for (let i = 0; i < bareTimers; i++) await new Promise((r) => setTimeout(r, 1));
  }));
  const rssStart = rss();
  const heapStart = heap();
  let timeouts = 0;
  let other = 0;
  const run = async (conn: StreamSocket, from: number, to: number) => {
    conn.settimeout(0.001);
    for (let i = from; i < to; i++) {
      try {
        // Half recv, half recvMsg: both keep their pending read across a timeout.
        if (i % 2 === 0) await conn.recv(1024);
        else await recvMsg(conn);
        other++;
      } catch (err) {
        if (err instanceof TimeoutError) timeouts++;
        else other++;
      }
    }
  };
  const warm = Math.floor(perConn / 10);
  const started = performance.now();
  await Promise.all(conns.map((c) => run(c, 0, warm)));
  const rssWarm = rss();
  const heapWarm = heap();
  await Promise.all(conns.map((c) => run(c, warm, perConn)));
  const total = seconds(started);
  const rssEnd = rss();
  const heapEnd = heap();
  // Nothing was lost to the timeouts: a message now still arrives whole.
  let delivered = 0;
  await Promise.all(conns.map(async (conn, id) => {
    conn.settimeout(10);
    const message = payload(id, 0);
    await sendMsg(conn, message);
    const echo = await recvMsg(conn);
    if (echo !== null && same(echo, message)) delivered++;
  }));
  for (const conn of conns) conn.close();
  return {
    receives: width * perConn,
    timedOut: timeouts,
    otherOutcomes: other,
    seconds: total,
    clientRssMiB: { start: rssStart, afterWarmup: rssWarm, end: rssEnd },
    clientHeapMiB: { start: heapStart, afterWarmup: heapWarm, end: heapEnd },
    clientFlat: flat(rssWarm, rssEnd),
    deliveredAfterward: `${delivered}/${width}`,
  };
}

try {
  console.log(`soak: server on 127.0.0.1:${port}`);
  // The leak checks run first, while both processes are small: the 10,000
  // connections of the load phase leave RSS high until the allocator returns
  // their buffers, which would hide growth (or fake a drop) in what follows.
  const cycles = await connectCloseCycles();
  console.log("connect/close cycles:", cycles);
  const receives = await timedOutReceives();
  console.log("timed-out receives:", receives);
  const load = await concurrentMessages();
  console.log("concurrent framed messages:", load);
  const ok = load.lost === 0 && load.corrupted === 0 && load.echoed === CONNECTIONS * MESSAGES &&
    cycles.failed === 0 && cycles.clientFlat && cycles.serverFlat &&
    receives.timedOut === receives.receives && receives.clientFlat &&
    receives.deliveredAfterward === "100/100";
  console.log(JSON.stringify({ ok, cycles, receives, load }));
  console.log(ok ? "soak: PASS" : "soak: FAIL");
  if (!ok) Deno.exitCode = 1;
} finally {
  await server.stdin.close();
  await server.status;
}
