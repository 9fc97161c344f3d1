// A kept operation: the one read or receive in flight on a resource, kept
// across the timeouts of the calls that wait for it.
//
// Deno cannot cancel a pending `conn.read` or `DatagramConn.receive`
// (denoland/deno#10181, #13688): a call that times out must leave its
// operation running, and whatever it brings belongs to the next call. Until
// then nobody awaits it, so it must not keep the process alive (Python
// would exit there), and its failure must not surface as an unhandled
// rejection. This class keeps that bookkeeping in one place: which
// operation is in flight, how many calls wait for it, and whether the
// resource is unref'd because nobody does.
//
// The protocol, for a caller that receives:
//
//   const op = kept.pending ?? kept.start(resource.receive());
//   const result = await kept.wait(op, deadline);   // or enter() ... leave()
//   if (!kept.claim(op)) retry;                       // another caller took it
//   use(result);
//
// A call on the hot path, which must not spend an async frame, does the same
// by hand: `enter()` before it attaches to the operation, then exactly one
// of `leave()` (the operation settled) or `abandon(op)` (the call gave up).
// `release()` unrefs at once, for a resource whose pending result nobody
// will wait for again (a stream shut down for reading).

import { inOrder, remaining, waitFor } from "./_base.ts";
import { BlockingIOError, TimeoutError } from "./errors.ts";

/**
 * A resource whose pending operation can stop keeping the process alive:
 * `Deno.Conn`, and `Deno.DatagramConn`, whose `ref`/`unref` (UDP ref/unref
 * came with denoland/deno#21777, for node:dgram) Deno's type declarations
 * omit.
 */
export interface Referable {
  /** Lets the pending operation keep the process alive again. */
  ref?(): void;
  /** Stops the pending operation from keeping the process alive. */
  unref?(): void;
}

/** The one operation in flight on a resource, shared by the calls that wait for it. */
export class Kept<T> {
  #resource: Referable;
  #op: Promise<T> | null = null;
  #waiting = 0;
  #unrefed = false;
  // The kept operation's rejection is marked handled: once per operation,
  // not once per timed-out call, or a loop of timeouts on an idle resource
  // would attach a reaction per call to a promise that stays pending.
  #handled = false;

  /** @param resource What to unref while nobody waits, and ref again when someone does. */
  constructor(resource: Referable) {
    this.#resource = resource;
  }

  /** The operation in flight, or settled but not yet claimed; `null` when there is none. */
  get pending(): Promise<T> | null {
    return this.#op;
  }

  /** How many calls wait for the pending operation. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Whether the resource is unref'd: an operation is kept and nobody waits for it. */
  get unrefed(): boolean {
    return this.#unrefed;
  }

  /** Records `op` as the operation in flight; returns it. */
  start(op: Promise<T>): Promise<T> {
    this.#op = op;
    this.#handled = false;
    return op;
  }

  /**
   * Claims the outcome of `op` for the calling waiter.
   * @returns `true`, and forgets the operation, when `op` is still the
   *   kept one; `false` when another waiter claimed it first.
   */
  claim(op: Promise<T>): boolean {
    if (this.#op !== op) return false;
    this.#op = null;
    return true;
  }

  /** Forgets the pending operation: it failed for good, or the resource closed. */
  clear(): void {
    this.#op = null;
  }

  /** A call starts waiting: counted, and the resource ref'd again if nobody was waiting. */
  enter(): void {
    this.#waiting++;
    if (!this.#unrefed) return;
    this.#unrefed = false;
    this.#resource.ref?.();
  }

  /** A call stops waiting because the operation settled. */
  leave(): void {
    this.#waiting--;
  }

  /**
   * A call stops waiting before `op` settled (its timeout passed). `op` is
   * kept for the next call; until one waits, its rejection is marked
   * handled and, with no other waiter, the resource is unref'd.
   */
  abandon(op: Promise<T>): void {
    if (op === this.#op && !this.#handled) {
      this.#handled = true;
      op.catch(ignore);
    }
    if (--this.#waiting === 0) this.release();
  }

  /**
   * Unrefs the resource while an operation is pending: nobody waits for it
   * now (what it brings is kept, or dropped after a shutdown). The next
   * {@linkcode enter} refs it again.
   */
  release(): void {
    if (this.#op === null || this.#unrefed) return;
    this.#unrefed = true;
    this.#resource.unref?.();
  }

  /**
   * Waits for `op` until `deadline` (from `toDeadline`: `null` waits
   * forever, `0` is non-blocking), as {@linkcode waitFor} does. A timeout
   * keeps `op` (see {@linkcode abandon}); nothing it brings is lost. So
   * does an aborted `signal`, which rejects with its reason.
   * @throws {TimeoutError} past the deadline ({BlockingIOError} for 0);
   *   otherwise what `op` rejects with.
   */
  async wait(op: Promise<T>, deadline: number | null, signal?: AbortSignal): Promise<T> {
    // With other calls waiting already, this one queues behind them (as
    // the kernel wakes waiters first in, first out): a plain await of `op`
    // would resume before a call waiting through waitFor, and take what
    // `op` brings from a call that has waited longer.
    const behind = this.#waiting > 0;
    this.enter();
    let result: T;
    try {
      result = deadline === null && signal === undefined
        ? await (behind ? inOrder(op) : op)
        : await waitFor(op, remaining(deadline), signal);
    } catch (err) {
      const gaveUp = err instanceof TimeoutError || err instanceof BlockingIOError ||
        (signal?.aborted && err === signal.reason);
      if (gaveUp) this.abandon(op);
      else this.leave();
      throw err;
    }
    this.leave();
    return result;
  }
}

function ignore(): void {}
