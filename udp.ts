/**
 * The datagram socket: UDP over IPv4 and IPv6, and Unix datagram sockets,
 * as `socket(AF_INET, SOCK_DGRAM)` returns them.
 *
 * Built on `Deno.listenDatagram`, which needs Deno's `--unstable-net` flag
 * (or `"unstable": ["net"]` in deno.json). Where Deno differs from the
 * kernel, pysock says so instead of pretending:
 *
 * - Deno has no connected UDP. `connect()` records a default peer; `send`
 *   and `recv` use it, and datagrams from any other sender are dropped
 *   (read and discarded), as a connected Linux socket would never see them.
 *   An ICMP "port unreachable" is not reported as `ConnectionRefusedError`.
 * - A datagram longer than the receive size is cut to it and the rest
 *   dropped, as on Linux; the next datagram arrives whole.
 * - A receive that times out is kept: the datagram it brings is returned
 *   by the next call, never lost and never returned twice. While kept it
 *   does not keep the process alive.
 * - Deno's Unix datagram socket runs one operation at a time: on `AF_UNIX`
 *   a send while a receive waits on the same socket fails with
 *   `BlockingIOError` saying so (UDP has no such limit).
 * - `SO_BROADCAST` is always on (Deno sets it on every UDP socket), and
 *   multicast options go through Deno's group membership; see
 *   {@linkcode DatagramSocket.setsockopt}.
 *
 * @example A UDP echo on loopback
 * ```ts
 * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
 *
 * await using server = socket(AF_INET, SOCK_DGRAM);
 * server.bind(["127.0.0.1", 0]);
 * await using client = socket(AF_INET, SOCK_DGRAM);
 * await client.sendto("ping", server.getsockname());
 *
 * const [data, addr] = await server.recvfrom(1024);
 * await server.sendto(data, addr);
 * const [reply] = await client.recvfrom(1024);
 * console.assert(new TextDecoder().decode(reply) === "ping");
 * ```
 *
 * @module
 */

import {
  type Address,
  type AddressInput,
  checkIpAddress,
  checkUnixPath,
  describe,
  formatEndpoint,
  fromDenoAddr,
  type IpEndpoint,
  isKnownFamily,
} from "./_address.ts";
import {
  checkInto,
  checkOption,
  checkSize,
  optionInt,
  type OptionValue,
  SocketBase,
  unboundAddress,
  unsupportedOption,
  waitFor,
} from "./_base.ts";
import { toBytes } from "./_bytes.ts";
import { optionName } from "./_option_names.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AF_UNSPEC,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IPPROTO_IP,
  IPPROTO_UDP,
  SO_BROADCAST,
  SO_ERROR,
  SO_REUSEADDR,
  SO_TYPE,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "./_constants.ts";
import { literalFamily, resolveOne } from "./_resolve.ts";
// Type only: socket.ts imports this module, and the type is erased at run time.
import {
  BlockingIOError,
  EAI,
  errno,
  fromDenoError,
  gaierror,
  OSError,
  PermissionError,
  TimeoutError,
} from "./errors.ts";

/** Largest UDP payload over IPv4: 65535 minus the 20-byte IP and 8-byte UDP headers. */
export const MAX_DATAGRAM_IPV4 = 65507;
/** Largest UDP payload over IPv6 (no jumbograms): 65535 minus the 8-byte UDP header. */
export const MAX_DATAGRAM_IPV6 = 65527;

type Received = [Uint8Array, Deno.Addr];
type Membership = Deno.MulticastV4Membership;

/** Large enough for any UDP datagram, so the kernel never truncates one we then cut again. */
const RECEIVE_BUFFER_SIZE = 65536;
/** Datagrams up to this size are copied into a shared block instead of an ArrayBuffer each. */
const SLAB_PIECE_MAX = 1024;
const SLAB_SIZE = 16384;
const UNSTABLE_HINT = "Deno.listenDatagram is missing: UDP and Unix datagram sockets need " +
  'Deno\'s --unstable-net flag, or "unstable": ["net"] in deno.json';

function ignore(): void {}

/** Deno's DatagramConn has `ref`/`unref` (for its receive in flight) that its types omit. */
type Referable = { ref?(): void; unref?(): void };

function ref(conn: Deno.DatagramConn): void {
  (conn as Referable).ref?.();
}

function unref(conn: Deno.DatagramConn): void {
  (conn as Referable).unref?.();
}

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
 * console.assert(new TextDecoder().decode(reply) === "HELLO");
 * ```
 */
export class DatagramSocket extends SocketBase {
  #conn: Deno.DatagramConn | null = null;
  /** The one receive buffer: every `conn.receive` lands here, then is copied out. */
  #buffer: Uint8Array | null = null;
  /** The receive in flight into `#buffer`; kept across timeouts. */
  #pending: Promise<Received> | null = null;
  // The receive a hot-path call waits for (see #receive), and what that call asked for.
  #fast: Promise<Received> | null = null;
  #fastLimit = 0;
  #fastInto: Uint8Array | null = null;
  /** How many calls await the receive in flight. */
  #waiters = 0;
  /** Whether the receive in flight is unreferenced (kept after a timeout, nobody waiting). */
  #sleeping = false;
  /** The block small received datagrams are copied into (see #copy). */
  #slab: Uint8Array | null = null;
  #slabOffset = 0;
  #peer: Deno.Addr | null = null;
  #peerHost = "";
  #peerAddress: Address | null = null;
  // The last sendto destination, so a reply loop does not re-check its address.
  #lastHost: unknown = null;
  #lastPort: unknown = null;
  #lastTarget: Deno.Addr | null = null;
  #reuseAddress = false;
  #multicastLoop = true;
  #multicastTtl = 1;
  #groups = new Map<string, Promise<Membership>>();
  #membership: Promise<Membership> | null = null;
  /** Option calls Deno runs asynchronously; the next I/O call waits for them. */
  #optionOp: Promise<void> | null = null;
  /** The pending socket error (`SO_ERROR`), reported by the next call. */
  #error: OSError | null = null;

  /**
   * Not for direct use: call `socket(family, SOCK_DGRAM)`.
   *
   * @param family `AF_INET`, `AF_INET6` or `AF_UNIX`.
   * @param type `SOCK_DGRAM`.
   * @param proto 0, or `IPPROTO_UDP` for the IP families.
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
    if (proto !== 0 && (family === AF_UNIX || proto !== IPPROTO_UDP)) {
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
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * console.assert((s.getsockname()[1] as number) > 0);
   * ```
   */
  bind(addr: AddressInput): void {
    const endpoint = this.#checkAddress(addr, "bind");
    this.checkOpen();
    if (this.#conn !== null) throw new OSError(errno.EINVAL);
    this.#open(endpoint);
  }

  /**
   * Sends one datagram to `addr`, binding an unbound socket to a free port
   * first. Host names are resolved with the system resolver. The socket's
   * timeout does not apply: a UDP send does not wait for the peer.
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
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using receiver = socket(AF_INET, SOCK_DGRAM);
   * receiver.bind(["127.0.0.1", 0]);
   * await using sender = socket(AF_INET, SOCK_DGRAM);
   * console.assert(await sender.sendto(new Uint8Array([1, 2, 3]), receiver.getsockname()) === 3);
   * ```
   */
  sendto(data: Uint8Array | string, addr: AddressInput): Promise<number> {
    // Not async: the hot path (a destination seen before) adds no promise of its own.
    try {
      this.checkOpen();
      const bytes = toBytes(data, "sendto");
      const target = this.#cachedTarget(addr);
      if (target === null) return this.#target(addr).then((found) => this.#send(bytes, found));
      return this.#send(bytes, target);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sends one datagram to the peer set by {@linkcode DatagramSocket.connect}.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @returns The number of bytes sent.
   * @throws {OSError} `EDESTADDRREQ` when not connected.
   *
   * @example
   * ```ts
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using server = socket(AF_INET, SOCK_DGRAM);
   * server.bind(["127.0.0.1", 0]);
   * await using client = socket(AF_INET, SOCK_DGRAM);
   * await client.connect(server.getsockname());
   * console.assert(await client.send("hi") === 2);
   * ```
   */
  send(data: Uint8Array | string): Promise<number> {
    try {
      this.checkOpen();
      const bytes = toBytes(data, "send");
      if (this.#peer === null) throw new OSError(errno.EDESTADDRREQ);
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
   * @returns The datagram and the sender's address.
   * @throws {TimeoutError} past the timeout; the datagram that arrives later
   *   is returned by the next call.
   * @throws {BlockingIOError} when non-blocking and nothing is waiting.
   * @throws {OSError} `EBADF` once closed, also for a call that was waiting.
   * @throws {RangeError} for a negative size; {TypeError} for a non-integer.
   *
   * @example A datagram longer than bufsize is cut
   * ```ts
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.sendto("0123456789", s.getsockname());
   * await s.sendto("abc", s.getsockname());
   * const [first] = await s.recvfrom(4);
   * const [second] = await s.recvfrom(4);
   * console.assert(new TextDecoder().decode(first) === "0123");
   * console.assert(new TextDecoder().decode(second) === "abc");
   * ```
   */
  recvfrom(bufsize: number): Promise<[Uint8Array, Address]> {
    try {
      checkSize(bufsize, "recvfrom", "bufsize");
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#receive(bufsize, null) as Promise<[Uint8Array, Address]>;
  }

  /**
   * Receives one datagram into `buf` (at most `nbytes` of it, default the
   * whole buffer; the rest of a longer datagram is dropped).
   *
   * @param buf The array to fill.
   * @param nbytes The most bytes to write; 0 means `buf.length`.
   * @returns The count written and the sender's address.
   * @throws {RangeError} when `nbytes` exceeds `buf.length` or is negative.
   *
   * @example
   * ```ts
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.sendto("hello", s.getsockname());
   * const buf = new Uint8Array(16);
   * const [n, addr] = await s.recvfromInto(buf);
   * console.assert(n === 5 && addr[0] === "127.0.0.1");
   * ```
   */
  async recvfromInto(buf: Uint8Array, nbytes = 0): Promise<[number, Address]> {
    const target = checkInto(buf, nbytes, "recvfromInto");
    return await this.#receive(target.length, target) as [number, Address];
  }

  /**
   * Receives one datagram, without its address: what Python's `recv` gives
   * on a datagram socket (usually a connected one).
   *
   * @param bufsize The most bytes to return.
   * @returns The datagram, cut to `bufsize`.
   *
   * @example
   * ```ts
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.connect(s.getsockname());
   * await s.send("self");
   * console.assert(new TextDecoder().decode(await s.recv(1024)) === "self");
   * ```
   */
  async recv(bufsize: number): Promise<Uint8Array> {
    checkSize(bufsize, "recv", "bufsize");
    const [data] = await this.#receive(bufsize, null);
    return data as Uint8Array;
  }

  /**
   * Receives one datagram into `buf`, without its address.
   *
   * @param buf The array to fill.
   * @param nbytes The most bytes to write; 0 means `buf.length`.
   * @returns The count written.
   *
   * @example
   * ```ts
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using s = socket(AF_INET, SOCK_DGRAM);
   * s.bind(["127.0.0.1", 0]);
   * await s.sendto("abc", s.getsockname());
   * console.assert(await s.recvInto(new Uint8Array(8)) === 3);
   * ```
   */
  async recvInto(buf: Uint8Array, nbytes = 0): Promise<number> {
    const target = checkInto(buf, nbytes, "recvInto");
    const [count] = await this.#receive(target.length, target);
    return count as number;
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
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * await using server = socket(AF_INET, SOCK_DGRAM);
   * server.bind(["127.0.0.1", 0]);
   * await using client = socket(AF_INET, SOCK_DGRAM);
   * await client.connect(server.getsockname());
   * console.assert(JSON.stringify(client.getpeername()) === JSON.stringify(server.getsockname()));
   * ```
   */
  connect(addr: AddressInput): Promise<void> {
    try {
      const endpoint = this.#checkAddress(addr, "connect");
      this.checkOpen();
      if (typeof endpoint === "string") {
        this.#setPeer({ transport: "unixpacket", path: endpoint }, endpoint);
        return Promise.resolve();
      }
      if (literalFamily(endpoint.hostname) === AF_UNSPEC) return this.#connectByName(endpoint);
      this.#setPeer({ transport: "udp", ...endpoint }, endpoint.hostname);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The address given to `connect`, in this family's form.
   *
   * @throws {OSError} `ENOTCONN` when not connected.
   *
   * @example
   * ```ts
   * import { AF_INET, errno, OSError, SOCK_DGRAM, socket } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * try {
   *   s.getpeername();
   * } catch (err) {
   *   console.assert(err instanceof OSError && err.errno === errno.ENOTCONN);
   * }
   * ```
   */
  getpeername(): Address {
    this.checkOpen();
    if (this.#peerAddress === null) throw new OSError(errno.ENOTCONN);
    const peer = this.#peerAddress;
    return typeof peer === "string" ? peer : [...peer] as Address;
  }

  /**
   * The socket's own address: the real port after binding to port 0;
   * `["0.0.0.0", 0]` (`["::", 0, 0, 0]`, or `""` for `AF_UNIX`) while unbound.
   *
   * @example
   * ```ts
   * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * console.assert(JSON.stringify(s.getsockname()) === '["0.0.0.0",0]');
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
   *   when the socket is created); afterwards `EINVAL`.
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
   * import { AF_INET, SO_REUSEADDR, SOCK_DGRAM, socket, SOL_SOCKET } from "./mod.ts";
   * using a = socket(AF_INET, SOCK_DGRAM);
   * a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
   * a.bind(["127.0.0.1", 0]);
   * using b = socket(AF_INET, SOCK_DGRAM);
   * b.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
   * b.bind(a.getsockname()); // both on one port
   * ```
   */
  setsockopt(level: number, optname: number, value: OptionValue): void {
    checkOption(level, optname, value);
    this.checkOpen();
    const ip = this.family !== AF_UNIX;
    if (level === SOL_SOCKET && optname === SO_REUSEADDR && ip) {
      return this.#setReuseAddress(optionInt(value, level, optname));
    }
    if (level === SOL_SOCKET && optname === SO_BROADCAST && ip) {
      return setBroadcast(optionInt(value, level, optname));
    }
    if (level === IPPROTO_IP && this.family === AF_INET) {
      if (optname === IP_ADD_MEMBERSHIP) return this.#join(parseMembership(value, optname));
      if (optname === IP_DROP_MEMBERSHIP) return this.#leave(parseMembership(value, optname));
      if (optname === IP_MULTICAST_LOOP) {
        return this.#setMulticastLoop(optionInt(value, level, optname, true) !== 0);
      }
      if (optname === IP_MULTICAST_TTL) {
        return this.#setMulticastTtl(optionInt(value, level, optname, true));
      }
    }
    throw unsupportedOption(level, optname, "set");
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
   * import { AF_INET, SO_BROADCAST, SO_TYPE, SOCK_DGRAM, socket, SOL_SOCKET } from "./mod.ts";
   * using s = socket(AF_INET, SOCK_DGRAM);
   * console.assert(s.getsockopt(SOL_SOCKET, SO_TYPE) === SOCK_DGRAM);
   * console.assert(s.getsockopt(SOL_SOCKET, SO_BROADCAST) === 1);
   * ```
   */
  getsockopt(level: number, optname: number): number {
    checkOption(level, optname, 0);
    this.checkOpen();
    const ip = this.family !== AF_UNIX;
    if (level === SOL_SOCKET) {
      if (optname === SO_TYPE) return this.type;
      if (optname === SO_ERROR) return this.#takeError()?.errno ?? 0;
      if (optname === SO_REUSEADDR && ip) return this.#reuseAddress ? 1 : 0;
      if (optname === SO_BROADCAST && ip) return 1;
    }
    if (level === IPPROTO_IP && this.family === AF_INET) {
      if (optname === IP_MULTICAST_LOOP) return this.#multicastLoop ? 1 : 0;
      if (optname === IP_MULTICAST_TTL) return this.#multicastTtl;
    }
    throw unsupportedOption(level, optname, "get");
  }

  /** Closes the Deno socket; a receive in flight rejects, and its caller gets `EBADF`. */
  protected onClose(): void {
    const conn = this.#conn;
    this.#conn = null;
    this.#pending = null;
    this.#groups.clear();
    this.#membership = null;
    this.#optionOp = null;
    try {
      conn?.close();
    } catch { /* already closed by Deno */ }
  }

  // ---- receiving ----

  /**
   * Every receive call comes here. The datagram lands in the shared buffer;
   * whoever clears `#pending` copies it out before yielding, so a later
   * receive into the same buffer cannot overwrite it unseen.
   */
  #receive(limit: number, into: Uint8Array | null): Promise<[Uint8Array | number, Address]> {
    let conn: Deno.DatagramConn;
    try {
      conn = this.#receiveConn(limit);
    } catch (err) {
      return Promise.reject(err);
    }
    const simple = this.#fast === null && this.#peer === null && this.#optionOp === null &&
      this.#error === null && this.gettimeout() === null;
    if (!simple) return this.#receiveLoop(conn, limit, into);
    // The hot path: a blocking socket, no other hot-path call waiting. No
    // async frame and no closure of its own: the call's state is in fields.
    const pending = this.#pending ?? this.#startReceive(conn);
    this.#wait(conn);
    this.#fast = pending;
    this.#fastLimit = limit;
    this.#fastInto = into;
    return pending.then(this.#fastReceived, this.#fastFailed);
  }

  readonly #fastReceived = (
    received: Received,
  ): [Uint8Array | number, Address] | Promise<[Uint8Array | number, Address]> => {
    const pending = this.#fast;
    const into = this.#fastInto;
    this.#fast = null;
    this.#fastInto = null;
    this.#waiters--;
    if (this.closed) throw new OSError(errno.EBADF);
    // Another call awaiting the same receive took this datagram first.
    if (this.#pending !== pending) return this.#receive(this.#fastLimit, into);
    this.#pending = null;
    return this.#take(received, this.#fastLimit, into);
  };

  readonly #fastFailed = (err: unknown): never => {
    const pending = this.#fast!;
    this.#fast = null;
    this.#fastInto = null;
    this.#waiters--;
    throw this.#receiveError(err, pending);
  };

  /** The general case: timeouts, a connected peer, option calls in flight, concurrent calls. */
  async #receiveLoop(
    conn: Deno.DatagramConn,
    limit: number,
    into: Uint8Array | null,
  ): Promise<[Uint8Array | number, Address]> {
    if (this.#optionOp !== null || this.#error !== null) await this.#settleOptions();
    const timeout = this.gettimeout();
    const deadline = timeout ? performance.now() + timeout * 1000 : 0;
    for (;;) {
      const pending = this.#pending ?? this.#startReceive(conn);
      let received: Received;
      this.#wait(conn);
      try {
        received = timeout === null
          ? await pending
          : await waitFor(pending, remaining(timeout, deadline));
      } catch (err) {
        this.#waiters--;
        throw this.#receiveError(err, pending);
      }
      this.#waiters--;
      if (this.closed) throw new OSError(errno.EBADF);
      // Another call awaiting the same receive took this datagram first.
      if (this.#pending !== pending) continue;
      this.#pending = null;
      if (this.#peer !== null && !this.#fromPeer(received[1])) continue;
      return this.#take(received, limit, into);
    }
  }

  #startReceive(conn: Deno.DatagramConn): Promise<Received> {
    const pending = conn.receive(this.#buffer!);
    this.#pending = pending;
    return pending;
  }

  /** Counts a call waiting for the receive in flight, which then keeps the process alive. */
  #wait(conn: Deno.DatagramConn): void {
    this.#waiters++;
    if (!this.#sleeping) return;
    this.#sleeping = false;
    ref(conn);
  }

  /**
   * Copies the datagram out of the shared buffer: cut to `limit`, the rest
   * dropped. (Reading Deno's address objects is slow, so IPv4 reads only the
   * two fields it needs.)
   */
  #take(
    [data, source]: Received,
    limit: number,
    into: Uint8Array | null,
  ): [Uint8Array | number, Address] {
    const count = data.length < limit ? data.length : limit;
    const address = this.family === AF_INET
      ? [(source as Deno.NetAddr).hostname, (source as Deno.NetAddr).port] as Address
      : fromDenoAddr(source, this.family);
    if (into === null) return [this.#copy(data, count), address];
    into.set(count === data.length ? data : data.subarray(0, count));
    return [count, address];
  }

  /**
   * A fresh copy of `data[0..count)`. Small datagrams are carved from a block
   * shared by several of them (a view is far cheaper to make than an
   * ArrayBuffer); no byte of a block is ever handed out or written twice.
   */
  #copy(data: Uint8Array, count: number): Uint8Array {
    if (count > SLAB_PIECE_MAX) return data.slice(0, count);
    let offset = this.#slabOffset;
    if (this.#slab === null || offset + count > SLAB_SIZE) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      offset = 0;
    }
    const slab = this.#slab;
    slab.set(count === data.length ? data : data.subarray(0, count), offset);
    this.#slabOffset = offset + count;
    return slab.subarray(offset, offset + count);
  }

  /** The Deno socket to receive on, bound first when needed, and a buffer big enough. */
  #receiveConn(limit: number): Deno.DatagramConn {
    this.checkOpen();
    // Linux waits on an unbound socket, and a later sendto gives it a port
    // that the same wait then receives on; binding now gives the same.
    const conn = this.#conn ?? this.#autobind(null);
    if (this.#buffer === null) {
      this.#buffer = new Uint8Array(RECEIVE_BUFFER_SIZE);
    }
    if (limit > this.#buffer.length && this.#pending === null && this.family === AF_UNIX) {
      // Unix datagrams may exceed 64 KiB; grow while no receive is in flight.
      this.#buffer = new Uint8Array(limit);
    }
    return conn;
  }

  #receiveError(err: unknown, pending: Promise<Received>): unknown {
    if (this.closed) return new OSError(errno.EBADF, { cause: err });
    if (err instanceof OSError) {
      // Our timeout (waitFor's), not the receive's: the receive is kept for
      // the next call. Until then nobody awaits it, so its failure (close()
      // rejects it) is marked handled, and it must not keep the process alive.
      pending.catch(ignore);
      if (this.#conn !== null && this.#waiters === 0 && !this.#sleeping) {
        this.#sleeping = true;
        unref(this.#conn);
      }
      return err;
    }
    if (this.#pending === pending) this.#pending = null;
    return fromDenoError(err);
  }

  #fromPeer(source: Deno.Addr): boolean {
    const peer = this.#peer!;
    if (source.transport === "unixpacket") {
      return (source as Deno.UnixAddr).path === (peer as Deno.UnixAddr).path;
    }
    const { hostname, port } = source as Deno.NetAddr;
    if (port !== (peer as Deno.NetAddr).port) return false;
    return hostname === this.#peerHost || canonicalHost(hostname) === this.#peerHost;
  }

  // ---- sending ----

  /** Sends one datagram; throws (synchronously) what fails before any I/O. */
  #send(bytes: Uint8Array, target: Deno.Addr): Promise<number> {
    if (bytes.length > MAX_DATAGRAM_IPV4 && target.transport === "udp") {
      checkDatagramSize(bytes.length, target as Deno.NetAddr);
    }
    if (this.#pending !== null && target.transport === "unixpacket") throw unixBusy();
    const conn = this.#conn ?? this.#autobind(target);
    if (this.#optionOp !== null || this.#error !== null) {
      return this.#settleOptions().then(() => conn.send(bytes, target)).catch(this.#sendFailed);
    }
    return conn.send(bytes, target).catch(this.#sendFailed);
  }

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
  async #target(addr: AddressInput): Promise<Deno.Addr> {
    const endpoint = this.#checkAddress(addr, "sendto");
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

  #checkAddress(addr: unknown, action: string): IpEndpoint | string {
    if (this.family === AF_UNIX) return checkUnixPath(addr, action);
    const endpoint = checkIpAddress(addr, this.family, action);
    const literal = literalFamily(endpoint.hostname);
    if (literal !== AF_UNSPEC && literal !== this.family) throw new gaierror(EAI.EAI_ADDRFAMILY);
    return endpoint;
  }

  #open(endpoint: IpEndpoint | string | null): Deno.DatagramConn {
    let conn: Deno.DatagramConn;
    try {
      conn = typeof endpoint === "string" || endpoint === null
        ? Deno.listenDatagram({ transport: "unixpacket", path: endpoint ?? undefined })
        : Deno.listenDatagram({
          transport: "udp",
          hostname: endpoint.hostname,
          port: endpoint.port,
          reuseAddress: this.#reuseAddress,
          loopback: this.#multicastLoop,
        });
    } catch (err) {
      throw this.#translate(err, endpoint);
    }
    if (conn.addr.transport === "udp" && familyOf(conn.addr as Deno.NetAddr) !== this.family) {
      // A host name resolved to the other family (Deno takes the first address).
      conn.close();
      throw new gaierror(EAI.EAI_ADDRFAMILY);
    }
    this.#conn = conn;
    return conn;
  }

  /** Binds as the kernel does on a first send or receive: a free port, every interface. */
  #autobind(peer: Deno.Addr | null): Deno.DatagramConn {
    if (this.family === AF_UNIX) return this.#open(null);
    const hostname = this.family === AF_INET6
      ? (isLoopback(peer) ? "::1" : "::")
      : (isLoopback(peer) ? "127.0.0.1" : "0.0.0.0");
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

  #setPeer(peer: Deno.Addr, host: string): void {
    if (this.#conn === null) this.#autobind(peer);
    if (peer.transport === "unixpacket") {
      this.#peerHost = host;
      this.#peerAddress = host;
    } else {
      const { port } = peer as Deno.NetAddr;
      this.#peerHost = canonicalHost(host);
      this.#peerAddress = this.family === AF_INET6
        ? [this.#peerHost, port, 0, 0]
        : [this.#peerHost, port];
    }
    this.#peer = peer;
  }

  #translate(err: unknown, endpoint?: IpEndpoint | Deno.Addr | string | null): unknown {
    if (err instanceof OSError) return err;
    if (this.closed) return new OSError(errno.EBADF, { cause: err });
    return fromDenoError(err, describeEndpoint(endpoint));
  }

  // ---- options ----

  #setReuseAddress(value: number): void {
    if (this.#conn !== null) {
      throw new OSError(errno.EINVAL, {
        detail: "set SO_REUSEADDR before bind(): Deno applies it when it creates the socket",
      });
    }
    this.#reuseAddress = value !== 0;
  }

  #join(request: MembershipRequest): void {
    const conn = this.#memberConn(IP_ADD_MEMBERSHIP);
    const key = `${request.group}/${request.iface}`;
    // Linux refuses a second join of the same group on the same interface.
    if (this.#groups.has(key)) throw new OSError(errno.EADDRINUSE);
    const joining = conn.joinMulticastV4(request.group, request.iface);
    this.#groups.set(key, joining);
    this.#membership = joining;
    this.#track(joining);
  }

  #leave(request: MembershipRequest): void {
    this.#memberConn(IP_DROP_MEMBERSHIP);
    const key = `${request.group}/${request.iface}`;
    const joined = this.#groups.get(key);
    if (joined === undefined) throw new OSError(errno.EADDRNOTAVAIL);
    this.#groups.delete(key);
    this.#track(joined.then((membership) => membership.leave()));
  }

  #memberConn(optname: number): Deno.DatagramConn {
    if (this.#conn !== null) return this.#conn;
    throw new OSError(errno.EINVAL, {
      detail: `bind() before ${
        optionName(IPPROTO_IP, optname)
      }: Deno creates the UDP socket when it binds`,
    });
  }

  #setMulticastLoop(loop: boolean): void {
    if (this.#conn === null || loop === this.#multicastLoop) {
      this.#multicastLoop = loop;
      return;
    }
    const membership = this.#needMembership(IP_MULTICAST_LOOP, "set it before bind() or ");
    this.#multicastLoop = loop;
    this.#track(membership.then((m) => m.setLoopback(loop)));
  }

  #setMulticastTtl(ttl: number): void {
    // -1 restores the default, as on Linux.
    if (ttl === -1) ttl = 1;
    if (ttl < 0 || ttl > 255) {
      throw new OSError(errno.EINVAL, { detail: "IP_MULTICAST_TTL must be 0-255" });
    }
    if (ttl === this.#multicastTtl) return;
    const membership = this.#needMembership(IP_MULTICAST_TTL, "");
    this.#multicastTtl = ttl;
    this.#track(membership.then((m) => m.setTTL(ttl)));
  }

  #needMembership(optname: number, advice: string): Promise<Membership> {
    if (this.#membership !== null) return this.#membership;
    throw new OSError(errno.ENOPROTOOPT, {
      detail: `Deno sets ${
        optionName(IPPROTO_IP, optname)
      } through a multicast group membership: ${advice}join a group (IP_ADD_MEMBERSHIP) first`,
    });
  }

  /** Queues an asynchronous option call; a failure becomes the socket's pending error. */
  #track(op: Promise<unknown>): void {
    const previous = this.#optionOp;
    const tracked: Promise<void> = (previous === null ? op : previous.then(() => op)).then(
      () => {
        if (this.#optionOp === tracked) this.#optionOp = null;
      },
      (err) => {
        if (this.#optionOp === tracked) this.#optionOp = null;
        if (!this.closed) this.#error ??= this.#translate(err) as OSError;
      },
    );
    this.#optionOp = tracked;
  }

  /** Waits for option calls in flight, then reports (and clears) the pending error. */
  async #settleOptions(): Promise<void> {
    while (this.#optionOp !== null) await this.#optionOp;
    const error = this.#takeError();
    if (error !== null) throw error;
  }

  #takeError(): OSError | null {
    const error = this.#error;
    this.#error = null;
    return error;
  }
}

/**
 * Packs an `IP_ADD_MEMBERSHIP`/`IP_DROP_MEMBERSHIP` value: the 8 bytes of
 * Python's `struct.pack("4s4s", inet_aton(group), inet_aton(iface))`.
 *
 * @param group The IPv4 multicast group (224.0.0.0 to 239.255.255.255).
 * @param iface The address of the interface to join on; `"0.0.0.0"` (the
 *   default, Python's `INADDR_ANY`) lets the kernel choose by route.
 * @returns The packed request.
 * @throws {TypeError} when either is not a dotted IPv4 address.
 *
 * @example
 * ```ts
 * import { multicastRequest } from "./udp.ts";
 * const mreq = multicastRequest("239.1.2.3", "127.0.0.1");
 * console.assert(mreq.join(",") === "239,1,2,3,127,0,0,1");
 * ```
 */
export function multicastRequest(group: string, iface = "0.0.0.0"): Uint8Array {
  const out = new Uint8Array(8);
  out.set(ipv4Bytes(group, "group"), 0);
  out.set(ipv4Bytes(iface, "interface"), 4);
  return out;
}

interface MembershipRequest {
  group: string;
  iface: string;
}

/**
 * Reads `ip_mreq` (8 bytes: group, interface address) or, as Linux does
 * for 12 bytes or more, `ip_mreqn` (group, address, interface index) —
 * which is also what `struct.pack("4sl", group, INADDR_ANY)` gives on a
 * 64-bit host.
 */
function parseMembership(value: OptionValue, optname: number): MembershipRequest {
  const name = optionName(IPPROTO_IP, optname);
  if (!(value instanceof Uint8Array) || value.length < 8) {
    throw new OSError(errno.EINVAL, {
      detail: `${name} takes 8 bytes: struct.pack("4s4s", inet_aton(group), inet_aton(iface))`,
    });
  }
  if (value.length >= 12) {
    const index = new DataView(value.buffer, value.byteOffset + 8, 4).getInt32(0, true);
    if (index !== 0) {
      throw new OSError(errno.ENOPROTOOPT, {
        detail: `${name} by interface index: Deno joins by interface address only`,
      });
    }
  }
  const group = value.subarray(0, 4).join(".");
  if ((value[0] & 0xf0) !== 0xe0) {
    throw new OSError(errno.EINVAL, { detail: `${group} is not an IPv4 multicast group` });
  }
  return { group, iface: value.subarray(4, 8).join(".") };
}

function ipv4Bytes(address: string, what: string): Uint8Array {
  if (typeof address !== "string" || literalFamily(address) !== AF_INET) {
    throw new TypeError(
      `Cannot pack a multicast request: ${what} must be a dotted IPv4 address, got ${
        describe(address)
      }`,
    );
  }
  return new Uint8Array(address.split(".").map(Number));
}

function setBroadcast(value: number): void {
  // Deno calls set_broadcast(true) on every UDP socket it creates.
  if (value === 0) {
    throw new OSError(errno.ENOPROTOOPT, {
      detail: "SO_BROADCAST cannot be turned off: Deno enables it on every UDP socket",
    });
  }
}

/**
 * Deno's Unix datagram socket runs one operation at a time (its send and
 * receive ops both take the socket exclusively), so a send cannot pass a
 * receive that is waiting; say so instead of failing with a bare "Busy".
 */
function unixBusy(): BlockingIOError {
  return new BlockingIOError(errno.EAGAIN, {
    detail: "Deno cannot send on a Unix datagram socket while a receive waits on it " +
      "(also one kept after a timeout); send before receiving, or from another socket",
  });
}

function checkDatagramSize(length: number, target: Deno.NetAddr): void {
  const max = target.hostname.includes(":") && !target.hostname.startsWith("::ffff:")
    ? MAX_DATAGRAM_IPV6
    : MAX_DATAGRAM_IPV4;
  if (length > max) {
    throw new OSError(errno.EMSGSIZE, {
      detail: `${length} bytes is more than one UDP datagram holds here (${max})`,
    });
  }
}

function remaining(timeout: number, deadline: number): number {
  if (timeout === 0) return 0;
  const left = (deadline - performance.now()) / 1000;
  if (left <= 0) throw new TimeoutError();
  return left;
}

function isLoopback(peer: Deno.Addr | null): boolean {
  if (peer === null || peer.transport !== "udp") return false;
  const { hostname } = peer as Deno.NetAddr;
  return hostname.startsWith("127.") || canonicalHost(hostname) === "::1";
}

function familyOf(addr: Deno.NetAddr): number {
  return addr.hostname.includes(":") ? AF_INET6 : AF_INET;
}

/**
 * One spelling per IPv6 address (`0:0::1` and `::1` compare equal), the one
 * `inet_ntop` (so Python, and Deno) writes; IPv4 as is.
 */
function canonicalHost(host: string): string {
  if (!host.includes(":")) return host;
  let canonical: string;
  try {
    canonical = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host;
  }
  // The URL standard writes ::ffff:7f00:1 where inet_ntop writes ::ffff:127.0.0.1.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped === null) return canonical;
  const high = parseInt(mapped[1], 16);
  const low = parseInt(mapped[2], 16);
  return `::ffff:${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

function describeEndpoint(endpoint?: IpEndpoint | Deno.Addr | string | null): string | undefined {
  if (endpoint === undefined || endpoint === null) return undefined;
  if (typeof endpoint === "string") return endpoint;
  if ("path" in endpoint) return endpoint.path ?? undefined;
  const { hostname, port } = endpoint as IpEndpoint;
  return formatEndpoint(hostname, port);
}
