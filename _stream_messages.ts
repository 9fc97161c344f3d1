// recvmsg, recvmsg_into and sendmsg on a stream socket: Python's message
// calls over recv, recvInto and send, with their argument checks. Deno has
// no recvmsg(2)/sendmsg(2), so no control message comes or goes.

import { type AddressInput, checkSocketAddress } from "./_address.ts";
import { type AbortOptions, checkInto, checkSize, SocketBase } from "./_base.ts";
import { toBytes } from "./_bytes.ts";
import { AF_UNIX } from "./_constants.ts";
import { checkFlags, SEND, STREAM_RECV } from "./_flags.ts";
import {
  type AncillaryItem,
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
      checkPeerAddress(sock, connected, address, "sendmsg");
    }
    return sock.send(data, flags);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Python's `sendto` on a stream: one send, its address checked (and
 * required: `sendto(data, None)` is CPython's TypeError), then ignored as
 * {@linkcode streamSendmsg} ignores it.
 */
export function streamSendto(
  sock: StreamCalls,
  connected: boolean,
  data: unknown,
  flags: number,
  address: unknown,
): Promise<number> {
  try {
    const bytes = toBytes(data, "sendto");
    checkFlags(flags, SEND, "sendto");
    checkPeerAddress(sock, connected, address, "sendto");
    return sock.send(bytes, flags);
  } catch (err) {
    return Promise.reject(err);
  }
}

function checkPeerAddress(
  sock: StreamCalls,
  connected: boolean,
  address: unknown,
  action: string,
): void {
  checkSocketAddress(address, sock.family, action);
  if (sock.family === AF_UNIX && connected) throw new OSError(errno.EISCONN);
}

/**
 * The base of {@linkcode StreamSocket}: Python's message calls on a stream
 * socket (`recvfrom`, `recvfrom_into`, `sendto`, `recvmsg`, `recvmsg_into`,
 * `sendmsg`), made of its `recv`, `recvInto` and `send`.
 */
export abstract class StreamMessages extends SocketBase {
  /**
   * See {@linkcode StreamSocket.recv}.
   *
   * @param bufsize The most bytes to return.
   * @param flags Python's flags.
   * @param options `signal`.
   * @returns The bytes.
   */
  abstract recv(bufsize: number, flags?: number, options?: AbortOptions): Promise<Uint8Array>;

  /**
   * See {@linkcode StreamSocket.recvInto}.
   *
   * @param buf The array to fill.
   * @param nbytes The most bytes.
   * @param flags Python's flags.
   * @param options `signal`.
   * @returns The count.
   */
  abstract recvInto(
    buf: Uint8Array,
    nbytes?: number,
    flags?: number,
    options?: AbortOptions,
  ): Promise<number>;

  /**
   * See {@linkcode StreamSocket.send}.
   *
   * @param data The bytes.
   * @param flags Python's flags.
   * @returns The count written.
   */
  abstract send(data: Uint8Array | string, flags?: number): Promise<number>;

  /** Whether a connection is there. */
  protected abstract get connected(): boolean;

  /**
   * Python's `recvfrom` on a stream socket: what {@linkcode StreamSocket.recv}
   * gives, and no address (`null`, Python's `None`: Linux reports none for
   * a connected stream).
   *
   * @param bufsize The most bytes to return.
   * @param flags As for {@linkcode StreamSocket.recv}.
   * @param options `signal`, as for {@linkcode StreamSocket.recv}.
   * @returns `[data, null]`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall("hi");
   * const [data, address] = await b.recvfrom(10);
   * assert.equal(new TextDecoder().decode(data), "hi");
   * assert.equal(address, null);
   * ```
   */
  async recvfrom(bufsize: number, flags = 0, options?: AbortOptions): Promise<[Uint8Array, null]> {
    // Checked here too, so that the errors name recvfrom.
    checkSize(bufsize, "recvfrom", "bufsize");
    checkFlags(flags, STREAM_RECV, "recvfrom");
    return [await this.recv(bufsize, flags, options), null];
  }

  /**
   * Python's `recvfrom_into` on a stream socket: what
   * {@linkcode StreamSocket.recvInto} gives, and no address (`null`).
   *
   * @param buf The array to fill.
   * @param nbytes The most bytes to write; 0 means `buf.length`.
   * @param flags As for {@linkcode StreamSocket.recv}.
   * @param options `signal`, as for {@linkcode StreamSocket.recv}.
   * @returns `[count, null]`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall("abc");
   * assert.deepEqual(await b.recvfromInto(new Uint8Array(8)), [3, null]);
   * ```
   */
  async recvfromInto(
    buf: Uint8Array,
    nbytes = 0,
    flags = 0,
    options?: AbortOptions,
  ): Promise<[number, null]> {
    checkInto(buf, nbytes, "recvfromInto");
    checkFlags(flags, STREAM_RECV, "recvfromInto");
    return [await this.recvInto(buf, nbytes, flags, options), null];
  }

  /**
   * Python's `sendto` on a stream socket: a {@linkcode StreamSocket.send}
   * to the connected peer. The address is checked, then ignored, as Linux
   * ignores it on a connected TCP socket (a connected Unix stream socket
   * refuses one with `EISCONN`), as {@linkcode StreamSocket.sendmsg} does.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @param addr An address of the socket's family.
   * @returns The number of bytes sent.
   * @throws {BrokenPipeError} when not connected, as `send` (`ENOTCONN` for
   *   a Unix socket), as on Linux.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * assert.equal(await a.sendto("hi", ["127.0.0.1", 9]), 2);
   * assert.equal(new TextDecoder().decode(await b.recv(10)), "hi");
   * ```
   */
  sendto(data: Uint8Array | string, addr: AddressInput): Promise<number>;
  /**
   * Python's `sendto(data, flags, address)` on a stream socket.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @param flags As for {@linkcode StreamSocket.send}.
   * @param addr An address of the socket's family, ignored once checked.
   * @returns The number of bytes sent.
   */
  sendto(data: Uint8Array | string, flags: number, addr: AddressInput): Promise<number>;
  sendto(
    data: Uint8Array | string,
    flagsOrAddr: number | AddressInput,
    address?: AddressInput,
  ): Promise<number> {
    const flagged = typeof flagsOrAddr === "number" && address !== undefined;
    const addr = flagged ? address : flagsOrAddr;
    return streamSendto(this, this.connected, data, flagged ? flagsOrAddr as number : 0, addr);
  }

  /**
   * Python's `recvmsg` on a stream: `recv` in the shape
   * `[data, ancdata, msgFlags, address]`. `ancdata` is always `[]`: Deno
   * has no recvmsg(2), so no control message can reach pysock (descriptors
   * a peer sends over a Unix socket are dropped by the kernel). `msgFlags`
   * is 0 and `address` is `null`, as Python's are on a connected stream.
   *
   * @param bufsize The most bytes to return.
   * @param ancbufsize Room for control messages (Python's); none come.
   * @param flags As for {@linkcode StreamSocket.recv}.
   * @param options `signal`, as for {@linkcode StreamSocket.recv}.
   * @returns `[data, [], 0, null]`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * assert.equal(await a.sendmsg([new TextEncoder().encode("he"), "llo"]), 5);
   * const [data, ancdata, flags, address] = await b.recvmsg(10);
   * assert.deepEqual([new TextDecoder().decode(data), ancdata, flags, address], ["hello", [], 0, null]);
   * ```
   */
  recvmsg(
    bufsize: number,
    ancbufsize = 0,
    flags = 0,
    options?: AbortOptions,
  ): Promise<RecvmsgResult> {
    return streamRecvmsg(this, bufsize, ancbufsize, flags, options);
  }

  /**
   * Python's `recvmsg_into`: receives into `buffers`, filling each in turn,
   * as {@linkcode StreamSocket.recvmsg} receives.
   *
   * @param buffers The arrays to fill.
   * @param ancbufsize Room for control messages (Python's); none come.
   * @param flags As for {@linkcode StreamSocket.recv}.
   * @param options `signal`, as for {@linkcode StreamSocket.recv}.
   * @returns `[nbytes, [], 0, null]`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MSG_WAITALL, socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall("abcde");
   * const [head, tail] = [new Uint8Array(2), new Uint8Array(3)];
   * assert.deepEqual(await b.recvmsgInto([head, tail], 0, MSG_WAITALL), [5, [], 0, null]);
   * assert.equal(new TextDecoder().decode(tail), "cde");
   * ```
   */
  recvmsgInto(
    buffers: Iterable<Uint8Array>,
    ancbufsize = 0,
    flags = 0,
    options?: AbortOptions,
  ): Promise<RecvmsgIntoResult> {
    return streamRecvmsgInto(this, buffers, ancbufsize, flags, options);
  }

  /**
   * Python's `sendmsg`: one `send` of `buffers` joined. `ancdata` must be
   * empty: Deno has no sendmsg(2) to pass control messages (`SCM_RIGHTS`,
   * ...) with. An `address` is checked, then ignored on TCP as Linux ignores
   * it; a Unix stream socket refuses it with `EISCONN`, as Linux does.
   *
   * @param buffers Byte arrays (or strings, sent as UTF-8).
   * @param ancdata Control messages: only `[]`.
   * @param flags As for {@linkcode StreamSocket.send}.
   * @param address Python's; see above.
   * @returns The count written.
   * @throws {OSError} `EOPNOTSUPP` naming a control message in `ancdata`.
   */
  sendmsg(
    buffers: Iterable<Uint8Array | string>,
    ancdata?: Iterable<AncillaryItem>,
    flags = 0,
    address?: AddressInput | null,
  ): Promise<number> {
    return streamSendmsg(this, this.connected, buffers, ancdata, flags, address);
  }
}
