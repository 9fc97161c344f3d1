// Readiness, pushed: how selectors learn that a socket's next call would not
// wait, without polling. Each part of a socket that can make a call wait
// says whether it is ready now and, when it is not, tells a watcher once
// when it may have become so:
//
// - the read buffer (_buffer.ts): bytes buffered, end of stream or an error
//   pending, with one read kept in flight to learn of the next;
// - the listener (_listener.ts): an accept kept in flight has brought a
//   connection, held for the next accept();
// - the writer (_writer.ts): no blocking write in flight and room in the
//   send queue of non-blocking sends;
// - a non-blocking connect in progress: ready (writable) once it ends;
// - datagram sockets: the receive kept in flight has brought a datagram.
//
// The parts hold one watcher each: the socket's Hub, which tells every
// selector entry watching the socket. A selector re-checks the entries it
// was told about (its ready set), so one select() costs the ready few, not
// every registered socket, and an idle selector runs no code at all.

import { describe } from "./_address.ts";
import { socketByFileno } from "./_base.ts";
import type { ReadBuffer } from "./_buffer.ts";
import type { Listener } from "./_listener.ts";
import type { Writer } from "./_writer.ts";
import { errno, OSError } from "./errors.ts";

/** Told once, when what it watches may have become ready. */
export interface Watcher {
  wake(): void;
}

/** Key of the internal method through which selectors reach a socket's readiness. */
export const kWatch: unique symbol = Symbol("pysock.watch");

/** A socket selectors can watch. */
export interface Watchable {
  /** The socket's number, -1 once closed. */
  fileno(): number;
  /**
   * The events of `events` ready now (`CLOSED` once the socket is closed).
   * With a watcher, the parts behind the events that are not ready arrange
   * one `watcher.wake()` for when they may have become so.
   */
  [kWatch](events: number, watcher: Watcher | null): number;
}

// When a watch last started an operation (a read, accept or receive) for
// a selector: what it brings may already be in the kernel, but Deno hears
// of it only once its event loop waits. See DefaultSelector's settle.
let lastStart = -Infinity;

/** Notes that a watch started an operation now. */
export function watchStarted(): void {
  lastStart = performance.now();
}

/** Whether a watch started an operation in the last `ms` milliseconds. */
export function startedWithin(ms: number): boolean {
  return performance.now() - lastStart < ms;
}

/** Readable: a receive or accept would not wait. */
export const READ = 1;
/** Writable: a send would not wait. */
export const WRITE = 2;
/** Reported instead of events for a closed socket. */
export const CLOSED = 4;

/**
 * The readiness of a stream socket from its parts (see {@linkcode Watchable}).
 * A socket neither connected, connecting nor listening is ready both ways,
 * as Linux's poll reports it: its calls fail at once (`ENOTCONN`).
 */
export function streamReady(
  events: number,
  watcher: Watcher | null,
  listener: Listener | null,
  buffer: ReadBuffer | null,
  writer: Writer | null,
  connecting: Promise<unknown> | null,
): number {
  if (connecting !== null) {
    if (watcher !== null) connecting.then(() => watcher.wake(), () => watcher.wake());
    return 0;
  }
  if (listener !== null && listener.listening) {
    // A listening socket is never writable.
    if ((events & READ) === 0) return 0;
    if (listener.acceptable) return READ;
    if (watcher !== null) listener.watch(watcher);
    return 0;
  }
  if (buffer === null) return events;
  let ready = 0;
  if (events & READ) {
    if (buffer.readable) ready |= READ;
    else if (watcher !== null) buffer.watch(watcher);
  }
  if (events & WRITE) {
    if (writer === null || writer.writable) ready |= WRITE;
    else if (watcher !== null) writer.watch(watcher);
  }
  return ready;
}

/** What a selector registers for one socket: told when the socket may be ready. */
export interface Entry extends Watcher {
  readonly events: number;
}

/**
 * The watcher of one socket's parts: passes each wake on to every selector
 * entry watching the socket, so several selectors can watch one socket.
 */
export class Hub implements Watcher {
  readonly socket: Watchable;
  #entries: Entry[] = [];

  constructor(socket: Watchable) {
    this.socket = socket;
  }

  /** Adds an entry; returns the events of it ready now, arming the rest. */
  add(entry: Entry): number {
    this.#entries.push(entry);
    return this.check(entry.events);
  }

  /** Removes an entry. The parts may still wake the hub once; nobody is told. */
  remove(entry: Entry): void {
    const at = this.#entries.indexOf(entry);
    if (at !== -1) this.#entries.splice(at, 1);
  }

  /** The events of `events` ready now; the parts behind the others will wake the hub. */
  check(events: number): number {
    return this.socket[kWatch](events, this);
  }

  wake(): void {
    for (const entry of this.#entries) entry.wake();
  }
}

const hubs = new WeakMap<Watchable, Hub>();

/** The hub of `socket`, made on first use. */
export function hubOf(socket: Watchable): Hub {
  let hub = hubs.get(socket);
  if (hub === undefined) {
    hub = new Hub(socket);
    hubs.set(socket, hub);
  }
  return hub;
}

/** What selectors accept: a pysock socket, its `fileno()`, or an object whose `fileno()` returns one. */
export type FileObject = number | { fileno(): number };

/**
 * The descriptor of `fileobj`, as Python's `selectors._fileobj_to_fd`.
 * @throws {TypeError} for an object without `fileno()` (Python's ValueError).
 * @throws {RangeError} for a negative number, such as a closed socket's -1.
 */
export function filenoOf(fileobj: unknown): number {
  let fd: unknown = fileobj;
  if (typeof fileobj === "object" && fileobj !== null) {
    const fileno = (fileobj as { fileno?: unknown }).fileno;
    if (typeof fileno === "function") fd = fileno.call(fileobj);
  }
  if (typeof fd !== "number" || !Number.isInteger(fd)) {
    throw new TypeError(`Invalid file object: ${describe(fileobj)}`);
  }
  if (fd < 0) throw new RangeError(`Invalid file descriptor: ${fd}`);
  return fd;
}

/**
 * The socket behind `fileobj`, whose number is `fd`.
 * @throws {OSError} `EBADF` when no open pysock socket has that number
 *   (Deno exposes no OS descriptors, so nothing else can be watched).
 */
export function watchableOf(fileobj: unknown, fd: number): Watchable {
  if (isWatchable(fileobj)) return fileobj;
  const sock = socketByFileno(fd);
  if (sock !== undefined && isWatchable(sock)) return sock;
  throw new OSError(errno.EBADF, {
    detail: `${fd} is not the fileno() of an open pysock socket`,
  });
}

function isWatchable(value: unknown): value is Watchable {
  return typeof value === "object" && value !== null &&
    typeof (value as Partial<Watchable>)[kWatch] === "function";
}
