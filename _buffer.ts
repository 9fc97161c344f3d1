// The one read buffer of a stream socket. recv, recvInto, makefile, the
// framing readers and the `readable` stream all read through it, so bytes
// read ahead by one are never lost to another (asyncio's StreamReader plays
// the same part in CPython).
//
// Deno cannot cancel a pending `conn.read`. A call that times out therefore
// leaves its read running; the bytes it brings land here and the next call
// returns them. A timeout loses nothing.
//
// Read calls are served whole and in call order, one at a time: a call that
// checks the buffer, waits and then takes (a header, then its payload) never
// finds that a call made after it took the bytes in between.

import { EMPTY, indexOfNeedle } from "./_bytes.ts";
import { remaining, toDeadline, waitFor } from "./_base.ts";
import {
  BlockingIOError,
  errno,
  IncompleteReadError,
  LimitOverrunError,
  OSError,
  TimeoutError,
} from "./errors.ts";

/** Key of the internal accessor through which framing.ts reaches a socket's buffer. */
export const kReader: unique symbol = Symbol("pysock.reader");

/** What the buffer reads from: a `Deno.Conn`, or anything with its `read`. */
export interface Source {
  read(p: Uint8Array): Promise<number | null>;
  /** Lets a pending read keep the process alive again (`Deno.Conn.ref`). */
  ref?(): void;
  /** Stops a pending read from keeping the process alive (`Deno.Conn.unref`). */
  unref?(): void;
}

// Reads start small so an idle connection pins little memory (a pending read
// holds its target), and double while the peer fills them.
const MIN_READ = 2048;
const MAX_READ = 65536;
// Once reads are large, a slab holds several of them so recv() can hand out
// disjoint views without allocating an array per call.
const SLAB_READS = 4;
// The smallest slab tail still used for a read before a new slab is taken.
const MIN_TAIL = 512;

/**
 * A growable window `slab[start, end)` of bytes read but not yet consumed,
 * filled by at most one pending read at a time.
 */
export class ReadBuffer {
  #source: Source;
  #translate: (err: unknown, owner: unknown) => unknown;
  #owner: unknown;
  #slab: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  // Views of the slab were handed to callers: its bytes must never change,
  // so the window may move forward but never back.
  #shared = false;
  #readSize = MIN_READ;
  #want = 0;
  // The pending read, as a promise its waiters await and shutdown() can
  // settle: Deno cannot cancel the read itself. It resolves to the count
  // read (0 when woken, at end of stream or on error) and never rejects.
  #fill: Promise<number> | null = null;
  #settle: ((n: number) => void) | null = null;
  // The pending read targets the caller's array of a readInto, not the slab.
  #direct = false;
  // The pending read is a recv's own: its promise is the one the caller
  // awaits, resolved with the bytes (at most #max) when the read lands. The
  // common wait then costs no async frame and no second promise, which is
  // what an idle connection holds on to.
  #recv: ((bytes: Uint8Array) => void) | null = null;
  #recvFailed: ((err: unknown) => void) | null = null;
  #max = 0;
  #eof = false;
  #error: unknown = null;
  // Calls waiting on the pending read. A read left behind by a timed-out
  // call is unref'd while nobody waits, so it cannot keep the process alive
  // after the program is done (Python exits there too).
  #waiting = 0;
  #unrefed = false;
  // A read call is in progress; calls made meanwhile wait in #turns, in
  // call order, each for its turn.
  #busy = false;
  #turns: (() => void)[] | null = null;

  /**
   * @param source Where bytes come from.
   * @param translate Turns a read error into the error callers see.
   * @param owner Passed to `translate`, so that one function serves every
   *   socket instead of a closure per connection.
   */
  constructor(
    source: Source,
    translate: (err: unknown, owner: unknown) => unknown,
    owner?: unknown,
  ) {
    this.#source = source;
    this.#translate = translate;
    this.#owner = owner;
  }

  /** Bytes read ahead and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Ends reading: drops what is buffered and makes every later read see end
   * of stream. Calls waiting on the pending read return at once, as a recv
   * blocked at `shutdown(SHUT_RD)` does on Linux; the read itself stays
   * pending and whatever it brings is dropped.
   */
  shutdown(): void {
    this.#eof = true;
    this.#start = this.#end;
    const recv = this.#recv;
    if (recv !== null) {
      this.#recv = this.#recvFailed = null;
      this.done();
      recv(new Uint8Array(0));
    }
    this.#settle?.(0);
    // What the read still pending brings is dropped: it must not keep the
    // process alive, as the read a timed-out call leaves behind does not.
    if (this.#fill !== null && !this.#unrefed && this.#source.unref) {
      this.#unrefed = true;
      this.#source.unref();
    }
  }

  /** Whether a read call is in progress: buffered bytes are then its to take, not a new call's. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * Takes the turn for a caller that reads in steps (`fill`, then `take`):
   * at once when no read call is in progress (returns `null`), else once
   * every call made before has settled. The caller must call
   * {@linkcode done} when finished, and only then.
   * @throws {TimeoutError} when the turn does not come within `timeout`
   *   ({BlockingIOError} for a timeout of 0); the turn is not taken.
   */
  turn(timeout: number | null): Promise<void> | null {
    if (!this.#busy) {
      this.#busy = true;
      return null;
    }
    return this.#queue(timeout);
  }

  /** Ends the caller's turn: the next call waiting, if any, takes it. */
  done(): void {
    const next = this.#turns?.shift();
    if (next === undefined) this.#busy = false;
    else next();
  }

  #queue(timeout: number | null): Promise<void> {
    if (timeout === 0) return Promise.reject(new BlockingIOError());
    return new Promise((resolve, reject) => {
      const turns = this.#turns ??= [];
      if (timeout === null) {
        turns.push(() => resolve());
        return;
      }
      // A call that gives up leaves the queue, so its turn never comes.
      const timer = setTimeout(() => {
        turns.splice(turns.indexOf(go), 1);
        reject(new TimeoutError());
      }, timeout * 1000);
      const go = () => {
        clearTimeout(timer);
        resolve();
      };
      turns.push(go);
    });
  }

  /** Between 1 and `max` bytes as soon as any are there; an empty array at end of stream. */
  readSome(max: number, timeout: number | null): Promise<Uint8Array> {
    if (!this.#busy) {
      if (this.#end > this.#start) return Promise.resolve(this.#take(max));
      if (
        timeout === null && this.#fill === null && this.#error === null && !this.#eof &&
        !this.#unrefed
      ) {
        // The common wait: the turn is free, nothing is buffered, no deadline.
        // (Once a kept read has unref'd the source, the slow path refs it
        // again, or this read could not keep the process alive.)
        this.#busy = true;
        this.#max = max;
        const bytes = new Promise<Uint8Array>(captureRecv);
        this.#recv = capturedRecv;
        this.#recvFailed = capturedFail;
        capturedRecv = capturedFail = null;
        // No promise of its own for the read: the turn is held until it
        // lands, so nobody else waits on it (shutdown and close reach the
        // caller through #recv and #onReadError).
        this.#fill = RECV_PENDING;
        this.#source.read(this.#fillTarget(0)).then(this.#onRead, this.#onReadError);
        return bytes;
      }
    }
    return this.#readSomeSlow(max, timeout);
  }

  async #readSomeSlow(max: number, timeout: number | null): Promise<Uint8Array> {
    const deadline = toDeadline(timeout);
    const turn = this.turn(timeout);
    if (turn !== null) await turn;
    try {
      if (
        timeout === null && this.#end === this.#start && !this.#unrefed &&
        this.#error === null && !this.#eof
      ) {
        // The common wait: no deadline, so no bookkeeping for a read that
        // could outlive this call; one async frame per read, not two.
        await this.#startFill(0);
        if (this.#error !== null && this.#end === this.#start) this.#throwError();
      }
      while (this.#end === this.#start && (await this.fill(1, remaining(deadline))));
      return this.#end > this.#start ? this.#take(max) : new Uint8Array(0);
    } finally {
      this.done();
    }
  }

  /** Fills `buf` with what is there (at least one byte); 0 at end of stream. */
  async readInto(buf: Uint8Array, timeout: number | null): Promise<number> {
    const deadline = toDeadline(timeout);
    const turn = this.turn(timeout);
    if (turn !== null) await turn;
    try {
      if (
        this.#end === this.#start && timeout === null && this.#fill === null && !this.#eof &&
        !this.#unrefed
      ) {
        // Nothing buffered and no deadline: read straight into the caller's
        // array, which saves a copy. (With a deadline the read could outlive
        // the call and write into an array the caller has moved on from.)
        // Deno cannot cancel the read, so after shutdown(SHUT_RD) wakes this
        // call, bytes the peer still sends before close() land in `buf`;
        // they are never counted or returned.
        if (this.#error !== null) this.#throwError();
        this.#direct = true;
        const n = await this.#read(buf);
        if (n === 0 && this.#error !== null) this.#throwError();
        return n;
      }
      while (this.#end === this.#start && (await this.fill(1, remaining(deadline))));
      const n = Math.min(buf.length, this.#end - this.#start);
      buf.set(this.#slab.subarray(this.#start, this.#start + n));
      this.#start += n;
      return n;
    } finally {
      this.done();
    }
  }

  /**
   * Exactly `n` bytes. Nothing is consumed until all are there, so a timeout
   * loses nothing.
   * @throws {IncompleteReadError} at end of stream, carrying what was read.
   */
  async readExactly(n: number, timeout: number | null): Promise<Uint8Array> {
    const deadline = toDeadline(timeout);
    const turn = this.turn(timeout);
    if (turn !== null) await turn;
    try {
      if (!(await this.fill(n, remaining(deadline)))) {
        throw new IncompleteReadError(this.#take(Infinity), n);
      }
      return this.#take(n);
    } finally {
      this.done();
    }
  }

  /**
   * Waits until `n` bytes are buffered, consuming nothing: a caller that
   * times out leaves the stream exactly as it found it.
   * @returns `false` when the stream ends first.
   */
  async fill(n: number, timeout: number | null): Promise<boolean> {
    const deadline = toDeadline(timeout);
    while (this.#end - this.#start < n) {
      if (this.#error !== null) this.#throwError();
      if (this.#eof) return false;
      await this.#more(n, remaining(deadline));
    }
    return true;
  }

  /** The array holding the buffered bytes, from {@linkcode offset}; valid until the next read. */
  get bytes(): Uint8Array {
    return this.#slab;
  }

  /** Where the unread bytes start in {@linkcode bytes}. */
  get offset(): number {
    return this.#start;
  }

  /** Drops the next `n` buffered bytes (a header already parsed in place). */
  skip(n: number): void {
    this.#start = Math.min(this.#end, this.#start + n);
  }

  /** Consumes the next `n` buffered bytes (or all there are) as a view the caller owns. */
  take(n: number): Uint8Array {
    return this.#take(n);
  }

  /**
   * Bytes up to and including `delimiter`, with asyncio's limit rule: the
   * bytes before the delimiter may number at most `limit`.
   * @throws {LimitOverrunError} when no delimiter is found within `limit`
   *   bytes; the bytes stay buffered and `consumed` says how far the search went.
   * @throws {IncompleteReadError} at end of stream before a delimiter.
   */
  async readUntil(
    delimiter: Uint8Array,
    limit: number,
    timeout: number | null,
  ): Promise<Uint8Array> {
    const deadline = toDeadline(timeout);
    const turn = this.turn(timeout);
    if (turn !== null) await turn;
    try {
      // Where the next search starts, relative to the unread bytes: a
      // delimiter can straddle what was searched and what arrives next.
      let offset = 0;
      while (true) {
        const avail = this.#end - this.#start;
        const at = indexOfNeedle(this.#slab, delimiter, this.#start + offset, this.#end);
        if (at !== -1) {
          const before = at - this.#start;
          if (before > limit) {
            throw new LimitOverrunError(
              "Separator is found, but chunk is longer than limit",
              before,
            );
          }
          return this.#take(before + delimiter.length);
        }
        offset = Math.max(0, avail + 1 - delimiter.length);
        if (offset > limit) {
          throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
        if (this.#eof || this.#error !== null) {
          if (this.#error !== null) this.#throwError();
          throw new IncompleteReadError(this.#take(Infinity), null);
        }
        await this.#more(avail + 1, remaining(deadline));
      }
    } finally {
      this.done();
    }
  }

  /**
   * A line for file-like reading: up to and including `\n`, or `max` bytes
   * when no newline comes first, or what is left at end of stream.
   */
  async readLine(max: number, timeout: number | null): Promise<Uint8Array> {
    const deadline = toDeadline(timeout);
    const turn = this.turn(timeout);
    if (turn !== null) await turn;
    try {
      let searched = 0;
      while (true) {
        const avail = this.#end - this.#start;
        const to = Math.min(this.#end, this.#start + max);
        const at = this.#slab.subarray(0, to).indexOf(10, this.#start + searched);
        if (at !== -1) return this.#take(at - this.#start + 1);
        if (avail >= max) return this.#take(max);
        if (this.#eof || this.#error !== null) {
          if (avail === 0 && this.#error !== null) this.#throwError();
          return this.#take(avail);
        }
        searched = avail;
        await this.#more(avail + 1, remaining(deadline));
      }
    } finally {
      this.done();
    }
  }

  /** Waits until more bytes, end of stream or an error is recorded. */
  async #more(need: number, timeout: number | null): Promise<void> {
    if (this.#error !== null) this.#throwError();
    if (this.#eof) return;
    const fill = this.#startFill(need);
    if (this.#unrefed) {
      this.#unrefed = false;
      this.#source.ref?.();
    }
    this.#waiting++;
    try {
      await waitFor(fill, timeout);
    } finally {
      if (--this.#waiting === 0 && this.#fill !== null && this.#source.unref) {
        this.#unrefed = true;
        this.#source.unref();
      }
    }
    if (this.#error !== null && this.#end === this.#start) this.#throwError();
  }

  // An error is reported once; afterwards the stream reads as ended, as
  // Linux returns 0 from recv after reporting ECONNRESET. A closed socket
  // (EBADF) is the exception: every call still waiting reports it, and none
  // returns what was buffered.
  #throwError(): never {
    const err = this.#translate(this.#error, this.#owner);
    this.#eof = true;
    if (err instanceof OSError && err.errno === errno.EBADF) this.#start = this.#end;
    else this.#error = null;
    throw err;
  }

  /**
   * Starts a read unless one is pending, sized to the adaptive read size or
   * to what a caller waiting for `need` buffered bytes is missing. The
   * returned promise never rejects: failures are recorded for the callers.
   */
  #startFill(need: number): Promise<number> {
    if (this.#fill !== null) return this.#fill;
    return this.#read(this.#fillTarget(need));
  }

  /** Where the next read goes: the slab's tail, or fresh room for `need` buffered bytes. */
  #fillTarget(need: number): Uint8Array {
    const avail = this.#end - this.#start;
    let want = Math.max(this.#readSize, need - avail);
    const tail = this.#slab.length - this.#end;
    // Read into what is left of the slab while it is worth a read: small
    // messages then share one slab instead of costing an allocation each.
    if (tail >= MIN_TAIL && tail >= need - avail) want = Math.min(want, tail);
    else this.#reserve(want);
    this.#want = want;
    return this.#slab.subarray(this.#end, this.#end + want);
  }

  /** Starts the one pending read, into `target`. */
  #read(target: Uint8Array): Promise<number> {
    this.#fill = new Promise(capture);
    this.#settle = captured;
    captured = null;
    this.#source.read(target).then(this.#onRead, this.#onReadError);
    return this.#fill;
  }

  // Made once per buffer rather than once per read: an idle server with many
  // connections, or a busy one, then makes less garbage.
  #onRead = (n: number | null): void => {
    const settle = this.#settle;
    const direct = this.#direct;
    const recv = this.#recv;
    this.#fill =
      this.#settle =
      this.#recv =
      this.#recvFailed =
        null;
    this.#direct = false;
    // After shutdown(SHUT_RD) the bytes of a read still pending are dropped,
    // as shutdown() dropped what was buffered: later calls see end of stream.
    if (n === null || this.#eof) {
      this.#eof = true;
      settle?.(0);
      if (recv !== null) {
        this.done();
        recv(new Uint8Array(0));
      }
      return;
    }
    if (!direct) {
      this.#end += n;
      this.#adapt(n, this.#want);
    }
    settle?.(n);
    if (recv !== null) {
      const bytes = this.#take(this.#max);
      this.done();
      recv(bytes);
    }
  };

  #onReadError = (err: unknown): void => {
    const settle = this.#settle;
    const failed = this.#recvFailed;
    this.#fill =
      this.#settle =
      this.#recv =
      this.#recvFailed =
        null;
    this.#direct = false;
    this.#error = err;
    settle?.(0);
    if (failed !== null) {
      this.done();
      try {
        this.#throwError();
      } catch (translated) {
        failed(translated);
      }
    }
  };

  #adapt(n: number, want: number): void {
    if (n === want && this.#readSize < MAX_READ) this.#readSize *= 2;
    else if (n < want >> 3 && this.#readSize > MIN_READ) this.#readSize >>= 1;
  }

  /** Makes room for `want` more bytes after `end`, keeping the buffered window. */
  #reserve(want: number): void {
    const avail = this.#end - this.#start;
    if (avail === 0 && !this.#shared) {
      this.#start = this.#end = 0;
    }
    if (this.#slab.length - this.#end >= want) return;
    if (!this.#shared && this.#slab.length - avail >= want) {
      this.#slab.copyWithin(0, this.#start, this.#end);
    } else {
      const size = avail + (want === MAX_READ ? want * SLAB_READS : want);
      const slab = new Uint8Array(size);
      if (avail > 0) slab.set(this.#slab.subarray(this.#start, this.#end));
      this.#slab = slab;
      this.#shared = false;
    }
    this.#start = 0;
    this.#end = avail;
  }

  /** Hands out the next `n` buffered bytes (or all there are) as a view the caller owns. */
  #take(n: number): Uint8Array {
    const end = Math.min(this.#end, this.#start + n);
    const view = this.#slab.subarray(this.#start, end);
    this.#start = end;
    this.#shared = true;
    return view;
  }
}

// The executor of every pending read's promise: one function for all
// buffers, not a closure per buffer. The constructor runs it at once.
let captured: ((n: number) => void) | null = null;
function capture(settle: (n: number) => void): void {
  captured = settle;
}

// Marks the read of a recv waiting in the common way (see readSome); never awaited.
const RECV_PENDING: Promise<number> = new Promise(() => {});

let capturedRecv: ((bytes: Uint8Array) => void) | null = null;
let capturedFail: ((err: unknown) => void) | null = null;
function captureRecv(
  resolve: (bytes: Uint8Array) => void,
  reject: (err: unknown) => void,
): void {
  capturedRecv = resolve;
  capturedFail = reject;
}
