// I/O the commands share: whole writes, stop signals, a TCP listener worded
// for the user, and how endpoints are printed.

import { familyOfHost, formatEndpoint } from "../_address.ts";
import { type Address, createServer, type StreamSocket } from "../socket.ts";
import { bindHint, explain, Failure } from "./_errors.ts";
import { OSError } from "../errors.ts";

/**
 * Read size for stdin, sockets and files.
 *
 * @example
 * ```ts
 * import { IO_CHUNK } from "./_io.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(IO_CHUNK, 65536);
 * ```
 */
export const IO_CHUNK = 64 * 1024;

/**
 * The one UTF-8 encoder the commands use.
 *
 * @example
 * ```ts
 * import { encoder } from "./_io.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encoder.encode("hi"), new Uint8Array([0x68, 0x69]));
 * ```
 */
export const encoder: TextEncoder = new TextEncoder();

/**
 * Writes all of `data`, however few bytes each `write` takes.
 *
 * @param out A writer such as `Deno.stdout` or a `Deno.FsFile`.
 * @param data The bytes to write.
 *
 * @example
 * ```ts
 * import { writeAll } from "./_io.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const written: number[] = [];
 * // A writer that takes one byte a call.
 * const out = { write: (p: Uint8Array) => Promise.resolve(written.push(p[0]) && 1) };
 * await writeAll(out, new Uint8Array([1, 2, 3]));
 * deepEqual(written, [1, 2, 3]);
 * ```
 */
export async function writeAll(
  out: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  for (let done = 0; done < data.length;) done += await out.write(data.subarray(done));
}

/**
 * Calls `stop` on SIGINT or SIGTERM (SIGINT only on Windows) until disposed.
 *
 * @param stop Called with the signal that arrived.
 * @returns A handle whose disposal removes the listeners.
 *
 * @example
 * ```ts
 * import { onStopSignal } from "./_io.ts";
 * import { equal } from "node:assert/strict";
 *
 * const seen: Deno.Signal[] = [];
 * {
 *   using _signals = onStopSignal((signal) => seen.push(signal));
 * }
 * equal(seen.length, 0);
 * ```
 */
export function onStopSignal(stop: (signal: Deno.Signal) => void): Disposable {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => [signal, () => stop(signal)] as const);
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  return {
    [Symbol.dispose]() {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    },
  };
}

/**
 * A listening TCP socket on `host:port`.
 *
 * @param host The address to listen on.
 * @param port The port, 0 for a free one.
 * @returns The listening socket.
 * @throws {Failure} When it cannot listen, saying why and what to change.
 *
 * @example
 * ```ts
 * import { endpointOf, listenTcp } from "./_io.ts";
 * import { match } from "node:assert/strict";
 *
 * using server = listenTcp("127.0.0.1", 0);
 * match(endpointOf(server.getsockname()), /^127\.0\.0\.1:\d+$/);
 * ```
 */
export function listenTcp(host: string, port: number): StreamSocket {
  try {
    return createServer([host, port], { family: familyOfHost(host) });
  } catch (err) {
    // createServer's error names the address (as CPython's does); this line names it already.
    const cause = err instanceof OSError && err.cause instanceof OSError ? err.cause : err;
    throw new Failure(
      `cannot listen on ${formatEndpoint(host, port)}: ${explain(cause)}${bindHint(cause)}`,
    );
  }
}

/**
 * An address as status lines print it: `127.0.0.1:9000`, `[::1]:9000`, a Unix path.
 *
 * @param addr An address from `getsockname`, `accept` or `recvfrom`.
 * @returns Its text; `(unnamed)` for an unnamed Unix socket.
 *
 * @example
 * ```ts
 * import { endpointOf } from "./_io.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(endpointOf(["::1", 9000, 0, 0]), "[::1]:9000");
 * equal(endpointOf(""), "(unnamed)");
 * ```
 */
export function endpointOf(addr: Address): string {
  if (typeof addr === "string") return addr || "(unnamed)";
  return formatEndpoint(addr[0], addr[1]);
}
