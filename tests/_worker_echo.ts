// The worker module tests/server_workers_test.ts runs in its pools. Each
// connection is answered with the worker's pid and a newline, then every
// byte is echoed until end of stream. Deno.args[0] picks a failure to show.

import {
  BaseRequestHandler,
  serveWorkers,
  ThreadingTCPServer,
  type WorkerInfo,
} from "../socketserver.ts";

const mode = Deno.args[0] ?? "echo";
if (mode === "throw-on-load") throw new Error("boom while loading");
// The mistake of a one-file program without an import.meta.main guard.
if (mode === "recurse") await serveWorkers(1, new URL(import.meta.url));

class PidEcho extends BaseRequestHandler {
  override async handle() {
    await this.request.sendall(`${Deno.pid}\n`);
    for (let data = await this.request.recv(65536); data.length > 0;) {
      await this.request.sendall(data);
      data = await this.request.recv(65536);
    }
  }
}

class Shared extends ThreadingTCPServer {
  static override allowReusePort = true;
}

export default function make(worker: WorkerInfo): ThreadingTCPServer {
  if (mode === "throw") throw new Error("boom at start");
  if (mode === "no-reuse") return new ThreadingTCPServer(["127.0.0.1", worker.port], PidEcho);
  // Ignores the pool's port: each worker would serve a port of its own.
  if (mode === "own-port") return new Shared(["127.0.0.1", 0], PidEcho);
  return new Shared(["127.0.0.1", worker.port], PidEcho);
}
