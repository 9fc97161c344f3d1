// framing.ts over real sockets: exact wire bytes, end of stream, limits,
// timeouts, sharing the read buffer with recv/makefile, and CPython peers.

import { deepEqual, equal, ok, rejects, strictEqual } from "node:assert/strict";
import {
  BlockingIOError,
  createServer,
  errno,
  IncompleteReadError,
  LimitOverrunError,
  MessageTooLargeError,
  OSError,
  SHUT_WR,
  socket,
  socketpair,
  type StreamSocket,
  TimeoutError,
} from "../mod.ts";
import {
  DEFAULT_LIMIT,
  encodeMessage,
  type FramingOptions,
  type HeaderSize,
  recvExactly,
  recvLine,
  recvMsg,
  recvMsgBatches,
  recvMsgs,
  recvUntil,
  sendMsg,
} from "../framing.ts";
import { bytes, FAMILIES, pair, python, sleep, text } from "./_helpers.ts";
import { concat, prng, randomBytes } from "./_fuzz_framing.ts";

/** Reads until end of stream with plain recv. */
async function readAll(sock: StreamSocket): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let chunk = await sock.recv(65536); chunk.length > 0; chunk = await sock.recv(65536)) {
    parts.push(chunk);
  }
  return concat(parts);
}

/** Reads messages until end of stream. */
async function recvAll(sock: StreamSocket, options?: FramingOptions): Promise<Uint8Array[]> {
  const messages: Uint8Array[] = [];
  for (let m = await recvMsg(sock, options); m !== null; m = await recvMsg(sock, options)) {
    messages.push(m);
  }
  return messages;
}

async function connected(): Promise<[StreamSocket, StreamSocket] & AsyncDisposable> {
  const [a, b] = await socketpair();
  return Object.assign([a, b] as [StreamSocket, StreamSocket], {
    [Symbol.asyncDispose]() {
      a.close();
      b.close();
      return Promise.resolve();
    },
  });
}

for (const { name, family } of FAMILIES) {
  Deno.test(`sendMsg and recvMsg keep message edges over ${name}`, async () => {
    await using p = await pair(family);
    await sendMsg(p.client, "one");
    await sendMsg(p.client, new Uint8Array(0));
    await sendMsg(p.client, "three");
    p.client.shutdown(SHUT_WR);
    deepEqual((await recvAll(p.conn)).map(text), ["one", "", "three"]);
  });
}

Deno.test("sendMsg writes the bytes of Python's struct.pack('>I', n) + payload", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await sendMsg(a, "hi");
  await sendMsg(a, new Uint8Array(300).fill(9));
  a.shutdown(SHUT_WR);
  const wire = await readAll(b);
  deepEqual(wire.subarray(0, 6), new Uint8Array([0, 0, 0, 2, 104, 105]));
  deepEqual(wire.subarray(6, 10), new Uint8Array([0, 0, 1, 44]));
  equal(wire.length, 6 + 4 + 300);
});

Deno.test("every header size and byte order round-trips over a socket with exact bytes", async () => {
  for (const header of [1, 2, 4, 8] as HeaderSize[]) {
    for (const littleEndian of [false, true]) {
      await using pairOf = await connected();
      const [a, b] = pairOf;
      const options = { header, littleEndian };
      const payloads = [0, 1, 200, 255].map((n) => randomBytes(prng(n), n));
      for (const payload of payloads) await sendMsg(a, payload, options);
      await sendMsg(a, "end", options);
      const expected = concat([...payloads, bytes("end")].map((p) => encodeMessage(p, options)));
      const wire = await recvExactly(b, expected.length);
      deepEqual(wire, expected, `${header} ${littleEndian}`);
      // The same bytes, sent back, decode to the same messages.
      await b.sendall(wire);
      b.shutdown(SHUT_WR);
      deepEqual(await recvAll(a, options), [...payloads, bytes("end")]);
    }
  }
});

Deno.test("many messages sent in one write come back one by one (sticky packets)", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const payloads = Array.from({ length: 1000 }, (_, i) => bytes(`message ${i}`));
  await a.sendall(concat(payloads.map((p) => encodeMessage(p))));
  a.shutdown(SHUT_WR);
  deepEqual(await recvAll(b), payloads);
});

Deno.test("messages from 0 bytes to several MiB cross a socket intact", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const sizes = [0, 1, 100, 65535, 65536, 65537, 1024 * 1024 + 7, 6 * 1024 * 1024];
  const payloads = sizes.map((n, i) => randomBytes(prng(i), n));
  const sending = (async () => {
    for (const payload of payloads) await sendMsg(a, payload);
    a.shutdown(SHUT_WR);
  })();
  const received = await recvAll(b);
  await sending;
  deepEqual(received.map((m) => m.length), sizes);
  deepEqual(received, payloads);
});

Deno.test("concurrent sendMsg calls put whole messages on the wire in call order", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const payloads = [300_000, 5, 200_000, 0, 70_000, 3].map((n, i) => new Uint8Array(n).fill(i + 1));
  const receiving = recvAll(b);
  await Promise.all(payloads.map((p) => sendMsg(a, p)));
  a.shutdown(SHUT_WR);
  deepEqual(await receiving, payloads);
});

Deno.test("recvMsg resolves to null at a clean end of stream, and again after it", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await sendMsg(a, "last");
  a.close();
  equal(text((await recvMsg(b))!), "last");
  strictEqual(await recvMsg(b), null);
  strictEqual(await recvMsg(b), null);
});

Deno.test("end of stream inside a header rejects with IncompleteReadError carrying the header bytes", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall(new Uint8Array([0, 0, 1]));
  a.close();
  await rejects(recvMsg(b), (err) => {
    ok(err instanceof IncompleteReadError);
    deepEqual(err.partial, new Uint8Array([0, 0, 1]));
    equal(err.expected, 4);
    return true;
  });
});

Deno.test("end of stream inside a payload rejects with IncompleteReadError carrying the payload so far", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall(concat([encodeMessage("whole"), encodeMessage("truncated").subarray(0, 7)]));
  a.close();
  equal(text((await recvMsg(b))!), "whole");
  await rejects(recvMsg(b), (err) => {
    ok(err instanceof IncompleteReadError);
    deepEqual(err.partial, bytes("tru"));
    equal(err.expected, 9);
    equal(err.message, "3 bytes read on a total of 9 expected bytes");
    return true;
  });
});

Deno.test("a header over maxMessage rejects at once, without waiting for the payload", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  // The peer stays open and sends no payload: a receiver that allocated or
  // waited for 4 GiB would hang here.
  await a.sendall(new Uint8Array([255, 255, 255, 255]));
  await rejects(recvMsg(b), (err) => {
    ok(err instanceof MessageTooLargeError);
    equal(err.size, 2 ** 32 - 1);
    equal(err.maxMessage, 16 * 1024 * 1024);
    return true;
  });
  await a.sendall(new Uint8Array([0, 0, 0, 11]));
  await rejects(recvMsg(b, { maxMessage: 10 }), { name: "MessageTooLargeError", size: 11 });
});

Deno.test("sendMsg refuses a payload over maxMessage or the header's capacity and sends nothing", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await rejects(sendMsg(a, new Uint8Array(11), { maxMessage: 10 }), RangeError);
  await rejects(sendMsg(a, new Uint8Array(256), { header: 1 }), RangeError);
  await rejects(sendMsg(a, 42 as unknown as string), TypeError);
  await sendMsg(a, "fine");
  a.shutdown(SHUT_WR);
  deepEqual(await readAll(b), encodeMessage("fine"));
});

Deno.test("bad options reject before any I/O and leave the stream untouched", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await sendMsg(a, "kept");
  await rejects(recvMsg(b, { header: 3 as HeaderSize }), RangeError);
  await rejects(recvMsg(b, { maxMessage: -1 }), RangeError);
  await rejects(recvMsg(b, { littleEndian: "no" as unknown as boolean }), TypeError);
  await rejects(recvExactly(b, -1), RangeError);
  await rejects(recvExactly(b, 1.5), TypeError);
  await rejects(recvUntil(b, ""), RangeError);
  await rejects(recvUntil(b, "\n", { limit: 0 }), RangeError);
  await rejects(recvLine(b, { limit: "9" as unknown as number }), TypeError);
  equal(text((await recvMsg(b))!), "kept");
});

Deno.test("the framing functions fail with EBADF on a closed socket and ENOTCONN on an unconnected one", async () => {
  const unconnected = socket();
  await rejects(recvMsg(unconnected), (e) => e instanceof OSError && e.errno === errno.ENOTCONN);
  await rejects(recvLine(unconnected), (e) => e instanceof OSError && e.errno === errno.ENOTCONN);
  unconnected.close();
  const [a, b] = await socketpair();
  a.close();
  b.close();
  for (
    const call of [recvMsg(a), recvExactly(a, 1), recvUntil(a, "x"), recvLine(a), sendMsg(a, "x")]
  ) {
    await rejects(call, (e) => e instanceof OSError && e.errno === errno.EBADF);
  }
});

Deno.test("the framing functions refuse something that is not a stream socket", async () => {
  const notSocket = {} as StreamSocket;
  await rejects(recvMsg(notSocket), TypeError);
  await rejects(sendMsg(notSocket, "x"), TypeError);
  await rejects(recvExactly(notSocket, 1), TypeError);
});

Deno.test("a recvMsg that times out inside a payload loses nothing: the next recvMsg returns the message", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const wire = encodeMessage("patience");
  await a.sendall(wire.subarray(0, 6));
  b.settimeout(0.05);
  await rejects(recvMsg(b), TimeoutError);
  await a.sendall(wire.subarray(6));
  b.settimeout(null);
  equal(text((await recvMsg(b))!), "patience");
});

Deno.test("a recvMsg that times out inside a header loses nothing", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const wire = encodeMessage("later");
  await a.sendall(wire.subarray(0, 2));
  b.settimeout(0.05);
  await rejects(recvMsg(b), TimeoutError);
  await a.sendall(wire.subarray(2));
  equal(text((await recvMsg(b))!), "later");
});

Deno.test("a non-blocking recvMsg rejects with BlockingIOError until the message is whole", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  b.setblocking(false);
  await rejects(recvMsg(b), BlockingIOError);
  b.setblocking(true);
  await sendMsg(a, "ready");
  equal(text((await recvMsg(b))!), "ready");
});

Deno.test("interleaving recvMsg with plain recv and makefile loses nothing", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall(concat([
    encodeMessage("first"),
    bytes("raw"),
    encodeMessage("second"),
    bytes("a line\n"),
    encodeMessage("third"),
  ]));
  a.shutdown(SHUT_WR);
  equal(text((await recvMsg(b))!), "first");
  equal(text(await recvExactly(b, 1)), "r");
  let raw = "";
  while (raw.length < 2) raw += text(await b.recv(2 - raw.length));
  equal(raw, "aw");
  equal(text((await recvMsg(b))!), "second");
  const file = b.makefile("rb");
  equal(text(await file.readline() as Uint8Array), "a line\n");
  equal(text((await recvMsg(b))!), "third");
  strictEqual(await recvMsg(b), null);
  equal((await b.recv(10)).length, 0);
});

Deno.test("recvMsg returns views of the socket's buffer that never change afterwards", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall(concat([encodeMessage("alpha"), encodeMessage("beta")]));
  const first = await recvMsg(b);
  const second = await recvMsg(b);
  strictEqual(first!.buffer, second!.buffer, "both messages came from one read");
  for (let i = 0; i < 50; i++) await sendMsg(a, new Uint8Array(4000).fill(i));
  for (let i = 0; i < 50; i++) deepEqual(await recvMsg(b), new Uint8Array(4000).fill(i));
  equal(text(first!), "alpha");
  equal(text(second!), "beta");
});

Deno.test("recvExactly waits for every byte across writes", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const reading = recvExactly(b, 6);
  await a.sendall("abc");
  await a.sendall("defg");
  equal(text(await reading), "abcdef");
  equal(text(await recvExactly(b, 1)), "g");
  equal((await recvExactly(b, 0)).length, 0);
});

Deno.test("recvExactly rejects with IncompleteReadError(partial, expected) at end of stream", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall("abc");
  a.close();
  await rejects(recvExactly(b, 10), (err) => {
    ok(err instanceof IncompleteReadError);
    deepEqual(err.partial, bytes("abc"));
    equal(err.expected, 10);
    return true;
  });
});

Deno.test("a recvExactly that times out consumes nothing", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall("ab");
  b.settimeout(0.05);
  await rejects(recvExactly(b, 4), TimeoutError);
  await a.sendall("cd");
  equal(text(await recvExactly(b, 4)), "abcd");
});

Deno.test("recvUntil returns the bytes up to and including the delimiter, across writes", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const reading = recvUntil(b, "\r\n");
  await a.sendall("HELO x\r");
  await a.sendall("\nQUIT\r\n");
  equal(text(await reading), "HELO x\r\n");
  equal(text(await recvUntil(b, new Uint8Array([13, 10]))), "QUIT\r\n");
});

Deno.test("recvUntil accepts a segment of exactly limit bytes and refuses one more", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall("12345;123456;");
  equal(text(await recvUntil(b, ";", { limit: 5 })), "12345;");
  await rejects(recvUntil(b, ";", { limit: 5 }), {
    name: "LimitOverrunError",
    message: "Separator is found, but chunk is longer than limit",
  });
  equal(text(await recvUntil(b, ";", { limit: 6 })), "123456;");
});

Deno.test("LimitOverrunError leaves the bytes readable: a following recv returns them", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const long = "x".repeat(100);
  await a.sendall(long);
  await rejects(recvUntil(b, "\n", { limit: 10 }), (err) => {
    ok(err instanceof LimitOverrunError);
    equal(err.message, "Separator is not found, and chunk exceed the limit");
    return true;
  });
  let got = "";
  while (got.length < 100) got += text(await b.recv(1000));
  equal(got, long);
});

Deno.test("recvUntil rejects with IncompleteReadError(partial, null) at end of stream", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall("no newline");
  a.close();
  await rejects(recvUntil(b, "\n"), (err) => {
    ok(err instanceof IncompleteReadError);
    deepEqual(err.partial, bytes("no newline"));
    strictEqual(err.expected, null);
    return true;
  });
});

Deno.test("recvLine returns lines, then the unterminated tail, then empty arrays", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall("one\n\ntwo\nthree");
  a.close();
  const lines = [];
  for (let i = 0; i < 6; i++) lines.push(text(await recvLine(b)));
  deepEqual(lines, ["one\n", "\n", "two\n", "three", "", ""]);
});

Deno.test("recvLine uses a 64 KiB limit by default and keeps an over-long line readable", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const fits = "y".repeat(DEFAULT_LIMIT) + "\n";
  const tooLong = "z".repeat(DEFAULT_LIMIT + 1) + "\n";
  const sending = a.sendall(fits + tooLong);
  equal((await recvLine(b)).length, DEFAULT_LIMIT + 1);
  await rejects(recvLine(b), LimitOverrunError);
  await sending;
  equal(text(await recvExactly(b, DEFAULT_LIMIT + 2)), tooLong);
});

Deno.test("recvLine honours a smaller limit", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall("short\nmuch too long\n");
  equal(text(await recvLine(b, { limit: 5 })), "short\n");
  await rejects(recvLine(b, { limit: 5 }), LimitOverrunError);
  equal(text(await recvLine(b, { limit: 20 })), "much too long\n");
});

// A CPython peer speaking struct.pack('>I', n) + payload. Payload i of size n
// is bytes((i * 7 + k) % 256 for k in range(n)), so both sides can check it.
const SIZES = [0, 1, 5, 100, 70_000, 1 << 20];

function payloadOf(i: number, n: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: n }, (_, k) => (i * 7 + k) % 256);
}

const PY_FRAMED_SERVER = `
import socket, struct, sys
sizes = [int(x) for x in sys.argv[1].split(",")]
def payload(i, n):
    return bytes((i * 7 + k) % 256 for k in range(n))
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
# The first two messages in one sendall (sticky), the rest one by one.
frames = [struct.pack(">I", n) + payload(i, n) for i, n in enumerate(sizes)]
conn.sendall(frames[0] + frames[1])
for frame in frames[2:]:
    conn.sendall(frame)
conn.close()
srv.close()
print("sent", len(frames))
`;

/** Reads a CPython sender's frames with `read`; checks they are the messages it sent, in order. */
async function readPythonFrames(read: (sock: StreamSocket) => Promise<Uint8Array[]>) {
  await using peer = python(PY_FRAMED_SERVER, SIZES.join(","));
  const port = Number(await peer.firstLine());
  using sock = socket();
  await sock.connect(["127.0.0.1", port]);
  const received = await read(sock);
  deepEqual(received.map((m) => m.length), SIZES);
  received.forEach((m, i) => deepEqual(m, payloadOf(i, SIZES[i])));
  equal((await peer.output()).trim().split("\n").at(-1), "sent 6");
}

Deno.test("a CPython sender's struct.pack('>I') frames arrive as the same messages", async () => {
  await readPythonFrames((sock) => recvAll(sock));
});

const PY_FRAMED_ECHO = `
import socket, struct, sys, hashlib
def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError(f"{len(data)} of {n}")
        data += chunk
    return data
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
fmt = sys.argv[2]
count = 0
while True:
    head = s.recv(struct.calcsize(fmt), socket.MSG_PEEK)
    if not head:
        break
    (n,) = struct.unpack(fmt, recv_exactly(s, struct.calcsize(fmt)))
    body = recv_exactly(s, n)
    reply = hashlib.sha256(body).hexdigest().encode() + b" " + body[::-1]
    s.sendall(struct.pack(fmt, len(reply)) + reply)
    count += 1
s.close()
print("echoed", count)
`;

for (const [fmt, options] of [[">I", {}], ["<H", { header: 2, littleEndian: true }]] as const) {
  Deno.test(`pysock's sendMsg frames are read by CPython with struct.unpack('${fmt}')`, async () => {
    using server = createServer(["127.0.0.1", 0]);
    const port = (server.getsockname() as [string, number])[1];
    await using peer = python(PY_FRAMED_ECHO, String(port), fmt);
    const [conn] = await server.accept();
    using _conn = conn;
    const sizes = options.header === 2 ? [0, 1, 100, 60_000] : SIZES;
    for (const [i, n] of sizes.entries()) {
      const payload = payloadOf(i, n);
      await sendMsg(conn, payload, options);
      const reply = (await recvMsg(conn, options))!;
      const digest = Array.from(
        new Uint8Array(await crypto.subtle.digest("SHA-256", payload)),
        (byte) => byte.toString(16).padStart(2, "0"),
      ).join("");
      equal(text(reply.subarray(0, 64)), digest);
      deepEqual(reply.subarray(65), payload.reverse());
    }
    conn.shutdown(SHUT_WR);
    strictEqual(await recvMsg(conn, options), null);
    equal((await peer.output()).trim(), `echoed ${sizes.length}`);
  });
}

Deno.test("a seeded fuzz of recvUntil over a socket agrees with a reference split", async () => {
  const random = prng(0xfeed);
  for (let round = 0; round < 100; round++) {
    await using pairOf = await connected();
    const [a, b] = pairOf;
    const delimiter = randomBytes(random, 1 + Math.floor(random() * 3), 3);
    const data = randomBytes(random, Math.floor(random() * 3000), 3);
    const limit = random() < 0.5 ? 100_000 : 1 + Math.floor(random() * 30);
    // The reference: segments with their delimiter, by brute force.
    const expected: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i + delimiter.length <= data.length;) {
      if (delimiter.every((d, j) => data[i + j] === d)) {
        expected.push(data.slice(start, i + delimiter.length));
        i += delimiter.length;
        start = i;
      } else i++;
    }
    expected.push(data.slice(start));
    const writing = (async () => {
      for (let offset = 0; offset < data.length;) {
        const size = 1 + Math.floor(random() * 300);
        await a.sendall(data.subarray(offset, offset + size));
        offset += size;
      }
      a.shutdown(SHUT_WR);
    })();
    const got: Uint8Array[] = [];
    let consumed = 0;
    while (true) {
      try {
        const segment = await recvUntil(b, delimiter, { limit });
        got.push(segment);
        consumed += segment.length;
      } catch (err) {
        const current = expected[got.length];
        if (err instanceof IncompleteReadError) {
          deepEqual(err.partial, current, `round ${round}: the tail`);
          equal(got.length, expected.length - 1, `round ${round}: every segment before the tail`);
          break;
        }
        ok(err instanceof LimitOverrunError, `round ${round}: ${err}`);
        const isTail = got.length === expected.length - 1;
        const body = isTail ? current.length : current.length - delimiter.length;
        ok(body > limit, `round ${round}: segment ${got.length} of ${body} bytes fits ${limit}`);
        await writing;
        deepEqual(await readAll(b), data.subarray(consumed), `round ${round}: bytes stay readable`);
        break;
      }
    }
    await writing;
    deepEqual(got, expected.slice(0, got.length), `round ${round}`);
  }
});

Deno.test("recvUntil reports asyncio's consumed count after bytes were already taken", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  // Five bytes consumed first, so the buffer's window no longer starts at 0.
  await a.sendall("12345" + "x".repeat(10) + "\n" + "y".repeat(20));
  a.close();
  equal(text(await recvExactly(b, 5)), "12345");
  const found = await recvUntil(b, bytes("\n"), { limit: 9 }).catch((e) => e);
  ok(found instanceof LimitOverrunError);
  equal(found.consumed, 10); // asyncio: the index of the separator in the unread bytes
  const missing = await recvUntil(b, bytes("\r\n"), { limit: 15 }).catch((e) => e);
  ok(missing instanceof LimitOverrunError);
  ok(missing.consumed > 15);
  // Neither failure consumed a byte.
  equal(text(await recvExactly(b, 11)), "x".repeat(10) + "\n");
});

Deno.test("a recvMsg that timed out consumed nothing: recv then sees the header first", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  b.settimeout(0.05);
  await a.sendall(new Uint8Array([0, 0, 0, 5, 104, 105])); // header for 5 bytes, 2 sent
  await rejects(recvMsg(b), TimeoutError);
  b.settimeout(null);
  deepEqual(await recvExactly(b, 6), new Uint8Array([0, 0, 0, 5, 104, 105]));
});

// Concurrent readers on one socket: each call is served whole, in call order.

/** Sends `wire` one byte at a time, yielding to the event loop between bytes. */
async function trickle(sock: StreamSocket, wire: Uint8Array): Promise<void> {
  for (let i = 0; i < wire.length; i++) {
    await sock.sendall(wire.subarray(i, i + 1));
    await sleep(1);
  }
}

Deno.test("two recvMsg calls made at once get message 1 then message 2, whole, though they arrive byte by byte", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const first = recvMsg(b);
  const second = recvMsg(b);
  await trickle(a, concat([encodeMessage("message one"), encodeMessage("two")]));
  equal(text((await first)!), "message one");
  equal(text((await second)!), "two");
});

Deno.test("recvMsg, recv, recvExactly, recvLine and recvUntil made at once are served whole in call order", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const calls = Promise.allSettled([
    recvMsg(b),
    b.recv(1),
    recvExactly(b, 3),
    recvLine(b),
    recvUntil(b, ";"),
    recvMsg(b),
  ]);
  await trickle(
    a,
    concat([encodeMessage("msg"), bytes("Xabcline\nend;"), encodeMessage("last")]),
  );
  const got = (await calls).map((r) =>
    r.status === "fulfilled" ? text(r.value!) : String(r.reason)
  );
  deepEqual(got, ["msg", "X", "abc", "line\n", "end;", "last"]);
});

Deno.test("a recvMsg that times out hands its turn to the call made after it, which gets the message whole", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  await a.sendall(encodeMessage("whole").subarray(0, 6));
  b.settimeout(0.05);
  const timedOut = recvMsg(b);
  b.settimeout(null);
  const next = recvMsg(b);
  await rejects(timedOut, TimeoutError);
  await trickle(a, encodeMessage("whole").subarray(6));
  equal(text((await next)!), "whole");
});

Deno.test("a call that times out while waiting its turn consumes nothing", async () => {
  await using pairOf = await connected();
  const [a, b] = pairOf;
  const first = recvMsg(b);
  b.settimeout(0.05);
  await rejects(recvExactly(b, 2), TimeoutError);
  await rejects(b.recv(10), TimeoutError);
  b.setblocking(false);
  await rejects(recvLine(b), BlockingIOError);
  b.setblocking(true);
  await trickle(a, concat([encodeMessage("first"), bytes("next")]));
  equal(text((await first)!), "first");
  equal(text(await recvExactly(b, 4)), "next");
});

// recvMsgs: the batched reader.

Deno.test("recvMsgs yields a CPython sender's struct.pack('>I') frames in order, then ends", async () => {
  await readPythonFrames(async (sock) => {
    const received: Uint8Array[] = [];
    for await (const m of recvMsgs(sock)) received.push(m);
    return received;
  });
});

Deno.test("recvMsgs hands out all of 1,000 messages sent in one write, in order", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  // 1,000 small messages in one write: one read brings many of them.
  const wire = concat(Array.from({ length: 1000 }, (_, i) => encodeMessage(`m${i}`)));
  await a.sendall(wire);
  a.close();
  const received: Uint8Array[] = [];
  for await (const m of recvMsgs(b)) received.push(m);
  equal(received.length, 1000);
  received.forEach((m, i) => equal(text(m), `m${i}`));
});

Deno.test("recvMsgs with a 2-byte little-endian header reads the same bytes as recvMsg", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const options: FramingOptions = { header: 2, littleEndian: true };
  await a.sendall(new Uint8Array([3, 0, 97, 98, 99, 0, 0, 1, 0, 122]));
  a.close();
  const received: string[] = [];
  for await (const m of recvMsgs(b, options)) received.push(text(m));
  deepEqual(received, ["abc", "", "z"]);
});

Deno.test("recvMsgs rejects with IncompleteReadError at end of stream inside a message", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  await a.sendall(concat([encodeMessage("whole"), new Uint8Array([0, 0, 0, 9, 1, 2])]));
  a.close();
  const received: string[] = [];
  await rejects(async () => {
    for await (const m of recvMsgs(b)) received.push(text(m));
  }, (e) => e instanceof IncompleteReadError && e.expected === 9 && e.partial.length === 2);
  deepEqual(received, ["whole"]);
});

Deno.test("recvMsgs refuses a header over maxMessage with MessageTooLargeError", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  await a.sendall(concat([encodeMessage("ok"), new Uint8Array([0, 0, 1, 0])]));
  const received: string[] = [];
  await rejects(async () => {
    for await (const m of recvMsgs(b, { maxMessage: 100 })) received.push(text(m));
  }, (e) => e instanceof MessageTooLargeError && e.size === 256 && e.maxMessage === 100);
  deepEqual(received, ["ok"]);
});

Deno.test("recvMsgs waits for a message split across writes and loses nothing to a timeout", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  b.settimeout(0.05);
  const frame = encodeMessage("split across two writes");
  await a.sendall(frame.subarray(0, 7));
  const messages = recvMsgs(b);
  await rejects(messages.next(), TimeoutError);
  // The timed-out call consumed nothing: a fresh iterator gets the message whole.
  await a.sendall(frame.subarray(7));
  b.settimeout(null);
  const next = await recvMsgs(b).next();
  equal(text(next.value as Uint8Array), "split across two writes");
});

Deno.test("recvMsgs checks its options before any I/O", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  await rejects(recvMsgs(b, { header: 3 as HeaderSize }).next(), RangeError);
  await rejects(recvMsgs({} as StreamSocket).next(), TypeError);
  await a.sendall(encodeMessage("still in step"));
  equal(text((await recvMsg(b))!), "still in step");
});

Deno.test("recvMsgs stopped by break leaves the next message whole for recvMsg and a new recvMsgs", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  await a.sendall(concat(["one", "two", "three", "four"].map((w) => encodeMessage(w))));
  a.close();
  const messages = recvMsgs(b);
  for await (const m of messages) {
    equal(text(m), "one");
    break;
  }
  // break called return(): that iterator is done, and consumed nothing more.
  deepEqual(await messages.next(), { value: undefined, done: true });
  equal(text((await recvMsg(b))!), "two");
  const rest: string[] = [];
  for await (const m of recvMsgs(b)) rest.push(text(m));
  deepEqual(rest, ["three", "four"]);
});

Deno.test("recvMsgs serves next() calls made without awaiting in call order, then ends", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const messages = recvMsgs(b);
  const calls = [messages.next(), messages.next(), messages.next(), messages.next()];
  // The messages arrive after the calls, one byte at a time.
  await trickle(a, concat(["first", "second", "third"].map((w) => encodeMessage(w))));
  a.close();
  const results = await Promise.all(calls);
  deepEqual(results.map((r) => r.done ? null : text(r.value)), ["first", "second", "third", null]);
  deepEqual(await messages.next(), { value: undefined, done: true });
});

Deno.test("recvMsgs is done after an error, and the socket still reads", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  b.settimeout(0.02);
  const messages = recvMsgs(b);
  await rejects(messages.next(), TimeoutError);
  deepEqual(await messages.next(), { value: undefined, done: true });
  await a.sendall(encodeMessage("after"));
  b.settimeout(null);
  equal(text((await recvMsg(b))!), "after");
});

// recvMsgBatches: a batch of whole messages per step.

/** Every batch until end of stream, as arrays of text. */
async function textBatches(sock: StreamSocket, options?: FramingOptions): Promise<string[][]> {
  const batches: string[][] = [];
  for await (const batch of recvMsgBatches(sock, options)) batches.push(batch.map(text));
  return batches;
}

Deno.test("recvMsgBatches yields a CPython sender's frames in order, in non-empty batches", async () => {
  await readPythonFrames(async (sock) => {
    const batches: Uint8Array[][] = [];
    for await (const batch of recvMsgBatches(sock)) batches.push(batch);
    ok(batches.every((batch) => batch.length > 0));
    return batches.flat();
  });
});

Deno.test("recvMsgBatches hands out 1,000 messages of one write in a few batches, in order", async () => {
  await using pair = await connected();
  const [a, b] = pair;
  await a.sendall(concat(Array.from({ length: 1000 }, (_, i) => encodeMessage(`m${i}`))));
  a.close();
  const batches = await textBatches(b);
  deepEqual(batches.flat(), Array.from({ length: 1000 }, (_, i) => `m${i}`));
  // 6,890 bytes in one write come in one read or very few: a step per read, not per message.
  ok(batches.length <= 10, `${batches.length} batches`);
});

Deno.test("recvMsgBatches hands out the messages before a header over maxMessage, then raises", async () => {
  await using pair = await connected();
  const [a, b] = pair;
  await a.sendall(
    concat([encodeMessage("ok"), encodeMessage("fine"), new Uint8Array([0, 0, 1, 0])]),
  );
  const batches = recvMsgBatches(b, { maxMessage: 100 });
  const received: string[] = [];
  await rejects(async () => {
    for (let step = await batches.next(); !step.done; step = await batches.next()) {
      received.push(...step.value.map(text));
    }
  }, (e) => e instanceof MessageTooLargeError && e.size === 256 && e.maxMessage === 100);
  deepEqual(received, ["ok", "fine"]);
  deepEqual(await batches.next(), { value: undefined, done: true });
});

Deno.test("recvMsgBatches rejects with IncompleteReadError at end of stream inside a message", async () => {
  await using pair = await connected();
  const [a, b] = pair;
  await a.sendall(concat([encodeMessage("whole"), new Uint8Array([0, 0, 0, 9, 1, 2])]));
  a.close();
  const received: string[] = [];
  await rejects(async () => {
    for await (const batch of recvMsgBatches(b)) received.push(...batch.map(text));
  }, (e) => e instanceof IncompleteReadError && e.expected === 9 && e.partial.length === 2);
  deepEqual(received, ["whole"]);
});

Deno.test("recvMsgBatches waits for a split message, and a timeout loses nothing", async () => {
  await using pair = await connected();
  const [a, b] = pair;
  b.settimeout(0.05);
  const frame = encodeMessage("split across two writes");
  await a.sendall(frame.subarray(0, 7));
  await rejects(recvMsgBatches(b).next(), TimeoutError);
  b.settimeout(null);
  const batches = recvMsgBatches(b);
  const waiting = batches.next();
  await a.sendall(concat([frame.subarray(7), encodeMessage("x")]));
  a.close();
  const got = [((await waiting).value as Uint8Array[]).map(text)];
  for await (const batch of batches) got.push(batch.map(text));
  deepEqual(got.flat(), ["split across two writes", "x"]);
});

Deno.test("recvMsgBatches checks its options before any I/O and shares the buffer with recv", async () => {
  await using pair = await connected();
  const [a, b] = pair;
  await rejects(recvMsgBatches(b, { header: 3 as HeaderSize }).next(), RangeError);
  await rejects(recvMsgBatches({} as StreamSocket).next(), TypeError);
  await a.sendall(concat([encodeMessage("one"), encodeMessage("two"), bytes("raw tail")]));
  const received: string[] = [];
  for await (const batch of recvMsgBatches(b, { maxMessage: 1000 })) {
    received.push(...batch.map(text));
    if (received.length >= 2) break;
  }
  deepEqual(received, ["one", "two"]);
  // The bytes after the last whole message stay in the socket's buffer for recv.
  equal(text(await b.recv(100)), "raw tail");
});

/** The prototype that holds Deno's TCP connection read(), found on a real connection. */
async function tcpConnPrototype(): Promise<{ read: Deno.Conn["read"] }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  let proto = Object.getPrototypeOf(client);
  while (!Object.hasOwn(proto, "read")) proto = Object.getPrototypeOf(proto);
  client.close();
  server.close();
  listener.close();
  return proto;
}

Deno.test("recvMsgBatches serves a read call made after a waiting step in call order", async () => {
  // The race a review found: the step's read lands and frees the read turn
  // a few microtasks before the step hears of it; a recvMsg made in that
  // window takes m2, and the step must not then add m3 and m4 to its batch.
  // A hook on the Deno connection's read() makes that call d microtasks
  // after the read lands, for each d that can fall in the window.
  const proto = await tcpConnPrototype();
  const realRead = proto.read;
  try {
    for (let d = 0; d < 16; d++) {
      await using p = await pair();
      const { client: a, conn: b } = p;
      const batches = recvMsgBatches(b);
      let later: Promise<Uint8Array | null> | null = null;
      let armed = true;
      proto.read = function (this: Deno.Conn, buf: Uint8Array) {
        const reading = realRead.call(this, buf);
        if (armed) {
          armed = false;
          reading.then(() => {
            let n = d;
            const step = () => n-- > 0 ? queueMicrotask(step) : (later = recvMsg(b));
            step();
          });
        }
        return reading;
      };
      const waiting = batches.next();
      await a.sendall(concat(["m1", "m2", "m3", "m4"].map((w) => encodeMessage(w))));
      for (let i = 0; i < 1000 && later === null; i++) await sleep(1);
      proto.read = realRead;
      a.close();
      const order = ((await waiting).value as Uint8Array[]).map(text);
      const got = await later!;
      if (got !== null) order.push(text(got));
      for await (const batch of batches) order.push(...batch.map(text));
      deepEqual(order, ["m1", "m2", "m3", "m4"], `d=${d}`);
    }
  } finally {
    proto.read = realRead;
  }
});

Deno.test("a length header alone reserves at most about 1 MiB; room for the rest grows as its bytes arrive", async () => {
  // 16 peers each announce a message of almost 16 MiB (the default limit)
  // and send 10 bytes of it. Reserving what they announce would be 256 MiB.
  const announced = 0x00ffff00;
  const pairs = await Promise.all(Array.from({ length: 16 }, () => socketpair()));
  try {
    const before = Deno.memoryUsage().external;
    const pending = await Promise.all(pairs.map(async ([a, b]) => {
      const start = new Uint8Array(14);
      start.set([0x00, 0xff, 0xff, 0x00]);
      await b.sendall(start);
      const message = recvMsg(a);
      message.catch(() => {});
      return { message };
    }));
    await sleep(100);
    const grown = Deno.memoryUsage().external - before;
    ok(grown < 48 * 2 ** 20, `16 waiting receivers reserved ${grown} bytes`);
    // The announced message still arrives whole, through the growing room.
    const b = pairs[0][1];
    const payload = new Uint8Array(announced);
    for (let i = 0; i < payload.length; i += 4096) payload[i] = (i >> 12) & 0xff;
    const sending = b.sendall(payload.subarray(10));
    payload.set(new Uint8Array(10));
    const got = await pending[0].message;
    await sending;
    strictEqual(got?.length, announced);
    deepEqual(got, payload);
  } finally {
    for (const [a, b] of pairs) {
      a.close();
      b.close();
    }
  }
});
