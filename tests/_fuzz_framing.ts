// Seeded fuzzing of the framing codec against plain reference implementations.
// The tests import the pieces and run a short round (~2 s); run this file
// directly for a longer one:
//
//   deno run tests/_fuzz_framing.ts --seconds 60 --seed 7

import { parseArgs } from "node:util";
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  DelimiterDecoderStream,
  encodeMessage,
  type FramingOptions,
  type HeaderSize,
  MessageDecoder,
} from "../framing.ts";
import { LimitOverrunError, MessageTooLargeError } from "../errors.ts";

export { prng, randInt, randomBytes } from "../fuzz/_targets.ts";
export { concat } from "../_bytes.ts";
import { prng, randInt, randomBytes } from "../fuzz/_targets.ts";
import { concat } from "../_bytes.ts";

/** Cuts `bytes` into pieces of random length in [1, maxChunk], each a fresh copy. */
export function randomChunks(
  random: () => number,
  bytes: Uint8Array,
  maxChunk: number,
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const size = Math.min(randInt(random, 1, maxChunk), bytes.length - offset);
    chunks.push(bytes.slice(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Cuts `bytes` into one-byte pieces. */
export function byteChunks(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (byte) => new Uint8Array([byte]));
}

/**
 * The reference decoder: the whole stream in one array, one DataView, read
 * header then payload until the end. No state carried between chunks.
 */
export function referenceDecode(
  wire: Uint8Array,
  options: Required<FramingOptions>,
): { messages: Uint8Array[]; error?: "too-large" | "incomplete" } {
  const view = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
  const messages: Uint8Array[] = [];
  let offset = 0;
  while (offset < wire.length) {
    if (wire.length - offset < options.header) return { messages, error: "incomplete" };
    const size = readSize(view, offset, options);
    if (size > options.maxMessage) return { messages, error: "too-large" };
    offset += options.header;
    if (wire.length - offset < size) return { messages, error: "incomplete" };
    messages.push(wire.slice(offset, offset + size));
    offset += size;
  }
  return { messages };
}

function readSize(view: DataView, offset: number, options: Required<FramingOptions>): number {
  const le = options.littleEndian;
  switch (options.header) {
    case 1:
      return view.getUint8(offset);
    case 2:
      return view.getUint16(offset, le);
    case 4:
      return view.getUint32(offset, le);
    case 8:
      return Number(view.getBigUint64(offset, le));
  }
}

/** Runs a MessageDecoder over `chunks`, noting how it ended. */
export function decodeChunks(
  chunks: readonly Uint8Array[],
  options: FramingOptions,
): { messages: Uint8Array[]; error?: "too-large" | "incomplete" } {
  const decoder = new MessageDecoder(options);
  const messages: Uint8Array[] = [];
  try {
    for (const chunk of chunks) messages.push(...decoder.push(chunk).map((m) => m.slice()));
    decoder.end();
  } catch (err) {
    if (err instanceof MessageTooLargeError) return { messages, error: "too-large" };
    if (err instanceof Error && err.name === "IncompleteReadError") {
      return { messages, error: "incomplete" };
    }
    throw err;
  }
  return { messages };
}

/**
 * The reference splitter: the whole stream in one array, split at each
 * delimiter found by brute force, with asyncio's limit rule (a segment longer
 * than `limit` fails; a tail without delimiter fails only when even a
 * delimiter starting at its end could not save it).
 */
export function referenceSplit(
  bytes: Uint8Array,
  delimiter: Uint8Array,
  limit: number,
): { segments: Uint8Array[]; overrun: boolean } {
  const segments: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i + delimiter.length <= bytes.length;) {
    if (!delimiter.every((b, j) => bytes[i + j] === b)) {
      i++;
      continue;
    }
    if (i - start > limit) return { segments, overrun: true };
    segments.push(bytes.slice(start, i));
    i += delimiter.length;
    start = i;
  }
  const tail = bytes.length - start;
  if (tail - (delimiter.length - 1) > limit) return { segments, overrun: true };
  if (tail > 0) segments.push(bytes.slice(start));
  return { segments, overrun: false };
}

/** Runs a DelimiterDecoderStream over `chunks`, collecting what it emits until it errors. */
export async function splitChunks(
  chunks: readonly Uint8Array[],
  delimiter: Uint8Array,
  limit: number,
): Promise<{ segments: Uint8Array[]; overrun: boolean }> {
  const segments: Uint8Array[] = [];
  const stream = ReadableStream.from(chunks).pipeThrough(
    new DelimiterDecoderStream(delimiter, { limit }),
  );
  try {
    for await (const segment of stream) segments.push(segment.slice());
  } catch (err) {
    if (err instanceof LimitOverrunError) return { segments, overrun: true };
    throw err;
  }
  return { segments, overrun: false };
}

const HEADERS: HeaderSize[] = [1, 2, 4, 8];
const CAPACITY: Record<HeaderSize, number> = { 1: 255, 2: 65535, 4: 2 ** 32 - 1, 8: 2 ** 53 - 1 };

/** Random framing options, sometimes with a small maxMessage to exercise the limit. */
export function randomOptions(random: () => number): Required<FramingOptions> {
  const header = HEADERS[randInt(random, 0, 3)];
  const maxMessage = random() < 0.2 ? randInt(random, 0, 300) : randInt(random, 300, 5000);
  return { header, littleEndian: random() < 0.5, maxMessage };
}

/**
 * One decoder case: random messages (some over maxMessage, some cut short),
 * random chunking; the decoder must agree with the reference.
 */
export function fuzzDecoderOnce(random: () => number): void {
  const options = randomOptions(random);
  const count = randInt(random, 0, 12);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const cap = Math.min(CAPACITY[options.header], options.maxMessage + 5, 2000);
    const size = random() < 0.3 ? randInt(random, 0, 3) : randInt(random, 0, cap);
    parts.push(encodeMessage(randomBytes(random, size), { ...options, maxMessage: cap }));
  }
  let wire = concat(parts);
  if (random() < 0.2 && wire.length > 0) wire = wire.subarray(0, randInt(random, 0, wire.length));
  if (random() < 0.05) wire = concat([wire, randomBytes(random, randInt(random, 1, 20))]);
  const expected = referenceDecode(wire, options);
  const maxChunk = random() < 0.3 ? 3 : randInt(random, 1, 4096);
  const chunking = random() < 0.1 ? byteChunks(wire) : randomChunks(random, wire, maxChunk);
  deepEqual(decodeChunks(chunking, options), expected);
}

/** One splitter case: small alphabet so delimiters and near-misses are common. */
export async function fuzzSplitterOnce(random: () => number): Promise<void> {
  const alphabet = randInt(random, 2, 4);
  const delimiter = randomBytes(random, randInt(random, 1, 4), alphabet);
  const bytes = randomBytes(random, randInt(random, 0, 600), alphabet);
  const limit = random() < 0.5 ? 1_000_000 : randInt(random, 1, 40);
  const expected = referenceSplit(bytes, delimiter, limit);
  const maxChunk = random() < 0.3 ? 2 : randInt(random, 1, 200);
  const actual = await splitChunks(randomChunks(random, bytes, maxChunk), delimiter, limit);
  equal(actual.overrun, expected.overrun);
  if (!expected.overrun) return deepEqual(actual.segments, expected.segments);
  // An error that cuts a flush may drop segments still queued in the
  // stream (Web Streams discard the queue on error): what arrived must be a
  // prefix of the reference's.
  ok(actual.segments.length <= expected.segments.length);
  deepEqual(actual.segments, expected.segments.slice(0, actual.segments.length));
}

/** Runs both fuzzers for about `seconds`, returning how many cases ran. */
export async function fuzz(seed: number, seconds: number): Promise<number> {
  const random = prng(seed);
  const deadline = performance.now() + seconds * 1000;
  let cases = 0;
  // Bounded in count as well as time, so a slow machine still ends.
  while (performance.now() < deadline && cases < 1_000_000) {
    fuzzDecoderOnce(random);
    await fuzzSplitterOnce(random);
    cases++;
  }
  return cases;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { seconds: { type: "string", default: "30" }, seed: { type: "string", default: "1" } },
  });
  const cases = await fuzz(Number(values.seed), Number(values.seconds));
  console.log(`${cases} decoder and splitter cases agree with the reference`);
}
