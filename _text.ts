// The text side of makefile("r"): UTF-8 decoded as it arrives, sizes
// counted in characters (code points) as Python counts them, and Python's
// newline handling (io.TextIOWrapper's `newline` argument; by default
// universal newlines: "\r\n" and "\r" read as "\n").
//
// Nothing is decoded ahead. Each call finds, in the bytes the socket's one
// read buffer holds, where its characters end, takes exactly those bytes and
// decodes them. A character split across TCP segments waits for its last
// byte, so a read never returns "" before the real end of stream, and the
// bytes after the call's characters stay in the buffer for recv and the
// other readers.

import type { ReadBuffer } from "./_buffer.ts";

/**
 * Python's `newline` argument of a text file. `null` (the default):
 * universal newlines, `"\r\n"` and `"\r"` read as `"\n"`; `""`: the same
 * line ends, untranslated; `"\n"`, `"\r"`, `"\r\n"`: only that ends a line,
 * and writes turn `"\n"` into it.
 */
export type Newline = null | "" | "\n" | "\r" | "\r\n";

const CR = 0x0d;
const LF = 0x0a;
// A BOM is text like any other here, as in Python's "utf-8" codec; and each
// call decodes its own whole characters, so no state crosses calls.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The end of the UTF-8 unit starting at `bytes[i]`: a whole character, or
 * an ill-formed sequence that decodes to one U+FFFD (the WHATWG decoder's
 * rule, which is also Python's "replace"); -1 when it is cut off at `end`.
 */
export function unitEnd(bytes: Uint8Array, i: number, end: number): number {
  const lead = bytes[i];
  if (lead < 0x80) return i + 1;
  let need: number;
  let lower = 0x80;
  let upper = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) need = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    need = 2;
    if (lead === 0xe0) lower = 0xa0;
    if (lead === 0xed) upper = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    need = 3;
    if (lead === 0xf0) lower = 0x90;
    if (lead === 0xf4) upper = 0x8f;
  } else return i + 1;
  let k = i + 1;
  for (; need > 0; need--, k++) {
    if (k >= end) return -1;
    const byte = bytes[k];
    // A byte that cannot continue the sequence ends it; it starts the next unit.
    if (byte < lower || byte > upper) return k;
    lower = 0x80;
    upper = 0xbf;
  }
  return k;
}

/**
 * A scan for {@linkcode ReadBuffer.readScan}: up to `want` characters, or
 * through the first line end with `line`, at most `maxBytes` bytes; what is
 * there at end of stream. It remembers how far it got, so each wait costs
 * only the new bytes.
 */
function scanner(want: number, line: boolean, maxBytes: number, newline: Newline) {
  let pos = 0;
  let count = 0;
  const translate = newline === null;
  // Whether a "\r" must wait for the next byte: it may start a "\r\n".
  const lookahead = translate || (line && (newline === "" || newline === "\r\n"));
  const lfEnds = newline !== "\r" && newline !== "\r\n";
  return (bytes: Uint8Array, ended: boolean): number => {
    const end = bytes.length;
    while (pos < end && count < want && pos < maxBytes) {
      const lead = bytes[pos];
      if (lead === CR && lookahead) {
        if (pos + 1 === end && !ended) return -1;
        const crlf = pos + 1 < end && bytes[pos + 1] === LF;
        if (crlf && translate) {
          // "\r\n" reads as one "\n".
          pos += 2;
          count++;
          if (line) return pos;
        } else if (crlf && count + 2 <= want) {
          pos += 2;
          count += 2;
          if (line) return pos;
        } else {
          pos++;
          count++;
          if (line && newline !== "\r\n") return pos;
        }
        continue;
      }
      let next = lead < 0x80 ? pos + 1 : unitEnd(bytes, pos, end);
      if (next === -1) {
        if (!ended) return -1;
        next = end;
      }
      pos = next;
      count++;
      if (line && (lead === LF ? lfEnds : lead === CR && newline === "\r")) return pos;
    }
    return count >= want || pos >= maxBytes || ended ? pos : -1;
  };
}

/** Reads text from a socket's buffer with one `newline` setting. */
export class TextReader {
  /** The file's `newline` setting. */
  readonly newline: Newline;

  /** @param newline Python's `newline` argument. */
  constructor(newline: Newline) {
    this.newline = newline;
  }

  /** `chars` characters, fewer only at end of stream. */
  async read(buffer: ReadBuffer, chars: number, timeout: number | null): Promise<string> {
    const scan = scanner(chars, false, Infinity, this.newline);
    return this.decode(await buffer.readScan(scan, timeout));
  }

  /** One line, at most `chars` characters and `maxBytes` bytes. */
  async readline(
    buffer: ReadBuffer,
    chars: number,
    maxBytes: number,
    timeout: number | null,
  ): Promise<string> {
    const scan = scanner(chars, true, maxBytes, this.newline);
    return this.decode(await buffer.readScan(scan, timeout));
  }

  /** Everything up to end of stream. */
  async readAll(buffer: ReadBuffer, timeout: number | null): Promise<string> {
    return this.decode(await buffer.readAll(timeout));
  }

  /** Whole characters' bytes as text, with universal newlines translated. */
  decode(bytes: Uint8Array): string {
    const text = decoder.decode(bytes);
    if (this.newline !== null || !text.includes("\r")) return text;
    return text.replace(/\r\n?/g, "\n");
  }

  /** Text to write: `"\n"` becomes the file's `newline` when that is `"\r"` or `"\r\n"`. */
  encode(text: string): string {
    const newline = this.newline;
    if ((newline !== "\r" && newline !== "\r\n") || !text.includes("\n")) return text;
    return text.replaceAll("\n", newline);
  }
}

/** The number of characters (code points) in `text`, as Python's `len()` counts them. */
export function codePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}
