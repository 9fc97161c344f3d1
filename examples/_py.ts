// Python built-ins the seed programs lean on (`repr`, `bytes.upper`, `input`), so that a
// port prints exactly what its Python original prints and the tests can compare the two.

import type { StreamSocket } from "../mod.ts";

const encoder = new TextEncoder();

/**
 * Python's `repr()` for the values the examples print: bytes as `b'...'`, strings as
 * `'...'`, arrays as tuples (an address prints as `('127.0.0.1', 8080)`).
 *
 * @param value A `Uint8Array`, string, number, boolean, `null` or an array of these.
 * @returns The text Python's `repr()` gives for the same value.
 */
export function repr(value: unknown): string {
  if (value instanceof Uint8Array) return reprBytes(value);
  if (typeof value === "string") return reprString(value);
  if (Array.isArray(value)) {
    const items = value.map(repr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  return String(value);
}

// Python quotes with ' unless the text holds a ' and no ".
function quoteFor(hasSingle: boolean, hasDouble: boolean): string {
  return hasSingle && !hasDouble ? '"' : "'";
}

const ESCAPES: Record<number, string> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r", 0x5c: "\\\\" };

function reprBytes(data: Uint8Array): string {
  const quote = quoteFor(data.includes(0x27), data.includes(0x22));
  let out = "b" + quote;
  for (const byte of data) {
    if (ESCAPES[byte]) out += ESCAPES[byte];
    else if (byte === quote.charCodeAt(0)) out += "\\" + quote;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += "\\x" + byte.toString(16).padStart(2, "0");
  }
  return out + quote;
}

function reprString(text: string): string {
  const quote = quoteFor(text.includes("'"), text.includes('"'));
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (ESCAPES[code]) out += ESCAPES[code];
    else if (char === quote) out += "\\" + quote;
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
      out += "\\x" + code.toString(16).padStart(2, "0");
    } else out += char;
  }
  return out + quote;
}

/**
 * Python's `bytes.upper()`: ASCII letters only, so the length never changes
 * (`String.prototype.toUpperCase` would turn "ß" into "SS").
 *
 * @param data The bytes to upper-case.
 * @returns A new array with a-z replaced by A-Z.
 */
export function upper(data: Uint8Array): Uint8Array {
  return data.map((byte) => byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte);
}

// Python's bytes.isspace() set: space, \t, \n, \v, \f, \r.
const ASCII_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

/**
 * Python's `bytes.strip()`: drops ASCII whitespace at both ends, nothing else
 * (`String.prototype.trim` would also drop U+00A0 and friends, after decoding).
 *
 * @param data The bytes to strip.
 * @returns A view of `data` without its leading and trailing ASCII whitespace.
 */
export function strip(data: Uint8Array): Uint8Array {
  let start = 0;
  let end = data.length;
  while (start < end && ASCII_WHITESPACE.has(data[start])) start++;
  while (end > start && ASCII_WHITESPACE.has(data[end - 1])) end--;
  return data.subarray(start, end);
}

let stdinLines: AsyncGenerator<string> | null = null;

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  }
  if (pending.length > 0) yield pending;
}

/**
 * Python's `input(prompt)`: writes the prompt to stdout (as Python does, terminal or
 * not), then reads one line from stdin without its newline.
 *
 * @param prompt Written before reading, with no newline.
 * @returns The line, or `null` at end of input where Python raises `EOFError`.
 */
export async function input(prompt: string): Promise<string | null> {
  await Deno.stdout.write(encoder.encode(prompt));
  stdinLines ??= readLines(Deno.stdin.readable);
  const next = await stdinLines.next();
  if (!next.done) return next.value;
  // Leave the shell's prompt on a line of its own after Ctrl-D.
  if (Deno.stdin.isTerminal()) await Deno.stdout.write(encoder.encode("\n"));
  return null;
}

/**
 * Python's `repr()` of a socket object, in Python 3.12's form:
 * `<socket.socket fd=5, family=2, type=1, proto=0, laddr=('127.0.0.1', 1234),
 * raddr=('127.0.0.1', 50000)>` (3.11 spells the family and type as
 * `AddressFamily.AF_INET` and `SocketKind.SOCK_STREAM`).
 *
 * @param sock A pysock stream socket.
 * @returns The text Python prints for the same socket.
 */
export function reprSocket(sock: StreamSocket): string {
  const parts = [
    `fd=${sock.fileno()}`,
    `family=${sock.family}`,
    `type=${sock.type}`,
    `proto=${sock.proto}`,
  ];
  for (
    const [name, address] of [["laddr", () => sock.getsockname()], [
      "raddr",
      () => sock.getpeername(),
    ]] as const
  ) {
    try {
      parts.push(`${name}=${repr(address())}`);
    } catch { /* not bound or not connected: Python leaves it out too */ }
  }
  return `<socket.socket ${parts.join(", ")}>`;
}
