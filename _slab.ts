// Where a stream socket's reads land: how large a read is, and the arrays
// (slabs) the read buffer reads into.

import { EMPTY, view } from "./_bytes.ts";

// Reads start small so an idle connection pins little memory (a pending read
// holds its target), and double while the peer fills them, up to 256 KiB as
// asyncio's: a read costs a system call (about 30 µs under gVisor), so a
// stream that keeps them full goes faster with fewer, larger ones.
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
  return size <= PIECE_MAX ? piece(size) : new Uint8Array(size);
}

/** The next read size after a read of `n` bytes into room for `want`: double when full, halve when mostly empty. */
export function adaptReadSize(size: number, n: number, want: number): number {
  if (n === want && size < MAX_READ) return size * 2;
  if (n < want >> 3 && size > MIN_READ) return size >> 1;
  return size;
}

// Small slabs are pieces of blocks shared by many buffers, so an idle
// connection holds no ArrayBuffer of its own, only the few bytes its pending
// read needs (Deno has no readiness without a read, so a read is always
// pending, and its target must outlive it). Pieces are disjoint and each is
// written only by its own buffer; a block is freed once no piece or view of
// it is left.
const PIECE_MAX = 4096;
const BLOCK_SIZE = 16384;
let block: Uint8Array = EMPTY;
let blockUsed = 0;

function piece(size: number): Uint8Array {
  if (blockUsed + size > block.length) {
    block = new Uint8Array(BLOCK_SIZE);
    blockUsed = 0;
  }
  const bytes = view(block, blockUsed, size);
  blockUsed += size;
  return bytes;
}
