// What an SSLSocket needs from a TLS engine, and the settings it hands one.
// Two engines implement it: _ssl_node.ts (node:tls over the pysock socket's
// own buffer) and _ssl_native.ts (Deno.startTls on a connection it dials).

import type { StreamSocket } from "./socket.ts";

/** Python's `CERT_NONE`: the peer's certificate is neither requested nor checked. */
export const CERT_NONE = 0;
/** Python's `CERT_OPTIONAL`: checked when the peer sends one (servers); as REQUIRED for clients. */
export const CERT_OPTIONAL = 1;
/** Python's `CERT_REQUIRED`: the peer must send a certificate that verifies. */
export const CERT_REQUIRED = 2;

/** A TLS version an engine can offer. */
export type TlsVersionName = "TLSv1.2" | "TLSv1.3";

/** Which engine carries a socket's TLS. */
export type EngineName = "node" | "deno";

/** A snapshot of an SSLContext's settings for one connection. */
export interface TlsConfig {
  serverSide: boolean;
  /** The name to send (SNI) and to check the certificate against; `null` for none. */
  serverHostname: string | null;
  verifyMode: number;
  checkHostname: boolean;
  /** Trusted CA certificates (PEM); `null` for the engine's default roots. */
  ca: string[] | null;
  /** Whether the default roots are trusted (`loadDefaultCerts`), besides `ca`. */
  defaultRoots: boolean;
  /** Extra CAs added with `loadVerifyLocations` (PEM), for the native engine. */
  extraCa: string[];
  /** This side's certificate chain and (decrypted) key, PEM. */
  cert: string | null;
  key: string | null;
  alpn: string[] | null;
  minVersion: TlsVersionName;
  maxVersion: TlsVersionName;
  ciphers: string | null;
  suppressRaggedEofs: boolean;
}

/** What the handshake settled. */
export interface HandshakeInfo {
  /** `TLSv1.2` or `TLSv1.3`; `null` when the engine cannot tell. */
  version: string | null;
  /** Python's `(name, protocol, secret bits)`; `null` when the engine cannot tell. */
  cipher: [string, string, number] | null;
  alpn: string | null;
  /** The peer's certificate (DER); `null` when it sent none or the engine cannot tell. */
  peerCertificate: Uint8Array | null;
  /** Whether the engine can report version, cipher and certificate. */
  detailed: boolean;
}

/**
 * One TLS connection. The read/write half is what a pysock `StreamSocket`
 * expects of a `Deno.Conn`, so the SSLSocket's own read buffer, timeouts,
 * makefile and framing work over it unchanged.
 */
export interface TlsSession {
  readonly engine: EngineName;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  /** Sends close_notify, then end of stream; reading goes on. */
  closeWrite(): Promise<void>;
  close(): void;
  readonly localAddr: Deno.Addr;
  readonly remoteAddr: Deno.Addr;
  setNoDelay(flag: boolean): void;
  setKeepAlive(flag: boolean): void;
  ref(): void;
  unref(): void;
  /** Resolves once the handshake and the certificate checks are done; rejects with an SSLError. */
  handshake(): Promise<void>;
  /** The handshake's outcome, once it is done. */
  info(): HandshakeInfo | null;
  /** Decrypted bytes the engine holds that the socket's buffer has not taken yet. */
  pending(): number;
  /** Ends TLS with close_notify both ways and returns the plaintext socket, where the engine can. */
  unwrap?(): Promise<StreamSocket>;
}

/** Secret bits of a cipher suite, from its name (Python's third `cipher()` field). */
export function cipherBits(name: string): number {
  if (/AES_?256|CHACHA20|CAMELLIA_?256|ARIA_?256/.test(name)) return 256;
  if (/AES_?128|CAMELLIA_?128|ARIA_?128/.test(name)) return 128;
  return 0;
}
