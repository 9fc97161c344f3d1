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

import type { Address, AddressInput } from "./_address.ts";
import { BaseServer } from "./_base_server.ts";
import { kAbandon } from "./_socket_file.ts";
import { kBindListen } from "./_listener.ts";
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
import { OSError } from "./errors.ts";
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
export { BaseServer, DEFAULT_GRACE_PERIOD } from "./_base_server.ts";
export { BytesIO } from "./_bytes_io.ts";
export {
  RESTART_WINDOW,
  serveWorkers,
  type ServeWorkersOptions,
  type WorkerFactory,
  type WorkerInfo,
  type WorkerPool,
} from "./_server_workers.ts";
// The types the servers' signatures use, so this module documents itself.
export type { Address, AddressInput } from "./_address.ts";
export type { AbortOptions } from "./_base.ts";
export type { SocketFile } from "./_socket_file.ts";
export type { StreamSocket } from "./socket.ts";
export type { DatagramSocket } from "./udp.ts";

/**
 * What `TCPServer` and `UDPServer` share: a socket of their own, bound (and
 * activated) when the server is made, with Python's class attributes. In
 * Python `UDPServer` subclasses `TCPServer`; here their sockets differ in
 * type, so both subclass this.
 *
 * @typeParam R The request a handler gets.
 * @typeParam S The server's socket.
 *
 * @example Bind and activate by hand, after setting an attribute
 * ```ts
 * import assert from "node:assert/strict";
 * import { BaseRequestHandler, TCPServer } from "./socketserver.ts";
 * await using server = new TCPServer(["127.0.0.1", 0], BaseRequestHandler, false);
 * server.allowReuseAddress = true;
 * server.serverBind();
 * server.serverActivate();
 * assert.notEqual((server.serverAddress as [string, number])[1], 0);
 * ```
 */
export abstract class SocketServer<R, S extends StreamSocket | DatagramSocket>
  extends BaseServer<R> {
  /** The family of the server's socket. */
  static addressFamily: number = AF_INET;
  /** The type of the server's socket. */
  static socketType: number = SOCK_STREAM;
  /** Whether to set `SO_REUSEADDR` before binding. */
  static allowReuseAddress = false;
  /** Whether to set `SO_REUSEPORT` before binding, so several processes can serve one port. */
  static allowReusePort = false;
  /** The `listen()` backlog of a stream server: it reaches the kernel. */
  static requestQueueSize = 5;

  /** The server's socket. */
  readonly socket: S;
  // Python's class attributes, copied from the statics (accessors, as in
  // BaseServer, so that a subclass field for one is a type error).
  #family: number;
  #type: number;
  #reuseAddress: boolean;
  #reusePort: boolean;
  #queueSize: number;

  /**
   * Makes the socket and, unless told not to, binds and activates it.
   *
   * @param serverAddress `[host, port]` (port 0 picks a free one), or a path for Unix.
   * @param RequestHandlerClass The handler class.
   * @param bindAndActivate `false` to call `serverBind()` and `serverActivate()` yourself.
   * @throws {OSError} `EADDRINUSE` when the address is taken (the socket is closed).
   */
  constructor(
    serverAddress: AddressInput,
    RequestHandlerClass: RequestHandlerClass<R>,
    bindAndActivate = true,
  ) {
    super(serverAddress, RequestHandlerClass);
    const defaults = new.target as unknown as typeof SocketServer;
    this.#family = defaults.addressFamily;
    this.#type = defaults.socketType;
    this.#reuseAddress = defaults.allowReuseAddress;
    this.#reusePort = defaults.allowReusePort;
    this.#queueSize = defaults.requestQueueSize;
    this.socket = this.makeSocket();
    if (!bindAndActivate) return;
    try {
      this.serverBind();
      this.serverActivate();
    } catch (err) {
      this.socket.close();
      throw err;
    }
  }

  /** See the static `addressFamily`. */
  get addressFamily(): number {
    return this.#family;
  }

  /** See the static `socketType`. */
  get socketType(): number {
    return this.#type;
  }

  /** See the static `allowReuseAddress`. */
  get allowReuseAddress(): boolean {
    return this.#reuseAddress;
  }
  set allowReuseAddress(value: boolean) {
    this.#reuseAddress = value;
  }

  /** See the static `allowReusePort`. */
  get allowReusePort(): boolean {
    return this.#reusePort;
  }
  set allowReusePort(value: boolean) {
    this.#reusePort = value;
  }

  /** See the static `requestQueueSize`. */
  get requestQueueSize(): number {
    return this.#queueSize;
  }
  set requestQueueSize(value: number) {
    this.#queueSize = value;
  }

  /**
   * Makes the server's socket, of `addressFamily`; called once, by the constructor.
   *
   * @returns The socket.
   */
  protected abstract makeSocket(): S;

  /** Sets the reuse options and binds; `serverAddress` becomes the bound address. */
  serverBind(): void {
    if (this.allowReuseAddress) this.socket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (this.allowReusePort) this.socket.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    this.bindSocket();
    this.serverAddress = this.socket.getsockname();
  }

  /** `socket.bind(serverAddress)`, the step of `serverBind` that opens a listener. */
  protected bindSocket(): void {
    this.socket.bind(this.serverAddress);
  }

  /** Stops serving (see {@linkcode BaseServer.serverClose}) and closes the socket. */
  override async serverClose(): Promise<void> {
    try {
      await super.serverClose();
    } finally {
      // Resolves once a Unix socket's file is in place for good, so that
      // Python's `server_close(); os.unlink(path)` stays unlinked.
      await this.socket[Symbol.asyncDispose]();
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
export class TCPServer extends SocketServer<StreamSocket, StreamSocket> {
  /** A stream socket of `addressFamily`. */
  protected override makeSocket(): StreamSocket {
    return new StreamSocket(this.addressFamily);
  }

  /**
   * Binds with `requestQueueSize` as the backlog already, so that
   * `serverActivate` does not reopen the listener: closing the first one
   * would reset the connections queued on it, and with `allowReusePort`
   * the kernel sends some there as soon as it exists.
   */
  protected override bindSocket(): void {
    this.socket[kBindListen](this.serverAddress, this.requestQueueSize, false);
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
export class UDPServer extends SocketServer<DatagramRequest, DatagramSocket> {
  /** `SOCK_DGRAM`. */
  static override socketType: number = SOCK_DGRAM;
  /** The receive size: a longer datagram is cut to it. */
  static maxPacketSize = 8192;

  /** See the static `maxPacketSize`. */
  maxPacketSize: number = (this.constructor as typeof UDPServer).maxPacketSize;

  /** A datagram socket of `addressFamily`. */
  protected override makeSocket(): DatagramSocket {
    return new DatagramSocket(this.addressFamily, SOCK_DGRAM, 0);
  }

  /** Waits for a datagram: `socket.recvfrom(maxPacketSize)`. */
  override async getRequest(options?: AbortOptions): Promise<[DatagramRequest, Address]> {
    const [data, clientAddress] = await this.socket.recvfrom(this.maxPacketSize, 0, options);
    return [[data, this.socket], clientAddress];
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
