/**
 * The datagram socket: UDP over IPv4 and IPv6, and Unix datagram sockets,
 * as `socket(AF_INET, SOCK_DGRAM)` returns them.
 *
 * Built on `Deno.listenDatagram`, which needs Deno's `--unstable-net` flag
 * (or `"unstable": ["net"]` in deno.json). Where Deno differs from the
 * kernel, pysock says so instead of pretending:
 *
 * - Deno has no connected UDP (denoland/deno#10519; for Unix datagram
 *   sockets #14214). `connect()` records a default peer; `send` and `recv`
 *   use it, and datagrams from any other sender are dropped (read and
 *   discarded), as a connected Linux socket would never see them. Linux
 *   reports an ICMP "port unreachable" only to a connected socket, so it is
 *   not reported as `ConnectionRefusedError`.
 * - A datagram longer than the receive size is cut to it and the rest
 *   dropped, as on Linux; the next datagram arrives whole.
 * - Deno cannot cancel a pending receive (denoland/deno#10181), so a
 *   receive that times out is kept: the datagram it brings is returned by
 *   the next call, never lost and never returned twice. While kept it does
 *   not keep the process alive.
 * - Deno's Unix datagram socket runs one operation at a time
 *   (denoland/deno#6290): on `AF_UNIX` a send while a receive waits on the
 *   same socket fails with `BlockingIOError` saying so (UDP has no such limit).
 * - `SO_BROADCAST` is always on (Deno sets it on every UDP socket,
 *   denoland/deno#12860), and
 *   multicast options go through Deno's group membership; see
 *   {@linkcode DatagramSocket.setsockopt}.
 *
 * @example A UDP echo on loopback
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
 *
 * await using server = socket(AF_INET, SOCK_DGRAM);
 * server.bind(["127.0.0.1", 0]);
 * await using client = socket(AF_INET, SOCK_DGRAM);
 * await client.sendto("ping", server.getsockname());
 *
 * const [data, addr] = await server.recvfrom(1024);
 * assert.deepEqual(addr, client.getsockname());
 * await server.sendto(data, addr);
 * const [reply] = await client.recvfrom(1024);
 * assert.equal(new TextDecoder().decode(reply), "ping");
 * ```
 *
 * @module
 */

import {
  type Address,
  type AddressInput,
  checkSocketAddress,
  describeEndpoint,
  familyOfHost,
  formatEndpoint,
  fromDenoAddr,
  type IpEndpoint,
  isKnownFamily,
  specialEndpoint,
} from "./_address.ts";
import { endpointError } from "./_connect.ts";
import {
  type AbortOptions,
  checkBuflen,
  checkInto,
  checkOption,
  checkSignal,
  checkSize,
  optionBytes,
  type OptionValue,
  SocketBase,
  unboundAddress,
} from "./_base.ts";
import { toBytes } from "./_bytes.ts";
import { normalizeIpv6 } from "./_inet.ts";
import { AF_INET6, AF_UNIX, AF_UNSPEC, IPPROTO_UDP, MSG_TRUNC, SOCK_DGRAM } from "./_constants.ts";
import { DatagramOptions } from "./_datagram_options.ts";
export { multicastRequest } from "./_datagram_options.ts";
import { DatagramReceiver, type Delivered } from "./_datagram_receiver.ts";
import { CLOSED, kWatch, READ, type Watcher, WRITE } from "./_ready.ts";
import { checkFlags, DATAGRAM_RECV, SEND } from "./_flags.ts";
import {
  autobindHost,
  checkDatagramSize,
  MAX_DATAGRAM_IPV4,
  unixBusy,
  UntilClose,
} from "./_datagram_send.ts";
import { listenUnixDatagram } from "./_unix_file.ts";
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
import { literalFamily, resolveOne } from "./_resolve.ts";
import { EAI, errno, fromDenoError, gaierror, OSError, PermissionError } from "./errors.ts";

/** Where Linux connects a datagram socket given the wildcard address: loopback. */
const WILDCARD_PEER = new Map([["0.0.0.0", "127.0.0.1"], ["::", "::1"]]);

export { MAX_DATAGRAM_IPV4, MAX_DATAGRAM_IPV6 } from "./_datagram_send.ts";

const UNSTABLE_HINT = "Deno.listenDatagram is missing: UDP and Unix datagram sockets need " +
  'Deno\'s --unstable-net flag, or "unstable": ["net"] in deno.json';

/**
 * A UDP or Unix datagram socket (Python's `socket(AF_INET, SOCK_DGRAM)`).
 *
 * `bind`, `close`, the name and option calls are synchronous; everything
 * that waits on the network returns a Promise. `sendto` binds an unbound
 * socket to a free port first, as the kernel does, so a client can send and
 * then receive the replies on the same port.
 *
 * Differences from Python, each forced by Deno: `connect()` filters in
 * pysock rather than in the kernel (see {@linkcode DatagramSocket.connect});
 * `SO_BROADCAST` is always on; multicast options are applied through Deno's
 * group membership (see {@linkcode DatagramSocket.setsockopt}); an unbound
 * Unix sender shows as `""` where Python gives `None`.
 *
 * @example Python's UDP server loop, line for line
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
 *
 * await using server = socket(AF_INET, SOCK_DGRAM);
 * server.bind(["127.0.0.1", 0]);
 * await using client = socket(AF_INET, SOCK_DGRAM);
 * client.settimeout(5);
 * await client.sendto("hello", server.getsockname());
 *
 * const [data, addr] = await server.recvfrom(1024);
 * await server.sendto(new TextDecoder().decode(data).toUpperCase(), addr);
 * const [reply] = await client.recvfrom(1024);
 * assert.equal(new TextDecoder().decode(reply), "HELLO");
 * ```
 */
export class DatagramSocket extends SocketBase {
  #conn: Deno.DatagramConn | null = null;
  /** The receive side (see _datagram_receiver.ts); made when the socket is bound. */
  #receiver: DatagramReceiver | null = null;
  // A selector waiting to read from this socket before it was bound: told
  // when bind() or a first sendto gives it a receiver.
  #bindWatcher: Watcher | null = null;
  #options: DatagramOptions = new DatagramOptions(this.family);
  // The connected peer: where send() goes, and what getpeername() returns.
  #peer: Deno.Addr | null = null;
  #peerAddress: Address | null = null;
  // The last sendto destination, so a reply loop does not re-check its address.
  #lastHost: unknown = null;
  #lastPort: unknown = null;
  #lastTarget: Deno.Addr | null = null;

  /**
   * Not for direct use: call `socket(family, SOCK_DGRAM)`.
   *
   * @param family `AF_INET`, `AF_INET6` or `AF_UNIX`.
   * @param type `SOCK_DGRAM`.
   * @param proto 0, or `IPPROTO_UDP` for the IP families (1 for `AF_UNIX`).
   * @throws {OSError} `ENOSYS` when Deno runs without `--unstable-net`;
   *   `EAFNOSUPPORT`/`EPROTONOSUPPORT`/`ESOCKTNOSUPPORT` for other arguments.
   */
  constructor(family: number, type: number, proto: number) {
    super(family, type, proto);
    if (!isKnownFamily(family)) {
      throw new OSError(errno.EAFNOSUPPORT, {
        detail: `family ${family}; Deno supports AF_INET, AF_INET6 and AF_UNIX`,
      });
    }
    if (type !== SOCK_DGRAM) {
      throw new OSError(errno.ESOCKTNOSUPPORT, { detail: "a DatagramSocket is SOCK_DGRAM" });
    }
    // Linux takes PF_UNIX (1) as a Unix socket's protocol, as it does 0.
    if (proto !== 0 && proto !== (family === AF_UNIX ? AF_UNIX : IPPROTO_UDP)) {
      throw new OSError(errno.EPROTONOSUPPORT, { detail: `protocol ${proto} with SOCK_DGRAM` });
    }
    if (typeof Deno.listenDatagram !== "function") {
      throw new OSError(errno.ENOSYS, { detail: UNSTABLE_HINT });
    }
  }

  /**
   * Binds the socket to `addr` now.
   *
   * @param addr `[host, port]` (`""` is every interface, port 0 picks a free
   *   port), or a filesystem path for `AF_UNIX`.
   * @throws {OSError} `EADDRINUSE` for an address in use, `EINVAL` when
   *   already bound (also by an earlier `sendto`/`connect`).
   * @throws {TypeError|RangeError} for a malformed address, before any I/O.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * assert.ok((s.getsockname()[1] as number) > 0);
   * ```
   */
  bind(addr: AddressInput): void {
    const endpoint = checkSocketAddress(addr, this.family, "bind");
    this.checkOpen();
    if (this.#conn !== null) throw new OSError(errno.EINVAL);
    // Deno's own lookup of "localhost" takes its first address, of either
    // family; bind it where sendto and connect send it.
    this.#open(typeof endpoint === "string" ? endpoint : specialEndpoint(endpoint, this.family));
  }

  /**
   * Sends one datagram to `addr`, binding an unbound socket to a free port
   * first. Host names are resolved with the system resolver. The socket's
   * timeout does not apply: a UDP send does not wait for the peer. A Unix
   * datagram send waits while the receiver's queue is full, and neither the
   * timeout nor non-blocking mode ends that wait (Deno's send cannot be
   * tried without waiting, nor cancelled), where Python raises.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @param addr `[host, port]` (`"<broadcast>"` is 255.255.255.255), or a path for `AF_UNIX`.
   * @returns The number of bytes sent: all of them.
   * @throws {OSError} `EMSGSIZE` for more than 65507 bytes over IPv4 (65527
   *   over IPv6), before any I/O; `EBADF` once closed.
   * @throws {PermissionError} naming the `--allow-net=host:port` to add.
   * @throws {gaierror} for a host that does not resolve in this family.
   * @throws {BlockingIOError} on an `AF_UNIX` socket while a receive waits
   *   on it (also one kept after a timeout): Deno's Unix datagram socket
   *   runs one operation at a time.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using receiver = socket(AF_INET, SOCK_DGRAM);
   * receiver.bind(["127.0.0.1", 0]);
   * await using sender = socket(AF_INET, SOCK_DGRAM);
   * assert.equal(await sender.sendto(new Uint8Array([1, 2, 3]), receiver.getsockname()), 3);
   * const [data] = await receiver.recvfrom(16);
   * assert.deepEqual(data, new Uint8Array([1, 2, 3]));
   * ```
   */
  sendto(data: Uint8Array | string, addr: AddressInput): Promise<number>;
  /**
   * Python's `sendto(data, flags, address)`.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @param flags 0, `MSG_DONTWAIT` or `MSG_NOSIGNAL` (a UDP send never
   *   waits, and Deno never raises SIGPIPE); any other flag fails with
   *   `EOPNOTSUPP` naming it.
   * @param addr Where to send it.
   * @returns The number of bytes sent.
   */
  sendto(data: Uint8Array | string, flags: number, addr: AddressInput): Promise<number>;
  sendto(
    data: Uint8Array | string,
    flagsOrAddr: number | AddressInput,
    address?: AddressInput,
  ): Promise<number> {
    // Not async: the hot path (a destination seen before) adds no promise of its own.
    try {
      // The arguments first, then EBADF, as CPython checks them.
      const bytes = toBytes(data, "sendto");
      let addr = flagsOrAddr as AddressInput;
      // sendto(data, flags, address); a number alone is a malformed address.
      if (typeof flagsOrAddr === "number" && address !== undefined) {
        checkFlags(flagsOrAddr, SEND, "sendto");
        addr = address as AddressInput;
      }
      const target = this.#cachedTarget(addr);
      if (target === null) {
        const endpoint = checkSocketAddress(addr, this.family, "sendto");
        this.checkOpen();
        // A close() during the name lookup ends the call: the send would
        // otherwise bind a new socket for it.
        return this.#target(addr, endpoint).then((found) => {
          this.checkOpen();
          return this.#send(bytes, found);
        });
      }
      this.checkOpen();
      return this.#send(bytes, target);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sends one datagram to the peer set by {@linkcode DatagramSocket.connect}.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @param flags As for {@linkcode DatagramSocket.sendto}.
   * @returns The number of bytes sent.
   * @throws {OSError} `EDESTADDRREQ` when not connected (`ENOTCONN` on
   *   `AF_UNIX`, as Linux says).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using server = socket(AF_INET, SOCK_DGRAM);
   * server.bind(["127.0.0.1", 0]);
   * await using client = socket(AF_INET, SOCK_DGRAM);
   * await client.connect(server.getsockname());
   * assert.equal(await client.send("hi"), 2);
   * const [data] = await server.recvfrom(16);
   * assert.equal(new TextDecoder().decode(data), "hi");
   * ```
   */
  send(data: Uint8Array | string, flags = 0): Promise<number> {
    try {
      const bytes = toBytes(data, "send");
      checkFlags(flags, SEND, "send");
      this.checkOpen();
      if (this.#peer === null) {
        // Linux's Unix datagram send says ENOTCONN where UDP says EDESTADDRREQ.
        throw new OSError(this.family === AF_UNIX ? errno.ENOTCONN : errno.EDESTADDRREQ);
      }
      return this.#send(bytes, this.#peer);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Receives one datagram: at most `bufsize` bytes of it (the rest is
   * dropped, as on Linux) and the sender's address. The array is the
   * caller's own: pysock never writes to it again. (A small one may be a
   * view into a block shared with other received datagrams, as the stream
   * socket's arrays are; copy it with `slice()` to keep it apart.)
   *
   * @param bufsize The most bytes to return.
   * @param flags `MSG_PEEK` (the next call returns the same datagram),
   *   `MSG_DONTWAIT` (non-blocking for this call), `MSG_TRUNC` (the array
   *   has the datagram's real length; the bytes past `bufsize` are zeros),
   *   `MSG_WAITALL` (no effect on a datagram, as on Linux), or 0; any other
   *   flag fails with `EOPNOTSUPP` naming it.
   * @param options `signal`: aborting it ends the wait as a timeout does.
   * @returns The datagram and the sender's address.
   * @throws {TimeoutError} past the timeout; the datagram that arrives later
   *   is returned by the next call.
   * @throws {BlockingIOError} when non-blocking and nothing is waiting.
   * @throws {OSError} `EBADF` once closed, also for a call that was waiting.
   * @throws {RangeError} for a negative size; {TypeError} for a non-integer.
   *
   * @example A datagram longer than bufsize is cut
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.sendto("0123456789", s.getsockname());
   * await s.sendto("abc", s.getsockname());
   * const [first] = await s.recvfrom(4);
   * const [second] = await s.recvfrom(4);
   * assert.equal(new TextDecoder().decode(first), "0123");
   * assert.equal(new TextDecoder().decode(second), "abc");
   * ```
   */
  recvfrom(bufsize: number, flags = 0, options?: AbortOptions): Promise<[Uint8Array, Address]> {
    try {
      checkSize(bufsize, "recvfrom", "bufsize");
      return this.#receiveFrom(bufsize, null, flags, options, "recvfrom") as Promise<
        [Uint8Array, Address]
      >;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Receives one datagram into `buf` (at most `nbytes` of it, default the
   * whole buffer; the rest of a longer datagram is dropped).
   *
   * @param buf The array to fill.
   * @param nbytes The most bytes to write; 0 means `buf.length`.
   * @param flags As for {@linkcode DatagramSocket.recvfrom}; with
   *   `MSG_TRUNC` the count is the datagram's real length, as on Linux.
   * @param options `signal`, as for {@linkcode DatagramSocket.recvfrom}.
   * @returns The count written and the sender's address.
   * @throws {RangeError} when `nbytes` exceeds `buf.length` or is negative.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.sendto("hello", s.getsockname());
   * const buf = new Uint8Array(16);
   * const [n, addr] = await s.recvfromInto(buf);
   * assert.equal(n, 5);
   * assert.equal(new TextDecoder().decode(buf.subarray(0, n)), "hello");
   * assert.deepEqual(addr, s.getsockname());
   * ```
   */
  recvfromInto(
    buf: Uint8Array,
    nbytes = 0,
    flags = 0,
    options?: AbortOptions,
  ): Promise<[number, Address]> {
    try {
      const target = checkInto(buf, nbytes, "recvfromInto");
      return this.#receiveFrom(target.length, target, flags, options, "recvfromInto") as Promise<
        [number, Address]
      >;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Receives one datagram, without its address: what Python's `recv` gives
   * on a datagram socket (usually a connected one).
   *
   * @param bufsize The most bytes to return. 0 returns an empty array at
   *   once and consumes no datagram, as CPython's `recv(0)` does (which
   *   never calls the kernel; `recvfrom(0)` and `recvmsg(0)` consume one).
   * @param flags As for {@linkcode DatagramSocket.recvfrom}.
   * @param options `signal`, as for {@linkcode DatagramSocket.recvfrom}.
   * @returns The datagram, cut to `bufsize`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.connect(s.getsockname());
   * await s.send("self");
   * assert.equal(new TextDecoder().decode(await s.recv(1024)), "self");
   * ```
   */
  async recv(bufsize: number, flags = 0, options?: AbortOptions): Promise<Uint8Array> {
    checkSize(bufsize, "recv", "bufsize");
    if (bufsize === 0) return this.#receiveNothing(flags, options, "recv");
    return (await this.#receiveFrom(bufsize, null, flags, options, "recv"))[0] as Uint8Array;
  }

  /**
   * Receives one datagram into `buf`, without its address.
   *
   * @param buf The array to fill; an empty one returns 0 at once and
   *   consumes no datagram, as CPython's `recv_into` does.
   * @param nbytes The most bytes to write; 0 means `buf.length`.
   * @param flags As for {@linkcode DatagramSocket.recvfromInto}.
   * @param options `signal`, as for {@linkcode DatagramSocket.recvfrom}.
   * @returns The count written.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.sendto("abc", s.getsockname());
   * const buf = new Uint8Array(8);
   * assert.equal(await s.recvInto(buf), 3);
   * assert.equal(new TextDecoder().decode(buf.subarray(0, 3)), "abc");
   * ```
   */
  async recvInto(buf: Uint8Array, nbytes = 0, flags = 0, options?: AbortOptions): Promise<number> {
    const target = checkInto(buf, nbytes, "recvInto");
    if (target.length === 0) return this.#receiveNothing(flags, options, "recvInto").length;
    const [count] = await this.#receiveFrom(target.length, target, flags, options, "recvInto");
    return count as number;
  }

  /**
   * Python's `recvmsg`: one datagram as `[data, ancdata, msgFlags, address]`,
   * with `MSG_TRUNC` in `msgFlags` when the datagram was longer than
   * `bufsize` and was cut, so a program can tell truncation happened.
   * `ancdata` is always `[]`: Deno has no recvmsg(2), and none of the
   * options that ask for control messages can be set.
   *
   * @param bufsize The most bytes to return.
   * @param ancbufsize Room for control messages (Python's); none come.
   * @param flags As for {@linkcode DatagramSocket.recvfrom}; the data is
   *   cut to `bufsize` even with `MSG_TRUNC`, as in Python.
   * @param options `signal`, as for {@linkcode DatagramSocket.recvfrom}.
   * @returns `[data, [], msgFlags, address]`.
   *
   * @example A cut datagram says so
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, MSG_TRUNC, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.sendmsg(["0123456789"], [], 0, s.getsockname());
   * const [data, ancdata, flags, address] = await s.recvmsg(4);
   * assert.equal(new TextDecoder().decode(data), "0123");
   * assert.deepEqual([ancdata, flags, address], [[], MSG_TRUNC, s.getsockname()]);
   * ```
   */
  async recvmsg(
    bufsize: number,
    ancbufsize = 0,
    flags = 0,
    options?: AbortOptions,
  ): Promise<RecvmsgResult> {
    checkSize(bufsize, "recvmsg", "bufsize");
    checkAncbufsize(ancbufsize, "recvmsg");
    checkFlags(flags, DATAGRAM_RECV, "recvmsg");
    const [data, address, msgFlags] = await this.#receiveWith(
      bufsize,
      null,
      flags & ~MSG_TRUNC,
      options,
      "recvmsg",
    );
    return [data as Uint8Array, [], msgFlags, address];
  }

  /**
   * Python's `recvmsg_into`: one datagram written across `buffers`, filling
   * each in turn, as {@linkcode DatagramSocket.recvmsg} receives it.
   *
   * @param buffers The arrays to fill.
   * @param ancbufsize Room for control messages (Python's); none come.
   * @param flags As for {@linkcode DatagramSocket.recvmsg}, except that with
   *   `MSG_TRUNC` the count is the datagram's whole length, as in Python.
   * @param options `signal`, as for {@linkcode DatagramSocket.recvfrom}.
   * @returns `[nbytes, [], msgFlags, address]`.
   */
  async recvmsgInto(
    buffers: Iterable<Uint8Array>,
    ancbufsize = 0,
    flags = 0,
    options?: AbortOptions,
  ): Promise<RecvmsgIntoResult> {
    const targets = checkTargets(buffers, "recvmsgInto");
    checkAncbufsize(ancbufsize, "recvmsgInto");
    checkFlags(flags, DATAGRAM_RECV, "recvmsgInto");
    const one = targets.length === 1 ? targets[0] : null;
    // With MSG_TRUNC the count is the datagram's whole length, as CPython's
    // recvmsg_into returns what the kernel does; the buffers hold what fits.
    const [got, address, msgFlags] = await this.#receiveWith(
      roomOf(targets),
      one,
      flags,
      options,
      "recvmsgInto",
    );
    const n = typeof got === "number" ? got : scatter(got, targets);
    return [n, [], msgFlags, address];
  }

  /**
   * Python's `sendmsg`: `buffers` joined, sent as one datagram to `address`
   * (or the peer of `connect()`). `ancdata` must be empty: Deno has no
   * sendmsg(2) to pass control messages with.
   *
   * @param buffers Byte arrays (or strings, sent as UTF-8).
   * @param ancdata Control messages: only `[]`.
   * @param flags As for {@linkcode DatagramSocket.sendto}.
   * @param address Where to send; the connected peer when omitted.
   * @returns The number of bytes sent.
   * @throws {OSError} `EOPNOTSUPP` naming a control message in `ancdata`;
   *   `EDESTADDRREQ` (`ENOTCONN` on `AF_UNIX`) with no address on an
   *   unconnected socket.
   */
  sendmsg(
    buffers: Iterable<Uint8Array | string>,
    ancdata?: Iterable<AncillaryItem>,
    flags = 0,
    address?: AddressInput | null,
  ): Promise<number> {
    try {
      const data = gather(buffers, "sendmsg");
      checkAncdata(ancdata, "sendmsg");
      // Checked here too, so that the errors name sendmsg, not send or sendto.
      checkFlags(flags, SEND, "sendmsg");
      if (address === undefined || address === null) return this.send(data, flags);
      checkSocketAddress(address, this.family, "sendmsg");
      return this.sendto(data, flags, address);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sets the default peer: `send` and `recv` then use it, and datagrams from
   * any other sender are not delivered.
   *
   * Deno has no connected UDP, so pysock filters: datagrams from other
   * senders are read and dropped by the receive calls, the kernel does not
   * refuse them, and an ICMP "port unreachable" from the peer is not
   * reported as `ConnectionRefusedError` as it would be on Linux. An
   * unbound socket is bound first: to the loopback address when the peer is
   * on loopback (as the kernel's source address choice would give), to
   * every interface otherwise. For an IP literal the peer is set before this
   * returns; a host name is resolved first.
   *
   * @param addr `[host, port]`, or a path for `AF_UNIX`.
   * @throws {gaierror} when the host does not resolve in this family.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using server = socket(AF_INET, SOCK_DGRAM);
   * server.bind(["127.0.0.1", 0]);
   * await using client = socket(AF_INET, SOCK_DGRAM);
   * await client.connect(server.getsockname());
   * assert.deepEqual(client.getpeername(), server.getsockname());
   * ```
   */
  connect(addr: AddressInput): Promise<void> {
    try {
      const endpoint = checkSocketAddress(addr, this.family, "connect");
      this.checkOpen();
      if (typeof endpoint === "string") {
        this.#setPeer({ transport: "unixpacket", path: endpoint }, endpoint);
        return Promise.resolve();
      }
      if (literalFamily(endpoint.hostname) === AF_UNSPEC) return this.#connectByName(endpoint);
      // Linux connects a datagram socket to the wildcard address as to loopback.
      const hostname = WILDCARD_PEER.get(endpoint.hostname) ?? endpoint.hostname;
      this.#setPeer({ transport: "udp", hostname, port: endpoint.port }, hostname);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The address given to `connect`, in this family's form.
   *
   * @throws {OSError} `ENOTCONN` when not connected, or connected to port 0
   *   (Linux names no peer then, and takes datagrams from any port of the host).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, errno, OSError, SOCK_DGRAM, socket } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * assert.throws(() => s.getpeername(), (err) => err instanceof OSError && err.errno === errno.ENOTCONN);
   * ```
   */
  getpeername(): Address {
    this.checkOpen();
    const peer = this.#peerAddress;
    // Linux: a socket connected to port 0 has no peer to name.
    if (peer === null || (typeof peer !== "string" && peer[1] === 0)) {
      throw new OSError(errno.ENOTCONN);
    }
    return typeof peer === "string" ? peer : [...peer] as Address;
  }

  /**
   * The socket's own address: the real port after binding to port 0;
   * `["0.0.0.0", 0]` (`["::", 0, 0, 0]`, or `""` for `AF_UNIX`) while unbound.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * assert.deepEqual(s.getsockname(), ["0.0.0.0", 0]);
   * ```
   */
  getsockname(): Address {
    this.checkOpen();
    if (this.#conn !== null) return fromDenoAddr(this.#conn.addr, this.family);
    return unboundAddress(this.family);
  }

  /**
   * Sets an option; anything Deno cannot honour fails with `ENOPROTOOPT`
   * naming the option, never a silent no-op.
   *
   * - `SO_REUSEADDR`: before `bind` only (Deno's `reuseAddress`, applied
   *   when the socket is created); afterwards `EINVAL`. On `AF_UNIX` it is
   *   kept and read back at any time and does nothing, as on Linux.
   * - `SO_BROADCAST`: Deno turns it on for every UDP socket, so sending to a
   *   broadcast address works without it (unlike Python, where the kernel
   *   refuses with `EACCES`); `1` is accepted, `0` fails with `ENOPROTOOPT`.
   * - `IP_ADD_MEMBERSHIP`/`IP_DROP_MEMBERSHIP` (AF_INET, after `bind`): the
   *   value is Python's `struct.pack("4s4s", inet_aton(group),
   *   inet_aton(iface))` or `struct.pack("4sl", inet_aton(group),
   *   INADDR_ANY)`, see {@linkcode multicastRequest}. Deno joins
   *   asynchronously: the next call on the socket waits for the join, and
   *   a failure is reported by that call (and by `getsockopt(SO_ERROR)`).
   * - `IP_MULTICAST_LOOP`: before `bind` (Deno's `loopback` option), or once
   *   a group is joined. Defaults to 1 as on Linux (Deno's own default is 0).
   * - `IP_MULTICAST_TTL`: Deno sets it through a membership, so a value
   *   other than the current one (1 by default) needs a joined group first.
   *
   * @param level `SOL_SOCKET` or `IPPROTO_IP`.
   * @param optname The option.
   * @param value An int or boolean, or packed bytes.
   * @throws {OSError} `ENOPROTOOPT` for an option Deno cannot honour;
   *   `EINVAL` for a value the kernel would refuse.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SO_REUSEADDR, SOCK_DGRAM, socket, SOL_SOCKET } from "./mod.ts";
   * using a = socket(AF_INET, SOCK_DGRAM);
   * a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
   * a.bind(["127.0.0.1", 0]);
   * using b = socket(AF_INET, SOCK_DGRAM);
   * b.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
   * b.bind(a.getsockname()); // both on one port
   * assert.deepEqual(b.getsockname(), a.getsockname());
   * ```
   */
  setsockopt(level: number, optname: number, value: OptionValue): void {
    checkOption(level, optname, value);
    this.checkOpen();
    this.#options.set(level, optname, value);
  }

  /**
   * Reads an option: `SO_TYPE`, `SO_ERROR` (the pending error, cleared by
   * reading it), and those `setsockopt` supports.
   *
   * @param level `SOL_SOCKET` or `IPPROTO_IP`.
   * @param optname The option.
   * @returns The value as an int.
   * @throws {OSError} `ENOPROTOOPT` for an option Deno cannot report.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SO_BROADCAST, SO_TYPE, SOCK_DGRAM, socket, SOL_SOCKET } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
   * assert.equal(s.getsockopt(SOL_SOCKET, SO_BROADCAST), 1);
   * ```
   */
  getsockopt(level: number, optname: number): number;
  /**
   * `buflen` 0 reads the option as an int, as in Python.
   *
   * @param level `SOL_SOCKET` or `IPPROTO_IP`.
   * @param optname The option.
   * @param buflen 0.
   * @returns The value as an int.
   */
  getsockopt(level: number, optname: number, buflen: 0): number;
  /**
   * Reads an option as packed bytes, Python's `getsockopt(level, optname,
   * buflen)`: the native int, cut to `buflen` bytes (at most 4) as Linux
   * cuts it.
   *
   * @param level `SOL_SOCKET` or `IPPROTO_IP`.
   * @param optname The option.
   * @param buflen The most bytes to return, 0–1024.
   * @returns The value's bytes.
   * @throws {OSError} with no errno for a `buflen` outside 0–1024, as CPython.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AF_INET, SO_TYPE, SOCK_DGRAM, socket, SOL_SOCKET } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * assert.deepEqual(s.getsockopt(SOL_SOCKET, SO_TYPE, 4), new Uint8Array([2, 0, 0, 0]));
   * ```
   */
  getsockopt(level: number, optname: number, buflen: number): Uint8Array;
  getsockopt(level: number, optname: number, buflen?: number): number | Uint8Array {
    checkOption(level, optname, 0);
    if (buflen !== undefined) checkBuflen(buflen);
    this.checkOpen();
    const value = this.#options.get(level, optname);
    return buflen ? optionBytes(value, buflen) : value;
  }

  /** @ignore Internal: readiness, for selectors (see _ready.ts). */
  [kWatch](events: number, watcher: Watcher | null): number {
    if (this.closed) return CLOSED;
    const receiver = this.#receiver;
    if (receiver !== null) return receiver.ready(events, watcher);
    // Unbound: writable (a sendto binds it), nothing to receive yet.
    if (watcher !== null && (events & READ) !== 0) this.#bindWatcher = watcher;
    return events & WRITE;
  }

  /** Closes the Deno socket; a receive in flight rejects, and its caller gets `EBADF`. */
  protected onClose(): void {
    const conn = this.#conn;
    this.#conn = null;
    this.#receiver?.close();
    this.#unixSends?.close();
    this.#options.close();
    try {
      conn?.close();
    } catch { /* already closed by Deno */ }
  }

  /**
   * `recv(0)` and `recvInto` of no room: CPython's recv returns at once
   * without calling the kernel, so no datagram is consumed and the call
   * never waits (recvfrom and recvmsg do call it, and consume one).
   */
  #receiveNothing(flags: number, options: AbortOptions | undefined, action: string): Uint8Array {
    checkFlags(flags, DATAGRAM_RECV, action);
    checkSignal(options?.signal, action);
    this.checkOpen();
    return new Uint8Array(0);
  }

  /** A receive with flags or a signal: checked, then as the receiver gives it with its msg_flags. */
  #receiveWith(
    limit: number,
    into: Uint8Array | null,
    flags: number,
    options: AbortOptions | undefined,
    action: string,
  ): Promise<[Uint8Array | number, Address, number]> {
    checkFlags(flags, DATAGRAM_RECV, action);
    const signal = options?.signal;
    checkSignal(signal, action);
    return this.#receiving().receiveWith(limit, into, flags, signal);
  }

  // Every receive call, not async: a blocking recvfrom adds no promise of
  // its own (see _datagram_receiver.ts).
  #receiveFrom(
    limit: number,
    into: Uint8Array | null,
    flags: number,
    options: AbortOptions | undefined,
    action: string,
  ): Promise<Delivered> {
    if (flags === 0 && options === undefined) return this.#receiving().receive(limit, into);
    return this.#receiveWith(limit, into, flags, options, action).then(withAddress);
  }

  /** The receive side, binding the socket first when needed. */
  #receiving(): DatagramReceiver {
    this.checkOpen();
    // Linux waits on an unbound socket, and a later sendto gives it a port
    // that the same wait then receives on; binding now gives the same.
    if (this.#receiver === null) this.#autobind(null);
    return this.#receiver!;
  }

  // ---- sending ----

  /** Sends one datagram; throws (synchronously) what fails before any I/O. */
  #send(bytes: Uint8Array, target: Deno.Addr): Promise<number> {
    if (bytes.length > MAX_DATAGRAM_IPV4 && target.transport === "udp") {
      checkDatagramSize(bytes.length, target as Deno.NetAddr);
    }
    if (target.transport === "unixpacket" && this.#receiver?.receiving) throw unixBusy();
    const conn = this.#conn ?? this.#autobind(target);
    const options = this.#options;
    // A Unix path's errors need the path (Deno's names one permission of two).
    const failed = target.transport === "unixpacket"
      ? (err: unknown): never => {
        throw this.#translate(err, target);
      }
      : this.#sendFailed;
    if (options.busy) {
      return options.settle().then(() => conn.send(bytes, target)).catch(failed);
    }
    const sending = conn.send(bytes, target).catch(failed);
    if (target.transport !== "unixpacket") return sending;
    // A Unix datagram send waits while the receiver's queue is full, and
    // Deno's close() does not end it (a UDP send never waits).
    return (this.#unixSends ??= new UntilClose()).track(sending);
  }

  #unixSends: UntilClose<number> | null = null;

  // Deno's permission message quotes the host:port, so no per-call target is needed here.
  readonly #sendFailed = (err: unknown): never => {
    throw this.#translate(err);
  };

  /** The Deno address of the last `sendto` destination when `addr` is the same one. */
  #cachedTarget(addr: AddressInput): Deno.Addr | null {
    if (this.#lastTarget === null) return null;
    if (this.family === AF_UNIX) return addr === this.#lastHost ? this.#lastTarget : null;
    if (!Array.isArray(addr) || addr[0] !== this.#lastHost || addr[1] !== this.#lastPort) {
      return null;
    }
    if (addr.length === 2) return this.#lastTarget;
    // An IPv6 address as recvfrom returns it; other flowinfo/scopeId values get checked.
    const [, , flowinfo, scopeId] = addr as readonly unknown[];
    const plain = addr.length === 4 && flowinfo === 0 && scopeId === 0;
    return plain && this.family === AF_INET6 ? this.#lastTarget : null;
  }

  /** Checks `addr`, resolves a host name, and remembers the result for the next call. */
  async #target(addr: AddressInput, endpoint: IpEndpoint | string): Promise<Deno.Addr> {
    let target: Deno.Addr;
    if (typeof endpoint === "string") {
      target = { transport: "unixpacket", path: endpoint };
      this.#lastHost = addr;
    } else {
      const hostname = literalFamily(endpoint.hostname) === AF_UNSPEC
        ? (await resolveOne(endpoint.hostname, this.family)).address
        : endpoint.hostname;
      target = { transport: "udp", hostname, port: endpoint.port };
      this.#lastHost = (addr as readonly unknown[])[0];
      this.#lastPort = (addr as readonly unknown[])[1];
    }
    this.#lastTarget = target;
    return target;
  }

  // ---- binding and connecting ----

  #open(endpoint: IpEndpoint | string | null): Deno.DatagramConn {
    let conn: Deno.DatagramConn;
    try {
      conn = typeof endpoint === "string" || endpoint === null
        ? listenUnixDatagram(endpoint)
        : Deno.listenDatagram({
          transport: "udp",
          hostname: endpoint.hostname,
          port: endpoint.port,
          reuseAddress: this.#options.reuseAddress,
          loopback: this.#options.multicastLoop,
        });
    } catch (err) {
      throw this.#translate(err, endpoint);
    }
    const addr = conn.addr;
    if (addr.transport === "udp" && familyOfHost((addr as Deno.NetAddr).hostname) !== this.family) {
      // A host name resolved to the other family (Deno takes the first address).
      conn.close();
      throw new gaierror(EAI.EAI_ADDRFAMILY);
    }
    this.#conn = conn;
    this.#receiver = new DatagramReceiver(conn, this, this.#options);
    this.#options.attach(conn);
    const watcher = this.#bindWatcher;
    if (watcher !== null) {
      this.#bindWatcher = null;
      watcher.wake();
    }
    return conn;
  }

  /** Binds as the kernel does on a first send or receive: a free port, every interface. */
  #autobind(peer: Deno.Addr | null): Deno.DatagramConn {
    if (this.family === AF_UNIX) return this.#open(null);
    const hostname = autobindHost(this.family, peer);
    try {
      return this.#open({ hostname, port: 0 });
    } catch (err) {
      if (!(err instanceof PermissionError) || peer === null || peer.transport !== "udp") throw err;
      // Name both permissions the send needs, not just the implicit bind's,
      // so one corrected run is enough.
      const local = formatEndpoint(hostname, 0);
      const remote = formatEndpoint(peer.hostname, peer.port);
      throw new PermissionError(errno.EACCES, {
        detail: `sending from an unbound socket binds ${local} first; ` +
          `run again with --allow-net=${local},${remote}`,
        cause: err,
      });
    }
  }

  async #connectByName(endpoint: IpEndpoint): Promise<void> {
    const { address } = await resolveOne(endpoint.hostname, this.family);
    this.checkOpen();
    this.#setPeer({ transport: "udp", hostname: address, port: endpoint.port }, address);
  }

  /**
   * Records the peer of `connect()`. Deno cannot connect a datagram socket
   * (denoland/deno#10519, #14214), so the receiver filters other senders out.
   */
  #setPeer(peer: Deno.Addr, host: string): void {
    if (this.#conn === null) this.#autobind(peer);
    if (peer.transport === "unixpacket") {
      this.#peerAddress = host;
    } else {
      const { port } = peer as Deno.NetAddr;
      host = normalizeIpv6(host);
      this.#peerAddress = this.family === AF_INET6 ? [host, port, 0, 0] : [host, port];
    }
    this.#receiver!.connect(peer, host);
    this.#peer = peer;
  }

  #translate(err: unknown, endpoint?: IpEndpoint | Deno.Addr | string | null): unknown {
    if (err instanceof OSError) return err;
    if (this.closed) return new OSError(errno.EBADF, { cause: err });
    // A Unix bind needs the three permissions a stream socket's does.
    if (typeof endpoint === "string") return endpointError(err, endpoint);
    if (endpoint && "transport" in endpoint && endpoint.transport === "unixpacket") {
      return endpointError(err, endpoint.path ?? "", true);
    }
    return fromDenoError(err, describeEndpoint(endpoint));
  }
}

/** A receive's `[data, address]`, without the msg_flags recvmsg also gives. */
function withAddress<T>([data, address]: [T, Address, number]): [T, Address] {
  return [data, address];
}
