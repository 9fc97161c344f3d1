// The write path of a stream socket: send, sendall and the end of stream
// that shutdown(SHUT_WR) sends after them.
//
// Deno cannot withdraw a write once started (no cancellation of a pending
// `conn.write`, denoland/deno#13688). So calls are queued, never
// interleaved: a call made before the previous one finished waits for it,
// and a write that outlived its timed-out call is waited for by every later
// one, so bytes never reorder on the wire.
//
// For the same reason a non-blocking send cannot try a write and take it
// back when it would wait. Instead the writer keeps a send queue of its own,
// as the kernel keeps a send buffer: a non-blocking send copies what fits
// (up to SEND_QUEUE_LIMIT bytes queued) and returns that count at once, and
// one flush writes the queue in order. A send that finds the queue full
// fails with BlockingIOError, taking nothing, and a selector's EVENT_WRITE
// fires once it drains. close() keeps the connection open until the queue
// is written, as the kernel still sends what its buffer holds.

import { remaining, toDeadline, waitFor } from "./_base.ts";
import { concat, EMPTY } from "./_bytes.ts";
import type { Watcher } from "./_ready.ts";
import { BlockingIOError, errno, OSError, TimeoutError } from "./errors.ts";

/** The method by which a writer's owner hears that its writer has nothing left to do. */
export const kWriterIdle: unique symbol = Symbol("pysock.writerIdle");

/** A writer's owner: it lets go of an idle writer and recycles it. */
export interface WriterOwner {
  [kWriterIdle](writer: Writer): void;
}

// Idle writers, for the next socket that writes: a connection between
// writes then holds no writer, and a busy server does not make one per
// write. Bounded: past it an idle writer is garbage.
const spare: Writer[] = [];
const SPARE_MAX = 64;

/**
 * The most bytes non-blocking sends may have queued beyond what the kernel
 * has taken; a send that finds this many fails with BlockingIOError.
 */
export const SEND_QUEUE_LIMIT = 65536;

// How long close() keeps a connection open to write what non-blocking sends
// queued, when the peer does not read it.
const LINGER_MS = 10_000;

/** Turns a Deno error into the error callers see; one function for every socket. */
export type Translate = (err: unknown, owner: unknown) => unknown;

/** The ordered writes of one connection. */
export class Writer {
  #conn: Deno.Conn;
  #translate: Translate;
  #owner: WriterOwner | null;
  // The last send/sendall, so that closeWrite() ends the stream after it.
  #lastWrite: Promise<unknown> | null = null;
  // send/sendall calls in progress: a new one waits for #lastWrite first.
  #writers = 0;
  // A write that outlived its timed-out call: later writes wait for it.
  #stalled: Promise<number> | null = null;
  // That write failed (a reset, say): the socket is writable again, and the
  // next call reports the failure, as the kernel reports a reset.
  #stalledFailed = false;
  /** End of stream was sent (or is queued behind the writes in flight). */
  shut = false;
  // The send queue of non-blocking sends: bytes taken and not yet written,
  // the chunks the flush that is the last write takes next, that flush,
  // and how many flushes are in progress (each is also one of #writers).
  #queued = 0;
  #batch: Uint8Array[] | null = null;
  #flushing: Promise<void> | null = null;
  #flushes = 0;
  // What a flush met, reported by the next call, as the kernel reports the
  // error of a send it had buffered.
  #error: unknown = null;
  // close() was called while the queue held bytes; the connection closes
  // once they are written.
  #closing = false;
  #closed = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  // Aborted by a close() that lingers, so the calls still waiting for their
  // turn settle (EBADF) rather than wait for a peer that may never read.
  #closeAbort: AbortController | null = null;
  // A selector waiting for a send not to wait (see watch).
  #watcher: Watcher | null = null;
  // The bytes of the write #sendallNow has in flight.
  #sending: Uint8Array = EMPTY;

  /**
   * @param conn The connection written to.
   * @param translate Turns a write error into the error callers see.
   * @param owner Passed to `translate` (the socket), instead of a closure per socket.
   */
  constructor(conn: Deno.Conn, translate: Translate, owner: WriterOwner) {
    this.#conn = conn;
    this.#translate = translate;
    this.#owner = owner;
  }

  /** A writer for `conn`: a spare one if there is one, else a new one. */
  static for(conn: Deno.Conn, translate: Translate, owner: WriterOwner): Writer {
    const writer = spare.pop();
    if (writer === undefined) return new Writer(conn, translate, owner);
    writer.#conn = conn;
    writer.#translate = translate;
    writer.#owner = owner;
    return writer;
  }

  /** Back to the spare writers, once its owner no longer refers to it. */
  recycle(): void {
    this.#conn = NO_CONN;
    this.#owner = null;
    if (spare.length < SPARE_MAX) spare.push(this);
  }

  // Nothing in flight, queued or waiting, and no state to keep: what the
  // owner would get from a new writer. Not closed: a write can resolve just
  // before close() and report after it, and a closed writer must never serve
  // another connection (its close would do nothing).
  #idle(): boolean {
    return this.#writers === 0 && this.#lastWrite === null && this.#stalled === null &&
      this.#queued === 0 && this.#batch === null && this.#error === null && !this.shut &&
      !this.#closing && !this.#closed && this.#watcher === null;
  }

  /** Whether a write is queued or in flight, so a new one would wait. */
  get pending(): boolean {
    return this.#writers > 0 || this.#stalled !== null;
  }

  /**
   * Whether a send would not wait: a non-blocking send would take bytes
   * (no blocking write in flight, the send queue has room) or fail at once.
   * What a selector calls writable.
   */
  get writable(): boolean {
    return this.#error !== null || this.shut || this.#stalledFailed || this.#hasRoom();
  }

  #hasRoom(): boolean {
    return this.#writers === this.#flushes && this.#stalled === null &&
      this.#queued < SEND_QUEUE_LIMIT;
  }

  /** Tells `watcher` once, when the writer becomes writable; call it while not writable. */
  watch(watcher: Watcher): void {
    this.#watcher = watcher;
  }

  #wakeIfWritable(): void {
    if (!this.writable) return;
    const watcher = this.#watcher!;
    this.#watcher = null;
    watcher.wake();
  }

  /**
   * One write, after those before it: resolves to the count written. With
   * a timeout of 0 (non-blocking), the count taken into the send queue.
   * @throws {BlockingIOError} non-blocking, when the send queue is full.
   */
  send(bytes: Uint8Array, timeout: number | null): Promise<number> {
    if (this.#error !== null) return Promise.reject(this.#takeError());
    if (timeout === 0) return this.#sendNow(bytes);
    const previous = this.#writers > 0 ? this.#lastWrite : null;
    const sending = this.#send(bytes, previous, timeout);
    this.#lastWrite = after(sending, previous);
    return sending;
  }

  /** A non-blocking send: takes what fits in the send queue, or nothing. */
  #sendNow(bytes: Uint8Array): Promise<number> {
    if (bytes.length === 0) return Promise.resolve(0);
    if (this.#stalledFailed) return this.#waitStalled(null).then(() => 0);
    if (!this.#hasRoom()) return Promise.reject(new BlockingIOError());
    const n = Math.min(bytes.length, SEND_QUEUE_LIMIT - this.#queued);
    // A copy, as the kernel copies: the caller may reuse its array as soon
    // as send returns, and the write can outlive the call.
    const chunk = bytes.slice(0, n);
    this.#queued += n;
    if (this.#writers === 0 && this.#stalled === null) {
      // Nothing in flight: one write, with no batch and no async frame (the
      // common send of a selector loop). Later calls queue behind it.
      this.#writers++;
      this.#flushes++;
      this.#lastWrite = this.#conn.write(chunk).then(
        (written) => this.#wrote(chunk, written),
        (err) => this.#failed(chunk.length, err),
      );
    } else if (this.#batch !== null && this.#lastWrite === this.#flushing) {
      this.#batch.push(chunk);
    } else {
      // A write queued since the last flush began: this one goes after it.
      const previous = this.#writers > 0 ? this.#lastWrite : null;
      const batch = [chunk];
      this.#batch = batch;
      this.#flushing = this.#lastWrite = this.#flush(batch, previous);
    }
    return Promise.resolve(n);
  }

  /** The end of a lone non-blocking write; the rest of a partial one is flushed before anything queued since. */
  #wrote(chunk: Uint8Array, written: number): Promise<void> | undefined {
    this.#writers--;
    this.#flushes--;
    this.#queued -= written;
    if (written < chunk.length) return this.#flush([chunk.subarray(written)], null);
    this.#flushed();
  }

  #failed(unwritten: number, err: unknown): void {
    this.#writers--;
    this.#flushes--;
    // The connection failed: what is still queued is lost, as in the kernel.
    // The first failure is the one to report (a reset, say): the flushes
    // queued behind it fail too, with EPIPE, and must not replace it.
    this.#queued -= unwritten;
    if (!this.#closing) this.#error ??= err;
    this.#flushed();
  }

  #flushed(): void {
    if (this.#closing && this.#queued === 0) this.#closeNow();
    if (this.#watcher !== null) this.#wakeIfWritable();
  }

  /** Writes the send queue's chunks in order, taking those added meanwhile. */
  async #flush(batch: Uint8Array[], previous: Promise<unknown> | null): Promise<void> {
    this.#writers++;
    this.#flushes++;
    let chunk = EMPTY;
    let sent = 0;
    try {
      if (previous !== null) await previous.catch(ignore);
      if (this.#stalled !== null) await this.#stalled.catch(ignore);
      while (batch.length > 0) {
        chunk = batch.length === 1 ? batch[0] : concat(batch);
        batch.length = 0;
        sent = 0;
        while (sent < chunk.length) {
          const n = await this.#conn.write(sent === 0 ? chunk : chunk.subarray(sent));
          sent += n;
          this.#queued -= n;
          if (this.#watcher !== null) this.#wakeIfWritable();
        }
      }
    } catch (err) {
      let lost = chunk.length - sent;
      for (const rest of batch) lost += rest.length;
      batch.length = 0;
      this.#failed(lost, err);
      return;
    } finally {
      if (this.#batch === batch) this.#batch = this.#flushing = null;
    }
    this.#writers--;
    this.#flushes--;
    this.#flushed();
  }

  #takeError(): unknown {
    const err = this.#error;
    this.#error = null;
    return this.#translate(err, this.#owner);
  }

  /**
   * Closes the connection: at once, or once the send queue is written (at
   * most LINGER_MS later), as the kernel still sends what its buffer holds
   * after close().
   * @returns Whether the close waits for the send queue.
   */
  close(): boolean {
    if (this.#queued === 0) {
      this.#closeNow();
      return false;
    }
    this.#closing = true;
    this.#closeAbort?.abort(new OSError(errno.EBADF));
    const timer = setTimeout(() => this.#closeNow(), LINGER_MS);
    // The writes keep the process alive while they progress; the timer alone must not.
    Deno.unrefTimer(timer);
    this.#lingerTimer = timer;
    return true;
  }

  #closeNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#lingerTimer);
    try {
      this.#conn.close();
    } catch { /* already closed by Deno */ }
  }

  /** What a call waiting for its turn watches for a close() that lingers. */
  #closeSignal(): AbortSignal {
    return (this.#closeAbort ??= new AbortController()).signal;
  }

  /** A write queued behind others finds the socket closed meanwhile. */
  #checkOpen(): void {
    if (this.#closing) throw new OSError(errno.EBADF);
  }

  async #send(
    bytes: Uint8Array,
    previous: Promise<unknown> | null,
    timeout: number | null,
  ): Promise<number> {
    this.#writers++;
    try {
      const deadline = toDeadline(timeout);
      if (previous !== null) await turn(previous, timeout, this.#closeSignal());
      this.#checkOpen();
      if (this.#stalled !== null) await this.#waitStalled(remaining(deadline));
      return await this.#write(bytes, remaining(deadline));
    } finally {
      this.#writers--;
      this.#settled();
      if (this.#watcher !== null) this.#wakeIfWritable();
    }
  }

  /** Every byte, after the writes before it; rejects with the first error. */
  sendall(bytes: Uint8Array, timeout: number | null): Promise<void> {
    if (this.#error !== null) return Promise.reject(this.#takeError());
    timeout = writeTimeout(timeout);
    if (this.#writers === 0 && this.#stalled === null && timeout === null) {
      return this.#sendallNow(bytes);
    }
    // Calls made before the previous one finished queue behind it, so the
    // bytes of two unawaited sendall calls never interleave on the wire.
    const previous = this.#writers > 0 ? this.#lastWrite : null;
    const sending = this.#sendall(bytes, previous, timeout);
    this.#lastWrite = after(sending, previous);
    return sending;
  }

  /**
   * The common sendall: nothing queued, no deadline. One write usually takes
   * every byte, so this costs one promise and no async frame (a busy echo
   * server or 10,000 connections make less garbage).
   */
  #sendallNow(bytes: Uint8Array): Promise<void> {
    this.#writers++;
    this.#sending = bytes;
    const sending = this.#conn.write(bytes).then(this.#onSent, this.#onSent);
    this.#lastWrite = sending;
    return sending;
  }

  // The continuation of #sendallNow, made once per writer rather than as two
  // closures per call (a busy server's garbage); the one write it serves is
  // in #sending, since the fast path runs only while no other write is. A
  // write resolves to a count and rejects with an Error, so one function
  // serves both outcomes.
  #onSent = (result: unknown): Promise<void> | undefined => {
    const bytes = this.#sending;
    this.#sending = EMPTY;
    this.#writers--;
    if (typeof result === "number" && result < bytes.length) {
      return this.#sendall(bytes.subarray(result), null, null);
    }
    this.#settled();
    if (this.#watcher !== null) this.#wakeIfWritable();
    if (typeof result !== "number") throw this.#translate(result, this.#owner);
    if (this.#idle()) this.#owner?.[kWriterIdle](this);
  };

  async #sendall(
    bytes: Uint8Array,
    previous: Promise<unknown> | null,
    timeout: number | null,
  ): Promise<void> {
    this.#writers++;
    try {
      const deadline = timeout === null ? null : performance.now() + timeout * 1000;
      if (previous !== null) await turn(previous, timeout, this.#closeSignal());
      this.#checkOpen();
      if (this.#stalled !== null) await this.#waitStalled(remaining(deadline));
      let sent = 0;
      while (sent < bytes.length) {
        const rest = sent === 0 ? bytes : bytes.subarray(sent);
        if (deadline === null && this.#stalled === null) {
          sent += await this.#conn.write(rest);
          continue;
        }
        const left = deadline === null ? null : Math.max(0, (deadline - performance.now()) / 1000);
        sent += await this.#write(rest, left);
      }
    } catch (err) {
      throw this.#translate(err, this.#owner);
    } finally {
      this.#writers--;
      this.#settled();
      if (this.#watcher !== null) this.#wakeIfWritable();
    }
  }

  /**
   * Forgets the last write once no call is in progress: nothing queues
   * behind it then, and closeWrite() waits only for a stalled write, so an
   * idle connection does not hold on to its last promise.
   */
  #settled(): void {
    if (this.#writers === 0) this.#lastWrite = null;
  }

  /** Sends end of stream after every write already started; failures surface on the next call. */
  closeWrite(): void {
    this.shut = true;
    // With nothing to wait for, the FIN goes now: a close() right after it (Python's
    // shutdown-then-close, socketserver's shutdown_request) would otherwise find the
    // connection gone, and Deno builds a BadResource error for nothing.
    if (this.#lastWrite === null && this.#stalled === null) {
      this.#conn.closeWrite().catch(ignore);
      return;
    }
    Promise.allSettled([this.#lastWrite, this.#stalled])
      .then(() => this.#closed ? undefined : this.#conn.closeWrite())
      .catch(ignore);
  }

  /** One write with a deadline; a write that times out is kept so later writes queue behind it. */
  async #write(bytes: Uint8Array, timeout: number | null): Promise<number> {
    const writing = this.#conn.write(bytes);
    try {
      return await waitFor(writing, timeout);
    } catch (err) {
      if (err instanceof TimeoutError) {
        this.#stalled = writing;
        writing.then(() => {
          if (this.#stalled !== writing) return;
          this.#stalled = null;
          if (this.#watcher !== null) this.#wakeIfWritable();
        }, () => {
          if (this.#stalled !== writing) return;
          this.#stalledFailed = true;
          if (this.#watcher !== null) this.#wakeIfWritable();
        });
      }
      throw this.#translate(err, this.#owner);
    }
  }

  /** Waits for a write left over from a timed-out call; reports its failure. */
  async #waitStalled(timeout: number | null): Promise<void> {
    const stalled = this.#stalled!;
    try {
      await waitFor(stalled, timeout);
    } catch (err) {
      if (!(err instanceof TimeoutError)) {
        this.#stalled = null;
        this.#stalledFailed = false;
      }
      throw this.#translate(err, this.#owner);
    }
  }
}

function ignore(): void {}

/**
 * Waits for the writes before a call, for at most its timeout: the wait
 * for its turn counts against it, as for reads.
 * @throws {TimeoutError} when the turn does not come in time; {OSError}
 *   `EBADF` when a close() that lingers for the send queue comes first.
 */
function turn(
  previous: Promise<unknown>,
  timeout: number | null,
  closed: AbortSignal,
): Promise<unknown> {
  return waitFor(previous.catch(ignore), timeout, closed);
}

/**
 * What the next write waits for: `sending`, and `previous` too, since a
 * call that gave up waiting for its turn wrote nothing, and the writes
 * after it must still follow `previous`.
 */
function after(sending: Promise<unknown>, previous: Promise<unknown> | null): Promise<unknown> {
  return previous === null ? sending : sending.then(ignore, () => previous.catch(ignore));
}

// What a spare writer refers to instead of its last connection.
const NO_CONN = null as unknown as Deno.Conn;

/**
 * The deadline for a sendall. Deno cannot withdraw a write once started, so
 * a non-blocking sendall that failed with EAGAIN part way would still
 * deliver its bytes later, and a retry would send them twice: in
 * non-blocking mode sendall waits for every byte instead.
 */
function writeTimeout(timeout: number | null): number | null {
  return timeout === 0 ? null : timeout;
}
