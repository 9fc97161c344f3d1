// The selector: registrations keyed by descriptor, a ready set fed by the
// sockets' hubs (see _ready.ts), and select() re-checking only that set.

import { describe } from "./_address.ts";
import {
  CLOSED,
  type Entry,
  filenoOf,
  type FileObject,
  type Hub,
  hubOf,
  READ,
  startedWithin,
  watchableOf,
  WRITE,
} from "./_ready.ts";
import { errno, OSError } from "./errors.ts";
import { clearTimer, setTimer } from "./_timer.ts";

/** Wait for a registered socket to become readable. */
export const EVENT_READ = 1;
/** Wait for a registered socket to become writable. */
export const EVENT_WRITE = 2;

/**
 * Python's `KeyError`, raised by selectors for a file object registered
 * twice, or one that is not registered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DefaultSelector, KeyError } from "./selectors.ts";
 * using sel = new DefaultSelector();
 * assert.throws(() => sel.unregister(42), KeyError);
 * ```
 */
export class KeyError extends Error {
  /** `"KeyError"`. */
  override get name(): string {
    return "KeyError";
  }
}

/**
 * What a selector's select() does with a registered socket that closed:
 * `"drop"` it as epoll does (DefaultSelector), `"fail"` with EBADF as
 * select(2) does (select.select()'s own selector), or `"report"` it with
 * `CLOSED` for poll()'s POLLNVAL (see _select.ts).
 */
export const kOnClosed: unique symbol = Symbol("pysock.onClosed");

/**
 * Python's `RuntimeError`, raised for a call on a closed selector and for a
 * second `select()` while one is still waiting on the same selector.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DefaultSelector, RuntimeError } from "./selectors.ts";
 * const sel = new DefaultSelector();
 * sel.close();
 * await assert.rejects(sel.select(0), RuntimeError);
 * ```
 */
export class RuntimeError extends Error {
  /** `"RuntimeError"`. */
  override get name(): string {
    return "RuntimeError";
  }
}

/**
 * A registration: the file object, its descriptor, the events waited for
 * and the caller's data (Python's `SelectorKey` named tuple). Keys are
 * immutable: `modify` returns a new one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { DefaultSelector, EVENT_READ } from "./selectors.ts";
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * using sel = new DefaultSelector<string>();
 * const key = sel.register(a, EVENT_READ, "session 1");
 * assert.equal(key.fd, a.fileno());
 * assert.equal(key.data, "session 1");
 * ```
 */
export class SelectorKey<T = unknown, F extends FileObject = FileObject> {
  /** The file object registered (a socket, or its `fileno()`). */
  readonly fileobj: F;
  /** Its descriptor: the socket's `fileno()`. */
  readonly fd: number;
  /** The events waited for: `EVENT_READ`, `EVENT_WRITE` or both. */
  readonly events: number;
  /** The caller's data, such as a callback or a session. */
  readonly data: T;

  /**
   * Not for direct use: `register` and `modify` make keys.
   *
   * @param fileobj The file object.
   * @param fd Its descriptor.
   * @param events The events.
   * @param data The caller's data.
   */
  constructor(fileobj: F, fd: number, events: number, data: T) {
    this.fileobj = fileobj;
    this.fd = fd;
    this.events = events;
    this.data = data;
  }
}

/** One registered socket: told by the socket's hub when it may be ready. */
class Registration<T, F extends FileObject> implements Entry {
  key: SelectorKey<T, F>;
  readonly hub: Hub;
  readonly #ready: Set<Registration<T, F>>;
  readonly #notify: () => void;

  constructor(
    key: SelectorKey<T, F>,
    hub: Hub,
    ready: Set<Registration<T, F>>,
    notify: () => void,
  ) {
    this.key = key;
    this.hub = hub;
    this.#ready = ready;
    this.#notify = notify;
  }

  get events(): number {
    return this.key.events;
  }

  wake(): void {
    this.#ready.add(this);
    this.#notify();
  }
}

/**
 * The read-only mapping of a selector's registrations that `getMap()`
 * returns, keyed by descriptor; `get` and `has` also take the file object,
 * as Python's mapping does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { DefaultSelector, EVENT_READ } from "./selectors.ts";
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * using sel = new DefaultSelector();
 * const key = sel.register(a, EVENT_READ);
 * const map = sel.getMap();
 * assert.equal(map.get(a), key);
 * assert.deepEqual([...map.keys()], [a.fileno()]);
 * ```
 */
export class SelectorMapping<T = unknown, F extends FileObject = FileObject>
  implements ReadonlyMap<number, SelectorKey<T, F>> {
  readonly #byFd: Map<number, Registration<T, F>>;

  /**
   * Not for direct use: `getMap()` returns the selector's mapping.
   *
   * @param byFd The selector's registrations.
   */
  constructor(byFd: Map<number, Registration<T, F>>) {
    this.#byFd = byFd;
  }

  /** How many file objects are registered. */
  get size(): number {
    return this.#byFd.size;
  }

  /**
   * The key of a file object or descriptor.
   *
   * @param fileobj A file object or descriptor.
   * @returns Its key, or `undefined` when not registered.
   */
  get(fileobj: FileObject): SelectorKey<T, F> | undefined {
    return lookup(this.#byFd, fileobj)?.key;
  }

  /**
   * Whether a file object or descriptor is registered.
   *
   * @param fileobj A file object or descriptor.
   * @returns `true` when registered.
   */
  has(fileobj: FileObject): boolean {
    return lookup(this.#byFd, fileobj) !== undefined;
  }

  /** The registered descriptors. */
  keys(): MapIterator<number> {
    return this.#byFd.keys();
  }

  /** The keys. */
  *values(): MapIterator<SelectorKey<T, F>> {
    for (const registration of this.#byFd.values()) yield registration.key;
  }

  /** `[descriptor, key]` pairs. */
  *entries(): MapIterator<[number, SelectorKey<T, F>]> {
    for (const [fd, registration] of this.#byFd) yield [fd, registration.key];
  }

  /** `[descriptor, key]` pairs, as a `Map` iterates. */
  [Symbol.iterator](): MapIterator<[number, SelectorKey<T, F>]> {
    return this.entries();
  }

  /**
   * Calls `callback` with each key and descriptor.
   *
   * @param callback Called as `Map.prototype.forEach` calls it.
   */
  forEach(
    callback: (
      key: SelectorKey<T, F>,
      fd: number,
      map: ReadonlyMap<number, SelectorKey<T, F>>,
    ) => void,
  ): void {
    for (const [fd, registration] of this.#byFd) callback(registration.key, fd, this);
  }
}

// The registration of `fileobj`: by its descriptor, or (a closed socket,
// whose fileno() is -1) by identity, as Python's _fileobj_lookup searches.
function lookup<T, F extends FileObject>(
  byFd: Map<number, Registration<T, F>>,
  fileobj: unknown,
): Registration<T, F> | undefined {
  let fd: number;
  try {
    fd = filenoOf(fileobj);
  } catch {
    for (const registration of byFd.values()) {
      if (registration.key.fileobj === fileobj) return registration;
    }
    return undefined;
  }
  return byFd.get(fd);
}

/**
 * Python's `selectors.DefaultSelector`. The type parameters are the data
 * attached to each key and the kind of file object registered, so that
 * `key.data` and `key.fileobj` come back typed.
 *
 * @example Wait until a socket is readable
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { DefaultSelector, EVENT_READ } from "./selectors.ts";
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * using sel = new DefaultSelector();
 * sel.register(b, EVENT_READ);
 * assert.deepEqual(await sel.select(0), []);
 * await a.sendall("ping");
 * const [[key, events]] = await sel.select();
 * assert.ok(key.fileobj === b && events === EVENT_READ);
 * b.setblocking(false);
 * assert.equal(new TextDecoder().decode(await b.recv(10)), "ping");
 * ```
 */
export class DefaultSelector<T = unknown, F extends FileObject = FileObject> {
  /** @ignore Internal: what select() does with a socket closed while registered. */
  [kOnClosed]: "drop" | "fail" | "report" = "drop";
  readonly #byFd = new Map<number, Registration<T, F>>();
  // Registrations told they may be ready and not yet found idle: the only
  // ones select() looks at.
  readonly #ready = new Set<Registration<T, F>>();
  readonly #map: SelectorMapping<T, F> = new SelectorMapping(this.#byFd);
  #waiter: (() => void) | null = null;
  #keepAlive: ReturnType<typeof setInterval> | null = null;
  #selecting = false;
  #closed = false;
  readonly #notify = (): void => {
    const waiter = this.#waiter;
    if (waiter === null) return;
    this.#waiter = null;
    waiter();
  };

  /**
   * Registers a file object for `events`.
   *
   * @param fileobj A pysock socket (stream, listening or datagram), its
   *   `fileno()`, or an object whose `fileno()` returns one.
   * @param events `EVENT_READ`, `EVENT_WRITE`, or both (`|`).
   * @param data Anything to get back in the key.
   * @returns The new key.
   * @throws {RangeError} for events other than those (Python's ValueError),
   *   or a negative descriptor such as a closed socket's.
   * @throws {TypeError} for an object without `fileno()`.
   * @throws {KeyError} when the descriptor is already registered.
   * @throws {OSError} `EBADF` for a number that is no open pysock socket's.
   */
  register(fileobj: F, events: number, data?: T): SelectorKey<T, F> {
    this.#checkOpen();
    checkEvents(events);
    const fd = filenoOf(fileobj);
    if (this.#byFd.has(fd)) {
      throw new KeyError(`${reprOf(fileobj)} (FD ${fd}) is already registered`);
    }
    const key = new SelectorKey(fileobj, fd, events, data as T);
    const hub = hubOf(watchableOf(fileobj, fd));
    const registration = new Registration(key, hub, this.#ready, this.#notify);
    this.#byFd.set(fd, registration);
    if ((hub.add(registration) & events) !== 0) registration.wake();
    return key;
  }

  /**
   * Unregisters a file object; it may have been closed since.
   *
   * @param fileobj What was registered, or its descriptor.
   * @returns Its key.
   * @throws {KeyError} when it is not registered.
   * @throws {RangeError} for a closed socket that is not registered
   *   (Python's ValueError).
   */
  unregister(fileobj: FileObject): SelectorKey<T, F> {
    const registration = this.#registration(fileobj);
    this.#byFd.delete(registration.key.fd);
    this.#ready.delete(registration);
    registration.hub.remove(registration);
    return registration.key;
  }

  /**
   * Changes the events or the data of a registration (omitting `data`
   * sets it to `undefined`, as Python's `None`).
   *
   * @param fileobj What was registered, or its descriptor.
   * @param events The new events.
   * @param data The new data.
   * @returns The new key (the same key when nothing changed).
   * @throws {KeyError} when it is not registered.
   * @throws {RangeError} for invalid events.
   * @throws {OSError} `EBADF` when the socket was closed and the events
   *   change; the registration is dropped, as CPython's EpollSelector does.
   */
  modify(fileobj: FileObject, events: number, data?: T): SelectorKey<T, F> {
    this.#checkOpen();
    const registration = this.#registration(fileobj);
    checkEvents(events);
    const old = registration.key;
    if (events === old.events && data === old.data) return old;
    if (events !== old.events && registration.hub.socket.fileno() === -1) {
      // CPython's EpollSelector: epoll_ctl fails on the closed descriptor,
      // and the key is dropped before the error is raised.
      this.unregister(fileobj);
      throw new OSError(errno.EBADF);
    }
    registration.key = new SelectorKey(old.fileobj, old.fd, events, data as T);
    if (events !== old.events) {
      this.#ready.delete(registration);
      if ((registration.hub.check(events) & events) !== 0) registration.wake();
    }
    return registration.key;
  }

  /**
   * Waits until registered sockets are ready, or `timeout` seconds pass.
   *
   * @param timeout Seconds; `null` or omitted waits as long as it takes;
   *   0 or less only looks at what is ready now.
   * @returns `[key, events]` for each ready socket (`events` being those of
   *   its key that are ready); empty on timeout.
   * @throws {RuntimeError} on a closed selector, or while another
   *   `select()` on this selector is waiting.
   */
  async select(timeout?: number | null): Promise<[SelectorKey<T, F>, number][]> {
    this.#checkOpen();
    const wait = checkTimeout(timeout);
    if (this.#selecting) {
      throw new RuntimeError("Cannot select: another select() on this selector is waiting");
    }
    this.#selecting = true;
    try {
      // A turn of the event loop before returning without a wait (or
      // polling): reads that landed meanwhile count, and a loop of selects
      // that always find a socket ready cannot starve the other I/O.
      if (wait === 0) {
        // The first look starts a read on each socket not ready (one a
        // call drained since the last select), for the settle to see land.
        this.#collect();
        await this.#settle(true);
        return this.#collect();
      }
      let ready = this.#collect();
      if (ready.length > 0) {
        await this.#settle();
        ready = this.#collect();
        if (ready.length > 0) return ready;
      }
      const deadline = wait === null ? null : performance.now() + wait * 1000;
      while (!this.#closed) {
        const left = deadline === null ? null : deadline - performance.now();
        if (left !== null && left <= 0) break;
        await this.#sleep(left);
        ready = this.#collect();
        if (ready.length > 0) return ready;
      }
      return [];
    } finally {
      this.#selecting = false;
    }
  }

  /**
   * The key of a registered file object.
   *
   * @param fileobj What was registered, or its descriptor.
   * @returns Its key.
   * @throws {KeyError} when it is not registered.
   * @throws {RuntimeError} on a closed selector.
   */
  getKey(fileobj: FileObject): SelectorKey<T, F> {
    this.#checkOpen();
    return this.#registration(fileobj).key;
  }

  /**
   * The registrations, as a read-only mapping that follows later changes.
   *
   * @returns The mapping (empty once the selector is closed).
   */
  getMap(): SelectorMapping<T, F> {
    return this.#map;
  }

  /** Unregisters everything; later calls fail with {@linkcode RuntimeError}. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const registration of this.#byFd.values()) registration.hub.remove(registration);
    this.#byFd.clear();
    this.#ready.clear();
    this.#notify();
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
  }

  /** Closes the selector at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Re-checks the registrations told they may be ready; those found idle leave the set. */
  #collect(): [SelectorKey<T, F>, number][] {
    const out: [SelectorKey<T, F>, number][] = [];
    for (const registration of this.#ready) {
      const events = registration.key.events;
      const got = registration.hub.check(events);
      if ((got & CLOSED) !== 0 && this[kOnClosed] !== "drop") {
        if (this[kOnClosed] === "fail") {
          throw new OSError(errno.EBADF, { detail: "a socket was closed during select()" });
        }
        out.push([registration.key, CLOSED]);
        continue;
      }
      const ready = got & events;
      if (ready !== 0) out.push([registration.key, ready]);
      else this.#ready.delete(registration);
    }
    return out;
  }

  /**
   * Until a wake or two timer turns: bytes (or a connection) already in the
   * kernel land within them, as a non-blocking call waits for them (waitFor
   * in _base.ts), so they count as ready in this select, as in CPython.
   * Deno polls the kernel only while its event loop waits, which no other
   * turn makes it do. A poll (`always`) settles so; a select that found a
   * socket ready only when a read, accept or receive started in the last few
   * ms (a socket just registered), else after one cheap turn: a loop of
   * selects that always find a socket ready must not wait in each.
   */
  #settle(always = false): Promise<void> {
    if (!always && !startedWithin(SETTLE_MS)) return nextTurn();
    return new Promise((resolve) => {
      let timer = setTimeout(() => timer = setTimeout(done, 0), 0);
      const done = () => {
        clearTimeout(timer);
        this.#waiter = null;
        resolve();
      };
      this.#waiter = done;
    });
  }

  /**
   * Waits for a wake or `ms`. `null` waits indefinitely and keeps the
   * process alive, as Python's select does (the kept reads it waits on do
   * not), with one long timer per selector ref'd only while it waits.
   */
  #sleep(ms: number | null): Promise<void> {
    if (ms === null) {
      const keepAlive = this.#keepAlive ??= setInterval(ignore, MAX_DELAY);
      Deno.refTimer(keepAlive);
      return new Promise((resolve) => {
        this.#waiter = () => {
          Deno.unrefTimer(keepAlive);
          resolve();
        };
      });
    }
    return new Promise((resolve) => {
      // setTimer: a select timeout past 24.8 days would fire after 1 ms
      // with setTimeout, and the select loop would spin.
      const timer = setTimer(() => {
        this.#waiter = null;
        resolve();
      }, Math.ceil(ms));
      this.#waiter = () => {
        clearTimer(timer);
        resolve();
      };
    });
  }

  #registration(fileobj: FileObject): Registration<T, F> {
    const registration = lookup(this.#byFd, fileobj);
    if (registration !== undefined) return registration;
    // A negative descriptor (a closed socket's -1) not registered by
    // identity: Python's ValueError, as _fileobj_lookup raises it.
    const fileno = typeof fileobj === "object" && fileobj !== null
      ? (fileobj as { fileno?: unknown }).fileno
      : null;
    const fd = typeof fileno === "function" ? fileno.call(fileobj) : fileobj;
    if (typeof fd === "number" && fd < 0) throw new RangeError(`Invalid file descriptor: ${fd}`);
    // No object and no number (null, a string): _fileobj_to_fd's ValueError.
    // (An object without fileno() may be a file CPython would know: KeyError.)
    if (typeof fd !== "number" && (typeof fd !== "object" || fd === null)) {
      throw new RangeError(`Invalid file object: ${describe(fileobj)}`);
    }
    throw new KeyError(`${reprOf(fileobj)} is not registered`);
  }

  #checkOpen(): void {
    if (this.#closed) throw new RuntimeError("Selector is closed");
  }
}

// How recent a watch's start makes select() settle (see #settle).
const SETTLE_MS = 10;
// The longest delay setTimeout takes (about 24.8 days).
const MAX_DELAY = 2 ** 31 - 1;

function ignore(): void {}

// node:timers' setImmediate, loaded by the first nextTurn() (see _node.ts).
let immediate: ((callback: () => void) => unknown) | undefined;

/** Resolves after one turn of the event loop (`setImmediate`, so no timer clamping). */
export async function nextTurn(): Promise<void> {
  immediate ??= (await import("node:timers")).setImmediate;
  const next = immediate;
  return await new Promise((resolve) => next(resolve));
}

/**
 * A select timeout in seconds: `null` to block, 0 to poll (Python treats
 * anything at or below 0 so). NaN (CPython's ValueError) and the infinities
 * (its OverflowError) are RangeErrors: `null` is the way to wait for ever.
 */
export function checkTimeout(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  if (typeof timeout !== "number") {
    throw new TypeError(`Cannot select: timeout must be seconds or null, got ${describe(timeout)}`);
  }
  if (!Number.isFinite(timeout)) {
    throw new RangeError(
      `Cannot select: timeout must be a finite number of seconds, got ${timeout}`,
    );
  }
  return Math.max(timeout, 0);
}

function checkEvents(events: unknown): void {
  if (typeof events !== "number" || !Number.isInteger(events)) {
    throw new TypeError(`Invalid events: ${describe(events)}`);
  }
  // Compared as numbers, not with `&`: bit operators keep the low 32 bits,
  // and 2 ** 32 + 1 would pass as EVENT_READ.
  if (events < READ || events > (READ | WRITE)) {
    throw new RangeError(`Invalid events: ${events}`);
  }
}

// How Python's messages show a file object: its repr where it has one.
function reprOf(fileobj: unknown): string {
  if (
    typeof fileobj === "object" && fileobj !== null &&
    fileobj.toString !== Object.prototype.toString
  ) {
    return String(fileobj);
  }
  return describe(fileobj);
}
