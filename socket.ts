/**
 * The `socket()` factory, the constants, the stream socket (TCP and Unix
 * stream) and the module functions of Python's `socket` module.
 *
 * @example An echo server and client on loopback
 * ```ts
 * import { AF_INET, socket, SOCK_STREAM } from "./socket.ts";
 *
 * await using server = socket(AF_INET, SOCK_STREAM);
 * server.bind(["127.0.0.1", 0]);
 * server.listen();
 * const port = server.getsockname()[1] as number;
 *
 * const serving = (async () => {
 *   const [conn] = await server.accept();
 *   await using _conn = conn;
 *   const data = await conn.recv(1024);
 *   await conn.sendall(new TextEncoder().encode(new TextDecoder().decode(data).toUpperCase()));
 * })();
 *
 * await using client = socket(AF_INET, SOCK_STREAM);
 * await client.connect(["127.0.0.1", port]);
 * await client.sendall("hello");
 * console.assert(new TextDecoder().decode(await client.recv(1024)) === "HELLO");
 * await serving;
 * ```
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AF_UNSPEC,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_TYPE,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from "./_constants.ts";
import {
  type Address,
  type AddressInput,
  checkIpAddress,
  checkPort,
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
  getdefaulttimeout,
  optionInt,
  type OptionValue,
  SocketBase,
  unboundAddress,
  unsupportedOption,
  waitFor,
} from "./_base.ts";
import { kReader, ReadBuffer } from "./_buffer.ts";
import { toBytes } from "./_bytes.ts";
import { errnoOf, literalFamily, resolve, resolveOne } from "./_resolve.ts";
import { SocketFile, type SocketFileMode } from "./_socket_file.ts";
import {
  BrokenPipeError,
  ConnectionRefusedError,
  EAI,
  errno,
  fromDenoError,
  gaierror,
  OSError,
  PermissionError,
  TimeoutError,
} from "./errors.ts";
import { DatagramSocket } from "./udp.ts";

export {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AF_UNSPEC,
  INADDR_ANY,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TTL,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV6_V6ONLY,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_BROADCAST,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_RCVTIMEO,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SO_SNDTIMEO,
  SO_TYPE,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOL_SOCKET,
  SOMAXCONN,
  TCP_NODELAY,
} from "./_constants.ts";
export type { Family, SocketKind } from "./_constants.ts";
export {
  INADDR_ALLHOSTS_GROUP,
  INADDR_BROADCAST,
  INADDR_LOOPBACK,
  INADDR_MAX_LOCAL_GROUP,
  INADDR_NONE,
  INADDR_UNSPEC_GROUP,
  NI_DGRAM,
  NI_MAXHOST,
  NI_MAXSERV,
  NI_NAMEREQD,
  NI_NOFQDN,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
} from "./_constants.ts";
export { htonl, htons, inet_aton, inet_ntoa, inet_ntop, inet_pton, ntohl, ntohs } from "./_inet.ts";
export { getfqdn, gethostbyaddr, gethostbynameEx, getnameinfo } from "./_netdb.ts";
export { getservbyname, getservbyport } from "./_services.ts";
export type { Address, AddressInput, IPv4Address, IPv6Address } from "./_address.ts";
export { getdefaulttimeout, setdefaulttimeout, SocketBase } from "./_base.ts";
export type { OptionValue } from "./_base.ts";
export { SocketFile, type SocketFileMode } from "./_socket_file.ts";

/** Deno's listeners take 511 unless told otherwise; `listen()` without a backlog keeps it. */
const DEFAULT_BACKLOG = 511;

/** Reaches the one-step bind-and-listen of createServer; not exported. */
const kBindListen: unique symbol = Symbol("pysock.bindListen");
/** Chunk size for `sendfile`. */
const SENDFILE_CHUNK = 65536;

/**
 * A TCP or Unix stream socket, as `socket(AF_INET, SOCK_STREAM)` returns it.
 *
 * Every call that waits on the network returns a Promise; `bind`, `listen`,
 * `close`, `shutdown`, the name and option calls are synchronous as in Python.
 *
 * @example A client and server over a Unix socket
 * ```ts
 * import { AF_UNIX, socket, SOCK_STREAM } from "./socket.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await using server = socket(AF_UNIX, SOCK_STREAM);
 * server.bind(`${dir}/echo.sock`);
 * server.listen(1);
 * await using client = socket(AF_UNIX, SOCK_STREAM);
 * await client.connect(`${dir}/echo.sock`);
 * const [conn] = await server.accept();
 * await using _conn = conn;
 * await client.sendall("ping");
 * console.assert(new TextDecoder().decode(await conn.recv(4)) === "ping");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class StreamSocket extends SocketBase {
  #listener: Deno.Listener | null = null;
  #listening = false;
  #endpoint: IpEndpoint | string | null = null;
  #pendingAccept: Promise<Deno.Conn> | null = null;
  #conn: Deno.Conn | null = null;
  #buffer: ReadBuffer | null = null;
  #connecting: Promise<void> | null = null;
  #connectAbort: AbortController | null = null;
  // The last send/sendall, so that shutdown(SHUT_WR) ends the stream after it.
  #lastWrite: Promise<unknown> | null = null;
  // send/sendall calls in progress: a new one waits for #lastWrite first.
  #writers = 0;
  // A write that outlived its timed-out call (Deno cannot cancel a write):
  // later writes wait for it, so bytes never reorder.
  #stalled: Promise<number> | null = null;
  #shutWrite = false;
  #noDelay = true;
  #keepAlive = false;
  #reusePort = false;
  #readable: ReadableStream<Uint8Array> | null = null;
  #writable: WritableStream<Uint8Array> | null = null;

  /**
   * Not for direct use: call `socket(family, SOCK_STREAM)`.
   *
   * @param family `AF_INET`, `AF_INET6` or `AF_UNIX`.
   * @param proto 0, or `IPPROTO_TCP` for IP families.
   * @param conn An established connection to wrap (from `accept`).
   */
  constructor(family: number = AF_INET, proto = 0, conn?: Deno.Conn) {
    super(family, SOCK_STREAM, proto);
    if (conn) this.#adopt(conn);
  }

  /**
   * Binds the socket to `addr` now: a port in use fails here.
   *
   * Deno has no bind-without-listen, so the port is held by a listener from
   * this moment; peers that connect before `listen()` wait in its queue
   * instead of being refused.
   *
   * @param addr `[host, port]` (`""` is every interface; port 0 picks a free
   *   port), or a path for `AF_UNIX`.
   * @throws {OSError} `EADDRINUSE`, or `EINVAL` when already bound or connected.
   * @throws {TypeError|RangeError} for a malformed address, before any I/O.
   *
   * @example
   * ```ts
   * import { socket } from "./socket.ts";
   * using s = socket();
   * s.bind(["127.0.0.1", 0]);
   * console.assert((s.getsockname()[1] as number) > 0);
   * ```
   */
  bind(addr: AddressInput): void {
    this.#bind(addr);
  }

  /**
   * @ignore Internal: `bind` and `listen(backlog)` in one step for
   * createServer, so the listener opens once, with its backlog.
   */
  [kBindListen](addr: AddressInput, backlog: number | undefined): void {
    this.#bind(addr, checkBacklog(backlog));
    this.#listening = true;
  }

  #bind(addr: AddressInput, backlog?: number): void {
    const endpoint = this.#checkAddress(addr, "bind");
    this.checkOpen();
    if (this.#endpoint !== null || this.#conn !== null) throw new OSError(errno.EINVAL);
    this.#listener = this.#openListener(endpoint, backlog);
    this.#endpoint = this.#boundEndpoint(endpoint);
  }

  /**
   * Starts accepting connections; binds to a free port on every interface
   * first when unbound, as the kernel does.
   *
   * @param backlog The length of the kernel's accept queue (Deno's
   *   `tcpBacklog`; 511 when omitted). Ignored for `AF_UNIX`, where Deno
   *   has no such setting.
   * @throws {OSError} `EINVAL` on a connected socket.
   *
   * @example
   * ```ts
   * import { socket } from "./socket.ts";
   * using s = socket();
   * s.bind(["127.0.0.1", 0]);
   * s.listen(5);
   * ```
   */
  listen(backlog?: number): void {
    const size = checkBacklog(backlog);
    this.checkOpen();
    if (this.#conn !== null) throw new OSError(errno.EINVAL);
    if (this.#listener === null) {
      this.#bind(this.family === AF_INET6 ? ["::", 0] : ["", 0], size);
    } else if (size !== undefined && this.family !== AF_UNIX && !this.#listening) {
      // The backlog is fixed when Deno opens the listener, so reopen it on
      // the port bind() chose, now that the size is known. (createServer,
      // and listen() without bind(), open it once with the right size.)
      const endpoint = this.#endpoint as IpEndpoint;
      this.#listener.close();
      this.#listener = this.#openListener(endpoint, size);
    }
    this.#listening = true;
  }

  /**
   * Waits for a connection.
   *
   * As in Python, the new socket starts with `getdefaulttimeout()`, not the
   * listener's timeout. A timed-out accept keeps its pending accept: the
   * connection it brings is returned by the next call.
   *
   * @returns The connected socket and the peer's address.
   * @throws {OSError} `EINVAL` before `listen()`; {@linkcode TimeoutError};
   *   `BlockingIOError` when non-blocking and nothing is waiting.
   *
   * @example
   * ```ts
   * import { createConnection, createServer } from "./socket.ts";
   * await using server = createServer(["127.0.0.1", 0]);
   * await using client = await createConnection(["127.0.0.1", server.getsockname()[1] as number]);
   * const [conn, addr] = await server.accept();
   * await using _conn = conn;
   * console.assert(addr[0] === "127.0.0.1");
   * ```
   */
  async accept(): Promise<[StreamSocket, Address]> {
    this.checkOpen();
    if (!this.#listening) throw new OSError(errno.EINVAL);
    const listener = this.#listener!;
    let pending = this.#pendingAccept;
    const timeout = this.gettimeout();
    if (pending === null) {
      pending = listener.accept();
      // Failures are reported to the caller that awaits; mark them handled
      // for the time when no call is waiting (after a timeout). Without a
      // timeout this call waits to the end, so that costs nothing.
      if (timeout !== null) pending.catch(ignore);
      this.#pendingAccept = pending;
    } else {
      listener.ref();
    }
    let conn: Deno.Conn;
    try {
      conn = await waitFor(pending, timeout);
    } catch (err) {
      if (this.#pendingAccept === pending) {
        if (err instanceof OSError) {
          // Timed out: the accept stays pending for the next call, but must
          // not keep the process alive meanwhile.
          if (!this.closed) listener.unref();
        } else this.#pendingAccept = null;
      }
      throw this.#translate(err);
    }
    if (this.#pendingAccept === pending) this.#pendingAccept = null;
    const sock = new StreamSocket(this.family, this.proto, conn);
    return [sock, fromDenoAddr(conn.remoteAddr, this.family)];
  }

  /**
   * Connects to `addr`, resolving a host name first with the system resolver.
   *
   * @param addr `[host, port]`, or a path for `AF_UNIX`.
   * @throws {ConnectionRefusedError} when nothing listens there.
   * @throws {gaierror} when the host name does not resolve.
   * @throws {TimeoutError} past the socket's timeout.
   * @throws {OSError} `EOPNOTSUPP` after `bind()`: Deno cannot connect from a
   *   chosen local address, and pysock will not silently drop it.
   *
   * @example
   * ```ts
   * import { ConnectionRefusedError, socket } from "./mod.ts";
   * // A port just freed: nothing listens there.
   * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const port = probe.addr.port;
   * probe.close();
   * await using s = socket();
   * try {
   *   await s.connect(["127.0.0.1", port]);
   * } catch (err) {
   *   console.assert(err instanceof ConnectionRefusedError);
   * }
   * ```
   */
  async connect(addr: AddressInput): Promise<void> {
    const endpoint = this.#checkAddress(addr, "connect");
    this.checkOpen();
    if (this.#conn !== null) throw new OSError(errno.EISCONN);
    if (this.#connecting !== null) throw new OSError(errno.EALREADY);
    if (this.#listener !== null) {
      throw new OSError(errno.EOPNOTSUPP, {
        detail: "Deno cannot connect from a bound address; connect() without bind()",
      });
    }
    const timeout = this.gettimeout();
    const connecting = this.#open(endpoint, timeout);
    if (timeout === 0) {
      // Python's non-blocking connect: EINPROGRESS now, completion later.
      this.#connecting = connecting.finally(() => this.#connecting = null);
      this.#connecting.catch(() => {});
      throw new OSError(errno.EINPROGRESS);
    }
    await connecting;
  }

  /**
   * Like {@linkcode StreamSocket.connect}, but resolves to an errno instead of
   * throwing an `OSError` (`0` on success).
   *
   * @param addr Where to connect.
   * @returns `0`, or the errno of the failure (`EAGAIN` past the timeout, as in Python).
   *
   * @example
   * ```ts
   * import { errno, socket } from "./mod.ts";
   * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const port = probe.addr.port;
   * probe.close();
   * await using s = socket();
   * console.assert(await s.connectEx(["127.0.0.1", port]) === errno.ECONNREFUSED);
   * ```
   */
  async connectEx(addr: AddressInput): Promise<number> {
    try {
      await this.connect(addr);
      return 0;
    } catch (err) {
      if (err instanceof gaierror || !(err instanceof OSError)) throw err;
      // Python's connect_ex reports its own timeout as EWOULDBLOCK, not ETIMEDOUT.
      if (err instanceof TimeoutError) return errno.EAGAIN;
      return errnoOf(err);
    }
  }

  /**
   * One write: resolves to the number of bytes written, which may be less
   * than `data.length`.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @returns The count written.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * console.assert(await a.send("hi") === 2);
   * ```
   */
  send(data: Uint8Array | string): Promise<number> {
    let bytes: Uint8Array;
    let conn: Deno.Conn;
    try {
      bytes = toBytes(data, "send");
      conn = this.#writeConn();
    } catch (err) {
      // Rejected before it queues: as #lastWrite it would let the next call
      // start before the write in progress ends.
      return Promise.reject(err);
    }
    const previous = this.#writers > 0 ? this.#lastWrite : null;
    const sending = this.#send(conn, bytes, previous);
    this.#lastWrite = sending;
    return sending;
  }

  async #send(
    conn: Deno.Conn,
    bytes: Uint8Array,
    previous: Promise<unknown> | null,
  ): Promise<number> {
    const timeout = writeTimeout(this.gettimeout());
    this.#writers++;
    try {
      if (previous !== null) await previous.catch(ignore);
      if (this.#stalled !== null) await this.#waitStalled(timeout);
      return await this.#write(conn, bytes, timeout);
    } finally {
      this.#writers--;
    }
  }

  /**
   * Writes every byte, resolving once all are written.
   *
   * On timeout the write in flight cannot be recalled (Deno cannot cancel
   * it): it completes in the background, later sends queue behind it, and
   * no further chunk of this call is written. In non-blocking mode writes
   * wait for completion rather than fail with EAGAIN, since bytes that Deno
   * has taken would otherwise be sent twice by a retry.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @throws {BrokenPipeError|ConnectionResetError} when the peer has gone.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall(new Uint8Array([1, 2, 3]));
   * console.assert((await b.recv(3)).length === 3);
   * ```
   */
  sendall(data: Uint8Array | string): Promise<void> {
    let bytes: Uint8Array;
    let conn: Deno.Conn;
    try {
      bytes = toBytes(data, "sendall");
      conn = this.#writeConn();
    } catch (err) {
      // Rejected before it queues: as #lastWrite it would let the next call
      // start before the write in progress ends.
      return Promise.reject(err);
    }
    if (this.#writers === 0 && this.#stalled === null && writeTimeout(this.gettimeout()) === null) {
      return this.#sendallNow(conn, bytes);
    }
    // Calls made before the previous one finished queue behind it, so the
    // bytes of two unawaited sendall calls never interleave on the wire.
    const previous = this.#writers > 0 ? this.#lastWrite : null;
    const sending = this.#sendall(conn, bytes, previous);
    this.#lastWrite = sending;
    return sending;
  }

  /**
   * The common sendall: nothing queued, no deadline. One write usually takes
   * every byte, so this costs one promise and no async frame (a busy echo
   * server or 10,000 connections make less garbage).
   */
  #sendallNow(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
    this.#writers++;
    const sending = conn.write(bytes).then((n) => {
      this.#writers--;
      // A partial write finishes on the general path; later calls are
      // already queued behind this promise.
      if (n < bytes.length) return this.#sendall(conn, bytes.subarray(n), null);
    }, (err) => {
      this.#writers--;
      throw this.#translate(err);
    });
    this.#lastWrite = sending;
    return sending;
  }

  async #sendall(
    conn: Deno.Conn,
    bytes: Uint8Array,
    previous: Promise<unknown> | null,
  ): Promise<void> {
    this.#writers++;
    try {
      if (previous !== null) await previous.catch(ignore);
      const timeout = writeTimeout(this.gettimeout());
      if (timeout !== null || this.#stalled !== null) {
        return await this.#writeAll(conn, bytes, timeout);
      }
      // No deadline and nothing left over from a timed-out write.
      let sent = 0;
      while (sent < bytes.length) {
        sent += await conn.write(sent === 0 ? bytes : bytes.subarray(sent));
      }
    } catch (err) {
      throw this.#translate(err);
    } finally {
      this.#writers--;
    }
  }

  /** The writes of a sendall with a deadline, or behind a write left by a timed-out call. */
  async #writeAll(conn: Deno.Conn, bytes: Uint8Array, timeout: number | null): Promise<void> {
    const deadline = timeout === null ? null : performance.now() + timeout * 1000;
    if (this.#stalled !== null) await this.#waitStalled(timeout);
    let sent = 0;
    while (sent < bytes.length) {
      const left = deadline === null ? null : Math.max(0, (deadline - performance.now()) / 1000);
      sent += await this.#write(conn, bytes.subarray(sent), left);
    }
  }

  /**
   * Receives up to `bufsize` bytes: resolves as soon as any are there, to an
   * empty array at end of stream. The array is the caller's own.
   *
   * Reads on one socket (`recv`, `recvInto`, framing, `makefile`) are served
   * one at a time in call order; waiting for its turn counts against the
   * timeout. A `recv` waiting when `shutdown(SHUT_RD)` is called returns
   * empty at once.
   *
   * @param bufsize The most bytes to return.
   * @throws {RangeError} for a negative size; {TypeError} for a non-integer.
   * @throws {TimeoutError} past the timeout; the bytes that arrive later are
   *   returned by the next call.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _b = b;
   * await a.sendall("bye");
   * a.close();
   * console.assert(new TextDecoder().decode(await b.recv(1024)) === "bye");
   * console.assert((await b.recv(1024)).length === 0);
   * ```
   */
  recv(bufsize: number): Promise<Uint8Array> {
    try {
      checkSize(bufsize, "recv", "bufsize");
      const buffer = this.#readBuffer();
      if (bufsize === 0) return Promise.resolve(new Uint8Array(0));
      return buffer.readSome(bufsize, this.gettimeout());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Receives into `buf` (at most `nbytes`, default its length) and resolves
   * to the count; 0 at end of stream. Served in call order with the other
   * reads on the socket, as {@linkcode StreamSocket.recv} is.
   *
   * @param buf The array to fill.
   * @param nbytes The most bytes to write into it; 0 means all of `buf`.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall("abc");
   * const buf = new Uint8Array(8);
   * console.assert(await b.recvInto(buf) === 3);
   * ```
   */
  recvInto(buf: Uint8Array, nbytes = 0): Promise<number> {
    try {
      const target = checkInto(buf, nbytes, "recvInto");
      const buffer = this.#readBuffer();
      if (target.length === 0) return Promise.resolve(0);
      return buffer.readInto(target, this.gettimeout());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Shuts down one or both directions. `SHUT_WR` sends end of stream (after
   * any write in flight) while receiving goes on; `SHUT_RD` makes later
   * receives return empty; `SHUT_RDWR` does both. The socket stays open
   * until `close()`.
   *
   * @param how `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
   * @throws {OSError} `ENOTCONN` when not connected.
   *
   * @example
   * ```ts
   * import { SHUT_WR, socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * a.shutdown(SHUT_WR);
   * console.assert((await b.recv(10)).length === 0); // b sees end of stream
   * await b.sendall("still open");
   * console.assert((await a.recv(100)).length === 10);
   * ```
   */
  shutdown(how: number): void {
    if (typeof how !== "number" || !Number.isInteger(how)) {
      throw new TypeError(`Cannot shutdown: how must be an integer, got ${describe(how)}`);
    }
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) {
      throw new RangeError(
        `Cannot shutdown: how must be SHUT_RD, SHUT_WR or SHUT_RDWR, got ${how}`,
      );
    }
    this.checkOpen();
    const conn = this.#conn;
    if (conn === null) throw new OSError(errno.ENOTCONN);
    if (how !== SHUT_WR) this.#buffer!.shutdown();
    if (how !== SHUT_RD && !this.#shutWrite) {
      this.#shutWrite = true;
      // End of stream goes after every write already started; errors here
      // mean the connection is gone, which the next call reports.
      Promise.allSettled([this.#lastWrite, this.#stalled])
        .then(() => conn.closeWrite())
        .catch(() => {});
    }
  }

  /**
   * The peer's address.
   *
   * @throws {OSError} `ENOTCONN` when not connected.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * console.assert(JSON.stringify(a.getpeername()) === JSON.stringify(b.getsockname()));
   * ```
   */
  getpeername(): Address {
    this.checkOpen();
    if (this.#conn === null) throw new OSError(errno.ENOTCONN);
    return fromDenoAddr(this.#conn.remoteAddr, this.family);
  }

  /**
   * The socket's own address: the real port after binding to port 0;
   * `["0.0.0.0", 0]` (or `""` for `AF_UNIX`) when unbound.
   *
   * @example
   * ```ts
   * import { socket } from "./socket.ts";
   * using s = socket();
   * console.assert(JSON.stringify(s.getsockname()) === '["0.0.0.0",0]');
   * ```
   */
  getsockname(): Address {
    this.checkOpen();
    if (this.#conn !== null) return fromDenoAddr(this.#conn.localAddr, this.family);
    if (this.#listener !== null) return fromDenoAddr(this.#listener.addr, this.family);
    return unboundAddress(this.family);
  }

  /**
   * Sets an option. Supported: `TCP_NODELAY`, `SO_KEEPALIVE` (TCP),
   * `SO_REUSEADDR` (Deno's listeners always reuse the address: `1` is
   * accepted, `0` refused), `SO_REUSEPORT` (before `bind`).
   *
   * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
   * @param optname The option.
   * @param value An int or boolean.
   * @throws {OSError} `ENOPROTOOPT` naming an option Deno cannot honour
   *   (`SO_RCVBUF`, `SO_SNDBUF`, ...), never a silent no-op.
   *
   * @example
   * ```ts
   * import { IPPROTO_TCP, socket, TCP_NODELAY } from "./socket.ts";
   * using s = socket();
   * s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 0);
   * console.assert(s.getsockopt(IPPROTO_TCP, TCP_NODELAY) === 0);
   * ```
   */
  setsockopt(level: number, optname: number, value: OptionValue): void {
    checkOption(level, optname, value);
    this.checkOpen();
    const flag = optionInt(value, level, optname) !== 0;
    const ip = this.family !== AF_UNIX;
    if (level === IPPROTO_TCP && optname === TCP_NODELAY && ip) {
      this.#noDelay = flag;
      (this.#conn as Deno.TcpConn | null)?.setNoDelay(flag);
    } else if (level === SOL_SOCKET && optname === SO_KEEPALIVE && ip) {
      this.#keepAlive = flag;
      (this.#conn as Deno.TcpConn | null)?.setKeepAlive(flag);
    } else if (level === SOL_SOCKET && optname === SO_REUSEADDR) {
      if (!flag) {
        throw new OSError(errno.ENOPROTOOPT, {
          detail: "SO_REUSEADDR cannot be turned off: Deno's listeners always set it",
        });
      }
    } else if (level === SOL_SOCKET && optname === SO_REUSEPORT && ip) {
      if (this.#endpoint !== null || this.#conn !== null) {
        throw new OSError(errno.EINVAL, { detail: "SO_REUSEPORT must be set before bind()" });
      }
      this.#reusePort = flag;
    } else {
      throw unsupportedOption(level, optname, "set");
    }
  }

  /**
   * Reads an option: those `setsockopt` supports, plus `SO_TYPE` and
   * `SO_ERROR`. `TCP_NODELAY` is 1 by default: Deno disables Nagle's
   * algorithm on its TCP connections, unlike a fresh Python socket.
   *
   * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
   * @param optname The option.
   * @returns The value as an int.
   * @throws {OSError} `ENOPROTOOPT` for an option Deno cannot report.
   *
   * @example
   * ```ts
   * import { SO_TYPE, SOCK_STREAM, socket, SOL_SOCKET } from "./socket.ts";
   * using s = socket();
   * console.assert(s.getsockopt(SOL_SOCKET, SO_TYPE) === SOCK_STREAM);
   * ```
   */
  getsockopt(level: number, optname: number): number {
    checkOption(level, optname, 0);
    this.checkOpen();
    const ip = this.family !== AF_UNIX;
    if (level === SOL_SOCKET && optname === SO_TYPE) return this.type;
    if (level === SOL_SOCKET && optname === SO_ERROR) return 0;
    if (level === SOL_SOCKET && optname === SO_REUSEADDR) return this.#listener ? 1 : 0;
    if (level === IPPROTO_TCP && optname === TCP_NODELAY && ip) return this.#noDelay ? 1 : 0;
    if (level === SOL_SOCKET && optname === SO_KEEPALIVE && ip) return this.#keepAlive ? 1 : 0;
    if (level === SOL_SOCKET && optname === SO_REUSEPORT && ip) return this.#reusePort ? 1 : 0;
    throw unsupportedOption(level, optname, "get");
  }

  /**
   * A buffered file over the same byte stream (Python's `makefile`). It
   * reads through the socket's own buffer, so bytes read ahead are never
   * lost to `recv` or the framing readers, and the other way round.
   *
   * @param mode `"r"`/`"w"`/`"rw"` for text (strings, UTF-8), with `"b"` for bytes.
   * @returns The file; closing it does not close the socket.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall("one\ntwo\n");
   * const f = b.makefile("rb");
   * console.assert(new TextDecoder().decode(await f.readline()) === "one\n");
   * console.assert(new TextDecoder().decode(await b.recv(10)) === "two\n");
   * ```
   */
  makefile(mode: "rb" | "wb" | "rwb" | "wrb"): SocketFile<Uint8Array>;
  /**
   * A text file over the socket (strings, UTF-8): Python's default mode `"r"`.
   *
   * @param mode `"r"`, `"w"` or `"rw"`.
   * @returns The file.
   */
  makefile(mode?: "r" | "w" | "rw" | "wr"): SocketFile<string>;
  makefile(mode: SocketFileMode = "r"): SocketFile<Uint8Array> | SocketFile<string> {
    this.checkOpen();
    return new SocketFile<Uint8Array>(this, mode);
  }

  /**
   * Sends a file's contents: a `Deno.FsFile` (from its current position, or
   * from `offset`) or a path.
   *
   * @param file An open file or a path.
   * @param offset Where to start reading.
   * @param count How many bytes at most; all to end of file when omitted.
   * @returns The number of bytes sent.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const path = await Deno.makeTempFile();
   * await Deno.writeTextFile(path, "file body");
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * console.assert(await a.sendfile(path, 5) === 4);
   * console.assert(new TextDecoder().decode(await b.recv(10)) === "body");
   * await Deno.remove(path);
   * ```
   */
  async sendfile(file: Deno.FsFile | string, offset = 0, count?: number): Promise<number> {
    if (typeof file !== "string" && !(file instanceof Deno.FsFile)) {
      throw new TypeError(
        `Cannot sendfile: expected a Deno.FsFile or a path, got ${describe(file)}`,
      );
    }
    checkSize(offset, "sendfile", "offset");
    if (count !== undefined) checkSize(count, "sendfile", "count");
    this.#writeConn();
    const owned = typeof file === "string";
    const handle = owned ? await openFile(file) : file;
    try {
      if (offset > 0 || owned) await handle.seek(offset, Deno.SeekMode.Start);
      const chunk = new Uint8Array(SENDFILE_CHUNK);
      let sent = 0;
      while (count === undefined || sent < count) {
        const want = count === undefined ? chunk.length : Math.min(chunk.length, count - sent);
        const n = await handle.read(chunk.subarray(0, want));
        if (n === null) break;
        await this.sendall(chunk.subarray(0, n));
        sent += n;
      }
      return sent;
    } catch (err) {
      // File errors (a directory, EIO) become OSErrors; socket errors already are.
      throw fromDenoError(err);
    } finally {
      if (owned) handle.close();
    }
  }

  /**
   * A Web `ReadableStream` of the bytes received, built on the socket's own
   * buffer (bytes already buffered come first). Reaching end of stream, or
   * cancelling, leaves the write side open.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _b = b;
   * await a.sendall("streamed");
   * a.close();
   * const text = await new Response(b.readable).text();
   * console.assert(text === "streamed");
   * ```
   */
  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.#readBuffer().readSome(65536, null);
        if (chunk.length === 0) controller.close();
        else controller.enqueue(chunk);
      },
    }, { highWaterMark: 0 });
    return this.#readable;
  }

  /**
   * A Web `WritableStream` that sends through `sendall`. Closing the stream
   * sends end of stream (`shutdown(SHUT_WR)`) and leaves the read side open;
   * aborting it closes the socket.
   *
   * @example
   * ```ts
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await ReadableStream.from([new TextEncoder().encode("piped")]).pipeTo(a.writable);
   * console.assert(new TextDecoder().decode(await b.recv(10)) === "piped");
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.sendall(chunk),
      close: () => {
        if (!this.closed) this.shutdown(SHUT_WR);
      },
      abort: () => this.close(),
    });
    return this.#writable;
  }

  /** @ignore Internal: the read buffer, for framing.ts and makefile. */
  [kReader](): ReadBuffer {
    return this.#readBuffer();
  }

  /** Releases the listener or connection; pending calls reject with `EBADF`. */
  protected onClose(): void {
    const listener = this.#listener;
    const conn = this.#conn;
    this.#listener = null;
    this.#listening = false;
    this.#connectAbort?.abort();
    try {
      listener?.close();
    } catch { /* already closed by Deno */ }
    try {
      conn?.close();
    } catch { /* already closed by Deno */ }
  }

  // One function for every socket's buffer, rather than a closure each.
  static #readError = (err: unknown, sock: unknown): unknown =>
    (sock as StreamSocket).#translate(err);

  #adopt(conn: Deno.Conn): void {
    this.#conn = conn;
    this.#buffer = new ReadBuffer(conn, StreamSocket.#readError, this);
    if (this.family !== AF_UNIX) {
      // Deno sets TCP_NODELAY on its connections; only a change is applied.
      if (!this.#noDelay) (conn as Deno.TcpConn).setNoDelay(false);
      if (this.#keepAlive) (conn as Deno.TcpConn).setKeepAlive(true);
    }
  }

  async #open(endpoint: IpEndpoint | string, timeout: number | null): Promise<void> {
    // One controller ends the attempt on timeout or on close(), so a
    // connect to a silent peer never outlives either.
    const abort = new AbortController();
    this.#connectAbort = abort;
    const timer = timeout === null
      ? undefined
      : setTimeout(() => abort.abort(), Math.max(timeout * 1000, 1));
    let conn: Deno.Conn;
    try {
      conn = await this.#dial(endpoint, abort.signal);
    } catch (err) {
      if (this.closed) throw new OSError(errno.EBADF, { cause: err });
      if (abort.signal.aborted) throw new TimeoutError(errno.ETIMEDOUT, { cause: err });
      throw this.#translate(err, endpoint);
    } finally {
      // Guarded: the first clearTimeout loads Deno's timer module (~6 ms),
      // a cost a connect without a timeout should not pay.
      if (timer !== undefined) clearTimeout(timer);
      this.#connectAbort = null;
    }
    if (this.closed) {
      conn.close();
      throw new OSError(errno.EBADF);
    }
    this.#adopt(conn);
  }

  async #dial(endpoint: IpEndpoint | string, signal: AbortSignal): Promise<Deno.Conn> {
    if (typeof endpoint !== "string") {
      const { address } = await resolveOne(endpoint.hostname, this.family);
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

  #openListener(endpoint: IpEndpoint | string, backlog = DEFAULT_BACKLOG): Deno.Listener {
    try {
      if (typeof endpoint === "string") return Deno.listen({ transport: "unix", path: endpoint });
      return Deno.listen({
        transport: "tcp",
        hostname: endpoint.hostname,
        port: endpoint.port,
        reusePort: this.#reusePort,
        tcpBacklog: backlog,
      });
    } catch (err) {
      throw this.#translate(err, endpoint);
    }
  }

  /** The concrete endpoint after binding, so a re-listen keeps the chosen port. */
  #boundEndpoint(endpoint: IpEndpoint | string): IpEndpoint | string {
    if (typeof endpoint === "string") return endpoint;
    const { port } = this.#listener!.addr as Deno.NetAddr;
    return { hostname: endpoint.hostname, port };
  }

  #checkAddress(addr: unknown, action: string): IpEndpoint | string {
    if (this.family === AF_UNIX) return checkUnixPath(addr, action);
    const endpoint = checkIpAddress(addr, this.family, action);
    const literal = literalFamily(endpoint.hostname);
    if (literal !== AF_UNSPEC && literal !== this.family) {
      throw new gaierror(EAI.EAI_ADDRFAMILY);
    }
    return endpoint;
  }

  #readBuffer(): ReadBuffer {
    this.checkOpen();
    if (this.#buffer === null) throw new OSError(errno.ENOTCONN);
    return this.#buffer;
  }

  #writeConn(): Deno.Conn {
    this.checkOpen();
    if (this.#conn === null) throw new OSError(errno.ENOTCONN);
    if (this.#shutWrite) throw new BrokenPipeError();
    return this.#conn;
  }

  /** One write with a deadline; a write that times out is kept so later writes queue behind it. */
  async #write(conn: Deno.Conn, bytes: Uint8Array, timeout: number | null): Promise<number> {
    const writing = conn.write(bytes);
    try {
      return await waitFor(writing, timeout);
    } catch (err) {
      if (err instanceof TimeoutError) {
        this.#stalled = writing;
        writing.then(() => {
          if (this.#stalled === writing) this.#stalled = null;
        }, () => {});
      }
      throw this.#translate(err);
    }
  }

  /** Waits for a write left over from a timed-out call; reports its failure. */
  async #waitStalled(timeout: number | null): Promise<void> {
    const stalled = this.#stalled!;
    try {
      await waitFor(stalled, timeout);
    } catch (err) {
      if (!(err instanceof TimeoutError)) this.#stalled = null;
      throw this.#translate(err);
    }
  }

  #translate(err: unknown, endpoint?: IpEndpoint | string): unknown {
    if (err instanceof OSError && !(err.cause instanceof Error)) return err;
    if (this.closed) return new OSError(errno.EBADF, { cause: err });
    const what = typeof endpoint === "string"
      ? endpoint
      : endpoint && formatEndpoint(endpoint.hostname, endpoint.port);
    const translated = fromDenoError(err, what);
    if (translated instanceof PermissionError && typeof endpoint === "string") {
      // Deno checks three permissions for a Unix socket and names only the
      // first missing one, so following its advice would fail again.
      return new PermissionError(errno.EACCES, {
        detail: `access to ${endpoint} denied; run again with --allow-read=${endpoint} ` +
          `--allow-write=${endpoint} --allow-net=unix:${endpoint}`,
        cause: err,
      });
    }
    return translated;
  }
}

function ignore(): void {}

/** A valid `listen` backlog (negative is 0, as on Linux), or `undefined` for the default. */
function checkBacklog(backlog: unknown): number | undefined {
  if (backlog === undefined) return undefined;
  if (typeof backlog !== "number" || !Number.isInteger(backlog)) {
    throw new TypeError(`Cannot listen: backlog must be an integer, got ${describe(backlog)}`);
  }
  return Math.max(backlog, 0);
}

/**
 * The deadline for a write. Deno cannot withdraw a write once started, so a
 * non-blocking send that failed with EAGAIN would still deliver its bytes
 * later and a retry would send them twice: in non-blocking mode writes wait
 * for their count instead, which is always true.
 */
function writeTimeout(timeout: number | null): number | null {
  return timeout === 0 ? null : timeout;
}

/** Opens a file for `sendfile`; a missing file is an `OSError` (`ENOENT`), as every failure is. */
async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (err) {
    throw fromDenoError(err, path);
  }
}

/**
 * Creates a socket, as Python's `socket.socket(family, type, proto)`.
 * `SOCK_STREAM` gives a {@linkcode StreamSocket}, `SOCK_DGRAM` a
 * {@linkcode DatagramSocket} (which needs Deno's `--unstable-net`).
 *
 * @param family `AF_INET` (default), `AF_INET6` or `AF_UNIX`.
 * @param type `SOCK_STREAM` (default) or `SOCK_DGRAM`.
 * @param proto 0, or the protocol matching the type (`IPPROTO_TCP`, `IPPROTO_UDP`).
 * @returns The new, unconnected socket.
 * @throws {OSError} `EPROTONOSUPPORT` for `SOCK_RAW`/`SOCK_SEQPACKET` or a
 *   mismatched protocol, `EAFNOSUPPORT` for an unknown family.
 * @throws {TypeError} for non-integer arguments.
 *
 * @example
 * ```ts
 * import { AF_INET, socket, SOCK_STREAM } from "./socket.ts";
 * using s = socket(AF_INET, SOCK_STREAM);
 * console.assert(s.family === AF_INET && s.type === SOCK_STREAM);
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
 * @param type `SOCK_STREAM` or `SOCK_DGRAM`.
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
  for (const [name, value] of [["family", family], ["type", type], ["proto", proto]] as const) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new TypeError(
        `Cannot create socket: ${name} must be an integer, got ${describe(value)}`,
      );
    }
  }
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
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM) {
    throw new OSError(errno.ESOCKTNOSUPPORT, {
      detail: `type ${type}; Deno supports SOCK_STREAM and SOCK_DGRAM`,
    });
  }
  const expected = family === AF_UNIX ? 0 : type === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
  if (proto !== 0 && proto !== expected) {
    throw new OSError(errno.EPROTONOSUPPORT, {
      detail: `protocol ${proto} with this family and type`,
    });
  }
  if (type === SOCK_DGRAM) return new DatagramSocket(family, type, proto);
  return new StreamSocket(family, proto);
}

/** Options of {@linkcode createConnection}. */
export interface CreateConnectionOptions {
  /** Seconds for the connect and, afterwards, the socket's timeout. Default: `getdefaulttimeout()`. */
  timeout?: number | null;
  /**
   * A local `[host, port]` to connect from. Deno cannot choose the source
   * address: anything but `null`/`["", 0]` is refused with `EOPNOTSUPP`.
   */
  sourceAddress?: AddressInput | null;
}

/**
 * Connects to a TCP service, trying every address the name resolves to in
 * turn (Python's `socket.create_connection`).
 *
 * @param address `[host, port]`.
 * @param options `timeout` and `sourceAddress`.
 * @returns The connected socket.
 * @throws {OSError} the last connect error when every address fails.
 *
 * @example
 * ```ts
 * import { createConnection, createServer } from "./socket.ts";
 * await using server = createServer(["127.0.0.1", 0]);
 * const port = server.getsockname()[1] as number;
 * await using client = await createConnection(["localhost", port], { timeout: 5 });
 * console.assert(client.gettimeout() === 5);
 * ```
 */
export async function createConnection(
  address: readonly [host: string, port: number],
  options: CreateConnectionOptions = {},
): Promise<StreamSocket> {
  const { hostname, port } = checkIpAddress(address, AF_INET6, "createConnection");
  const timeout = options.timeout === undefined ? getdefaulttimeout() : options.timeout;
  const source = options.sourceAddress;
  if (source !== undefined && source !== null) {
    const local = checkIpAddress(source, AF_INET6, "createConnection");
    if (!(local.port === 0 && (source as readonly unknown[])[0] === "")) {
      throw new OSError(errno.EOPNOTSUPP, {
        detail: "Deno cannot connect from a chosen source address",
      });
    }
  }
  const host = (address as readonly unknown[])[0] === "" ? "localhost" : hostname;
  const addresses = await resolve(host, AF_UNSPEC);
  let lastError: unknown = null;
  let denied = false;
  for (const { family, address: ip } of addresses) {
    const sock = new StreamSocket(family);
    sock.settimeout(timeout);
    try {
      await sock.connect([ip, port]);
      return sock;
    } catch (err) {
      sock.close();
      lastError = err;
      denied ||= err instanceof PermissionError;
    }
  }
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
 * import { createServer } from "./socket.ts";
 * using server = createServer(["127.0.0.1", 0], { backlog: 16 });
 * console.assert((server.getsockname()[1] as number) > 0);
 * ```
 */
export function createServer(
  address: AddressInput,
  options: CreateServerOptions = {},
): StreamSocket {
  const family = options.family ?? AF_INET;
  if (options.dualstackIpv6 && family !== AF_INET6) {
    throw new RangeError("Cannot create server: dualstackIpv6 requires family AF_INET6");
  }
  if (options.dualstackIpv6 && !hasDualstackIpv6()) {
    throw new OSError(errno.EAFNOSUPPORT, { detail: "dual-stack IPv6 is not available here" });
  }
  const sock = socket(family, SOCK_STREAM);
  try {
    if (options.reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    sock[kBindListen](address, options.backlog);
  } catch (err) {
    sock.close();
    throw err;
  }
  return sock;
}

/**
 * A connected pair of stream sockets (Python's `socket.socketpair`), made
 * over loopback TCP since Deno has no `socketpair(2)`.
 *
 * @returns Two sockets, each the other's peer.
 *
 * @example
 * ```ts
 * import { socketpair } from "./socket.ts";
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * await a.sendall("x");
 * console.assert((await b.recv(1))[0] === 120);
 * ```
 */
export async function socketpair(): Promise<[StreamSocket, StreamSocket]> {
  using server = createServer(["127.0.0.1", 0], { backlog: 1 });
  const client = new StreamSocket(AF_INET);
  try {
    const accepting = server.accept();
    await client.connect(["127.0.0.1", server.getsockname()[1] as number]);
    const [peer] = await accepting;
    return [client, peer];
  } catch (err) {
    client.close();
    throw err;
  }
}

/** One `getaddrinfo` result: `[family, type, proto, canonname, sockaddr]`. */
export type AddrInfo = [
  family: number,
  type: number,
  proto: number,
  canonname: string,
  sockaddr: Address,
];

/**
 * Resolves a host and port with the system resolver, as Python's
 * `socket.getaddrinfo` (so `/etc/hosts` and `localhost` work offline).
 *
 * @param host A name or IP literal; `null` means loopback.
 * @param port A port number, numeric string, or `null` for 0.
 * @param family `AF_UNSPEC` (default), `AF_INET` or `AF_INET6`.
 * @param type 0 for every type, or `SOCK_STREAM`/`SOCK_DGRAM`.
 * @returns One entry per address and socket type.
 * @throws {gaierror} when the name does not resolve.
 *
 * @example
 * ```ts
 * import { AF_INET, getaddrinfo, SOCK_STREAM } from "./socket.ts";
 * const [[family, type, , , addr]] = await getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM);
 * console.assert(family === AF_INET && type === SOCK_STREAM);
 * console.assert(JSON.stringify(addr) === '["127.0.0.1",80]');
 * ```
 */
export async function getaddrinfo(
  host: string | null,
  port: number | string | null,
  family: number = AF_UNSPEC,
  type = 0,
): Promise<AddrInfo[]> {
  const portNumber = toPort(port);
  if (host !== null && typeof host !== "string") {
    throw new TypeError(`Cannot getaddrinfo: host must be a string or null, got ${describe(host)}`);
  }
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) {
    throw new gaierror(EAI.EAI_FAMILY);
  }
  if (type !== 0 && type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_RAW) {
    throw new gaierror(EAI.EAI_SOCKTYPE);
  }
  const name = host === null || host === "" ? (family === AF_INET6 ? "::1" : "127.0.0.1") : host;
  const found = await resolve(name, family);
  const types = type === 0 ? [SOCK_STREAM, SOCK_DGRAM, SOCK_RAW] : [type];
  const result: AddrInfo[] = [];
  for (const { family: f, address } of found) {
    const sockaddr: Address = f === AF_INET6 ? [address, portNumber, 0, 0] : [address, portNumber];
    for (const t of types) {
      const proto = t === SOCK_STREAM ? IPPROTO_TCP : t === SOCK_DGRAM ? IPPROTO_UDP : 0;
      result.push([f, t, proto, "", sockaddr]);
    }
  }
  return result;
}

function toPort(port: number | string | null): number {
  if (port === null) return 0;
  if (typeof port === "string") {
    if (!/^\d+$/.test(port)) throw new gaierror(EAI.EAI_SERVICE);
    return checkPort(Number(port), "getaddrinfo");
  }
  return checkPort(port, "getaddrinfo");
}

/**
 * The IPv4 address of `host` (Python's `socket.gethostbyname`).
 *
 * @param host A name or an IPv4 literal.
 * @returns The dotted-quad address.
 * @throws {gaierror} when the name does not resolve.
 *
 * @example
 * ```ts
 * import { gethostbyname } from "./socket.ts";
 * console.assert(await gethostbyname("localhost") === "127.0.0.1");
 * ```
 */
export async function gethostbyname(host: string): Promise<string> {
  if (typeof host !== "string") {
    throw new TypeError(`Cannot gethostbyname: host must be a string, got ${describe(host)}`);
  }
  return (await resolveOne(host === "" ? "0.0.0.0" : host, AF_INET)).address;
}

/**
 * This machine's host name (needs `--allow-sys=hostname`).
 *
 * @returns The host name.
 * @throws {PermissionError} naming the flag when it is missing.
 *
 * @example
 * ```ts
 * import { gethostname } from "./socket.ts";
 * console.assert(gethostname().length > 0);
 * ```
 */
export function gethostname(): string {
  try {
    return Deno.hostname();
  } catch (err) {
    throw fromDenoError(err, "hostname");
  }
}

let dualstack: boolean | null = null;

/**
 * Whether an `AF_INET6` listener here also accepts IPv4 (Python's
 * `socket.has_dualstack_ipv6`). Deno's IPv6 listeners are dual-stack when
 * the host has IPv6 at all.
 *
 * @returns `true` when IPv6 listening works.
 *
 * @example
 * ```ts
 * import { hasDualstackIpv6 } from "./socket.ts";
 * console.assert(typeof hasDualstackIpv6() === "boolean");
 * ```
 */
export function hasDualstackIpv6(): boolean {
  if (dualstack !== null) return dualstack;
  try {
    Deno.listen({ hostname: "::", port: 0 }).close();
    dualstack = true;
  } catch {
    dualstack = false;
  }
  return dualstack;
}
