// Python's ssl.SSLSocket: a StreamSocket whose connection is a TLS session.
// The StreamSocket underneath is built on a "channel" that reads and writes
// through the session, so recv, recvInto, makefile, the framing readers,
// `readable`, timeouts that lose nothing and call-order serving all come
// from the one read buffer, as for a plain socket: this file adds only what
// TLS changes (wrapping, connect, accept, handshake, the session's facts).

import { type AbortOptions, waitFor } from "./_base.ts";
import { kReader, type ReadBuffer } from "./_buffer.ts";
import { kWatch, type Watcher } from "./_ready.ts";
import { BlockingIOError, errno, errorFromErrno, OSError, TimeoutError } from "./errors.ts";
import { SO_ERROR, SOL_SOCKET } from "./_constants.ts";
import { type Address, type AddressInput, type OptionValue, StreamSocket } from "./socket.ts";
import type {
  BinaryMode,
  Buffering,
  MakefileOptions,
  SocketFile,
  SocketFileMode,
  TextMode,
} from "./_socket_file.ts";
import { decodeCertificate, type PeerCertificate } from "./_ssl_cert.ts";
import { Channel } from "./_ssl_channel.ts";
import {
  checkHostnameNotEmpty,
  noFlags,
  readFailed,
  SSLWantReadError,
  timedOut,
  writeFailed,
} from "./_ssl_errors.ts";
import { dialNative, nativeApplies } from "./_ssl_native.ts";
import { NodeSession } from "./_ssl_node.ts";
import { CERT_NONE, type EngineName, type TlsConfig, type TlsSession } from "./_ssl_session.ts";
import type { SSLContext } from "./ssl.ts";

/** Options of {@linkcode SSLContext.wrapSocket}, as Python's `wrap_socket` keywords. */
export interface WrapSocketOptions {
  /** Act as the server (default `false`). */
  serverSide?: boolean;
  /**
   * The server's name: sent in SNI and checked against its certificate
   * when the context's `checkHostname` is on. Client side only.
   */
  serverHostname?: string | null;
  /**
   * Run the handshake in `wrapSocket` (or `connect`/`accept`) (default
   * `true`); otherwise call `doHandshake()`, or the first read or write does it.
   */
  doHandshakeOnConnect?: boolean;
  /**
   * A peer closing the connection without close_notify reads as end of
   * stream (default `true`, as in Python); otherwise `SSLEOFError`.
   */
  suppressRaggedEofs?: boolean;
}

/** What an SSLContext hands a socket: its settings, and the engine it prefers. */
export interface ContextSettings {
  config(
    serverSide: boolean,
    serverHostname: string | null,
    suppressRaggedEofs: boolean,
  ): TlsConfig;
  readonly engine: EngineName;
}

const kCreate: unique symbol = Symbol("pysock.ssl.create");

// What a read of an SSLSocket's buffer says when it times out (CPython's _ssl.c).
const READ_TIMED_OUT = "The read operation timed out";

// Sockets an SSLSocket owns until it closes or unwraps: Python's wrap_socket
// detaches the socket, so a second wrap fails (EBADF); pysock cannot detach,
// so it refuses instead of running two sessions over one connection.
const owned = new WeakSet<StreamSocket>();

/**
 * A TLS socket, as `SSLContext.wrapSocket` returns it (Python's
 * `ssl.SSLSocket`): the {@linkcode StreamSocket} surface (`recv`,
 * `recvInto`, `send`, `sendall`, `makefile`, `settimeout`, `shutdown`,
 * `readable`/`writable`, the framing helpers) over an encrypted connection,
 * plus the handshake and its facts. A listening socket wrapped server-side
 * returns SSLSockets from `accept()`.
 *
 * Differences from Python: `shutdown(SHUT_WR)` sends close_notify before
 * ending the stream (Python drops TLS and shuts the socket); with the
 * `"deno"` engine `version()`, `cipher()` and `getpeercert()` throw, since
 * Deno.TlsConn reports only the ALPN protocol.
 *
 * @example An SSLSocket before it connects (the module example shows a whole exchange)
 * ```ts
 * import { errno, OSError } from "./errors.ts";
 * import { socket, StreamSocket } from "./socket.ts";
 * import { createDefaultContext } from "./ssl.ts";
 * import { equal, ok, rejects } from "node:assert/strict";
 *
 * const ctx = createDefaultContext();
 * await using ssock = await ctx.wrapSocket(socket(), { serverHostname: "example.org" });
 * ok(ssock instanceof StreamSocket);
 * equal(ssock.engine, null); // chosen at connect()
 * equal(ssock.version(), null);
 * await rejects(ssock.recv(10), (e: unknown) => e instanceof OSError && e.errno === errno.ENOTCONN);
 * ```
 */
export class SSLSocket extends StreamSocket {
  /** The context the socket was wrapped with. */
  readonly context: SSLContext;
  /** Whether this end is the server. */
  readonly serverSide: boolean;
  /** The name checked against the server's certificate (client side), or `null`. */
  readonly serverHostname: string | null;
  /** Whether `connect`/`accept` run the handshake. */
  readonly doHandshakeOnConnect: boolean;
  /** Whether a close without close_notify reads as end of stream. */
  readonly suppressRaggedEofs: boolean;
  #raw: StreamSocket;
  // A non-blocking connect still under way: the session's settings, for
  // when it has connected (doHandshake, or the first read or write).
  #deferred: TlsConfig | null = null;
  #settings: ContextSettings;
  #channel: Channel;
  #unwrapped = false;
  // Connections accept() took and is still shaking hands on (a listener).
  #handshaking: Set<StreamSocket> | null = null;
  #handshaken = false;
  // The native engine's dial under way (connect), for close() to end it.
  #dialing: AbortController | null = null;

  /**
   * Not for direct use: `SSLContext.wrapSocket()` makes SSLSockets.
   *
   * @param token Internal.
   * @param raw The socket being wrapped.
   * @param context The context.
   * @param settings Internal.
   * @param options The wrap options.
   * @throws {TypeError} when called directly.
   */
  constructor(
    token: symbol,
    raw: StreamSocket,
    context: SSLContext,
    settings: ContextSettings,
    options: WrapSocketOptions,
  ) {
    if (token !== kCreate) {
      throw new TypeError(
        "SSLSocket does not have a public constructor. Instances are returned by SSLContext.wrapSocket()",
      );
    }
    const channel = new Channel();
    super(raw.family, raw.proto, channel as unknown as Deno.Conn);
    this.#channel = channel;
    this.#raw = raw;
    this.#settings = settings;
    this.context = context;
    this.serverSide = options.serverSide ?? false;
    this.serverHostname = options.serverHostname ?? null;
    this.doHandshakeOnConnect = options.doHandshakeOnConnect ?? true;
    this.suppressRaggedEofs = options.suppressRaggedEofs ?? true;
    this.settimeout(raw.gettimeout());
  }

  /**
   * @ignore Internal: readiness, for selectors. While a non-blocking
   * connect is under way it is the wrapped socket's (writable once
   * connected, as a selector waiting for the connect expects).
   */
  override [kWatch](events: number, watcher: Watcher | null): number {
    if (this.#deferred !== null && !this.closed) return this.#raw[kWatch](events, watcher);
    return super[kWatch](events, watcher);
  }

  /** The engine carrying the session (`"node"` or `"deno"`), or `null` before there is one. */
  get engine(): EngineName | null {
    return this.#channel.session?.engine ?? null;
  }

  /** @ignore Internal: wraps `raw` as `SSLContext.wrapSocket` asked. */
  static async [kCreate](
    raw: StreamSocket,
    context: SSLContext,
    settings: ContextSettings,
    options: WrapSocketOptions,
  ): Promise<SSLSocket> {
    if (owned.has(raw)) {
      throw new OSError(errno.EBADF, { detail: "the socket is already wrapped by an SSLSocket" });
    }
    const sock = new SSLSocket(kCreate, raw, context, settings, options);
    owned.add(raw);
    let connected = true;
    try {
      raw.getpeername();
    } catch (err) {
      if (!(err instanceof OSError) || err.errno !== errno.ENOTCONN) throw err;
      connected = false;
    }
    if (!connected) {
      // CPython's _create: a socket that is not connected but has an error
      // pending (a client that reset before accept(), whose recv would raise
      // it) fails the wrap with that error, ConnectionResetError, so a TLS
      // listener's accept() raises it, as CPython's does.
      const pending = raw.getsockopt(SOL_SOCKET, SO_ERROR);
      if (pending !== 0) {
        sock.close();
        throw errorFromErrno(pending);
      }
      return sock;
    }
    if (sock.serverHostname === "") {
      sock.close(); // as Python closes it (the wrapped socket with it)
      checkHostnameNotEmpty(sock.serverHostname);
    }
    sock.#channel.session = new NodeSession(raw, sock.#config());
    if (sock.doHandshakeOnConnect) await sock.#handshakeOrClose();
    return sock;
  }

  #config(): TlsConfig {
    return this.#settings.config(this.serverSide, this.serverHostname, this.suppressRaggedEofs);
  }

  async #handshakeOrClose(): Promise<void> {
    if (this.gettimeout() === 0) {
      this.close();
      throw new TypeError(
        "Cannot wrap socket: doHandshakeOnConnect should not be specified for non-blocking sockets",
      );
    }
    try {
      await this.doHandshake();
    } catch (err) {
      // Python closes a socket whose handshake failed in wrap_socket.
      this.close();
      throw err;
    }
  }

  #session(): TlsSession {
    this.checkOpen();
    const session = this.#channel.session ?? this.#startDeferred();
    if (session === null) throw new OSError(errno.ENOTCONN);
    return session;
  }

  // Open, never connected and not connecting: CPython's SSLSocket then
  // writes as the plain socket does (EPIPE on Linux).
  #unconnected(): boolean {
    return !this.closed && this.#channel.session === null && this.#deferred === null;
  }

  #startDeferred(): TlsSession | null {
    const config = this.#deferred;
    if (config === null) return null;
    try {
      this.#raw.getpeername();
    } catch {
      return null; // still connecting, or the connect failed
    }
    this.#deferred = null;
    return this.#channel.session = new NodeSession(this.#raw, config);
  }

  /**
   * Runs the TLS handshake, if not done yet. Needed only with
   * `doHandshakeOnConnect: false`; with a timeout of 0 it fails with
   * {@linkcode SSLWantReadError} until the handshake is done, as in Python.
   *
   * @throws {SSLCertVerificationError} when the peer's certificate fails the checks.
   * @throws {SSLError} for any other TLS failure; {TimeoutError} past the timeout.
   */
  async doHandshake(): Promise<void> {
    const session = this.#session();
    const timeout = this.gettimeout();
    try {
      await waitFor(session.handshake(), timeout);
      this.#handshaken = true;
    } catch (err) {
      // close() ends the handshake: EBADF, whatever the engine saw (Deno.TlsConn: EINTR).
      if (this.closed) throw new OSError(errno.EBADF, { cause: err });
      if (err instanceof BlockingIOError) throw new SSLWantReadError({ cause: err });
      if (err instanceof TimeoutError) {
        throw new TimeoutError(null, {
          strerror: "The handshake operation timed out",
          cause: err,
        });
      }
      throw err;
    }
  }

  /**
   * Connects, then runs the TLS handshake (Python's `SSLSocket.connect`).
   *
   * @param addr `[host, port]`, or a path for `AF_UNIX`.
   * @throws {TypeError} on a server-side socket.
   * @throws {SSLCertVerificationError} when the server's certificate fails the checks.
   */
  override async connect(addr: AddressInput): Promise<void> {
    this.checkOpen();
    if (this.serverSide) throw new TypeError("Cannot connect: the socket is server-side");
    if (this.#channel.session !== null) throw new OSError(errno.EISCONN);
    checkHostnameNotEmpty(this.serverHostname);
    const config = this.#config();
    const timeout = this.gettimeout();
    if (this.#settings.engine === "deno" && nativeApplies(config, this.family) === null) {
      // close() during the dial ends it (EBADF), as it ends a plain connect.
      const dialing = this.#dialing = new AbortController();
      let session;
      try {
        session = await dialNative(this.#raw, addr, config, timeout, dialing.signal);
      } finally {
        this.#dialing = null;
      }
      if (this.closed) {
        session.close();
        throw new OSError(errno.EBADF);
      }
      this.#channel.session = session;
    } else {
      this.#raw.settimeout(timeout);
      try {
        await this.#raw.connect(addr);
      } catch (err) {
        // Non-blocking (EINPROGRESS): the connect goes on, the session waits for it.
        if (err instanceof BlockingIOError) this.#deferred = config;
        throw err;
      }
      this.#channel.session = new NodeSession(this.#raw, config);
    }
    if (this.doHandshakeOnConnect) await this.doHandshake();
  }

  /**
   * Accepts a connection and wraps it server-side with the same context;
   * with `doHandshakeOnConnect`, the handshake runs here and its failure is
   * this call's (as in Python).
   *
   * @param options `signal`, as for {@linkcode StreamSocket.accept}: it ends
   *   the wait for a connection, not a handshake under way.
   * @returns The TLS socket and the peer's address.
   */
  override async accept(options?: AbortOptions): Promise<[SSLSocket, Address]> {
    this.checkOpen();
    this.#raw.settimeout(this.gettimeout());
    const [conn, addr] = await this.#raw.accept(options);
    // A client can stall its handshake for ever: close() closes the
    // connections still in one, so that this call settles too.
    const handshaking = this.#handshaking ??= new Set();
    handshaking.add(conn);
    try {
      const sock = await this.context.wrapSocket(conn, {
        serverSide: true,
        doHandshakeOnConnect: this.doHandshakeOnConnect,
        suppressRaggedEofs: this.suppressRaggedEofs,
      });
      return [sock, addr];
    } catch (err) {
      conn.close();
      if (this.closed) throw new OSError(errno.EBADF, { cause: err });
      throw err;
    } finally {
      handshaking.delete(conn);
    }
  }

  /**
   * Binds the wrapped socket.
   *
   * @param addr The address.
   */
  override bind(addr: AddressInput): void {
    this.checkOpen();
    this.#raw.bind(addr);
  }

  /**
   * Starts listening on the wrapped socket; `accept()` returns SSLSockets.
   *
   * @param backlog The accept queue's length.
   */
  override listen(backlog?: number): void {
    this.checkOpen();
    this.#raw.listen(backlog);
  }

  /**
   * The local address.
   *
   * @returns The address.
   */
  override getsockname(): Address {
    this.checkOpen();
    return this.#channel.session === null ? this.#raw.getsockname() : super.getsockname();
  }

  /**
   * The peer's address.
   *
   * @returns The address.
   * @throws {OSError} `ENOTCONN` when not connected.
   */
  override getpeername(): Address {
    this.#session();
    return super.getpeername();
  }

  /**
   * Sets an option on the connection (on the wrapped socket before connect).
   *
   * @param level The level.
   * @param optname The option.
   * @param value The value.
   */
  override setsockopt(level: number, optname: number, value: OptionValue): void {
    this.checkOpen();
    if (this.#channel.session === null) this.#raw.setsockopt(level, optname, value);
    else super.setsockopt(level, optname, value);
  }

  /**
   * Reads an option.
   *
   * @param level The level.
   * @param optname The option.
   * @returns Its value.
   */
  override getsockopt(level: number, optname: number): number;
  /**
   * Reads an option as an int (`buflen` 0, as in Python).
   *
   * @param level The level.
   * @param optname The option.
   * @param buflen 0.
   * @returns Its value.
   */
  override getsockopt(level: number, optname: number, buflen: 0): number;
  /**
   * Reads an option as packed bytes (Python's `buflen` form).
   *
   * @param level The level.
   * @param optname The option.
   * @param buflen The most bytes to return, 0–1024.
   * @returns Its value's bytes.
   */
  override getsockopt(level: number, optname: number, buflen: number): Uint8Array;
  override getsockopt(level: number, optname: number, buflen?: number): number | Uint8Array {
    this.checkOpen();
    if (this.#channel.session === null) {
      return buflen === undefined
        ? this.#raw.getsockopt(level, optname)
        : this.#raw.getsockopt(level, optname, buflen);
    }
    return buflen === undefined
      ? super.getsockopt(level, optname)
      : super.getsockopt(level, optname, buflen);
  }

  /**
   * Receives up to `bufsize` decrypted bytes; an empty array at end of
   * stream (close_notify, or a close without it when ragged EOFs are
   * suppressed). Non-blocking and nothing decrypted yet: {@linkcode SSLWantReadError}.
   *
   * @param bufsize The most bytes to return.
   * @param flags Must be 0, as in Python: TLS cannot honour `MSG_PEEK` or `MSG_DONTWAIT`.
   * @param options `signal` ends the wait, as for a plain socket's `recv`.
   * @returns The bytes.
   * @throws {RangeError} for flags other than 0 (Python's ValueError).
   */
  override recv(bufsize: number, flags = 0, options?: AbortOptions): Promise<Uint8Array> {
    try {
      noFlags(flags, "recv");
      this.#session();
    } catch (err) {
      return Promise.reject(err);
    }
    const reading = super.recv(bufsize, 0, options);
    return this.gettimeout() === null ? reading : reading.catch(readFailed);
  }

  /**
   * Receives decrypted bytes into `buf`.
   *
   * @param buf The array to fill.
   * @param nbytes The most bytes; 0 for all of `buf`.
   * @param flags Must be 0, as for {@linkcode recv}.
   * @param options `signal` ends the wait, as for {@linkcode recv}.
   * @returns The count; 0 at end of stream.
   */
  override recvInto(
    buf: Uint8Array,
    nbytes = 0,
    flags = 0,
    options?: AbortOptions,
  ): Promise<number> {
    try {
      noFlags(flags, "recvInto");
      this.#session();
    } catch (err) {
      return Promise.reject(err);
    }
    const reading = super.recvInto(buf, nbytes, 0, options);
    return this.gettimeout() === null ? reading : reading.catch(readFailed);
  }

  /**
   * Encrypts and sends `data` in one write.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @param flags Must be 0, as for {@linkcode recv}.
   * @returns The count taken.
   */
  override send(data: Uint8Array | string, flags = 0): Promise<number> {
    if (this.#unconnected()) return this.#raw.send(data, flags);
    try {
      noFlags(flags, "send");
      this.#session();
    } catch (err) {
      return Promise.reject(err);
    }
    const sending = super.send(data);
    return this.gettimeout() === null ? sending : sending.catch(writeFailed);
  }

  /**
   * Encrypts and sends every byte of `data`.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @param flags Must be 0, as for {@linkcode recv}.
   */
  override sendall(data: Uint8Array | string, flags = 0): Promise<void> {
    if (this.#unconnected()) return this.#raw.sendall(data, flags);
    try {
      noFlags(flags, "sendall");
      this.#session();
    } catch (err) {
      return Promise.reject(err);
    }
    const sending = super.sendall(data);
    return this.gettimeout() === null ? sending : sending.catch(writeFailed);
  }

  /**
   * Shuts down one or both directions. `SHUT_WR` sends close_notify, then
   * end of stream, while reading goes on (TLS 1.3 half-close).
   *
   * @param how `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
   */
  override shutdown(how: number): void {
    this.#session();
    super.shutdown(how);
  }

  /**
   * A buffered file over the decrypted stream (shares the socket's buffer).
   * As in CPython, the open file holds the socket: `close()` takes effect
   * once the file is closed too.
   *
   * @param mode `"r"`, `"w"`, `"rw"`, with `"b"` for bytes.
   * @param buffering As for {@linkcode StreamSocket.makefile}.
   * @param options As for {@linkcode StreamSocket.makefile}.
   * @returns The file.
   */
  override makefile(
    mode: BinaryMode,
    buffering?: Buffering,
    options?: MakefileOptions,
  ): SocketFile<Uint8Array>;
  /**
   * A text file over the decrypted stream.
   *
   * @param mode `"r"`, `"w"` or `"rw"`.
   * @param buffering As for {@linkcode StreamSocket.makefile}.
   * @param options As for {@linkcode StreamSocket.makefile}.
   * @returns The file.
   */
  override makefile(
    mode?: TextMode,
    buffering?: Buffering,
    options?: MakefileOptions,
  ): SocketFile<string>;
  override makefile(
    mode: SocketFileMode = "r",
    buffering?: Buffering,
    options?: MakefileOptions,
  ): SocketFile<Uint8Array> | SocketFile<string> {
    // Not connected yet is fine, as in CPython: the file's reads fail with
    // ENOTCONN until the socket is connected.
    this.checkOpen();
    // StreamSocket's makefile counts the file as holding the socket; the cast
    // only picks one of its overloads (the mode is checked there).
    return super.makefile(mode as "r", buffering, options);
  }

  /**
   * Sends a file's contents over TLS (through `sendall`, as Python's
   * SSLSocket does: no zero-copy path under encryption).
   *
   * @param file An open file or a path.
   * @param offset Where to start reading.
   * @param count How many bytes at most.
   * @returns The number of bytes sent.
   */
  override sendfile(file: Deno.FsFile | string, offset = 0, count?: number): Promise<number> {
    if (this.#unconnected()) return this.#raw.sendfile(file, offset, count);
    try {
      this.#session();
    } catch (err) {
      return Promise.reject(err);
    }
    return super.sendfile(file, offset, count);
  }

  /** A Web `ReadableStream` of the decrypted bytes, on the socket's own buffer. */
  override get readable(): ReadableStream<Uint8Array> {
    this.#session();
    return super.readable;
  }

  /** A Web `WritableStream` that encrypts and sends through `sendall`. */
  override get writable(): WritableStream<Uint8Array> {
    this.#session();
    return super.writable;
  }

  /** @ignore Internal: the read buffer of the decrypted stream, for framing and makefile. */
  override [kReader](): ReadBuffer {
    this.#session();
    const buffer = super[kReader]();
    buffer.timeoutText = READ_TIMED_OUT;
    return buffer;
  }

  /**
   * The negotiated protocol, `"TLSv1.2"` or `"TLSv1.3"`; `null` before the handshake.
   *
   * @returns The version.
   * @throws {OSError} `EOPNOTSUPP` with the `"deno"` engine, which cannot tell.
   */
  version(): string | null {
    // After close, null, as Python's (its SSL object is gone).
    if (this.closed) return null;
    const info = this.#info();
    return info === null ? null : info.version;
  }

  /**
   * The cipher in use, as Python's `(name, protocol, secret bits)`; `null` before the handshake.
   *
   * @returns The cipher.
   * @throws {OSError} `EOPNOTSUPP` with the `"deno"` engine, which cannot tell.
   */
  cipher(): [string, string, number] | null {
    if (this.closed) return null;
    const info = this.#info();
    return info === null ? null : info.cipher;
  }

  /**
   * The ALPN protocol the peers agreed on, or `null`.
   *
   * @returns The protocol.
   */
  selectedAlpnProtocol(): string | null {
    if (this.closed) return null;
    return this.#channel.session?.info()?.alpn ?? null;
  }

  /**
   * The peer's certificate, as Python's `getpeercert()`: a dict of
   * `subject`, `issuer`, `version`, `serialNumber`, `notBefore`,
   * `notAfter`, `subjectAltName`, ...; `{}` when it was not verified
   * (the context is `CERT_NONE` now); `null` when the peer sent none. With
   * `binaryForm`, the DER bytes (or `null`).
   *
   * @param binaryForm Return the DER bytes instead of the dict.
   * @returns The certificate.
   * @throws {TypeError} before the handshake.
   * @throws {OSError} `EOPNOTSUPP` with the `"deno"` engine, which cannot tell.
   */
  getpeercert(binaryForm?: false): PeerCertificate | Record<string, never> | null;
  /**
   * The peer's certificate as DER bytes.
   *
   * @param binaryForm `true`.
   * @returns The bytes, or `null` when the peer sent none.
   */
  getpeercert(binaryForm: true): Uint8Array | null;
  getpeercert(binaryForm = false): PeerCertificate | Record<string, never> | Uint8Array | null {
    this.#session();
    const info = this.#info();
    if (info === null) {
      throw new TypeError("Cannot get the peer certificate: handshake not done yet");
    }
    const der = info.peerCertificate;
    if (binaryForm) return der;
    if (der === null) return null;
    // As CPython, the context's verify mode now, on either side: a server
    // that turned CERT_NONE after the handshake gives {} too.
    if (this.#config().verifyMode === CERT_NONE) return {};
    return decodeCertificate(der);
  }

  /**
   * How many decrypted bytes are ready to read without waiting; 0 without
   * a session (not connected, listening, closed), as in Python.
   *
   * @returns The count.
   */
  pending(): number {
    // 0 without a session (unconnected, listening, closed), as CPython's.
    if (this.closed) return 0;
    const session = this.#channel.session ?? this.#startDeferred();
    return session === null ? 0 : super[kReader]().buffered + session.pending();
  }

  /**
   * Ends TLS (close_notify both ways) and returns the wrapped socket for
   * plaintext; bytes the peer sent after its close_notify are the plain
   * socket's to read. This SSLSocket is closed afterwards.
   *
   * @returns The plain socket.
   * @throws {TypeError} without a TLS session (not connected, listening,
   *   closed, or unwrapped already): Python's `ValueError` "No SSL wrapper around ...".
   * @throws {OSError} `EOPNOTSUPP` with the `"deno"` engine: Deno.TlsConn
   *   cannot return to plaintext.
   */
  async unwrap(): Promise<StreamSocket> {
    if (this.closed || this.#channel.session === null && this.#startDeferred() === null) {
      // Python's ValueError, a TypeError here (README).
      throw new TypeError(`No SSL wrapper around ${this}`);
    }
    const session = this.#session();
    if (session.unwrap === undefined) {
      throw new OSError(errno.EOPNOTSUPP, {
        detail: 'Deno.TlsConn cannot return to plaintext; use an SSLContext with engine "node"',
      });
    }
    let raw: StreamSocket;
    try {
      raw = await waitFor(session.unwrap(), this.gettimeout());
    } catch (err) {
      throw timedOut(err, "read"); // waiting for the peer's close_notify, as CPython says
    }
    this.#unwrapped = true;
    owned.delete(raw);
    raw.settimeout(this.gettimeout());
    this.close();
    return raw;
  }

  #info() {
    this.checkOpen();
    const session = this.#channel.session;
    if (session === null || !this.#handshaken && session.info() === null) return null;
    const info = session.info();
    if (info !== null && !info.detailed) {
      throw new OSError(errno.EOPNOTSUPP, {
        detail: "Deno.TlsConn reports only the ALPN protocol (denoland/deno#31111); " +
          'use an SSLContext with engine "node" for version(), cipher() and getpeercert()',
      });
    }
    return info;
  }

  /**
   * Python's repr of an SSLSocket: `<ssl.SSLSocket fd=3, family=2, ...>`.
   *
   * @returns The repr.
   */
  override toString(): string {
    return super.toString().replace(/^<socket\.socket/, "<ssl.SSLSocket");
  }

  /** Releases the session and the wrapped socket (unless `unwrap` handed it back). */
  protected override onClose(): void {
    super.onClose();
    if (!this.#unwrapped) this.#raw.close();
    this.#dialing?.abort();
    for (const conn of this.#handshaking ?? []) conn.close();
  }
}

/**
 * Wraps `raw` for `context` (the body of `SSLContext.wrapSocket`).
 *
 * @param raw The socket.
 * @param context The context.
 * @param settings The context's settings.
 * @param options The wrap options.
 */
export function wrap(
  raw: StreamSocket,
  context: SSLContext,
  settings: ContextSettings,
  options: WrapSocketOptions,
): Promise<SSLSocket> {
  return SSLSocket[kCreate](raw, context, settings, options);
}
