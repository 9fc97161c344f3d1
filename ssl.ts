/**
 * TLS for pysock sockets, as Python's `ssl` module gives it:
 * `createDefaultContext()`, `SSLContext` with `loadCertChain`,
 * `loadVerifyLocations`, `verifyMode`, `checkHostname`, version bounds and
 * ALPN, and `await ctx.wrapSocket(sock, {serverHostname})` giving an
 * {@linkcode SSLSocket} with the whole stream-socket surface plus
 * `version()`, `cipher()`, `getpeercert()`, `unwrap()`. Failures are
 * Python's: `SSLCertVerificationError` with `verifyCode` 20, 10 or 62 and
 * Python's messages.
 *
 * Two Deno built-ins carry the TLS: node:tls (the default, every feature)
 * and, for clients that opt in with `ctx.engine = "deno"`, Deno.startTls
 * (faster, fewer facts). The README's "TLS" section says which does what.
 *
 * @example A TLS echo server and its client on loopback
 * ```ts
 * import { createConnection, createServer } from "./socket.ts";
 * import { PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER, SSLContext } from "./ssl.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * // A throwaway self-signed certificate for "localhost" (needs openssl).
 * const dir = await Deno.makeTempDir();
 * await new Deno.Command("openssl", {
 *   args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
 *     "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "1",
 *     "-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`],
 *   stderr: "null",
 * }).output();
 *
 * const serverCtx = new SSLContext(PROTOCOL_TLS_SERVER);
 * serverCtx.loadCertChain(`${dir}/cert.pem`, `${dir}/key.pem`);
 * await using listener = createServer(["127.0.0.1", 0]);
 * await using server = await serverCtx.wrapSocket(listener, { serverSide: true });
 * const serving = (async () => {
 *   const [conn] = await server.accept(); // the handshake runs here
 *   await using _conn = conn;
 *   await conn.sendall(await conn.recv(1024));
 * })();
 *
 * const clientCtx = new SSLContext(PROTOCOL_TLS_CLIENT); // verifies, checks the hostname
 * clientCtx.loadVerifyLocations(`${dir}/cert.pem`);
 * const port = server.getsockname()[1] as number;
 * await using sock = await createConnection(["127.0.0.1", port]);
 * await using ssock = await clientCtx.wrapSocket(sock, { serverHostname: "localhost" });
 * equal(ssock.version(), "TLSv1.3");
 * deepEqual(ssock.getpeercert()?.subject, [[["commonName", "localhost"]]]);
 * await ssock.sendall("hello over TLS");
 * equal(new TextDecoder().decode(await ssock.recv(1024)), "hello over TLS");
 * await serving;
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { nodeTls, x509 } from "./_node.ts";
import { describe } from "./_address.ts";
import { checkOptions } from "./_base.ts";
import { idnaEncode, type KeyPassword, loadChain, trustedIn } from "./_ssl_load.ts";
import { literalFamily } from "./_resolve.ts";
import { errno, OSError } from "./errors.ts";
import { StreamSocket } from "./socket.ts";
import { decodeCertificate, type PeerCertificate } from "./_ssl_cert.ts";
import { SSLError } from "./_ssl_errors.ts";
import {
  CERT_NONE,
  CERT_OPTIONAL,
  CERT_REQUIRED,
  type EngineName,
  type TlsConfig,
  type TlsVersionName,
} from "./_ssl_session.ts";
import { type ContextSettings, SSLSocket, wrap, type WrapSocketOptions } from "./_ssl_socket.ts";

export { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED };
export type { EngineName };
export { SSLSocket, type WrapSocketOptions };
export {
  type AltName,
  DERCertToPEMCert,
  type DistinguishedName,
  type NameAttribute,
  type PeerCertificate,
  PEMCertToDERCert,
  type RelativeName,
} from "./_ssl_cert.ts";
export {
  CertificateError,
  SSL_ERROR_EOF,
  SSL_ERROR_INVALID_ERROR_CODE,
  SSL_ERROR_SSL,
  SSL_ERROR_SYSCALL,
  SSL_ERROR_WANT_CONNECT,
  SSL_ERROR_WANT_READ,
  SSL_ERROR_WANT_WRITE,
  SSL_ERROR_WANT_X509_LOOKUP,
  SSL_ERROR_ZERO_RETURN,
  SSLCertVerificationError,
  SSLEOFError,
  SSLError,
  type SSLErrorOptions,
  SSLSyscallError,
  SSLWantReadError,
  SSLWantWriteError,
  SSLZeroReturnError,
} from "./_ssl_errors.ts";

/** Python's `PROTOCOL_TLS`: either side, no verification by default (deprecated in Python). */
export const PROTOCOL_TLS = 2;
/** Python's `PROTOCOL_TLS_CLIENT`: a client context that verifies and checks the hostname. */
export const PROTOCOL_TLS_CLIENT = 16;
/** Python's `PROTOCOL_TLS_SERVER`: a server context. */
export const PROTOCOL_TLS_SERVER = 17;

/**
 * Python's `ssl.TLSVersion`. Deno's TLS (rustls) speaks TLS 1.2 and 1.3
 * only: the older values exist for code that names them, and setting a
 * bound to one of them is refused.
 *
 * @example
 * ```ts
 * import { TLSVersion } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * equal(TLSVersion.TLSv1_3, 772);
 * ```
 */
export const TLSVersion: Readonly<{
  MINIMUM_SUPPORTED: -2;
  SSLv3: 768;
  TLSv1: 769;
  TLSv1_1: 770;
  TLSv1_2: 771;
  TLSv1_3: 772;
  MAXIMUM_SUPPORTED: -1;
}> = Object.freeze(
  {
    MINIMUM_SUPPORTED: -2,
    SSLv3: 768,
    TLSv1: 769,
    TLSv1_1: 770,
    TLSv1_2: 771,
    TLSv1_3: 772,
    MAXIMUM_SUPPORTED: -1,
  } as const,
);

/** A value of {@linkcode TLSVersion}. */
export type TLSVersion = typeof TLSVersion[keyof typeof TLSVersion];

/**
 * Python's `ssl.Purpose`: what a default context is for.
 * `SERVER_AUTH` makes a client context (it authenticates servers),
 * `CLIENT_AUTH` a server context.
 *
 * @example
 * ```ts
 * import { createDefaultContext, Purpose, CERT_NONE } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * equal(createDefaultContext(Purpose.CLIENT_AUTH).verifyMode, CERT_NONE);
 * ```
 */
export const Purpose: Readonly<{ SERVER_AUTH: "SERVER_AUTH"; CLIENT_AUTH: "CLIENT_AUTH" }> = Object
  .freeze(
    { SERVER_AUTH: "SERVER_AUTH", CLIENT_AUTH: "CLIENT_AUTH" } as const,
  );

/** A value of {@linkcode Purpose}. */
export type Purpose = typeof Purpose[keyof typeof Purpose];

export type { KeyPassword } from "./_ssl_load.ts";

/** The CA sources of {@linkcode SSLContext.loadVerifyLocations}, as Python's keywords. */
export interface VerifyLocations {
  /** A PEM file of CA certificates. */
  cafile?: string | null;
  /** A directory of PEM CA certificates. */
  capath?: string | null;
  /** PEM text, or DER bytes, of CA certificates. */
  cadata?: string | Uint8Array | null;
}

const VERSION_NAME: Record<number, TlsVersionName> = { 771: "TLSv1.2", 772: "TLSv1.3" };
const kSettings: unique symbol = Symbol("pysock.ssl.settings");

/**
 * Python's `ssl.SSLContext`: the settings TLS connections are made with —
 * certificates, trust, verification, versions, ALPN — and `wrapSocket`,
 * which makes them. Changing a context affects connections wrapped later.
 *
 * @example A client context, as `PROTOCOL_TLS_CLIENT` sets it up
 * ```ts
 * import { CERT_REQUIRED, PROTOCOL_TLS_CLIENT, SSLContext, TLSVersion } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
 * equal(ctx.verifyMode, CERT_REQUIRED);
 * equal(ctx.checkHostname, true);
 * ctx.minimumVersion = TLSVersion.TLSv1_3;
 * equal(ctx.minimumVersion, TLSVersion.TLSv1_3);
 * ```
 */
export class SSLContext {
  /** The protocol given to the constructor. */
  readonly protocol: number;
  #verifyMode: number;
  #checkHostname: boolean;
  #minimum: TLSVersion = TLSVersion.TLSv1_2;
  #maximum: TLSVersion = TLSVersion.MAXIMUM_SUPPORTED;
  #ca: string[] = [];
  #defaultRoots = false;
  #cert: string | null = null;
  #key: string | null = null;
  #alpn: string[] | null = null;
  #engine: EngineName = "node";

  /**
   * Creates a context.
   *
   * @param protocol `PROTOCOL_TLS_CLIENT` (verifies the server and its
   *   name), `PROTOCOL_TLS_SERVER`, or `PROTOCOL_TLS` (either side, no
   *   verification).
   * @throws {RangeError} for `PROTOCOL_TLSv1`/`_1`/`_2` and SSL protocols:
   *   Deno's TLS offers TLS 1.2 and 1.3 only (set `minimumVersion` instead).
   *
   * @example
   * ```ts
   * import { PROTOCOL_TLS_SERVER, SSLContext, CERT_NONE } from "./ssl.ts";
   * import { equal } from "node:assert/strict";
   * equal(new SSLContext(PROTOCOL_TLS_SERVER).verifyMode, CERT_NONE);
   * ```
   */
  constructor(protocol: number = PROTOCOL_TLS) {
    if (typeof protocol !== "number" || !Number.isInteger(protocol)) {
      // CPython: TypeError ("'str' object cannot be interpreted as an integer").
      throw new TypeError(
        `Cannot create SSLContext: protocol must be an integer such as PROTOCOL_TLS_CLIENT, got ${
          describe(protocol)
        }`,
      );
    }
    if (
      protocol !== PROTOCOL_TLS && protocol !== PROTOCOL_TLS_CLIENT &&
      protocol !== PROTOCOL_TLS_SERVER
    ) {
      throw new RangeError(
        `Cannot create SSLContext with protocol ${describe(protocol)}: Deno's TLS offers TLS 1.2 ` +
          "and 1.3 only; use PROTOCOL_TLS_CLIENT or PROTOCOL_TLS_SERVER (and minimumVersion)",
      );
    }
    this.protocol = protocol;
    const client = protocol === PROTOCOL_TLS_CLIENT;
    this.#verifyMode = client ? CERT_REQUIRED : CERT_NONE;
    this.#checkHostname = client;
  }

  /**
   * Whether peers are verified: `CERT_NONE`, `CERT_OPTIONAL` or
   * `CERT_REQUIRED`. A server asks for client certificates unless it is
   * `CERT_NONE`. `CERT_NONE` is refused while `checkHostname` is on.
   */
  get verifyMode(): number {
    return this.#verifyMode;
  }

  set verifyMode(mode: number) {
    if (typeof mode !== "number") {
      throw new TypeError(`Cannot set verifyMode: expected an integer, got ${describe(mode)}`);
    }
    if (mode !== CERT_NONE && mode !== CERT_OPTIONAL && mode !== CERT_REQUIRED) {
      throw new RangeError(
        `Cannot set verifyMode to ${describe(mode)}: use CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED`,
      );
    }
    if (mode === CERT_NONE && this.#checkHostname) {
      throw new TypeError("Cannot set verifyMode to CERT_NONE when checkHostname is enabled");
    }
    this.#verifyMode = mode;
  }

  /**
   * Whether a client checks the server's certificate names `serverHostname`.
   * Turning it on makes a `CERT_NONE` context `CERT_REQUIRED`, as in Python.
   */
  get checkHostname(): boolean {
    return this.#checkHostname;
  }

  set checkHostname(flag: boolean) {
    if (typeof flag !== "boolean") {
      throw new TypeError(`Cannot set checkHostname: expected a boolean, got ${describe(flag)}`);
    }
    if (flag && this.#verifyMode === CERT_NONE) this.#verifyMode = CERT_REQUIRED;
    this.#checkHostname = flag;
  }

  /** The lowest TLS version offered (`TLSVersion.TLSv1_2` by default). */
  get minimumVersion(): TLSVersion {
    return this.#minimum;
  }

  set minimumVersion(version: TLSVersion) {
    // The other bound's sentinel is a real version, as CPython resolves it.
    const checked = checkVersion(version, "minimumVersion");
    this.#minimum = checked === TlsMax ? TLSVersion.TLSv1_3 : checked;
  }

  /** The highest TLS version offered (`TLSVersion.MAXIMUM_SUPPORTED` by default). */
  get maximumVersion(): TLSVersion {
    return this.#maximum;
  }

  set maximumVersion(version: TLSVersion) {
    const checked = checkVersion(version, "maximumVersion");
    this.#maximum = checked === TlsMin ? TLSVersion.TLSv1_2 : checked;
  }

  /**
   * Which Deno built-in carries client connections this context makes with
   * `connect()` (a pysock addition; Python has one engine):
   * - `"node"` (default): node:tls, every feature of this module.
   * - `"deno"`: Deno.startTls where it can honour the context (a client
   *   trusting the default roots, verifying, no client certificate, no
   *   version bounds); measured ~1.5x bulk and ~2.9x ping-pong throughput
   *   on loopback, but `version()`, `cipher()`, `getpeercert()` and
   *   `unwrap()` throw, since Deno.TlsConn reports only the ALPN protocol.
   *   Elsewhere node:tls is used; `SSLSocket.engine` says which one is.
   */
  get engine(): EngineName {
    return this.#engine;
  }

  set engine(name: EngineName) {
    if (name !== "node" && name !== "deno") {
      throw new RangeError(`Cannot set engine to ${describe(name)}: use "node" or "deno"`);
    }
    this.#engine = name;
  }

  /**
   * Loads this side's certificate chain and private key (PEM files), as
   * servers need and clients do for mutual TLS. A context holds one chain:
   * a second call replaces the first, where OpenSSL keeps one per key type
   * (an RSA and an ECDSA certificate side by side, CPython's
   * test_dual_rsa_ecc); serve those from two contexts.
   *
   * @param certfile The certificate (then any intermediates), PEM.
   * @param keyfile The private key, PEM; `certfile` itself when omitted.
   * @param password The key's password, when it is encrypted: a string,
   *   bytes, or a function returning one (called only for an encrypted key;
   *   what it throws is thrown).
   * @throws {OSError} when a file cannot be read (`ENOENT`, ...).
   * @throws {SSLError} `[SSL] PEM lib` when there is no certificate or key,
   *   a certificate cannot be read, or the password is wrong;
   *   `[X509: KEY_VALUES_MISMATCH]` when the key is not the certificate's.
   * @throws {TypeError} for a password (or a callback's result) of another
   *   type; {RangeError} for one over 1024 bytes (Python's `ValueError`).
   *
   * @example
   * ```ts
   * import { PROTOCOL_TLS_SERVER, SSLContext, SSLError } from "./ssl.ts";
   * import { throws } from "node:assert/strict";
   * const path = await Deno.makeTempFile();
   * await Deno.writeTextFile(path, "no PEM here");
   * const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
   * throws(() => ctx.loadCertChain(path), SSLError);
   * await Deno.remove(path);
   * ```
   */
  loadCertChain(certfile: string, keyfile?: string | null, password?: KeyPassword | null): void {
    if (typeof certfile !== "string") {
      throw new TypeError(
        `Cannot load cert chain: certfile must be a path, got ${describe(certfile)}`,
      );
    }
    const { chain, key } = loadChain(certfile, keyfile ?? null, password ?? null);
    this.#cert = chain;
    this.#key = key;
  }

  /**
   * Trusts the CA certificates in a file, a directory or text (Python's
   * `load_verify_locations(cafile, capath, cadata)`; an object with those
   * keys is accepted too). They are trusted instead of the default roots
   * unless `loadDefaultCerts` is also called.
   *
   * @param cafile A PEM file, or `{cafile, capath, cadata}`.
   * @param capath A directory of PEM files.
   * @param cadata PEM text, or DER bytes, of one or more certificates.
   * @throws {TypeError} when all three are omitted.
   * @throws {SSLError} `[X509: NO_CERTIFICATE_OR_CRL_FOUND]` when a source holds no certificate.
   *
   * @example
   * ```ts
   * import { PROTOCOL_TLS_CLIENT, SSLContext } from "./ssl.ts";
   * import { throws } from "node:assert/strict";
   * throws(() => new SSLContext(PROTOCOL_TLS_CLIENT).loadVerifyLocations(), TypeError);
   * ```
   */
  loadVerifyLocations(
    cafile?: string | VerifyLocations | null,
    capath?: string | null,
    cadata?: string | Uint8Array | null,
  ): void {
    if (cafile !== null && typeof cafile === "object") {
      return this.loadVerifyLocations(cafile.cafile, cafile.capath, cafile.cadata);
    }
    if (cafile == null && capath == null && cadata == null) {
      throw new TypeError(
        "Cannot load verify locations: cafile, capath and cadata cannot be all omitted",
      );
    }
    // Kept once, as OpenSSL's store keeps a certificate once.
    for (const pem of trustedIn(cafile ?? null, capath ?? null, cadata ?? null)) {
      if (!this.#ca.includes(pem)) this.#ca.push(pem);
    }
  }

  /**
   * Trusts Deno's default root certificates (Mozilla's, or the system's
   * with `DENO_TLS_CA_STORE=system`); Python loads the system's.
   *
   * @param _purpose Kept for Python's signature; both purposes use the same roots.
   *
   * @example
   * ```ts
   * import { PROTOCOL_TLS_CLIENT, SSLContext } from "./ssl.ts";
   * import { ok } from "node:assert/strict";
   * const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
   * ctx.loadDefaultCerts();
   * ok(ctx.getCaCerts().length > 0);
   * ```
   */
  loadDefaultCerts(purpose: Purpose = Purpose.SERVER_AUTH): void {
    if (purpose !== Purpose.SERVER_AUTH && purpose !== Purpose.CLIENT_AUTH) {
      throw new TypeError(
        `Cannot load default certs: purpose must be a Purpose, got ${describe(purpose)}`,
      );
    }
    this.#defaultRoots = true;
  }

  /**
   * The trusted CA certificates, as `getpeercert()` dicts (or DER bytes).
   * Python lists only CAs loaded from files or data; the default roots are
   * listed here too once `loadDefaultCerts` was called.
   *
   * @param binaryForm Return DER bytes instead of dicts.
   * @returns The certificates.
   *
   * @example
   * ```ts
   * import { PROTOCOL_TLS_CLIENT, SSLContext } from "./ssl.ts";
   * import { deepEqual } from "node:assert/strict";
   * deepEqual(new SSLContext(PROTOCOL_TLS_CLIENT).getCaCerts(), []);
   * ```
   */
  getCaCerts(binaryForm?: false): PeerCertificate[];
  /**
   * The trusted CA certificates as DER bytes.
   *
   * @param binaryForm `true`.
   * @returns The certificates.
   */
  getCaCerts(binaryForm: true): Uint8Array[];
  getCaCerts(binaryForm = false): PeerCertificate[] | Uint8Array[] {
    const all = [...(this.#defaultRoots ? nodeTls().rootCertificates : []), ...this.#ca];
    // Python lists the CA certificates only (basicConstraints CA:TRUE);
    // a leaf loaded as a trust anchor still verifies, but is not listed.
    const ders = all.map(x509).filter((cert) => cert.ca)
      .map((cert) => new Uint8Array(cert.raw));
    return binaryForm ? ders : ders.map(decodeCertificate);
  }

  /**
   * The protocols to offer (client) or accept (server) with ALPN, in
   * order of preference, e.g. `["h2", "http/1.1"]`.
   *
   * @param protocols The protocol names, 1-255 bytes each.
   * @throws {TypeError} for anything but an array of ASCII strings.
   * @throws {SSLError} for a name that is empty or over 255 bytes, as Python's.
   *
   * @example
   * ```ts
   * import { PROTOCOL_TLS_CLIENT, SSLContext, SSLError } from "./ssl.ts";
   * import { throws } from "node:assert/strict";
   * const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
   * ctx.setAlpnProtocols(["h2", "http/1.1"]);
   * throws(() => ctx.setAlpnProtocols([""]), SSLError);
   * ```
   */
  setAlpnProtocols(protocols: readonly string[]): void {
    if (!Array.isArray(protocols) || protocols.some((p) => typeof p !== "string")) {
      throw new TypeError(
        `Cannot set ALPN protocols: expected an array of strings, got ${describe(protocols)}`,
      );
    }
    for (const name of protocols) {
      // Python encodes each name as ASCII (a UnicodeEncodeError otherwise).
      if ([...name].some((ch) => ch.codePointAt(0)! > 0x7f)) {
        throw new TypeError(
          `Cannot set ALPN protocols: ${JSON.stringify(name)} is not ASCII`,
        );
      }
      const size = name.length;
      if (size < 1 || size > 255) {
        throw new SSLError(SSL_ERROR_NONE, "ALPN protocols must be 1 to 255 in length");
      }
    }
    this.#alpn = protocols.length > 0 ? [...protocols] : null;
  }

  /**
   * Python's `set_ciphers`: Deno's TLS picks its cipher suites itself
   * (rustls's, all AEAD with forward secrecy) and node:tls in Deno accepts
   * a cipher list without honouring it, so this refuses rather than
   * pretend.
   *
   * @param ciphers An OpenSSL cipher list.
   * @throws {OSError} `EOPNOTSUPP`, always.
   *
   * @example
   * ```ts
   * import { PROTOCOL_TLS_CLIENT, SSLContext } from "./ssl.ts";
   * import { OSError } from "./errors.ts";
   * import { throws } from "node:assert/strict";
   * throws(() => new SSLContext(PROTOCOL_TLS_CLIENT).setCiphers("ECDHE+AESGCM"), OSError);
   * ```
   */
  setCiphers(ciphers: string): void {
    if (typeof ciphers !== "string") {
      throw new TypeError(
        `Cannot set ciphers: expected a cipher list string, got ${describe(ciphers)}`,
      );
    }
    throw new OSError(errno.EOPNOTSUPP, {
      detail:
        "Deno's TLS chooses its cipher suites itself (rustls: AEAD with forward secrecy only) " +
        "and cannot be limited to a list",
    });
  }

  /**
   * Wraps a stream socket for TLS (Python's `wrap_socket`). A connected
   * socket gets its handshake now (unless `doHandshakeOnConnect` is
   * false); an unconnected one on `connect()`; a listening one wrapped
   * server-side hands out SSLSockets from `accept()`. Bytes the socket had
   * already read (after a STARTTLS exchange) are the first the TLS session
   * reads. The wrapped socket belongs to the SSLSocket afterwards: do not
   * use it directly (Deno gives no way to detach it, as Python does).
   *
   * @param sock The socket.
   * @param options `serverSide`, `serverHostname`, `doHandshakeOnConnect`, `suppressRaggedEofs`.
   * @returns The TLS socket.
   * @throws {TypeError} for a server-side wrap of a client context (and the
   *   reverse), `serverHostname` on the server side, or a missing
   *   `serverHostname` while `checkHostname` is on.
   * @throws {SSLCertVerificationError} when the peer's certificate fails the checks.
   * @throws {SSLError} for any other handshake failure.
   *
   * @example Wrapping before connecting, as Python's docs do
   * ```ts
   * import { socket } from "./socket.ts";
   * import { createDefaultContext } from "./ssl.ts";
   * import { equal } from "node:assert/strict";
   * const ctx = createDefaultContext();
   * await using ssock = await ctx.wrapSocket(socket(), { serverHostname: "example.org" });
   * equal(ssock.serverHostname, "example.org");
   * equal(ssock.version(), null); // not connected yet
   * ```
   */
  wrapSocket(sock: StreamSocket, options: WrapSocketOptions = {}): Promise<SSLSocket> {
    try {
      return wrap(sock, this, this[kSettings](), this.#checkWrap(sock, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #checkWrap(sock: StreamSocket, options: WrapSocketOptions): WrapSocketOptions {
    checkOptions(options, "wrap socket", "{ serverSide: true }");
    if (!(sock instanceof StreamSocket)) {
      throw new TypeError(
        `Cannot wrap socket: only stream sockets are supported, got ${describe(sock)}`,
      );
    }
    if (sock instanceof SSLSocket) {
      throw new TypeError("Cannot wrap socket: it is already an SSLSocket");
    }
    const serverSide = options.serverSide ?? false;
    const host = options.serverHostname ?? null;
    if (host !== null && typeof host !== "string") {
      throw new TypeError(
        `Cannot wrap socket: serverHostname must be a string, got ${describe(host)}`,
      );
    }
    if (serverSide && this.protocol === PROTOCOL_TLS_CLIENT) {
      throw new TypeError("Cannot create a server socket with a PROTOCOL_TLS_CLIENT context");
    }
    if (!serverSide && this.protocol === PROTOCOL_TLS_SERVER) {
      throw new TypeError("Cannot create a client socket with a PROTOCOL_TLS_SERVER context");
    }
    if (serverSide && host !== null) {
      throw new TypeError(
        "Cannot wrap socket: serverHostname can only be specified in client mode",
      );
    }
    // A server side too, as in Python (where a server context with
    // check_hostname on cannot wrap anything).
    if (this.#checkHostname && (host === null || host === "")) {
      throw new TypeError("Cannot wrap socket: checkHostname requires serverHostname");
    }
    // Python checks the name once it has detached the socket, so a name it
    // refuses leaves the socket closed.
    try {
      return { ...options, serverSide, serverHostname: host === null ? null : checkedName(host) };
    } catch (err) {
      sock.close();
      throw err;
    }
  }

  /** @ignore Internal: the settings a socket reads when it starts a session. */
  [kSettings](): ContextSettings {
    return {
      engine: this.#engine,
      config: (serverSide, serverHostname, suppressRaggedEofs) =>
        this.#config(serverSide, serverHostname, suppressRaggedEofs),
    };
  }

  #config(
    serverSide: boolean,
    serverHostname: string | null,
    suppressRaggedEofs: boolean,
  ): TlsConfig {
    const minimum = this.#minimum === TlsMin ? 771 : this.#minimum;
    const maximum = this.#maximum === TlsMax ? 772 : this.#maximum;
    const defaults = this.#defaultRoots;
    return {
      serverSide,
      serverHostname,
      verifyMode: this.#verifyMode,
      checkHostname: this.#checkHostname && !serverSide,
      ca: defaults && this.#ca.length === 0
        ? null
        : [...(defaults ? nodeTls().rootCertificates : []), ...this.#ca],
      defaultRoots: defaults,
      extraCa: [...this.#ca],
      cert: this.#cert,
      key: this.#key,
      alpn: this.#alpn,
      minVersion: VERSION_NAME[minimum],
      maxVersion: VERSION_NAME[maximum],
      ciphers: null,
      suppressRaggedEofs,
    };
  }
}

const SSL_ERROR_NONE = 0;

/**
 * `serverHostname` as Python encodes it, with Python's checks of the name:
 * a NUL is a TypeError, an empty label (".example.org") its IDNA codec's
 * UnicodeError, a ValueError (a TypeError here, as this module's other
 * ValueErrors).
 */
function checkedName(host: string): string {
  if (host.includes("\0")) {
    throw new TypeError("Cannot wrap socket: serverHostname contains a NUL character");
  }
  if (host !== "" && literalFamily(host) === 0 && /^\.|\.\./.test(host)) {
    throw new TypeError(
      `Cannot wrap socket: serverHostname ${JSON.stringify(host)} has an empty label`,
    );
  }
  return idnaEncode(host);
}
const TlsMin = TLSVersion.MINIMUM_SUPPORTED;
const TlsMax = TLSVersion.MAXIMUM_SUPPORTED;

function checkVersion(version: unknown, name: string): TLSVersion {
  if (typeof version !== "number" || !Number.isInteger(version)) {
    throw new TypeError(`Cannot set ${name}: expected a TLSVersion, got ${describe(version)}`);
  }
  // CPython: ValueError "Unsupported TLS/SSL version 0x5".
  if (!Object.values(TLSVersion).includes(version as TLSVersion)) {
    throw new RangeError(
      `Cannot set ${name}: unsupported TLS/SSL version 0x${version.toString(16)}`,
    );
  }
  if (version !== TlsMin && version !== TlsMax && version < TLSVersion.TLSv1_2) {
    throw new RangeError(
      `Cannot set ${name} to ${
        versionLabel(version)
      }: Deno's TLS (rustls) speaks TLS 1.2 and 1.3 only`,
    );
  }
  return version as TLSVersion;
}

function versionLabel(version: number): string {
  return Object.entries(TLSVersion).find(([, v]) => v === version)?.[0] ?? String(version);
}

/**
 * Python's `ssl.create_default_context`: a context with secure defaults.
 * For `Purpose.SERVER_AUTH` (the default) a client context that verifies
 * servers against the default roots (or only `cafile`/`capath`/`cadata`
 * when given) and checks their names; for `Purpose.CLIENT_AUTH` a server
 * context.
 *
 * @param purpose What the context is for.
 * @param locations CA certificates to trust instead of the default roots.
 * @returns The context.
 *
 * @example
 * ```ts
 * import { CERT_REQUIRED, createDefaultContext, PROTOCOL_TLS_CLIENT } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * const ctx = createDefaultContext();
 * equal(ctx.protocol, PROTOCOL_TLS_CLIENT);
 * equal(ctx.verifyMode, CERT_REQUIRED);
 * equal(ctx.checkHostname, true);
 * ```
 */
export function createDefaultContext(
  purpose: Purpose = Purpose.SERVER_AUTH,
  locations: VerifyLocations = {},
): SSLContext {
  if (purpose !== Purpose.SERVER_AUTH && purpose !== Purpose.CLIENT_AUTH) {
    throw new TypeError(`Cannot create default context: unknown purpose ${describe(purpose)}`);
  }
  const ctx = new SSLContext(
    purpose === Purpose.SERVER_AUTH ? PROTOCOL_TLS_CLIENT : PROTOCOL_TLS_SERVER,
  );
  if (locations.cafile != null || locations.capath != null || locations.cadata != null) {
    ctx.loadVerifyLocations(locations);
  } else if (ctx.verifyMode !== CERT_NONE) {
    ctx.loadDefaultCerts(purpose);
  }
  return ctx;
}
