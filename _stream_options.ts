// The options a stream socket can honour in Deno, and the honest refusal of
// the rest (ENOPROTOOPT naming the option, never a silent no-op).

import { optionInt, type OptionValue, unsupportedOption } from "./_base.ts";
import {
  AF_UNIX,
  IPPROTO_TCP,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_TYPE,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from "./_constants.ts";
import { errno, errorFromErrno, OSError } from "./errors.ts";

/** What `setsockopt` set on one stream socket; applied to its connection once there is one. */
export class StreamOptions {
  // Deno disables Nagle's algorithm on every TCP connection it makes.
  noDelay = true;
  keepAlive = false;
  reusePort = false;
  /** The errno of a failed non-blocking connect, until SO_ERROR reads it. */
  error = 0;
  /** A non-blocking connect failed and no connect() has reported it yet. */
  #unreported = false;
  reuseAddr = false;

  /** Records a failed non-blocking connect, for SO_ERROR and for the next connect(). */
  connectFailed(code: number): void {
    this.error = code;
    this.#unreported = true;
  }

  /**
   * What Linux's next connect() reports of a failed non-blocking connect,
   * once: its error (taken from SO_ERROR), or `ECONNABORTED` once SO_ERROR
   * has taken it; `null` when there is none, and the connect starts afresh.
   * Programs that poll with connect_ex() until it stops saying EINPROGRESS
   * rely on it.
   */
  takeConnectFailure(): OSError | null {
    if (!this.#unreported) return null;
    this.#unreported = false;
    const code = this.error || errno.ECONNABORTED;
    this.error = 0;
    return errorFromErrno(code);
  }

  /** Sets an option; `conn` (when connected) gets it at once, `bound` refuses SO_REUSEPORT. */
  set(
    level: number,
    optname: number,
    value: OptionValue,
    family: number,
    conn: Deno.Conn | null,
    bound: boolean,
  ): void {
    const flag = optionInt(value, level, optname) !== 0;
    const ip = family !== AF_UNIX;
    if (level === IPPROTO_TCP && optname === TCP_NODELAY && ip) {
      this.noDelay = flag;
      (conn as Deno.TcpConn | null)?.setNoDelay(flag);
    } else if (level === SOL_SOCKET && optname === SO_KEEPALIVE && ip) {
      this.keepAlive = flag;
      (conn as Deno.TcpConn | null)?.setKeepAlive(flag);
    } else if (level === SOL_SOCKET && optname === SO_REUSEADDR) {
      if (!flag) {
        throw new OSError(errno.ENOPROTOOPT, {
          detail: "SO_REUSEADDR cannot be turned off: Deno's listeners always set it",
        });
      }
      this.reuseAddr = true;
    } else if (level === SOL_SOCKET && optname === SO_REUSEPORT && ip) {
      if (bound || conn !== null) {
        throw new OSError(errno.EINVAL, { detail: "SO_REUSEPORT must be set before bind()" });
      }
      this.reusePort = flag;
    } else {
      throw unsupportedOption(level, optname, "set");
    }
  }

  /**
   * Reads an option as an int. `denoReuses`: the socket is a TCP listener or
   * was accepted from one, so Deno has set SO_REUSEADDR on it (the kernel
   * copies it to accepted sockets) whatever was asked.
   */
  get(level: number, optname: number, family: number, denoReuses: boolean): number {
    const ip = family !== AF_UNIX;
    if (level === SOL_SOCKET && optname === SO_TYPE) return SOCK_STREAM;
    if (level === SOL_SOCKET && optname === SO_ERROR) {
      // Reading the pending error clears it, as on Linux.
      const error = this.error;
      this.error = 0;
      return error;
    }
    if (level === SOL_SOCKET && optname === SO_REUSEADDR) {
      return this.reuseAddr || (ip && denoReuses) ? 1 : 0;
    }
    if (level === IPPROTO_TCP && optname === TCP_NODELAY && ip) return this.noDelay ? 1 : 0;
    if (level === SOL_SOCKET && optname === SO_KEEPALIVE && ip) return this.keepAlive ? 1 : 0;
    if (level === SOL_SOCKET && optname === SO_REUSEPORT && ip) return this.reusePort ? 1 : 0;
    throw unsupportedOption(level, optname, "get");
  }

  /** Applies what differs from Deno's defaults to a new TCP connection. */
  apply(conn: Deno.Conn): void {
    if (!this.noDelay) (conn as Deno.TcpConn).setNoDelay(false);
    if (this.keepAlive) (conn as Deno.TcpConn).setKeepAlive(true);
  }
}

/** The options of a socket that never set one. */
export const DEFAULT_OPTIONS: StreamOptions = new StreamOptions();
