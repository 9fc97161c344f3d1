// The echo server that `pysock echo-server --workers N` runs in each worker
// (and bench/socketserver_workers.ts measures): a ThreadingTCPServer with
// allowReusePort, echoing every byte. The host is the worker's first
// argument; the port is the pool's.

import { BaseRequestHandler, ThreadingTCPServer } from "./socketserver.ts";
import { serveWorkers, type WorkerInfo, type WorkerPool } from "./_server_workers.ts";

/** Read size per `recv`, as the CLI's own echo uses. */
const CHUNK = 64 * 1024;

/** Echoes every byte until the client's end of stream. */
class Echo extends BaseRequestHandler {
  override async handle(): Promise<void> {
    for (let data = await this.request.recv(CHUNK); data.length > 0;) {
      await this.request.sendall(data);
      data = await this.request.recv(CHUNK);
    }
  }
}

/** A threading TCP server whose port several processes share. */
class EchoServer extends ThreadingTCPServer {
  static override allowReusePort = true;
  // Python's backlog of 5 drops handshakes under a burst of clients (1,500
  // short connections from 8 clients: 1.14 s with 5, 0.29 s with 511).
  static override requestQueueSize = 511;
  // A client that resets is its own end, not a report for every worker's stderr.
  override handleError(): void {}
}

/**
 * The worker factory: an echo server on `Deno.args[0]` (default
 * 127.0.0.1) and the pool's port.
 *
 * @param worker Which worker, and the port to bind.
 * @returns The bound server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import makeEchoServer from "./_server_echo.ts";
 *
 * await using server = makeEchoServer({ id: 0, count: 1, port: 0 });
 * assert.equal(server.allowReusePort, true);
 * ```
 */
export default function makeEchoServer(worker: WorkerInfo): ThreadingTCPServer {
  return new EchoServer([Deno.args[0] ?? "127.0.0.1", worker.port], Echo);
}

/**
 * Runs the echo server in `n` workers on `host:port`.
 *
 * @param n How many workers.
 * @param host The address to listen on.
 * @param port The port, 0 for a free one.
 * @returns The running pool.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveEchoWorkers } from "./_server_echo.ts";
 *
 * await using pool = await serveEchoWorkers(1, "127.0.0.1", 0);
 * assert.equal(pool.pids.length, 1);
 * ```
 */
export function serveEchoWorkers(n: number, host: string, port: number): Promise<WorkerPool> {
  return serveWorkers(n, new URL(import.meta.url), {
    port,
    args: [host],
    flags: [`--allow-net=${host.includes(":") ? `[${host}]` : host}`],
  });
}
