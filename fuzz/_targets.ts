// Seeded fuzz targets shared by the short run in tests/fuzz_test.ts and the
// long one (`deno task fuzz`). Each target makes one random or mutated input
// from a PRNG, runs pysock on it and compares the outcome with a simple
// reference implementation written from the contract (API.md, asyncio's
// StreamReader, Python's address rules), throwing a FuzzMismatch that says
// how to replay the input.

import { kReader, ReadBuffer } from "../_buffer.ts";
import { checkIpAddress, checkUnixPath } from "../_address.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  EAI,
  errno,
  gaierror,
  IncompleteReadError,
  LimitOverrunError,
  MessageTooLargeError,
  OSError,
  socket,
  type StreamSocket,
} from "../mod.ts";
import {
  type HeaderSize,
  MessageDecoder,
  recvExactly,
  recvMsg,
  recvMsgBatches,
  recvMsgs,
  recvUntil,
} from "../framing.ts";

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same run. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [min, max]. */
export function randInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

/** `length` random bytes, each below `alphabet`. */
export function randomBytes(random: () => number, length: number, alphabet = 256): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * alphabet);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `[${value.length} bytes: ${[...value.slice(0, 24)]}]`;
  if (value instanceof Error) return `${value.constructor.name}: ${value.message}`;
  try {
    return JSON.stringify(value, (_, v) => typeof v === "bigint" ? `${v}n` : v) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A difference between pysock and the reference, with the input that shows it. */
export class FuzzMismatch extends Error {
  constructor(target: string, what: string, input: unknown) {
    super(`${target}: ${what}\n  input: ${show(input)}`);
    this.name = "FuzzMismatch";
  }
}

/** Splits `data` into chunks of random sizes, empty ones included. */
function randomChunks(random: () => number, data: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const style = randInt(random, 0, 3);
  while (offset < data.length) {
    const size = style === 0
      ? 1
      : style === 1
      ? randInt(random, 0, 7)
      : style === 2
      ? randInt(random, 0, 64)
      : randInt(random, 0, data.length);
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  if (random() < 0.2) chunks.push(new Uint8Array(0));
  return chunks;
}

// ---- framing: MessageDecoder and recvMsg ----

interface FramingCase {
  header: HeaderSize;
  littleEndian: boolean;
  maxMessage: number;
  stream: Uint8Array;
  chunks: Uint8Array[];
}

/** How a stream of frames ends: cleanly, inside a frame, or at a header over maxMessage. */
type Ending =
  | { kind: "clean" }
  | { kind: "incomplete"; partial: Uint8Array; expected: number }
  | { kind: "too large"; size: number };

interface Decoded {
  messages: Uint8Array[];
  ending: Ending;
}

/** The reference encoder: an unsigned length header, then the payload. */
function referenceFrame(
  payload: Uint8Array,
  header: HeaderSize,
  littleEndian: boolean,
): Uint8Array {
  const out = new Uint8Array(header + payload.length);
  let size = BigInt(payload.length);
  for (let i = 0; i < header; i++) {
    out[littleEndian ? i : header - 1 - i] = Number(size & 0xffn);
    size >>= 8n;
  }
  out.set(payload, header);
  return out;
}

/** The reference decoder: reads the whole stream at once, frame after frame. */
function referenceDecode(c: FramingCase): Decoded {
  const messages: Uint8Array[] = [];
  let pos = 0;
  while (pos < c.stream.length) {
    if (c.stream.length - pos < c.header) {
      return {
        messages,
        ending: { kind: "incomplete", partial: c.stream.slice(pos), expected: c.header },
      };
    }
    let size = 0n;
    for (let i = 0; i < c.header; i++) {
      const byte = c.stream[pos + (c.littleEndian ? c.header - 1 - i : i)];
      size = (size << 8n) | BigInt(byte);
    }
    if (size > BigInt(c.maxMessage)) {
      return { messages, ending: { kind: "too large", size: Number(size) } };
    }
    pos += c.header;
    const n = Number(size);
    if (c.stream.length - pos < n) {
      return {
        messages,
        ending: { kind: "incomplete", partial: c.stream.slice(pos), expected: n },
      };
    }
    messages.push(c.stream.slice(pos, pos + n));
    pos += n;
  }
  return { messages, ending: { kind: "clean" } };
}

const MAX_MESSAGES = [0, 1, 2, 7, 100, 255, 256, 300, 4096, 65535, 70000];

/** A framed stream: valid, truncated, mutated, or random bytes; split at random. */
export function framingCase(random: () => number): FramingCase {
  const header = pick(random, [1, 2, 4, 8] as const);
  const littleEndian = random() < 0.5;
  const maxMessage = pick(random, MAX_MESSAGES);
  let stream: Uint8Array;
  if (random() < 0.15) {
    stream = randomBytes(random, randInt(random, 0, 120), pick(random, [2, 4, 256]));
  } else {
    const frames: Uint8Array[] = [];
    const count = randInt(random, 0, 8);
    const cap = Math.min(maxMessage, random() < 0.9 ? 300 : 3000, 2 ** (8 * header) - 1);
    for (let i = 0; i < count; i++) {
      frames.push(
        referenceFrame(randomBytes(random, randInt(random, 0, cap)), header, littleEndian),
      );
    }
    stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let offset = 0;
    for (const f of frames) {
      stream.set(f, offset);
      offset += f.length;
    }
    if (random() < 0.25 && stream.length > 0) {
      stream = stream.slice(0, randInt(random, 0, stream.length));
    }
    if (random() < 0.25 && stream.length > 0) {
      for (let flips = randInt(random, 1, 3); flips > 0; flips--) {
        stream[randInt(random, 0, stream.length - 1)] = randInt(random, 0, 255);
      }
    }
  }
  return { header, littleEndian, maxMessage, stream, chunks: randomChunks(random, stream) };
}

function sameEnding(actual: unknown, expected: Ending, maxMessage: number): boolean {
  if (expected.kind === "clean") return actual === null;
  if (expected.kind === "too large") {
    return actual instanceof MessageTooLargeError && actual.size === expected.size &&
      actual.maxMessage === maxMessage;
  }
  return actual instanceof IncompleteReadError && actual.expected === expected.expected &&
    equalBytes(actual.partial, expected.partial);
}

function checkMessages(
  target: string,
  c: FramingCase,
  got: Uint8Array[],
  want: Uint8Array[],
): void {
  if (got.length !== want.length) {
    throw new FuzzMismatch(target, `${got.length} messages, reference ${want.length}`, c);
  }
  for (let i = 0; i < got.length; i++) {
    if (!equalBytes(got[i], want[i])) {
      throw new FuzzMismatch(target, `message ${i}: ${show(got[i])} != ${show(want[i])}`, c);
    }
  }
}

/**
 * Runs `fn` with `new Uint8Array(n)` counted: resolves to the largest
 * length allocated (pysock must never reserve more than `maxMessage` for
 * a message a header announces).
 */
function largestAllocation(fn: () => void): number {
  const original = globalThis.Uint8Array;
  let largest = 0;
  globalThis.Uint8Array = new Proxy(original, {
    construct(target, args, newTarget) {
      const [first] = args;
      if (typeof first === "number") largest = Math.max(largest, first);
      else if (Array.isArray(first)) largest = Math.max(largest, first.length);
      return Reflect.construct(target, args, newTarget);
    },
  });
  try {
    fn();
  } finally {
    globalThis.Uint8Array = original;
  }
  return largest;
}

/** MessageDecoder, fed the chunks, against the reference decoder. */
export function fuzzDecoder(random: () => number): void {
  const c = framingCase(random);
  const want = referenceDecode(c);
  const got: Uint8Array[] = [];
  let ending: unknown = null;
  const largest = largestAllocation(() => {
    const decoder = new MessageDecoder(c);
    try {
      for (const chunk of c.chunks) for (const m of decoder.push(chunk)) got.push(m.slice());
      decoder.end();
    } catch (err) {
      ending = err;
    }
  });
  checkMessages("MessageDecoder", c, got, want.messages);
  if (!sameEnding(ending, want.ending, c.maxMessage)) {
    throw new FuzzMismatch(
      "MessageDecoder",
      `ended ${show(ending)}, reference ${show(want.ending)}`,
      c,
    );
  }
  if (largest > Math.max(c.maxMessage, 8)) {
    throw new FuzzMismatch("MessageDecoder", `allocated ${largest} bytes past maxMessage`, c);
  }
}

/** A Source that hands out `chunks` one read at a time, then end of stream. */
function chunkSource(chunks: readonly Uint8Array[]) {
  let next = 0;
  let rest: Uint8Array | null = null;
  return {
    read(p: Uint8Array): Promise<number | null> {
      while (rest === null || rest.length === 0) {
        if (next === chunks.length) return Promise.resolve(null);
        rest = chunks[next++];
      }
      const n = Math.min(p.length, rest.length);
      p.set(rest.subarray(0, n));
      rest = rest.subarray(n);
      return Promise.resolve(n);
    },
  };
}

/** An object that framing.ts takes for a connected socket: the buffer over `chunks`, no timeout. */
function fakeSocket(chunks: readonly Uint8Array[]): StreamSocket {
  const buffer = new ReadBuffer(chunkSource(chunks), (err) => err);
  return { [kReader]: () => buffer, gettimeout: () => null } as unknown as StreamSocket;
}

/** recvMsg, over the one read buffer fed the chunks, against the reference decoder. */
export async function fuzzRecvMsg(random: () => number): Promise<void> {
  const c = framingCase(random);
  const want = referenceDecode(c);
  const sock = fakeSocket(c.chunks);
  const got: Uint8Array[] = [];
  let ending: unknown;
  for (;;) {
    try {
      const message = await recvMsg(sock, c);
      if (message === null) {
        ending = null;
        break;
      }
      got.push(message);
    } catch (err) {
      ending = err;
      break;
    }
    if (got.length > want.messages.length) break;
  }
  checkMessages("recvMsg", c, got, want.messages);
  if (!sameEnding(ending, want.ending, c.maxMessage)) {
    throw new FuzzMismatch("recvMsg", `ended ${show(ending)}, reference ${show(want.ending)}`, c);
  }
}

/**
 * recvMsgs, or with `batches` recvMsgBatches (every batch non-empty),
 * against the reference decoder: the same messages, then the same ending
 * (the iterator ends, or its step rejects with the error).
 */
async function fuzzIterator(random: () => number, batches: boolean): Promise<void> {
  const target = batches ? "recvMsgBatches" : "recvMsgs";
  const c = framingCase(random);
  const want = referenceDecode(c);
  const sock = fakeSocket(c.chunks);
  const got: Uint8Array[] = [];
  let ending: unknown = null;
  try {
    if (batches) {
      for await (const batch of recvMsgBatches(sock, c)) {
        if (batch.length === 0) throw new FuzzMismatch(target, "an empty batch", c);
        got.push(...batch);
      }
    } else {
      for await (const message of recvMsgs(sock, c)) got.push(message);
    }
  } catch (err) {
    if (err instanceof FuzzMismatch) throw err;
    ending = err;
  }
  checkMessages(target, c, got, want.messages);
  if (!sameEnding(ending, want.ending, c.maxMessage)) {
    throw new FuzzMismatch(target, `ended ${show(ending)}, reference ${show(want.ending)}`, c);
  }
}

// ---- recvUntil and recvExactly: asyncio's readuntil/readexactly ----

/** What asyncio's readuntil must do at `pos`: the segment, an overrun, or end of stream. */
type UntilResult =
  | { kind: "segment"; end: number }
  | { kind: "overrun"; min: number; max: number }
  | { kind: "incomplete" };

/** The reference readuntil, from asyncio's rules, for the unread bytes `stream[pos..]`. */
function referenceUntil(
  stream: Uint8Array,
  pos: number,
  delim: Uint8Array,
  limit: number,
): UntilResult {
  const at = indexOf(stream, delim, pos);
  if (at !== -1) {
    const before = at - pos;
    if (before <= limit) return { kind: "segment", end: at + delim.length };
    // Found late, or given up on before it arrived: either way past the limit.
    return { kind: "overrun", min: limit + 1, max: before };
  }
  const searched = stream.length - pos + 1 - delim.length;
  if (searched > limit) return { kind: "overrun", min: limit + 1, max: searched };
  return { kind: "incomplete" };
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * recvUntil and recvExactly, called in a random order over the one read
 * buffer fed random chunks, against asyncio's rules: the segment with its
 * delimiter within `limit`; a LimitOverrunError that consumes nothing
 * otherwise; IncompleteReadError with every unread byte at end of stream.
 */
export function fuzzRecvUntil(random: () => number): Promise<void> {
  const c = delimitedCase(random);
  return checkRecvUntil(random, c, fakeSocket(c.chunks));
}

/** A stream over a small alphabet, so delimiters are frequent, split at random. */
export interface DelimitedCase {
  alphabet: number;
  stream: Uint8Array;
  chunks: Uint8Array[];
}

/** Makes the input of {@linkcode checkRecvUntil}. */
export function delimitedCase(random: () => number): DelimitedCase {
  const alphabet = randInt(random, 2, 5);
  const stream = randomBytes(random, randInt(random, 0, 160), alphabet);
  return { alphabet, stream, chunks: randomChunks(random, stream) };
}

/**
 * Calls recvUntil and recvExactly in a random order on `sock`, which must
 * deliver `c.stream` and then end, and checks each result against the reference.
 */
export async function checkRecvUntil(
  random: () => number,
  c: DelimitedCase,
  sock: StreamSocket,
): Promise<void> {
  const { alphabet, stream } = c;
  const input = { stream, chunks: c.chunks.map((chunk) => chunk.length) };
  let pos = 0;
  for (let step = 0; step < 64; step++) {
    if (random() < 0.2) {
      const n = randInt(random, 0, 12);
      const got = await recvExactly(sock, n).catch((e) => e);
      if (stream.length - pos >= n) {
        if (!(got instanceof Uint8Array) || !equalBytes(got, stream.subarray(pos, pos + n))) {
          throw new FuzzMismatch("recvExactly", `at ${pos}, n ${n}: ${show(got)}`, input);
        }
        pos += n;
        continue;
      }
      if (
        !(got instanceof IncompleteReadError) || got.expected !== n ||
        !equalBytes(got.partial, stream.subarray(pos))
      ) {
        throw new FuzzMismatch(
          "recvExactly",
          `at ${pos}, n ${n}, end of stream: ${show(got)}`,
          input,
        );
      }
      return;
    }
    const delim = randomBytes(random, randInt(random, 1, 3), alphabet);
    const limit = randInt(random, 1, 40);
    const want = referenceUntil(stream, pos, delim, limit);
    const what = `at ${pos}, delimiter [${delim}], limit ${limit}`;
    const got = await recvUntil(sock, delim, { limit }).catch((e) => e);
    if (want.kind === "segment") {
      if (!(got instanceof Uint8Array) || !equalBytes(got, stream.subarray(pos, want.end))) {
        throw new FuzzMismatch(
          "recvUntil",
          `${what}: ${show(got)}, reference segment to ${want.end}`,
          input,
        );
      }
      pos = want.end;
    } else if (want.kind === "overrun") {
      if (
        !(got instanceof LimitOverrunError) || got.consumed < want.min || got.consumed > want.max
      ) {
        throw new FuzzMismatch(
          "recvUntil",
          `${what}: ${show(got)}, reference overrun ${want.min}-${want.max}`,
          input,
        );
      }
      // The bytes stay buffered: reading `consumed` of them must give them back in order.
      const kept = await recvExactly(sock, got.consumed);
      if (!equalBytes(kept, stream.subarray(pos, pos + got.consumed))) {
        throw new FuzzMismatch("recvUntil", `${what}: overrun lost or changed bytes`, input);
      }
      pos += got.consumed;
    } else {
      if (
        !(got instanceof IncompleteReadError) || got.expected !== null ||
        !equalBytes(got.partial, stream.subarray(pos))
      ) {
        throw new FuzzMismatch(
          "recvUntil",
          `${what}: ${show(got)}, reference end of stream`,
          input,
        );
      }
      return;
    }
  }
}

// ---- address parsing ----

const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The error classes a malformed address may give: every check it fails. */
type Verdict = { ok: true; host: string; port: number } | { ok: false; errors: string[] };

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** Whether `text` is an IPv6 address, by the URL parser's rules (a reference independent of _inet.ts). */
function isIpv6(text: string): boolean {
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/** The reference address check, written from API.md and Python's rules. */
function referenceIpAddress(addr: unknown, family: number): Verdict {
  const max = family === AF_INET6 ? 4 : 2;
  if (!Array.isArray(addr) || addr.length < 2 || addr.length > max) {
    return { ok: false, errors: ["TypeError"] };
  }
  const errors: string[] = [];
  const [host, port, flowinfo, scopeId] = addr;
  if (!isInt(port)) errors.push("TypeError");
  else if (port < 0 || port > 65535) errors.push("RangeError");
  let mapped = "";
  if (typeof host !== "string" || host.includes("\0")) errors.push("TypeError");
  else if (host.length > 253) errors.push("RangeError");
  else {
    mapped = host === ""
      ? (family === AF_INET6 ? "::" : "0.0.0.0")
      : host === "<broadcast>"
      ? "255.255.255.255"
      : host; // "[::1]" is a name, as in CPython: brackets are URL syntax
    const literal = DOTTED.test(mapped) ||
      (mapped.includes(":") && /^[0-9a-fA-F:.]+(%\w+)?$/.test(mapped) &&
        isIpv6(mapped.replace(/%.*/, "")));
    if (!literal) {
      const name = mapped.toLowerCase().replace(/\.$/, "");
      const bad = name === "invalid" || name.endsWith(".invalid") ||
        !name.split(".").every((label) => LABEL.test(label));
      if (bad) errors.push("gaierror");
    }
  }
  if (addr.length >= 3) {
    if (!isInt(flowinfo)) errors.push("TypeError");
    else if (flowinfo < 0 || flowinfo > 0xfffff) errors.push("RangeError");
  }
  if (addr.length === 4) {
    if (!isInt(scopeId)) errors.push("TypeError");
    else if (scopeId < 0 || scopeId > 0xffffffff) errors.push("RangeError");
  }
  if (errors.length > 0) return { ok: false, errors };
  if (family === AF_INET6 && mapped.includes(":")) {
    // The tuple's scope id, as CPython gives the socket, not a zone in the host.
    const bare = mapped.replace(/%.*/, "");
    const scope = addr.length === 4 ? scopeId as number : 0;
    return { ok: true, host: scope === 0 ? bare : `${bare}%${scope}`, port: port as number };
  }
  return { ok: true, host: mapped, port: port as number };
}

function referenceUnixPath(addr: unknown): { ok: true } | { ok: false; error: string } {
  if (typeof addr !== "string") return { ok: false, error: "TypeError" };
  if (addr === "" || addr.startsWith("\0")) return { ok: false, error: `OSError ${errno.EINVAL}` };
  if (addr.includes("\0")) return { ok: false, error: "TypeError" };
  // CPython's own check: "AF_UNIX path too long", an OSError with no errno.
  if (new TextEncoder().encode(addr).length > 107) return { ok: false, error: "OSError null" };
  return { ok: true };
}

function errorName(err: unknown): string {
  if (err instanceof gaierror) {
    return err.errno === EAI.EAI_NONAME ? "gaierror" : `gaierror ${err.errno}`;
  }
  if (err instanceof OSError) return `OSError ${err.errno}`;
  if (err instanceof TypeError) return "TypeError";
  if (err instanceof RangeError) return "RangeError";
  return `unexpected ${show(err)}`;
}

const HOSTS = [
  "127.0.0.1",
  "::1",
  "[::1]",
  "0.0.0.0",
  "::",
  "",
  "<broadcast>",
  "localhost",
  "localhost.",
  "LOCALHOST",
  "fe80::1%lo",
  "::ffff:127.0.0.1",
  "256.0.0.1",
  "1.2.3",
  "example.invalid",
  "INVALID",
  "a..b",
  "-start",
  "end-",
  "under_score",
  "bad name",
  "bad!name",
  "ünïcode",
  "a".repeat(63),
  "a".repeat(64),
  `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`,
  `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`,
  "h".repeat(300),
  "127.0.0.1\0",
  "\0",
  "[",
  "]",
  "[]",
  ".",
  "..",
];

/** A host: a known tricky one, or a random mutation of one. */
function randomHost(random: () => number): unknown {
  const r = random();
  if (r < 0.6) return pick(random, HOSTS);
  if (r < 0.75) {
    const base = pick(random, HOSTS);
    const chars = [...base];
    const at = randInt(random, 0, chars.length);
    const insert = pick(random, [
      ".",
      "-",
      "_",
      ":",
      "%",
      "\0",
      " ",
      "[",
      "]",
      "a",
      "0",
      "é",
      "x".repeat(70),
    ]);
    chars.splice(at, random() < 0.5 ? 0 : 1, insert);
    return chars.join("");
  }
  return randomValue(random);
}

/** Something of a random type, often a number near a boundary. */
function randomValue(random: () => number): unknown {
  return pick(random, [
    0,
    1,
    -1,
    65535,
    65536,
    70000,
    0xfffff,
    0x100000,
    0xffffffff,
    2 ** 32,
    1.5,
    -0,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_SAFE_INTEGER,
    2 ** 53,
    80n,
    "80",
    "",
    null,
    undefined,
    true,
    {},
    [],
    [80],
    Symbol.iterator,
  ]);
}

function randomPort(random: () => number): unknown {
  return random() < 0.6 ? randInt(random, -2, 65537) : randomValue(random);
}

function randomAddress(random: () => number): unknown {
  if (random() < 0.05) return randomValue(random);
  const length = pick(random, [0, 1, 2, 2, 2, 3, 4, 4, 5]);
  const addr: unknown[] = [];
  for (let i = 0; i < length; i++) {
    addr.push(
      i === 0 ? randomHost(random) : i === 1 ? randomPort(random) : (
        random() < 0.5 ? randInt(random, -1, 0x100001) : randomValue(random)
      ),
    );
  }
  return addr;
}

function randomUnixPath(random: () => number): unknown {
  const r = random();
  if (r < 0.1) return randomValue(random);
  if (r < 0.2) return pick(random, ["", "\0abstract", "/tmp/a\0b", "/tmp/x.sock"]);
  const unit = pick(random, ["a", "é", "€", "😀", "/"]);
  const prefix = random() < 0.1 ? "\0" : "/tmp/";
  const middle = random() < 0.1 ? "\0" : "";
  return prefix + unit.repeat(randInt(random, 0, 120)) + middle;
}

/** Whether `host` is a loopback literal: the only hosts the fuzz may hand to a real bind. */
function isLoopbackLiteral(host: string): boolean {
  return host === "127.0.0.1" || host === "::1";
}

/**
 * checkIpAddress and checkUnixPath against the reference checks; then, only
 * for inputs the checks refuse (so nothing can reach Deno or the DNS),
 * socket().bind and connect must refuse them the same way.
 */
export async function fuzzAddress(random: () => number): Promise<void> {
  const family = pick(random, [AF_INET, AF_INET6, AF_UNIX]);
  if (family === AF_UNIX) {
    const addr = randomUnixPath(random);
    const want = referenceUnixPath(addr);
    let got: unknown = null;
    try {
      checkUnixPath(addr, "bind");
    } catch (err) {
      got = err;
    }
    const gotName = got === null ? "ok" : errorName(got);
    const wantName = want.ok ? "ok" : want.error;
    if (gotName !== wantName) {
      throw new FuzzMismatch("checkUnixPath", `${gotName}, reference ${wantName}`, addr);
    }
    if (!want.ok) await sameFromSocket(random, family, addr, gotName);
    return;
  }
  const addr = randomAddress(random);
  const want = referenceIpAddress(addr, family);
  let got: unknown = null;
  let endpoint: { hostname: string; port: number } | null = null;
  try {
    endpoint = checkIpAddress(addr, family, "bind");
  } catch (err) {
    got = err;
  }
  if (want.ok) {
    if (endpoint === null || endpoint.hostname !== want.host || endpoint.port !== want.port) {
      throw new FuzzMismatch(
        "checkIpAddress",
        `${show(got ?? endpoint)}, reference ${show(want)}`,
        addr,
      );
    }
    if (isLoopbackLiteral(endpoint.hostname) && endpoint.port === 0) {
      // A real bind, safe: loopback, port 0.
      const sock = socket(family);
      try {
        sock.bind(addr as [string, number]);
      } catch (err) {
        // An IPv4 literal on AF_INET6 (or the reverse) is refused by the socket, not the check.
        if (!(err instanceof gaierror && err.errno === EAI.EAI_ADDRFAMILY)) {
          throw new FuzzMismatch("bind", `refused a valid loopback address: ${show(err)}`, addr);
        }
      } finally {
        sock.close();
      }
    }
    return;
  }
  const name = errorName(got);
  if (!want.errors.includes(name)) {
    throw new FuzzMismatch("checkIpAddress", `${name}, reference one of ${want.errors}`, addr);
  }
  await sameFromSocket(random, family, addr, name);
}

/** bind (and sometimes connect) on a fresh socket must fail as the check did, before any I/O. */
async function sameFromSocket(
  random: () => number,
  family: number,
  addr: unknown,
  expected: string,
): Promise<void> {
  const sock = socket(family);
  try {
    let bound: unknown = null;
    try {
      sock.bind(addr as string);
    } catch (err) {
      bound = err;
    }
    if (errorName(bound) !== expected) {
      throw new FuzzMismatch("bind", `${show(bound)}, the check gave ${expected}`, {
        family,
        addr,
      });
    }
    if (random() < 0.25) {
      const connected = await sock.connect(addr as string).then(() => null, (err) => err);
      if (errorName(connected) !== expected) {
        throw new FuzzMismatch("connect", `${show(connected)}, the check gave ${expected}`, {
          family,
          addr,
        });
      }
    }
    const unbound = family === AF_UNIX ? "" : family === AF_INET6 ? "::" : "0.0.0.0";
    const name = sock.getsockname();
    if ((typeof name === "string" ? name : name[0]) !== unbound) {
      throw new FuzzMismatch("bind", `a refused bind left the socket bound to ${show(name)}`, {
        family,
        addr,
      });
    }
  } finally {
    sock.close();
  }
}

/** A fuzz target: one input per call. */
export interface Target {
  name: string;
  run(random: () => number): void | Promise<void>;
}

/** Every target, in the order the runners use. */
export const TARGETS: readonly Target[] = [
  { name: "MessageDecoder", run: fuzzDecoder },
  { name: "recvMsg", run: fuzzRecvMsg },
  { name: "recvMsgs", run: (random) => fuzzIterator(random, false) },
  { name: "recvMsgBatches", run: (random) => fuzzIterator(random, true) },
  { name: "recvUntil/recvExactly", run: fuzzRecvUntil },
  { name: "address parsing", run: fuzzAddress },
];

/**
 * Runs `count` inputs of `target` from `seed`; every input gets its own
 * seed (`seed + i`), so a failure names the one input to replay.
 * @returns How many inputs ran.
 */
export async function runTarget(target: Target, seed: number, count: number): Promise<number> {
  for (let i = 0; i < count; i++) {
    const inputSeed = (seed + i) >>> 0;
    try {
      await target.run(prng(inputSeed));
    } catch (err) {
      if (err instanceof FuzzMismatch) err.message += `\n  replay: seed ${inputSeed}`;
      else if (err instanceof Error) {
        err.message = `${target.name} (seed ${inputSeed}): ${err.message}`;
      }
      throw err;
    }
  }
  return count;
}
