// The node:tls engine: a TLSSocket over a Duplex whose bytes come from the
// wrapped pysock socket's own read buffer and leave through its sendall.
// It is the engine for servers (Deno.startTls only speaks the client side,
// denoland/deno#18451, and Deno.listenTls cannot ask for or check client
// certificates, denoland/deno#26825), for client certificates on an
// upgraded connection (denoland/deno#21496), for STARTTLS on a pysock socket
// that already read (its bytes are in pysock's buffer, which Deno.startTls
// cannot see), and wherever version(), cipher() or getpeercert() are needed
// (Deno.TlsConn reports only the ALPN protocol).
//
// Server sockets go through tls.createServer and its "connection" event, not
// `new TLSSocket(socket, {isServer})`: measured on Deno 2.9.6, the latter
// accepted a client certificate from an unknown CA, the former refuses it.

import type * as tls from "node:tls";
import { nodeTls } from "./_node.ts";
import { AF_UNIX, IPPROTO_TCP, SO_KEEPALIVE, SOL_SOCKET, TCP_NODELAY } from "./_constants.ts";
import type { StreamSocket } from "./socket.ts";
import { BrokenPipeError, errno, OSError } from "./errors.ts";
import {
  CERT_NONE,
  CERT_REQUIRED,
  cipherBits,
  type HandshakeInfo,
  type TlsConfig,
  type TlsSession,
} from "./_ssl_session.ts";
import {
  anchorError,
  chainError,
  hostnameError,
  nameMismatch,
  nodeError,
  nodeStreamError,
  noPeerCertificate,
  reasonError,
  sentChain,
} from "./_ssl_verify.ts";
import { SSLEOFError, SSLZeroReturnError } from "./_ssl_errors.ts";
import { type RawDuplex, rawDuplex } from "./_ssl_duplex.ts";

// Decrypted bytes waiting for the SSLSocket's buffer: past this the TLS
// socket is paused, so a fast peer cannot grow memory while nobody reads.
const MAX_QUEUE = 256 * 1024;
function toAddr(address: ReturnType<StreamSocket["getpeername"]>): Deno.Addr {
  if (typeof address === "string") return { transport: "unix", path: address };
  return { transport: "tcp", hostname: address[0], port: address[1] };
}

/** A TLS session carried by node:tls over a pysock socket. */
export class NodeSession implements TlsSession {
  readonly engine = "node" as const;
  #raw: StreamSocket;
  #duplex: RawDuplex;
  #config: TlsConfig;
  #tls: tls.TLSSocket | null = null;
  #handshake: Promise<void>;
  #info: HandshakeInfo | null = null;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #offset = 0;
  #paused = false;
  #ended = false;
  // The socket ended without close_notify.
  #ragged = false;
  // This side's close_notify has been sent (shutdown(SHUT_WR) or unwrap).
  #sentClose = false;
  #error: unknown = null;
  #closed = false;
  #waiter:
    | { p: Uint8Array; resolve: (n: number | null) => void; reject: (e: unknown) => void }
    | null = null;
  #onEnd: (() => void) | null = null;
  #abort: ((err: unknown) => void) | null = null;
  // Calls that close() must settle (unwrap's waits).
  #onClose: ((err: unknown) => void)[] = [];

  /**
   * Starts the handshake over `raw`, which must be connected; its timeout is
   * set to blocking, since the SSLSocket's own timeout governs every call.
   */
  constructor(raw: StreamSocket, config: TlsConfig) {
    this.#raw = raw;
    this.#config = config;
    raw.settimeout(null);
    this.#duplex = rawDuplex(raw);
    this.#duplex.onEof = () => {
      if (!this.#ended) this.#ragged = true;
    };
    const started = config.serverSide ? this.#serve() : this.#connect();
    // close() ends a handshake still waiting on a silent peer (EBADF), and
    // with it the reads and writes queued behind it.
    this.#handshake = new Promise((resolve, reject) => {
      this.#abort = reject;
      started.then(resolve, reject);
    });
    this.#handshake.catch(() => {});
  }

  get localAddr(): Deno.Addr {
    return toAddr(this.#raw.getsockname());
  }

  get remoteAddr(): Deno.Addr {
    return toAddr(this.#raw.getpeername());
  }

  setNoDelay(flag: boolean): void {
    if (this.#raw.family !== AF_UNIX) this.#raw.setsockopt(IPPROTO_TCP, TCP_NODELAY, flag);
  }

  setKeepAlive(flag: boolean): void {
    if (this.#raw.family !== AF_UNIX) this.#raw.setsockopt(SOL_SOCKET, SO_KEEPALIVE, flag);
  }

  // node:tls keeps a read going on the socket for as long as the session
  // lives, so an open SSLSocket keeps the process alive until closed.
  ref(): void {}
  unref(): void {}

  handshake(): Promise<void> {
    return this.#handshake;
  }

  info(): HandshakeInfo | null {
    return this.#info;
  }

  pending(): number {
    return this.#queued;
  }

  #options(): tls.CommonConnectionOptions & tls.SecureContextOptions {
    const c = this.#config;
    const options: tls.CommonConnectionOptions & tls.SecureContextOptions = {
      rejectUnauthorized: false,
      minVersion: c.minVersion,
      maxVersion: c.maxVersion,
    };
    if (c.ca !== null) options.ca = c.ca;
    if (c.cert !== null && c.key !== null) {
      options.cert = c.cert;
      options.key = c.key;
    }
    if (c.alpn !== null) options.ALPNProtocols = c.alpn;
    if (c.ciphers !== null) options.ciphers = c.ciphers;
    return options;
  }

  #connect(): Promise<void> {
    const c = this.#config;
    const options: tls.ConnectionOptions = { ...this.#options(), socket: this.#duplex };
    // The hostname is checked below, after the chain, in OpenSSL's order.
    options.checkServerIdentity = () => undefined;
    const host = c.serverHostname;
    // SNI carries names only (RFC 6066); an IP address is checked, not sent.
    if (host !== null && !isIpLiteral(host)) options.servername = host;
    return new Promise((resolve, reject) => {
      const socket = nodeTls().connect(options);
      this.#adopt(socket);
      socket.once("secureConnect", () => {
        try {
          this.#settle(socket);
          if (c.verifyMode !== CERT_NONE) this.#checkServer(socket);
          resolve();
        } catch (err) {
          this.#fail(err);
          reject(err);
        }
      });
      socket.once("error", (err) => {
        if (this.#info !== null) return;
        const mapped = this.#handshakeError(err);
        this.#fail(mapped);
        reject(mapped);
      });
    });
  }

  #serve(): Promise<void> {
    const c = this.#config;
    const options: tls.TlsOptions = { ...this.#options() };
    if (c.verifyMode !== CERT_NONE) options.requestCert = true;
    const server = nodeTls().createServer(options);
    return new Promise((resolve, reject) => {
      server.once("secureConnection", (socket: tls.TLSSocket) => {
        this.#adopt(socket);
        try {
          this.#settle(socket);
          if (c.verifyMode !== CERT_NONE) this.#checkClient(socket);
          resolve();
        } catch (err) {
          this.#fail(err);
          reject(err);
        }
      });
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        const mapped = this.#handshakeError(err);
        this.#fail(mapped);
        reject(mapped);
      };
      server.once("secureConnection", () => settled = true);
      server.once("tlsClientError", fail);
      // A client that leaves mid-handshake gets no tlsClientError from
      // node:tls in Deno 2.9.6: the handshake would wait forever.
      const gone = (err?: unknown) =>
        setTimeout(() => fail(err instanceof Error ? err : new SSLEOFError()), 0);
      this.#duplex.once("close", gone);
      this.#duplex.once("end", gone);
      server.emit("connection", this.#duplex);
    });
  }

  // Handshakes OpenSSL fails itself, whatever the peer does, where
  // node:tls reports something else: a range with no version in it
  // (minimumVersion above maximumVersion; node:tls gives the peer's
  // refusal) and a server without a certificate (node:tls:
  // NO_SUITABLE_SIGNATURE_ALGORITHM).
  #handshakeError(err: unknown): unknown {
    const c = this.#config;
    if (c.minVersion === "TLSv1.3" && c.maxVersion === "TLSv1.2") {
      return reasonError("NO_PROTOCOLS_AVAILABLE", err);
    }
    if (c.serverSide && c.cert === null) return reasonError("NO_SHARED_CIPHER", err);
    return nodeError(err);
  }

  #adopt(socket: tls.TLSSocket): void {
    this.#tls = socket;
    socket.on("data", this.#onData);
    socket.on("end", () => {
      if (this.#ragged && !this.#config.suppressRaggedEofs && this.#info !== null) {
        this.#error ??= new SSLEOFError();
      }
      this.#ended = true;
      this.#duplex.peerClosed = true;
      this.#wake();
      this.#onEnd?.();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on("error", (err: Error) => {
      if (this.#info === null || this.#closed) return;
      this.#error ??= nodeStreamError(err);
      this.#wake();
    });
  }

  #settle(socket: tls.TLSSocket): void {
    const cipher = socket.getCipher();
    const peer = socket.getPeerCertificate(true);
    this.#info = {
      version: socket.getProtocol() ?? null,
      cipher: cipher
        ? [cipher.name, cipher.version, cipherBits(cipher.standardName ?? cipher.name)]
        : null,
      alpn: typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : null,
      peerCertificate: peer?.raw ? new Uint8Array(peer.raw) : null,
      detailed: true,
    };
  }

  #checkServer(socket: tls.TLSSocket): void {
    const c = this.#config;
    const peer = this.#info!.peerCertificate;
    if (peer === null) throw chainError(new Uint8Array(0), [], "UNABLE_TO_GET_ISSUER_CERT");
    this.#checkChain(socket, peer, true);
    if (c.checkHostname && c.serverHostname !== null) {
      const failed = nameMismatch(c.serverHostname, socket.getPeerCertificate());
      if (failed !== undefined) throw hostnameError(c.serverHostname, failed);
    }
  }

  #checkClient(socket: tls.TLSSocket): void {
    const peer = this.#info!.peerCertificate;
    if (peer === null) {
      if (this.#config.verifyMode === CERT_REQUIRED) throw noPeerCertificate();
      return;
    }
    this.#checkChain(socket, peer, false);
  }

  // node:tls's verdict on the chain, named as OpenSSL names it; then what
  // OpenSSL checks and rustls does not: the dates of a CA the context was
  // given (not of Deno's default roots, which reading needs --allow-sys).
  #checkChain(socket: tls.TLSSocket, peer: Uint8Array, peerIsServer: boolean): void {
    const sent = sentChain(socket);
    const code = String(socket.authorizationError);
    if (!socket.authorized) throw chainError(peer, this.#trusted(), code, peerIsServer, sent);
    const ca = this.#config.ca;
    const anchor = ca === null ? null : anchorError(peer, ca, sent);
    if (anchor !== null) throw anchor;
  }

  #trusted(): readonly string[] {
    if (this.#config.ca !== null) return this.#config.ca;
    // Reading Deno's roots needs --allow-sys: without it, a refusal is named
    // without them (20 for an issuer not among the given CAs), never NotCapable.
    try {
      return [...nodeTls().rootCertificates]; // lazy: reading an element is what needs the permission
    } catch {
      return [];
    }
  }

  #fail(err: unknown): void {
    this.#error ??= err;
    this.#tls?.destroy();
    this.#duplex.destroy();
  }

  #onData = (chunk: Uint8Array): void => {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued >= MAX_QUEUE && !this.#paused) {
      this.#paused = true;
      this.#tls!.pause();
      this.#duplex.hold();
    }
    this.#wake();
  };

  #wake(): void {
    const waiter = this.#waiter;
    if (waiter === null) return;
    if (this.#queued > 0) {
      this.#waiter = null;
      waiter.resolve(this.#copy(waiter.p));
    } else if (this.#error !== null) {
      this.#waiter = null;
      waiter.reject(this.#takeError());
    } else if (this.#ended) {
      this.#waiter = null;
      waiter.resolve(null);
    }
  }

  #takeError(): unknown {
    const err = this.#error;
    this.#error = null;
    this.#ended = true;
    return err;
  }

  /** Moves queued bytes into `p`; the one copy between node:tls and the socket's buffer. */
  #copy(p: Uint8Array): number {
    let n = 0;
    while (n < p.length && this.#queue.length > 0) {
      const chunk = this.#queue[0];
      const take = Math.min(chunk.length - this.#offset, p.length - n);
      p.set(chunk.subarray(this.#offset, this.#offset + take), n);
      n += take;
      this.#offset += take;
      if (this.#offset === chunk.length) {
        this.#queue.shift();
        this.#offset = 0;
      }
    }
    this.#queued -= n;
    if (this.#paused && this.#queued < MAX_QUEUE / 2) {
      this.#paused = false;
      this.#duplex.release();
      this.#tls!.resume();
    }
    return n;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#queued > 0) return Promise.resolve(this.#copy(p));
    if (this.#error !== null) return Promise.reject(this.#takeError());
    if (this.#ended || this.#closed) return Promise.resolve(null);
    if (this.#tls === null || this.#info === null) {
      // Before the handshake is done (doHandshakeOnConnect false): the read
      // waits for it, and fails as it fails.
      return this.#handshake.then(() => this.read(p));
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { p, resolve, reject };
    });
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new OSError(errno.EBADF));
    if (this.#info === null) return this.#handshake.then(() => this.write(p));
    const socket = this.#tls!;
    // The connection under the session has failed (a reset): nothing can
    // reach the peer any more, whatever node:tls would say of the write.
    if (this.#error !== null || socket.destroyed || this.#duplex.destroyed) {
      return Promise.reject(new BrokenPipeError());
    }
    // node:tls fails an empty write (EPERM) and the connection with it;
    // Python's send(b"") returns 0.
    if (p.length === 0) return Promise.resolve(0);
    const duplex = this.#duplex;
    if (duplex.writeError !== null) return Promise.reject(nodeStreamError(duplex.writeError));
    return new Promise((resolve, reject) => {
      socket.write(p, (err) => {
        if (err) return reject(nodeStreamError(err));
        // Done once the socket has sent the records too: a reset under them
        // is this write's failure, not one nobody hears of.
        duplex.written().then(() => resolve(p.length), (e) => reject(nodeStreamError(e)));
      });
    });
  }

  async closeWrite(): Promise<void> {
    if (this.#info === null) await this.#handshake;
    const socket = this.#tls!;
    this.#sentClose = true;
    await new Promise<void>((resolve) => socket.end(() => resolve()));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = null;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(new OSError(errno.EBADF));
    this.#abort?.(new OSError(errno.EBADF));
    for (const settle of this.#onClose.splice(0)) settle(new OSError(errno.EBADF));
    this.#tls?.destroy();
    this.#duplex.destroy();
    if (!this.#duplex.detached) this.#raw.close();
  }

  /**
   * Ends the TLS session with close_notify both ways and hands back the
   * socket for plaintext. Records are fed one at a time meanwhile, so the
   * bytes after the peer's close_notify stay in the socket's buffer.
   *
   * @throws {SSLZeroReturnError} when the session was already closed both ways.
   * @throws {SSLEOFError} when the peer left without close_notify.
   */
  async unwrap(): Promise<StreamSocket> {
    if (this.#info === null) await this.#handshake;
    const socket = this.#tls!;
    const duplex = this.#duplex;
    // Closed both ways already: there is no session left to end.
    if (socket.destroyed || (this.#ended && this.#sentClose)) throw new SSLZeroReturnError();
    // The peer left without close_notify: there is no clean point to return from.
    if (this.#ragged) throw new SSLEOFError();
    duplex.oneRecord = true;
    duplex.keepOpen = true;
    // The peer's close_notify must be read, however much is unread before it.
    duplex.release();
    const peerDone = this.#ended ? Promise.resolve() : new Promise<void>((resolve) => {
      this.#onEnd = resolve;
    });
    if (!this.#sentClose) {
      this.#sentClose = true;
      await this.#unlessClosed(new Promise<void>((resolve) => socket.end(() => resolve())));
    }
    await this.#unlessClosed(peerDone);
    duplex.detached = true;
    this.#closed = true;
    socket.destroy();
    duplex.destroy();
    return this.#raw;
  }

  /** `waiting`, or EBADF once close() is called first. */
  #unlessClosed<T>(waiting: Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new OSError(errno.EBADF));
    return new Promise<T>((resolve, reject) => {
      this.#onClose.push(reject);
      waiting.then(resolve, reject);
    });
  }
}

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
