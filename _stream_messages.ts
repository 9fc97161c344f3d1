// recvmsg, recvmsg_into and sendmsg on a stream socket: Python's message
// calls over recv, recvInto and send, with their argument checks. Deno has
// no recvmsg(2)/sendmsg(2), so no control message comes or goes.

import { type AddressInput, checkSocketAddress } from "./_address.ts";
import { type AbortOptions, checkSize } from "./_base.ts";
import { AF_UNIX } from "./_constants.ts";
import { checkFlags, SEND, STREAM_RECV } from "./_flags.ts";
import {
  checkAncbufsize,
  checkAncdata,
  checkTargets,
  gather,
  type RecvmsgIntoResult,
  type RecvmsgResult,
  roomOf,
  scatter,
} from "./_message.ts";
import { errno, OSError } from "./errors.ts";

/** The calls of a stream socket the message calls are made of. */
interface StreamCalls {
  readonly family: number;
  recv(bufsize: number, flags: number, options?: AbortOptions): Promise<Uint8Array>;
  recvInto(buf: Uint8Array, nbytes: number, flags: number, options?: AbortOptions): Promise<number>;
  send(data: Uint8Array, flags: number): Promise<number>;
}

/** Python's `recvmsg` on a stream: `[data, [], 0, null]`. */
export async function streamRecvmsg(
  sock: StreamCalls,
  bufsize: number,
  ancbufsize: number,
  flags: number,
  options?: AbortOptions,
): Promise<RecvmsgResult> {
  checkSize(bufsize, "recvmsg", "bufsize");
  checkAncbufsize(ancbufsize, "recvmsg");
  checkFlags(flags, STREAM_RECV, "recvmsg");
  return [await sock.recv(bufsize, flags, options), [], 0, null];
}

/** Python's `recvmsg_into` on a stream: fills `buffers` in turn; `[nbytes, [], 0, null]`. */
export async function streamRecvmsgInto(
  sock: StreamCalls,
  buffers: Iterable<Uint8Array>,
  ancbufsize: number,
  flags: number,
  options?: AbortOptions,
): Promise<RecvmsgIntoResult> {
  const targets = checkTargets(buffers, "recvmsgInto");
  checkAncbufsize(ancbufsize, "recvmsgInto");
  checkFlags(flags, STREAM_RECV, "recvmsgInto");
  const n = targets.length === 1
    ? await sock.recvInto(targets[0], 0, flags, options)
    : scatter(await sock.recv(roomOf(targets), flags, options), targets);
  return [n, [], 0, null];
}

/**
 * Python's `sendmsg` on a stream: the buffers as one send. An address is
 * checked, then ignored, as on a connected TCP socket; a connected Unix
 * stream socket refuses one (`EISCONN`), as Linux does.
 */
export function streamSendmsg(
  sock: StreamCalls,
  connected: boolean,
  buffers: unknown,
  ancdata: unknown,
  flags: number,
  address?: AddressInput | null,
): Promise<number> {
  try {
    const data = gather(buffers, "sendmsg");
    checkAncdata(ancdata, "sendmsg");
    checkFlags(flags, SEND, "sendmsg");
    if (address !== undefined && address !== null) {
      checkSocketAddress(address, sock.family, "sendmsg");
      if (sock.family === AF_UNIX && connected) throw new OSError(errno.EISCONN);
    }
    return sock.send(data, flags);
  } catch (err) {
    return Promise.reject(err);
  }
}
