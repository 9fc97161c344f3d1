// The native engine: Deno's own TLS (rustls in Deno's core) through
// Deno.startTls on a connection dialed here, so the SSLSocket reads a
// Deno.TlsConn as a plain socket reads a Deno.Conn. Measured on loopback it
// moves bulk data ~1.5x and ping-pong ~2.9x faster than node:tls (see
// bench/tls.ts), but it can do less, so it is used only where it can honour
// the whole context (see nativeApplies):
// - Deno.startTls fails while a read is pending on the connection and
//   consumes it (denoland/deno#16242), so it cannot take over a pysock socket
//   that already read (the bytes in pysock's buffer would be lost), and
//   pysock keeps its Deno.Conn private anyway: it only dials fresh.
// - No client certificate on an upgraded connection (denoland/deno#21496).
// - caCerts are trusted in addition to the default roots, never instead.
// - No way to skip chain verification, bound the TLS version or pick ciphers.
// - Deno.TlsConn reports the ALPN protocol only: no version, cipher or peer
//   certificate (the proposal to expose it, denoland/deno#31111, is closed).
// - Deno.startTls resolves before the handshake (denoland/deno#12951);
//   errors only surface on the first read or write, so handshake() (added
//   for this, denoland/deno#12467) is awaited explicitly.

import { checkIpAddress } from "./_address.ts";
import { AF_UNIX, IPPROTO_TCP, SO_KEEPALIVE, SOL_SOCKET, TCP_NODELAY } from "./_constants.ts";
import { resolveOne } from "./_resolve.ts";
import { clearTimer, setTimer } from "./_timer.ts";
import { errno, fromDenoError, OSError, TimeoutError } from "./errors.ts";
import type { StreamSocket } from "./socket.ts";
import { SSLEOFError } from "./_ssl_errors.ts";
import { CERT_NONE, type HandshakeInfo, type TlsConfig, type TlsSession } from "./_ssl_session.ts";
import { openSslIpv4, rustlsError } from "./_ssl_verify.ts";
import { nodeNet } from "./_node.ts";

/**
 * Whether the native engine can honour `config` on a `family` socket; why
 * not, otherwise (for the docs and tests, not shown to users).
 */
export function nativeApplies(config: TlsConfig, family: number): string | null {
  if (config.serverSide) return "server side (denoland/deno#18451, #26825)";
  if (family === AF_UNIX) return "Deno.startTls needs a TCP connection";
  if (config.cert !== null) return "client certificate (denoland/deno#21496)";
  if (config.verifyMode === CERT_NONE) return "Deno cannot skip certificate verification";
  if (!config.defaultRoots) return "Deno trusts caCerts in addition to its roots, never instead";
  if (config.minVersion !== "TLSv1.2" || config.maxVersion !== "TLSv1.3") {
    return "Deno cannot bound the TLS version";
  }
  if (config.ciphers !== null) return "Deno cannot choose cipher suites";
  // rustls drops a trailing dot before it checks the name; OpenSSL (and so
  // Python) keeps it, and node:tls's check here does as OpenSSL.
  const host = config.serverHostname ?? "";
  if (host.endsWith(".")) return "Deno ignores a trailing dot in the name";
  if (openSslIpv4(host) !== null && !nodeNet().isIP(host)) {
    return "Deno does not read 127.000.000.001 as an IP";
  }
  return null;
}

/**
 * Dials `addr` and starts TLS on it with Deno.startTls; the handshake
 * itself runs on {@linkcode NativeSession.handshake}.
 *
 * @param raw The unconnected socket being wrapped: its family and options.
 * @param addr Where to connect.
 * @param config The context's settings.
 * @param timeout The connect timeout, in seconds.
 * @param closed Aborted when the SSLSocket is closed: the dial ends with EBADF.
 */
export async function dialNative(
  raw: StreamSocket,
  addr: unknown,
  config: TlsConfig,
  timeout: number | null,
  closed?: AbortSignal,
): Promise<NativeSession> {
  const endpoint = checkIpAddress(addr, raw.family, "connect");
  const { address } = await resolveOne(endpoint.hostname, raw.family);
  const abort = new AbortController();
  const timer = timeout === null
    ? undefined
    : setTimer(() => abort.abort(), Math.max(timeout * 1000, 1));
  const onClosed = () => abort.abort();
  closed?.addEventListener("abort", onClosed, { once: true });
  let tcp: Deno.TcpConn;
  try {
    if (closed?.aborted) throw new OSError(errno.EBADF);
    tcp = await Deno.connect({ hostname: address, port: endpoint.port, signal: abort.signal });
  } catch (err) {
    if (closed?.aborted) throw new OSError(errno.EBADF, { cause: err });
    if (abort.signal.aborted) throw new TimeoutError(null, { cause: err });
    throw fromDenoError(err, `${endpoint.hostname}:${endpoint.port}`);
  } finally {
    if (timer !== undefined) clearTimer(timer);
    closed?.removeEventListener("abort", onClosed);
  }
  // Deno.TlsConn has no setNoDelay/setKeepAlive: the options set on the
  // socket before connect() are applied to the TCP connection now.
  tcp.setNoDelay(raw.getsockopt(IPPROTO_TCP, TCP_NODELAY) !== 0);
  if (raw.getsockopt(SOL_SOCKET, SO_KEEPALIVE) !== 0) tcp.setKeepAlive(true);
  const hostname = config.serverHostname ?? endpoint.hostname;
  const conn = await Deno.startTls(tcp, {
    hostname,
    caCerts: config.extraCa.length > 0 ? config.extraCa : undefined,
    alpnProtocols: config.alpn ?? undefined,
    unsafelyDisableHostnameVerification: !config.checkHostname,
  });
  return new NativeSession(conn, config);
}

/** A TLS session carried by Deno.TlsConn. */
export class NativeSession implements TlsSession {
  readonly engine = "deno" as const;
  #conn: Deno.TlsConn;
  #config: TlsConfig;
  #handshake: Promise<void> | null = null;
  #info: HandshakeInfo | null = null;

  constructor(conn: Deno.TlsConn, config: TlsConfig) {
    this.#conn = conn;
    this.#config = config;
  }

  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }

  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }

  setNoDelay(_flag: boolean): void {
    throw noOption("TCP_NODELAY");
  }

  setKeepAlive(_flag: boolean): void {
    throw noOption("SO_KEEPALIVE");
  }

  ref(): void {
    this.#conn.ref();
  }

  unref(): void {
    this.#conn.unref();
  }

  handshake(): Promise<void> {
    this.#handshake ??= this.#conn.handshake().then((done) => {
      this.#info = {
        version: null,
        cipher: null,
        alpn: done.alpnProtocol,
        peerCertificate: null,
        detailed: false,
      };
    }, (err) => {
      throw this.#translate(err);
    });
    return this.#handshake;
  }

  info(): HandshakeInfo | null {
    return this.#info;
  }

  pending(): number {
    return 0;
  }

  read(p: Uint8Array): Promise<number | null> {
    return this.#conn.read(p).then(undefined, this.#readFailed);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p).then(undefined, this.#writeFailed);
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed by Deno */ }
  }

  // A peer that closes without close_notify (as Python's close() does) is
  // end of stream when ragged EOFs are suppressed, as in Python.
  #readFailed = (err: unknown): number | null => {
    if (err instanceof Deno.errors.UnexpectedEof) {
      if (this.#config.suppressRaggedEofs) return null;
      throw new SSLEOFError({ cause: err });
    }
    throw this.#translate(err);
  };

  #writeFailed = (err: unknown): never => {
    throw this.#translate(err);
  };

  #translate(err: unknown): unknown {
    if (err instanceof Deno.errors.InvalidData && err instanceof Error) {
      return rustlsError(err, this.#config.serverHostname) ?? fromDenoError(err);
    }
    if (err instanceof Deno.errors.UnexpectedEof) return new SSLEOFError({ cause: err });
    return fromDenoError(err);
  }
}

function noOption(name: string): OSError {
  return new OSError(errno.ENOPROTOOPT, {
    detail: `Deno.TlsConn cannot set ${name}; set it before connect()`,
  });
}
