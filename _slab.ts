// Where a stream socket's reads land: how large a read is, the arrays
// (slabs) the read buffer reads into, and the window of unread bytes in
// them that read calls take views of (SlabWindow, the base of ReadBuffer).

import { EMPTY, view } from "./_bytes.ts";
import { Turns } from "./_turns.ts";

// Reads start small so an idle connection pins little memory (a pending read
// holds its target), and double while the peer fills them, up to 256 KiB as
// asyncio's: every read is an op and a system call, so a stream that keeps
// them full goes faster with fewer, larger ones.
export const MIN_READ = 2048;
export const MAX_READ = 262144;
// Reads of 64 KiB and more go into slabs of at least 256 KiB, several reads
// each, so recv() hands out disjoint views without an array per call.
export const LARGE_READ = 65536;
const LARGE_SLAB = 262144;
// The smallest slab tail still used for a read before a new slab is taken.
export const MIN_TAIL = 512;

/** A new slab for `avail` buffered bytes and a read of `want` more. */
export function newSlab(avail: number, want: number): Uint8Array {
  const size = avail + (want >= LARGE_READ ? Math.max(want, LARGE_SLAB) : want);
  // Every slab is the socket's own ArrayBuffer, never shared with another
  // socket: an array recv returned exposes (through its .buffer) and lets a
  // caller transfer only bytes of its own stream.
  return new Uint8Array(size);
}

/** The next read size after a read of `n` bytes into room for `want`: double when full, halve when mostly empty. */
export function adaptReadSize(size: number, n: number, want: number): number {
  if (n === want && size < MAX_READ) return size * 2;
  if (n < want >> 3 && size > MIN_READ) return size >> 1;
  return size;
}

// Room reserved at once for bytes a call waits for; beyond it, see fillTarget.
const TRUSTED_ROOM = 1 << 20;

/**
 * The window `slab[start, end)` of bytes read and not yet consumed, and
 * where the next read lands. ReadBuffer (the read calls) extends it.
 */
export class SlabWindow extends Turns {
  protected slab: Uint8Array = EMPTY;
  protected start = 0;
  protected end = 0;
  // Views of the slab were handed to callers: its bytes must never change,
  // so the window may move forward but never back.
  protected shared = false;
  #readSize = MIN_READ;
  #want = 0;
  // The size of the last read: the next is likely as large (see fillTarget).
  #lastRead = 0;

  /**
   * Where the next read goes: the slab's tail, or fresh room for `need`
   * buffered bytes; at most `cap` bytes beyond what `need` asks for.
   */
  protected fillTarget(need: number, cap = MAX_READ): Uint8Array {
    if (this.end > this.slab.length) this.#detachedNow();
    const avail = this.end - this.start;
    if (avail === 0 && this.end > 0) {
      // Drained: the slab becomes its unread tail (the views handed out keep
      // the bytes before it), so the read's target is the slab itself.
      if (this.shared) this.slab = view(this.slab, this.end, this.slab.length - this.end);
      this.shared = false;
      this.start = this.end = 0;
    }
    // A length a peer announced is a claim, not bytes: past TRUSTED_ROOM the
    // room made grows with what has arrived (to at most 4x it), so headers
    // alone cannot make every connection reserve its maxMessage.
    const more = Math.min(need - avail, Math.max(TRUSTED_ROOM, 3 * avail));
    let want = Math.max(Math.min(this.#readSize, cap), more);
    const tail = this.slab.length - this.end;
    // Read into what is left of the slab while it is worth a read: small
    // messages then share one slab instead of costing an allocation each.
    // Only while it holds a read as large as the last one, though: a tail
    // smaller than the message arriving splits it in two recv()s, where
    // CPython returns it whole (a 1,500-byte ping-pong split 1 in 8).
    if (tail >= MIN_TAIL && tail >= more && tail >= this.#lastRead) want = Math.min(want, tail);
    else this.reserve(want);
    this.#want = want;
    // A read into the whole slab passes the slab: no view per read (an
    // idle connection holds one array less).
    if (this.end === 0 && want === this.slab.length) return this.slab;
    return view(this.slab, this.end, want);
  }

  /** Records a read of `n` bytes into the last target of fillTarget. */
  protected landed(n: number): void {
    this.end += n;
    this.#lastRead = n;
    this.#readSize = adaptReadSize(this.#readSize, n, this.#want);
  }

  /** Makes room for `want` more bytes after `end`, keeping the buffered window. */
  protected reserve(want: number): void {
    const avail = this.end - this.start;
    if (avail === 0 && !this.shared) {
      this.start = this.end = 0;
    }
    if (this.slab.length - this.end >= want) return;
    if (!this.shared && this.slab.length - avail >= want) {
      this.slab.copyWithin(0, this.start, this.end);
    } else {
      const slab = newSlab(avail, want);
      if (avail > 0) slab.set(this.slab.subarray(this.start, this.end));
      this.slab = slab;
      this.shared = false;
    }
    this.start = 0;
    this.end = avail;
  }

  /** Hands out the next `n` buffered bytes (or all there are) as a view the caller owns. */
  protected take(n: number): Uint8Array {
    if (this.end > this.slab.length) this.#detachedNow();
    const start = this.start;
    this.start = Math.min(this.end, start + n);
    this.shared = true;
    return view(this.slab, start, this.start - start);
  }

  // A caller transferred the ArrayBuffer under an array it was handed
  // (postMessage, ArrayBuffer.prototype.transfer), detaching the slab: its
  // length is 0. With nothing buffered nothing is lost, and a new slab
  // follows. Bytes buffered in it (or `landed` there by a read pending at
  // the transfer) went with it: the stream has a hole (see broken).

  /** Starts over with an empty window; the error when bytes were lost. */
  protected detached(landed = 0): TypeError | null {
    const lost = this.end - this.start + landed;
    this.slab = EMPTY;
    this.start = this.end = 0;
    this.shared = false;
    if (lost === 0) return null;
    return new TypeError(
      `Cannot read: the ArrayBuffer under an array this socket returned was transferred with ` +
        `${lost} unread bytes of the stream in it; transfer a copy (data.slice()) instead`,
    );
  }

  #detachedNow(): void {
    const err = this.detached();
    if (err !== null) this.broken(err);
  }

  /** What a read call meets at a hole in the stream (see detached). */
  protected broken(err: TypeError): never {
    throw err;
  }
}
