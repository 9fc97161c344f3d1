// What stream and datagram sockets share: identity, timeouts, the fake
// descriptor, closing and disposal. Mirrors the part of CPython's
// socket object that does not depend on the socket type.

import { type Address, describe } from "./_address.ts";
import { checkAttached } from "./_bytes.ts";
import { type Described, kDenoInspect, kNodeInspect, socketRepr } from "./_repr.ts";
import { AF_INET6, AF_UNIX, SHUT_RD, SHUT_RDWR, SHUT_WR } from "./_constants.ts";
import { optionName } from "./_option_names.ts";
import { BlockingIOError, errno, OSError, TimeoutError } from "./errors.ts";
import { clearTimer, setTimer } from "./_timer.ts";

let defaultTimeout: number | null = null;

// The longest timeout CPython takes: its clock counts int64 nanoseconds, so
// settimeout(9223372037) is an OverflowError there.
const MAX_TIMEOUT = 9223372036.854775;

/**
 * Checks a timeout as Python's `settimeout` does: NaN (Python's ValueError),
 * infinities and more than CPython's int64 nanoseconds (its OverflowError)
 * are out of range, as negatives are; `-0` is `0`.
 * @throws {TypeError} when not a number or null; {RangeError} when out of range.
 */
export function checkTimeout(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "number") {
    throw new TypeError(`Cannot set timeout: expected seconds or null, got ${describe(value)}`);
  }
  if (Number.isNaN(value)) throw new RangeError("Cannot set timeout to NaN: not a number");
  if (value < 0) throw new RangeError(`Cannot set timeout to ${value}: must be non-negative`);
  if (value > MAX_TIMEOUT) {
    throw new RangeError(`Cannot set timeout to ${value}: must be at most ${MAX_TIMEOUT} seconds`);
  }
  return value + 0;
}

/** The timeout new sockets start with (`socket.getdefaulttimeout()`). */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}

/** Sets the timeout new sockets start with (`socket.setdefaulttimeout(s)`). */
export function setdefaulttimeout(timeout: number | null): void {
  defaultTimeout = checkTimeout(timeout);
}

// Deno 2 exposes no OS descriptor; fileno() hands out numbers unique among
// the open sockets of this process, starting above stdio's 0-2 so code that
// tests `fd > 2` still works.
let nextFileno = 3;

// The open sockets whose number fileno() has handed out, so that a selector
// given that number (or an object whose fileno() returns it) finds the
// socket. A socket joins on its first fileno() call, so sockets nobody asks
// cost nothing; close() removes it. Weak: a socket dropped without close()
// is not kept alive by it.
const byFileno = new Map<number, WeakRef<SocketBase>>();
let sweepAt = 1024;

function remember(fd: number, sock: SocketBase): void {
  if (byFileno.has(fd)) return;
  byFileno.set(fd, new WeakRef(sock));
  if (byFileno.size < sweepAt) return;
  for (const [key, ref] of byFileno) if (ref.deref() === undefined) byFileno.delete(key);
  sweepAt = Math.max(1024, byFileno.size * 2);
}

/**
 * The open socket whose `fileno()` returned `fd`, if any.
 *
 * @param fd A number `fileno()` handed out.
 * @returns The socket, or `undefined` when no open socket has that number.
 */
export function socketByFileno(fd: number): SocketBase | undefined {
  return byFileno.get(fd)?.deref();
}

/**
 * Waits for `promise` for at most `timeout` seconds. `null` waits forever and
 * adds nothing (no timer, no extra promise); `0` gives the event loop two
 * timer turns to deliver what is already there, then fails with
 * BlockingIOError. A timer rather than setImmediate: a read that is already
 * parked in Deno's reactor takes a few hundred microseconds to wake when
 * its bytes arrive, and a non-blocking call must still return bytes the
 * kernel holds (measured: ~57 setImmediate turns, well inside one timer).
 * An aborted `signal` ends the wait as a timeout does, with its reason.
 * The promise itself is never cancelled: whoever owns it keeps its result.
 */
export function waitFor<T>(
  promise: Promise<T>,
  timeout: number | null,
  signal?: AbortSignal,
): Promise<T> {
  if (timeout === null && signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const waiting = waitersOf(promise);
    const waiter: Waiter = {
      settle(ok, value) {
        if (timer !== undefined) clearTimer(timer);
        signal?.removeEventListener("abort", onAbort);
        if (ok) resolve(value as T);
        else reject(value);
      },
    };
    // Leaving the promise's list: a call that gave up must not stay
    // attached to a read that may stay pending for as long as the
    // connection lives.
    const onAbort = () => {
      waiting.delete(waiter);
      waiter.settle(false, signal!.reason);
    };
    const expire = () => {
      waiting.delete(waiter);
      signal?.removeEventListener("abort", onAbort);
      reject(timeout === 0 ? new BlockingIOError() : new TimeoutError());
    };
    // Non-blocking: two timer turns, not one. An operation that found its
    // bytes at once can be delivered in the same turn as the first timer
    // but after it (measured under the full suite's load: a datagram sent
    // just before was missed), and must still be returned.
    let timer = timeout === null
      ? undefined
      : timeout === 0
      ? setTimeout(() => timer = setTimeout(expire, 0), 0)
      : setTimer(expire, timeout * 1000);
    signal?.addEventListener("abort", onAbort, { once: true });
    waiting.add(waiter);
  });
}

/**
 * Rejects with the signal's reason if it is already aborted: a call given
 * an aborted signal does nothing, as Deno's and the Web's APIs do.
 */
export function checkSignal(signal: AbortSignal | undefined, action: string): void {
  if (signal === undefined) return;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(`Cannot ${action}: signal must be an AbortSignal, got ${describe(signal)}`);
  }
  signal.throwIfAborted();
}

/**
 * When a call with `timeout` seconds must end: `null` (never) and `0`
 * (non-blocking) stay as they are, so one deadline serves every wait of a call.
 */
export function toDeadline(timeout: number | null): number | null {
  return timeout === null || timeout === 0 ? timeout : performance.now() + timeout * 1000;
}

/**
 * The timeout left until `deadline`, for the next wait of a call.
 * @throws {TimeoutError} once the deadline has passed.
 */
export function remaining(deadline: number | null): number | null {
  if (deadline === null || deadline === 0) return deadline;
  const left = (deadline - performance.now()) / 1000;
  if (left <= 0) throw new TimeoutError();
  return left;
}

/**
 * `promise`, settled in turn with the calls that wait for it through
 * {@linkcode waitFor}: after those that came before, before those after.
 */
export function inOrder<T>(promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    waitersOf(promise).add({
      settle(ok, value) {
        if (ok) resolve(value as T);
        else reject(value);
      },
    });
  });
}

/** A call waiting in {@linkcode waitFor}. */
interface Waiter {
  settle(ok: boolean, value: unknown): void;
}

// Each pending promise gets one reaction, shared by every call that waits on
// it. A reaction per call could not be removed on timeout, so a loop of
// timed-out recv calls on an idle connection would grow memory without end.
const waiters = new WeakMap<Promise<unknown>, Set<Waiter>>();

function waitersOf(promise: Promise<unknown>): Set<Waiter> {
  let waiting = waiters.get(promise);
  if (waiting !== undefined) return waiting;
  const created = new Set<Waiter>();
  waiters.set(promise, created);
  const settle = (ok: boolean, value: unknown) => {
    waiters.delete(promise);
    for (const waiter of created) waiter.settle(ok, value);
  };
  promise.then((value) => settle(true, value), (err) => settle(false, err));
  waiting = created;
  return waiting;
}

/** The error for an option Deno cannot honour, naming it. */
export function unsupportedOption(level: number, optname: number, verb: "set" | "get"): OSError {
  return new OSError(errno.ENOPROTOOPT, {
    detail: `Deno cannot ${verb} ${optionName(level, optname)} on this socket`,
  });
}

/** The options of a call that can be aborted: `connect`, `accept` and the receives. */
export interface AbortOptions {
  /**
   * Ends the call when aborted, as a timeout does: it rejects with the
   * signal's reason and loses no data (bytes that arrive later go to the
   * next call).
   */
  signal?: AbortSignal;
}

/** A value `setsockopt` accepts: an int, a boolean, or packed bytes. */
export type OptionValue = number | boolean | Uint8Array;

/**
 * Checks the arguments of `setsockopt`/`getsockopt`, as Python does first.
 * @throws {TypeError} for a non-integer level or name, or a value of the wrong type.
 */
export function checkOption(level: unknown, optname: unknown, value: unknown): void {
  for (const [name, given] of [["level", level], ["optname", optname]] as const) {
    if (typeof given !== "number" || !Number.isInteger(given)) {
      throw new TypeError(
        `Cannot use socket option: ${name} must be an integer, got ${describe(given)}`,
      );
    }
  }
  if (typeof value !== "number" && typeof value !== "boolean" && !(value instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot set socket option: value must be an int, boolean or Uint8Array, got ${
        describe(value)
      }`,
    );
  }
  // CPython parses the value as a C int before the call, so even a closed
  // socket reports this; its TypeError comes from trying the bytes form next.
  if (typeof value === "number" && Number.isInteger(value) && (value | 0) !== value) {
    throw new TypeError(`Cannot set socket option: value ${value} does not fit in a C int`);
  }
}

/** The largest `buflen` CPython's `getsockopt` takes. */
const MAX_BUFLEN = 1024;

/**
 * Checks `getsockopt`'s `buflen`, as CPython does before the call.
 * @throws {TypeError} for a non-integer; {OSError} (no errno, as CPython's)
 *   outside 0–1024.
 */
export function checkBuflen(buflen: unknown): void {
  if (typeof buflen !== "number" || !Number.isInteger(buflen)) {
    throw new TypeError(
      `Cannot get socket option: buflen must be an integer, got ${describe(buflen)}`,
    );
  }
  if (buflen < 0 || buflen > MAX_BUFLEN) {
    throw new OSError(null, { strerror: "getsockopt buflen out of range" });
  }
}

/**
 * An int option's value as `getsockopt(level, optname, buflen)` returns it:
 * the native (little-endian) int, cut to `buflen` bytes as Linux cuts it.
 */
export function optionBytes(value: number, buflen: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value, true);
  return buflen < 4 ? out.slice(0, buflen) : out;
}

/**
 * An int option's value. Packed bytes are a native int (4 bytes, or the
 * first 4 of more); the multicast TTL and loop options also take one byte,
 * as Linux does (Python programs often pass `struct.pack("b", ttl)`).
 */
export function optionInt(
  value: OptionValue,
  level: number,
  optname: number,
  byteOk = false,
): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new TypeError(`Cannot set ${optionName(level, optname)}: value must be an integer`);
    }
    return value;
  }
  // Linux reads the first 4 bytes of a longer value, as it reads an int.
  if (value.length >= 4) return new DataView(value.buffer, value.byteOffset, 4).getInt32(0, true);
  if (value.length >= 1 && byteOk) return value[0];
  throw new OSError(errno.EINVAL, { detail: `${optionName(level, optname)} takes a 4-byte int` });
}

/**
 * Checks an options argument: an object, or omitted. Python passes these as
 * keywords, and a positional value ported as is (`createConnection(addr, 5)`
 * for a timeout, `wrapSocket(sock, true)` for server_side) would be read as
 * no options at all.
 * @param hint What to write instead, e.g. `{ timeout: 5 }`.
 * @throws {TypeError} for anything but an object or `undefined`.
 */
export function checkOptions(options: unknown, action: string, hint: string): void {
  if (options === undefined || (typeof options === "object" && options !== null)) return;
  throw new TypeError(
    `Cannot ${action}: options must be an object such as ${hint}, got ${describe(options)}`,
  );
}

/**
 * Checks a byte count or offset.
 * @throws {TypeError} for a non-integer; {RangeError} for a negative number.
 */
export function checkSize(value: unknown, action: string, name: string): void {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${action}: ${name} must be an integer, got ${describe(value)}`);
  }
  if (value < 0) {
    throw new RangeError(`Cannot ${action}: ${name} must be non-negative, got ${value}`);
  }
  // CPython's OverflowError past a C ssize_t; a JavaScript number is exact
  // only up to 2 ** 53 - 1.
  if (value > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`Cannot ${action}: ${name} is too large, got ${value}`);
  }
}

/**
 * Checks `shutdown`'s `how`.
 * @throws {TypeError} for a non-integer; {RangeError} for anything but `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
 */
export function checkHow(how: unknown): void {
  if (typeof how !== "number" || !Number.isInteger(how)) {
    throw new TypeError(`Cannot shutdown: how must be an integer, got ${describe(how)}`);
  }
  if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) {
    throw new RangeError(`Cannot shutdown: how must be SHUT_RD, SHUT_WR or SHUT_RDWR, got ${how}`);
  }
}

/**
 * Checks the arguments of the `*Into` receives and returns the part of
 * `buf` to fill (`nbytes` 0 means all of it, as in Python).
 */
export function checkInto(buf: unknown, nbytes: unknown, action: string): Uint8Array {
  if (!(buf instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action}: buf must be a Uint8Array, got ${describe(buf)}`);
  }
  if (buf.length === 0) checkAttached(buf, action);
  checkSize(nbytes, action, "nbytes");
  const count = nbytes as number;
  if (count > buf.length) {
    throw new RangeError(
      `Cannot ${action}: nbytes (${count}) is larger than the buffer (${buf.length})`,
    );
  }
  return count === 0 || count === buf.length ? buf : buf.subarray(0, count);
}

/** What `getsockname()` returns before a socket is bound, as on Linux. */
export function unboundAddress(family: number): Address {
  if (family === AF_UNIX) return "";
  return family === AF_INET6 ? ["::", 0, 0, 0] : ["0.0.0.0", 0];
}

/** The shared base of {@linkcode StreamSocket} and {@linkcode DatagramSocket}. */
export abstract class SocketBase {
  /** The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`). */
  readonly family: number;
  /** The socket type (`SOCK_STREAM`, `SOCK_DGRAM`). */
  readonly type: number;
  /** The protocol number (0 unless given). */
  readonly proto: number;
  #timeout: number | null = defaultTimeout;
  #fileno: number = nextFileno++;
  #closeCalled = false;

  /** Not for direct use: call `socket()`. */
  constructor(family: number, type: number, proto: number) {
    this.family = family;
    this.type = type;
    this.proto = proto;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#fileno === -1;
  }

  /**
   * Sets the timeout of every blocking call: `null` blocks forever, `0` makes
   * the socket non-blocking, a positive number is seconds.
   *
   * @param value Seconds, `0`, or `null`.
   * @throws {TypeError} for a non-number; {RangeError} for a negative value.
   * @throws {OSError} `EBADF` once closed, as CPython's (whose fcntl fails
   *   after the value is recorded).
   */
  settimeout(value: number | null): void {
    this.#timeout = checkTimeout(value);
    this.checkOpen();
  }

  /**
   * The current timeout.
   *
   * @returns Seconds, or `null` when calls block forever.
   */
  gettimeout(): number | null {
    return this.#timeout;
  }

  /**
   * `setblocking(false)` is `settimeout(0)`; `setblocking(true)` is `settimeout(null)`.
   *
   * @param flag Whether calls should block (an integer, as in Python, is taken too).
   * @throws {TypeError} for anything else; {OSError} `EBADF` once closed, as `settimeout`.
   */
  setblocking(flag: boolean): void {
    // Python takes an integer (a bool is one): no argument, null or a
    // string must not silently pick a mode.
    if (typeof flag !== "boolean" && !Number.isInteger(flag)) {
      throw new TypeError(`Cannot setblocking: expected a boolean, got ${describe(flag)}`);
    }
    this.#timeout = flag ? null : 0;
    this.checkOpen();
  }

  /**
   * Whether the socket blocks.
   *
   * @returns `false` when the timeout is `0`, `true` otherwise (as Python 3.7+).
   */
  getblocking(): boolean {
    return this.#timeout !== 0;
  }

  /**
   * A number unique among this process's open sockets, or -1 once closed.
   * Deno 2 exposes no OS file descriptor: this is not one, and cannot be
   * passed to other processes or system calls.
   *
   * @returns The pseudo descriptor, or -1.
   */
  fileno(): number {
    const fd = this.#fileno;
    if (fd !== -1) remember(fd, this);
    return fd;
  }

  /**
   * Closes the socket; idempotent. As in CPython, a file from `makefile()`
   * that is still open keeps the connection until it is closed too.
   */
  close(): void {
    const fd = this.#fileno;
    if (fd === -1) return;
    this.#closeCalled = true;
    if (this.keepsOpen()) return;
    this.#fileno = -1;
    byFileno.delete(fd);
    this.onClose();
  }

  /** Whether `close()` was called (Python's `_closed`), even while a file keeps the socket open. */
  protected get closeCalled(): boolean {
    return this.#closeCalled;
  }

  /** Whether something still holds the socket open, so `close()` must wait for it. */
  protected keepsOpen(): boolean {
    return false;
  }

  /** Releases the Deno resources; called once by `close()`. */
  protected abstract onClose(): void;

  /**
   * Fails once the socket is closed.
   *
   * @throws {OSError} `EBADF` once the socket is closed.
   */
  protected checkOpen(): void {
    if (this.#fileno === -1) throw new OSError(errno.EBADF);
  }

  /**
   * Python's repr of the socket, as `repr(sock)` and `print(sock)` show it:
   * `<socket.socket fd=3, family=2, type=1, proto=0, laddr=('127.0.0.1',
   * 5000), raddr=('127.0.0.1', 40000)>`, `[closed]` once closed.
   *
   * @returns The repr.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { socket } from "./socket.ts";
   * const s = socket();
   * s.bind(["127.0.0.1", 0]);
   * const port = s.getsockname()[1];
   * assert.equal(
   *   String(s),
   *   `<socket.socket fd=${s.fileno()}, family=2, type=1, proto=0, laddr=('127.0.0.1', ${port})>`,
   * );
   * s.close();
   * assert.equal(String(s), "<socket.socket [closed] fd=-1, family=2, type=1, proto=0>");
   * ```
   */
  toString(): string {
    return socketRepr(this as unknown as Described, this.#closeCalled);
  }

  /**
   * What `console.log(sock)` and `Deno.inspect(sock)` show: the repr.
   *
   * @returns The repr.
   */
  [kDenoInspect](): string {
    return this.toString();
  }

  /**
   * What `node:util`'s `inspect` shows: the repr.
   *
   * @returns The repr.
   */
  [kNodeInspect](): string {
    return this.toString();
  }

  /** Closes the socket at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Closes the socket at the end of an `await using` block, and resolves
   * once Deno has let it go: a Unix listener's file is then where the
   * program can unlink it for good (see `released`).
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.released();
  }

  /** Resolves once Deno has let the closed socket's resources go; at once here. */
  protected released(): Promise<void> {
    return Promise.resolve();
  }
}
