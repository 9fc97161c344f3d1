// The worker's side of serveWorkers (_server_workers.ts): each worker
// process runs a tiny generated main module that imports the user's module
// and this one and calls runWorker. Nothing here is exported by the package.

import type { Address } from "./_address.ts";

/** The line a worker prints on stdout once it serves: `${READY} <pid> <address as JSON>`. */
export const READY = "pysock-worker ready";

/** What a worker's factory is told: which worker it is, and the port to serve. */
export interface WorkerInfo {
  /** The worker's number, 0 to `count - 1`; a restarted worker keeps its number. */
  id: number;
  /** How many workers the pool runs. */
  count: number;
  /**
   * The port to bind: the one asked of `serveWorkers` for worker 0, then the
   * port worker 0 bound (so port 0 gives every worker the same free port).
   */
  port: number;
}

// What runWorker needs of a server: BaseServer's serving methods, checked by
// shape because the user's module may load socketserver.ts from another URL
// (jsr: beside a local copy), where instanceof would say no.
interface Servable {
  allowReusePort?: unknown;
  serverAddress: Address;
  serveForever(): Promise<void>;
  shutdown(): Promise<void>;
  serverClose(): Promise<void>;
}

/**
 * Makes the server with the module's default export, prints the ready
 * line, serves until SIGTERM, SIGINT or the end of stdin (the parent is
 * gone), then shuts down gracefully and exits 0.
 *
 * @param module The user's module namespace.
 * @param info This worker's number, the pool's size and the port.
 * @returns Never: the process exits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { READY } from "./_server_worker_entry.ts";
 *
 * assert.equal(READY, "pysock-worker ready");
 * ```
 */
export async function runWorker(
  module: Record<string, unknown>,
  info: WorkerInfo,
): Promise<never> {
  const name = `pysock worker ${info.id}`;
  const factory = module.default;
  if (typeof factory !== "function") {
    return fail(`${name}: the module's default export must be a function that makes the server`);
  }
  let server: Servable;
  try {
    server = await factory(info);
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    // An OS error (the port is taken) says all in its one line; a bug needs its stack.
    if (errno === undefined && err instanceof Error && err.stack) console.error(err.stack);
    // With SO_REUSEPORT the later workers bind a port worker 0 holds: a server
    // made without it is refused there with EADDRINUSE, not with our message.
    const hint = errno === 98 && info.id > 0
      ? " (is the server made with allowReusePort = true?)"
      : "";
    return fail(`${name}: cannot start: ${String(err)}${hint}`);
  }
  if (!isServable(server)) {
    return fail(`${name}: the default export must return a socketserver server`);
  }
  if (server.allowReusePort !== true) {
    await server.serverClose();
    return fail(
      `${name}: the server must be made with allowReusePort = true, so the workers can share its port`,
    );
  }
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= server.shutdown();
  };
  if (Deno.build.os !== "windows") {
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
  }
  // The parent holds our stdin open: its end means the parent died without
  // stopping us, and a worker must not outlive its pool.
  watchStdin(stop);
  // serveForever marks the server as serving before its first await, so a
  // signal from here on stops it.
  const serving = server.serveForever();
  console.log(`${READY} ${Deno.pid} ${JSON.stringify(server.serverAddress)}`);
  await serving;
  await stopping;
  await server.serverClose();
  Deno.exit(0);
}

function isServable(server: unknown): server is Servable {
  const s = server as Servable | null;
  return typeof s === "object" && s !== null && typeof s.serveForever === "function" &&
    typeof s.shutdown === "function" && typeof s.serverClose === "function";
}

async function watchStdin(stop: () => void): Promise<void> {
  try {
    for await (const _ of Deno.stdin.readable) { /* the parent sends nothing */ }
  } catch { /* a closed stdin is an end too */ }
  stop();
}

// One line on stderr (the parent reports the last one) and exit 1.
function fail(line: string): never {
  console.error(line);
  Deno.exit(1);
}
