// What a datagram send checks before any I/O, and how close() ends a send
// that Deno's own close() does not: a datagram socket's sending side,
// beside udp.ts.

import { AF_INET6 } from "./_constants.ts";
import { normalizeIpv6 } from "./_inet.ts";
import { BlockingIOError, errno, OSError } from "./errors.ts";

/** Largest UDP payload over IPv4: 65535 minus the 20-byte IP and 8-byte UDP headers. */
export const MAX_DATAGRAM_IPV4 = 65507;
/** Largest UDP payload over IPv6 (no jumbograms): 65535 minus the 8-byte UDP header. */
export const MAX_DATAGRAM_IPV6 = 65527;

/**
 * Deno's Unix datagram socket runs one operation at a time (its send and
 * receive ops both take the socket exclusively, denoland/deno#6290), so a
 * send cannot pass a receive that is waiting; say so instead of failing
 * with a bare "Busy".
 */
export function unixBusy(): BlockingIOError {
  return new BlockingIOError(errno.EAGAIN, {
    detail: "Deno cannot send on a Unix datagram socket while a receive waits on it " +
      "(also one kept after a timeout); send before receiving, or from another socket",
  });
}

export function checkDatagramSize(length: number, target: Deno.NetAddr): void {
  const max = target.hostname.includes(":") && !target.hostname.startsWith("::ffff:")
    ? MAX_DATAGRAM_IPV6
    : MAX_DATAGRAM_IPV4;
  if (length > max) {
    throw new OSError(errno.EMSGSIZE, {
      detail: `${length} bytes is more than one UDP datagram holds here (${max})`,
    });
  }
}

/**
 * Sends close() settles: each tracked call rejects with `EBADF` once
 * {@linkcode UntilClose.close} runs, though Deno's send goes on (it cannot
 * be cancelled, so its datagram still goes once the receiver reads).
 */
export class UntilClose<T> {
  #callers = new Set<(err: unknown) => void>();

  /** The caller's promise for `op`: `op`'s outcome, or `EBADF` at close(). */
  track(op: Promise<T>): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const callers = this.#callers;
    callers.add(reject);
    op.then(resolve, reject).finally(() => callers.delete(reject));
    return promise;
  }

  /** Rejects every call still waiting with `EBADF`. */
  close(): void {
    for (const reject of this.#callers) reject(new OSError(errno.EBADF));
    this.#callers.clear();
  }
}

/**
 * Where the kernel binds a socket on its first send to `peer` (or first
 * receive, with no peer): the loopback address for a peer on loopback, as
 * its source address choice gives, every interface otherwise.
 */
export function autobindHost(family: number, peer: Deno.Addr | null): string {
  const loopback = peer !== null && peer.transport === "udp" &&
    isLoopback((peer as Deno.NetAddr).hostname);
  if (family === AF_INET6) return loopback ? "::1" : "::";
  return loopback ? "127.0.0.1" : "0.0.0.0";
}

function isLoopback(hostname: string): boolean {
  return hostname.startsWith("127.") || normalizeIpv6(hostname) === "::1";
}
