// Opening a connection: the resolver first, then Deno.connect, ended by one
// AbortSignal on timeout or close().

import { describeEndpoint, type IpEndpoint, unixPathTooLong } from "./_address.ts";
import { AF_UNIX } from "./_constants.ts";
import { resolveOne } from "./_resolve.ts";
import { clearTimer, setTimer } from "./_timer.ts";
import {
  ConnectionRefusedError,
  errno,
  fromDenoError,
  OSError,
  PermissionError,
} from "./errors.ts";

/**
 * Deno cannot connect from a chosen local address (a bound socket, or
 * createConnection's sourceAddress): the error says so rather than drop it.
 */
export function noSourceAddress(what: string): OSError {
  return new OSError(errno.EOPNOTSUPP, { detail: `Deno cannot connect from ${what}` });
}

/**
 * Connects to `endpoint` (resolving a host name for `family` first), until
 * `abort` is aborted: by close(), by a timer after `timeout` seconds, or
 * by the caller's `signal`. The Deno error is thrown as it is, for the
 * socket to translate. A `blocking` Unix connect without a timeout waits
 * for room in a full accept queue, as the kernel's does.
 */
export async function dial(
  endpoint: IpEndpoint | string,
  family: number,
  timeout: number | null,
  abort: AbortController,
  signal?: AbortSignal,
  blocking = true,
): Promise<Deno.Conn> {
  const timer = timeout === null
    ? undefined
    : setTimer(() => abort.abort(), Math.max(timeout * 1000, 1));
  const onAbort = () => abort.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (typeof endpoint === "string" && blocking && timeout === null) {
      return await waitForRoom(endpoint, abort.signal);
    }
    return await connect(endpoint, family, abort.signal);
  } finally {
    // Guarded: the first clearTimeout loads Deno's timer module (~6 ms),
    // a cost a connect without a timeout should not pay.
    if (timer !== undefined) clearTimer(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

async function connect(
  endpoint: IpEndpoint | string,
  family: number,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  if (typeof endpoint !== "string") {
    const { address } = await resolveOne(endpoint.hostname, family);
    // Deno.connect throws its own RangeError for port 0; the kernel refuses it.
    if (endpoint.port === 0) throw new ConnectionRefusedError(errno.ECONNREFUSED);
    return await Deno.connect({ hostname: address, port: endpoint.port, signal });
  }
  // Deno's Unix connect takes no signal: race it, and close a connection
  // that arrives after the caller has given up.
  const connecting = Deno.connect({ transport: "unix", path: endpoint });
  const aborted = new Promise<never>((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  try {
    return await Promise.race([connecting, aborted]);
  } finally {
    if (signal.aborted) connecting.then((conn) => conn.close(), () => {});
  }
}

/** The longest pause between tries of a blocking Unix connect to a full accept queue. */
const FULL_QUEUE_RETRY_MAX_MS = 50;

/**
 * A blocking Unix connect. Linux refuses a non-blocking connect to a
 * listener whose accept queue is full with EAGAIN, where a blocking one
 * waits for room (unix_wait_for_peer), as CPython's does; Deno's connect is
 * non-blocking and gives no readiness to wait on, so try again, backing off,
 * until the listener accepts or `signal` aborts.
 */
async function waitForRoom(path: string, signal: AbortSignal): Promise<Deno.Conn> {
  for (let pause = 1;; pause = Math.min(pause * 2, FULL_QUEUE_RETRY_MAX_MS)) {
    try {
      return await connect(path, AF_UNIX, signal);
    } catch (err) {
      if (!(err instanceof Deno.errors.WouldBlock) || signal.aborted) throw err;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, pause);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * The error callers see for a Deno error met at `endpoint`, which the
 * message names.
 */
export function endpointError(
  err: unknown,
  endpoint?: IpEndpoint | string,
  sending = false,
): unknown {
  if (typeof endpoint === "string") err = unixPathTooLong(err, endpoint);
  const translated = fromDenoError(err, describeEndpoint(endpoint));
  if (translated instanceof PermissionError && typeof endpoint === "string") {
    // Deno checks three permissions for a Unix socket (two for a datagram
    // send: write and net) and names only the first missing one, so
    // following its advice would fail again.
    const read = sending ? "" : `--allow-read=${endpoint} `;
    return new PermissionError(errno.EACCES, {
      detail: `access to ${endpoint} denied; run again with ${read}` +
        `--allow-write=${endpoint} --allow-net=unix:${endpoint}`,
      cause: err,
    });
  }
  return translated;
}
