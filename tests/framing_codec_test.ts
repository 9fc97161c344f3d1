// The pure codec of framing.ts: no sockets, every option, every split.

import { deepEqual, equal, notEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import {
  DEFAULT_LIMIT,
  DEFAULT_MAX_MESSAGE,
  DelimiterDecoderStream,
  encodeMessage,
  type FramingOptions,
  type HeaderSize,
  MessageDecoder,
  MessageDecoderStream,
  MessageEncoderStream,
} from "../framing.ts";
import { IncompleteReadError, LimitOverrunError, MessageTooLargeError } from "../errors.ts";
import {
  byteChunks,
  concat,
  decodeChunks,
  fuzz,
  prng,
  randomBytes,
  randomChunks,
  referenceSplit,
  splitChunks,
} from "./_fuzz_framing.ts";

const text = new TextEncoder();
const HEADERS: HeaderSize[] = [1, 2, 4, 8];
const ENDIANS = [false, true];

function decodeAll(chunks: Uint8Array[], options?: FramingOptions): Uint8Array[] {
  const decoder = new MessageDecoder(options);
  const messages = chunks.flatMap((chunk) => decoder.push(chunk).map((m) => m.slice()));
  decoder.end();
  return messages;
}

function isTooLarge(size: number, maxMessage: number) {
  return (err: unknown) =>
    err instanceof MessageTooLargeError && err.size === size && err.maxMessage === maxMessage;
}

Deno.test("the default limits are 16 MiB per message and 64 KiB per delimited segment", () => {
  equal(DEFAULT_MAX_MESSAGE, 16 * 1024 * 1024);
  equal(DEFAULT_LIMIT, 64 * 1024);
});

Deno.test("encodeMessage writes the bytes of Python's struct.pack('>I', n) + payload", () => {
  deepEqual(encodeMessage(new Uint8Array([1, 2, 3])), new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
  deepEqual(encodeMessage(""), new Uint8Array([0, 0, 0, 0]));
  const big = encodeMessage(new Uint8Array(0x010203));
  deepEqual(big.subarray(0, 4), new Uint8Array([0, 1, 2, 3]));
  equal(big.length, 4 + 0x010203);
});

Deno.test("encodeMessage sends a string as UTF-8 and counts its bytes, not its characters", () => {
  deepEqual(encodeMessage("hé"), new Uint8Array([0, 0, 0, 3, 0x68, 0xc3, 0xa9]));
});

Deno.test("encodeMessage writes every header size in both byte orders", () => {
  const payload = new Uint8Array(0xab);
  const expected: Record<HeaderSize, [number[], number[]]> = {
    1: [[0xab], [0xab]],
    2: [[0, 0xab], [0xab, 0]],
    4: [[0, 0, 0, 0xab], [0xab, 0, 0, 0]],
    8: [[0, 0, 0, 0, 0, 0, 0, 0xab], [0xab, 0, 0, 0, 0, 0, 0, 0]],
  };
  for (const header of HEADERS) {
    const [big, little] = expected[header];
    deepEqual([...encodeMessage(payload, { header }).subarray(0, header)], big);
    deepEqual(
      [...encodeMessage(payload, { header, littleEndian: true }).subarray(0, header)],
      little,
    );
    equal(encodeMessage(payload, { header }).length, header + 0xab);
  }
});

Deno.test("encodeMessage refuses a payload its header cannot carry", () => {
  deepEqual(
    encodeMessage(new Uint8Array(255), { header: 1 }).subarray(0, 1),
    new Uint8Array([255]),
  );
  throws(() => encodeMessage(new Uint8Array(256), { header: 1 }), {
    name: "RangeError",
    message: "Cannot encode a message: the 256-byte message does not fit a 1-byte header",
  });
  throws(() => encodeMessage(new Uint8Array(65536), { header: 2 }), RangeError);
});

Deno.test("encodeMessage refuses a payload over maxMessage before writing anything", () => {
  equal(encodeMessage(new Uint8Array(10), { maxMessage: 10 }).length, 14);
  throws(() => encodeMessage(new Uint8Array(11), { maxMessage: 10 }), {
    name: "RangeError",
    message: "Cannot encode a message: the 11-byte message exceeds maxMessage (10 bytes)",
  });
});

Deno.test("encodeMessage takes what sendall takes and refuses anything else", () => {
  const words = new Uint16Array([0x0102]);
  equal(encodeMessage(words as unknown as Uint8Array).length, 6);
  equal(encodeMessage(new ArrayBuffer(3) as unknown as Uint8Array).length, 7);
  for (const data of [42, [1, 2], null, undefined, { length: 1 }]) {
    throws(() => encodeMessage(data as unknown as Uint8Array), TypeError);
  }
});

Deno.test("every framing entry point checks its options before any work", () => {
  const makers: Array<(options: unknown) => unknown> = [
    (o) => encodeMessage("x", o as FramingOptions),
    (o) => new MessageDecoder(o as FramingOptions),
    (o) => new MessageEncoderStream(o as FramingOptions),
    (o) => new MessageDecoderStream(o as FramingOptions),
  ];
  const typeErrors = [null, 4, "x", { header: "4" }, { littleEndian: 1 }, { maxMessage: "10" }];
  const rangeErrors = [
    { header: 3 },
    { header: 0 },
    { header: 16 },
    { maxMessage: -1 },
    { maxMessage: 1.5 },
    { maxMessage: NaN },
    { maxMessage: Infinity },
    { maxMessage: 2 ** 53 },
  ];
  for (const make of makers) {
    for (const options of typeErrors) throws(() => make(options), TypeError, String(options));
    for (const options of rangeErrors) throws(() => make(options), RangeError);
  }
  throws(() => new MessageDecoder({ header: 3 as HeaderSize }), {
    message: "Cannot create a MessageDecoder: header must be 1, 2, 4 or 8 bytes, got 3",
  });
});

Deno.test("MessageDecoder round-trips every header size and byte order", () => {
  for (const header of HEADERS) {
    for (const littleEndian of ENDIANS) {
      const options = { header, littleEndian };
      const payloads = [0, 1, 2, 200, 255].map((n) => randomBytes(prng(n), n));
      const wire = concat(payloads.map((p) => encodeMessage(p, options)));
      deepEqual(decodeAll([wire], options), payloads, `${header} ${littleEndian}`);
    }
  }
});

Deno.test("MessageDecoder reads the wrong byte order as a different length", () => {
  const wire = encodeMessage(new Uint8Array(1), { header: 2 });
  const decoder = new MessageDecoder({ header: 2, littleEndian: true });
  deepEqual(decoder.push(wire), []);
  equal(decoder.buffered, 3);
});

Deno.test("the same wire bytes split at every boundary give the same messages", () => {
  for (const header of HEADERS) {
    for (const littleEndian of ENDIANS) {
      const options = { header, littleEndian };
      const payloads = [3, 0, 1, 17, 0, 40].map((n) => randomBytes(prng(n + header), n));
      const wire = concat(payloads.map((p) => encodeMessage(p, options)));
      for (let cut = 0; cut <= wire.length; cut++) {
        const chunks = [wire.slice(0, cut), wire.slice(cut)];
        deepEqual(decodeAll(chunks, options), payloads, `cut at ${cut}`);
      }
      for (let a = 0; a <= wire.length; a += 3) {
        for (let b = a; b <= wire.length; b += 2) {
          const chunks = [wire.slice(0, a), wire.slice(a, b), wire.slice(b)];
          deepEqual(decodeAll(chunks, options), payloads, `cuts at ${a} and ${b}`);
        }
      }
    }
  }
});

Deno.test("one-byte chunks and seeded random chunks give the same messages", () => {
  const random = prng(20240601);
  for (const header of HEADERS) {
    for (const littleEndian of ENDIANS) {
      const options = { header, littleEndian };
      const payloads = Array.from({ length: 30 }, (_, i) => randomBytes(random, (i * 37) % 256));
      const wire = concat(payloads.map((p) => encodeMessage(p, options)));
      deepEqual(decodeAll(byteChunks(wire), options), payloads);
      for (const maxChunk of [2, 7, 64, 1000, 100_000]) {
        deepEqual(decodeAll(randomChunks(random, wire, maxChunk), options), payloads);
      }
    }
  }
});

Deno.test("messages from 0 bytes to several MiB survive random chunking", () => {
  const random = prng(5);
  const sizes = [0, 1, 100, 65535, 65536, 65537, 1024 * 1024 + 3, 5 * 1024 * 1024];
  const payloads = sizes.map((n) => randomBytes(random, n));
  for (const header of [4, 8] as const) {
    const wire = concat(payloads.map((p) => encodeMessage(p, { header })));
    for (const maxChunk of [1000, 65536, 300_000, wire.length]) {
      const messages = decodeAll(randomChunks(random, wire, maxChunk), { header });
      deepEqual(messages.map((m) => m.length), sizes);
      deepEqual(messages, payloads);
    }
  }
});

Deno.test("a message wholly inside one chunk is a view of it, one spread over chunks a copy", () => {
  const wire = concat([encodeMessage("first"), encodeMessage("second")]);
  const decoder = new MessageDecoder();
  const [first, ...rest] = decoder.push(wire.subarray(0, 15));
  deepEqual(rest, []);
  strictEqual(first.buffer, wire.buffer);
  equal(first.byteOffset, 4);
  const [second] = decoder.push(wire.subarray(15));
  notEqual(second.buffer, wire.buffer);
  equal(new TextDecoder().decode(second), "second");
});

Deno.test("a header whose payload follows in the same chunk gives a view even after a split header", () => {
  const wire = encodeMessage("payload");
  const decoder = new MessageDecoder();
  deepEqual(decoder.push(wire.subarray(0, 2)), []);
  const rest = wire.slice(2);
  const [message] = decoder.push(rest);
  strictEqual(message.buffer, rest.buffer);
  equal(new TextDecoder().decode(message), "payload");
});

Deno.test("a header over maxMessage throws MessageTooLargeError as soon as the header is whole", () => {
  const decoder = new MessageDecoder({ maxMessage: 10 });
  deepEqual(decoder.push(new Uint8Array([0, 0])), []);
  throws(() => decoder.push(new Uint8Array([0, 11])), isTooLarge(11, 10));
  equal(decoder.buffered, 0, "nothing was allocated for the payload");
  throws(() => decoder.push(new Uint8Array(11)), isTooLarge(11, 10), "the decoder stays failed");
  throws(() => decoder.end(), isTooLarge(11, 10));
});

Deno.test("a header of exactly maxMessage is accepted", () => {
  deepEqual(decodeAll([encodeMessage(new Uint8Array(10))], { maxMessage: 10 }), [
    new Uint8Array(10),
  ]);
  deepEqual(decodeAll([new Uint8Array([0, 0, 0, 0])], { maxMessage: 0 }), [new Uint8Array(0)]);
});

Deno.test("a 4 GiB header is refused without allocating 4 GiB", () => {
  const decoder = new MessageDecoder();
  throws(
    () => decoder.push(new Uint8Array([255, 255, 255, 255])),
    isTooLarge(2 ** 32 - 1, DEFAULT_MAX_MESSAGE),
  );
});

Deno.test("a 64-bit header beyond Number.MAX_SAFE_INTEGER is refused, not rounded", () => {
  const huge = new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255]);
  const decoder = new MessageDecoder({ header: 8, maxMessage: Number.MAX_SAFE_INTEGER });
  throws(() => decoder.push(huge), isTooLarge(2 ** 64, Number.MAX_SAFE_INTEGER));
  const justOver = new Uint8Array([0, 0x20, 0, 0, 0, 0, 0, 0]); // 2^53
  throws(
    () => new MessageDecoder({ header: 8, maxMessage: Number.MAX_SAFE_INTEGER }).push(justOver),
    MessageTooLargeError,
  );
  const little = new Uint8Array([0, 0, 0, 0, 0, 0, 0x20, 0]); // 2^53 little-endian
  throws(
    () => new MessageDecoder({ header: 8, littleEndian: true }).push(little),
    MessageTooLargeError,
  );
});

Deno.test("messages before a bad header in the same chunk are returned, the error comes next", () => {
  const wire = concat([encodeMessage("ok"), new Uint8Array([0, 0, 1, 0])]);
  const decoder = new MessageDecoder({ maxMessage: 100 });
  deepEqual(decoder.push(wire).map((m) => new TextDecoder().decode(m)), ["ok"]);
  throws(() => decoder.push(new Uint8Array(0)), isTooLarge(256, 100));
  throws(() => decoder.end(), isTooLarge(256, 100));
});

Deno.test("end inside a header throws IncompleteReadError with the header bytes", () => {
  const decoder = new MessageDecoder({ header: 8 });
  decoder.push(new Uint8Array([0, 0, 0]));
  equal(decoder.buffered, 3);
  throws(
    () => decoder.end(),
    (err) =>
      err instanceof IncompleteReadError && err.expected === 8 &&
      err.partial.length === 3 && err.message === "3 bytes read on a total of 8 expected bytes",
  );
});

Deno.test("end inside a payload throws IncompleteReadError with the payload so far", () => {
  const decoder = new MessageDecoder();
  decoder.push(new Uint8Array([0, 0, 0, 5, 104]));
  decoder.push(new Uint8Array([105]));
  equal(decoder.buffered, 6);
  throws(() => decoder.end(), (err) => {
    ok(err instanceof IncompleteReadError);
    deepEqual(err.partial, new Uint8Array([104, 105]));
    equal(err.expected, 5);
    return true;
  });
});

Deno.test("end between messages succeeds, and so does end on an empty stream", () => {
  const decoder = new MessageDecoder();
  decoder.end();
  decoder.push(encodeMessage("x"));
  decoder.end();
  equal(decoder.buffered, 0);
});

Deno.test("MessageDecoder.push refuses a chunk that is not a Uint8Array", () => {
  throws(() => new MessageDecoder().push("abc" as unknown as Uint8Array), TypeError);
});

Deno.test("MessageDecoder.decode hands each message to the callback in order", () => {
  const seen: string[] = [];
  const decoder = new MessageDecoder({ header: 1 });
  decoder.decode(
    concat([encodeMessage("a", { header: 1 }), encodeMessage("bc", { header: 1 })]),
    (m) => seen.push(new TextDecoder().decode(m)),
  );
  deepEqual(seen, ["a", "bc"]);
});

Deno.test("MessageEncoderStream and MessageDecoderStream round-trip strings, bytes and big payloads", async () => {
  const big = randomBytes(prng(9), 300_000);
  const inputs = ["hello", new Uint8Array(0), big, "wörld"];
  for (const header of [4, 8] as const) {
    for (const littleEndian of ENDIANS) {
      const options = { header, littleEndian };
      const out = await Array.fromAsync(
        ReadableStream.from(inputs)
          .pipeThrough(new MessageEncoderStream(options))
          .pipeThrough(new MessageDecoderStream(options)),
      );
      deepEqual(out, [text.encode("hello"), new Uint8Array(0), big, text.encode("wörld")]);
    }
  }
});

Deno.test("MessageEncoderStream emits exactly the bytes of encodeMessage", async () => {
  const big = new Uint8Array(100_000).fill(7);
  const chunks = await Array.fromAsync(
    ReadableStream.from(["a", big]).pipeThrough(new MessageEncoderStream({ littleEndian: true })),
  );
  const expected = concat([
    encodeMessage("a", { littleEndian: true }),
    encodeMessage(big, { littleEndian: true }),
  ]);
  deepEqual(concat(chunks), expected);
  strictEqual(chunks.at(-1), big, "a large payload passes through uncopied");
});

Deno.test("MessageEncoderStream errors on a payload its header cannot carry", async () => {
  const stream = ReadableStream.from([new Uint8Array(256)]).pipeThrough(
    new MessageEncoderStream({ header: 1 }),
  );
  await rejects(Array.fromAsync(stream), RangeError);
});

Deno.test("MessageDecoderStream errors with IncompleteReadError when input ends inside a message", async () => {
  const wire = encodeMessage("truncated").subarray(0, 8);
  const stream = ReadableStream.from([wire]).pipeThrough(new MessageDecoderStream());
  await rejects(Array.fromAsync(stream), (err) => {
    ok(err instanceof IncompleteReadError);
    deepEqual(err.partial, text.encode("trun"));
    equal(err.expected, 9);
    return true;
  });
});

Deno.test("MessageDecoderStream delivers the messages before a header over maxMessage, then errors", async () => {
  const wire = concat([encodeMessage("a"), encodeMessage("bb"), new Uint8Array([0, 0, 0, 9])]);
  const seen: string[] = [];
  const stream = ReadableStream.from([wire, new Uint8Array(9)]).pipeThrough(
    new MessageDecoderStream({ maxMessage: 8 }),
  );
  await rejects(
    (async () => {
      for await (const m of stream) seen.push(new TextDecoder().decode(m));
    })(),
    isTooLarge(9, 8),
  );
  deepEqual(seen, ["a", "bb"]);
});

Deno.test("DelimiterDecoderStream splits lines at every boundary the same way", async () => {
  const wire = text.encode("alpha\r\nbeta\r\n\r\ngamma\r\nlast");
  const expected = ["alpha", "beta", "", "gamma", "last"];
  for (let cut = 0; cut <= wire.length; cut++) {
    const segments = await splitChunks(
      [wire.slice(0, cut), wire.slice(cut)],
      text.encode("\r\n"),
      100,
    );
    deepEqual(segments.segments.map((s) => new TextDecoder().decode(s)), expected, `cut ${cut}`);
  }
  const bytewise = await splitChunks(byteChunks(wire), text.encode("\r\n"), 100);
  deepEqual(bytewise.segments.map((s) => new TextDecoder().decode(s)), expected);
});

Deno.test("DelimiterDecoderStream finds a delimiter after a near miss that straddles chunks", async () => {
  const delimiter = text.encode("aab");
  const wire = text.encode("xaaab|aab");
  const expected = referenceSplit(wire, delimiter, 100);
  deepEqual(expected.segments.map((s) => new TextDecoder().decode(s)), ["xa", "|"]);
  for (let cut = 0; cut <= wire.length; cut++) {
    for (let cut2 = cut; cut2 <= wire.length; cut2++) {
      const chunks = [wire.slice(0, cut), wire.slice(cut, cut2), wire.slice(cut2)];
      deepEqual(await splitChunks(chunks, delimiter, 100), expected, `cuts ${cut} ${cut2}`);
    }
  }
});

Deno.test("DelimiterDecoderStream keeps the delimiter with disposition suffix", async () => {
  const segments = await Array.fromAsync(
    ReadableStream.from([text.encode("a\nb"), text.encode("\nc")]).pipeThrough(
      new DelimiterDecoderStream("\n", { disposition: "suffix" }),
    ),
  );
  deepEqual(segments, [text.encode("a\n"), text.encode("b\n"), text.encode("c")]);
});

Deno.test("DelimiterDecoderStream gives views of the chunk for segments inside it", async () => {
  const chunk = text.encode("one\ntwo\n");
  const [one, two] = await Array.fromAsync(
    ReadableStream.from([chunk]).pipeThrough(new DelimiterDecoderStream("\n")),
  );
  strictEqual(one.buffer, chunk.buffer);
  strictEqual(two.buffer, chunk.buffer);
});

Deno.test("DelimiterDecoderStream accepts a segment of exactly limit bytes", async () => {
  const result = await splitChunks([text.encode("12345\n")], text.encode("\n"), 5);
  deepEqual(result, { segments: [text.encode("12345")], overrun: false });
});

Deno.test("DelimiterDecoderStream errors with LimitOverrunError on a segment over limit", async () => {
  const found = ReadableStream.from([text.encode("123456\n")]).pipeThrough(
    new DelimiterDecoderStream("\n", { limit: 5 }),
  );
  await rejects(Array.fromAsync(found), {
    name: "LimitOverrunError",
    message: "Separator is found, but chunk is longer than limit",
    consumed: 6,
  });
  const missing = ReadableStream.from([text.encode("1234"), text.encode("5678")]).pipeThrough(
    new DelimiterDecoderStream("\n", { limit: 5 }),
  );
  await rejects(
    Array.fromAsync(missing),
    (err) => err instanceof LimitOverrunError && err.consumed === 8,
  );
});

Deno.test("DelimiterDecoderStream checks its arguments before any data flows", () => {
  throws(() => new DelimiterDecoderStream(""), RangeError);
  throws(() => new DelimiterDecoderStream(new Uint8Array(0)), RangeError);
  throws(() => new DelimiterDecoderStream(10 as unknown as string), TypeError);
  throws(() => new DelimiterDecoderStream("\n", { limit: 0 }), RangeError);
  throws(() => new DelimiterDecoderStream("\n", { limit: -1 }), RangeError);
  throws(() => new DelimiterDecoderStream("\n", { limit: "5" as unknown as number }), TypeError);
  throws(
    () => new DelimiterDecoderStream("\n", { disposition: "prefix" as "suffix" }),
    TypeError,
  );
});

Deno.test("a seeded fuzz of the decoder and the splitter agrees with the reference implementations", async () => {
  const cases = await fuzz(0x5eed, 2);
  ok(cases > 0);
  // A fixed-size round too, independent of the machine's speed.
  const random = prng(42);
  for (let i = 0; i < 200; i++) {
    const payloads = Array.from(
      { length: 5 },
      () => randomBytes(random, Math.floor(random() * 300)),
    );
    const wire = concat(payloads.map((p) => encodeMessage(p, { header: 2 })));
    deepEqual(decodeChunks(randomChunks(random, wire, 50), { header: 2 }).messages, payloads);
  }
});
