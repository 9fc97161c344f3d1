// socketserver's BaseServer: the serve loop, graceful shutdown and the
// hooks a server overrides, as Lib/socketserver.py's BaseServer with the
// ThreadingMixIn's bookkeeping folded in (every server keeps track of the
// requests it is handling, which is what a graceful shutdown waits for).

import type { AsyncLocalStorage } from "node:async_hooks";
import { type Address, type AddressInput, describe } from "./_address.ts";
import type { AbortOptions } from "./_base.ts";
import { BlockingIOError, errno, OSError, TimeoutError } from "./errors.ts";
import { pythonStr } from "./_repr.ts";
import { clearTimer, setTimer, type Timer } from "./_timer.ts";
import { RuntimeError } from "./_selector.ts";
import type { RequestHandlerClass } from "./_server_handlers.ts";

/** Seconds `shutdown()` waits for running handlers before it closes their connections. */
export const DEFAULT_GRACE_PERIOD = 5;

// Why a wait for the next request ended early: a poll tick, or shutdown().
const POLL = Symbol("poll");
const STOP = Symbol("stop");
// getRequest failed with an OSError other than EBADF.
const FAILED = Symbol("failed");

// The request whose handling the running code is part of, so that a
// handler calling shutdown() is not among what it waits for. Made by the
// first request (node:async_hooks is loaded then, see _node.ts); before it,
// no code runs as part of a request.
let handling: AsyncLocalStorage<unknown> | undefined;
let loading: Promise<AsyncLocalStorage<unknown>> | undefined;

function requestContext(): Promise<AsyncLocalStorage<unknown>> {
  loading ??= import("node:async_hooks").then((m) => handling = new m.AsyncLocalStorage());
  return loading;
}

interface Attributes {
  timeout: number | null;
  gracePeriod: number;
  daemonThreads: boolean;
  blockOnClose: boolean;
}

/**
 * The base of every server (Python's `socketserver.BaseServer`): the
 * serve loop, graceful shutdown and the hooks a subclass overrides.
 * Subclasses say how a request is got ({@linkcode BaseServer.getRequest})
 * and ended.
 *
 * @typeParam R The request a handler gets: `StreamSocket` or `DatagramRequest`.
 *
 * @example A hook: verifyRequest turns a client away before any handler runs
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Address, createConnection, type StreamSocket } from "./socket.ts";
 * import { BaseRequestHandler, TCPServer } from "./socketserver.ts";
 *
 * class Refusing extends TCPServer {
 *   override verifyRequest(_request: StreamSocket, _clientAddress: Address) {
 *     return false;
 *   }
 * }
 * await using server = new Refusing(["127.0.0.1", 0], BaseRequestHandler);
 * await using client = await createConnection(server.serverAddress as [string, number]);
 * await server.handleRequest();
 * assert.equal((await client.recv(10)).length, 0); // closed unserved
 * ```
 */
export abstract class BaseServer<R> implements AsyncDisposable {
  /** Python's `timeout`: how long `handleRequest()` waits, in seconds; `null` for ever. */
  static timeout: number | null = null;
  /** Seconds `shutdown()` gives running handlers; see {@linkcode DEFAULT_GRACE_PERIOD}. */
  static gracePeriod: number = DEFAULT_GRACE_PERIOD;
  /** When true, `serverClose()` does not wait for running handlers (nor stop them). */
  static daemonThreads = false;
  /** When true (default), `serverClose()` waits for running handlers as `shutdown()` does. */
  static blockOnClose = true;

  /** The address given, then (once bound) the one `getsockname()` reports. */
  serverAddress: Address;
  /** The handler class made for each request. */
  readonly RequestHandlerClass: RequestHandlerClass<R>;
  // Python's class attributes, copied from the statics. Accessors, not
  // fields: a subclass that declares one as a field (set only after the
  // constructor) is then a type error rather than a silent no-op.
  #attrs: Attributes;
  #serving: Promise<void> | null = null;
  #shutdownRequest = false;
  // serveForever()'s waits share one controller until one is aborted, and
  // one timer that re-arms itself for the wait then running: a busy server
  // takes requests far more often than the poll interval passes, and a
  // controller and a timer per request were a tenth of its time under
  // connection churn.
  #wait: AbortController | null = null;
  #waiting = false;
  #pollAt = 0;
  #pollTimer: Timer | undefined;
  // The request serveForever() is handling itself (a non-threading server).
  #current: R | undefined = undefined;
  // Requests being handled and the promise of each ending: what shutdown()
  // waits for, and closes once the grace period is over.
  #active = new Map<R, Promise<void>>();
  // Requests shutdown() closed under their handler: the error that makes
  // the handler end is the server's own doing, not one to report.
  #abandoned = new Set<R>();

  /**
   * Keeps the address and handler class; subclasses make the socket.
   *
   * @param serverAddress Where to serve.
   * @param RequestHandlerClass The handler class, made once per request.
   * @throws {TypeError} when `RequestHandlerClass` is not a class.
   */
  constructor(serverAddress: AddressInput, RequestHandlerClass: RequestHandlerClass<R>) {
    if (typeof RequestHandlerClass !== "function") {
      throw new TypeError(
        `Cannot make server: RequestHandlerClass must be a class, got ${
          describe(RequestHandlerClass)
        }`,
      );
    }
    const defaults = new.target as unknown as typeof BaseServer;
    this.serverAddress = serverAddress as Address;
    this.RequestHandlerClass = RequestHandlerClass;
    this.#attrs = {
      timeout: defaults.timeout,
      gracePeriod: defaults.gracePeriod,
      daemonThreads: defaults.daemonThreads,
      blockOnClose: defaults.blockOnClose,
    };
  }

  /** See the static `timeout`. */
  get timeout(): number | null {
    return this.#attrs.timeout;
  }
  set timeout(value: number | null) {
    this.#attrs.timeout = value;
  }

  /** See the static `gracePeriod`. */
  get gracePeriod(): number {
    return this.#attrs.gracePeriod;
  }
  set gracePeriod(value: number) {
    this.#attrs.gracePeriod = value;
  }

  /** See the static `daemonThreads`. */
  get daemonThreads(): boolean {
    return this.#attrs.daemonThreads;
  }
  set daemonThreads(value: boolean) {
    this.#attrs.daemonThreads = value;
  }

  /** See the static `blockOnClose`. */
  get blockOnClose(): boolean {
    return this.#attrs.blockOnClose;
  }
  set blockOnClose(value: boolean) {
    this.#attrs.blockOnClose = value;
  }

  /** Called by the constructor after binding; does nothing here. */
  serverActivate(): void {}

  /**
   * Handles requests one after another (each in its own task on a
   * `Threading*` server) until `shutdown()`.
   *
   * @param pollInterval Seconds between `serviceActions()` calls while
   *   idle. Shutdown does not wait for it: it ends the wait at once.
   * @returns A promise that resolves when the loop has stopped.
   * @throws {RuntimeError} when the loop is already running on this server
   *   (Python's threads would both serve; one loop per server is what works).
   * @throws {OSError} `EBADF` once `serverClose()` has closed the socket.
   */
  async serveForever(pollInterval = 0.5): Promise<void> {
    const ms = checkSeconds(pollInterval, "serve", "pollInterval");
    if (this.#serving !== null) {
      throw new RuntimeError("Cannot serve: serveForever() is already running on this server");
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#serving = promise;
    try {
      while (!this.#shutdownRequest) {
        const next = await this.#nextRequest(ms, true);
        if (next === STOP) break;
        // An error that may come again at once (EMFILE) waits for the next
        // tick rather than spinning; shutdown() still ends the wait.
        if (next === FAILED && (await this.#pause(ms)) === STOP) break;
        if (typeof next !== "symbol") {
          // shutdown() came while the request did: as in Python, it is not served.
          if (this.#shutdownRequest) {
            this.shutdownRequest(next[0]);
            break;
          }
          this.#current = next[0];
          try {
            await this.#handleRequestNoblock(next[0], next[1]);
          } finally {
            this.#current = undefined;
          }
        }
        await this.serviceActions();
      }
    } finally {
      clearTimer(this.#pollTimer);
      this.#pollTimer = undefined;
      this.#wait = null;
      this.#shutdownRequest = false;
      this.#serving = null;
      resolve();
    }
  }

  /**
   * Stops `serveForever()` gracefully: no new request is taken, handlers
   * still running get `gracePeriod` seconds to end, then their connections
   * are closed (their pending calls reject) and they are awaited. A
   * handler waiting on something other than its connection (a timer,
   * another socket) is waited for until it ends.
   *
   * Called from a handler (a "quit" command), it waits for the others but
   * not for the calling handler; on a non-threading server, whose loop is
   * running that handler, the loop stops once the handler returns.
   *
   * @param gracePeriod Seconds to wait for running handlers.
   * @returns A promise that resolves once the loop has stopped and no
   *   other handler runs.
   */
  async shutdown(gracePeriod: number = this.gracePeriod): Promise<void> {
    const ms = checkSeconds(gracePeriod, "shutdown", "gracePeriod");
    const own = handling?.getStore() as R | undefined;
    const serving = this.#stop();
    await this.#drain(ms, own);
    if (own === undefined || own !== this.#current) await serving;
    // A request taken just before the loop saw the flag.
    await this.#drain(ms, own);
  }

  /** Called by `serveForever()` after each request and poll tick; does nothing here. */
  serviceActions(): void | Promise<void> {}

  /**
   * Handles one request, waiting for it at most `timeout` seconds (the
   * socket's timeout when that is shorter) and calling `handleTimeout()`
   * when none comes.
   *
   * @returns A promise that resolves once the request is handled (started,
   *   on a `Threading*` server).
   */
  async handleRequest(): Promise<void> {
    const ms = requestTimeout(this.timeout);
    const next = await this.#nextRequest(ms, false);
    if (next === FAILED) return;
    if (typeof next === "symbol") return await this.handleTimeout();
    await this.#handleRequestNoblock(next[0], next[1]);
  }

  /** Called when `handleRequest()` times out; does nothing here. */
  handleTimeout(): void | Promise<void> {}

  /**
   * Whether to serve this request; `false` ends it unserved.
   *
   * @param _request The request.
   * @param _clientAddress The client's address.
   * @returns `true` here.
   */
  verifyRequest(_request: R, _clientAddress: Address): boolean | Promise<boolean> {
    return true;
  }

  /**
   * Serves a request and ends it; `Threading*` servers start a task for it
   * instead and return at once.
   *
   * @param request The request.
   * @param clientAddress The client's address.
   */
  async processRequest(request: R, clientAddress: Address): Promise<void> {
    await this.finishRequest(request, clientAddress);
    this.shutdownRequest(request);
  }

  /**
   * The body of a request's task on a `Threading*` server: serves it,
   * reports an error through `handleError`, and ends it.
   *
   * @param request The request.
   * @param clientAddress The client's address.
   */
  async processRequestThread(request: R, clientAddress: Address): Promise<void> {
    try {
      await this.finishRequest(request, clientAddress);
    } catch (err) {
      if (!this.#abandoned.has(request)) this.handleError(request, clientAddress, err);
    } finally {
      this.#abandoned.delete(request);
      this.shutdownRequest(request);
    }
  }

  /**
   * Starts `processRequestThread` as a task the server keeps track of
   * (what `Threading*` servers' `processRequest` does).
   *
   * @param request The request.
   * @param clientAddress The client's address.
   */
  protected startThread(request: R, clientAddress: Address): Promise<void> {
    // One reaction for both outcomes rather than catch() and finally(): a
    // server under connection churn makes this per request.
    const ended = (err?: unknown) => {
      if (err !== undefined) console.error(err);
      if (this.#active.get(request) === task) this.#active.delete(request);
    };
    const task: Promise<void> = this.processRequestThread(request, clientAddress)
      .then(ended, ended);
    this.#active.set(request, task);
    return Promise.resolve();
  }

  /**
   * Makes the handler and runs its `setup`, `handle` and `finish`
   * (`finish` even when `handle` throws).
   *
   * @param request The request.
   * @param clientAddress The client's address.
   */
  async finishRequest(request: R, clientAddress: Address): Promise<void> {
    // The handler class names the server it expects; Python checks that no
    // more than this does.
    const handler = new this.RequestHandlerClass(request, clientAddress, this as never);
    // Hooks that return nothing are not awaited: a turn each per request.
    const setup = handler.setup();
    if (setup !== undefined) await setup;
    try {
      await handler.handle();
    } finally {
      const finish = handler.finish();
      if (finish !== undefined) await finish;
    }
  }

  /**
   * Ends a request: calls `closeRequest`.
   *
   * @param request The request.
   */
  shutdownRequest(request: R): void {
    this.closeRequest(request);
  }

  /**
   * Cleans up after a request; does nothing here.
   *
   * @param _request The request.
   */
  closeRequest(_request: R): void {}

  /**
   * Ends a request whose handler outlived the grace period, so that its
   * pending calls settle; does nothing here.
   *
   * @param _request The request.
   */
  protected abandonRequest(_request: R): void {}

  /**
   * Reports a handler's error and lets the server go on, as Python's
   * prints the traceback between two lines of dashes on stderr.
   *
   * @param _request The request.
   * @param clientAddress The client's address.
   * @param error What the handler threw.
   */
  handleError(_request: R, clientAddress: Address, error?: unknown): void {
    const dashes = "-".repeat(40);
    console.error(
      `${dashes}\nException occurred during processing of request from ${pythonStr(clientAddress)}`,
    );
    console.error(error instanceof Error ? error.stack ?? String(error) : error);
    console.error(dashes);
  }

  /**
   * Waits for the next request.
   *
   * @param options `signal`, aborted to end the wait (the request it would
   *   have brought goes to the next call).
   * @returns The request and the client's address.
   */
  abstract getRequest(options?: AbortOptions): Promise<[R, Address]>;

  /**
   * Stops a running `serveForever()` and, unless `blockOnClose` is false or
   * `daemonThreads` true, waits for running handlers: `shutdown()`.
   * Subclasses close their socket after it.
   *
   * @returns A promise that resolves once done.
   */
  async serverClose(): Promise<void> {
    if (this.blockOnClose && !this.daemonThreads) return await this.shutdown();
    // Handlers go on by themselves, as Python's daemon threads do. That
    // includes the one a non-threading loop is running: the loop stops
    // once it returns, and the socket closes now, as CPython's does.
    const serving = this.#stop();
    if (this.#current === undefined) await serving;
  }

  /** `await using server = new TCPServer(…)` calls `serverClose()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.serverClose();
  }

  // The wait for a request: null ms waits for ever; `stoppable` (the serve
  // loop) lets shutdown() end it. A timeout (the socket's own too) or an
  // abort loses nothing: the socket keeps the pending accept or receive.
  #nextRequest(ms: number | null, stoppable: boolean): Promise<[R, Address] | symbol> {
    if (!stoppable) return this.#nextRequestOnce(ms);
    if (this.#shutdownRequest) return Promise.resolve(STOP);
    const wait = this.#wait = this.#wait?.signal.aborted === false
      ? this.#wait
      : new AbortController();
    this.#waiting = true;
    if (ms !== null) {
      this.#pollAt = performance.now() + ms;
      this.#pollTimer ??= setTimer(this.#pollTick, ms);
    }
    // Not async: the serve loop waits once per request, and the server's
    // own continuations leave no frame per request to collect.
    let got: Promise<[R, Address]>;
    try {
      // Promise.resolve: a subclass's getRequest may return the pair itself.
      got = Promise.resolve(this.getRequest({ signal: wait.signal }));
    } catch (err) {
      got = Promise.reject(err);
    }
    return got.then(this.#gotRequest, this.#requestFailed);
  }

  #gotRequest = (next: [R, Address]): [R, Address] => {
    this.#waiting = false;
    return next;
  };

  // The serve loop's wait failed; its controller is still this.#wait.
  #requestFailed = (err: unknown): symbol => {
    this.#waiting = false;
    return failure(err, this.#wait!.signal);
  };

  // handleRequest()'s wait: a controller and timer of its own.
  async #nextRequestOnce(ms: number | null): Promise<[R, Address] | symbol> {
    const wait = new AbortController();
    const timer = ms === null ? undefined : setTimer(() => wait.abort(POLL), ms);
    try {
      return await this.getRequest({ signal: wait.signal });
    } catch (err) {
      // A non-blocking socket with nothing ready: CPython's handle_request
      // waits min(socket timeout, timeout), here none, then handle_timeout.
      if (err instanceof BlockingIOError) return POLL;
      return failure(err, wait.signal);
    } finally {
      clearTimer(timer);
    }
  }

  // The poll timer of serveForever(): ends the wait running when its
  // interval is over, waits on for one that began later, and stops between
  // waits (the next one arms it again).
  #pollTick = (): void => {
    this.#pollTimer = undefined;
    if (!this.#waiting) return;
    const left = this.#pollAt - performance.now();
    if (left > 0) this.#pollTimer = setTimer(this.#pollTick, left);
    else this.#wait?.abort(POLL);
  };

  #pause(ms: number): Promise<symbol> {
    if (this.#shutdownRequest) return Promise.resolve(STOP);
    const wait = new AbortController();
    this.#wait = wait;
    const timer = setTimer(() => wait.abort(POLL), ms);
    return new Promise((resolve) => {
      wait.signal.addEventListener("abort", () => {
        clearTimer(timer);
        if (this.#wait === wait) this.#wait = null;
        resolve(wait.signal.reason);
      }, { once: true });
    });
  }

  // Python's _handle_request_noblock. The request counts as running from
  // here (shutdown() waits for it), in an async context that tells
  // shutdown() which request a handler calling it belongs to.
  #handleRequestNoblock(request: R, clientAddress: Address): Promise<void> {
    const ended = Promise.withResolvers<void>();
    this.#active.set(request, ended.promise);
    // Only the first request waits for node:async_hooks to load.
    if (handling === undefined) {
      return requestContext().then((context) =>
        this.#handle(context, request, clientAddress, ended)
      );
    }
    return this.#handle(handling, request, clientAddress, ended);
  }

  #handle(
    context: AsyncLocalStorage<unknown>,
    request: R,
    clientAddress: Address,
    { promise, resolve }: PromiseWithResolvers<void>,
  ): Promise<void> {
    return context.run(request, async () => {
      try {
        const verified = this.verifyRequest(request, clientAddress);
        if (verified !== true && !(await verified)) {
          this.shutdownRequest(request);
          return;
        }
        await this.processRequest(request, clientAddress);
      } catch (err) {
        if (!this.#abandoned.has(request)) this.handleError(request, clientAddress, err);
        this.shutdownRequest(request);
      } finally {
        // A Threading* server's task has taken the entry over by now.
        if (this.#active.get(request) === promise) {
          this.#active.delete(request);
          this.#abandoned.delete(request);
        }
        resolve();
      }
    });
  }

  // Asks a running serveForever() to stop; its end.
  #stop(): Promise<void> | null {
    const serving = this.#serving;
    if (serving !== null) {
      this.#shutdownRequest = true;
      this.#wait?.abort(STOP);
    }
    return serving;
  }

  // Waits up to `ms` for the running handlers, then abandons the ones left
  // and waits for them to settle (their socket calls reject once closed).
  // `own`, the request of a handler that called shutdown(), is not waited for.
  // An entry can change while it waits (a Threading* server's task takes a
  // request over from the loop), so the ends are gathered again each time.
  async #drain(ms: number, own?: R): Promise<void> {
    const others = () => [...this.#active].filter(([request]) => request !== own);
    const ends = () => others().map(([, end]) => end);
    if (others().length === 0) return;
    const { promise: expiry, resolve: expire } = Promise.withResolvers<symbol>();
    const timer = setTimer(() => expire(STOP), ms);
    try {
      for (let left = ends(); left.length > 0; left = ends()) {
        if ((await Promise.race([Promise.all(left), expiry])) === STOP) break;
      }
    } finally {
      clearTimer(timer);
    }
    for (const [request] of others()) {
      this.#abandoned.add(request);
      this.abandonRequest(request);
    }
    for (let left = ends(); left.length > 0; left = ends()) await Promise.all(left);
  }
}

// What a failed wait for a request means: the abort's reason (a poll tick
// or shutdown), a poll tick for a timeout, or FAILED for an OSError other
// than EBADF (Python drops a failed accept: a client that reset, EMFILE)
// and goes on; a closed server socket is the end.
function failure(err: unknown, signal: AbortSignal): symbol {
  if (signal.aborted) return signal.reason;
  if (err instanceof TimeoutError) return POLL;
  if (err instanceof OSError && err.errno !== errno.EBADF) return FAILED;
  throw err;
}

function checkSeconds(value: unknown, action: string, name: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be a number, got ${describe(value)}`);
  }
  if (!(value >= 0) || value === Infinity) {
    throw new RangeError(`Cannot ${action}: ${name} must be 0 or more seconds, got ${value}`);
  }
  return value * 1000;
}

// handleRequest()'s wait: `timeout` is checked when used, as CPython's
// handle_request does. A negative one polls (the selector's timeout 0).
function requestTimeout(timeout: unknown): number | null {
  if (timeout === null || timeout === undefined) return null;
  if (typeof timeout !== "number") {
    throw new TypeError(
      `Cannot handle a request: timeout must be a number of seconds or null, got ${
        describe(timeout)
      }`,
    );
  }
  if (Number.isNaN(timeout) || timeout === Infinity) {
    throw new RangeError(
      `Cannot handle a request: timeout must be a finite number of seconds, got ${timeout}`,
    );
  }
  return Math.max(0, timeout) * 1000;
}
