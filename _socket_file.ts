// Python's socket.makefile(): a buffered file over the socket's byte stream.
// Reads go through the socket's own read buffer (text through _text.ts),
// writes are buffered here until flush(), as io.BufferedWriter does. As in
// CPython, an open file holds its socket: close() on the socket takes
// effect once the file is closed too.

import { describe } from "./_address.ts";
import { kReader, type ReadBuffer } from "./_buffer.ts";
import { concat, toBytes } from "./_bytes.ts";
import { codePoints, type Newline, TextReader } from "./_text.ts";
import { BlockingIOError, errno, IncompleteReadError, OSError } from "./errors.ts";

export type { Newline } from "./_text.ts";

/** The binary modes of `makefile`: bytes in, bytes out. */
export type BinaryMode = "rb" | "wb" | "rwb" | "wrb";
/** The text modes of `makefile`: strings, UTF-8 on the wire. */
export type TextMode = "r" | "w" | "rw" | "wr";
/** The modes `makefile` accepts: text unless `b` is present. */
export type SocketFileMode = BinaryMode | TextMode;

/** Options of `makefile`, as Python's keyword arguments. */
export interface MakefileOptions {
  /** Python's `buffering`, as `makefile`'s second argument (see there). */
  buffering?: number | null;
  /**
   * Text mode only: `"utf-8"`, spelled any way Python takes it (`"UTF8"`,
   * `"utf_8"`); text files are UTF-8, so any other is a `RangeError`.
   */
  encoding?: string | null;
  /**
   * Text mode only: `"replace"`, what text files do with ill-formed UTF-8
   * (U+FFFD); any other handler is a `RangeError`.
   */
  errors?: string | null;
  /**
   * Text mode only: Python's `newline`. `null` (default) reads `"\r\n"`
   * and `"\r"` as `"\n"`; see {@linkcode Newline}.
   */
  newline?: Newline;
}

/**
 * `makefile`'s second argument: Python's `buffering` (a number, or `null`
 * for the default), or the options object.
 */
export type Buffering = number | null | MakefileOptions;

/** Key of the socket method a file calls when it closes (its hold on the socket ends). */
export const kFileClosed: unique symbol = Symbol("pysock.fileClosed");

/**
 * Key of the socket method that closes it at once, even while files hold it
 * open: a server ending a handler whose grace period ran out.
 */
export const kAbandon: unique symbol = Symbol("pysock.abandon");

/** The socket calls a file needs. */
interface FileSocket {
  [kReader](): ReadBuffer;
  gettimeout(): number | null;
  sendall(data: Uint8Array): Promise<void>;
  send(data: Uint8Array): Promise<number>;
  /** The file no longer holds the socket open. */
  [kFileClosed]?(): void;
}

const NEWLINES = new Set([null, "", "\n", "\r", "\r\n"]);

/** A line longer than this is returned in pieces, so a peer cannot grow memory without end. */
export const MAX_LINE = 1 << 20;
/** Buffered writes are sent once they reach this size, as io.DEFAULT_BUFFER_SIZE. */
const WRITE_BUFFER = 8192;
const MODES = new Set(["r", "w", "rw", "wr", "rb", "wb", "rwb", "wrb"]);

/**
 * A file over a stream socket, from {@linkcode StreamSocket.makefile}. `T` is
 * `string` in text mode and `Uint8Array` in binary mode.
 *
 * @example Reading lines with `for await`
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * const [a, b] = await socketpair();
 * await using _b = b;
 * await a.sendall("alpha\nbeta\n");
 * a.close();
 * const lines: string[] = [];
 * for await (const line of b.makefile("r")) lines.push(line);
 * assert.equal(lines.join(""), "alpha\nbeta\n");
 * ```
 */
export class SocketFile<T extends string | Uint8Array> implements AsyncIterable<T> {
  /** The mode given to `makefile`. */
  readonly mode: SocketFileMode;
  #sock: FileSocket;
  #text: boolean;
  #readable: boolean;
  #writable: boolean;
  #pending: Uint8Array[] = [];
  #pendingSize = 0;
  // Text mode: encoded text not yet in #pending (io.TextIOWrapper's pending bytes).
  #textPending: Uint8Array[] = [];
  #textSize = 0;
  // io.BufferedWriter's buffer_size; 0 sends every write at once.
  #bufferSize = WRITE_BUFFER;
  #closed = false;
  #textReader: TextReader | null;

  /**
   * Not for direct use: call `sock.makefile(mode)`.
   *
   * @param sock The socket.
   * @param mode The file mode.
   * @param buffering Python's `buffering`, or the options.
   * @param more The options, after a `buffering` number.
   */
  constructor(
    sock: FileSocket,
    mode: SocketFileMode,
    buffering?: Buffering,
    more?: MakefileOptions,
  ) {
    if (typeof mode !== "string") {
      // CPython: TypeError (a mode that is not a string cannot be iterated).
      throw new TypeError(
        `Cannot make file: mode must be a string such as "rb", got ${describe(mode)}`,
      );
    }
    if (!MODES.has(mode)) {
      throw new RangeError(`Cannot make file: invalid mode "${mode}" (use r, w, rw, with b)`);
    }
    const options = fileOptions(buffering, more);
    const binary = mode.includes("b");
    // CPython's socket.makefile: buffering is the BufferedWriter's size (1
    // too: no line buffering), 0 the raw socket, which text cannot be; a
    // binary file has no use for encoding and errors, and ignores them.
    const size = checkCount(options.buffering ?? -1, "make file", "buffering");
    if (size === 0 && !binary) {
      throw new RangeError("Cannot make file: unbuffered streams must be binary");
    }
    if (size >= 0) this.#bufferSize = size;
    if (!binary) checkText(options);
    const newline = options.newline ?? null;
    if (!NEWLINES.has(newline)) {
      throw new RangeError(`Cannot make file: illegal newline value: ${describe(newline)}`);
    }
    if (mode.includes("b") && options.newline !== undefined) {
      throw new RangeError("Cannot make file: binary mode doesn't take a newline argument");
    }
    this.#sock = sock;
    this.mode = mode;
    this.#text = !mode.includes("b");
    this.#readable = mode.includes("r");
    this.#writable = mode.includes("w");
    this.#textReader = this.#text ? new TextReader(newline) : null;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads `size` bytes, or in text mode `size` characters (fewer only at end
   * of stream), or everything up to end of stream when `size` is omitted or
   * negative. Text is UTF-8, decoded as it arrives: a character split across
   * segments is waited for, so `""` means end of stream and nothing else.
   *
   * On a non-blocking socket (timeout 0) a binary `read(size)` returns what
   * is there, from 1 to `size` bytes, as Python's does, and fails with
   * `BlockingIOError` where Python returns `None`: nothing is there yet.
   *
   * @param size How many bytes (characters in text mode); negative or `null`
   *   (Python's `None`) for all.
   * @returns The data; empty at end of stream.
   * @throws {TypeError} for a size that is not an integer.
   * @throws {BlockingIOError} on a non-blocking socket with nothing to read.
   */
  async read(size: number | null = -1): Promise<T> {
    size = checkCount(size, "read", "size");
    const reader = this.#reader();
    const timeout = this.#sock.gettimeout();
    const text = this.#textReader;
    // Nothing is consumed until all `size` bytes (characters) are there, or
    // the stream ends, so a read that times out loses no data.
    if (text !== null) {
      if (size === 0) return "" as T;
      if (size > 0) return await text.read(reader, size, timeout) as T;
      return await text.readAll(reader, timeout) as T;
    }
    if (size > 0 && timeout === 0) return await reader.readSome(size, 0) as T;
    if (size >= 0) return await readUpTo(reader, size, timeout) as T;
    return await reader.readAll(timeout) as T;
  }

  /**
   * Reads one line, up to and including `\n` (in text mode, the line end
   * `newline` chooses: by default `"\n"`, `"\r\n"` or `"\r"`, read as
   * `"\n"`); at most `limit` bytes (characters in text mode); what is left
   * at end of stream; empty at end of stream.
   *
   * @param limit The most bytes (characters) to return; a line longer than
   *   {@linkcode MAX_LINE} bytes is returned in pieces.
   * @returns The line.
   * @throws {TypeError} for a limit that is not an integer.
   */
  async readline(limit: number | null = -1): Promise<T> {
    // An unchecked NaN or string limit would disable the MAX_LINE cap.
    limit = checkCount(limit, "readline", "limit");
    const reader = this.#reader();
    const timeout = this.#sock.gettimeout();
    const text = this.#textReader;
    if (limit === 0) return (text !== null ? "" : new Uint8Array(0)) as T;
    if (text !== null) {
      return await text.readline(reader, limit < 0 ? Infinity : limit, MAX_LINE, timeout) as T;
    }
    return await reader.readLine(limit < 0 ? MAX_LINE : limit, timeout) as T;
  }

  /**
   * Reads all remaining lines, or with a positive `hint` only until their
   * total size (bytes, characters in text mode) exceeds it, as CPython's
   * `IOBase.readlines`: the lines after that stay readable.
   *
   * @param hint The size past which no more lines are read; 0, negative or
   *   `null` (Python's `None`) for all.
   * @returns The lines, each with its line end.
   * @throws {TypeError} for a hint that is not an integer.
   */
  async readlines(hint: number | null = -1): Promise<T[]> {
    hint = checkCount(hint, "readlines", "hint");
    const lines: T[] = [];
    let total = 0;
    for await (const line of this) {
      lines.push(line);
      total += typeof line === "string" ? codePoints(line) : line.length;
      if (hint > 0 && total > hint) break;
    }
    return lines;
  }

  /**
   * Buffers `data` for sending; sends on `flush()`, or when `data` does not
   * fit in what is left of the 8192-byte buffer, as io.BufferedWriter does:
   * then the buffer goes out, and `data` too when it is larger than the
   * buffer. The bytes are the file's once `write` returns: the caller may
   * reuse its array.
   *
   * On a non-blocking socket (timeout 0) a binary file behaves as Python's
   * buffered one: what fits in the buffer is buffered; otherwise the buffer
   * and `data` go out as far as the socket takes them without waiting, what
   * is left is kept up to the buffer's size, and a `write` that could not
   * take all of `data` fails with `BlockingIOError`, whose
   * `charactersWritten` says how many of its bytes it took. An unbuffered
   * file (`buffering` 0) keeps nothing: as Python's raw file, its `write`
   * returns the count the socket took, and fails only when that is none
   * (where Python returns `None`).
   *
   * @param data Bytes, or a string (UTF-8; `"\n"` becomes `newline` when
   *   that is `"\r"` or `"\r\n"`).
   * @returns The number of bytes (binary) or characters (text, code points
   *   as Python counts them) taken.
   * @throws {BlockingIOError} on a non-blocking socket that takes less than
   *   all of `data` now.
   */
  async write(data: T): Promise<number> {
    if (this.#closed) throw new OSError(errno.EBADF, { detail: "file is closed" });
    if (!this.#writable) throw new OSError(errno.EBADF, { detail: "file not open for writing" });
    const text = this.#textReader;
    const bytes = toBytes(
      text !== null && typeof data === "string" ? text.encode(data) : data,
      "write",
    );
    // Kept past this call: a copy, unless it is the encoder's own array.
    const own = typeof data === "string";
    if (text === null) {
      if (this.#sock.gettimeout() === 0) return await this.#writeNow(bytes);
      await this.#buffer(bytes, own);
      return bytes.length;
    }
    // io.TextIOWrapper keeps up to a chunk (8192 bytes) of encoded text of
    // its own, and hands it to the binary buffer once it is full or would
    // overflow.
    if (this.#textSize + bytes.length > WRITE_BUFFER) await this.#passText();
    this.#textPending.push(own ? bytes : bytes.slice());
    this.#textSize += bytes.length;
    if (this.#textSize >= WRITE_BUFFER) await this.#passText();
    return own ? codePoints(data) : bytes.length;
  }

  // io.BufferedWriter's rule: what fits in the buffer waits there (a write
  // that fills it exactly too); otherwise the buffer goes out, then `bytes`
  // itself if it is larger than the buffer, or else it waits.
  async #buffer(bytes: Uint8Array, own: boolean): Promise<void> {
    const fits = this.#pendingSize + bytes.length <= this.#bufferSize;
    if (!fits) await this.#sendBuffer();
    if (!fits && bytes.length > this.#bufferSize) return await this.#sock.sendall(bytes);
    this.#pending.push(own ? bytes : bytes.slice());
    this.#pendingSize += bytes.length;
  }

  // The text waiting in front of the binary buffer goes into it.
  async #passText(): Promise<void> {
    if (this.#textSize === 0) return;
    const data = this.#textPending.length === 1 ? this.#textPending[0] : concat(this.#textPending);
    this.#textPending = [];
    this.#textSize = 0;
    await this.#buffer(data, true);
  }

  // A non-blocking write, as Python's BufferedWriter over a non-blocking socket.
  async #writeNow(bytes: Uint8Array): Promise<number> {
    const before = this.#pendingSize;
    if (before + bytes.length <= this.#bufferSize) {
      this.#pending.push(bytes.slice());
      this.#pendingSize += bytes.length;
      return bytes.length;
    }
    const data = before === 0 ? bytes : concat([...this.#pending, bytes]);
    this.#pending = [];
    this.#pendingSize = 0;
    let sent = 0;
    try {
      while (sent < data.length) sent += await this.#sock.send(data.subarray(sent));
    } catch (err) {
      if (!(err instanceof BlockingIOError)) throw err;
    }
    if (sent === data.length) return bytes.length;
    // What did not go out is kept up to the buffer's size, as BufferedWriter
    // keeps it; an unbuffered file keeps none, and its write returns the
    // count the socket took, as SocketIO.write does.
    const kept = data.slice(sent, sent + this.#bufferSize);
    this.#pending = kept.length === 0 ? [] : [kept];
    this.#pendingSize = kept.length;
    const taken = Math.max(0, sent + kept.length - before);
    if (taken >= bytes.length) return bytes.length;
    if (this.#bufferSize === 0 && taken > 0) return taken;
    const blocked = new BlockingIOError(errno.EAGAIN, {
      strerror: "write could not complete without blocking",
    });
    blocked.charactersWritten = taken;
    throw blocked;
  }

  /**
   * Sends everything buffered by `write`.
   *
   * @throws {OSError} `EBADF` once the file is closed (CPython: `ValueError`).
   */
  async flush(): Promise<void> {
    if (this.#closed) throw new OSError(errno.EBADF, { detail: "file is closed" });
    await this.#passText();
    await this.#sendBuffer();
  }

  async #sendBuffer(): Promise<void> {
    if (this.#pendingSize === 0) return;
    const data = this.#pending.length === 1 ? this.#pending[0] : concat(this.#pending);
    this.#pending = [];
    this.#pendingSize = 0;
    await this.#sock.sendall(data);
  }

  /**
   * Flushes and closes the file. The socket stays open, unless `close()` was
   * called on it while this file was open: then it closes now, as in CPython.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      if (this.#writable) await this.flush();
    } finally {
      this.#closed = true;
      this.#sock[kFileClosed]?.();
    }
  }

  /** Iterates over lines until end of stream. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  /** Flushes and closes at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #reader(): ReadBuffer {
    if (this.#closed) throw new OSError(errno.EBADF, { detail: "file is closed" });
    if (!this.#readable) throw new OSError(errno.EBADF, { detail: "file not open for reading" });
    return this.#sock[kReader]();
  }
}

/** `size` bytes, or fewer when the stream ends first. */
async function readUpTo(
  reader: ReadBuffer,
  size: number,
  timeout: number | null,
): Promise<Uint8Array> {
  try {
    return await reader.readExactly(size, timeout);
  } catch (err) {
    if (err instanceof IncompleteReadError) return err.partial;
    throw err;
  }
}

/** A size argument as Python's file methods take it: an integer, or `null` for no limit (-1). */
function checkCount(value: unknown, action: string, name: string): number {
  if (value === null) return -1;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot ${action}: ${name} must be an integer or null, got ${describe(value)}`,
    );
  }
  return value;
}

// makefile(mode, buffering?, options?): Python's positional buffering, or
// the options object in its place.
function fileOptions(buffering: Buffering | undefined, more?: MakefileOptions): MakefileOptions {
  const options = typeof buffering === "object" && buffering !== null ? buffering : more ?? {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot make file: options must be an object, got ${describe(options)}`);
  }
  if (buffering === undefined || buffering === options) return options;
  return { ...options, buffering: buffering as number | null };
}

// A text file's encoding and errors: only the values it honours.
function checkText(options: MakefileOptions): void {
  for (const key of ["encoding", "errors"] as const) {
    const value = options[key];
    if (value !== undefined && value !== null && typeof value !== "string") {
      throw new TypeError(`Cannot make file: ${key} must be a string, got ${describe(value)}`);
    }
  }
  const encoding = options.encoding;
  if (typeof encoding === "string" && encoding.toLowerCase().replace(/[-_ ]/g, "") !== "utf8") {
    throw new RangeError(
      `Cannot make file: encoding ${describe(encoding)} is not supported: text files are ` +
        "UTF-8; for another encoding, decode a binary file's bytes",
    );
  }
  const errors = options.errors;
  if (typeof errors === "string" && errors !== "replace") {
    throw new RangeError(
      `Cannot make file: errors ${describe(errors)} is not supported: text files read ` +
        'ill-formed UTF-8 as U+FFFD (errors="replace")',
    );
  }
}
