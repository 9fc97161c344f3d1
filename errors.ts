/**
 * Python's socket exception hierarchy, with Linux errno numbers.
 *
 * Every failure that comes from the operating system (or from Deno on its
 * behalf) is an {@linkcode OSError} subclass carrying `errno`, `strerror` and
 * the original Deno error in `cause`. Messages read like CPython's:
 * `[Errno 111] Connection refused`.
 *
 * @example Catching a refused connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionRefusedError, errno, OSError } from "./errors.ts";
 *
 * const err = new ConnectionRefusedError(errno.ECONNREFUSED);
 * assert.ok(err instanceof OSError);
 * assert.equal(err.message, "[Errno 111] Connection refused");
 * ```
 *
 * @module
 */

import { errno, ERRNO_TEXT, type ErrnoName } from "./_errno.ts";

export { errno, type ErrnoName };

/** The names in {@linkcode EAI}. */
export type EaiName =
  | "EAI_BADFLAGS"
  | "EAI_NONAME"
  | "EAI_AGAIN"
  | "EAI_FAIL"
  | "EAI_FAMILY"
  | "EAI_SOCKTYPE"
  | "EAI_SERVICE"
  | "EAI_MEMORY"
  | "EAI_SYSTEM"
  | "EAI_NODATA"
  | "EAI_ADDRFAMILY";

/**
 * `getaddrinfo` error codes (glibc values), carried by {@linkcode gaierror}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EAI } from "./errors.ts";
 * assert.equal(EAI.EAI_NONAME, -2);
 * ```
 */
export const EAI: Readonly<Record<EaiName, number>> = Object.freeze({
  EAI_BADFLAGS: -1,
  EAI_NONAME: -2,
  EAI_AGAIN: -3,
  EAI_FAIL: -4,
  EAI_FAMILY: -6,
  EAI_SOCKTYPE: -7,
  EAI_SERVICE: -8,
  EAI_MEMORY: -10,
  EAI_SYSTEM: -11,
  EAI_NODATA: -5,
  EAI_ADDRFAMILY: -9,
});

// getaddrinfo's texts (gai_strerror), by its negative codes.
const GAI_TEXT: Record<number, string> = {
  [-1]: "Bad value for ai_flags",
  [-2]: "Name or service not known",
  [-3]: "Temporary failure in name resolution",
  [-4]: "Non-recoverable failure in name resolution",
  [-5]: "No address associated with hostname",
  [-6]: "ai_family not supported",
  [-7]: "ai_socktype not supported",
  [-8]: "Servname not supported for ai_socktype",
  [-9]: "Address family for hostname not supported",
  [-10]: "Memory allocation failure",
  [-11]: "System error",
};

/**
 * The text of an errno, as C's `strerror` (and Python's `os.strerror`) gives it.
 *
 * @param code An errno number, or a negative `getaddrinfo` code.
 * @returns The description, or `Unknown error N`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strerror } from "./errors.ts";
 * assert.equal(strerror(111), "Connection refused");
 * ```
 */
export function strerror(code: number): string {
  checkCode(code, "strerror");
  if (code === 0) return "Success";
  return (code < 0 ? GAI_TEXT[code] : ERRNO_TEXT[code]) ?? `Unknown error ${code}`;
}

// An errno argument: an integer, as CPython's os.strerror takes (a string
// or a list was looked up as a key and answered).
function checkCode(code: unknown, action: string): void {
  if (typeof code !== "number" || !Number.isInteger(code)) {
    const got = typeof code === "string"
      ? JSON.stringify(code)
      : Array.isArray(code)
      ? "an array"
      : String(code);
    throw new TypeError(`Cannot ${action}: the errno must be an integer, got ${got}`);
  }
}

/** Options accepted by every {@linkcode OSError} constructor. */
export interface OSErrorOptions {
  /** The underlying error (usually a `Deno.errors.*` instance). */
  cause?: unknown;
  /**
   * Overrides the standard text for the errno. With a `null` errno it is
   * the whole message, as in Python's `OSError("timed out")`.
   */
  strerror?: string;
  /** Appended after the standard text, as Python appends a file name. */
  detail?: string;
}

/**
 * Python's `OSError` (alias `socket.error`): a failure reported by the
 * operating system, with its `errno`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errno, OSError } from "./errors.ts";
 * const err = new OSError(errno.EBADF);
 * assert.equal(err.message, "[Errno 9] Bad file descriptor");
 * assert.ok(err.errno === 9 && err.strerror === "Bad file descriptor");
 * ```
 *
 * @example Python's `OSError("message")`: no errno
 * ```ts
 * import assert from "node:assert/strict";
 * import { OSError } from "./errors.ts";
 * const err = new OSError(null, { strerror: "timed out" });
 * assert.equal(err.message, "timed out");
 * assert.ok(err.errno === null && err.strerror === null);
 * ```
 */
export class OSError extends Error {
  /**
   * The Linux errno number (negative for `getaddrinfo` codes), or `null`
   * where Python's is `None` (a socket timeout).
   */
  readonly errno: number | null;
  /** The text for `errno`, as `os.strerror` gives it; `null` with a `null` errno. */
  readonly strerror: string | null;

  /**
   * Creates an error for `code`.
   *
   * @param code The errno number, or `null` (the default, as Python's
   *   `OSError()`) for an error that has none.
   * @param options The original error, and text to replace or extend the standard one.
   */
  constructor(code: number | null = null, options: OSErrorOptions = {}) {
    const detail = options.detail ? `: ${options.detail}` : "";
    if (code === null) {
      super(`${options.strerror ?? ""}${detail}`, { cause: options.cause });
      this.errno = null;
      this.strerror = null;
      return;
    }
    const text = options.strerror ?? strerror(code);
    super(`[Errno ${code}] ${text}${detail}`, { cause: options.cause });
    this.errno = code;
    this.strerror = text;
  }

  /** The class name, as Python prints it (`ConnectionRefusedError`). */
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * Base class of connection-related errors, as in Python.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrokenPipeError, ConnectionError } from "./errors.ts";
 * assert.ok(new BrokenPipeError() instanceof ConnectionError);
 * ```
 */
export class ConnectionError extends OSError {}

/**
 * The peer refused the connection (`ECONNREFUSED`, 111).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionRefusedError } from "./errors.ts";
 * assert.equal(new ConnectionRefusedError().errno, 111);
 * ```
 */
export class ConnectionRefusedError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param code The errno, `ECONNREFUSED` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.ECONNREFUSED, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * The peer reset the connection (`ECONNRESET`, 104).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionResetError } from "./errors.ts";
 * assert.equal(new ConnectionResetError().message, "[Errno 104] Connection reset by peer");
 * ```
 */
export class ConnectionResetError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param code The errno, `ECONNRESET` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.ECONNRESET, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * The connection was aborted locally (`ECONNABORTED`, 103).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionAbortedError } from "./errors.ts";
 * assert.equal(new ConnectionAbortedError().errno, 103);
 * ```
 */
export class ConnectionAbortedError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param code The errno, `ECONNABORTED` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.ECONNABORTED, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * Writing to a connection whose peer has gone (`EPIPE`, 32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrokenPipeError } from "./errors.ts";
 * assert.equal(new BrokenPipeError().message, "[Errno 32] Broken pipe");
 * ```
 */
export class BrokenPipeError extends ConnectionError {
  /**
   * Creates the error.
   *
   * @param code The errno, `EPIPE` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.EPIPE, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * A call took longer than the socket's timeout (`socket.timeout` in Python).
 *
 * As in Python, a socket's own timeout has the message `timed out` and no
 * errno (`errno` and `strerror` are `null`). A timeout the kernel reports
 * (`ETIMEDOUT`, 110: a connection whose peer stopped answering) is also a
 * `TimeoutError`, with errno 110 and `[Errno 110] Connection timed out`.
 * A timed-out receive loses no data: what arrives later is returned by the
 * next call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OSError, TimeoutError } from "./errors.ts";
 * const err = new TimeoutError();
 * assert.ok(err instanceof OSError && err.errno === null);
 * assert.equal(err.message, "timed out");
 * ```
 */
export class TimeoutError extends OSError {
  /**
   * Creates the error.
   *
   * @param code `null` (default) for a socket timeout; an errno (`ETIMEDOUT`)
   *   for one the kernel reported.
   * @param options See {@linkcode OSErrorOptions}; the text defaults to Python's `timed out`.
   */
  constructor(code: number | null = null, options: OSErrorOptions = {}) {
    super(code, { strerror: "timed out", ...options });
  }
}

/**
 * A non-blocking call found nothing ready (`EAGAIN`, 11).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockingIOError } from "./errors.ts";
 * assert.equal(new BlockingIOError().message, "[Errno 11] Resource temporarily unavailable");
 * ```
 */
export class BlockingIOError extends OSError {
  /**
   * How much a buffered file's `write` took before it would block (Python's
   * `characters_written`): bytes sent or buffered; 0 for a socket call.
   */
  charactersWritten = 0;

  /**
   * Creates the error.
   *
   * @param code The errno, `EAGAIN` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.EAGAIN, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * Deno refused the call for lack of a permission (`EACCES`, 13). The message
 * names the flag to add, e.g. `--allow-net=127.0.0.1:8080`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PermissionError } from "./errors.ts";
 * const err = new PermissionError(13, { detail: "run again with --allow-net=127.0.0.1:80" });
 * assert.ok(err.message.endsWith("--allow-net=127.0.0.1:80"));
 * ```
 */
export class PermissionError extends OSError {
  /**
   * Creates the error.
   *
   * @param code The errno, `EACCES` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.EACCES, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * A name could not be resolved (`socket.gaierror`); `errno` is a negative
 * `getaddrinfo` code such as {@linkcode EAI}`.EAI_NONAME`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gaierror } from "./errors.ts";
 * assert.equal(new gaierror().message, "[Errno -2] Name or service not known");
 * ```
 */
export class gaierror extends OSError {
  /**
   * Creates the error.
   *
   * @param code The `getaddrinfo` code, `EAI_NONAME` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = EAI.EAI_NONAME, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * A path that does not exist (`ENOENT`, 2), as Python's `OSError(2, ...)`
 * is: a Unix socket path nobody bound, a file `sendfile` cannot open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorFromErrno, FileNotFoundError, OSError } from "./errors.ts";
 * const err = errorFromErrno(2);
 * assert.ok(err instanceof FileNotFoundError && err instanceof OSError);
 * assert.equal(err.message, "[Errno 2] No such file or directory");
 * ```
 */
export class FileNotFoundError extends OSError {
  /**
   * Creates the error.
   *
   * @param code The errno, `ENOENT` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.ENOENT, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * A path through something that is not a directory (`ENOTDIR`, 20), as
 * Python's `OSError(20, ...)` is: a Unix socket path under a regular file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorFromErrno, NotADirectoryError, OSError } from "./errors.ts";
 * const err = errorFromErrno(20);
 * assert.ok(err instanceof NotADirectoryError && err instanceof OSError);
 * assert.equal(err.message, "[Errno 20] Not a directory");
 * ```
 */
export class NotADirectoryError extends OSError {
  /**
   * Creates the error.
   *
   * @param code The errno, `ENOTDIR` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.ENOTDIR, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * A path that exists already (`EEXIST`, 17), as Python's `OSError(17, ...)` is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorFromErrno, FileExistsError, OSError } from "./errors.ts";
 * const err = errorFromErrno(17);
 * assert.ok(err instanceof FileExistsError && err instanceof OSError);
 * assert.equal(err.message, "[Errno 17] File exists");
 * ```
 */
export class FileExistsError extends OSError {
  /**
   * Creates the error.
   *
   * @param code The errno, `EEXIST` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.EEXIST, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * A directory where a file was wanted: a path `sendfile` cannot read (`EISDIR`, 21), as Python's `OSError(21, ...)` is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorFromErrno, IsADirectoryError, OSError } from "./errors.ts";
 * const err = errorFromErrno(21);
 * assert.ok(err instanceof IsADirectoryError && err instanceof OSError);
 * assert.equal(err.message, "[Errno 21] Is a directory");
 * ```
 */
export class IsADirectoryError extends OSError {
  /**
   * Creates the error.
   *
   * @param code The errno, `EISDIR` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.EISDIR, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * A system call a signal interrupted (`EINTR`, 4), as Python's `OSError(4, ...)` is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorFromErrno, InterruptedError, OSError } from "./errors.ts";
 * const err = errorFromErrno(4);
 * assert.ok(err instanceof InterruptedError && err instanceof OSError);
 * assert.equal(err.message, "[Errno 4] Interrupted system call");
 * ```
 */
export class InterruptedError extends OSError {
  /**
   * Creates the error.
   *
   * @param code The errno, `EINTR` by default.
   * @param options See {@linkcode OSErrorOptions}.
   */
  constructor(code: number | null = errno.EINTR, options?: OSErrorOptions) {
    super(code, options);
  }
}

/**
 * An address-related error from the legacy resolver calls (`socket.herror`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { herror } from "./errors.ts";
 * assert.equal(new herror(1, { strerror: "Unknown host" }).message, "[Errno 1] Unknown host");
 * ```
 */
export class herror extends OSError {}

/**
 * A length header announced a message larger than `maxMessage`; raised before
 * anything is allocated for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageTooLargeError } from "./errors.ts";
 * const err = new MessageTooLargeError(100, 10);
 * assert.ok(err.size === 100 && err.maxMessage === 10);
 * ```
 */
export class MessageTooLargeError extends RangeError {
  /** The size the header announced. */
  readonly size: number;
  /** The limit in force. */
  readonly maxMessage: number;

  /**
   * Creates the error.
   *
   * @param size The size the header announced.
   * @param maxMessage The limit in force.
   */
  constructor(size: number, maxMessage: number) {
    super(`Cannot receive a ${size}-byte message: it exceeds maxMessage (${maxMessage} bytes)`);
    this.name = "MessageTooLargeError";
    this.size = size;
    this.maxMessage = maxMessage;
  }
}

/**
 * The stream ended before `expected` bytes arrived (asyncio's
 * `IncompleteReadError`); `partial` holds what did arrive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IncompleteReadError } from "./errors.ts";
 * const err = new IncompleteReadError(new Uint8Array(3), 10);
 * assert.ok(err.partial.length === 3 && err.expected === 10);
 * ```
 */
export class IncompleteReadError extends Error {
  /** The bytes read before the end of stream. */
  readonly partial: Uint8Array;
  /** How many bytes were expected in all (`null` when waiting for a delimiter). */
  readonly expected: number | null;

  /**
   * Creates the error.
   *
   * @param partial The bytes read before the end of stream.
   * @param expected How many were expected, or `null` for a delimiter search.
   */
  constructor(partial: Uint8Array, expected: number | null) {
    super(
      `${partial.length} bytes read on a total of ${
        expected === null ? "undefined" : expected
      } expected bytes`,
    );
    this.name = "IncompleteReadError";
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * No delimiter was found within the limit (asyncio's `LimitOverrunError`).
 * The buffered bytes stay readable; `consumed` says how many bytes were
 * searched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LimitOverrunError } from "./errors.ts";
 * assert.equal(new LimitOverrunError("Separator is not found", 70000).consumed, 70000);
 * ```
 */
export class LimitOverrunError extends Error {
  /** How many buffered bytes were searched. */
  readonly consumed: number;

  /**
   * Creates the error.
   *
   * @param message What overran.
   * @param consumed How many buffered bytes were searched.
   */
  constructor(message: string, consumed: number) {
    super(message);
    this.name = "LimitOverrunError";
    this.consumed = consumed;
  }
}

/**
 * Several errors at once (Python 3.11's `ExceptionGroup`): what
 * `createConnection(address, { allErrors: true })` rejects with when every
 * address fails. An `AggregateError`, so `errors` holds them too;
 * `exceptions` is Python's name for the same list. The message is what
 * Python's `str()` gives: `create_connection failed (2 sub-exceptions)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionRefusedError, ExceptionGroup } from "./errors.ts";
 * const group = new ExceptionGroup("create_connection failed", [new ConnectionRefusedError()]);
 * assert.equal(group.message, "create_connection failed (1 sub-exception)");
 * assert.ok(group.exceptions[0] instanceof ConnectionRefusedError);
 * assert.equal(group.errors, group.exceptions);
 * ```
 */
export class ExceptionGroup extends AggregateError {
  /** The errors, in the order they happened (Python's `exceptions`). */
  readonly exceptions: unknown[];

  /**
   * Creates the group.
   *
   * @param message What failed, as Python's `ExceptionGroup` message.
   * @param exceptions The errors it holds.
   */
  constructor(message: string, exceptions: unknown[]) {
    const count = exceptions.length;
    super(exceptions, `${message} (${count} sub-exception${count === 1 ? "" : "s"})`);
    this.name = "ExceptionGroup";
    this.exceptions = this.errors;
  }
}

const BY_ERRNO: Record<number, new (code: number, options?: OSErrorOptions) => OSError> = {
  [errno.ECONNREFUSED]: ConnectionRefusedError,
  [errno.ECONNRESET]: ConnectionResetError,
  [errno.ECONNABORTED]: ConnectionAbortedError,
  [errno.EPIPE]: BrokenPipeError,
  [errno.ESHUTDOWN]: BrokenPipeError,
  [errno.ETIMEDOUT]: TimeoutError,
  [errno.EAGAIN]: BlockingIOError,
  [errno.EALREADY]: BlockingIOError,
  [errno.EINPROGRESS]: BlockingIOError,
  [errno.ENOENT]: FileNotFoundError,
  [errno.ENOTDIR]: NotADirectoryError,
  [errno.EEXIST]: FileExistsError,
  [errno.EISDIR]: IsADirectoryError,
  [errno.EINTR]: InterruptedError,
  [errno.EACCES]: PermissionError,
  [errno.EPERM]: PermissionError,
};

/**
 * Makes the right {@linkcode OSError} subclass for an errno, as Python's
 * `OSError(errno, ...)` constructor does.
 *
 * @param code The errno number.
 * @param options The original error and extra text.
 * @returns An instance of the subclass Python would raise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrokenPipeError, errorFromErrno } from "./errors.ts";
 * assert.ok(errorFromErrno(32) instanceof BrokenPipeError);
 * ```
 */
export function errorFromErrno(code: number, options?: OSErrorOptions): OSError {
  checkCode(code, "make an error from an errno");
  if (code === errno.ETIMEDOUT) {
    // A kernel timeout (not ours) keeps the kernel's text, as Python does.
    return new TimeoutError(code, { strerror: strerror(code), ...options });
  }
  const Class = BY_ERRNO[code] ?? OSError;
  return new Class(code, options);
}

// Deno's error classes and the errno each stands for when the message does
// not carry "(os error N)".
const DENO_ERRNO: ReadonlyArray<[string, number]> = [
  ["ConnectionRefused", errno.ECONNREFUSED],
  ["ConnectionReset", errno.ECONNRESET],
  ["ConnectionAborted", errno.ECONNABORTED],
  ["NotConnected", errno.ENOTCONN],
  ["AddrInUse", errno.EADDRINUSE],
  ["AddrNotAvailable", errno.EADDRNOTAVAIL],
  ["BrokenPipe", errno.EPIPE],
  ["TimedOut", errno.ETIMEDOUT],
  ["Interrupted", errno.EINTR],
  ["WouldBlock", errno.EAGAIN],
  ["BadResource", errno.EBADF],
  ["NotFound", errno.ENOENT],
  ["AlreadyExists", errno.EEXIST],
  ["InvalidData", errno.EINVAL],
  ["UnexpectedEof", errno.ECONNRESET],
  ["WriteZero", errno.EPIPE],
  ["NetworkUnreachable", errno.ENETUNREACH],
  ["NotSupported", errno.EOPNOTSUPP],
  ["Busy", errno.EAGAIN],
  ["IsADirectory", errno.EISDIR],
  ["NotADirectory", errno.ENOTDIR],
];

const OS_ERROR = /\(os error (-?\d+)\)/;
const NOT_UTF8 = /^File name or path "(.*)" is not valid UTF-8$/;

/**
 * Turns an error thrown by a Deno networking call into the {@linkcode OSError}
 * Python would raise. Errors that are already `OSError`s, and errors that are
 * not Deno's (such as `TypeError`), are returned unchanged.
 *
 * @param err What Deno threw.
 * @param what The address or resource involved, for permission messages
 *   (`127.0.0.1:8080`, or a Unix path).
 * @returns The translated error, with Deno's error as `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionRefusedError, fromDenoError } from "./errors.ts";
 * const err = fromDenoError(new Deno.errors.ConnectionRefused("Connection refused (os error 111)"));
 * assert.ok(err instanceof ConnectionRefusedError && err.errno === 111);
 * ```
 */
export function fromDenoError(err: unknown, what?: string): unknown {
  if (err instanceof OSError || !(err instanceof Error)) return err;
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return permissionError(err, what);
  }
  const match = OS_ERROR.exec(err.message);
  if (match) return errorFromErrno(Number(match[1]), { cause: err });
  const name = NOT_UTF8.exec(err.message)?.[1];
  if (name !== undefined && err instanceof Deno.errors.InvalidData) {
    // A peer's Unix socket name that is not UTF-8 (CPython gives it
    // surrogate-escaped): Deno fails the receive or accept that met it.
    return new OSError(errno.EINVAL, {
      detail: `Deno cannot give the Unix socket name "${name}", which is not valid UTF-8, ` +
        "and drops the datagram or connection that came from it",
      cause: err,
    });
  }
  // A host Deno resolved itself (bind, listen): getaddrinfo's own failure,
  // which CPython raises as gaierror EAI_NONAME.
  if (err.message.startsWith("failed to lookup address information")) {
    return new gaierror(EAI.EAI_NONAME, { cause: err });
  }
  for (const [name, code] of DENO_ERRNO) {
    const Class = (Deno.errors as Record<string, unknown>)[name];
    if (typeof Class === "function" && err instanceof Class) {
      return errorFromErrno(code, { cause: err });
    }
  }
  return err;
}

function permissionError(err: Error, what?: string): PermissionError {
  // Deno says "Requires net access to "host:port", run again with the
  // --allow-net flag"; name the exact flag instead of the bare one.
  const quoted = /access to "([^"]+)"/.exec(err.message)?.[1];
  const flag = /--allow-(\w+)/.exec(err.message)?.[1] ?? "net";
  const target = quoted ?? what;
  // --allow-all takes no value (Deno asks for it for /proc, /dev and the like).
  const hint = !target
    ? `run again with --allow-${flag}`
    : flag === "all"
    ? `all access to ${target} denied; run again with --allow-all`
    : `${flag} access to ${target} denied; run again with --allow-${flag}=${target}`;
  return new PermissionError(errno.EACCES, { detail: hint, cause: err });
}

/**
 * Python's `socket.error`: the same class as {@linkcode OSError}, for code
 * that catches `socket.error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { error, OSError } from "./errors.ts";
 * assert.equal(error, OSError);
 * ```
 */
export const error: typeof OSError = OSError;

/**
 * Python's `socket.timeout`: the same class as {@linkcode TimeoutError}
 * (an alias since Python 3.10).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timeout, TimeoutError } from "./errors.ts";
 * assert.equal(timeout, TimeoutError);
 * ```
 */
export const timeout: typeof TimeoutError = TimeoutError;
