/**
 * Python's `socketserver`: `TCPServer`, `UDPServer`, the Unix ones, their
 * `Threading*` forms and the request handlers, with Python's names in
 * camelCase (`serveForever`, `handleRequest`, `serverClose`).
 *
 * Deno has no threads: a `Threading*` server (or {@linkcode ThreadingMixIn})
 * runs each request as its own task on the event loop instead. A program
 * behaves as the threaded Python one does — requests are served at once,
 * a slow client does not hold up the others — because handlers spend
 * their time waiting on sockets, and a waiting task costs no thread. What a
 * task cannot do is use a second core: for that, run the server in several
 * processes sharing the port with `allowReusePort` (`SO_REUSEPORT`); the
 * kernel spreads the connections. There is no `ForkingMixIn`: Deno cannot
 * fork.
 *
 * Differences from Python, each because Deno or `await` asks for it:
 * - `serveForever`, `shutdown`, `handleRequest` and `serverClose` return
 *   promises. `shutdown()` is graceful: it stops accepting, waits for the
 *   handlers still running up to a grace period ({@linkcode DEFAULT_GRACE_PERIOD}),
 *   then closes their connections, and resolves once none runs.
 * - Python's class attributes (`allow_reuse_address`, `request_queue_size`,
 *   `timeout`, …) are static properties, copied to the server when it is
 *   made: set them with `static override allowReuseAddress = true` in a
 *   subclass or `TCPServer.allowReuseAddress = true`, or on the instance
 *   when it is made with `bindAndActivate = false`. An instance field in a
 *   subclass is set only after the constructor has bound.
 * - A handler's constructor cannot await, so `finishRequest` makes the
 *   handler and then awaits its `setup`, `handle` and `finish`.
 *
 * @example The Python docs' threading server: every client served at once
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection } from "./socket.ts";
 * import { BaseRequestHandler, ThreadingTCPServer } from "./socketserver.ts";
 *
 * class Echo extends BaseRequestHandler {
 *   override async handle() {
 *     const data = await this.request.recv(1024);
 *     await this.request.sendall(data);
 *   }
 * }
 * await using server = new ThreadingTCPServer(["127.0.0.1", 0], Echo);
 * const serving = server.serveForever();
 * const address = server.serverAddress as [string, number];
 * const clients = await Promise.all([1, 2, 3].map(() => createConnection(address)));
 * // The third client is answered while the first two still hold their connections.
 * for (const [i, client] of [...clients].reverse().entries()) {
 *   await client.sendall(`client ${i}`);
 *   assert.equal(new TextDecoder().decode(await client.recv(1024)), `client ${i}`);
 * }
 * for (const client of clients) client.close();
 * await server.shutdown();
 * await serving;
 * ```
 *
 * @module
 */

import { type Address, type AddressInput, describe } from "./_address.ts";
import { kAbandon } from "./_socket_file.ts";
import {
  AF_INET,
  AF_UNIX,
  SHUT_WR,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  StreamSocket,
} from "./socket.ts";
import { DatagramSocket } from "./udp.ts";
import { OSError, TimeoutError } from "./errors.ts";
import type { AbortOptions } from "./_base.ts";
import type { DatagramRequest, RequestHandlerClass } from "./_server_handlers.ts";

export {
  BaseRequestHandler,
  type DatagramRequest,
  DatagramRequestHandler,
  type RequestHandler,
  type RequestHandlerClass,
  SocketWriter,
  StreamRequestHandler,
} from "./_server_handlers.ts";
export { BytesIO } from "./_bytes_io.ts";

/** Seconds `shutdown()` waits for running handlers before it closes their connections. */
export const DEFAULT_GRACE_PERIOD = 5;

// Why a wait for the next request ended early: a poll tick, or shutdown().
const POLL = Symbol("poll");
const STOP = Symbol("stop");

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
  /** Threading servers: `serverClose()` does not wait for handlers when true. */
  static daemonThreads = false;
  /** Threading servers: `serverClose()` waits for running handlers when true. */
  static blockOnClose = true;

  /** The address given, then (once bound) the one `getsockname()` reports. */
  serverAddress: Address;
  /** The handler class made for each request. */
  readonly RequestHandlerClass: RequestHandlerClass<R>;
  /** See the static `timeout`. */
  timeout: number | null;
  /** See the static `gracePeriod`. */
  gracePeriod: number;
  /** See the static `daemonThreads`. */
  daemonThreads: boolean;
  /** See the static `blockOnClose`. */
  blockOnClose: boolean;

  #serving: Promise<void> | null = null;
  #shutdownRequest = false;
  // serveForever()'s waits share one controller until one is aborted, and one
  // timer that re-arms itself for the wait then running: a busy server takes
  // requests far more often than the poll interval passes, and a controller
  // and a timer per request were a tenth of its time under connection churn.
  #wait: AbortController | null = null;
  #waiting = false;
  #pollAt = 0;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
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
    this.timeout = defaults.timeout;
    this.gracePeriod = defaults.gracePeriod;
    this.daemonThreads = defaults.daemonThreads;
    this.blockOnClose = defaults.blockOnClose;
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
   * @throws {Error} when the loop is already running on this server.
   * @throws {OSError} `EBADF` once `serverClose()` has closed the socket.
   */
  async serveForever(pollInterval = 0.5): Promise<void> {
    const ms = checkSeconds(pollInterval, "serve", "pollInterval");
    if (this.#serving !== null) {
      throw new Error("Cannot serve: serveForever() is already running on this server");
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#serving = promise;
    try {
      while (!this.#shutdownRequest) {
        const next = await this.#nextRequest(ms, true);
        if (next === STOP) break;
        if (typeof next !== "symbol") await this.#handleRequestNoblock(next[0], next[1]);
        await this.serviceActions();
      }
    } finally {
      clearTimeout(this.#pollTimer);
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
   * are closed (their pending calls reject) and they are awaited.
   *
   * From inside a handler, call it without `await`: the handler's own end
   * is part of what it waits for.
   *
   * @param gracePeriod Seconds to wait for running handlers.
   * @returns A promise that resolves once the loop has stopped and no handler runs.
   */
  async shutdown(gracePeriod: number = this.gracePeriod): Promise<void> {
    const ms = checkSeconds(gracePeriod, "shutdown", "gracePeriod");
    const serving = this.#serving;
    if (serving !== null) {
      this.#shutdownRequest = true;
      this.#wait?.abort(STOP);
    }
    await this.#drain(ms);
    await serving;
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
    const ms = this.timeout === null ? null : this.timeout * 1000;
    const next = await this.#nextRequest(ms, false);
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
    const ending = this.finishRequest(request, clientAddress);
    this.#active.set(request, ending.then(noop, noop));
    try {
      await ending;
    } finally {
      this.#active.delete(request);
    }
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
    const task = this.processRequestThread(request, clientAddress).catch((err) => {
      console.error(err);
    }).finally(() => this.#active.delete(request));
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
    const handler = new this.RequestHandlerClass(request, clientAddress, this);
    await handler.setup();
    try {
      await handler.handle();
    } finally {
      await handler.finish();
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
      `${dashes}\nException occurred during processing of request from ${
        pythonRepr(clientAddress)
      }`,
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
   * Stops a running `serveForever()` (as `shutdown()` does) and, unless
   * `blockOnClose` is false or `daemonThreads` true, waits for running
   * handlers as `shutdown()` does. Subclasses close their socket after it.
   *
   * @returns A promise that resolves once done.
   */
  async serverClose(): Promise<void> {
    if (this.#serving !== null) await this.shutdown();
    if (this.blockOnClose && !this.daemonThreads) await this.#drain(this.gracePeriod * 1000);
  }

  /** `await using server = new TCPServer(…)` calls `serverClose()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.serverClose();
  }

  // The wait for a request: null ms waits for ever; `stoppable` lets
  // shutdown() end it. A timeout (the socket's own too) or an abort
  // loses nothing: the socket keeps the pending accept or receive.
  async #nextRequest(ms: number | null, stoppable: boolean): Promise<[R, Address] | symbol> {
    if (stoppable && this.#shutdownRequest) return STOP;
    let wait: AbortController;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (stoppable) {
      wait = this.#wait = this.#wait?.signal.aborted === false ? this.#wait : new AbortController();
      this.#waiting = true;
      if (ms !== null) {
        this.#pollAt = performance.now() + ms;
        this.#pollTimer ??= setTimeout(this.#pollTick, ms);
      }
    } else {
      wait = new AbortController();
      timer = ms === null ? undefined : setTimeout(() => wait.abort(POLL), ms);
    }
    try {
      return await this.getRequest({ signal: wait.signal });
    } catch (err) {
      if (wait.signal.aborted) return wait.signal.reason;
      if (err instanceof TimeoutError) return POLL;
      // Python drops a failed accept (a client that reset, EMFILE) and
      // goes on; a closed server socket is the end.
      if (err instanceof OSError && err.errno !== 9) return POLL;
      throw err;
    } finally {
      clearTimeout(timer);
      if (stoppable) this.#waiting = false;
    }
  }

  // The poll timer of serveForever(): ends the wait running when its interval
  // is over, waits on for one that began later, and stops between waits (the
  // next one arms it again).
  #pollTick = (): void => {
    this.#pollTimer = undefined;
    if (!this.#waiting) return;
    const left = this.#pollAt - performance.now();
    if (left > 0) this.#pollTimer = setTimeout(this.#pollTick, left);
    else this.#wait?.abort(POLL);
  };

  async #handleRequestNoblock(request: R, clientAddress: Address): Promise<void> {
    if (!(await this.verifyRequest(request, clientAddress))) {
      this.shutdownRequest(request);
      return;
    }
    try {
      await this.processRequest(request, clientAddress);
    } catch (err) {
      if (!this.#abandoned.has(request)) this.handleError(request, clientAddress, err);
      this.shutdownRequest(request);
    } finally {
      this.#abandoned.delete(request);
    }
  }

  // Waits up to `ms` for the running handlers, then abandons the ones left
  // and waits for them to settle (their socket calls reject once closed).
  async #drain(ms: number): Promise<void> {
    if (this.#active.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    });
    const late = await Promise.race([
      Promise.all(this.#active.values()).then(() => false),
      expired,
    ]);
    clearTimeout(timer);
    if (late) {
      for (const request of this.#active.keys()) {
        this.#abandoned.add(request);
        this.abandonRequest(request);
      }
    }
    while (this.#active.size > 0) await Promise.all(this.#active.values());
  }
}

/**
 * A TCP server (Python's `socketserver.TCPServer`): binds and listens when
 * made, then serves one connection at a time. Use
 * {@linkcode ThreadingTCPServer} to serve many at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection } from "./socket.ts";
 * import { BaseRequestHandler, TCPServer } from "./socketserver.ts";
 *
 * class Hello extends BaseRequestHandler {
 *   override async handle() {
 *     await this.request.sendall(`hello ${(this.clientAddress as [string, number])[0]}`);
 *   }
 * }
 * await using server = new TCPServer(["127.0.0.1", 0], Hello);
 * await using client = await createConnection(server.serverAddress as [string, number]);
 * await server.handleRequest();
 * assert.equal(new TextDecoder().decode(await client.recv(100)), "hello 127.0.0.1");
 * ```
 */
export class TCPServer extends BaseServer<StreamSocket> {
  /** The family of the server's socket. */
  static addressFamily: number = AF_INET;
  /** The type of the server's socket. */
  static socketType: number = SOCK_STREAM;
  /** Whether to set `SO_REUSEADDR` before binding. */
  static allowReuseAddress = false;
  /** Whether to set `SO_REUSEPORT` before binding, so several processes can serve one port. */
  static allowReusePort = false;
  /** The `listen()` backlog: it reaches the kernel. */
  static requestQueueSize = 5;

  /** See the static `addressFamily`. */
  readonly addressFamily: number;
  /** See the static `socketType`. */
  readonly socketType: number;
  /** See the static `allowReuseAddress`. */
  allowReuseAddress: boolean;
  /** See the static `allowReusePort`. */
  allowReusePort: boolean;
  /** See the static `requestQueueSize`. */
  requestQueueSize: number;
  /** The listening socket. */
  readonly socket: StreamSocket;

  /**
   * Makes the socket and, unless told not to, binds and listens.
   *
   * @param serverAddress `[host, port]` (port 0 picks a free one), or a path for Unix.
   * @param RequestHandlerClass The handler class.
   * @param bindAndActivate `false` to call `serverBind()` and `serverActivate()` yourself.
   * @throws {OSError} `EADDRINUSE` when the address is taken (the socket is closed).
   */
  constructor(
    serverAddress: AddressInput,
    RequestHandlerClass: RequestHandlerClass<StreamSocket>,
    bindAndActivate = true,
  ) {
    super(serverAddress, RequestHandlerClass);
    const defaults = new.target as typeof TCPServer;
    this.addressFamily = defaults.addressFamily;
    this.socketType = defaults.socketType;
    this.allowReuseAddress = defaults.allowReuseAddress;
    this.allowReusePort = defaults.allowReusePort;
    this.requestQueueSize = defaults.requestQueueSize;
    this.socket = new StreamSocket(this.addressFamily);
    if (bindAndActivate) bindServer(this);
  }

  /** Sets the reuse options and binds; `serverAddress` becomes the bound address. */
  serverBind(): void {
    this.serverAddress = bindSocket(this.socket, this, this.serverAddress);
  }

  /** Listens with `requestQueueSize` as the backlog. */
  override serverActivate(): void {
    this.socket.listen(this.requestQueueSize);
  }

  /** Waits for a connection: `socket.accept()`. */
  override getRequest(options?: AbortOptions): Promise<[StreamSocket, Address]> {
    return this.socket.accept(options);
  }

  /**
   * Closes the connection (`closeRequest`), then sends end of stream
   * (`SHUT_WR`) if it is still open: a `makefile()` file holds it, or
   * `closeRequest` kept it.
   */
  override shutdownRequest(request: StreamSocket): void {
    // Python shuts down before closing because close() waits while a file
    // holds the socket; pysock's does too. A close() that did close sent the
    // FIN already, and an async shutdown op per request cost a busy server a
    // fifth of its CPU.
    this.closeRequest(request);
    if (request.closed) return;
    try {
      request.shutdown(SHUT_WR);
    } catch (err) {
      // Not connected any more (the client reset): Python drops this too.
      if (!(err instanceof OSError)) throw err;
    }
  }

  /** Closes the connection. */
  override closeRequest(request: StreamSocket): void {
    request.close();
  }

  /** Closes the connection even while the handler's files hold it. */
  protected override abandonRequest(request: StreamSocket): void {
    request[kAbandon]();
  }

  /** Stops serving (see {@linkcode BaseServer.serverClose}) and closes the socket. */
  override async serverClose(): Promise<void> {
    try {
      await super.serverClose();
    } finally {
      this.socket.close();
    }
  }

  /**
   * The listening socket's number, as Python's `fileno()`.
   *
   * @returns The socket's `fileno()`.
   */
  fileno(): number {
    return this.socket.fileno();
  }
}

/**
 * A UDP server (Python's `socketserver.UDPServer`): each datagram is a
 * request, `[data, socket]`, of at most `maxPacketSize` bytes.
 *
 * @example The Python docs' MyUDPHandler
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
 * import { BaseRequestHandler, type DatagramRequest, UDPServer } from "./socketserver.ts";
 *
 * class MyUDPHandler extends BaseRequestHandler<DatagramRequest> {
 *   override async handle() {
 *     const [data, sock] = this.request;
 *     await sock.sendto(new TextDecoder().decode(data).trim().toUpperCase(), this.clientAddress);
 *   }
 * }
 * await using server = new UDPServer(["127.0.0.1", 0], MyUDPHandler);
 * const serving = server.serveForever();
 * await using client = socket(AF_INET, SOCK_DGRAM);
 * await client.sendto("hello\n", server.serverAddress);
 * const [reply] = await client.recvfrom(1024);
 * assert.equal(new TextDecoder().decode(reply), "HELLO");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class UDPServer extends BaseServer<DatagramRequest> {
  /** The family of the server's socket. */
  static addressFamily: number = AF_INET;
  /** The type of the server's socket. */
  static socketType: number = SOCK_DGRAM;
  /** Whether to set `SO_REUSEADDR` before binding. */
  static allowReuseAddress = false;
  /** Whether to set `SO_REUSEPORT` before binding. */
  static allowReusePort = false;
  /** The receive size: a longer datagram is cut to it. */
  static maxPacketSize = 8192;

  /** See the static `addressFamily`. */
  readonly addressFamily: number;
  /** See the static `socketType`. */
  readonly socketType: number;
  /** See the static `allowReuseAddress`. */
  allowReuseAddress: boolean;
  /** See the static `allowReusePort`. */
  allowReusePort: boolean;
  /** See the static `maxPacketSize`. */
  maxPacketSize: number;
  /** The server's socket: requests arrive on it and replies leave from it. */
  readonly socket: DatagramSocket;

  /**
   * Makes the socket and, unless told not to, binds it.
   *
   * @param serverAddress `[host, port]`, or a path for Unix.
   * @param RequestHandlerClass The handler class.
   * @param bindAndActivate `false` to call `serverBind()` yourself.
   * @throws {OSError} `EADDRINUSE` when the address is taken (the socket is closed).
   */
  constructor(
    serverAddress: AddressInput,
    RequestHandlerClass: RequestHandlerClass<DatagramRequest>,
    bindAndActivate = true,
  ) {
    super(serverAddress, RequestHandlerClass);
    const defaults = new.target as typeof UDPServer;
    this.addressFamily = defaults.addressFamily;
    this.socketType = defaults.socketType;
    this.allowReuseAddress = defaults.allowReuseAddress;
    this.allowReusePort = defaults.allowReusePort;
    this.maxPacketSize = defaults.maxPacketSize;
    this.socket = new DatagramSocket(this.addressFamily, this.socketType, 0);
    if (bindAndActivate) bindServer(this);
  }

  /** Sets the reuse options and binds; `serverAddress` becomes the bound address. */
  serverBind(): void {
    this.serverAddress = bindSocket(this.socket, this, this.serverAddress);
  }

  /** Waits for a datagram: `socket.recvfrom(maxPacketSize)`. */
  override async getRequest(options?: AbortOptions): Promise<[DatagramRequest, Address]> {
    const [data, clientAddress] = await this.socket.recvfrom(this.maxPacketSize, 0, options);
    return [[data, this.socket], clientAddress];
  }

  /** Stops serving (see {@linkcode BaseServer.serverClose}) and closes the socket. */
  override async serverClose(): Promise<void> {
    try {
      await super.serverClose();
    } finally {
      this.socket.close();
    }
  }

  /**
   * The socket's number, as Python's `fileno()`.
   *
   * @returns The socket's `fileno()`.
   */
  fileno(): number {
    return this.socket.fileno();
  }
}

/**
 * A Unix stream socket server (Python's `socketserver.UnixStreamServer`).
 * The socket file stays after `serverClose()`, as in Python: remove it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_UNIX, socket } from "./socket.ts";
 * import { BaseRequestHandler, UnixStreamServer } from "./socketserver.ts";
 *
 * class Hello extends BaseRequestHandler {
 *   override async handle() {
 *     await this.request.sendall("hello");
 *   }
 * }
 * const dir = await Deno.makeTempDir();
 * {
 *   await using server = new UnixStreamServer(`${dir}/s.sock`, Hello);
 *   await using client = socket(AF_UNIX);
 *   await client.connect(`${dir}/s.sock`);
 *   await server.handleRequest();
 *   assert.equal(new TextDecoder().decode(await client.recv(10)), "hello");
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class UnixStreamServer extends TCPServer {
  /** `AF_UNIX`. */
  static override addressFamily: number = AF_UNIX;
}

/**
 * A Unix datagram socket server (Python's `socketserver.UnixDatagramServer`).
 * There is no threading form: Deno's Unix datagram socket runs one
 * operation at a time (denoland/deno#6290), so a reply cannot leave while
 * the next receive waits. Requests are served one after another.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_UNIX, SOCK_DGRAM, socket } from "./mod.ts";
 * import { DatagramRequestHandler, UnixDatagramServer } from "./socketserver.ts";
 *
 * class Echo extends DatagramRequestHandler {
 *   override handle() {
 *     this.wfile.write(this.rfile.read());
 *   }
 * }
 * const dir = await Deno.makeTempDir();
 * {
 *   await using server = new UnixDatagramServer(`${dir}/s.sock`, Echo);
 *   await using client = socket(AF_UNIX, SOCK_DGRAM);
 *   client.bind(`${dir}/c.sock`);
 *   await client.sendto("ping", `${dir}/s.sock`);
 *   await server.handleRequest();
 *   const [reply] = await client.recvfrom(100);
 *   assert.equal(new TextDecoder().decode(reply), "ping");
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class UnixDatagramServer extends UDPServer {
  /** `AF_UNIX`. */
  static override addressFamily: number = AF_UNIX;
}

/** A server class `ThreadingMixIn` can take. */
// deno-lint-ignore no-explicit-any
export type ServerClass = abstract new (...args: any[]) => BaseServer<any>;

/**
 * Makes a server class serve each request in its own task, as Python's
 * `class MyServer(ThreadingMixIn, TCPServer)`. `ThreadingTCPServer` and
 * the others are this, already made.
 *
 * @param Base The server class.
 * @returns A subclass whose `processRequest` starts a task and returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection } from "./socket.ts";
 * import { BaseRequestHandler, TCPServer, ThreadingMixIn } from "./socketserver.ts";
 *
 * class Hello extends BaseRequestHandler {
 *   override async handle() {
 *     await this.request.sendall("hello");
 *   }
 * }
 * class MyServer extends ThreadingMixIn(TCPServer) {
 *   static override allowReuseAddress = true;
 * }
 * await using server = new MyServer(["127.0.0.1", 0], Hello);
 * assert.equal(server.allowReuseAddress, true);
 * await using client = await createConnection(server.serverAddress as [string, number]);
 * await server.handleRequest(); // returns once the task has started
 * assert.equal(new TextDecoder().decode(await client.recv(10)), "hello");
 * ```
 */
export function ThreadingMixIn<C extends ServerClass>(Base: C): C {
  abstract class Threading extends Base {
    override processRequest(request: unknown, clientAddress: Address): Promise<void> {
      return this.startThread(request, clientAddress);
    }
  }
  return Threading;
}

/**
 * {@linkcode TCPServer} serving each connection in its own task (Python's
 * `ThreadingTCPServer`; see the module doc for why tasks stand in for threads).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection } from "./socket.ts";
 * import { StreamRequestHandler, ThreadingTCPServer } from "./socketserver.ts";
 *
 * class Lines extends StreamRequestHandler {
 *   override async handle() {
 *     for await (const line of this.rfile) await this.wfile.write(line);
 *   }
 * }
 * await using server = new ThreadingTCPServer(["127.0.0.1", 0], Lines);
 * const serving = server.serveForever();
 * const address = server.serverAddress as [string, number];
 * await using a = await createConnection(address);
 * await using b = await createConnection(address);
 * await b.sendall("b\n");
 * await a.sendall("a\n");
 * assert.equal(new TextDecoder().decode(await b.recv(10)), "b\n");
 * assert.equal(new TextDecoder().decode(await a.recv(10)), "a\n");
 * await server.shutdown(0); // a and b are still connected: closed at once
 * await serving;
 * ```
 */
export class ThreadingTCPServer extends TCPServer {
  /** Starts the request's task and returns. */
  override processRequest(request: StreamSocket, clientAddress: Address): Promise<void> {
    return this.startThread(request, clientAddress);
  }
}

/**
 * {@linkcode UDPServer} serving each datagram in its own task (Python's
 * `ThreadingUDPServer`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
 * import { DatagramRequestHandler, ThreadingUDPServer } from "./socketserver.ts";
 *
 * class Echo extends DatagramRequestHandler {
 *   override handle() {
 *     this.wfile.write(this.rfile.read());
 *   }
 * }
 * await using server = new ThreadingUDPServer(["127.0.0.1", 0], Echo);
 * const serving = server.serveForever();
 * await using client = socket(AF_INET, SOCK_DGRAM);
 * await client.sendto("one", server.serverAddress);
 * assert.equal(new TextDecoder().decode((await client.recvfrom(10))[0]), "one");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class ThreadingUDPServer extends UDPServer {
  /** Starts the request's task and returns. */
  override processRequest(request: DatagramRequest, clientAddress: Address): Promise<void> {
    return this.startThread(request, clientAddress);
  }
}

/**
 * {@linkcode UnixStreamServer} serving each connection in its own task
 * (Python's `ThreadingUnixStreamServer`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_UNIX, socket } from "./socket.ts";
 * import { BaseRequestHandler, ThreadingUnixStreamServer } from "./socketserver.ts";
 *
 * class Hello extends BaseRequestHandler {
 *   override async handle() {
 *     await this.request.sendall("hello");
 *   }
 * }
 * const dir = await Deno.makeTempDir();
 * {
 *   await using server = new ThreadingUnixStreamServer(`${dir}/s.sock`, Hello);
 *   const serving = server.serveForever();
 *   await using client = socket(AF_UNIX);
 *   await client.connect(`${dir}/s.sock`);
 *   assert.equal(new TextDecoder().decode(await client.recv(10)), "hello");
 *   await server.shutdown();
 *   await serving;
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ThreadingUnixStreamServer extends UnixStreamServer {
  /** Starts the request's task and returns. */
  override processRequest(request: StreamSocket, clientAddress: Address): Promise<void> {
    return this.startThread(request, clientAddress);
  }
}

interface BindOptions {
  allowReuseAddress: boolean;
  allowReusePort: boolean;
}

// Python's server_bind: the reuse options, then bind; the bound address.
function bindSocket(
  sock: StreamSocket | DatagramSocket,
  options: BindOptions,
  address: Address,
): Address {
  if (options.allowReuseAddress) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  if (options.allowReusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  sock.bind(address);
  return sock.getsockname();
}

// Python's constructor tail: bind and activate, closing the socket when either fails.
function bindServer(server: TCPServer | UDPServer): void {
  try {
    server.serverBind();
    server.serverActivate();
  } catch (err) {
    server.socket.close();
    throw err;
  }
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

// How Python prints a client address: ('127.0.0.1', 5555), or the path quoted.
function pythonRepr(address: Address): string {
  if (typeof address === "string") return `'${address}'`;
  return `(${address.map((part) => typeof part === "string" ? `'${part}'` : part).join(", ")})`;
}

function noop(): void {}
