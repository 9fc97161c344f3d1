/**
 * The peers of `deno task bench:socketserver` (bench/socketserver.ts) and of the main table's
 * socketserver rows (bench/run.ts): four echo servers that differ only in what serves the
 * connections, and one raw Deno client that drives them all.
 *
 * - `spec.server`: `threading` is `ThreadingTCPServer` with a `BaseRequestHandler` whose
 *   `handle` loops `recv(readBuf)` → `sendall` (the Python docs' echo, looped); `stream` is
 *   the same server with a `StreamRequestHandler` copying `rfile` lines (or, for bulk,
 *   `read(readBuf)`) to `wfile`; `loop` is the hand-written pysock accept loop (`accept()` in a
 *   loop, a task per connection doing `recv` → `sendall`); `raw` is `Deno.listen` with one
 *   reused buffer per connection.
 * - `spec.echo`: `pingpong`, `churn` or `bulk` (see {@linkcode Spec}).
 *
 * Usage: `server '<spec>'` and `client '<spec>'` as every peer (bench/_peer.ts), or
 * `both '<spec>'`: the server and the client in this one process, so the client's cost is
 * paid on the server's event loop too.
 *
 * @module
 */

import { createServer, type StreamSocket } from "../socket.ts";
import { BaseRequestHandler, StreamRequestHandler, ThreadingTCPServer } from "../socketserver.ts";
import { cpuTime, HOST, ready, result, runPeer, share, type Spec } from "./_peer.ts";

/** A server started in this process. */
interface Started {
  port: number;
  /** Settles when the server stops (never, for the ones here, until the process exits). */
  serving: Promise<void>;
}

function threadingServer(spec: Spec, stream: boolean): Started {
  const bufsize = spec.readBuf ?? 65536;
  class Echo extends BaseRequestHandler {
    override async handle(): Promise<void> {
      const conn = this.request;
      for (let data = await conn.recv(bufsize); data.length > 0; data = await conn.recv(bufsize)) {
        await conn.sendall(data);
      }
    }
  }
  // Lines for the round-trip workloads (each message ends in "\n"); bulk has no lines, so it
  // reads whole buffers (the client sends a multiple of readBuf bytes).
  class Lines extends StreamRequestHandler {
    override async handle(): Promise<void> {
      if (spec.echo === "bulk") {
        for (
          let data = await this.rfile.read(bufsize);
          data.length > 0;
          data = await this.rfile.read(bufsize)
        ) {
          await this.wfile.write(data);
        }
        return;
      }
      for await (const line of this.rfile) await this.wfile.write(line);
    }
  }
  class Server extends ThreadingTCPServer {
    // Python's default of 5 drops SYNs when 100 clients connect at once (a 1 s retransmit).
    static override requestQueueSize = spec.backlog ?? 4096;
    static override allowReuseAddress = true;
  }
  const server = new Server([HOST, spec.port ?? 0], stream ? Lines : Echo);
  // Errors from a client that reset go to handleError (stderr), as in Python.
  return { port: (server.serverAddress as [string, number])[1], serving: server.serveForever() };
}

function loopServer(spec: Spec): Started {
  const bufsize = spec.readBuf ?? 65536;
  const sock = createServer([HOST, spec.port ?? 0], { backlog: spec.backlog ?? 4096 });
  const echo = async (conn: StreamSocket) => {
    try {
      for (let data = await conn.recv(bufsize); data.length > 0; data = await conn.recv(bufsize)) {
        await conn.sendall(data);
      }
    } catch {
      // A peer reset ends this connection only.
    } finally {
      conn.close();
    }
  };
  const serving = (async () => {
    for (;;) {
      const [conn] = await sock.accept();
      echo(conn);
    }
  })();
  return { port: sock.getsockname()[1] as number, serving };
}

function rawServer(spec: Spec): Started {
  const bufsize = spec.readBuf ?? 65536;
  const listener = Deno.listen({
    hostname: HOST,
    port: spec.port ?? 0,
    tcpBacklog: spec.backlog ?? 4096,
  });
  const echo = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(bufsize);
    try {
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
        await writeAll(conn, buf.subarray(0, n));
      }
    } catch {
      // A peer reset ends this connection only.
    } finally {
      conn.close();
    }
  };
  const serving = (async () => {
    for await (const conn of listener) echo(conn);
  })();
  return { port: listener.addr.port, serving };
}

function startServer(spec: Spec): Started {
  switch (spec.server ?? "threading") {
    case "threading":
      return threadingServer(spec, false);
    case "stream":
      return threadingServer(spec, true);
    case "loop":
      return loopServer(spec);
    case "raw":
      return rawServer(spec);
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
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

// At most 100 connects in flight, under every server's backlog.
async function connectAll(spec: Spec): Promise<Deno.Conn[]> {
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
type Measured = { value: number; seconds: number; cpu: number };

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

function runClient(spec: Spec): Promise<Measured> {
  switch (spec.echo ?? "pingpong") {
    case "pingpong":
      return pingpong(spec);
    case "churn":
      return churn(spec);
    case "bulk":
      return bulk(spec);
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "both") {
    const spec = JSON.parse(Deno.args[1]) as Spec;
    const { port } = startServer(spec);
    result({ ...await runClient({ ...spec, port }) });
    Deno.exit(0);
  }
  await runPeer(
    {
      socketserver: async (spec) => {
        const { port, serving } = startServer(spec);
        ready(port);
        await serving;
      },
    },
    { socketserver: async (spec) => result({ ...await runClient(spec) }) },
  );
}
