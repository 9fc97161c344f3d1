// socketserver's request handlers: BaseRequestHandler and the stream and
// datagram ones that give a handler rfile/wfile, as Lib/socketserver.py's.
// Python runs setup/handle/finish inside the handler's constructor; a
// constructor cannot await, so the server's finishRequest() makes the
// handler and then awaits the three (see socketserver.ts).

import type { Address } from "./_address.ts";
import { toBytes } from "./_bytes.ts";
import { BytesIO } from "./_bytes_io.ts";
import type { SocketFile } from "./_socket_file.ts";
import { IPPROTO_TCP, type StreamSocket, TCP_NODELAY } from "./socket.ts";
import type { DatagramSocket } from "./udp.ts";
import type { BaseServer } from "./socketserver.ts";
import { OSError } from "./errors.ts";

/** What a datagram server hands its handler: the datagram and the server's socket. */
export type DatagramRequest = [data: Uint8Array, socket: DatagramSocket];

/** The three steps every handler runs, each may return a promise. */
export interface RequestHandler {
  /** Runs before `handle`. */
  setup(): void | Promise<void>;
  /** Serves the request. */
  handle(): void | Promise<void>;
  /** Runs after `handle`, even when it threw. */
  finish(): void | Promise<void>;
}

/**
 * A handler class: made once per request, as Python's `RequestHandlerClass`.
 * Its `server` parameter may be any server class (`never` here lets a
 * handler name its own, as `BaseRequestHandler<R, MyServer>` does).
 */
export type RequestHandlerClass<R> = new (
  request: R,
  clientAddress: Address,
  server: never,
) => RequestHandler;

/**
 * The base of request handlers (Python's `socketserver.BaseRequestHandler`):
 * one is made per request; override `handle` (and `setup`/`finish` if need
 * be). `this.request` is the connected socket on a stream server,
 * `[data, socket]` on a datagram server.
 *
 * @typeParam R The request: `StreamSocket` (default) or `DatagramRequest`.
 * @typeParam S The server, for a handler that uses its own server's fields
 *   through `this.server` (Python's `self.server.foo`).
 *
 * @example The Python docs' MyTCPHandler
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection } from "./socket.ts";
 * import { BaseRequestHandler, TCPServer } from "./socketserver.ts";
 *
 * class MyTCPHandler extends BaseRequestHandler {
 *   override async handle() {
 *     const data = await this.request.recv(1024);
 *     await this.request.sendall(new TextDecoder().decode(data).toUpperCase());
 *   }
 * }
 * await using server = new TCPServer(["127.0.0.1", 0], MyTCPHandler);
 * const serving = server.serveForever();
 * await using client = await createConnection(server.serverAddress as [string, number]);
 * await client.sendall("hello");
 * assert.equal(new TextDecoder().decode(await client.recv(1024)), "HELLO");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class BaseRequestHandler<R = StreamSocket, S extends BaseServer<R> = BaseServer<R>>
  implements RequestHandler {
  /** The connected socket, or `[data, socket]` for a datagram. */
  readonly request: R;
  /** The client's address. */
  readonly clientAddress: Address;
  /** The server that made this handler (of type `S`). */
  readonly server: S;

  /**
   * Made by the server for each request.
   *
   * @param request The request.
   * @param clientAddress The client's address.
   * @param server The server.
   */
  constructor(request: R, clientAddress: Address, server: S) {
    this.request = request;
    this.clientAddress = clientAddress;
    this.server = server;
  }

  /** Runs before `handle`; does nothing here. */
  setup(): void | Promise<void> {}

  /** Serves the request; does nothing here. */
  handle(): void | Promise<void> {}

  /** Runs after `handle`, even when it threw; does nothing here. */
  finish(): void | Promise<void> {}
}

/**
 * The unbuffered `wfile` of a {@linkcode StreamRequestHandler} (Python's
 * `_SocketWriter`): every `write` is a `sendall`, so nothing waits for a
 * `flush`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { SocketWriter } from "./socketserver.ts";
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * const w = new SocketWriter(a);
 * assert.equal(await w.write("hi\n"), 3);
 * assert.equal(new TextDecoder().decode(await b.recv(10)), "hi\n");
 * ```
 */
export class SocketWriter {
  #sock: StreamSocket;
  #closed = false;

  /**
   * Makes a writer over `sock`.
   *
   * @param sock The socket to write to; closing the writer leaves it open.
   */
  constructor(sock: StreamSocket) {
    this.#sock = sock;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends all of `data`.
   *
   * @param data Bytes, or a string sent as UTF-8.
   * @returns The number of bytes sent.
   */
  async write(data: Uint8Array | string): Promise<number> {
    const bytes = toBytes(data, "write");
    await this.#sock.sendall(bytes);
    return bytes.length;
  }

  /** Nothing is held back, so there is nothing to flush. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Marks the writer closed; the socket stays open. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /**
   * The socket's number.
   *
   * @returns The socket's `fileno()`.
   */
  fileno(): number {
    return this.#sock.fileno();
  }
}

/**
 * A handler for stream servers with `rfile`/`wfile`
 * (Python's `StreamRequestHandler`). `rfile` is the socket's `makefile("rb")`,
 * reading through the socket's own buffer, so `this.request.recv` and
 * `rfile` never lose each other's bytes. `wfile` sends at once
 * ({@linkcode SocketWriter}) unless `wbufsize` is non-zero. `finish` flushes
 * and closes both.
 *
 * Fields to override, as Python's class attributes: `timeout` (set on the
 * connection), `disableNagleAlgorithm` (`TCP_NODELAY`), `wbufsize`, and
 * `rbufsize`, which is kept for ported code: reads always go through the
 * socket's one read buffer.
 *
 * @example The Python docs' StreamRequestHandler variant
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection } from "./socket.ts";
 * import { StreamRequestHandler, TCPServer } from "./socketserver.ts";
 *
 * class MyTCPHandler extends StreamRequestHandler {
 *   override async handle() {
 *     const line = await this.rfile.readline();
 *     await this.wfile.write(new TextEncoder().encode(new TextDecoder().decode(line).toUpperCase()));
 *   }
 * }
 * await using server = new TCPServer(["127.0.0.1", 0], MyTCPHandler);
 * const serving = server.serveForever();
 * await using client = await createConnection(server.serverAddress as [string, number]);
 * await client.sendall("hello\n");
 * assert.equal(new TextDecoder().decode(await client.recv(1024)), "HELLO\n");
 * await server.shutdown();
 * await serving;
 * ```
 */
export class StreamRequestHandler extends BaseRequestHandler<StreamSocket> {
  /** Python's read buffer size; reads use the socket's own buffer whatever it is. */
  rbufsize: number = -1;
  /** 0 (default): `wfile` sends at once; otherwise writes are buffered until `flush`. */
  wbufsize = 0;
  /** A timeout for the connection, in seconds; `null` leaves it as it is. */
  timeout: number | null = null;
  /** Whether to set `TCP_NODELAY` on the connection. */
  disableNagleAlgorithm = false;
  /** The connection (the same socket as `request`). */
  connection!: StreamSocket;
  /** The request's bytes, through the socket's read buffer. */
  rfile!: SocketFile<Uint8Array>;
  /** Where the reply goes. */
  wfile!: SocketWriter | SocketFile<Uint8Array>;

  /** Sets the timeout and `TCP_NODELAY`, and opens `rfile` and `wfile`. */
  override setup(): void {
    this.connection = this.request;
    if (this.timeout !== null) this.connection.settimeout(this.timeout);
    if (this.disableNagleAlgorithm) this.connection.setsockopt(IPPROTO_TCP, TCP_NODELAY, true);
    this.rfile = this.connection.makefile("rb");
    this.wfile = this.wbufsize === 0
      ? new SocketWriter(this.connection)
      : this.connection.makefile("wb");
  }

  /** Flushes `wfile` (a socket error here is dropped, as in Python) and closes both files. */
  override async finish(): Promise<void> {
    if (!this.wfile.closed) {
      try {
        await this.wfile.flush();
      } catch (err) {
        // A final socket error (the peer reset) may happen here; Python drops it too.
        if (!(err instanceof OSError)) throw err;
      }
    }
    await this.wfile.close();
    await this.rfile.close();
  }
}

/**
 * A handler for datagram servers with `rfile`/`wfile`
 * (Python's `DatagramRequestHandler`): `rfile` reads the datagram, what is
 * written to `wfile` goes back to the client as one datagram in `finish`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, SOCK_DGRAM, socket } from "./mod.ts";
 * import { DatagramRequestHandler, UDPServer } from "./socketserver.ts";
 *
 * class Upper extends DatagramRequestHandler {
 *   override handle() {
 *     this.wfile.write(new TextDecoder().decode(this.rfile.read()).toUpperCase());
 *   }
 * }
 * await using server = new UDPServer(["127.0.0.1", 0], Upper);
 * await using client = socket(AF_INET, SOCK_DGRAM);
 * await client.sendto("ping", server.serverAddress);
 * await server.handleRequest();
 * const [reply] = await client.recvfrom(1024);
 * assert.equal(new TextDecoder().decode(reply), "PING");
 * ```
 */
export class DatagramRequestHandler extends BaseRequestHandler<DatagramRequest> {
  /** The datagram. */
  packet!: Uint8Array;
  /** The server's socket, which the reply is sent from. */
  socket!: DatagramSocket;
  /** The datagram, as a file. */
  rfile!: BytesIO;
  /** The reply, sent in `finish`. */
  wfile!: BytesIO;

  /** Opens `rfile` over the datagram and an empty `wfile`. */
  override setup(): void {
    [this.packet, this.socket] = this.request;
    this.rfile = new BytesIO(this.packet);
    this.wfile = new BytesIO();
  }

  /** Sends what `wfile` holds to the client, as one datagram (empty when nothing was written, as in Python). */
  override async finish(): Promise<void> {
    await this.socket.sendto(this.wfile.getvalue(), this.clientAddress);
  }
}
