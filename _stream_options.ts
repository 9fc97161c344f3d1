// The options a stream socket can honour in Deno, and the honest refusal of
// the rest (ENOPROTOOPT naming the option, never a silent no-op).

import { optionInt, type OptionValue, unsupportedOption } from "./_base.ts";
import {
  AF_INET,
  AF_UNIX,
  IPPROTO_IP,
  IPPROTO_TCP,
  SO_ACCEPTCONN,
  SO_DOMAIN,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_PROTOCOL,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_TYPE,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from "./_constants.ts";
import { errno, errorFromErrno, OSError } from "./errors.ts";
import { optionName } from "./_option_names.ts";

/** Linux's EOPNOTSUPP for an option the socket's family does not have (TCP_NODELAY on AF_UNIX). */
function notOfFamily(level: number, optname: number): OSError {
  return new OSError(errno.EOPNOTSUPP, {
    detail: `${optionName(level, optname)} is not an option of this socket's family`,
  });
}

/** What `setsockopt` set on one stream socket; applied to its connection once there is one. */
export class StreamOptions {
  // null: never set, so the socket has the kernel's default, off (Deno 2
  // sets neither option on the connections it makes or accepts). A value
  // that was set is applied to each connection, whatever Deno's default.
  noDelay: boolean | null = null;
  keepAlive: boolean | null = null;
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
    const ip = family !== AF_UNIX;
    // A Unix socket has options at SOL_SOCKET only (Linux: EOPNOTSUPP).
    if (!ip && level !== SOL_SOCKET) throw notOfFamily(level, optname);
    const flag = optionInt(value, level, optname) !== 0;
    if (level === IPPROTO_TCP && optname === TCP_NODELAY && ip) {
      this.noDelay = flag;
      (conn as Deno.TcpConn | null)?.setNoDelay(flag);
    } else if (level === SOL_SOCKET && optname === SO_KEEPALIVE) {
      // Linux keeps the flag on a Unix socket and does nothing with it; so does pysock.
      this.keepAlive = flag;
      if (ip) (conn as Deno.TcpConn | null)?.setKeepAlive(flag);
    } else if (level === SOL_SOCKET && optname === SO_REUSEPORT && !ip) {
      throw notOfFamily(level, optname);
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
   * copies it to accepted sockets) whatever was asked. `listening`: listen()
   * was called, for SO_ACCEPTCONN.
   */
  get(
    level: number,
    optname: number,
    family: number,
    denoReuses: boolean,
    listening: boolean,
  ): number {
    const ip = family !== AF_UNIX;
    // Linux's answer for a level the family has no options at: a Unix
    // socket has SOL_SOCKET only, and an IPv4 TCP socket sends any level
    // but its own three to IP, which refuses it (IPv6 says ENOPROTOOPT).
    if (
      level !== SOL_SOCKET &&
      (!ip || (family === AF_INET && level !== IPPROTO_TCP && level !== IPPROTO_IP))
    ) {
      throw notOfFamily(level, optname);
    }
    if (level === SOL_SOCKET && optname === SO_TYPE) return SOCK_STREAM;
    if (level === SOL_SOCKET && optname === SO_DOMAIN) return family;
    if (level === SOL_SOCKET && optname === SO_PROTOCOL) return ip ? IPPROTO_TCP : 0;
    if (level === SOL_SOCKET && optname === SO_ACCEPTCONN) return listening ? 1 : 0;
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
    if (level === SOL_SOCKET && optname === SO_KEEPALIVE) return this.keepAlive ? 1 : 0;
    if (level === SOL_SOCKET && optname === SO_REUSEPORT) return this.reusePort ? 1 : 0;
    throw unsupportedOption(level, optname, "get");
  }

  /** Applies the options that were set to a new TCP connection. */
  apply(conn: Deno.Conn): void {
    if (this.noDelay !== null) (conn as Deno.TcpConn).setNoDelay(this.noDelay);
    if (this.keepAlive !== null) (conn as Deno.TcpConn).setKeepAlive(this.keepAlive);
  }

  /**
   * The options of a TCP socket accepted by a listener with these: Linux
   * clones the listener, so TCP_NODELAY, SO_KEEPALIVE and SO_REUSEPORT set
   * on it hold for what it accepts (and are applied to the connection).
   * `null` when there is nothing to pass on.
   */
  inherited(): StreamOptions | null {
    if (this.noDelay === null && this.keepAlive === null && !this.reusePort) return null;
    const options = new StreamOptions();
    options.noDelay = this.noDelay;
    options.keepAlive = this.keepAlive;
    options.reusePort = this.reusePort;
    return options;
  }
}

/** The options of a socket that never set one. */
export const DEFAULT_OPTIONS: StreamOptions = new StreamOptions();
