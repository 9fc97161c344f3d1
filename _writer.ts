// The write path of a stream socket: send, sendall and the end of stream
// that shutdown(SHUT_WR) sends after them.
//
// Deno cannot withdraw a write once started (no cancellation of a pending
// `conn.write`, denoland/deno#13688). So calls are queued, never
// interleaved: a call made before the previous one finished waits for it,
// and a write that outlived its timed-out call is waited for by every later
// one, so bytes never reorder on the wire.

import { waitFor } from "./_base.ts";
import { TimeoutError } from "./errors.ts";

/** Turns a Deno error into the error callers see; one function for every socket. */
export type Translate = (err: unknown, owner: unknown) => unknown;

/** The ordered writes of one connection. */
export class Writer {
  #conn: Deno.Conn;
  #translate: Translate;
  #owner: unknown;
  // The last send/sendall, so that closeWrite() ends the stream after it.
  #lastWrite: Promise<unknown> | null = null;
  // send/sendall calls in progress: a new one waits for #lastWrite first.
  #writers = 0;
  // A write that outlived its timed-out call: later writes wait for it.
  #stalled: Promise<number> | null = null;
  /** End of stream was sent (or is queued behind the writes in flight). */
  shut = false;

  /**
   * @param conn The connection written to.
   * @param translate Turns a write error into the error callers see.
   * @param owner Passed to `translate` (the socket), instead of a closure per socket.
   */
  constructor(conn: Deno.Conn, translate: Translate, owner: unknown) {
    this.#conn = conn;
    this.#translate = translate;
    this.#owner = owner;
  }

  /** Whether a write is queued or in flight, so a new one would wait. */
  get pending(): boolean {
    return this.#writers > 0 || this.#stalled !== null;
  }

  /** One write, after those before it: resolves to the count written. */
  send(bytes: Uint8Array, timeout: number | null): Promise<number> {
    const previous = this.#writers > 0 ? this.#lastWrite : null;
    const sending = this.#send(bytes, previous, writeTimeout(timeout));
    this.#lastWrite = sending;
    return sending;
  }

  async #send(
    bytes: Uint8Array,
    previous: Promise<unknown> | null,
    timeout: number | null,
  ): Promise<number> {
    this.#writers++;
    try {
      if (previous !== null) await previous.catch(ignore);
      if (this.#stalled !== null) await this.#waitStalled(timeout);
      return await this.#write(bytes, timeout);
    } finally {
      this.#writers--;
      this.#settled();
    }
  }

  /** Every byte, after the writes before it; rejects with the first error. */
  sendall(bytes: Uint8Array, timeout: number | null): Promise<void> {
    timeout = writeTimeout(timeout);
    if (this.#writers === 0 && this.#stalled === null && timeout === null) {
      return this.#sendallNow(bytes);
    }
    // Calls made before the previous one finished queue behind it, so the
    // bytes of two unawaited sendall calls never interleave on the wire.
    const previous = this.#writers > 0 ? this.#lastWrite : null;
    const sending = this.#sendall(bytes, previous, timeout);
    this.#lastWrite = sending;
    return sending;
  }

  /**
   * The common sendall: nothing queued, no deadline. One write usually takes
   * every byte, so this costs one promise and no async frame (a busy echo
   * server or 10,000 connections make less garbage).
   */
  #sendallNow(bytes: Uint8Array): Promise<void> {
    this.#writers++;
    const sending = this.#conn.write(bytes).then((n) => {
      this.#writers--;
      // A partial write finishes on the general path; later calls are
      // already queued behind this promise.
      if (n < bytes.length) return this.#sendall(bytes.subarray(n), null, null);
      this.#settled();
    }, (err) => {
      this.#writers--;
      this.#settled();
      throw this.#translate(err, this.#owner);
    });
    this.#lastWrite = sending;
    return sending;
  }

  async #sendall(
    bytes: Uint8Array,
    previous: Promise<unknown> | null,
    timeout: number | null,
  ): Promise<void> {
    this.#writers++;
    try {
      if (previous !== null) await previous.catch(ignore);
      const deadline = timeout === null ? null : performance.now() + timeout * 1000;
      if (this.#stalled !== null) await this.#waitStalled(timeout);
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
    Promise.allSettled([this.#lastWrite, this.#stalled])
      .then(() => this.#conn.closeWrite())
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
          if (this.#stalled === writing) this.#stalled = null;
        }, ignore);
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
      if (!(err instanceof TimeoutError)) this.#stalled = null;
      throw this.#translate(err, this.#owner);
    }
  }
}

function ignore(): void {}

/**
 * The deadline for a write. Deno cannot withdraw a write once started, so a
 * non-blocking send that failed with EAGAIN would still deliver its bytes
 * later and a retry would send them twice: in non-blocking mode writes wait
 * for their count instead, which is always true.
 */
function writeTimeout(timeout: number | null): number | null {
  return timeout === 0 ? null : timeout;
}
