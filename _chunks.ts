// StreamSocket.chunks(): the bulk idiom. `recv` returns an array the caller
// owns, as Python's does, so every call costs fresh memory (V8 zero-fills
// it, and a large read touches every page). A loop that only passes bytes
// on (hashing, writing to a file, forwarding) does not need that: `chunks`
// reads into one buffer of its own, straight from the kernel when nothing is
// buffered (as `recvInto` does), and yields views of it. The price is the
// ownership rule: a chunk is valid until the next call to `next()`, which
// reads over it.

import { checkSize } from "./_base.ts";
import { kReader, type ReadBuffer } from "./_buffer.ts";

/** What a {@linkcode Chunks} iterator reads from: a stream socket. */
export interface ChunkSource {
  /** The socket's read buffer; throws `EBADF`/`ENOTCONN` as a read would. */
  [kReader](): ReadBuffer;
  /** The socket's timeout, as of each read. */
  gettimeout(): number | null;
}

const MAX_CHUNK = 2 ** 30;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/** The iterator `StreamSocket.chunks()` returns. */
export class Chunks implements AsyncIterableIterator<Uint8Array, undefined> {
  #sock: ChunkSource;
  #size: number;
  // Made on the first next() and dropped at the end: an iterator that is
  // never read, or is done, holds no buffer.
  #buf: Uint8Array | null = null;
  #reader: ReadBuffer | null = null;
  #done = false;
  // A next() is waiting: return() then leaves it the buffer, so the bytes
  // it reads are still delivered (they are taken from the socket).
  #pending = false;

  /**
   * @param sock The socket read.
   * @param size The buffer's size: the most bytes one chunk holds.
   * @throws {TypeError|RangeError} for a size that is not an integer of 1 or more.
   */
  constructor(sock: ChunkSource, size: number) {
    checkSize(size, "iterate chunks", "bufsize");
    if (size === 0) {
      throw new RangeError("Cannot iterate chunks: bufsize must be at least 1, got 0");
    }
    // The buffer is made at the first next(): a size no array can have fails here instead.
    if (size > MAX_CHUNK) {
      throw new RangeError(`Cannot iterate chunks: bufsize must be at most 1 GiB, got ${size}`);
    }
    this.#sock = sock;
    this.#size = size;
  }

  /** The next chunk: a view of the iterator's buffer, valid until the next call. */
  next(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (this.#done) return Promise.resolve(DONE);
    try {
      const reader = this.#reader ??= this.#sock[kReader]();
      const buf = this.#buf ??= new Uint8Array(this.#size);
      const reading = reader.readInto(buf, this.#sock.gettimeout());
      this.#pending = true;
      return reading.then(this.#got, this.#failed);
    } catch (err) {
      this.#finish();
      return Promise.reject(err);
    }
  }

  /** Ends the iteration (a `break` out of `for await`); the socket stays open. */
  return(): Promise<IteratorResult<Uint8Array, undefined>> {
    this.#finish();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #got = (n: number): IteratorResult<Uint8Array, undefined> => {
    this.#pending = false;
    const buf = this.#buf!;
    if (n === 0) {
      this.#finish();
      return DONE;
    }
    // After a return() the chunk is the last: the iterator lets go of its buffer.
    if (this.#done) this.#buf = null;
    return { value: n === buf.length ? buf : buf.subarray(0, n), done: false };
  };

  #failed = (err: unknown): never => {
    this.#pending = false;
    this.#finish();
    throw err;
  };

  #finish(): void {
    this.#done = true;
    if (!this.#pending) this.#buf = null;
  }
}
