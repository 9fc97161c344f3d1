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
import { HOST, ready, result, runPeer, type Spec } from "./_peer.ts";
import { runClient, writeAll } from "./_echo_client.ts";

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
