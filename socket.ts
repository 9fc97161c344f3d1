/**
 * The `socket()` factory, the constants, the stream socket (TCP and Unix
 * stream) and the module functions of Python's `socket` module.
 *
 * @example An echo server and client on loopback
 * ```ts
 * import assert from "node:assert/strict";
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
 * assert.equal(new TextDecoder().decode(await client.recv(1024)), "HELLO");
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
  SO_REUSEPORT,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOL_SOCKET,
} from "./_constants.ts";
import {
  type Address,
  type AddressInput,
  checkIpAddress,
  checkSocketAddress,
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
  type OptionValue,
  SocketBase,
  unboundAddress,
} from "./_base.ts";
import { kReader, ReadBuffer } from "./_buffer.ts";
import { toBytes } from "./_bytes.ts";
import { Chunks } from "./_chunks.ts";
import { dial, endpointError } from "./_connect.ts";
import { checkBacklog, Listener } from "./_listener.ts";
import { sendFile } from "./_sendfile.ts";
import { DEFAULT_OPTIONS, StreamOptions } from "./_stream_options.ts";
import { readableOf, writableOf } from "./_streams.ts";
import { Writer } from "./_writer.ts";
import { hasDualstackIpv6 } from "./_lookup.ts";
import { errnoOf, resolve } from "./_resolve.ts";
import { SocketFile, type SocketFileMode } from "./_socket_file.ts";
import {
  BrokenPipeError,
  errno,
  gaierror,
  OSError,
  PermissionError,
  TimeoutError,
} from "./errors.ts";
import { DatagramSocket } from "./udp.ts";

export * from "./_constants.ts";
export { htonl, htons, inet_aton, inet_ntoa, inet_ntop, inet_pton, ntohl, ntohs } from "./_inet.ts";
export { getfqdn, gethostbyaddr, gethostbynameEx, getnameinfo } from "./_netdb.ts";
export { getservbyname, getservbyport } from "./_services.ts";
export type { Address, AddressInput, IPv4Address, IPv6Address } from "./_address.ts";
export { getdefaulttimeout, setdefaulttimeout, SocketBase } from "./_base.ts";
export * from "./_lookup.ts";
export type { OptionValue } from "./_base.ts";
export { SocketFile, type SocketFileMode } from "./_socket_file.ts";

/** Reaches the one-step bind-and-listen of createServer; not exported. */
const kBindListen: unique symbol = Symbol("pysock.bindListen");

/**
 * A TCP or Unix stream socket, as `socket(AF_INET, SOCK_STREAM)` returns it.
 *
 * Every call that waits on the network returns a Promise; `bind`, `listen`,
 * `close`, `shutdown`, the name and option calls are synchronous as in Python.
 *
 * @example A client and server over a Unix socket
 * ```ts
 * import assert from "node:assert/strict";
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
 * assert.equal(new TextDecoder().decode(await conn.recv(4)), "ping");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class StreamSocket extends SocketBase {
  #listener: Listener | null = null;
  #conn: Deno.Conn | null = null;
  #buffer: ReadBuffer | null = null;
  // Made on the first write: an idle connection holds no write queue.
  #writer: Writer | null = null;
  #connecting: Promise<void> | null = null;
  #connectAbort: AbortController | null = null;
  // Made on the first setsockopt: most sockets keep Deno's defaults.
  #options: StreamOptions | null = null;
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
   * import assert from "node:assert/strict";
   * import { socket } from "./socket.ts";
   * using s = socket();
   * s.bind(["127.0.0.1", 0]);
   * assert.ok((s.getsockname()[1] as number) > 0);
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
    this.#bind(addr, checkBacklog(backlog)).listening = true;
  }

  #bind(addr: AddressInput, backlog?: number): Listener {
    const endpoint = checkSocketAddress(addr, this.family, "bind");
    this.checkOpen();
    if (this.#listener !== null || this.#conn !== null) throw new OSError(errno.EINVAL);
    try {
      this.#listener = new Listener(endpoint, this.#options?.reusePort ?? false, backlog);
    } catch (err) {
      throw this.#translate(err, endpoint);
    }
    return this.#listener;
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
    let listener = this.#listener;
    if (listener === null) {
      listener = this.#bind(this.family === AF_INET6 ? ["::", 0] : ["", 0], size);
    } else if (size !== undefined && this.family !== AF_UNIX && !listener.listening) {
      // The backlog is fixed when Deno opens the listener, so reopen it on
      // the port bind() chose, now that the size is known.
      try {
        listener.reopen(size);
      } catch (err) {
        throw this.#translate(err, listener.endpoint);
      }
    }
    listener.listening = true;
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
   * import assert from "node:assert/strict";
   * import { createConnection, createServer } from "./socket.ts";
   * await using server = createServer(["127.0.0.1", 0]);
   * await using client = await createConnection(["127.0.0.1", server.getsockname()[1] as number]);
   * const [conn, addr] = await server.accept();
   * await using _conn = conn;
   * assert.equal(addr[0], "127.0.0.1");
   * ```
   */
  async accept(): Promise<[StreamSocket, Address]> {
    this.checkOpen();
    const listener = this.#listener;
    if (listener === null || !listener.listening) throw new OSError(errno.EINVAL);
    let conn: Deno.Conn;
    try {
      conn = await listener.accept(this.gettimeout());
    } catch (err) {
      throw this.#translate(err);
    }
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
   * import assert from "node:assert/strict";
   * import { ConnectionRefusedError, socket } from "./mod.ts";
   * // A port just freed: nothing listens there.
   * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const port = probe.addr.port;
   * probe.close();
   * await using s = socket();
   * await assert.rejects(s.connect(["127.0.0.1", port]), ConnectionRefusedError);
   * ```
   */
  async connect(addr: AddressInput): Promise<void> {
    const endpoint = checkSocketAddress(addr, this.family, "connect");
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
   * import assert from "node:assert/strict";
   * import { errno, socket } from "./mod.ts";
   * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const port = probe.addr.port;
   * probe.close();
   * await using s = socket();
   * assert.equal(await s.connectEx(["127.0.0.1", port]), errno.ECONNREFUSED);
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
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * assert.equal(await a.send("hi"), 2);
   * ```
   */
  send(data: Uint8Array | string): Promise<number> {
    try {
      const bytes = toBytes(data, "send");
      return this.#writerOf().send(bytes, this.gettimeout());
    } catch (err) {
      return Promise.reject(err);
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
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall(new Uint8Array([1, 2, 3]));
   * assert.equal((await b.recv(3)).length, 3);
   * ```
   */
  sendall(data: Uint8Array | string): Promise<void> {
    try {
      const bytes = toBytes(data, "sendall");
      return this.#writerOf().sendall(bytes, this.gettimeout());
    } catch (err) {
      return Promise.reject(err);
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
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _b = b;
   * await a.sendall("bye");
   * a.close();
   * assert.equal(new TextDecoder().decode(await b.recv(1024)), "bye");
   * assert.equal((await b.recv(1024)).length, 0);
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
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall("abc");
   * const buf = new Uint8Array(8);
   * assert.equal(await b.recvInto(buf), 3);
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
   * The bytes received, chunk by chunk, until end of stream: the fast way to
   * pass a stream on (to a hash, a file, another socket). Each chunk is a
   * view of one buffer of `bufsize` bytes that the iterator owns and reads
   * over on the next call: **a chunk is valid until the next `next()`**
   * (the next turn of a `for await` loop); copy it (`chunk.slice()`) to keep
   * it. In exchange no memory is allocated per chunk: with nothing buffered
   * and no timeout the kernel's bytes land straight in that buffer, as with
   * `recvInto`; `recv`, which returns an array the caller owns, cannot avoid
   * fresh memory per call.
   *
   * Bytes already buffered (read ahead by a framing reader or `makefile`)
   * come first. Reads are served in call order with the socket's other
   * reads, and the socket's timeout applies to each chunk: a timed-out
   * `next()` rejects with {@linkcode TimeoutError}, consumes nothing, and
   * ends the iteration (a new `chunks()` continues). The buffer is made on
   * the first `next()` and dropped at the end; `break` leaves the socket
   * open.
   *
   * @param bufsize The most bytes per chunk; 65536 by default.
   * @returns An async iterator of chunks; it ends at end of stream.
   * @throws {TypeError} for a non-integer `bufsize`; {RangeError} for one
   *   below 1, before any I/O.
   *
   * @example Counting a stream's bytes without allocating per chunk
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _b = b;
   * await a.sendall(new Uint8Array(100_000).fill(7));
   * a.close();
   * let total = 0;
   * let first: Uint8Array | null = null;
   * for await (const chunk of b.chunks(4096)) {
   *   first ??= chunk.slice(0, 4); // copied: the chunk itself is read over next
   *   total += chunk.length;
   * }
   * assert.equal(total, 100_000);
   * assert.deepEqual(first, new Uint8Array([7, 7, 7, 7]));
   * ```
   */
  chunks(bufsize = 65536): AsyncIterableIterator<Uint8Array, undefined> {
    checkSize(bufsize, "iterate chunks", "bufsize");
    if (bufsize === 0) {
      throw new RangeError("Cannot iterate chunks: bufsize must be at least 1, got 0");
    }
    return new Chunks(this, bufsize);
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
   * import assert from "node:assert/strict";
   * import { SHUT_WR, socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * a.shutdown(SHUT_WR);
   * assert.equal((await b.recv(10)).length, 0); // b sees end of stream
   * await b.sendall("still open");
   * assert.equal((await a.recv(100)).length, 10);
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
    if (how !== SHUT_RD) {
      const writer = this.#writer ??= new Writer(conn, StreamSocket.#error, this);
      if (!writer.shut) writer.closeWrite();
    }
  }

  /**
   * The peer's address.
   *
   * @throws {OSError} `ENOTCONN` when not connected.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * assert.deepEqual(a.getpeername(), b.getsockname());
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
   * import assert from "node:assert/strict";
   * import { socket } from "./socket.ts";
   * using s = socket();
   * assert.equal(JSON.stringify(s.getsockname()), '["0.0.0.0",0]');
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
   * import assert from "node:assert/strict";
   * import { IPPROTO_TCP, socket, TCP_NODELAY } from "./socket.ts";
   * using s = socket();
   * s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 0);
   * assert.equal(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
   * ```
   */
  setsockopt(level: number, optname: number, value: OptionValue): void {
    checkOption(level, optname, value);
    this.checkOpen();
    const options = this.#options ??= new StreamOptions();
    options.set(level, optname, value, this.family, this.#conn, this.#listener !== null);
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
   * import assert from "node:assert/strict";
   * import { SO_TYPE, SOCK_STREAM, socket, SOL_SOCKET } from "./socket.ts";
   * using s = socket();
   * assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
   * ```
   */
  getsockopt(level: number, optname: number): number {
    checkOption(level, optname, 0);
    this.checkOpen();
    const options = this.#options ?? DEFAULT_OPTIONS;
    return options.get(level, optname, this.family, this.#listener !== null);
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
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall("one\ntwo\n");
   * const f = b.makefile("rb");
   * assert.equal(new TextDecoder().decode(await f.readline()), "one\n");
   * assert.equal(new TextDecoder().decode(await b.recv(10)), "two\n");
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
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const path = await Deno.makeTempFile();
   * await Deno.writeTextFile(path, "file body");
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * assert.equal(await a.sendfile(path, 5), 4);
   * assert.equal(new TextDecoder().decode(await b.recv(10)), "body");
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
    this.#writerOf();
    return await sendFile(this, file, offset, count);
  }

  /**
   * A Web `ReadableStream` of the bytes received, built on the socket's own
   * buffer (bytes already buffered come first). Reaching end of stream, or
   * cancelling, leaves the write side open.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _b = b;
   * await a.sendall("streamed");
   * a.close();
   * const text = await new Response(b.readable).text();
   * assert.equal(text, "streamed");
   * ```
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= readableOf(this.#readBuffer());
  }

  /**
   * A Web `WritableStream` that sends through `sendall`. Closing the stream
   * sends end of stream (`shutdown(SHUT_WR)`) and leaves the read side open;
   * aborting it closes the socket.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await ReadableStream.from([new TextEncoder().encode("piped")]).pipeTo(a.writable);
   * assert.equal(new TextDecoder().decode(await b.recv(10)), "piped");
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= writableOf(this);
  }

  /** @ignore Internal: the read buffer, for framing.ts and makefile. */
  [kReader](): ReadBuffer {
    return this.#readBuffer();
  }

  /** Releases the listener or connection; pending calls reject with `EBADF`. */
  protected onClose(): void {
    const conn = this.#conn;
    this.#listener?.close();
    this.#listener = null;
    this.#connectAbort?.abort();
    try {
      conn?.close();
    } catch { /* already closed by Deno */ }
  }

  // One function for every socket's buffer, rather than a closure each.
  static #error = (err: unknown, sock: unknown): unknown => (sock as StreamSocket).#translate(err);

  #adopt(conn: Deno.Conn): void {
    this.#conn = conn;
    this.#buffer = new ReadBuffer(conn, StreamSocket.#error, this);
    if (this.#options !== null && this.family !== AF_UNIX) this.#options.apply(conn);
  }

  async #open(endpoint: IpEndpoint | string, timeout: number | null): Promise<void> {
    // One controller ends the attempt on timeout or on close(), so a
    // connect to a silent peer never outlives either.
    const abort = new AbortController();
    this.#connectAbort = abort;
    let conn: Deno.Conn;
    try {
      conn = await dial(endpoint, this.family, timeout, abort);
    } catch (err) {
      if (this.closed) throw new OSError(errno.EBADF, { cause: err });
      if (abort.signal.aborted) throw new TimeoutError(errno.ETIMEDOUT, { cause: err });
      throw this.#translate(err, endpoint);
    } finally {
      this.#connectAbort = null;
    }
    if (this.closed) {
      conn.close();
      throw new OSError(errno.EBADF);
    }
    this.#adopt(conn);
  }

  #readBuffer(): ReadBuffer {
    this.checkOpen();
    if (this.#buffer === null) throw new OSError(errno.ENOTCONN);
    return this.#buffer;
  }

  #writerOf(): Writer {
    this.checkOpen();
    const conn = this.#conn;
    if (conn === null) throw new OSError(errno.ENOTCONN);
    const writer = this.#writer ??= new Writer(conn, StreamSocket.#error, this);
    if (writer.shut) throw new BrokenPipeError();
    return writer;
  }

  #translate(err: unknown, endpoint?: IpEndpoint | string): unknown {
    if (err instanceof OSError && !(err.cause instanceof Error)) return err;
    if (this.closed) return new OSError(errno.EBADF, { cause: err });
    return endpointError(err, endpoint);
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
 * import assert from "node:assert/strict";
 * import { createConnection, createServer } from "./socket.ts";
 * await using server = createServer(["127.0.0.1", 0]);
 * const port = server.getsockname()[1] as number;
 * await using client = await createConnection(["localhost", port], { timeout: 5 });
 * assert.equal(client.gettimeout(), 5);
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
