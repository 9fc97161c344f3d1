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
  MSG_DONTWAIT,
  SHUT_RD,
  SHUT_WR,
  SO_ERROR,
  SOCK_STREAM,
  SOL_SOCKET,
} from "./_constants.ts";
import {
  type Address,
  type AddressInput,
  checkSocketAddress,
  fromDenoAddr,
  type IpEndpoint,
  specialEndpoint,
} from "./_address.ts";
import {
  type AbortOptions,
  checkBuflen,
  checkHow,
  checkInto,
  checkOption,
  checkSignal,
  checkSize,
  optionBytes,
  type OptionValue,
  unboundAddress,
} from "./_base.ts";
import { kReader, ReadBuffer } from "./_buffer.ts";
import { CLOSED, kWatch, streamReady, type Watcher } from "./_ready.ts";
import { toBytes } from "./_bytes.ts";
import { Chunks } from "./_chunks.ts";
import { dial, endpointError, noSourceAddress } from "./_connect.ts";
import { checkFlags, recvFlagged, recvIntoFlagged, SEND, STREAM_RECV } from "./_flags.ts";
import { StreamMessages } from "./_stream_messages.ts";
import { checkBacklog, kBindListen, Listener } from "./_listener.ts";
import { checkSendfile, sendFile } from "./_sendfile.ts";
import { DEFAULT_OPTIONS, StreamOptions } from "./_stream_options.ts";
import { ResetConn } from "./_reset_conn.ts";
import { readableOf, writableOf } from "./_streams.ts";
import { kWriterIdle, Writer } from "./_writer.ts";
import { errnoOf } from "./_resolve.ts";
import {
  BlockingIOError,
  BrokenPipeError,
  ConnectionError,
  errno,
  gaierror,
  OSError,
  TimeoutError,
} from "./errors.ts";
import {
  type BinaryMode,
  type Buffering,
  kAbandon,
  kFileClosed,
  type MakefileOptions,
  SocketFile,
  type SocketFileMode,
  type TextMode,
} from "./_socket_file.ts";

export * from "./_constants.ts";
export { htonl, htons, inet_aton, inet_ntoa, inet_ntop, inet_pton, ntohl, ntohs } from "./_inet.ts";
export { getfqdn, gethostbyaddr, gethostbynameEx, getnameinfo } from "./_netdb.ts";
export { getservbyname, getservbyport } from "./_services.ts";
export type { Address, AddressInput, IPv4Address, IPv6Address } from "./_address.ts";
export { getdefaulttimeout, setdefaulttimeout, SocketBase } from "./_base.ts";
export { StreamMessages } from "./_stream_messages.ts";
export * from "./_lookup.ts";
export type { AbortOptions, OptionValue } from "./_base.ts";
export type { AncillaryItem, RecvmsgIntoResult, RecvmsgResult } from "./_message.ts";
export { CMSG_LEN, CMSG_SPACE } from "./_message.ts";
export {
  createConnection,
  type CreateConnectionOptions,
  createServer,
  type CreateServerOptions,
  socket,
  socketpair,
} from "./_create.ts";

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
export class StreamSocket extends StreamMessages {
  #listener: Listener<[StreamSocket, Address]> | null = null;
  #conn: Deno.Conn | null = null;
  #buffer: ReadBuffer | null = null;
  // Made on the first write: an idle connection holds no write queue.
  #writer: Writer | null = null;
  #connecting: Promise<void> | null = null;
  #connectAbort: AbortController | null = null;
  // Made on the first setsockopt: most sockets keep Deno's defaults.
  #options: StreamOptions | null = null;
  #readable: ReadableStream<Uint8Array> | null = null;
  // What a closed listener's close() resolves once Deno let it go.
  #released: Promise<void> | null = null;
  // Open makefile() files: each holds the socket open, as in CPython.
  #files = 0;
  #accepted = false;
  // A read or write reported that the connection is gone (reset, broken
  // pipe): Linux has moved it to CLOSE, where shutdown() and getpeername()
  // fail with ENOTCONN.
  #lost = false;
  #writable: WritableStream<Uint8Array> | null = null;
  // What shutdown() recorded on an unconnected, unbound Unix socket, Linux's
  // way (SHUT_RD + 1, SHUT_WR + 1, or both): the connection it makes later
  // reads the end of stream, or sends EPIPE.
  #unixShut = 0;

  /**
   * Not for direct use: call `socket(family, SOCK_STREAM)`.
   *
   * @param family `AF_INET`, `AF_INET6` or `AF_UNIX`.
   * @param proto 0, or `IPPROTO_TCP` for IP families.
   * @param conn An established connection to wrap (from `accept`).
   */
  constructor(family: number = AF_INET, proto = 0, conn?: Deno.Conn) {
    super(family, SOCK_STREAM, proto);
    if (conn) {
      this.#adopt(conn);
      this.#accepted = true;
    }
  }

  /** @ignore Internal: whether a connection is there (for sendmsg's address rule). */
  protected get connected(): boolean {
    return this.#conn !== null;
  }

  /**
   * Binds the socket to `addr` now: a port in use fails here.
   *
   * Deno has no bind-without-listen, so the port is held by a listener from
   * this moment; peers that connect before `listen()` wait in its queue
   * instead of being refused. Deno fixes the backlog (511) when the listener
   * opens, so a `listen(n)` with another `n` reopens it, and peers that
   * connected in between are reset.
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
   * @ignore Internal: `bind` with the backlog of `listen(backlog)`, so the
   * listener opens once: for createServer (`listening` true: listen() is
   * done too) and socketserver (a later listen with the same backlog does
   * not reopen it; see _listener.ts).
   */
  [kBindListen](addr: AddressInput, backlog: number | undefined, listening = true): void {
    this.#bind(addr, checkBacklog(backlog)).listening = listening;
  }

  #bind(addr: AddressInput, backlog?: number): Listener<[StreamSocket, Address]> {
    // "localhost" binds where connect() and getaddrinfo() put it for this
    // family (Deno's own lookup takes 127.0.0.1, even for an AF_INET6 socket).
    let endpoint = checkSocketAddress(addr, this.family, "bind");
    if (typeof endpoint !== "string") endpoint = specialEndpoint(endpoint, this.family);
    this.checkOpen();
    // Connecting binds too, as the kernel binds before it sends a SYN.
    if (this.#listener !== null || this.#conn !== null || this.#connectAbort !== null) {
      throw new OSError(errno.EINVAL);
    }
    try {
      const reusePort = this.#options?.reusePort ?? false;
      const wrap = StreamSocket.#wrap;
      this.#listener = new Listener(endpoint, reusePort, backlog, wrap, StreamSocket.#error, this);
    } catch (err) {
      throw this.#translate(err, endpoint);
    }
    return this.#listener;
  }

  /**
   * Starts accepting connections; binds to a free port on every interface
   * first when unbound, as the kernel does (an unbound `AF_UNIX` socket has
   * no such name: `EINVAL`, as Linux).
   *
   * @param backlog The length of the kernel's accept queue (Deno's
   *   `tcpBacklog`; 511 when omitted). Ignored for `AF_UNIX`, where Deno
   *   has no such setting.
   * @throws {OSError} `EINVAL` on a connected socket, and on an unbound
   *   `AF_UNIX` one, as on Linux.
   * @throws {TypeError} for a backlog that is not an integer, and
   *   {RangeError} for one outside a C int (Python's `OverflowError`).
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
    if (this.#conn !== null || this.#connectAbort !== null) throw new OSError(errno.EINVAL);
    let listener = this.#listener;
    if (listener === null && this.family === AF_UNIX) {
      // Linux has no name to give an unbound Unix socket here (unix_listen).
      throw new OSError(errno.EINVAL, { detail: "bind() a path before listen()" });
    }
    if (listener === null) {
      listener = this.#bind(this.family === AF_INET6 ? ["::", 0] : ["", 0], size);
    } else if (!listener.listening) {
      // The backlog is fixed when Deno opens the listener, so reopen it on
      // the port bind() chose, now that the size is known (unless it is),
      // or open it again after shutdown().
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
   * @param options `signal`: aborting it ends the wait as a timeout does
   *   (rejecting with its reason); the connection it would have brought
   *   goes to the next call.
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
  accept(options?: AbortOptions): Promise<[StreamSocket, Address]> {
    try {
      const signal = options?.signal;
      checkSignal(signal, "accept");
      this.checkOpen();
      const listener = this.#listener;
      if (listener === null || !listener.listening) throw new OSError(errno.EINVAL);
      // Not async: a server accepts once per connection, and an async frame
      // is garbage that a burst of connections turns into heap growth.
      return listener.accept(this.gettimeout(), signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // What a listener makes of a connection, for every listening socket
  // (given the socket, as the buffer and the writer are given #error).
  static #wrap = (conn: Deno.Conn, owner: unknown): [StreamSocket, Address] => {
    const listener = owner as StreamSocket;
    const { family, proto } = listener;
    const sock = new StreamSocket(family, proto, conn);
    const options = family === AF_UNIX ? null : listener.#options?.inherited() ?? null;
    if (options !== null) {
      sock.#options = options;
      try {
        options.apply(conn);
      } catch { /* the connection is gone already: its first recv or send says so */ }
    }
    // A client that reset before the accept left no address (see _reset_conn.ts).
    if (conn instanceof ResetConn) return [sock, unboundAddress(family)];
    return [sock, fromDenoAddr(conn.remoteAddr, family)];
  };

  /**
   * Connects to `addr`, resolving a host name first with the system resolver.
   * A blocking `AF_UNIX` connect to a listener whose accept queue is full
   * waits for room, as Linux's does; with a timeout it fails with
   * `BlockingIOError` (`EAGAIN`) at once, as CPython's does.
   *
   * @param addr `[host, port]`, or a path for `AF_UNIX`.
   * @param options `signal`: aborting it abandons the attempt and rejects
   *   with its reason.
   * @throws {ConnectionRefusedError} when nothing listens there.
   * @throws {gaierror} when the host name does not resolve.
   * @throws {TimeoutError} past the socket's timeout.
   * @throws {OSError} `EOPNOTSUPP` after `bind()`: Deno cannot connect from a
   *   chosen local address, and pysock will not silently drop it. On a
   *   listening socket, Linux's `EISCONN` (`EINVAL` for `AF_UNIX`).
   * @throws {BlockingIOError} `EINPROGRESS` in non-blocking mode: the connect
   *   goes on, the socket becomes writable when it ends, and
   *   `getsockopt(SOL_SOCKET, SO_ERROR)` then gives its errno (0 on success);
   *   the next `connect` raises a failure's error (`ECONNABORTED` once
   *   `SO_ERROR` took it). `EALREADY` while another connect on the socket is
   *   in progress, blocking or not, as on Linux.
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
  async connect(addr: AddressInput, options?: AbortOptions): Promise<void> {
    const endpoint = checkSocketAddress(addr, this.family, "connect");
    const signal = options?.signal;
    checkSignal(signal, "connect");
    this.checkOpen();
    if (this.#conn !== null) throw new OSError(errno.EISCONN);
    // Linux's answer while a connect is in progress, blocking or not: an
    // unawaited second connect must not open a second connection.
    if (this.#connectAbort !== null) throw new BlockingIOError(errno.EALREADY);
    const failed = this.#options?.takeConnectFailure() ?? null;
    if (failed !== null) throw failed;
    // Linux's answers on a listening socket (and one shutdown() stopped).
    if (this.#listener?.stopped) throw new OSError(errno.EINVAL);
    if (this.#listener?.listening) {
      throw new OSError(this.family === AF_UNIX ? errno.EINVAL : errno.EISCONN);
    }
    if (this.#listener !== null) {
      throw noSourceAddress("a bound address; connect() without bind()");
    }
    const timeout = this.gettimeout();
    if (timeout === 0) {
      // Python's non-blocking connect: EINPROGRESS now; the attempt goes on
      // (bounded by the kernel, close() or the signal), and when it ends the
      // socket is writable and SO_ERROR holds the errno of a failure.
      this.#connecting = this.#open(endpoint, null, signal, false).then(null, (err) => {
        (this.#options ??= new StreamOptions()).connectFailed(errnoOf(err));
      }).finally(() => this.#connecting = null);
      throw new BlockingIOError(errno.EINPROGRESS);
    }
    await this.#open(endpoint, timeout, signal);
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
      if (err instanceof TimeoutError && err.errno === null) return errno.EAGAIN;
      // An address CPython refuses while parsing it ("AF_UNIX path too long") raises there too.
      if (err.errno === null) throw err;
      return errnoOf(err);
    }
  }

  /**
   * One write: resolves to the number of bytes written, which may be less
   * than `data.length`.
   *
   * In non-blocking mode (`setblocking(false)`) it resolves at once to the
   * count taken into the socket's send queue (at most 64 KiB beyond what the
   * kernel has taken; Deno cannot take back a write that would wait), and
   * rejects with `BlockingIOError`, taking nothing, while the queue is full:
   * a selector's `EVENT_WRITE` says when it has drained.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @param flags 0, `MSG_DONTWAIT` (this one send is non-blocking, as
   *   above) or `MSG_NOSIGNAL` (always true: Deno never raises SIGPIPE); any
   *   other flag fails with `EOPNOTSUPP` naming it.
   * @returns The count written.
   * @throws {BlockingIOError} non-blocking, when the send queue is full.
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
  send(data: Uint8Array | string, flags = 0): Promise<number> {
    try {
      const bytes = toBytes(data, "send");
      checkFlags(flags, SEND, "send");
      return this.#writerOf().send(bytes, flags & MSG_DONTWAIT ? 0 : this.gettimeout());
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
   * @param flags As for {@linkcode StreamSocket.send}; with `MSG_DONTWAIT`
   *   it still waits for every byte, as a non-blocking `sendall` does.
   * @throws {BrokenPipeError|ConnectionResetError} when the peer has gone;
   *   {BrokenPipeError} also when never connected (`ENOTCONN` for a Unix
   *   socket), as on Linux.
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
  sendall(data: Uint8Array | string, flags = 0): Promise<void> {
    try {
      const bytes = toBytes(data, "sendall");
      checkFlags(flags, SEND, "sendall");
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
   * @param flags `MSG_PEEK` (return the bytes without consuming them),
   *   `MSG_WAITALL` (wait for all `bufsize` bytes; fewer only at end of
   *   stream), `MSG_DONTWAIT` (non-blocking for this call), or 0.
   * @param options `signal`: aborting it ends the call as a timeout does.
   * @throws {RangeError} for a negative size; {TypeError} for a non-integer.
   * @throws {TimeoutError} past the timeout; the bytes that arrive later are
   *   returned by the next call. An aborted `signal` rejects with its
   *   reason, losing nothing either.
   * @throws {OSError} `EOPNOTSUPP` naming any other flag (`MSG_OOB`, ...).
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
  recv(bufsize: number, flags = 0, options?: AbortOptions): Promise<Uint8Array> {
    try {
      checkSize(bufsize, "recv", "bufsize");
      checkFlags(flags, STREAM_RECV, "recv");
      const signal = options?.signal;
      checkSignal(signal, "recv");
      const buffer = this.#readBuffer();
      if (bufsize === 0) return Promise.resolve(new Uint8Array(0));
      if (flags === 0 && signal === undefined) return buffer.readSome(bufsize, this.gettimeout());
      return recvFlagged(buffer, bufsize, flags, this.gettimeout(), signal);
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
   * @param flags As for {@linkcode StreamSocket.recv}.
   * @param options `signal`, as for {@linkcode StreamSocket.recv}.
   * @throws {TypeError} for a detached buffer, before any I/O.
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
  recvInto(buf: Uint8Array, nbytes = 0, flags = 0, options?: AbortOptions): Promise<number> {
    try {
      const target = checkInto(buf, nbytes, "recvInto");
      checkFlags(flags, STREAM_RECV, "recvInto");
      const signal = options?.signal;
      checkSignal(signal, "recvInto");
      const buffer = this.#readBuffer();
      if (target.length === 0) return Promise.resolve(0);
      if (flags === 0 && signal === undefined) return buffer.readInto(target, this.gettimeout());
      return recvIntoFlagged(buffer, target, flags, this.gettimeout(), signal);
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
   *   below 1 or above 1 GiB (the buffer is made up front), before any I/O.
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
    return new Chunks(this, bufsize);
  }

  /**
   * Shuts down one or both directions. `SHUT_WR` sends end of stream (after
   * any write in flight) while receiving goes on; `SHUT_RD` makes later
   * receives return empty; `SHUT_RDWR` does both. The socket stays open
   * until `close()`. On a listening TCP socket, as on Linux, `SHUT_WR` does
   * nothing and `SHUT_RD` stops listening: a waiting `accept` and every
   * later one fail with `EINVAL` (the way to wake an accept elsewhere)
   * until `listen()` again.
   *
   * @param how `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
   * @throws {OSError} `ENOTCONN` when not connected, or once a receive or
   *   send has reported the connection reset (Linux has closed it then);
   *   `EOPNOTSUPP` for `SHUT_RD` on a listening `AF_UNIX` socket.
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
    checkHow(how);
    this.checkOpen();
    if (this.#listener?.listening) return this.#listener.shutdown(how);
    const conn = this.#conn;
    // Linux's Unix shutdown needs no peer: it records the directions. (On a
    // bound one, SHUT_RD would also make its listener refuse connections,
    // which Deno's cannot: ENOTCONN there, as before.)
    const unbound = this.#listener === null && this.#connectAbort === null;
    if (conn === null && this.family === AF_UNIX && unbound) {
      this.#unixShut |= how + 1;
      return;
    }
    if (conn === null || conn instanceof ResetConn || this.#lost) {
      throw new OSError(errno.ENOTCONN);
    }
    if (how !== SHUT_WR) this.#buffer!.shutdown();
    if (how !== SHUT_RD) {
      const writer = this.#writer ??= Writer.for(conn, StreamSocket.#error, this);
      if (!writer.shut) writer.closeWrite();
    }
  }

  /**
   * The peer's address.
   *
   * @throws {OSError} `ENOTCONN` when not connected, or once a receive or
   *   send has reported the connection reset, as on Linux.
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
    if (this.#conn === null || this.#lost) throw new OSError(errno.ENOTCONN);
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
   * Sets an option. Supported: `TCP_NODELAY` (TCP), `SO_KEEPALIVE` (on a
   * Unix socket Linux keeps the flag and does nothing with it, and so does
   * pysock), `SO_REUSEADDR` (Deno's listeners always reuse the address: `1`
   * is accepted, `0` refused), `SO_REUSEPORT` (TCP, before `bind`).
   *
   * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
   * @param optname The option.
   * @param value An int (one that fits in a C int) or boolean, or packed
   *   bytes (a native int: 4 bytes, or the first 4 of more, as Linux reads it).
   * @throws {OSError} `ENOPROTOOPT` naming an option Deno cannot honour
   *   (`SO_RCVBUF`, `SO_SNDBUF`, ...), never a silent no-op; `EOPNOTSUPP`
   *   for a level the family has none at (`IPPROTO_TCP` on `AF_UNIX`), as
   *   Linux; `EINVAL` for packed bytes shorter than an int.
   * @throws {TypeError} for an int outside a C int, as CPython.
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
   * Reads an option: those `setsockopt` supports, plus `SO_TYPE`,
   * `SO_DOMAIN`, `SO_PROTOCOL`, `SO_ACCEPTCONN` and `SO_ERROR` (the errno of
   * a failed non-blocking connect, once; then 0).
   * `TCP_NODELAY` and `SO_KEEPALIVE` are 0 until set, as the kernel has them
   * (Deno sets neither); set on a listener, they hold for the sockets it
   * accepts, as on Linux.
   *
   * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
   * @param optname The option.
   * @returns The value as an int.
   * @throws {OSError} `ENOPROTOOPT` for an option Deno cannot report;
   *   `EOPNOTSUPP` for a level the family has no options at (`IPPROTO_TCP`
   *   on `AF_UNIX`), as Linux.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SO_TYPE, SOCK_STREAM, socket, SOL_SOCKET } from "./socket.ts";
   * using s = socket();
   * assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
   * ```
   */
  getsockopt(level: number, optname: number): number;
  /**
   * `buflen` 0 reads the option as an int, as in Python.
   *
   * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
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
   * @param level `SOL_SOCKET` or `IPPROTO_TCP`.
   * @param optname The option.
   * @param buflen The most bytes to return, 0–1024.
   * @returns The value's bytes.
   * @throws {OSError} with no errno for a `buflen` outside 0–1024, as CPython.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SO_TYPE, socket, SOL_SOCKET } from "./socket.ts";
   * using s = socket();
   * assert.deepEqual(s.getsockopt(SOL_SOCKET, SO_TYPE, 4), new Uint8Array([1, 0, 0, 0]));
   * ```
   */
  getsockopt(level: number, optname: number, buflen: number): Uint8Array;
  getsockopt(level: number, optname: number, buflen?: number): number | Uint8Array {
    checkOption(level, optname, 0);
    if (buflen !== undefined) checkBuflen(buflen);
    this.checkOpen();
    const value = this.#option(level, optname);
    return buflen ? optionBytes(value, buflen) : value;
  }

  #option(level: number, optname: number): number {
    const conn = this.#conn;
    if (conn instanceof ResetConn && level === SOL_SOCKET && optname === SO_ERROR) {
      return conn.takeErrno();
    }
    const options = this.#options ?? DEFAULT_OPTIONS;
    const listener = this.#listener;
    const reuses = listener !== null || this.#accepted;
    return options.get(level, optname, this.family, reuses, listener?.listening ?? false);
  }

  /**
   * A buffered file over the same byte stream (Python's `makefile`). It
   * reads through the socket's own buffer, so bytes read ahead are never
   * lost to `recv` or the framing readers, and the other way round.
   *
   * As in CPython, the file holds the socket: `close()` on the socket while
   * the file is open takes effect when the file is closed.
   *
   * @param mode `"r"`/`"w"`/`"rw"` for text (strings, UTF-8), with `"b"` for bytes.
   * @param buffering Python's: `0` sends every write at once (binary only),
   *   `1` line-buffers a text file, a larger number is the write buffer's
   *   size; omitted, `null` or negative, 8192 bytes. Or the options object.
   * @param opts `buffering`, `encoding` (UTF-8 spelled any way), `errors`
   *   (`"replace"`) and `newline`, as Python's keyword arguments.
   * @returns The file; closing it does not close the socket.
   * @throws {RangeError} for a value pysock cannot honour (another encoding,
   *   unbuffered text), as Python's `ValueError`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socketpair } from "./socket.ts";
   * const [a, b] = await socketpair();
   * await using _a = a;
   * await using _b = b;
   * await a.sendall("one\ntwo\n");
   * const f = b.makefile("rb", 0);
   * assert.equal(new TextDecoder().decode(await f.readline()), "one\n");
   * assert.equal(new TextDecoder().decode(await b.recv(10)), "two\n");
   * ```
   */
  makefile(mode: BinaryMode, buffering?: Buffering, opts?: MakefileOptions): SocketFile<Uint8Array>;
  /**
   * A text file over the socket (strings, UTF-8): Python's default mode
   * `"r"`, with universal newlines unless `newline` says otherwise.
   *
   * @param mode `"r"`, `"w"` or `"rw"`.
   * @param buffering As for a binary file; `1` is line buffering.
   * @param options `buffering`, `encoding`, `errors` and `newline`, as Python's keyword arguments.
   * @returns The file.
   */
  makefile(mode?: TextMode, buffering?: Buffering, options?: MakefileOptions): SocketFile<string>;
  makefile(
    mode: SocketFileMode = "r",
    buffering?: Buffering,
    options?: MakefileOptions,
  ): SocketFile<Uint8Array> | SocketFile<string> {
    this.checkOpen();
    const file = new SocketFile<Uint8Array>(this, mode, buffering, options);
    this.#files++;
    return file;
  }

  /** @ignore Internal: a file from makefile() closed; a close() it deferred happens now. */
  [kFileClosed](): void {
    if (this.#files > 0 && --this.#files === 0 && this.closeCalled) this.close();
  }

  /** @ignore Internal: closes now, even while makefile() files hold the socket. */
  [kAbandon](): void {
    this.#files = 0;
    this.close();
  }

  /** A closed listener's release (its Unix socket file back in place). */
  protected override released(): Promise<void> {
    return this.#released ?? Promise.resolve();
  }

  /** Whether an open makefile() file holds the socket. */
  protected override keepsOpen(): boolean {
    return this.#files > 0;
  }

  /**
   * Sends a file's contents: a `Deno.FsFile` (from its current position, or
   * from `offset`) or a path.
   *
   * @param file An open file or a path.
   * @param offset Where to start reading.
   * @param count How many bytes at most: a positive integer, or omitted
   *   (`null`, Python's `None`) for all to end of file.
   * @returns The number of bytes sent.
   * @throws {RangeError} for a negative offset or a count <= 0, or on a
   *   non-blocking socket (Python's `ValueError`s), {TypeError} for a
   *   non-integer, before any I/O.
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
  async sendfile(
    file: Deno.FsFile | string,
    offset = 0,
    count?: number | null,
  ): Promise<number> {
    checkSendfile(file, offset, count);
    // As Python's ValueError: a send that can stop part-way would leave the
    // file's position and the stream out of step.
    if (this.gettimeout() === 0) {
      throw new RangeError("Cannot sendfile: non-blocking sockets are not supported");
    }
    this.#writerOf();
    return await sendFile(this, file, offset, count ?? undefined);
  }

  /**
   * A Web `ReadableStream` of the bytes received, built on the socket's own
   * buffer (bytes already buffered come first). Reaching end of stream, or
   * cancelling, leaves the write side open; cancelling loses nothing (the
   * bytes that arrive next go to `recv`), and the next `readable` is a new
   * stream.
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
    return this.#readable ??= readableOf(this.#readBuffer(), () => this.#readable = null);
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

  /** @ignore Internal: readiness, for selectors (see _ready.ts). */
  [kWatch](events: number, watcher: Watcher | null): number {
    if (this.closed) return CLOSED;
    const buffer = this.#conn === null ? null : this.#buffer;
    return streamReady(events, watcher, this.#listener, buffer, this.#writer, this.#connecting);
  }

  /**
   * Releases the listener or connection; pending calls reject with `EBADF`.
   * Bytes that non-blocking sends queued are still written first (see
   * _writer.ts), as the kernel sends what its buffer holds after close().
   */
  protected onClose(): void {
    const conn = this.#conn;
    this.#released = this.#listener?.close() ?? null;
    this.#listener = null;
    this.#connectAbort?.abort();
    if (this.#writer !== null) {
      if (this.#writer.close()) this.#buffer!.shutdown(new OSError(errno.EBADF));
      return;
    }
    try {
      conn?.close();
    } catch { /* already closed by Deno */ }
  }

  /** @ignore Internal: the writer is idle; it goes back to the spare ones, so a connection between writes holds none. */
  [kWriterIdle](writer: Writer): void {
    if (this.#writer !== writer) return;
    this.#writer = null;
    writer.recycle();
  }

  // One function for every socket's buffer, writer and listener, rather than a closure each.
  static #error = (err: unknown, sock: unknown): unknown => {
    const self = sock as StreamSocket;
    const translated = self.#translate(err);
    // The buffer's and the writer's errors: the connection is gone. (The
    // listener's come here too, but a listener has no connection to lose.)
    if (translated instanceof ConnectionError && self.#conn !== null) self.#lost = true;
    return translated;
  };

  #adopt(conn: Deno.Conn): void {
    this.#conn = conn;
    this.#buffer = new ReadBuffer(conn, StreamSocket.#error, this);
    if (this.#unixShut & 1) this.#buffer.shutdown();
    if (this.#options !== null && this.family !== AF_UNIX) this.#options.apply(conn);
  }

  async #open(
    endpoint: IpEndpoint | string,
    timeout: number | null,
    signal: AbortSignal | undefined,
    blocking = true,
  ): Promise<void> {
    // One controller ends the attempt on timeout, on close() or when the
    // caller's signal aborts, so a connect to a silent peer outlives none.
    const abort = this.#connectAbort = new AbortController();
    let conn: Deno.Conn;
    try {
      conn = await dial(endpoint, this.family, timeout, abort, signal, blocking);
    } catch (err) {
      if (this.closed) throw new OSError(errno.EBADF, { cause: err });
      if (signal?.aborted) throw signal.reason;
      if (abort.signal.aborted) throw new TimeoutError(null, { cause: err });
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

  // Unconnected (or listening), Linux's answers differ by family: a Unix
  // stream socket's receive is EINVAL, and a TCP socket's send EPIPE.
  #readBuffer(): ReadBuffer {
    this.checkOpen();
    if (this.#buffer !== null) return this.#buffer;
    throw new OSError(this.family === AF_UNIX ? errno.EINVAL : errno.ENOTCONN);
  }

  #writerOf(): Writer {
    this.checkOpen();
    const conn = this.#conn;
    if (conn === null) {
      throw this.family === AF_UNIX ? new OSError(errno.ENOTCONN) : new BrokenPipeError();
    }
    if (this.#unixShut & 2) throw new BrokenPipeError();
    const writer = this.#writer ??= Writer.for(conn, StreamSocket.#error, this);
    if (writer.shut) throw new BrokenPipeError();
    return writer;
  }

  #translate(err: unknown, endpoint?: IpEndpoint | string): unknown {
    if (err instanceof OSError && !(err.cause instanceof Error)) return err;
    if (this.closed) return new OSError(errno.EBADF, { cause: err });
    return endpointError(err, endpoint);
  }
}
