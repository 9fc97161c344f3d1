// framing.ts against CPython: recvExactly, recvUntil and recvLine against
// asyncio's StreamReader (readexactly, readuntil, readline) and recvMsg
// against Python's struct framing, each case run once in CPython and once in
// pysock against the same python3 peer on loopback (see _framing_twin.ts);
// then the pure codec (MessageDecoder, DelimiterDecoderStream) fed the same
// wire bytes in every chunking of it.

import { deepEqual, equal } from "node:assert/strict";
import {
  DelimiterDecoderStream,
  IncompleteReadError,
  LimitOverrunError,
  MessageDecoder,
  MessageTooLargeError,
} from "../framing.ts";
import { sendMsg } from "../framing.ts";
import { socketpair } from "../mod.ts";
import { pythonJson } from "./_helpers.ts";
import { hex } from "./_hostile_peer.ts";
import {
  assertSameAsAsyncio,
  type Case,
  h,
  type Op,
  type Outcome,
  type Part,
  twins,
} from "./_framing_twin.ts";

const until = (sep: string): Op => ({ op: "until", sep: h(sep) });
const REST: Op = { op: "rest" };
const a = (n: number) => "a".repeat(n);
const msg = (header: 1 | 2 | 4 | 8, little = false, max?: number): Op => ({
  op: "msg",
  header,
  little,
  max,
});

// --- readexactly -------------------------------------------------------------

const EXACTLY: Case[] = [
  {
    name: "exactly across segments",
    wire: [h("abcdefgh")],
    cuts: [2, 3],
    ops: [{ op: "exactly", n: 5 }, REST],
  },
  {
    name: "exactly one byte a segment",
    wire: [h("abcdef")],
    cuts: [1, 2, 3, 4, 5],
    ops: [{ op: "exactly", n: 4 }, { op: "exactly", n: 2 }, { op: "exactly", n: 1 }, REST],
  },
  {
    name: "exactly past end of stream",
    wire: [h("abcd")],
    cuts: [1],
    ops: [{ op: "exactly", n: 10 }, REST, { op: "exactly", n: 1 }],
  },
  {
    name: "exactly 0 at end of stream",
    wire: [h("xy")],
    ops: [{ op: "exactly", n: 2 }, { op: "exactly", n: 0 }, { op: "read", n: 5 }],
  },
  {
    name: "exactly with a negative n",
    wire: [h("xy")],
    ops: [{ op: "exactly", n: -1 }, REST],
  },
  {
    name: "exactly and read(n) share the buffer",
    wire: [h("0123456789")],
    cuts: [3, 7],
    ops: [{ op: "read", n: 2 }, { op: "exactly", n: 6 }, { op: "read", n: 100 }, REST],
  },
];

Deno.test("recvExactly matches asyncio readexactly, over segments and end of stream", async () => {
  assertSameAsAsyncio(EXACTLY, await twins(EXACTLY));
});

// A reset while a read waits: the same ConnectionResetError as asyncio. What
// the next read gets differs, by design of the one read buffer: asyncio's
// StreamReader keeps the exception and raises it from every later call
// (set_exception), with the bytes it held gone; pysock's readers consume
// nothing until they have all they need (as after a timeout), so the bytes
// that came before the reset are still the next recv's, as a Linux recv
// returns queued bytes before the error. (README says this for makefile's
// readline, not for the framing readers.)
Deno.test("a reset under recvExactly/recvUntil/recvLine/recvMsg raises as asyncio does, and keeps the bytes", async () => {
  const read: Op = { op: "read", n: 10 };
  const cases: Case[] = [
    { name: "exactly", wire: [h("abcd")], end: "reset", ops: [{ op: "exactly", n: 10 }, read] },
    { name: "until", wire: [h("ab\r")], end: "reset", ops: [until("\r\n"), read] },
    { name: "line", wire: [h("ab")], end: "reset", ops: [{ op: "line" }, read] },
    { name: "msg", wire: [{ pack: ">I", n: 5 }, h("abc")], end: "reset", ops: [msg(4), read] },
  ];
  const { python, pysock } = await twins(cases);
  const reset = { err: "ConnectionResetError" };
  const kept = ["abcd", "ab\r", "ab", "\0\0\0\x05abc"];
  cases.forEach((c, i) => {
    deepEqual(python[i], [reset, reset], c.name);
    deepEqual(pysock[i], [reset, { ok: h(kept[i]) }], c.name);
  });
});

// --- readuntil: separators split across segments at every offset -------------

function splitEverywhere(name: string, text: string, sep: string, limit?: number): Case[] {
  const ops: Op[] = [until(sep), until(sep), until(sep), REST];
  const out: Case[] = [];
  for (let k = 1; k < text.length; k++) {
    out.push({ name: `${name}, cut at ${k}`, wire: [h(text)], cuts: [k], limit, ops });
  }
  // Each byte of the first separator its own segment.
  const at = text.indexOf(sep);
  const cuts = Array.from({ length: sep.length + 1 }, (_, i) => at + i);
  out.push({ name: `${name}, separator byte by byte`, wire: [h(text)], cuts, limit, ops });
  return out;
}

const SPLIT: Case[] = [
  ...splitEverywhere("<END>", "hello<END>world<END>tail", "<END>"),
  ...splitEverywhere("\\r\\n", "GET /\r\nHost: x\r\n\r", "\r\n"),
  // A self-overlapping separator: "aab" inside "aaab".
  ...splitEverywhere("aab", "xaaab aab aa", "aab"),
  // At the limit: 6 bytes before "<END>" with limit 6, and the tail is the
  // separator minus its last byte.
  ...splitEverywhere("at limit", "sixsix<END>12345<END><EN", "<END>", 6),
];

Deno.test("recvUntil matches asyncio readuntil with the separator cut at every offset", async () => {
  assertSameAsAsyncio(SPLIT, await twins(SPLIT));
});

// --- readuntil: the limit -----------------------------------------------------

const LIMIT = 8;
const LIMITS: Case[] = ([
  { name: "found at exactly limit", wire: [h(a(8) + "\nz")], ops: [until("\n"), REST] },
  { name: "found at limit + 1", wire: [h(a(9) + "\nz")], ops: [until("\n"), REST] },
  { name: "two-byte separator at limit", wire: [h(a(8) + "\r\n")], ops: [until("\r\n"), REST] },
  {
    name: "two-byte separator at limit + 1",
    wire: [h(a(9) + "\r\n")],
    ops: [until("\r\n"), REST],
  },
  { name: "not found, limit + 5 bytes", wire: [h(a(13))], ops: [until("\n"), REST] },
  {
    // offset = 9 + 1 - 2 = 8: not over the limit, so end of stream decides.
    name: "not found, limit + seplen - 1 bytes",
    wire: [h(a(9))],
    ops: [until("\r\n"), REST],
  },
  { name: "not found, limit + seplen bytes", wire: [h(a(10))], ops: [until("\r\n"), REST] },
  {
    name: "limit overrun found in the second segment",
    wire: [h(a(5) + a(4) + "\nrest")],
    cuts: [5],
    ops: [until("\n"), REST],
  },
  {
    name: "limit overrun before the separator arrives",
    wire: [h(a(9) + "\n")],
    cuts: [9],
    ops: [until("\n"), REST],
  },
  {
    name: "overrun, then the same bytes by exactly and until",
    wire: [h(a(10) + "<END>x<END>")],
    cuts: [3, 12],
    ops: [until("<END>"), { op: "exactly", n: 4 }, until("<END>"), until("<END>"), REST],
  },
  {
    name: "a line within the limit after an overrun is read past",
    wire: [h("short\n" + a(20) + "\nok\n")],
    cuts: [6, 16],
    ops: [until("\n"), until("\n"), { op: "read", n: 21 }, until("\n"), REST],
  },
  { name: "an empty separator", wire: [h("abc")], ops: [{ op: "until", sep: "" }, REST] },
] as Case[]).map((c) => ({ ...c, limit: LIMIT }));

Deno.test("recvUntil's limit matches asyncio's LimitOverrunError, and the bytes stay", async () => {
  assertSameAsAsyncio(LIMITS, await twins(LIMITS));
});

// --- readline -----------------------------------------------------------------

const LINES: Case[] = [
  {
    name: "lines, then a last one without a newline",
    wire: [h("one\ntwo\nthr"), h("ee")],
    cuts: [2, 5, 9],
    ops: [{ op: "line" }, { op: "line" }, { op: "line" }, { op: "line" }, REST],
  },
  {
    name: "a line at exactly the limit",
    wire: [h(a(8) + "\n" + "b\n")],
    limit: 8,
    ops: [{ op: "line" }, { op: "line" }, { op: "line" }],
  },
  {
    name: "empty lines",
    wire: [h("\n\n\nx")],
    cuts: [1, 3],
    ops: [{ op: "line" }, { op: "line" }, { op: "line" }, { op: "line" }, { op: "line" }],
  },
];

Deno.test("recvLine matches asyncio readline within the limit", async () => {
  assertSameAsAsyncio(LINES, await twins(LINES));
});

// asyncio's readline, on a LimitOverrunError, drops the line (or the whole
// buffer when no newline was seen) and raises ValueError. pysock deliberately
// differs, as framing.ts documents and API.md asks ("Over the limit:
// LimitOverrunError, and the buffered bytes stay readable"): the same
// LimitOverrunError readuntil raises, with the same consumed and message,
// and nothing consumed.
Deno.test("recvLine over the limit keeps the bytes, where asyncio's readline drops them", async () => {
  const cases: Case[] = [
    {
      name: "found past the limit",
      wire: [h(a(9) + "\nnext\n")],
      limit: 8,
      ops: [{ op: "line" }, REST],
    },
    { name: "not found past the limit", wire: [h(a(12))], limit: 8, ops: [{ op: "line" }, REST] },
  ];
  const { python, pysock } = await twins(cases);
  deepEqual(python[0], [
    { err: "ValueError", msg: "Separator is found, but chunk is longer than limit" },
    { ok: h("next\n") },
  ]);
  deepEqual(pysock[0], [
    {
      err: "LimitOverrunError",
      consumed: 9,
      msg: "Separator is found, but chunk is longer than limit",
    },
    { ok: h(a(9) + "\nnext\n") },
  ]);
  deepEqual(python[1], [
    { err: "ValueError", msg: "Separator is not found, and chunk exceed the limit" },
    { ok: "" },
  ]);
  deepEqual(pysock[1], [
    {
      err: "LimitOverrunError",
      consumed: 12,
      msg: "Separator is not found, and chunk exceed the limit",
    },
    { ok: h(a(12)) },
  ]);
});

// --- recvMsg against struct.pack ---------------------------------------------
const FMT = { 1: "B", 2: "H", 4: "I", 8: "Q" } as const;

function framed(header: 1 | 2 | 4 | 8, little: boolean, payloads: string[]): Part[] {
  const fmt = (little ? "<" : ">") + FMT[header];
  return payloads.flatMap((p) => [{ pack: fmt, n: p.length }, ...(p ? [h(p)] : [])]);
}

const MSGS: Case[] = [];
for (const header of [1, 2, 4, 8] as const) {
  for (const little of [false, true]) {
    const wire = framed(header, little, ["hi", "", "there", "x"]);
    const ops = [msg(header, little), msg(header, little), msg(header, little)];
    const tag = `${little ? "<" : ">"}${FMT[header]}`;
    MSGS.push(
      {
        name: `${tag} odd segments`,
        wire,
        cuts: [1, 3, header + 5, 2 * header + 3],
        ops: [...ops, msg(header, little), msg(header, little)],
      },
      {
        name: `${tag} eof inside the header`,
        wire: [...framed(header, little, ["ab"]), h("\0")],
        ops: [...ops],
      },
      {
        name: `${tag} eof inside the payload`,
        wire: [{ pack: tag, n: 5 }, h("abc")],
        cuts: [header + 1],
        ops: [msg(header, little), REST],
      },
      {
        name: `${tag} at maxMessage`,
        wire: framed(header, little, ["abcd"]),
        ops: [msg(header, little, 4), msg(header, little, 4)],
      },
      {
        name: `${tag} past maxMessage`,
        wire: framed(header, little, ["abcd", "z"]),
        ops: [msg(header, little, 3), REST],
      },
    );
  }
}
MSGS.push(
  {
    name: ">B 255-byte payload",
    wire: framed(1, false, [a(255)]),
    cuts: [1, 200],
    ops: [msg(1), msg(1)],
  },
  {
    name: ">Q beyond 2**53",
    wire: [{ pack: ">Q", n: "18446744073709551615" }],
    ops: [msg(8), REST],
  },
  {
    name: "<Q beyond 2**53",
    wire: [{ pack: "<Q", n: "9007199254740993" }],
    ops: [msg(8, true), REST],
  },
  {
    name: ">I maxMessage 0, empty message",
    wire: framed(4, false, ["", "a"]),
    ops: [msg(4, false, 0), msg(4, false, 0), REST],
  },
);

Deno.test("recvMsg reads Python's struct.pack framing as asyncio readexactly does", async () => {
  const result = await twins(MSGS);
  assertSameAsAsyncio(MSGS, result);
  // The pure decoder, fed the same wire in every chunking, gives the same
  // messages and the same end: MessageDecoder must not care where reads cut.
  MSGS.forEach((c, i) => {
    const op = c.ops[0] as Extract<Op, { op: "msg" }>;
    if (c.ops.some((o) => o.op !== "msg")) return; // a read after the error
    const wire = result.wires[i];
    if (wire.length > 40) return;
    const expected = firstEnd(result.python[i]);
    for (const cuts of chunkings(wire.length)) {
      const got = decodeAll(wire, cuts, op);
      deepEqual(got, expected.slice(0, got.length), `${c.name}, cuts ${cuts}`);
      equal(got.length, expected.length, `${c.name}, cuts ${cuts}`);
    }
  });
});

Deno.test("sendMsg writes the bytes of Python's struct.pack(fmt, len(p)) + p", async () => {
  const payloads = ["", "x", a(255), a(256), "\u00e9t\u00e9"];
  const rows: [1 | 2 | 4 | 8, boolean, string][] = [];
  for (const header of [1, 2, 4, 8] as const) {
    for (const little of [false, true]) {
      for (const p of payloads) {
        if (new TextEncoder().encode(p).length < 2 ** (8 * header)) {
          rows.push([header, little, p]);
        }
      }
    }
  }
  const theirs = await pythonJson(
    String.raw`
import json, struct, sys
FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}
out = []
for header, little, p in json.loads(sys.argv[1]):
    b = p.encode()
    out.append((struct.pack(("<" if little else ">") + FMT[header], len(b)) + b).hex())
print(json.dumps(out))
`,
    JSON.stringify(rows),
  ) as string[];
  const [x, y] = await socketpair();
  await using _x = x;
  await using _y = y;
  for (const [i, [header, littleEndian, p]] of rows.entries()) {
    await sendMsg(x, p, { header, littleEndian });
    const expected = theirs[i];
    let got = "";
    for (let k = 0; k < 100 && got.length < expected.length; k++) got += hex(await y.recv(4096));
    equal(got, expected, `header ${header}, littleEndian ${littleEndian}, ${p.length} chars`);
  }
});

// Outcomes up to the first error or end of stream.
function firstEnd(outs: Outcome[]): Outcome[] {
  const end = outs.findIndex((o) => !("ok" in o) || o.ok === null);
  return end === -1 ? outs : outs.slice(0, end + 1);
}

// Every set of cut offsets of a stream of `n` bytes (2**(n-1) chunkings) up
// to 14 bytes; past that every chunking with at most three cuts.
function* chunkings(n: number): Generator<number[]> {
  if (n <= 14) {
    for (let mask = 0; mask < 2 ** Math.max(0, n - 1); mask++) {
      const cuts: number[] = [];
      for (let k = 1; k < n; k++) if (mask & (1 << (k - 1))) cuts.push(k);
      yield cuts;
    }
    return;
  }
  yield [];
  for (let i = 1; i < n; i++) {
    yield [i];
    for (let j = i + 1; j < n; j++) {
      yield [i, j];
      for (let k = j + 1; k < n; k++) yield [i, j, k];
    }
  }
}

function pieces(wire: Uint8Array, cuts: number[]): Uint8Array[] {
  const bounds = [0, ...[...cuts].sort((x, y) => x - y), wire.length];
  return bounds.slice(1).map((end, i) => wire.slice(bounds[i], end));
}

function decodeAll(wire: Uint8Array, cuts: number[], op: Extract<Op, { op: "msg" }>): Outcome[] {
  const decoder = new MessageDecoder({
    header: op.header,
    littleEndian: op.little ?? false,
    maxMessage: op.max ?? 16 * 1024 * 1024,
  });
  const outs: Outcome[] = [];
  try {
    for (const piece of pieces(wire, cuts)) {
      for (const m of decoder.push(piece)) outs.push({ ok: hex(m) });
    }
    decoder.end();
    outs.push({ ok: null });
  } catch (err) {
    if (err instanceof MessageTooLargeError) {
      outs.push({ err: "MessageTooLargeError", size: err.size });
    } else if (err instanceof IncompleteReadError) {
      outs.push({ err: "IncompleteReadError", partial: hex(err.partial), expected: err.expected });
    } else throw err;
  }
  return outs;
}

// --- DelimiterDecoderStream against readuntil --------------------------------

// asyncio's readuntil loop, as a stream: segments with their separator, and at
// end of stream the bytes after the last one (asyncio's IncompleteReadError
// partial; the stream emits them as a last segment, as framing.ts documents).
async function split(
  wire: Uint8Array,
  cuts: number[],
  sep: string,
  limit?: number,
): Promise<Outcome[]> {
  const stream = ReadableStream.from(pieces(wire, cuts))
    .pipeThrough(new DelimiterDecoderStream(sep, { limit, disposition: "suffix" }));
  const outs: Outcome[] = [];
  try {
    for await (const segment of stream) outs.push({ ok: hex(segment) });
  } catch (err) {
    if (!(err instanceof LimitOverrunError)) throw err;
    outs.push({ err: "LimitOverrunError", consumed: err.consumed, msg: err.message });
  }
  return outs;
}

// asyncio's outcomes of a run of readuntil calls, in the stream's terms.
function asStream(outs: Outcome[]): Outcome[] {
  const out: Outcome[] = [];
  for (const o of outs) {
    if ("ok" in o) out.push(o);
    else if (o.err === "IncompleteReadError") {
      if (o.partial) out.push({ ok: o.partial });
      return out;
    } else return [...out, o];
  }
  return out;
}

// asyncio's StreamReader fed the same chunks by feed_data, the reader running
// between chunks: the oracle for every chunking, limit errors included (where
// a read cuts decides which LimitOverrunError asyncio raises, and with what
// consumed).
const FEED = String.raw`
import asyncio, json, sys
async def one(wire, sep, limit, cuts):
    r = asyncio.StreamReader(limit=limit)
    outs = []
    async def reader():
        while True:
            try:
                outs.append({"ok": (await r.readuntil(sep)).hex()})
            except asyncio.IncompleteReadError as e:
                if e.partial: outs.append({"ok": e.partial.hex()})
                return
            except asyncio.LimitOverrunError as e:
                outs.append({"err": "LimitOverrunError", "consumed": e.consumed, "msg": e.args[0]})
                return
    task = asyncio.create_task(reader())
    bounds = [0] + cuts + [len(wire)]
    for a, b in zip(bounds, bounds[1:]):
        for _ in range(3): await asyncio.sleep(0)
        r.feed_data(wire[a:b])
    for _ in range(3): await asyncio.sleep(0)
    r.feed_eof()
    await task
    return outs
async def main():
    out = []
    for wire, sep, limit, all_cuts in json.loads(sys.stdin.read()):
        w, s = bytes.fromhex(wire), bytes.fromhex(sep)
        out.append([await one(w, s, limit, cuts) for cuts in all_cuts])
    print(json.dumps(out))
asyncio.run(main())
`;

async function fed(runs: [string, string, number, number[][]][]): Promise<Outcome[][][]> {
  const child = new Deno.Command("python3", { args: ["-c", FEED], stdin: "piped", stdout: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(runs)));
  await writer.close();
  const { code, stdout } = await child.output();
  equal(code, 0);
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test("DelimiterDecoderStream splits as asyncio readuntil does, in the peer's segments and in every chunking", async () => {
  const first = (c: Case) => c.ops[0] as { op: string; sep: string };
  const cases = [...SPLIT.filter((_, i) => i % 3 === 0), ...LIMITS].filter((c) =>
    first(c).op === "until" && first(c).sep !== ""
  );
  const runs = cases.map((c) => ({ ...c, ops: Array.from({ length: 6 }, () => c.ops[0]) }));
  const result = await twins(runs);
  const sepOf = (c: Case) => new TextDecoder().decode(unhex(first(c).sep));
  // Over sockets, in the peer's segments.
  for (const [i, c] of runs.entries()) {
    const got = await split(result.wires[i], c.cuts ?? [], sepOf(c), c.limit);
    deepEqual(got, asStream(result.python[i]), `${c.name}, the peer's segments`);
  }
  // Fed by feed_data, in every chunking.
  const all = result.wires.map((wire) => [...chunkings(wire.length)]);
  const expected = await fed(runs.map((c, i) => [
    hex(result.wires[i]),
    first(c).sep,
    c.limit ?? 65536,
    all[i],
  ]));
  for (const [i, c] of runs.entries()) {
    for (const [k, cuts] of all[i].entries()) {
      const got = await split(result.wires[i], cuts, sepOf(c), c.limit);
      deepEqual(got, expected[i][k], `${c.name}, cuts ${cuts}`);
    }
  }
});

function unhex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (b) => parseInt(b, 16));
}
