// Python's io.BytesIO, the in-memory file DatagramRequestHandler reads a
// datagram from and writes its reply to. One growable array and a position,
// as CPython's bytesio.c; reads return copies the caller owns.

import { describe } from "./_address.ts";
import { toBytes } from "./_bytes.ts";
import { errno, OSError } from "./errors.ts";

const NEWLINE = 0x0a;

/**
 * An in-memory binary file (Python's `io.BytesIO`): `read`, `readline`,
 * `readlines`, `write`, `getvalue`, `tell`, `seek`, iteration by line.
 * Synchronous, as in Python; `await` in front of its calls is harmless, so
 * handler code reads the same over a socket file and over a `BytesIO`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BytesIO } from "./socketserver.ts";
 * const f = new BytesIO(new TextEncoder().encode("one\ntwo\n"));
 * assert.equal(new TextDecoder().decode(f.readline()), "one\n");
 * assert.equal(new TextDecoder().decode(f.read()), "two\n");
 * const out = new BytesIO();
 * out.write("up");
 * out.write(new Uint8Array([0x21]));
 * assert.equal(new TextDecoder().decode(out.getvalue()), "up!");
 * ```
 */
export class BytesIO implements Iterable<Uint8Array> {
  #data: Uint8Array;
  #size: number;
  #pos = 0;
  #closed = false;

  /**
   * Makes the file, positioned at its start.
   *
   * @param initial The starting contents (copied), as Python's
   *   `BytesIO(initial_bytes)`; the position starts at 0.
   */
  constructor(initial?: Uint8Array | string) {
    const bytes = initial === undefined ? new Uint8Array(0) : toBytes(initial, "make BytesIO");
    this.#data = bytes.slice();
    this.#size = bytes.length;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads up to `size` bytes from the position (all that is left when
   * `size` is negative or omitted).
   *
   * @param size The most bytes to read; -1 or `null` for all.
   * @returns The bytes, empty at the end.
   */
  read(size: number | null = -1): Uint8Array {
    this.#checkOpen();
    const end = this.#limit(size, "read");
    const out = this.#data.slice(this.#pos, end);
    this.#pos = end;
    return out;
  }

  /**
   * Reads to the next `\n` (kept), or `size` bytes, or the end.
   *
   * @param size The most bytes to read; -1 or `null` for no limit.
   * @returns The line, empty at the end.
   */
  readline(size: number | null = -1): Uint8Array {
    this.#checkOpen();
    const limit = this.#limit(size, "readline");
    const nl = this.#data.subarray(0, limit).indexOf(NEWLINE, this.#pos);
    const end = nl === -1 ? limit : nl + 1;
    const out = this.#data.slice(this.#pos, end);
    this.#pos = end;
    return out;
  }

  /**
   * Reads every line left.
   *
   * @returns The lines, as `readline` returns them.
   */
  readlines(): Uint8Array[] {
    return [...this];
  }

  /**
   * Writes at the position, overwriting or extending, as Python's does.
   *
   * @param data Bytes, or a string written as UTF-8.
   * @returns The number of bytes written.
   */
  write(data: Uint8Array | string): number {
    const bytes = toBytes(data, "write");
    this.#checkOpen();
    const end = this.#pos + bytes.length;
    if (end > this.#data.length) {
      const grown = new Uint8Array(Math.max(end, this.#data.length * 2, 64));
      grown.set(this.#data.subarray(0, this.#size));
      this.#data = grown;
    }
    this.#data.set(bytes, this.#pos);
    this.#pos = end;
    if (end > this.#size) this.#size = end;
    return bytes.length;
  }

  /**
   * The whole contents, whatever the position.
   *
   * @returns A copy.
   */
  getvalue(): Uint8Array {
    this.#checkOpen();
    return this.#data.slice(0, this.#size);
  }

  /**
   * Where the next read or write starts.
   *
   * @returns The position.
   */
  tell(): number {
    this.#checkOpen();
    return this.#pos;
  }

  /**
   * Moves the position, as Python's `seek(offset, whence)`.
   *
   * @param offset Bytes from where `whence` says.
   * @param whence 0 from the start, 1 from the position, 2 from the end.
   * @returns The new position.
   * @throws {RangeError} for a bad `whence` or a negative result.
   */
  seek(offset: number, whence: 0 | 1 | 2 = 0): number {
    this.#checkOpen();
    if (!Number.isInteger(offset)) {
      throw new TypeError(`Cannot seek: offset must be an integer, got ${describe(offset)}`);
    }
    if (!Number.isInteger(whence)) {
      throw new TypeError(`Cannot seek: whence must be an integer, got ${describe(whence)}`);
    }
    // CPython's OverflowError past a C ssize_t; exact integers end at 2 ** 53 - 1.
    if (Math.abs(offset) > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`Cannot seek: offset is too large, got ${offset}`);
    }
    if (whence !== 0 && whence !== 1 && whence !== 2) {
      throw new RangeError(
        `Cannot seek: invalid whence (${describe(whence)}, should be 0, 1 or 2)`,
      );
    }
    const pos = offset + (whence === 0 ? 0 : whence === 1 ? this.#pos : this.#size);
    if (pos < 0) throw new RangeError(`Cannot seek: negative seek value ${pos}`);
    this.#pos = pos;
    return pos;
  }

  /** Frees the contents; later calls fail as on a closed Python file. */
  close(): void {
    this.#closed = true;
    this.#data = new Uint8Array(0);
    this.#size = this.#pos = 0;
  }

  /** Yields the lines left, as iterating a Python file does. */
  *[Symbol.iterator](): IterableIterator<Uint8Array> {
    while (true) {
      const line = this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  #limit(size: number | null, action: string): number {
    if (size === null) return Math.max(this.#size, this.#pos);
    if (!Number.isInteger(size)) {
      throw new TypeError(`Cannot ${action}: size must be an integer, got ${describe(size)}`);
    }
    if (size < 0) return Math.max(this.#size, this.#pos);
    return Math.min(this.#pos + size, Math.max(this.#size, this.#pos));
  }

  #checkOpen(): void {
    // Python raises ValueError("I/O operation on closed file."); EBADF is
    // what pysock's closed sockets and socket files raise.
    if (this.#closed) throw new OSError(errno.EBADF, { detail: "file is closed" });
  }
}
