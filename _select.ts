// Python's select module over the selector: select.select(), a one-shot
// wait on lists of sockets, and select.poll(), a registry of descriptors
// polled with a timeout in milliseconds. Both cost the sockets they are
// given on every call, as the system calls they are named after do; for
// many sockets use DefaultSelector, whose select() costs the ready few.

import { describe } from "./_address.ts";
import {
  CLOSED,
  filenoOf,
  type FileObject,
  READ,
  type Watchable,
  watchableOf,
  WRITE,
} from "./_ready.ts";
import { DefaultSelector, KeyError, kOnClosed } from "./_selector.ts";
import { errno, OSError } from "./errors.ts";

/**
 * Python's `select.select`: waits until some of `rlist` are readable or
 * some of `wlist` writable, or `timeout` seconds pass.
 *
 * @param rlist Sockets (or their `fileno()`) to wait for reading: a
 *   listening socket is readable when a connection waits.
 * @param wlist Sockets to wait for writing.
 * @param xlist Sockets to wait for an exceptional condition; Deno has no
 *   out-of-band data, so none is ever reported.
 * @param timeout Seconds; `null` or omitted waits as long as it takes, 0 polls.
 * @returns The ready subsets of the three lists, in their order.
 * @throws {TypeError} for an object without `fileno()`.
 * @throws {RangeError} for a negative timeout or descriptor (a closed socket's -1).
 * @throws {OSError} `EBADF` for a number that is no open pysock socket's.
 *
 * @example A server that waits for whichever client speaks first
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { select } from "./selectors.ts";
 * const [a, b] = await socketpair();
 * const [c, d] = await socketpair();
 * await using _a = a, _b = b, _c = c, _d = d;
 * await c.sendall("me first");
 * const [readable, writable, exceptional] = await select([b, d], [], [], 5);
 * assert.deepEqual(readable, [d]);
 * assert.deepEqual(writable, []);
 * assert.deepEqual(exceptional, []);
 * ```
 */
export async function select<R extends FileObject, W extends FileObject, X extends FileObject>(
  rlist: Iterable<R>,
  wlist: Iterable<W>,
  xlist: Iterable<X>,
  timeout?: number | null,
): Promise<[R[], W[], X[]]> {
  if (typeof timeout === "number" && timeout < 0) {
    throw new RangeError(`Cannot select: timeout must be non-negative, got ${timeout}`);
  }
  const reads = descriptors(rlist);
  const writes = descriptors(wlist);
  const exceptional = descriptors(xlist);
  // By descriptor: each object's fileno() is called once, as Python does
  // (the selector is given the number, not the object, to call it again).
  const wanted = new Map<number, number>();
  const want = (list: [FileObject, number][], event: number) => {
    for (const [, fd] of list) wanted.set(fd, (wanted.get(fd) ?? 0) | event);
  };
  want(reads, READ);
  want(writes, WRITE);
  for (const [fileobj, fd] of exceptional) watchableOf(fileobj, fd);
  using sel = new DefaultSelector();
  // A socket closed while select() waits (a Ctrl-C handler closing the
  // server's sockets) ends the wait with EBADF, as select(2) reports a
  // descriptor that is not open; the pending call settles, none hangs.
  sel[kOnClosed] = "fail";
  for (const [fd, events] of wanted) sel.register(fd, events);
  const ready = new Map<number, number>();
  for (const [key, events] of await sel.select(timeout)) ready.set(key.fd, events);
  const pick = <T>(list: [T, number][], event: number) =>
    list.filter(([, fd]) => ((ready.get(fd) ?? 0) & event) !== 0).map(([fileobj]) => fileobj);
  return [pick(reads, READ), pick(writes, WRITE), []];
}

// Each object with its descriptor, checked before anything waits, as
// Python converts every list first.
function descriptors<T>(list: Iterable<T>): [T, number][] {
  if (typeof (list as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== "function") {
    throw new TypeError(`Cannot select: arguments 1-3 must be sequences, got ${describe(list)}`);
  }
  const out: [T, number][] = [];
  for (const fileobj of list) {
    const fd = filenoOf(fileobj);
    watchableOf(fileobj, fd);
    out.push([fileobj, fd]);
  }
  return out;
}

/** `poll` event: there is data to read (or end of stream, or a connection to accept). */
export const POLLIN = 0x001;
/** `poll` event: urgent data; Deno has none, so it is never reported. */
export const POLLPRI = 0x002;
/** `poll` event: a send would not wait. */
export const POLLOUT = 0x004;
/** `poll` event: an error condition; pysock reports errors as readable instead. */
export const POLLERR = 0x008;
/** `poll` event: hung up; pysock reports end of stream as `POLLIN`. */
export const POLLHUP = 0x010;
/** `poll` event: the descriptor is not open (the socket was closed). */
export const POLLNVAL = 0x020;

/** Python's `select.poll` object: see {@linkcode poll}. */
export interface Poll {
  /**
   * Watches `fd` for `eventmask`, or changes its mask when already watched.
   *
   * @param fd A socket or its `fileno()`.
   * @param eventmask `POLLIN`, `POLLPRI`, `POLLOUT` ored; all three by default.
   */
  register(fd: FileObject, eventmask?: number): void;
  /**
   * Changes the mask of a watched descriptor.
   *
   * @param fd A socket or its `fileno()`.
   * @param eventmask The new mask.
   * @throws {OSError} `ENOENT` when `fd` is not registered, as in Python.
   */
  modify(fd: FileObject, eventmask: number): void;
  /**
   * Stops watching `fd`.
   *
   * @param fd A socket or its `fileno()`.
   * @throws {KeyError} when it is not registered.
   */
  unregister(fd: FileObject): void;
  /**
   * Waits for events.
   *
   * @param timeout Milliseconds; `null`, omitted or negative waits as long as it takes.
   * @returns `[fd, events]` for each descriptor with events.
   */
  poll(timeout?: number | null): Promise<[number, number][]>;
}

/**
 * Python's `select.poll()`: a set of descriptors to wait on, with a timeout
 * in milliseconds. Each `poll()` looks at every descriptor registered (for
 * `POLLNVAL`), as poll(2) does; `DefaultSelector` scales better.
 *
 * @returns A new poll object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { poll, POLLIN, POLLNVAL } from "./selectors.ts";
 * const [a, b] = await socketpair();
 * await using _a = a;
 * const p = poll();
 * p.register(b, POLLIN);
 * const fd = b.fileno();
 * assert.deepEqual(await p.poll(0), []);
 * await a.sendall("x");
 * assert.deepEqual(await p.poll(5000), [[fd, POLLIN]]);
 * b.close();
 * assert.deepEqual(await p.poll(0), [[fd, POLLNVAL]]);
 * ```
 */
export function poll(): Poll {
  return new PollObject();
}

class PollObject implements Poll {
  // The selector waits on the descriptors whose masks ask for IN or OUT;
  // #masks holds every registered descriptor, for POLLNVAL.
  #selector = new DefaultSelector<number>();
  #masks = new Map<number, { fileobj: Watchable; mask: number }>();

  constructor() {
    // A socket closed while poll() waits ends the wait with POLLNVAL for it.
    this.#selector[kOnClosed] = "report";
  }

  register(fd: FileObject, eventmask: number = POLLIN | POLLPRI | POLLOUT): void {
    checkMask(eventmask);
    const number = filenoOf(fd);
    const watchable = watchableOf(fd, number);
    this.#masks.set(number, { fileobj: watchable, mask: eventmask });
    if (this.#selector.getMap().has(number)) this.#selector.unregister(number);
    const events = selectorEvents(eventmask);
    if (events !== 0) this.#selector.register(watchable, events);
  }

  modify(fd: FileObject, eventmask: number): void {
    const number = filenoOf(fd);
    if (!this.#masks.has(number)) throw new OSError(errno.ENOENT);
    this.register(fd, eventmask);
  }

  unregister(fd: FileObject): void {
    const number = typeof fd === "number" ? fd : filenoOf(fd);
    if (!this.#masks.delete(number)) throw new KeyError(`${describe(fd)} is not registered`);
    if (this.#selector.getMap().has(number)) this.#selector.unregister(number);
  }

  async poll(timeout?: number | null): Promise<[number, number][]> {
    if (timeout !== undefined && timeout !== null && typeof timeout !== "number") {
      throw new TypeError(
        `Cannot poll: timeout must be milliseconds or null, got ${describe(timeout)}`,
      );
    }
    if (typeof timeout === "number" && !Number.isFinite(timeout)) {
      // CPython: ValueError for NaN, OverflowError for an infinity.
      throw new RangeError(
        `Cannot poll: timeout must be a finite number of milliseconds, got ${timeout}`,
      );
    }
    const closed = this.#closed();
    if (closed.length > 0) return closed;
    // A negative timeout waits for ever, as poll(2)'s.
    const seconds = timeout === undefined || timeout === null || timeout < 0
      ? null
      : timeout / 1000;
    const out: [number, number][] = [];
    for (const [key, events] of await this.#selector.select(seconds)) {
      if (events & CLOSED) continue;
      let revents = 0;
      if (events & READ) revents |= POLLIN;
      if (events & WRITE) revents |= POLLOUT;
      out.push([key.fd, revents & this.#masks.get(key.fd)!.mask]);
    }
    // Closed during the wait (it ended then, or at the timeout as Linux's
    // poll(2) ends with POLLNVAL for a descriptor closed under it).
    return out.concat(this.#closed());
  }

  // POLLNVAL for each registered socket that is closed.
  #closed(): [number, number][] {
    const closed: [number, number][] = [];
    for (const [fd, { fileobj }] of this.#masks) {
      if (fileobj.fileno() === -1) closed.push([fd, POLLNVAL]);
    }
    return closed;
  }
}

function checkMask(mask: unknown): void {
  if (typeof mask !== "number" || !Number.isInteger(mask)) {
    throw new TypeError(`Cannot register: eventmask must be an integer, got ${describe(mask)}`);
  }
  if (mask < 0 || mask > 0xffff) {
    throw new RangeError(`Cannot register: eventmask must be 0-65535, got ${mask}`);
  }
}

// POLLPRI waits for urgent data, which Deno never has: it is no READ, or a
// POLLPRI-only registration would wake on plain bytes and report no event.
function selectorEvents(mask: number): number {
  return ((mask & POLLIN) !== 0 ? READ : 0) | ((mask & POLLOUT) !== 0 ? WRITE : 0);
}
