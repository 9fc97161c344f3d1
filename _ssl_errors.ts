// Python's ssl exception hierarchy. Every class is an OSError (as in Python)
// whose errno is one of OpenSSL's SSL_ERROR_* numbers, and whose message is
// Python's: `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed:
// unable to get local issuer certificate` (Python appends the line of _ssl.c
// that raised it; there is no such line here).

import { BlockingIOError, OSError, TimeoutError } from "./errors.ts";

/** `SSL_ERROR_SSL`: a protocol error (the errno of most {@linkcode SSLError}s). */
export const SSL_ERROR_SSL = 1;
/** `SSL_ERROR_WANT_READ`: a non-blocking call needs data from the peer first. */
export const SSL_ERROR_WANT_READ = 2;
/** `SSL_ERROR_WANT_WRITE`: a non-blocking call needs to send first. */
export const SSL_ERROR_WANT_WRITE = 3;
/** `SSL_ERROR_WANT_X509_LOOKUP` (never raised here; for code that compares errno). */
export const SSL_ERROR_WANT_X509_LOOKUP = 4;
/** `SSL_ERROR_SYSCALL`: the transport failed under TLS. */
export const SSL_ERROR_SYSCALL = 5;
/** `SSL_ERROR_ZERO_RETURN`: the peer closed the TLS session (close_notify). */
export const SSL_ERROR_ZERO_RETURN = 6;
/** `SSL_ERROR_WANT_CONNECT` (never raised here; for code that compares errno). */
export const SSL_ERROR_WANT_CONNECT = 7;
/** `SSL_ERROR_EOF`: the connection ended in violation of the protocol. */
export const SSL_ERROR_EOF = 8;
/** `SSL_ERROR_INVALID_ERROR_CODE` (never raised here; for code that compares errno). */
export const SSL_ERROR_INVALID_ERROR_CODE = 10;

/** What an {@linkcode SSLError} may carry besides its errno. */
export interface SSLErrorOptions {
  /** OpenSSL's reason code, such as `CERTIFICATE_VERIFY_FAILED`; `null` when there is none. */
  reason?: string | null;
  /** The library that failed, `SSL` for protocol errors; `null` when there is none. */
  library?: string | null;
  /** The underlying error (Deno's or node:tls's). */
  cause?: unknown;
}

/**
 * Python's `ssl.SSLError`: a TLS failure. An {@linkcode OSError} whose
 * `errno` is an `SSL_ERROR_*` number; `reason` and `library` name what
 * failed, and the message reads like Python's
 * (`[SSL: WRONG_VERSION_NUMBER] wrong version number`).
 *
 * @example
 * ```ts
 * import { BlockingIOError, OSError, TimeoutError } from "./errors.ts";
 * import { SSLError } from "./ssl.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const err = new SSLError(1, "wrong version number", { reason: "WRONG_VERSION_NUMBER" });
 * ok(err instanceof OSError);
 * equal(err.message, "[SSL: WRONG_VERSION_NUMBER] wrong version number");
 * equal(err.library, "SSL");
 * ```
 */
export class SSLError extends OSError {
  /** OpenSSL's reason code (`CERTIFICATE_VERIFY_FAILED`), or `null`. */
  readonly reason: string | null;
  /** The library that failed (`SSL`), or `null`. */
  readonly library: string | null;

  /**
   * Creates the error.
   *
   * @param code An `SSL_ERROR_*` number.
   * @param text What happened, without the `[SSL: REASON]` prefix.
   * @param options The reason, library and cause.
   */
  constructor(code: number, text: string, options: SSLErrorOptions = {}) {
    const reason = options.reason ?? null;
    const library = options.library === undefined
      ? (reason === null ? null : "SSL")
      : options.library;
    const full = reason !== null
      ? `[${library ?? "SSL"}: ${reason}] ${text}`
      : library !== null
      ? `[${library}] ${text}`
      : text;
    super(code, { strerror: full, cause: options.cause });
    // Python's str() of an SSLError is its text alone, without "[Errno 1]".
    this.message = full;
    this.reason = reason;
    this.library = library;
  }
}

/**
 * The peer's certificate failed verification (Python's
 * `ssl.SSLCertVerificationError`, alias `ssl.CertificateError`):
 * `verifyCode` and `verifyMessage` are OpenSSL's `X509_V_ERR_*` number and
 * text, as Python reports them (20, `unable to get local issuer
 * certificate`; 10, `certificate has expired`; 62, `Hostname mismatch, ...`).
 *
 * @example
 * ```ts
 * import { SSLCertVerificationError, SSLError } from "./ssl.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const err = new SSLCertVerificationError(10, "certificate has expired");
 * ok(err instanceof SSLError);
 * equal(err.reason, "CERTIFICATE_VERIFY_FAILED");
 * equal(err.message, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired");
 * ```
 */
export class SSLCertVerificationError extends SSLError {
  /** OpenSSL's `X509_V_ERR_*` code (Python's `verify_code`). */
  readonly verifyCode: number;
  /** The text for {@linkcode SSLCertVerificationError.verifyCode} (Python's `verify_message`). */
  readonly verifyMessage: string;

  /**
   * Creates the error.
   *
   * @param verifyCode The `X509_V_ERR_*` code.
   * @param verifyMessage Its text.
   * @param options The cause.
   */
  constructor(verifyCode: number, verifyMessage: string, options: { cause?: unknown } = {}) {
    super(SSL_ERROR_SSL, `certificate verify failed: ${verifyMessage}`, {
      reason: "CERTIFICATE_VERIFY_FAILED",
      cause: options.cause,
    });
    this.verifyCode = verifyCode;
    this.verifyMessage = verifyMessage;
  }
}

/**
 * Python's `ssl.CertificateError`: the same class as
 * {@linkcode SSLCertVerificationError}.
 *
 * @example
 * ```ts
 * import { CertificateError, SSLCertVerificationError } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * equal(CertificateError, SSLCertVerificationError);
 * ```
 */
export const CertificateError: typeof SSLCertVerificationError = SSLCertVerificationError;

/**
 * The TLS session is already over where the call needs it (Python's
 * `ssl.SSLZeroReturnError`, errno 6): `unwrap()` on a session the peer has
 * torn down. A `recv` at the peer's close_notify returns an empty array
 * instead, as Python's does.
 *
 * @example
 * ```ts
 * import { SSLError, SSLZeroReturnError } from "./ssl.ts";
 * import { equal, ok } from "node:assert/strict";
 * const err = new SSLZeroReturnError();
 * ok(err instanceof SSLError);
 * equal(err.errno, 6);
 * ```
 */
export class SSLZeroReturnError extends SSLError {
  /**
   * Creates the error.
   *
   * @param text What happened.
   * @param options The cause.
   */
  constructor(
    text = "TLS/SSL connection has been closed (EOF)",
    options: { cause?: unknown } = {},
  ) {
    super(SSL_ERROR_ZERO_RETURN, text, { cause: options.cause });
  }
}

/**
 * A non-blocking call needs data from the peer first (Python's
 * `ssl.SSLWantReadError`, errno 2): retry once the socket is readable.
 *
 * @example
 * ```ts
 * import { SSLWantReadError } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * equal(new SSLWantReadError().message, "The operation did not complete (read)");
 * ```
 */
export class SSLWantReadError extends SSLError {
  /**
   * Creates the error.
   *
   * @param options The cause.
   */
  constructor(options: { cause?: unknown } = {}) {
    super(SSL_ERROR_WANT_READ, "The operation did not complete (read)", options);
  }
}

/**
 * A non-blocking call needs to send first (Python's `ssl.SSLWantWriteError`,
 * errno 3). pysock's writes wait for completion in non-blocking mode (a
 * write Deno has taken cannot be withdrawn), so no call raises it today; it
 * is here for code that catches it.
 *
 * @example
 * ```ts
 * import { SSLWantWriteError } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * equal(new SSLWantWriteError().errno, 3);
 * ```
 */
export class SSLWantWriteError extends SSLError {
  /**
   * Creates the error.
   *
   * @param options The cause.
   */
  constructor(options: { cause?: unknown } = {}) {
    super(SSL_ERROR_WANT_WRITE, "The operation did not complete (write)", options);
  }
}

/**
 * The transport failed under TLS (Python's `ssl.SSLSyscallError`, errno 5).
 *
 * @example
 * ```ts
 * import { SSLSyscallError } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * equal(new SSLSyscallError("Some I/O error occurred").errno, 5);
 * ```
 */
export class SSLSyscallError extends SSLError {
  /**
   * Creates the error.
   *
   * @param text What happened.
   * @param options The cause.
   */
  constructor(text: string, options: { cause?: unknown } = {}) {
    super(SSL_ERROR_SYSCALL, text, options);
  }
}

/**
 * The connection ended in violation of the protocol: the peer closed TCP
 * during the handshake, or without close_notify where that matters
 * (Python's `ssl.SSLEOFError`, errno 8).
 *
 * @example
 * ```ts
 * import { SSLEOFError } from "./ssl.ts";
 * import { equal } from "node:assert/strict";
 * equal(
 *   new SSLEOFError().message,
 *   "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol",
 * );
 * ```
 */
export class SSLEOFError extends SSLError {
  /**
   * Creates the error.
   *
   * @param options The cause.
   */
  constructor(options: { cause?: unknown } = {}) {
    super(SSL_ERROR_EOF, "EOF occurred in violation of protocol", {
      reason: "UNEXPECTED_EOF_WHILE_READING",
      cause: options.cause,
    });
  }
}

// Python's check when it makes the TLS session (at wrap time for a
// connected socket, in connect() before connecting otherwise): a ValueError
// there, a TypeError here.
export function checkHostnameNotEmpty(host: string | null): void {
  if (host === "") {
    throw new TypeError("Cannot wrap socket: serverHostname cannot be an empty string");
  }
}

// CPython refuses flags on an SSLSocket ("non-zero flags not allowed in
// calls to recv()"): a StreamSocket's caller may pass them, and ignoring
// them would make MSG_DONTWAIT block and MSG_PEEK consume.
export function noFlags(flags: unknown, action: string): void {
  if (flags !== 0 && flags !== undefined) {
    throw new RangeError(`Cannot ${action}: an SSLSocket takes no flags, got ${String(flags)}`);
  }
}

// A non-blocking read or write that would wait raises
// SSLWantReadError/SSLWantWriteError, as CPython's SSLSocket does.
export function readFailed(err: unknown): never {
  if (err instanceof BlockingIOError) throw new SSLWantReadError({ cause: err });
  throw timedOut(err, "read");
}

// CPython's SSLSocket names the operation that timed out (_ssl.c), where a
// plain socket says "timed out".
export function timedOut(err: unknown, what: string): unknown {
  const text = `The ${what} operation timed out`;
  // (A read whose buffer already says so, see ReadBuffer.timeoutText, is kept.)
  if (!(err instanceof TimeoutError) || err.errno !== null || err.strerror === text) return err;
  return new TimeoutError(null, { strerror: text, cause: err });
}

export function writeFailed(err: unknown): never {
  if (err instanceof BlockingIOError) throw new SSLWantWriteError({ cause: err });
  throw timedOut(err, "write");
}
