// Timeouts lose nothing, under load: 10,000 receive calls with tiny
// timeouts (0 and 0.5 ms), interleaved with a sender writing a known
// sequence. Every byte, datagram and message must arrive exactly once and in
// order, however many calls timed out while the data was on its way.

import assert from "node:assert/strict";
import { AF_INET, BlockingIOError, SHUT_WR, SOCK_DGRAM, socket, TimeoutError } from "../mod.ts";
import { encodeMessage, recvMsg } from "../framing.ts";
import { FAMILIES, pair, text } from "./_helpers.ts";
import { prng } from "../fuzz/_targets.ts";

const CALLS = 10_000;
/** The tiny timeouts the receive calls alternate between: non-blocking, and half a millisecond. */
const TIMEOUTS = [0, 0.0005];

/** Whether `err` is a timeout of a non-blocking or timed call (data may come later). */
function timedOut(err: unknown): boolean {
  return err instanceof TimeoutError || err instanceof BlockingIOError;
}

/** The known sequence: byte k depends on k and k >> 8, so a shift, a gap or a repeat shows. */
function sequence(length: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let k = 0; k < length; k++) data[k] = (k * 7 + (k >> 8)) & 0xff;
  return data;
}

/** Sends slices of `data` one after another, each started when `step()` is called. */
class Sender {
  #data: Uint8Array;
  #sent = 0;
  #chain: Promise<void> = Promise.resolve();
  #send: (chunk: Uint8Array) => Promise<unknown>;

  constructor(data: Uint8Array, send: (chunk: Uint8Array) => Promise<unknown>) {
    this.#data = data;
    this.#send = send;
  }

  /** Bytes queued so far. */
  get sent(): number {
    return this.#sent;
  }

  get done(): boolean {
    return this.#sent >= this.#data.length;
  }

  /** Queues the next `size` bytes; the write runs while the receiver keeps calling. */
  step(size: number): void {
    if (this.done) return;
    const chunk = this.#data.subarray(this.#sent, this.#sent + size);
    this.#sent += chunk.length;
    this.#chain = this.#chain.then(() => this.#send(chunk).then(() => {}));
  }

  /** Waits for every queued write. */
  flush(): Promise<void> {
    return this.#chain;
  }
}

for (const { name, family } of FAMILIES.slice(0, 1).concat(FAMILIES.slice(-1))) {
  Deno.test(`${name}: 10,000 recv calls with tiny timeouts against a sender lose no byte and repeat none`, async () => {
    await using p = await pair(family);
    const random = prng(0x5eed + family);
    const data = sequence(160_000);
    const sender = new Sender(data, (chunk) => p.client.sendall(chunk));
    const received = new Uint8Array(data.length);
    let got = 0;
    let timeouts = 0;
    for (let i = 0; i < CALLS; i++) {
      if (random() < 0.5) sender.step(1 + Math.floor(random() * 64));
      p.conn.settimeout(TIMEOUTS[i % 2]);
      try {
        let chunk: Uint8Array;
        if (i % 3 === 0) {
          const scratch = new Uint8Array(1 + (i % 40));
          chunk = scratch.subarray(0, await p.conn.recvInto(scratch));
        } else {
          chunk = await p.conn.recv(1 + Math.floor(random() * 48));
        }
        received.set(chunk, got);
        got += chunk.length;
      } catch (err) {
        if (!timedOut(err)) throw err;
        timeouts++;
      }
    }
    while (!sender.done) sender.step(4096);
    await sender.flush();
    p.client.shutdown(SHUT_WR);
    p.conn.settimeout(null);
    for (;;) {
      const chunk = await p.conn.recv(65536);
      if (chunk.length === 0) break;
      received.set(chunk, got);
      got += chunk.length;
    }
    assert.equal(got, data.length);
    assert.deepEqual(received, data);
    assert.ok(timeouts > 0 && timeouts < CALLS, `${timeouts} of ${CALLS} calls timed out`);
  });
}

/** Message j of the known sequence: its length and bytes follow from j. */
function message(j: number): Uint8Array {
  const out = new Uint8Array(j % 29);
  for (let k = 0; k < out.length; k++) out[k] = (j * 31 + k) & 0xff;
  return out;
}

Deno.test("10,000 recvMsg calls with tiny timeouts against a sender splitting frames anywhere lose no message", async () => {
  await using p = await pair();
  const random = prng(0xf4a3);
  const count = 10_000;
  const frames: Uint8Array[] = [];
  for (let j = 0; j < count; j++) frames.push(encodeMessage(message(j)));
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of frames) {
    stream.set(f, offset);
    offset += f.length;
  }
  const sender = new Sender(stream, (chunk) => p.client.sendall(chunk));
  let next = 0;
  let consumed = 0;
  let timeouts = 0;
  const take = (payload: Uint8Array | null) => {
    assert.ok(payload !== null, `end of stream before message ${next}`);
    assert.deepEqual(payload, message(next), `message ${next}`);
    consumed += frames[next].length;
    next++;
  };
  for (let i = 0; i < CALLS; i++) {
    // Slices cut frames anywhere: in the header, in the payload, across several frames.
    // Keep the sender a little ahead, so frames are often incomplete when a call times out.
    const ahead = sender.sent - consumed;
    if (random() < (ahead < 40 ? 0.8 : 0.2)) sender.step(1 + Math.floor(random() * 50));
    p.conn.settimeout(TIMEOUTS[i % 2]);
    try {
      take(await recvMsg(p.conn));
    } catch (err) {
      if (!timedOut(err)) throw err;
      timeouts++;
    }
  }
  while (!sender.done) sender.step(4096);
  await sender.flush();
  p.client.shutdown(SHUT_WR);
  p.conn.settimeout(null);
  for (let payload = await recvMsg(p.conn); payload !== null; payload = await recvMsg(p.conn)) {
    take(payload);
  }
  assert.equal(next, count);
  assert.ok(timeouts > 0 && timeouts < CALLS, `${timeouts} of ${CALLS} calls timed out`);
});

Deno.test("10,000 recvfrom calls with tiny timeouts against a sender lose no datagram and repeat none", async () => {
  using receiver = socket(AF_INET, SOCK_DGRAM);
  receiver.bind(["127.0.0.1", 0]);
  using sender = socket(AF_INET, SOCK_DGRAM);
  sender.bind(["127.0.0.1", 0]);
  const to = receiver.getsockname();
  const from = sender.getsockname();
  const random = prng(0xda7a);
  let sent = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const send = () => {
    const datagram = message(sent++);
    chain = chain.then(() => sender.sendto(datagram, to));
  };
  let next = 0;
  let timeouts = 0;
  const take = ([payload, addr]: [Uint8Array, unknown]) => {
    assert.deepEqual(addr, from);
    assert.deepEqual(payload, message(next), `datagram ${next}`);
    next++;
  };
  for (let i = 0; i < CALLS; i++) {
    if (random() < 0.8) send();
    receiver.settimeout(TIMEOUTS[i % 2]);
    try {
      take(await receiver.recvfrom(64));
    } catch (err) {
      if (!timedOut(err)) throw err;
      timeouts++;
    }
  }
  await chain;
  // What is still queued comes now; a generous timeout only guards against a hang.
  receiver.settimeout(10);
  while (next < sent) take(await receiver.recvfrom(64));
  assert.ok(timeouts > 0 && timeouts < CALLS, `${timeouts} of ${CALLS} calls timed out`);
  receiver.setblocking(false);
  await assert.rejects(receiver.recvfrom(64), BlockingIOError, "no datagram twice");
});

Deno.test("timed-out calls on idle sockets hold no memory: 20,000 of them leave the heap as it was", async () => {
  // Run with a GC we can call, so the heap is measured with the garbage gone.
  // Every kind of wait that can time out is repeated on sockets that never
  // get data: recv, recvMsg, recvfrom and accept.
  const code = `
    import { AF_INET, SOCK_DGRAM, createServer, socket, socketpair } from ${JSON.stringify(MOD)};
    import { recvMsg } from ${JSON.stringify(FRAMING)};
    const WIDTH = 50;
    const pairs = await Promise.all(Array.from({ length: WIDTH }, () => socketpair()));
    const udps = Array.from({ length: WIDTH }, () => {
      const s = socket(AF_INET, SOCK_DGRAM);
      s.bind(["127.0.0.1", 0]);
      return s;
    });
    const servers = Array.from({ length: WIDTH }, () => createServer(["127.0.0.1", 0]));
    const calls = [
      (i) => pairs[i][1].recv(1024),
      (i) => recvMsg(pairs[i][1]),
      (i) => udps[i].recvfrom(1024),
      (i) => servers[i].accept(),
    ];
    for (const s of [...pairs.map((p) => p[1]), ...udps, ...servers]) s.settimeout(0.001);
    async function run(rounds) {
      let timeouts = 0;
      await Promise.all(Array.from({ length: WIDTH }, async (_, i) => {
        for (let r = 0; r < rounds; r++) {
          await calls[r % calls.length](i).catch((e) => {
            if (e.name !== "TimeoutError") throw e;
            timeouts++;
          });
        }
      }));
      return timeouts;
    }
    function heap() {
      gc();
      gc();
      return Deno.memoryUsage().heapUsed;
    }
    await run(40); // warm up: code compiled, buffers made
    const before = heap();
    const timeouts = await run(400);
    const after = heap();
    for (const [a, b] of pairs) { a.close(); b.close(); }
    for (const s of [...udps, ...servers]) s.close();
    console.log(JSON.stringify({ timeouts, growth: after - before }));
  `;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/main.js`, code);
    const { stdout, stderr, success } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-net",
        "--v8-flags=--expose-gc",
        "--allow-net=127.0.0.1",
        `${dir}/main.js`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(success, text(stderr));
    const { timeouts, growth } = JSON.parse(text(stdout));
    assert.equal(timeouts, 20_000);
    // A waiter left attached per timed-out call costs about 1.8 KB: 35 MB here.
    assert.ok(
      growth < 1 << 20,
      `the heap grew by ${growth} bytes over ${timeouts} timed-out calls`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const MOD = new URL("../mod.ts", import.meta.url).href;
const FRAMING = new URL("../framing.ts", import.meta.url).href;
