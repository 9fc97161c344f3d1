// The one read buffer of a stream socket. recv, recvInto, makefile, the
// framing readers and the `readable` stream all read through it, so bytes
// read ahead by one are never lost to another (asyncio's StreamReader plays
// the same part in CPython).
//
// Its users call read primitives (readSome, readInto, readExactly,
// readUntil, readLine, readAll, readPrefixed, peek), never its offsets. Each
// primitive takes the turn (see _turns.ts), waits at the one wait point
// (#wait, over #more: asyncio's _wait_for_data) and consumes only once it has
// all it needs, so a call that times out leaves the stream as it found it.
//
// Deno cannot cancel a pending `conn.read` (denoland/deno#13688). A call that
// times out therefore leaves its read running; the bytes it brings land here
// and the next call returns them. A timeout loses nothing.

import { indexOfNeedle, view } from "./_bytes.ts";
import { type Framing, headerValue } from "./_framing_options.ts";
import { remaining, toDeadline, waitFor } from "./_base.ts";
import { promise, RECV_PENDING, rejecter, resolver } from "./_capture.ts";
import { Kept } from "./_kept.ts";
import { LARGE_READ, SlabWindow } from "./_slab.ts";
import { type Watcher, watchStarted } from "./_ready.ts";
import {
  BlockingIOError,
  errno,
  IncompleteReadError,
  LimitOverrunError,
  MessageTooLargeError,
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

/**
 * A growable window `slab[start, end)` of bytes read but not yet consumed,
 * filled by at most one pending read at a time.
 */
export class ReadBuffer extends SlabWindow {
  #source: Source;
  #translate: (err: unknown, owner: unknown) => unknown;
  /**
   * What a timeout of this buffer's own wait says; `null` for "timed out".
   * An SSLSocket sets CPython's "The read operation timed out", so its
   * makefile and framing readers say what its recv says.
   */
  timeoutText: string | null = null;
  #owner: unknown;
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
  // The pending read as kept across timeouts (_kept.ts, shared with the
  // listener's accept and the datagram receive): a read left behind by a
  // timed-out call is unref'd while nobody waits, so it cannot keep the
  // process alive after the program is done (Python exits there too).
  #kept: Kept<number>;
  // A selector waiting for this buffer to become readable (see watch):
  // told once, when a read lands or the stream is shut down.
  #watcher: Watcher | null = null;
  // The AbortSignal of the call holding the turn, if it has one: its waits
  // end when it aborts, as at a deadline.
  #signal: AbortSignal | undefined = undefined;

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
    super();
    this.#source = source;
    this.#kept = new Kept(source);
    this.#translate = translate;
    this.#owner = owner;
  }

  /** Bytes read ahead and not yet consumed. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Whether a read call would not wait: bytes are buffered, or end of stream
   * or an error is there to report. What a selector calls readable.
   */
  get readable(): boolean {
    return this.end > this.start || this.#eof || this.#error !== null;
  }

  /**
   * Tells `watcher` once, when the next read lands (bytes, end of stream or
   * an error) or the stream is shut down; call it while not readable. A
   * read is kept in flight for it, the same read a timed-out call leaves
   * behind: its bytes go to the next read call, and while nobody waits it
   * does not keep the process alive.
   */
  watch(watcher: Watcher): void {
    if (this.#eof || this.#error !== null) return;
    this.#watcher = watcher;
    if (this.#fill !== null) return;
    this.#read(this.fillTarget(0));
    this.#kept.release();
  }

  #wake(): void {
    const watcher = this.#watcher!;
    this.#watcher = null;
    watcher.wake();
  }

  /**
   * Ends reading: drops what is buffered and makes every later read see end
   * of stream. Calls waiting on the pending read return at once, as a recv
   * blocked at `shutdown(SHUT_RD)` does on Linux; the read itself stays
   * pending and whatever it brings is dropped.
   *
   * @param err When given, waiting calls fail with it instead (a close
   *   that keeps the connection open until queued writes finish).
   */
  shutdown(err: unknown = null): void {
    this.#eof = true;
    this.start = this.end;
    if (err !== null) this.#error = err;
    const recv = this.#recv;
    const failed = this.#recvFailed;
    if (recv !== null) {
      this.#recv = this.#recvFailed = null;
      this.releaseTurn();
      if (err === null) recv(new Uint8Array(0));
      else failed!(this.#translate(err, this.#owner));
    }
    this.#settle?.(0);
    if (this.#watcher !== null) this.#wake();
    // What the read still pending brings is dropped: it must not keep the
    // process alive, as the read a timed-out call leaves behind does not.
    this.#kept.release();
  }

  /**
   * Between 1 and `max` bytes as soon as any are there; an empty array at
   * end of stream. An aborted `signal` ends the wait as a timeout does
   * (here and in every primitive that takes one), rejecting with its reason.
   */
  readSome(max: number, timeout: number | null, signal?: AbortSignal): Promise<Uint8Array> {
    if (!this.busy) {
      if (this.end > this.start) return Promise.resolve(this.take(max));
      if (
        timeout === null && signal === undefined && this.#fill === null &&
        this.#error === null && !this.#eof && !this.#kept.unrefed
      ) {
        // The common wait: the turn is free, nothing is buffered, no deadline.
        // (Once a kept read has unref'd the source, the slow path refs it
        // again, or this read could not keep the process alive.)
        this.claimTurn();
        this.#max = max;
        const bytes = promise<Uint8Array>();
        this.#recv = resolver as (bytes: Uint8Array) => void;
        this.#recvFailed = rejecter;
        // No promise of its own for the read: the turn is held until it
        // lands, so nobody else waits on it (shutdown and close reach the
        // caller through #recv and #onSettled).
        this.#fill = this.#kept.start(RECV_PENDING);
        // A recv reads no more than 64 KiB or its bufsize ahead: past that a
        // larger read only helps a reader that parses many records per read.
        const target = this.fillTarget(0, max > LARGE_READ ? max : LARGE_READ);
        this.#source.read(target).then(this.#onSettled, this.#onSettled);
        return bytes;
      }
    }
    return this.#withTurn(timeout, max, ReadBuffer.#some, signal);
  }

  /**
   * `readSome` for a reader that can stop wanting the bytes (a cancelled
   * ReadableStream): `deliver` gets them in the turn that takes them, and
   * once `signal` is aborted none is taken, so none is taken for nobody.
   * @returns `false` at end of stream.
   */
  readSomeTo(
    max: number,
    signal: AbortSignal,
    deliver: (bytes: Uint8Array) => void,
  ): Promise<boolean> {
    return this.#withTurn(null, max, async (b, max, deadline) => {
      if (!(await b.#wait(1, deadline))) return false;
      // The wait ended, then the reader let go before this ran.
      if (!signal.aborted) deliver(b.take(max));
      return true;
    }, signal);
  }

  static async #some(b: ReadBuffer, max: number, deadline: number | null): Promise<Uint8Array> {
    return (await b.#wait(1, deadline)) ? b.take(max) : new Uint8Array(0);
  }

  /** Fills `buf` with what is there (at least one byte); 0 at end of stream. */
  readInto(buf: Uint8Array, timeout: number | null, signal?: AbortSignal): Promise<number> {
    if (
      !this.busy && this.end === this.start && timeout === null && signal === undefined &&
      this.#fill === null && !this.#eof && !this.#kept.unrefed && this.#error === null
    ) {
      // Nothing buffered and no deadline: read straight into the caller's
      // array, which saves a copy. (With a deadline or a signal the read
      // could outlive the call and write into an array the caller has moved
      // on from.)
      // Deno cannot cancel the read, so after shutdown(SHUT_RD) wakes this
      // call, bytes the peer still sends before close() land in `buf`;
      // they are never counted or returned.
      this.claimTurn();
      this.#direct = true;
      return this.#read(buf).then((n) => this.#directDone(n, buf));
    }
    return this.#withTurn(timeout, buf, ReadBuffer.#into, signal);
  }

  #directDone(n: number, buf: Uint8Array): number {
    this.releaseTurn();
    if (n === 0 && this.#error !== null) this.#throwError();
    // The caller transferred the array's buffer while the read was pending:
    // the bytes went with it, so the stream has a hole (as for a slab, see
    // _slab.ts), reported rather than counted as read.
    if (n > 0 && buf.byteLength === 0) {
      this.broken(
        new TypeError(
          `Cannot read: the ArrayBuffer of the array being read into was transferred while the ` +
            `read was pending, with ${n} bytes of the stream in it`,
        ),
      );
    }
    return n;
  }

  static async #into(b: ReadBuffer, buf: Uint8Array, deadline: number | null): Promise<number> {
    await b.#wait(1, deadline);
    const n = Math.min(buf.length, b.end - b.start);
    buf.set(b.slab.subarray(b.start, b.start + n));
    b.start += n;
    return n;
  }

  /**
   * Up to `max` of the buffered bytes, as a copy, consuming nothing: waits
   * for one byte at least, like `readSome` (Python's `MSG_PEEK`), or for all
   * `max` with `all` (`MSG_PEEK | MSG_WAITALL`). Fewer, or an empty array,
   * at end of stream.
   */
  peek(
    max: number,
    timeout: number | null,
    signal?: AbortSignal,
    all = false,
  ): Promise<Uint8Array> {
    return this.#withTurn(timeout, max, async (b, max, deadline) => {
      await b.#wait(all ? max : 1, deadline, true);
      return b.slab.slice(b.start, Math.min(b.end, b.start + max));
    }, signal);
  }

  /**
   * Exactly `n` bytes. Nothing is consumed until all are there, so a timeout
   * loses nothing.
   * @throws {IncompleteReadError} at end of stream, carrying what was read.
   */
  readExactly(n: number, timeout: number | null, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#withTurn(timeout, n, ReadBuffer.#exactly, signal);
  }

  static async #exactly(b: ReadBuffer, n: number, deadline: number | null): Promise<Uint8Array> {
    if (!(await b.#wait(n, deadline))) throw new IncompleteReadError(b.take(Infinity), n);
    return b.take(n);
  }

  /**
   * `n` bytes, or fewer when the stream ends, the deadline passes or (with a
   * timeout of 0) nothing more is there: Linux's `MSG_WAITALL`. Only a call
   * that got nothing at all times out (or is aborted, which consumes
   * nothing either).
   */
  readUpTo(n: number, timeout: number | null, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#withTurn(timeout, n, ReadBuffer.#upTo, signal);
  }

  static async #upTo(b: ReadBuffer, n: number, deadline: number | null): Promise<Uint8Array> {
    try {
      // An error after some bytes returns them and leaves the error for the
      // next call, as Linux's MSG_WAITALL returns what it has.
      await b.#wait(n, deadline, true);
    } catch (err) {
      const timedOut = err instanceof TimeoutError || err instanceof BlockingIOError;
      if (!timedOut || b.end === b.start) throw err;
    }
    return b.take(n);
  }

  /**
   * Everything up to end of stream. It stays buffered until the stream ends,
   * so a call that times out loses nothing: the next read gets it.
   */
  readAll(timeout: number | null): Promise<Uint8Array> {
    // Asking for twice what is buffered grows the buffer geometrically, so a
    // long stream costs linear time; only the end of stream takes it.
    return this.readSized(1, twiceAvail, timeout).then(orEmpty);
  }

  /**
   * One length-prefixed message: a header of `framing.header` bytes, then
   * that many bytes of payload, returned as a view the caller owns. Nothing
   * is consumed until the whole message is buffered; one already buffered
   * is returned without an async frame.
   * @returns The payload, or `null` at end of stream before a header.
   * @throws {MessageTooLargeError} when the header announces more than
   *   `framing.maxMessage`, with the header consumed.
   * @throws {IncompleteReadError} at end of stream inside the message:
   *   `partial` is the header bytes, or the payload so far.
   */
  readPrefixed(framing: Framing, timeout: number | null): Promise<Uint8Array | null> {
    const whole = this.takeMessage(framing);
    if (whole !== undefined) return Promise.resolve(whole);
    return this.#withTurn(timeout, framing, ReadBuffer.#prefixed);
  }

  static async #prefixed(
    b: ReadBuffer,
    framing: Framing,
    deadline: number | null,
  ): Promise<Uint8Array | null> {
    const header = framing.header;
    if (!(await b.#wait(header, deadline))) {
      if (b.end === b.start) return null;
      throw new IncompleteReadError(b.take(header), header);
    }
    // A slab whose ArrayBuffer the caller transferred has no header to read:
    // take reports the hole, counting every byte lost with it.
    if (b.end > b.slab.length) b.take(0);
    const size = headerValue(b.slab, b.start, framing);
    if (size > framing.maxMessage) {
      b.start += header;
      throw new MessageTooLargeError(size, framing.maxMessage);
    }
    const whole = await b.#wait(header + size, deadline);
    b.start += header;
    if (!whole) throw new IncompleteReadError(b.take(size), size);
    return b.take(size);
  }

  /**
   * The next length-prefixed message (see {@linkcode readPrefixed}) when it
   * is buffered whole, within `maxMessage`, and no read call is in progress;
   * else `undefined`, consuming nothing, and readPrefixed decides (it waits,
   * or raises). The framing readers' hot path: one call, no callback and no
   * try, so a stream of small messages is fast from its first messages, not
   * only once V8 has optimized a deeper path.
   */
  takeMessage(framing: Framing): Uint8Array | undefined {
    const start = this.start;
    const header = framing.header;
    const slab = this.slab;
    // (A slab whose ArrayBuffer a caller transferred reads as length 0: the
    // general path reports it.)
    if (this.busy || this.end - start < header || this.end > slab.length) return undefined;
    const size = headerValue(slab, start, framing);
    if (size > framing.maxMessage || this.end - start - header < size) return undefined;
    this.start = start + header + size;
    this.shared = true;
    return view(slab, start + header, size);
  }

  /**
   * A unit whose size the bytes themselves say, as TLS records do: waits
   * for `minimum` bytes, then asks `sizeOf(bytes, at, avail)` how many of
   * the `avail` buffered ones (from `bytes[at]`) to take. A size over
   * `avail` waits for that many and asks again; 0 takes nothing.
   * @returns The bytes taken; what is left at end of stream; `null` when
   *   `sizeOf` says 0, or at end of stream with nothing buffered.
   */
  readSized(
    minimum: number,
    sizeOf: (bytes: Uint8Array, at: number, avail: number) => number,
    timeout: number | null,
  ): Promise<Uint8Array | null> {
    return this.#withTurn(timeout, minimum, async (b, minimum, deadline) => {
      if (!(await b.#wait(minimum, deadline))) return b.buffered > 0 ? b.take(Infinity) : null;
      while (true) {
        const avail = b.end - b.start;
        const size = sizeOf(b.slab, b.start, avail);
        if (size === 0) return null;
        if (size <= avail) return b.take(size);
        if (!(await b.#wait(size, deadline))) return b.take(Infinity);
      }
    });
  }

  /**
   * Bytes up to and including `delimiter`, with asyncio's limit rule: the
   * bytes before the delimiter may number at most `limit`.
   * @throws {LimitOverrunError} when no delimiter is found within `limit`
   *   bytes; the bytes stay buffered and `consumed` says how far the search went.
   * @throws {IncompleteReadError} at end of stream before a delimiter.
   */
  readUntil(delimiter: Uint8Array, limit: number, timeout: number | null): Promise<Uint8Array> {
    return this.#withTurn(timeout, limit, async (_buffer, _, deadline) => {
      // Where the next search starts, relative to the unread bytes: a
      // delimiter can straddle what was searched and what arrives next.
      let offset = 0;
      while (true) {
        const avail = this.end - this.start;
        const at = indexOfNeedle(this.slab, delimiter, this.start + offset, this.end);
        if (at !== -1) {
          const before = at - this.start;
          if (before > limit) {
            throw new LimitOverrunError(
              "Separator is found, but chunk is longer than limit",
              before,
            );
          }
          return this.take(before + delimiter.length);
        }
        offset = Math.max(0, avail + 1 - delimiter.length);
        if (offset > limit) {
          throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
        if (!(await this.#wait(avail + 1, deadline))) {
          throw new IncompleteReadError(this.take(Infinity), null);
        }
      }
    });
  }

  /**
   * A line for file-like reading: up to and including `\n`, or `max` bytes
   * when no newline comes first, or what is left at end of stream.
   */
  readLine(max: number, timeout: number | null): Promise<Uint8Array> {
    return this.#withTurn(timeout, max, ReadBuffer.#line);
  }

  static async #line(b: ReadBuffer, max: number, deadline: number | null): Promise<Uint8Array> {
    let searched = 0;
    while (true) {
      const avail = b.end - b.start;
      const to = Math.min(b.end, b.start + max);
      const at = b.slab.subarray(0, to).indexOf(10, b.start + searched);
      if (at !== -1) return b.take(at - b.start + 1);
      if (avail >= max) return b.take(max);
      searched = avail;
      // A file's readline returns the last bytes before an error, as at end
      // of stream; the error is reported by the next call.
      if (!(await b.#wait(avail + 1, deadline, true))) return b.take(avail);
    }
  }

  /**
   * Bytes up to where `scan` says, for readers whose unit is not a byte
   * (a text file's characters and lines). `scan(bytes, ended)` is shown
   * everything buffered (a view it must not keep) and returns how many
   * bytes to take, or -1 to wait for more; once the stream has ended (or a
   * read error is pending, which the next call reports, as a file's
   * readline does) `ended` is true and it must return a count. Nothing is
   * consumed until it does, so a call that times out loses nothing.
   */
  readScan(
    scan: (bytes: Uint8Array, ended: boolean) => number,
    timeout: number | null,
  ): Promise<Uint8Array> {
    return this.#withTurn(timeout, scan, ReadBuffer.#scan);
  }

  static async #scan(
    b: ReadBuffer,
    scan: (bytes: Uint8Array, ended: boolean) => number,
    deadline: number | null,
  ): Promise<Uint8Array> {
    while (true) {
      const avail = b.end - b.start;
      const n = scan(b.slab.subarray(b.start, b.end), false);
      if (n >= 0) return b.take(n);
      if (!(await b.#wait(avail + 1, deadline, true))) {
        return b.take(scan(b.slab.subarray(b.start, b.end), true));
      }
    }
  }

  /**
   * Runs one read call in its turn: `read(arg, deadline)` starts once every
   * call made before has ended, and the turn passes on when it settles.
   * The common reads are static methods given the buffer and their
   * argument, so that neither a call nor a buffer costs a closure (10,000
   * idle connections hold 10,000 buffers).
   */
  async #withTurn<A, T>(
    timeout: number | null,
    arg: A,
    read: (buffer: ReadBuffer, arg: A, deadline: number | null) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    signal?.throwIfAborted();
    const deadline = toDeadline(timeout);
    const turn = this.takeTurn(timeout, signal);
    if (turn !== null) await turn.catch((err) => ReadBuffer.#ownTimeout(this, err));
    this.#signal = signal;
    try {
      return await read(this, arg, deadline);
    } catch (err) {
      return ReadBuffer.#ownTimeout(this, err);
    } finally {
      this.#signal = undefined;
      this.releaseTurn();
    }
  }

  /**
   * The one wait point: waits until `n` bytes are buffered, consuming
   * nothing.
   * @param partial Report a read error as the end (`false`) while bytes are
   *   buffered, leaving the error for the next call, as a file's readline does.
   * @returns `false` when the stream ends first.
   * @throws the error the read met, when fewer than `n` bytes came before it.
   */
  async #wait(n: number, deadline: number | null, partial = false): Promise<boolean> {
    while (this.end - this.start < n) {
      if (this.#error !== null) {
        if (partial && this.end > this.start) return false;
        this.#throwError();
      }
      if (this.#eof) return false;
      await this.#more(n, remaining(deadline));
    }
    return true;
  }

  /** Waits until more bytes, end of stream or an error is recorded. */
  async #more(need: number, timeout: number | null): Promise<void> {
    if (this.#error !== null) this.#throwError();
    if (this.#eof) return;
    const fill = this.#startFill(need);
    const kept = this.#kept;
    kept.enter();
    try {
      await waitFor(fill, timeout, this.#signal);
    } catch (err) {
      // A fill never rejects: this is our timeout, or the caller's abort.
      // The read stays pending for the next call, unref'd once nobody waits.
      kept.abandon(fill);
      throw err;
    }
    kept.leave();
  }

  // Rethrows what a read call failed with; a timeout of this buffer's (in
  // its turn, at its deadline or waiting for bytes) as its owner words it
  // (see timeoutText).
  static #ownTimeout(buffer: ReadBuffer, err: unknown): never {
    if (buffer.timeoutText !== null && err instanceof TimeoutError && err.errno === null) {
      throw new TimeoutError(null, { strerror: buffer.timeoutText, cause: err });
    }
    throw err;
  }

  // An error is reported once; afterwards the stream reads as ended, as
  // Linux returns 0 from recv after reporting ECONNRESET. A closed socket
  // (EBADF) is the exception: every call still waiting reports it, and none
  // returns what was buffered.
  #throwError(): never {
    const err = this.#translate(this.#error, this.#owner);
    this.#eof = true;
    if (err instanceof OSError && err.errno === errno.EBADF) this.start = this.end;
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
    return this.#read(this.fillTarget(need));
  }

  /** Starts the one pending read, into `target`. */
  #read(target: Uint8Array): Promise<number> {
    // A read a selector may see land (a watch's, or one a call left behind).
    watchStarted();
    this.#fill = this.#kept.start(promise<number>());
    this.#settle = resolver as (n: number) => void;
    this.#source.read(target).then(this.#onSettled, this.#onSettled);
    return this.#fill;
  }

  // Made once per buffer rather than once per read, and one for both
  // outcomes: an idle server with many connections, or a busy one, then
  // holds and makes less. A read resolves to a count or null and rejects
  // with an Error, so the value tells which.
  #onSettled = (result: unknown): void => {
    if (typeof result === "number" || result === null) this.#onRead(result);
    else this.#onReadError(result);
  };

  #onRead(n: number | null): void {
    // The read landed in a slab a caller transferred (see _slab.ts).
    if (n !== null && !this.#direct && this.end + n > this.slab.length) {
      return this.#onReadError(this.detached(n));
    }
    const settle = this.#settle;
    const direct = this.#direct;
    const recv = this.#recv;
    this.#endRead();
    // After shutdown(SHUT_RD) the bytes of a read still pending are dropped,
    // as shutdown() dropped what was buffered: later calls see end of stream.
    if (n === null || this.#eof) {
      this.#eof = true;
      settle?.(0);
      if (recv !== null) {
        this.releaseTurn();
        recv(new Uint8Array(0));
      }
    } else {
      if (!direct) this.landed(n);
      settle?.(n);
      if (recv !== null) {
        const bytes = this.take(this.#max);
        this.releaseTurn();
        recv(bytes);
      }
    }
    if (this.#watcher !== null) this.#wake();
  }

  #onReadError(err: unknown): void {
    const settle = this.#settle;
    const failed = this.#recvFailed;
    this.#endRead();
    this.#error = err;
    settle?.(0);
    if (failed !== null) {
      this.releaseTurn();
      try {
        this.#throwError();
      } catch (translated) {
        failed(translated);
      }
    }
    if (this.#watcher !== null) this.#wake();
  }

  /** Forgets the read that just landed: the next wait starts another. */
  #endRead(): void {
    this.#kept.clear();
    this.#fill = this.#settle = null;
    this.#recv = this.#recvFailed = null;
    this.#direct = false;
  }

  /** A stream with a hole ends: reported once (TypeError), then end of stream. */
  protected override broken(err: TypeError): never {
    this.#eof = true;
    throw err;
  }
}

const twiceAvail = (_bytes: Uint8Array, _at: number, avail: number): number => avail * 2;
const orEmpty = (bytes: Uint8Array | null): Uint8Array => bytes ?? new Uint8Array(0);
