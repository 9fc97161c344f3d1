// Failures as Python's ssl module reports them. Deno's engines say less than
// OpenSSL: node:tls reports an expired certificate and an unknown issuer
// alike ("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), and Deno.startTls only gives
// rustls's text. The engine decides whether a certificate is trusted; this
// file only names its verdict the way OpenSSL would (X509_V_ERR_* codes),
// looking at the certificate where the engine's words are not enough.

import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { validity } from "./_ssl_cert.ts";
import { SSL_ERROR_SSL, SSLCertVerificationError, SSLEOFError, SSLError } from "./_ssl_errors.ts";

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
  26: "unsupported certificate purpose",
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
  if (isIP(host)) {
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

/**
 * Names node:tls's refusal of the peer's chain as OpenSSL would. The leaf
 * is checked against the trusted CAs the way OpenSSL orders its checks:
 * an issuer it cannot find first, then the validity dates.
 *
 * @param peer The peer's certificate (DER).
 * @param trusted The CAs the context trusts (PEM).
 * @param code node:tls's `authorizationError`.
 */
export function chainError(
  peer: Uint8Array,
  trusted: readonly string[],
  code: string,
): SSLCertVerificationError {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(peer);
  } catch (err) {
    return verifyError(NODE_CODES[code] ?? 1, err);
  }
  const issued = trusted.some((pem) => {
    try {
      const ca = new X509Certificate(pem);
      return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
    } catch {
      return false;
    }
  });
  if (!issued) {
    const self = leaf.checkIssued(leaf) && leaf.verify(leaf.publicKey);
    return verifyError(self ? 18 : 20);
  }
  const [from, to] = validity(peer);
  const now = Date.now();
  if (now > to) return verifyError(10);
  if (now < from) return verifyError(9);
  return verifyError(NODE_CODES[code] ?? 1);
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
    const name = /not valid for name "([^"]*)"/.exec(text);
    if (name) return hostnameError(host ?? name[1], err);
    return verifyError(1, err);
  }
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
