// The module functions that make sockets: the socket() factory,
// createConnection (every address a name resolves to, in turn),
// createServer (bind and listen in one step) and socketpair. socket.ts
// re-exports them; they import the classes back from it and udp.ts, which
// is safe because they use them only when called.

import { checkIpAddress, describe, formatEndpoint, isKnownFamily } from "./_address.ts";
import { checkOptions, checkSignal, checkTimeout, getdefaulttimeout } from "./_base.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AF_UNSPEC,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOL_SOCKET,
} from "./_constants.ts";
import { noSourceAddress } from "./_connect.ts";
import { kBindListen } from "./_listener.ts";
import { hasDualstackIpv6 } from "./_lookup.ts";
import { resolve } from "./_resolve.ts";
import { errno, errorFromErrno, ExceptionGroup, OSError, PermissionError } from "./errors.ts";
import { pythonAddress } from "./_repr.ts";
import { type AddressInput, StreamSocket } from "./socket.ts";
import { DatagramSocket } from "./udp.ts";

/**
 * Creates a socket, as Python's `socket.socket(family, type, proto)`.
 * `SOCK_STREAM` gives a {@linkcode StreamSocket}, `SOCK_DGRAM` a
 * {@linkcode DatagramSocket} (which needs Deno's `--unstable-net`). As in
 * Python, -1 for any argument means its default.
 *
 * @param family `AF_INET` (default), `AF_INET6` or `AF_UNIX`.
 * @param type `SOCK_STREAM` (default) or `SOCK_DGRAM`.
 * @param proto 0, or the protocol matching the type (`IPPROTO_TCP`,
 *   `IPPROTO_UDP`; 1 for `AF_UNIX`).
 * @returns The new, unconnected socket.
 * @throws {OSError} `EPROTONOSUPPORT` for `SOCK_RAW`/`SOCK_SEQPACKET` or a
 *   mismatched protocol, `EINVAL` for an unknown type or a protocol outside
 *   0–262, `EAFNOSUPPORT` for an unknown family.
 * @throws {TypeError} for non-integer arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, socket, SOCK_STREAM } from "./socket.ts";
 * using s = socket(AF_INET, SOCK_STREAM);
 * assert.ok(s.family === AF_INET && s.type === SOCK_STREAM);
 * ```
 */
export function socket(
  family?: number,
  type?: typeof SOCK_STREAM,
  proto?: number,
): StreamSocket;
/**
 * Creates a datagram socket: `socket(AF_INET, SOCK_DGRAM)`.
 *
 * @param family `AF_INET`, `AF_INET6` or `AF_UNIX`.
 * @param type `SOCK_DGRAM`.
 * @param proto 0 or `IPPROTO_UDP`.
 * @returns The new, unbound datagram socket.
 */
export function socket(family: number, type: typeof SOCK_DGRAM, proto?: number): DatagramSocket;
/**
 * Creates a socket whose type is known only at run time.
 *
 * @param family The address family.
 * @param type `SOCK_STREAM` or `SOCK_DGRAM`, or either with `SOCK_NONBLOCK` (starts non-blocking) or `SOCK_CLOEXEC` or'ed in.
 * @param proto The protocol, usually 0.
 * @returns A stream or datagram socket.
 */
export function socket(
  family: number,
  type: number,
  proto?: number,
): StreamSocket | DatagramSocket;
export function socket(
  family: number = AF_INET,
  type: number = SOCK_STREAM,
  proto = 0,
): StreamSocket | DatagramSocket {
  // -1 is CPython's "default" for each argument (socket.py's __init__).
  if (family === -1) family = AF_INET;
  if (type === -1) type = SOCK_STREAM;
  if (proto === -1) proto = 0;
  for (const [name, value] of [["family", family], ["type", type], ["proto", proto]] as const) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new TypeError(
        `Cannot create socket: ${name} must be an integer, got ${describe(value)}`,
      );
    }
    // CPython's OverflowError (the kernel takes C ints).
    if (value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`Cannot create socket: ${name} must fit in a C int, got ${value}`);
    }
  }
  // Linux's flags in the type, as CPython passes them on: the type itself
  // is what is left, as socket.type reports it.
  const nonblocking = (type & SOCK_NONBLOCK) !== 0;
  type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (!isKnownFamily(family)) {
    throw new OSError(errno.EAFNOSUPPORT, {
      detail: `family ${family}; Deno supports AF_INET, AF_INET6 and AF_UNIX`,
    });
  }
  if (type === SOCK_RAW || type === SOCK_SEQPACKET) {
    const name = type === SOCK_RAW ? "SOCK_RAW" : "SOCK_SEQPACKET";
    throw new OSError(errno.EPROTONOSUPPORT, {
      detail: `Deno has no ${name}; use SOCK_STREAM (TCP) or SOCK_DGRAM (UDP)`,
    });
  }
  // Linux knows the types below SOCK_MAX (11), and has no others.
  if (type < 0 || type >= 11) {
    throw new OSError(errno.EINVAL, { detail: `type ${type} is no socket type` });
  }
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM) {
    throw new OSError(errno.ESOCKTNOSUPPORT, {
      detail: `type ${type}; Deno supports SOCK_STREAM and SOCK_DGRAM`,
    });
  }
  // Linux's inet_create refuses a protocol outside [0, IPPROTO_MAX) as
  // invalid before it looks for one; AF_UNIX takes 0 or PF_UNIX (1).
  if (family !== AF_UNIX && (proto < 0 || proto >= KERNEL_IPPROTO_MAX)) {
    throw new OSError(errno.EINVAL, { detail: `protocol ${proto} is out of range` });
  }
  const expected = family === AF_UNIX ? AF_UNIX : type === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
  if (proto !== 0 && proto !== expected) {
    throw new OSError(errno.EPROTONOSUPPORT, {
      detail: `protocol ${proto} with this family and type`,
    });
  }
  const sock = type === SOCK_DGRAM
    ? new DatagramSocket(family, type, proto)
    : new StreamSocket(family, proto);
  if (nonblocking) sock.settimeout(0);
  return sock;
}

// The kernel's IPPROTO_MAX; glibc's (and so Python's socket.IPPROTO_MAX) is 256.
const KERNEL_IPPROTO_MAX = 263;

/** Options of {@linkcode createConnection}. */
export interface CreateConnectionOptions {
  /** Seconds for the connect and, afterwards, the socket's timeout. Default: `getdefaulttimeout()`. */
  timeout?: number | null;
  /**
   * A local `[host, port]` to connect from. Deno cannot choose the source
   * address: anything but `null`/`["", 0]` is refused with `EOPNOTSUPP`.
   */
  sourceAddress?: AddressInput | null;
  /**
   * When every address fails, reject with an {@linkcode ExceptionGroup}
   * holding each attempt's error (Python 3.11's `all_errors=True`) instead
   * of the last one.
   */
  allErrors?: boolean;
  /** Ends the attempt when aborted, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Connects to a TCP service, trying every address the name resolves to in
 * turn (Python's `socket.create_connection`).
 *
 * @param address `[host, port]`.
 * @param options `timeout`, `sourceAddress`, `allErrors`, `signal`.
 * @returns The connected socket (its `proto` is `IPPROTO_TCP`, as Python's).
 * @throws {OSError} the last connect error when every address fails, or
 *   with `allErrors` an {@linkcode ExceptionGroup} of them all; a name that
 *   does not resolve is a `gaierror`, never grouped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection, createServer } from "./socket.ts";
 * await using server = createServer(["127.0.0.1", 0]);
 * const port = server.getsockname()[1] as number;
 * await using client = await createConnection(["localhost", port], { timeout: 5 });
 * assert.equal(client.gettimeout(), 5);
 * ```
 *
 * @example Every attempt's error, with `allErrors`
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionRefusedError, createConnection, ExceptionGroup } from "./mod.ts";
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = probe.addr.port;
 * probe.close();
 * await assert.rejects(createConnection(["127.0.0.1", port], { allErrors: true }), (err) => {
 *   assert.ok(err instanceof ExceptionGroup && err instanceof AggregateError);
 *   assert.equal(err.message, "create_connection failed (1 sub-exception)");
 *   assert.ok(err.exceptions[0] instanceof ConnectionRefusedError);
 *   return true;
 * });
 * ```
 */
export async function createConnection(
  address: readonly [host: string, port: number],
  options: CreateConnectionOptions = {},
): Promise<StreamSocket> {
  checkOptions(options, "createConnection", "{ timeout: 5 }");
  const { hostname, port } = checkIpAddress(address, AF_INET6, "createConnection");
  const timeout = options.timeout === undefined
    ? getdefaulttimeout()
    : checkTimeout(options.timeout);
  const source = options.sourceAddress;
  if (source !== undefined && source !== null) {
    const local = checkIpAddress(source, AF_INET6, "createConnection");
    if (!(local.port === 0 && (source as readonly unknown[])[0] === "")) {
      throw noSourceAddress("a chosen source address");
    }
  }
  const signal = options.signal;
  checkSignal(signal, "createConnection");
  // As CPython's (whose getaddrinfo gets it): the empty host is no name,
  // gaierror EAI_NONAME, though connect() takes it as this host.
  const host = (address as readonly unknown[])[0] === "" ? "" : hostname;
  const addresses = await resolve(host, AF_UNSPEC);
  signal?.throwIfAborted();
  const errors: unknown[] = [];
  let lastError: unknown = null;
  let denied = false;
  for (const { family, address: ip } of addresses) {
    const sock = new StreamSocket(family, IPPROTO_TCP);
    sock.settimeout(timeout);
    try {
      await sock.connect([ip, port], { signal });
      return sock;
    } catch (err) {
      sock.close();
      if (signal?.aborted) throw signal.reason;
      lastError = err;
      errors.push(err);
      denied ||= err instanceof PermissionError;
    }
  }
  if (options.allErrors) throw new ExceptionGroup("create_connection failed", errors);
  if (denied && addresses.length > 1) {
    // A refusal from an address the user did allow would hide the real
    // problem: name every address the name resolved to.
    const all = addresses.map((a) => formatEndpoint(a.address, port)).join(",");
    throw new PermissionError(errno.EACCES, {
      detail: `net access to ${host}:${port} needs every address it resolves to; ` +
        `run again with --allow-net=${all}`,
      cause: lastError,
    });
  }
  throw lastError;
}

/** Options of {@linkcode createServer}. */
export interface CreateServerOptions {
  /** `AF_INET` (default) or `AF_INET6`, or `AF_UNIX` for a path. */
  family?: number;
  /** The accept queue length (Deno's `tcpBacklog`). */
  backlog?: number;
  /** Set `SO_REUSEPORT` so several processes share the port (Linux). */
  reusePort?: boolean;
  /**
   * Accept IPv4 and IPv6 on one `AF_INET6` socket. Deno's IPv6 listeners are
   * always dual-stack on Linux, so `false` cannot make one IPv6-only.
   */
  dualstackIpv6?: boolean;
}

/**
 * Creates a listening socket bound to `address` (Python's
 * `socket.create_server`).
 *
 * @param address `[host, port]`, or a path with `family: AF_UNIX`.
 * @param options `family`, `backlog`, `reusePort`, `dualstackIpv6`.
 * @returns The listening socket.
 * @throws {RangeError} for `dualstackIpv6` with a family other than `AF_INET6`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "./socket.ts";
 * using server = createServer(["127.0.0.1", 0], { backlog: 16 });
 * assert.ok((server.getsockname()[1] as number) > 0);
 * ```
 */
export function createServer(
  address: AddressInput,
  options: CreateServerOptions = {},
): StreamSocket {
  checkOptions(options, "createServer", "{ family: AF_INET6 }");
  const family = options.family ?? AF_INET;
  if (options.dualstackIpv6 && family !== AF_INET6) {
    throw new RangeError("Cannot create server: dualstackIpv6 requires family AF_INET6");
  }
  if (options.dualstackIpv6 && !hasDualstackIpv6()) {
    throw new OSError(errno.EAFNOSUPPORT, { detail: "dual-stack IPv6 is not available here" });
  }
  const sock = socket(family, SOCK_STREAM);
  try {
    // As CPython's on POSIX (Deno's TCP listeners have it anyway).
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (options.reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  } catch (err) {
    sock.close();
    throw err;
  }
  try {
    sock[kBindListen](address, options.backlog);
  } catch (err) {
    sock.close();
    throw bindError(err, address);
  }
  return sock;
}

/**
 * CPython's create_server names the address a bind failed on, in an
 * `OSError` made from the errno (so `EADDRINUSE` stays an `OSError`, and a
 * `gaierror` becomes one, as there).
 */
function bindError(err: unknown, address: AddressInput): unknown {
  if (!(err instanceof OSError) || err.errno === null) return err;
  const text = err.message.replace(/^\[Errno -?\d+\] /, "");
  return errorFromErrno(err.errno, {
    strerror: `${text} (while attempting to bind on address ${pythonAddress(address)})`,
    cause: err,
  });
}

/**
 * A connected pair of stream sockets (Python's `socket.socketpair`), made
 * over loopback TCP since Deno has no `socketpair(2)`.
 *
 * @returns Two sockets, each the other's peer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * await a.sendall("x");
 * assert.equal((await b.recv(1))[0], 120);
 * ```
 */
export async function socketpair(): Promise<[StreamSocket, StreamSocket]> {
  let server: StreamSocket;
  try {
    server = createServer(["127.0.0.1", 0], { backlog: 1 });
  } catch (err) {
    throw pairDenied(err);
  }
  using _server = server;
  const client = new StreamSocket(AF_INET);
  const accepting = server.accept();
  try {
    await client.connect(["127.0.0.1", server.getsockname()[1] as number]);
    const [peer] = await accepting;
    return [client, peer];
  } catch (err) {
    client.close();
    // The accept fails too once the listener closes: that is not news.
    accepting.catch(() => {});
    throw pairDenied(err);
  }
}

// Deno names the address it refused: 127.0.0.1:0 for the listener, then a
// new ephemeral port every run for the connect. Neither flag can work; the
// pair needs loopback on any port.
function pairDenied(err: unknown): unknown {
  if (!(err instanceof PermissionError)) return err;
  return new PermissionError(errno.EACCES, {
    detail: "socketpair() listens and connects on 127.0.0.1 (any port); " +
      "run again with --allow-net=127.0.0.1",
    cause: err.cause ?? err,
  });
}
