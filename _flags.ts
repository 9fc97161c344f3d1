// Python's `flags` argument of recv/send, checked before any I/O. The flags
// Deno can honour are served by pysock itself: MSG_PEEK and MSG_WAITALL from
// the socket's own read buffer, MSG_DONTWAIT as a timeout of 0 for the one
// call, MSG_TRUNC from the whole datagram Deno always receives. Every other
// flag is refused with EOPNOTSUPP naming it, never silently ignored.

import { describe } from "./_address.ts";
import type { ReadBuffer } from "./_buffer.ts";
import {
  MSG_CMSG_CLOEXEC,
  MSG_CONFIRM,
  MSG_DONTROUTE,
  MSG_DONTWAIT,
  MSG_EOR,
  MSG_ERRQUEUE,
  MSG_FASTOPEN,
  MSG_MORE,
  MSG_NOSIGNAL,
  MSG_OOB,
  MSG_PEEK,
  MSG_TRUNC,
  MSG_WAITALL,
} from "./_constants.ts";
import { errno, OSError } from "./errors.ts";

/** The flags a stream socket's receives honour. */
export const STREAM_RECV: number = MSG_PEEK | MSG_WAITALL | MSG_DONTWAIT;
/** The flags a datagram socket's receives honour (MSG_WAITALL has no effect on a datagram, as on Linux). */
export const DATAGRAM_RECV: number = STREAM_RECV | MSG_TRUNC;
/**
 * The flags sends honour. MSG_DONTWAIT: one non-blocking send (the send
 * queue of _writer.ts; a UDP send never waits). MSG_NOSIGNAL: Deno never
 * raises SIGPIPE, so a broken connection is always an error instead.
 */
export const SEND: number = MSG_DONTWAIT | MSG_NOSIGNAL;

// Each flag's name, and why Deno cannot honour it where it is refused.
const FLAGS: readonly [flag: number, name: string, why: string][] = [
  [MSG_OOB, "MSG_OOB", "Deno has no out-of-band data"],
  [MSG_PEEK, "MSG_PEEK", ""],
  [MSG_DONTROUTE, "MSG_DONTROUTE", "Deno cannot bypass routing"],
  [MSG_TRUNC, "MSG_TRUNC", ""],
  [MSG_DONTWAIT, "MSG_DONTWAIT", ""],
  [MSG_EOR, "MSG_EOR", "Deno cannot pass it to the kernel"],
  [MSG_WAITALL, "MSG_WAITALL", ""],
  [MSG_CONFIRM, "MSG_CONFIRM", "Deno cannot pass it to the kernel"],
  [MSG_ERRQUEUE, "MSG_ERRQUEUE", "Deno cannot read the error queue"],
  [MSG_NOSIGNAL, "MSG_NOSIGNAL", ""],
  [MSG_MORE, "MSG_MORE", "Deno cannot pass it to the kernel"],
  [MSG_FASTOPEN, "MSG_FASTOPEN", "Deno has no TCP Fast Open"],
  [MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC", "pysock receives no descriptors"],
];

/**
 * Checks a `flags` argument: an integer, every bit of it in `allowed`.
 * @returns The flags.
 * @throws {TypeError} for a non-integer; {RangeError} outside a C int.
 * @throws {OSError} `EOPNOTSUPP` naming each flag this call cannot honour.
 */
export function checkFlags(flags: unknown, allowed: number, action: string): number {
  if (flags === 0) return 0;
  if (typeof flags !== "number" || !Number.isInteger(flags)) {
    throw new TypeError(`Cannot ${action}: flags must be an integer, got ${describe(flags)}`);
  }
  if (flags < -0x80000000 || flags > 0x7fffffff) {
    throw new RangeError(`Cannot ${action}: flags must fit in a C int, got ${flags}`);
  }
  const refused = flags & ~allowed;
  if (refused === 0) return flags;
  const names: string[] = [];
  let why = "";
  for (let bit = 0; bit < 32; bit++) {
    if ((refused & (1 << bit)) === 0) continue;
    const flag = (1 << bit) >>> 0;
    const known = FLAGS.find(([f]) => f === flag);
    names.push(known?.[1] ?? `flag 0x${flag.toString(16)}`);
    why ||= known === undefined ? "not a flag pysock knows" : reason(known, allowed);
  }
  throw new OSError(errno.EOPNOTSUPP, {
    detail: `${action} cannot take ${names.join(" | ")} (${why})`,
  });
}

function reason([flag, , why]: readonly [number, string, string], allowed: number): string {
  if (why !== "") return why;
  if (allowed === SEND) return "it is a receive flag";
  if (flag & SEND) return "it is a send flag";
  return "it is for datagram sockets";
}

/**
 * A stream receive of up to `bufsize` bytes with `flags` (already checked):
 * MSG_PEEK consumes nothing, MSG_WAITALL waits for all `bufsize` bytes
 * (fewer at end of stream, or at the deadline as Linux's SO_RCVTIMEO gives
 * them), MSG_DONTWAIT makes this call non-blocking. A call that gets nothing
 * before its timeout, or is aborted, consumes nothing.
 */
export function recvFlagged(
  buffer: ReadBuffer,
  bufsize: number,
  flags: number,
  timeout: number | null,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  if (flags & MSG_DONTWAIT) timeout = 0;
  const all = (flags & MSG_WAITALL) !== 0;
  if (flags & MSG_PEEK) return buffer.peek(bufsize, timeout, signal, all);
  if (all) return buffer.readUpTo(bufsize, timeout, signal);
  return buffer.readSome(bufsize, timeout, signal);
}

/** {@linkcode recvFlagged} into `target`; resolves to the count. */
export async function recvIntoFlagged(
  buffer: ReadBuffer,
  target: Uint8Array,
  flags: number,
  timeout: number | null,
  signal: AbortSignal | undefined,
): Promise<number> {
  if (flags & (MSG_PEEK | MSG_WAITALL)) {
    const bytes = await recvFlagged(buffer, target.length, flags, timeout, signal);
    target.set(bytes);
    return bytes.length;
  }
  return await buffer.readInto(target, flags & MSG_DONTWAIT ? 0 : timeout, signal);
}
