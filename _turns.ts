// Read calls on one socket are served whole and in call order, one at a
// time: a call that checks the buffer, waits and then takes (a header, then
// its payload) never finds that a call made after it took the bytes in
// between. asyncio raises RuntimeError for a second concurrent reader;
// pysock queues it instead, since unawaited calls are common in TypeScript.

import { clearTimer, setTimer } from "./_timer.ts";
import { BlockingIOError, TimeoutError } from "./errors.ts";

/**
 * The turn of read calls. A base class rather than a field, so that a
 * socket's read buffer carries it without an object of its own (an idle
 * server with 10,000 connections holds 10,000 of them).
 */
export class Turns {
  #busy = false;
  #queue: (() => void)[] | null = null;

  /** Whether a read call is in progress: buffered bytes are then its to take, not a new call's. */
  protected get busy(): boolean {
    return this.#busy;
  }

  /** Marks the turn taken by a caller that found it free. */
  protected claimTurn(): void {
    this.#busy = true;
  }

  /**
   * Takes the turn: at once when no read call is in progress (returns
   * `null`), else once every call made before has released it.
   * @throws {TimeoutError} when the turn does not come within `timeout`
   *   ({BlockingIOError} for a timeout of 0), or the reason of an aborted
   *   `signal`; the turn is not taken.
   */
  protected takeTurn(timeout: number | null, signal?: AbortSignal): Promise<void> | null {
    if (!this.#busy) {
      this.#busy = true;
      return null;
    }
    if (timeout === 0) return Promise.reject(new BlockingIOError());
    return new Promise((resolve, reject) => {
      const queue = this.#queue ??= [];
      if (timeout === null && signal === undefined) {
        queue.push(() => resolve());
        return;
      }
      // A call that gives up leaves the queue, so its turn never comes.
      const giveUp = (err: unknown) => {
        queue.splice(queue.indexOf(go), 1);
        clearTimer(timer);
        signal?.removeEventListener("abort", onAbort);
        reject(err);
      };
      const onAbort = () => giveUp(signal!.reason);
      const timer = timeout === null
        ? undefined
        : setTimer(() => giveUp(new TimeoutError()), timeout * 1000);
      const go = () => {
        clearTimer(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      queue.push(go);
    });
  }

  /** Ends the caller's turn: the next call waiting, if any, takes it. */
  protected releaseTurn(): void {
    const next = this.#queue?.shift();
    if (next === undefined) this.#busy = false;
    else next();
  }
}
