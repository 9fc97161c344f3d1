// The listening side of a stream socket: the Deno listener that bind()
// opens and the accept kept in flight across timeouts.
//
// Deno has no bind-without-listen: binding opens a listener at once, so the
// port is held (and peers that connect early wait in its queue). Its backlog
// is fixed when it opens, so listen(n) after bind() reopens it on the same
// port; createServer, and listen() without bind(), open it once.

import { describe, type IpEndpoint } from "./_address.ts";
import { toDeadline } from "./_base.ts";
import { Kept } from "./_kept.ts";
import { type Watcher, watchStarted } from "./_ready.ts";
import { isResetBeforeAccept, ResetConn } from "./_reset_conn.ts";
import { closeKeepingFile, listenUnix } from "./_unix_file.ts";
import { errno, OSError } from "./errors.ts";

/**
 * Reaches a stream socket's bind with its listen backlog, for createServer
 * and socketserver; not exported.
 */
export const kBindListen: unique symbol = Symbol("pysock.bindListen");

/** Deno's listeners take 511 unless told otherwise; `listen()` without a backlog keeps it. */
export const DEFAULT_BACKLOG = 511;

/** A bound listener and its pending accept. */
export class Listener<T = unknown> {
  #listener: Deno.Listener;
  /** `listen()` was called: accept is allowed. */
  listening = false;
  /**
   * The backlog the listener was opened with. listen() with another one
   * reopens it, which resets the connections queued on the first (and in a
   * `SO_REUSEPORT` group the kernel queues some there at once), so
   * socketserver binds with the backlog it will listen with.
   */
  backlog: number;
  /** The address it was opened on, with the real port once bound to port 0. */
  endpoint: IpEndpoint | string;
  #reusePort: boolean;
  // Bound to port 0: a listen() after shutdown() gets a new port, as on Linux.
  #anyPort: boolean;
  // shutdown(SHUT_RD) closed Deno's listener (see shutdown()), and what
  // closing it awaits.
  #stopped: Promise<void> | null = null;
  // The accept in flight, kept across timeouts: Deno cannot cancel it.
  #kept: Kept<Deno.Conn>;
  // For selectors (see watch): the kept accept once it has settled, the one
  // being watched, and who to tell when it settles.
  #landed: Promise<Deno.Conn> | null = null;
  #watched: Promise<Deno.Conn> | null = null;
  #watcher: Watcher | null = null;
  // What an accepted connection becomes and what a failure is, both given
  // the owner (the socket): one function each for every listener, and no
  // closure per accept.
  #accepted: (conn: Deno.Conn, owner: unknown) => T;
  #translate: (err: unknown, owner: unknown) => unknown;
  #owner: unknown;

  /**
   * Opens the listener now.
   * @throws the Deno error (`AddrInUse`, `PermissionDenied`, ...), for the socket to translate.
   */
  constructor(
    endpoint: IpEndpoint | string,
    reusePort: boolean,
    backlog: number | undefined,
    accepted: (conn: Deno.Conn, owner: unknown) => T,
    translate: (err: unknown, owner: unknown) => unknown,
    owner: unknown,
  ) {
    this.#accepted = accepted;
    this.#translate = translate;
    this.#owner = owner;
    backlog ??= DEFAULT_BACKLOG;
    this.#reusePort = reusePort;
    this.#anyPort = typeof endpoint !== "string" && endpoint.port === 0;
    this.backlog = backlog;
    this.#listener = open(endpoint, reusePort, backlog);
    this.#kept = new Kept(this.#listener);
    if (typeof endpoint === "string") this.endpoint = endpoint;
    else this.endpoint = { hostname: endpoint.hostname, port: this.addr.port };
  }

  /** The bound address, as Deno reports it. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /**
   * Reopens a TCP listener on its port with a new backlog, before anyone has
   * been accepted; nothing to do for the same backlog, or a Unix listener
   * (Deno has no backlog setting for it). After shutdown() it opens again,
   * on a new port if bind() asked for port 0, as Linux does.
   */
  reopen(backlog = this.backlog): void {
    if (typeof this.endpoint === "string") return;
    if (this.#stopped !== null) {
      const { hostname, port } = this.endpoint;
      this.#listener = open({ hostname, port: this.#anyPort ? 0 : port }, this.#reusePort, backlog);
      this.endpoint = { hostname, port: this.addr.port };
      this.#stopped = null;
    } else if (backlog !== this.backlog) {
      this.#listener.close();
      this.#listener = reopenOn(this.endpoint, this.#reusePort, backlog);
    } else return;
    this.backlog = backlog;
    this.#kept = new Kept(this.#listener);
  }

  /** shutdown() stopped it: connect() fails with `EINVAL` too, as on Linux. */
  get stopped(): boolean {
    return this.#stopped !== null;
  }

  /**
   * `shutdown()` of a listening socket, as Linux does it for TCP: `SHUT_WR`
   * does nothing; `SHUT_RD` (or `SHUT_RDWR`) stops listening (Deno's
   * listener is closed, so the queue is reset and new peers are refused),
   * and a waiting accept and every later one fail with `EINVAL` until
   * `listen()` again. The address stays the socket's name. A Unix listener
   * keeps its queue on Linux while it refuses new peers, which Deno cannot
   * do: `EOPNOTSUPP` rather than a shutdown that does something else.
   */
  shutdown(how: number): void {
    if (how === 1 /* SHUT_WR */) return;
    if (typeof this.endpoint === "string") {
      throw new OSError(errno.EOPNOTSUPP, {
        detail: "Deno cannot stop a Unix listener from taking peers yet keep its queue",
      });
    }
    this.listening = false;
    this.#stopped = this.close();
  }

  /**
   * The next connection. A call that times out keeps its pending accept: the
   * connection it brings is returned by the next call, and meanwhile it does
   * not keep the process alive. A connection its client reset before it was
   * accepted comes as a {@linkcode ResetConn}, as Linux hands it to CPython.
   */
  accept(timeout: number | null, signal?: AbortSignal): Promise<T> {
    const kept = this.#kept;
    if (timeout !== null || kept.pending !== null || kept.unrefed) {
      return this.#accept(timeout, signal).then(this.#wrap, this.#failed);
    }
    // The common accept (no deadline, nothing kept) follows Kept's protocol
    // by hand, with the listener's own continuations: a burst of connections
    // then leaves no async frame or closure per connection to collect.
    const op = kept.start(this.#listener.accept());
    kept.enter();
    this.#fastOp = op;
    if (signal === undefined) return op.then(this.#onAccepted, this.#onAcceptFailed);
    // One that a signal can end: socketserver's serve loop passes the same
    // signal to every accept, so the listener on it is added once per
    // signal rather than once per connection.
    if (signal !== this.#signal) {
      this.#signal?.removeEventListener("abort", this.#onAbort);
      this.#signal = signal;
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    const caller = Promise.withResolvers<unknown>();
    this.#caller = caller;
    op.then(this.#onSignalledAccepted, this.#onSignalledFailed);
    return caller.promise as Promise<T>;
  }

  #fastOp: Promise<Deno.Conn> | null = null;
  // The signal whose abort ends a fast accept, and the caller it would end.
  // (Not typed with T: a Listener<T> stays usable as a Listener<unknown>.)
  #signal: AbortSignal | null = null;
  #caller: PromiseWithResolvers<unknown> | null = null;

  // The fast accept's signal was aborted: the call rejects with its reason
  // and the accept is kept, so the connection it brings goes to the next call.
  #onAbort = (): void => {
    const reason = this.#signal!.reason;
    this.#signal = null;
    const caller = this.#caller;
    if (caller === null) return;
    this.#caller = null;
    this.#kept.abandon(this.#fastOp!);
    this.#fastOp = null;
    caller.reject(reason);
  };

  #onSignalledAccepted = (conn: Deno.Conn): void => this.#toCaller(true, conn);
  #onSignalledFailed = (err: unknown): void => this.#toCaller(false, err);

  // The fast accept with a signal has settled: its caller gets what the
  // unsignalled continuations make of it, unless the signal ended it first.
  #toCaller(accepted: boolean, value: unknown): void {
    const caller = this.#caller;
    if (caller === null) return;
    this.#caller = null;
    try {
      caller.resolve(accepted ? this.#onAccepted(value as Deno.Conn) : this.#onAcceptFailed(value));
    } catch (err) {
      caller.reject(err);
    }
  }

  // The fast accept has settled: leave the kept operation and return it, for claim().
  #fastDone(): Promise<Deno.Conn> {
    const op = this.#fastOp!;
    this.#fastOp = null;
    this.#kept.leave();
    return op;
  }

  #onAccepted = (conn: Deno.Conn): T | Promise<T> => {
    if (this.#kept.claim(this.#fastDone())) return this.#wrap(conn);
    // close() forgot it (and closes the connection): the next accept fails.
    return this.accept(null);
  };

  #onAcceptFailed = (err: unknown): T | Promise<T> => {
    // No deadline here, so no OSError of ours: this is Deno's failure.
    const mine = this.#kept.claim(this.#fastDone());
    if (!isResetBeforeAccept(err)) return this.#failed(err);
    if (mine) return this.#wrap(new ResetConn(this.#listener.addr) as unknown as Deno.Conn);
    return this.accept(null);
  };

  #wrap = (conn: Deno.Conn): T => this.#accepted(conn, this.#owner);

  #failed = (err: unknown): never => {
    // The accept that shutdown() ended (Deno's listener closed under it).
    if (this.#stopped !== null) throw new OSError(errno.EINVAL);
    throw this.#translate(err, this.#owner);
  };

  async #accept(timeout: number | null, signal?: AbortSignal): Promise<Deno.Conn> {
    const kept = this.#kept;
    const deadline = toDeadline(timeout);
    while (true) {
      const pending = kept.pending ?? kept.start(this.#listener.accept());
      let conn: Deno.Conn;
      try {
        conn = await kept.wait(pending, deadline, signal);
      } catch (err) {
        // Our timeout (an OSError from waitFor) or the caller's abort keeps
        // the accept for the next call; Deno's own failure starts afresh
        // next time.
        if (err instanceof OSError || signal?.aborted) throw err;
        const mine = kept.claim(pending);
        if (!isResetBeforeAccept(err)) throw err;
        if (mine) return new ResetConn(this.#listener.addr) as unknown as Deno.Conn;
        continue;
      }
      // Two calls waiting on one accept: the first takes the connection,
      // the other waits for the next one.
      if (kept.claim(pending)) return conn;
    }
  }

  /**
   * Whether accept() would not wait: the accept kept in flight has brought
   * a connection (or failed). What a selector calls readable.
   */
  get acceptable(): boolean {
    const pending = this.#kept.pending;
    return pending !== null && this.#landed === pending;
  }

  /**
   * Tells `watcher` once, when a connection is there for accept(); call it
   * while not acceptable. An accept is kept in flight for it, as after a
   * timed-out accept: the connection it brings is held for the next
   * accept(), and while nobody waits it does not keep the process alive.
   */
  watch(watcher: Watcher): void {
    this.#watcher = watcher;
    const kept = this.#kept;
    let pending = kept.pending;
    if (pending === null) {
      pending = kept.start(this.#listener.accept());
      watchStarted();
      kept.release();
    }
    if (this.#watched === pending) return;
    this.#watched = pending;
    const landed = () => {
      if (kept.pending === pending) this.#landed = pending;
      const watcher = this.#watcher;
      this.#watcher = null;
      watcher?.wake();
    };
    // Failures count as landed too (accept() reports them at once), and
    // this marks them handled while nobody waits.
    pending.then(landed, landed);
  }

  /**
   * Closes the listener; a pending accept rejects.
   * @returns A promise that resolves once Deno has let the listener go
   *   (for a Unix socket: once its file is back in place).
   */
  close(): Promise<void> {
    if (this.#stopped !== null) return this.#stopped;
    // An accept in flight holds Deno's listener until it settles, and Deno
    // removes a Unix socket's file only then.
    const pending = this.#kept.pending;
    this.#kept.clear();
    // A signal that outlives the socket must not keep the listener alive.
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#signal = null;
    const listener = this.#listener;
    const close = () => {
      try {
        // The kept accept is unref'd while nobody waits; its end is awaited
        // now (close()'s promise), so it must hold the event loop.
        if (pending !== null) listener.ref();
        listener.close();
      } catch { /* already closed by Deno */ }
    };
    // A connection the kept accept brings now has nobody to take it: close
    // it, so its client sees the end at once rather than a connection that
    // never answers (CPython's closed backlog resets it; Deno cannot send a
    // reset).
    pending?.then(closeQuietly, noop);
    if (typeof this.endpoint === "string") return closeKeepingFile(this.endpoint, close, pending);
    close();
    return pending === null ? Promise.resolve() : pending.then(noop, noop);
  }
}

// In the instant between closing a listener and opening it again with its
// new backlog, a connect elsewhere on the host can take the port as its own
// local port (rare: a few times in thousands of test runs under load). The
// port comes back once that connection closes (the listener reuses the
// address over TIME_WAIT), so the reopen retries for a moment before it
// reports EADDRINUSE. listen() is synchronous, hence the blocking wait.
const REOPEN_TRIES = 50;
const REOPEN_WAIT_MS = 10;

function reopenOn(endpoint: IpEndpoint, reusePort: boolean, backlog: number): Deno.Listener {
  for (let tries = 1;; tries++) {
    try {
      return open(endpoint, reusePort, backlog);
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse) || tries === REOPEN_TRIES) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, REOPEN_WAIT_MS);
    }
  }
}

function open(endpoint: IpEndpoint | string, reusePort: boolean, backlog: number): Deno.Listener {
  if (typeof endpoint === "string") return listenUnix(endpoint);
  return Deno.listen({
    transport: "tcp",
    hostname: endpoint.hostname,
    port: endpoint.port,
    reusePort,
    tcpBacklog: backlog,
  });
}

/** A valid `listen` backlog (negative is 0, as on Linux), or `undefined` for the default. */
export function checkBacklog(backlog: unknown): number | undefined {
  if (backlog === undefined) return undefined;
  if (typeof backlog !== "number" || !Number.isInteger(backlog)) {
    throw new TypeError(`Cannot listen: backlog must be an integer, got ${describe(backlog)}`);
  }
  // A C int, as Python's OverflowError says: the kernel caps a large one at somaxconn.
  if (backlog > 2 ** 31 - 1 || backlog < -(2 ** 31)) {
    throw new RangeError(`Cannot listen: backlog must fit in a C int, got ${backlog}`);
  }
  return Math.max(backlog, 0);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* a ResetConn, or closed already */ }
}

function noop(): void {}
