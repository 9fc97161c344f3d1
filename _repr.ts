// Python's repr of a socket, for toString() and Deno.inspect (console.log):
// `<socket.socket fd=3, family=2, type=1, proto=0, laddr=('127.0.0.1', 5000),
// raddr=('127.0.0.1', 40000)>`, built as CPython's socket.__repr__ builds it.

import type { Address } from "./_address.ts";
import { OSError } from "./errors.ts";

/** The key of Deno's custom inspection (`console.log`, `Deno.inspect`). */
export const kDenoInspect: unique symbol = Symbol.for("Deno.customInspect") as never;
/** The key of Node's `util.inspect` custom inspection (`node:util`). */
export const kNodeInspect: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/** What a repr shows of a socket. */
export interface Described {
  readonly family: number;
  readonly type: number;
  readonly proto: number;
  fileno(): number;
  getsockname(): Address;
  getpeername(): Address;
}

/**
 * The repr of `sock`: `[closed]` once `close()` was called (the fd is still
 * shown while a makefile() file keeps the socket open, and -1 after), the
 * addresses only while open and only when the socket has them.
 */
export function socketRepr(sock: Described, closed: boolean): string {
  let text =
    `<socket.socket${closed ? " [closed]" : ""} fd=${sock.fileno()}, family=${sock.family}` +
    `, type=${sock.type}, proto=${sock.proto}`;
  if (!closed) {
    const laddr = nameOf(() => sock.getsockname());
    if (laddr) text += `, laddr=${pythonStr(laddr)}`;
    const raddr = nameOf(() => sock.getpeername());
    if (raddr) text += `, raddr=${pythonStr(raddr)}`;
  }
  return `${text}>`;
}

/** An address, or `null` where CPython's repr catches the OSError (no peer, say). */
function nameOf(get: () => Address): Address | null {
  try {
    return get();
  } catch (err) {
    if (err instanceof OSError) return null;
    throw err;
  }
}

/** Python's `repr()` of an address as given: a tuple, or a quoted Unix path. */
export function pythonAddress(addr: unknown): string {
  if (typeof addr === "string") return pythonRepr(addr);
  if (Array.isArray(addr)) return pythonStr(addr as Address);
  return String(addr);
}

/** Python's `str()` of an address: a tuple as Python prints one, a Unix path as it is. */
export function pythonStr(addr: Address): string {
  if (typeof addr === "string") return addr;
  return `(${
    addr.map((part) => typeof part === "string" ? pythonRepr(part) : String(part)).join(", ")
  })`;
}

/** Python's `repr()` of a string: single quotes unless it holds one and no double quote. */
function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(
    /[\\\n\r\t]/g,
    (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!,
  );
  return quote + (quote === "'" ? escaped.replaceAll("'", "\\'") : escaped) + quote;
}
