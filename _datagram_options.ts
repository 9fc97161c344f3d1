// The socket options of a datagram socket, mapped onto what Deno offers.
//
// Deno sets few options, and some only at one moment: `SO_REUSEADDR` and the
// multicast loop when it creates the socket (Deno's `reuseAddress` and
// `loopback`, so before `bind`), the multicast TTL and loop afterwards only
// through a group membership (denoland/deno#17811, which closed #10706), and
// `SO_BROADCAST` never: Deno turns it on for every UDP socket
// (denoland/deno#12860). Anything else fails with `ENOPROTOOPT` naming the
// option, never a silent no-op.
//
// Deno joins, leaves and sets membership options asynchronously while
// `setsockopt` is synchronous, as in Python. The calls are queued here; the
// socket's next I/O call waits for them (this is its `Gate`), and a failure
// becomes the pending socket error that call, or `getsockopt(SO_ERROR)`,
// reports once.

import { describe } from "./_address.ts";
import { optionInt, type OptionValue, unsupportedOption } from "./_base.ts";
import {
  AF_INET,
  AF_UNIX,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IPPROTO_IP,
  SO_BROADCAST,
  SO_ERROR,
  SO_REUSEADDR,
  SO_TYPE,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "./_constants.ts";
import { optionName } from "./_option_names.ts";
import type { Gate } from "./_datagram_receiver.ts";
import { literalFamily } from "./_resolve.ts";
import { errno, fromDenoError, OSError } from "./errors.ts";

type Membership = Deno.MulticastV4Membership;

/** A parsed `IP_ADD_MEMBERSHIP`/`IP_DROP_MEMBERSHIP` value. */
interface MembershipRequest {
  group: string;
  iface: string;
}

/** The options of one datagram socket, and the option calls Deno runs asynchronously. */
export class DatagramOptions implements Gate {
  #family: number;
  #conn: Deno.DatagramConn | null = null;
  #closed = false;
  #reuseAddress = false;
  #multicastLoop = true;
  #multicastTtl = 1;
  #groups = new Map<string, Promise<Membership>>();
  #membership: Promise<Membership> | null = null;
  /** Option calls Deno runs asynchronously; the next I/O call waits for them. */
  #op: Promise<void> | null = null;
  /** The pending socket error (`SO_ERROR`), reported by the next call. */
  #error: OSError | null = null;

  /** @param family The socket's family: the IP options apply to `AF_INET` (and `AF_INET6`). */
  constructor(family: number) {
    this.#family = family;
  }

  /** `SO_REUSEADDR`, for `Deno.listenDatagram`'s `reuseAddress`. */
  get reuseAddress(): boolean {
    return this.#reuseAddress;
  }

  /** `IP_MULTICAST_LOOP`, for `Deno.listenDatagram`'s `loopback`. */
  get multicastLoop(): boolean {
    return this.#multicastLoop;
  }

  /** The socket is bound: options now go to `conn` (or fail where only creation takes them). */
  attach(conn: Deno.DatagramConn): void {
    this.#conn = conn;
  }

  /** Whether option calls are in flight or an error is pending: the next I/O call settles them first. */
  get busy(): boolean {
    return this.#op !== null || this.#error !== null;
  }

  /** Waits for option calls in flight, then reports (and clears) the pending error. */
  async settle(): Promise<void> {
    while (this.#op !== null) await this.#op;
    const error = this.takeError();
    if (error !== null) throw error;
  }

  /** The pending socket error, cleared by taking it. */
  takeError(): OSError | null {
    const error = this.#error;
    this.#error = null;
    return error;
  }

  /** Forgets memberships and option calls in flight: closing the socket ends them. */
  close(): void {
    this.#closed = true;
    this.#conn = null;
    this.#groups.clear();
    this.#membership = null;
    this.#op = null;
  }

  /**
   * `setsockopt`, its arguments already checked.
   * @throws {OSError} `ENOPROTOOPT` for an option Deno cannot honour;
   *   `EINVAL` for a value the kernel would refuse.
   */
  set(level: number, optname: number, value: OptionValue): void {
    const ip = this.#family !== AF_UNIX;
    if (level === SOL_SOCKET && optname === SO_REUSEADDR) {
      return this.#setReuseAddress(optionInt(value, level, optname), ip);
    }
    if (level === SOL_SOCKET && optname === SO_BROADCAST && ip) {
      return setBroadcast(optionInt(value, level, optname));
    }
    if (level === IPPROTO_IP && this.#family === AF_INET) {
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
   * `getsockopt`, its arguments already checked.
   * @throws {OSError} `ENOPROTOOPT` for an option Deno cannot report.
   */
  get(level: number, optname: number): number {
    const ip = this.#family !== AF_UNIX;
    if (level === SOL_SOCKET) {
      if (optname === SO_TYPE) return SOCK_DGRAM;
      if (optname === SO_ERROR) return this.takeError()?.errno ?? 0;
      if (optname === SO_REUSEADDR) return this.#reuseAddress ? 1 : 0;
      if (optname === SO_BROADCAST && ip) return 1;
    }
    if (level === IPPROTO_IP && this.#family === AF_INET) {
      if (optname === IP_MULTICAST_LOOP) return this.#multicastLoop ? 1 : 0;
      if (optname === IP_MULTICAST_TTL) return this.#multicastTtl;
    }
    throw unsupportedOption(level, optname, "get");
  }

  // On a Unix socket Linux keeps the flag, at any time, and does nothing
  // with it (a bound path stays taken), so it is only read back.
  #setReuseAddress(value: number, ip: boolean): void {
    if (this.#conn !== null && ip) {
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
    // A join the kernel refused leaves no membership, as on Linux: the
    // group can be joined again, and the options go through another one.
    joining.catch(() => {
      if (this.#groups.get(key) === joining) this.#groups.delete(key);
      if (this.#membership === joining) {
        this.#membership = [...this.#groups.values()].at(-1) ?? null;
      }
    });
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
    const previous = this.#op;
    const tracked: Promise<void> = (previous === null ? op : previous.then(() => op)).then(
      () => {
        if (this.#op === tracked) this.#op = null;
      },
      (err) => {
        if (this.#op === tracked) this.#op = null;
        if (!this.#closed) this.#error ??= fromDenoError(err) as OSError;
      },
    );
    this.#op = tracked;
  }
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

function setBroadcast(value: number): void {
  // Deno calls set_broadcast(true) on every UDP socket it creates.
  if (value === 0) {
    throw new OSError(errno.ENOPROTOOPT, {
      detail: "SO_BROADCAST cannot be turned off: Deno enables it on every UDP socket",
    });
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
 * import assert from "node:assert/strict";
 * import { multicastRequest } from "./udp.ts";
 * const mreq = multicastRequest("239.1.2.3", "127.0.0.1");
 * assert.deepEqual(mreq, new Uint8Array([239, 1, 2, 3, 127, 0, 0, 1]));
 * ```
 */
export function multicastRequest(group: string, iface = "0.0.0.0"): Uint8Array {
  const out = new Uint8Array(8);
  out.set(ipv4Bytes(group, "group"), 0);
  out.set(ipv4Bytes(iface, "interface"), 4);
  return out;
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
