// Failures as Python's ssl module reports them. Deno's engines say less than
// OpenSSL: node:tls reports an expired certificate and an unknown issuer
// alike ("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), and Deno.startTls only gives
// rustls's text. The engine decides whether a certificate is trusted; this
// file only names its verdict the way OpenSSL would (X509_V_ERR_* codes),
// looking at the certificate where the engine's words are not enough.

import type { X509Certificate } from "node:crypto";
import type * as tls from "node:tls";
import { nodeNet, nodeTls, x509 } from "./_node.ts";
import { extendedKeyUsage, validity } from "./_ssl_cert.ts";
import { SSL_ERROR_SSL, SSLCertVerificationError, SSLEOFError, SSLError } from "./_ssl_errors.ts";
import { BrokenPipeError, ConnectionResetError, errno } from "./errors.ts";

// OpenSSL's X509_V_ERR_* codes and texts (X509_verify_cert_error_string).
const X509_TEXT: Record<number, string> = {
  1: "unspecified certificate verification error",
  7: "certificate signature failure",
  9: "certificate is not yet valid",
  10: "certificate has expired",
  18: "self-signed certificate",
  19: "self-signed certificate in certificate chain",
  20: "unable to get local issuer certificate",
  21: "unable to verify the first certificate",
  23: "certificate revoked",
  24: "invalid CA certificate",
  26: "unsuitable certificate purpose",
};

// node:tls authorization codes (named after OpenSSL's) and their X509_V_ERR numbers.
const NODE_CODES: Record<string, number> = {
  CERT_SIGNATURE_FAILURE: 7,
  CERT_NOT_YET_VALID: 9,
  CERT_HAS_EXPIRED: 10,
  DEPTH_ZERO_SELF_SIGNED_CERT: 18,
  SELF_SIGNED_CERT_IN_CHAIN: 19,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20,
  UNABLE_TO_GET_ISSUER_CERT: 20,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 20,
  CERT_REVOKED: 23,
  INVALID_CA: 24,
  INVALID_PURPOSE: 26,
};

// rustls's alert names and OpenSSL's reason codes for a received alert.
const ALERTS: Record<string, string> = {
  UnexpectedMessage: "SSLV3_ALERT_UNEXPECTED_MESSAGE",
  BadRecordMac: "SSLV3_ALERT_BAD_RECORD_MAC",
  RecordOverflow: "TLSV1_ALERT_RECORD_OVERFLOW",
  HandshakeFailure: "SSLV3_ALERT_HANDSHAKE_FAILURE",
  BadCertificate: "SSLV3_ALERT_BAD_CERTIFICATE",
  UnsupportedCertificate: "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
  CertificateRevoked: "SSLV3_ALERT_CERTIFICATE_REVOKED",
  CertificateExpired: "SSLV3_ALERT_CERTIFICATE_EXPIRED",
  CertificateUnknown: "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
  IllegalParameter: "SSLV3_ALERT_ILLEGAL_PARAMETER",
  UnknownCA: "TLSV1_ALERT_UNKNOWN_CA",
  AccessDenied: "TLSV1_ALERT_ACCESS_DENIED",
  DecodeError: "TLSV1_ALERT_DECODE_ERROR",
  DecryptError: "TLSV1_ALERT_DECRYPT_ERROR",
  ProtocolVersion: "TLSV1_ALERT_PROTOCOL_VERSION",
  InsufficientSecurity: "TLSV1_ALERT_INSUFFICIENT_SECURITY",
  InternalError: "TLSV1_ALERT_INTERNAL_ERROR",
  InappropriateFallback: "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
  UserCanceled: "TLSV1_ALERT_USER_CANCELLED",
  NoRenegotiation: "TLSV1_ALERT_NO_RENEGOTIATION",
  MissingExtension: "TLSV13_ALERT_MISSING_EXTENSION",
  UnsupportedExtension: "TLSV1_ALERT_UNSUPPORTED_EXTENSION",
  UnrecognisedName: "TLSV1_UNRECOGNIZED_NAME",
  BadCertificateStatusResponse: "TLSV1_BAD_CERTIFICATE_STATUS_RESPONSE",
  UnknownPSKIdentity: "TLSV1_ALERT_UNKNOWN_PSK_IDENTITY",
  CertificateRequired: "TLSV13_ALERT_CERTIFICATE_REQUIRED",
  NoApplicationProtocol: "TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
};

/** An SSLError for an OpenSSL reason code; the text is OpenSSL's (the code in words). */
export function reasonError(reason: string, cause?: unknown): SSLError {
  return new SSLError(SSL_ERROR_SSL, reason.toLowerCase().replaceAll("_", " "), {
    reason,
    cause,
  });
}

function verifyError(code: number, cause?: unknown): SSLCertVerificationError {
  return new SSLCertVerificationError(code, X509_TEXT[code] ?? X509_TEXT[1], { cause });
}

/** Python's error for a certificate that does not name `host` (X509_V_ERR 62, or 64 for an IP). */
export function hostnameError(host: string, cause?: unknown): SSLCertVerificationError {
  if (nodeNet().isIP(host) || openSslIpv4(host) !== null) {
    return new SSLCertVerificationError(
      64,
      `IP address mismatch, certificate is not valid for '${host}'.`,
      { cause },
    );
  }
  return new SSLCertVerificationError(
    62,
    `Hostname mismatch, certificate is not valid for '${host}'.`,
    { cause },
  );
}

// The extendedKeyUsage a peer's certificate needs (OpenSSL's "sslserver"
// and "sslclient" purposes, which CPython's contexts set).
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/**
 * An IPv4 address as OpenSSL's a2i_IPADDRESS reads a server name (four
 * decimal numbers, leading zeros allowed: "127.000.000.001" is 127.0.0.1,
 * checked against the certificate's IP addresses as CPython checks it), in
 * dotted form; `null` for anything else.
 */
export function openSslIpv4(host: string): string | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,10}$/.test(p) && Number(p) <= 255)) {
    return null;
  }
  return parts.map(Number).join(".");
}

/**
 * Why the certificate does not name `host`, as OpenSSL's X509_check_host
 * (or X509_check_ip) decides it, or `undefined` when it does: node:tls's
 * checkServerIdentity, except for an IPv4 address with leading zeros (read
 * as OpenSSL reads it), partial wildcards (below) and a trailing dot, which
 * node:tls drops from the name and from the certificate's names where
 * OpenSSL (and so CPython) compares them as they are: "localhost." does
 * not match a certificate for "localhost".
 */
export function nameMismatch(host: string, cert: tls.PeerCertificate): Error | undefined {
  const ip = openSslIpv4(host);
  if (ip !== null) return nodeTls().checkServerIdentity(ip, cert);
  if (host.endsWith(".") && !nodeNet().isIP(host)) {
    const names = (cert.subjectaltname ?? "").split(", ").filter((n) => n.startsWith("DNS:"));
    if (!names.some((n) => n.endsWith("."))) {
      return new Error(
        `Host: ${host} is not in the cert's altnames: OpenSSL keeps its trailing dot`,
      );
    }
  }
  return nodeTls().checkServerIdentity(host, wholeWildcardsOnly(cert));
}

// CPython sets X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS: "f*.example.org" is no
// wildcard for OpenSSL (it matches nothing), where node:tls would match
// "foo.example.org" with it. Such names are spelt so that nothing matches.
function wholeWildcardsOnly(cert: tls.PeerCertificate): tls.PeerCertificate {
  const partial = (name: string) => {
    const label = name.split(".")[0];
    return label.includes("*") && label !== "*";
  };
  const spoil = (name: string) => partial(name) ? name.replaceAll("*", "!") : name;
  const alt = cert.subjectaltname?.split(", ")
    .map((entry) => entry.startsWith("DNS:") ? `DNS:${spoil(entry.slice(4))}` : entry).join(", ");
  const cn = cert.subject?.CN;
  const subject = typeof cn === "string" ? { ...cert.subject, CN: spoil(cn) } : cert.subject;
  return { ...cert, subjectaltname: alt ?? cert.subjectaltname, subject } as tls.PeerCertificate;
}

/**
 * Names node:tls's refusal of the peer's chain as OpenSSL would. The chain
 * is built from the leaf through the certificates the peer sent to a
 * trusted CA, and checked in OpenSSL's order: an issuer it cannot find
 * first (18 for a self-signed leaf, 19 when what the peer sent ends in a
 * root nobody trusts, 20 otherwise), then the purpose (a server's
 * certificate must allow serverAuth, a client's clientAuth), then the
 * validity dates of the chain's certificates, from the top down.
 *
 * @param peer The peer's certificate (DER).
 * @param trusted The CAs the context trusts (PEM).
 * @param code node:tls's `authorizationError`.
 * @param peerIsServer Whether the peer is the server (a client checks it).
 * @param sent The other certificates the peer sent (DER), issuers first.
 */
export function chainError(
  peer: Uint8Array,
  trusted: readonly string[],
  code: string,
  peerIsServer = true,
  sent: readonly Uint8Array[] = [],
): SSLCertVerificationError {
  let leaf: X509Certificate;
  try {
    leaf = x509(peer);
  } catch (err) {
    return verifyError(NODE_CODES[code] ?? 1, err);
  }
  const { chain, missing } = buildChain(leaf, readable(sent), anchorsOf(trusted));
  if (missing !== null) return verifyError(missing);
  const usage = extendedKeyUsage(peer);
  if (usage !== null && !usage.includes(peerIsServer ? SERVER_AUTH : CLIENT_AUTH)) {
    return verifyError(26);
  }
  return datesError(chain) ?? verifyError(NODE_CODES[code] ?? 1);
}

/**
 * What OpenSSL refuses in a chain node:tls accepted: a trusted CA whose
 * dates have passed (rustls never checks a trust anchor's dates); `null`
 * when there is nothing.
 *
 * @param peer The peer's certificate (DER).
 * @param trusted The CAs the context trusts (PEM).
 * @param sent The other certificates the peer sent (DER), issuers first.
 */
export function anchorError(
  peer: Uint8Array,
  trusted: readonly string[],
  sent: readonly Uint8Array[],
): SSLCertVerificationError | null {
  let leaf: X509Certificate;
  try {
    leaf = x509(peer);
  } catch {
    return null;
  }
  const { chain, missing } = buildChain(leaf, readable(sent), anchorsOf(trusted));
  return missing === null ? datesError(chain.slice(0, 1)) : null;
}

// The chain from a trusted CA (first) down to `leaf` (last), through the
// certificates the peer sent, as OpenSSL builds it (bounded: a peer's loop
// cannot hold us); or the X509_V_ERR code when no trusted CA is reached.
function buildChain(
  leaf: X509Certificate,
  untrusted: X509Certificate[],
  anchors: X509Certificate[],
): { chain: X509Certificate[]; missing: number | null } {
  const chain = [leaf];
  for (let depth = 0; depth < 10; depth++) {
    const top = chain[0];
    const anchor = anchors.find((ca) => issues(ca, top));
    if (anchor !== undefined) {
      chain.unshift(anchor);
      return { chain, missing: null };
    }
    const next = untrusted.find((c) => c !== top && issues(c, top));
    if (next === undefined) {
      if (issues(top, top)) return { chain, missing: top === leaf ? 18 : 19 };
      return { chain, missing: 20 };
    }
    chain.unshift(next);
  }
  return { chain, missing: 20 };
}

// The dates of every certificate of the chain, from the top down, as OpenSSL checks them.
function datesError(chain: X509Certificate[]): SSLCertVerificationError | null {
  const now = Date.now();
  for (const cert of chain) {
    const [from, to] = validity(new Uint8Array(cert.raw));
    if (now > to) return verifyError(10);
    if (now < from) return verifyError(9);
  }
  return null;
}

// Trusted CAs parsed once each: a context's CAs are asked for on every handshake.
const parsedAnchors = new Map<string, X509Certificate | null>();

function anchorsOf(trusted: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of trusted) {
    let cert = parsedAnchors.get(pem);
    if (cert === undefined) {
      cert = readable([pem])[0] ?? null;
      parsedAnchors.set(pem, cert);
    }
    if (cert !== null) out.push(cert);
  }
  return out;
}

/** The certificates the peer sent after its own (DER), issuers first, as node:tls links them. */
export function sentChain(socket: tls.TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cert = socket.getPeerCertificate(true);
  for (let i = 0; i < 10; i++) {
    const issuer = cert.issuerCertificate;
    if (issuer === undefined || issuer === cert || !issuer.raw) break;
    out.push(new Uint8Array(issuer.raw));
    cert = issuer;
  }
  return out;
}

function readable(certs: readonly (string | Uint8Array)[]): X509Certificate[] {
  return certs.flatMap((cert) => {
    try {
      return [x509(cert)];
    } catch {
      return [];
    }
  });
}

/** Whether `ca` issued and signed `cert`. */
function issues(ca: X509Certificate, cert: X509Certificate): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** Python's error when a client sent no certificate and one is required. */
export function noPeerCertificate(): SSLError {
  return reasonError("PEER_DID_NOT_RETURN_A_CERTIFICATE");
}

/**
 * An error from a node:tls handshake as Python reports it: alerts by
 * OpenSSL's reason, a connection closed mid-handshake as SSLEOFError.
 */
export function nodeError(err: unknown): unknown {
  if (err instanceof SSLError || !(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  // node:tls says WRONG_VERSION_NUMBER for any corrupt record, rustls's
  // MessageTooLarge (a header over the length limit) too; OpenSSL names that.
  if (/MessageTooLarge/.test(err.message)) return reasonError("PACKET_LENGTH_TOO_LONG", err);
  if (typeof code === "string" && code.startsWith("ERR_SSL_")) {
    return reasonError(code.slice("ERR_SSL_".length), err);
  }
  return rustlsError(err) ?? err;
}

/**
 * An error from Deno's own TLS (rustls's text) as Python reports it, or
 * `null` when it is not a TLS error (ECONNRESET and the like stay OSErrors).
 *
 * @param err What the engine threw.
 * @param host The name the certificate was checked against.
 */
export function rustlsError(err: Error, host?: string | null): SSLError | null {
  const text = err.message;
  const alert = /received fatal alert: (\w+)/.exec(text);
  if (alert) return reasonError(ALERTS[alert[1]] ?? "TLSV1_ALERT_INTERNAL_ERROR", err);
  if (/close_notify|handshake eof|disconnected before secure TLS|socket hang up/i.test(text)) {
    return new SSLEOFError({ cause: err });
  }
  if (/invalid peer certificate/.test(text)) {
    if (/expired/i.test(text)) return verifyError(10, err);
    if (/not valid yet|NotValidYet/i.test(text)) return verifyError(9, err);
    // A self-signed certificate is a CA used as its own end entity.
    if (/CaUsedAsEndEntity/.test(text)) return verifyError(18, err);
    if (/UnknownIssuer/.test(text)) return verifyError(20, err);
    if (/BadSignature/.test(text)) return verifyError(7, err);
    if (/Revoked/.test(text)) return verifyError(23, err);
    if (/InvalidPurpose|does not allow extended key usage/.test(text)) return verifyError(26, err);
    const name = /not valid for name "([^"]*)"/.exec(text);
    if (name) return hostnameError(host ?? name[1], err);
    return verifyError(1, err);
  }
  if (/MessageTooLarge/.test(text)) return reasonError("PACKET_LENGTH_TOO_LONG", err);
  if (/corrupt message|InvalidContentType|wrong version|InvalidMessage/i.test(text)) {
    return reasonError("WRONG_VERSION_NUMBER", err);
  }
  if (/peer is incompatible|no (shared|common) cipher|NoCipherSuitesInCommon/i.test(text)) {
    return reasonError("NO_SHARED_CIPHER", err);
  }
  if (/ProtocolVersion|protocol version/i.test(text)) {
    return reasonError("UNSUPPORTED_PROTOCOL", err);
  }
  return null;
}

/** A node:tls error after the handshake, as the OSError Python would raise. */
export function nodeStreamError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (code === "ECONNRESET") return new ConnectionResetError(errno.ECONNRESET, { cause: err });
  if (
    code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || code === "ERR_STREAM_WRITE_AFTER_END"
  ) {
    return new BrokenPipeError(errno.EPIPE, { cause: err });
  }
  return nodeError(err);
}
