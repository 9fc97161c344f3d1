// A connection its client reset (RST, e.g. SO_LINGER 0) before accept()
// took it from the queue.
//
// Linux still hands such a connection to accept(2), and CPython returns it:
// its first recv (or send) raises ConnectionResetError, then recv reads end
// of stream and send raises BrokenPipeError. Deno's `Listener.accept` asks
// for the peer's address after accept(2), which fails with ENOTCONN for it,
// and rejects (denoland/deno#8499): one such client would end every accept
// loop written as Python's are. The listener returns this instead, so
// `accept()` resolves as in CPython and the error comes from the connection.
// What cannot be had: the peer's address, which Deno drops with the
// connection (accept gives the unbound address instead).

import { errno, OSError } from "./errors.ts";

/** Whether `err`, from `Deno.Listener.accept`, means the connection was reset before it was accepted. */
export function isResetBeforeAccept(err: unknown): boolean {
  return err instanceof Deno.errors.NotConnected || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.ConnectionAborted;
}

/**
 * The part of `Deno.Conn` a stream socket uses, for a connection that was
 * reset before it was accepted. The reset is reported once, by the first
 * read, write or `SO_ERROR`, as Linux reports a socket's pending error.
 */
export class ResetConn {
  /** The listener's address: Linux's would be the one the client connected to. */
  readonly localAddr: Deno.Addr;
  #pending = true;

  /** @param localAddr The listener's address. */
  constructor(localAddr: Deno.Addr) {
    this.localAddr = localAddr;
  }

  /** @throws {OSError} `ENOTCONN`, as `getpeername` on a reset socket does. */
  get remoteAddr(): Deno.Addr {
    throw new OSError(errno.ENOTCONN);
  }

  /** Rejects with the reset once; then end of stream. */
  read(_p: Uint8Array): Promise<number | null> {
    if (!this.#takeError()) return Promise.resolve(null);
    return Promise.reject(
      new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)"),
    );
  }

  /** Rejects with the reset once; then with a broken pipe. */
  write(_p: Uint8Array): Promise<number> {
    if (this.#takeError()) {
      return Promise.reject(
        new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)"),
      );
    }
    return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
  }

  /** Rejects: the connection is gone. */
  closeWrite(): Promise<void> {
    return Promise.reject(new OSError(errno.ENOTCONN));
  }

  /** `SO_ERROR`: the reset's errno once, then 0. */
  takeErrno(): number {
    return this.#takeError() ? errno.ECONNRESET : 0;
  }

  #takeError(): boolean {
    const pending = this.#pending;
    this.#pending = false;
    return pending;
  }

  /** Nothing to release: Deno closed the connection when its accept failed. */
  close(): void {}
  /** Nothing pending keeps the process alive. */
  ref(): void {}
  /** Nothing pending keeps the process alive. */
  unref(): void {}
  /** No connection to set it on. */
  setNoDelay(): void {}
  /** No connection to set it on. */
  setKeepAlive(): void {}
}
