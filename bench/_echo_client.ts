/**
 * The load of the socketserver benchmarks (bench/socketserver.ts and the main table's
 * socketserver rows): a raw Deno client, the same for every server, so only the server differs.
 *
 * @module
 */

import { cpuTime, HOST, share, type Spec } from "./_peer.ts";

/** Writes all of `data`. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

async function readFull(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  for (let got = 0; got < buf.length;) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) throw new Error(`EOF after ${got} of ${buf.length} bytes`);
    got += n;
  }
}

/** `size` bytes ending in a newline, so a line-reading handler sees one line per message. */
function message(size: number): Uint8Array {
  const out = new Uint8Array(size).fill(0x78);
  out[size - 1] = 0x0a;
  return out;
}

function connect(spec: Spec): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: HOST, port: spec.port! });
}

/**
 * Connects `spec.conns` clients, at most 100 connects in flight (under every server's backlog).
 *
 * @param spec The workload (`port`, `conns`).
 * @returns The connections.
 */
export async function connectAll(spec: Spec): Promise<Deno.Conn[]> {
  const conns = new Array<Deno.Conn>(spec.conns!);
  let next = 0;
  const connectSome = async () => {
    while (next < conns.length) {
      const slot = next++;
      conns[slot] = await connect(spec);
    }
  };
  await Promise.all(Array.from({ length: Math.min(100, conns.length) }, connectSome));
  return conns;
}

/** What a client measured: `value` per second over `seconds`, `cpu` seconds spent. */
export type Measured = { value: number; seconds: number; cpu: number };

async function timed(work: () => Promise<number>): Promise<Measured> {
  const start = performance.now();
  const cpu0 = cpuTime();
  const count = await work();
  const seconds = (performance.now() - start) / 1000;
  return { value: count / seconds, seconds, cpu: cpuTime() - cpu0 };
}

// Every connection open and echoed once (untimed: the server has accepted them all), then
// `rounds` round trips spread over all of them at once.
async function pingpong(spec: Spec): Promise<Measured> {
  const conns = await connectAll(spec);
  const request = message(spec.size!);
  const roundTrips = (conn: Deno.Conn, n: number) => {
    const reply = new Uint8Array(request.length);
    return (async () => {
      for (; n > 0; n--) {
        await writeAll(conn, request);
        await readFull(conn, reply);
        if (reply[request.length - 1] !== 0x0a) throw new Error("pingpong: a wrong echo");
      }
    })();
  };
  await Promise.all(conns.map((conn) => roundTrips(conn, 1)));
  const measured = await timed(async () => {
    await Promise.all(
      conns.map((conn, i) => roundTrips(conn, share(spec.rounds!, conns.length, i))),
    );
    return spec.rounds!;
  });
  for (const conn of conns) conn.close();
  return measured;
}

// `conns` workers, `rounds` connections in all: connect, one round trip, close. The cost of
// accepting (and of making a handler) is in every request.
async function churn(spec: Spec): Promise<Measured> {
  const request = message(spec.size!);
  const worker = async (n: number) => {
    const reply = new Uint8Array(request.length);
    for (; n > 0; n--) {
      const conn = await connect(spec);
      try {
        await writeAll(conn, request);
        await readFull(conn, reply);
      } finally {
        conn.close();
      }
    }
  };
  await worker(1);
  return await timed(async () => {
    await Promise.all(
      Array.from({ length: spec.conns! }, (_, i) => worker(share(spec.rounds!, spec.conns!, i))),
    );
    return spec.rounds!;
  });
}

// Every connection sends `bytes` in `chunk`-byte writes while it reads the echo back; the
// rate is MB/s of echoed bytes over all connections.
async function bulk(spec: Spec): Promise<Measured> {
  const conns = await connectAll(spec);
  const chunk = message(spec.chunk!);
  const measured = await timed(async () => {
    await Promise.all(conns.map(async (conn) => {
      const sending = (async () => {
        for (let left = spec.bytes!; left > 0; left -= chunk.length) await writeAll(conn, chunk);
      })();
      const buf = new Uint8Array(65536);
      let got = 0;
      while (got < spec.bytes!) {
        const n = await conn.read(buf);
        if (n === null) throw new Error(`bulk: EOF after ${got} of ${spec.bytes} bytes`);
        got += n;
      }
      await sending;
    }));
    return (spec.bytes! * conns.length) / 1e6;
  });
  for (const conn of conns) conn.close();
  return measured;
}

/**
 * Runs the load `spec.echo` names against the server at `spec.port`.
 *
 * @param spec The workload.
 * @returns The rate (round trips, connections or MB per second), its seconds and CPU seconds.
 */
export function runClient(spec: Spec): Promise<Measured> {
  switch (spec.echo ?? "pingpong") {
    case "pingpong":
      return pingpong(spec);
    case "churn":
      return churn(spec);
    case "bulk":
      return bulk(spec);
  }
}
