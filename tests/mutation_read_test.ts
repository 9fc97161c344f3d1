// The read path's edges that the mutation audit of session 12 found no test
// for (_buffer.ts, _slab.ts, _turns.ts, _kept.ts, _socket_file.ts, _text.ts):
// each test here fails when one behaviour-bearing spot of those files is
// changed. Real loopback sockets throughout; where the behaviour is CPython's
// (a reset after bytes, a makefile read), one python3 process per test is
// both the oracle and the peer.

import assert from "node:assert/strict";
import { recvExactly, recvMsg, recvMsgs } from "../framing.ts";
import {
  BlockingIOError,
  createServer,
  MSG_PEEK,
  MSG_WAITALL,
  OSError,
  select,
  SHUT_RD,
  SHUT_WR,
  socketpair,
} from "../mod.ts";
import { errno, IncompleteReadError } from "../errors.ts";
import { BytesIO } from "../socketserver.ts";
import {
  assertPending,
  bytes,
  MOD,
  python,
  pythonJson,
  runScript,
  settled,
  sleep,
  text,
} from "./_helpers.ts";
import {
  assertTwins,
  type Call,
  type Case,
  type Outcome,
  runTwins,
  send,
  utf8,
} from "./_makefile_twin.ts";

/** Header and payload of a 4-byte big-endian length-prefixed message. */
function framed(payload: string): Uint8Array {
  const body = bytes(payload);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** What a call gave, as the python twin prints it: its text, or its error's class. */
async function shown(call: Promise<Uint8Array>): Promise<string> {
  try {
    return text(await call);
  } catch (err) {
    return (err as Error).name;
  }
}

// A CPython client of a pysock listener (argv[1]) that sends "abc" and resets
// the connection (SO_LINGER 0) once pysock has accepted it; before that it runs the same reads on a pair
// of its own and prints what they gave, so the test compares with Linux's.
const PY_RESET_AFTER_BYTES = String.raw`
import json, struct, sys, time
from socket import *
def reset(c):
    c.setsockopt(SOL_SOCKET, SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
def shown(call):
    try: return call().decode()
    except OSError as e: return type(e).__name__
l = create_server(("127.0.0.1", 0))
c = create_connection(l.getsockname())
s, _ = l.accept()
c.sendall(b"abc")
time.sleep(0.05)
reset(c)
time.sleep(0.05)
got = [shown(lambda: s.recv(10, MSG_PEEK | MSG_WAITALL)), shown(lambda: s.recv(10, MSG_WAITALL)),
       shown(lambda: s.recv(10)), shown(lambda: s.recv(10))]
s.close()
l.close()
print(json.dumps(got), flush=True)
c = create_connection(("127.0.0.1", int(sys.argv[1])))
c.recv(1)  # pysock has accepted: a reset before that would drop the bytes with it
c.sendall(b"abc")
time.sleep(0.05)
reset(c)
`;

Deno.test("after bytes then a reset, recv(MSG_PEEK | MSG_WAITALL) and recv(MSG_WAITALL) return the bytes, then ECONNRESET, then end of stream, as on Linux", async () => {
  using server = createServer(["127.0.0.1", 0]);
  await using peer = python(PY_RESET_AFTER_BYTES, String(server.getsockname()[1]));
  const cpython = JSON.parse(await peer.firstLine());
  assert.deepEqual(cpython, ["abc", "abc", "ConnectionResetError", ""]);
  const [conn] = await server.accept();
  await using _conn = conn;
  await conn.sendall("g");
  await peer.output();
  const got = [
    await shown(conn.recv(10, MSG_PEEK | MSG_WAITALL)),
    await shown(conn.recv(10, MSG_WAITALL)),
    await shown(conn.recv(10)),
    await shown(conn.recv(10)),
  ];
  assert.deepEqual(got, cpython);
});

Deno.test("recvMsg waiting for a message of exactly maxMessage bytes returns it (only more is refused)", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const waiting = recvMsg(b, { maxMessage: 5 });
  await assertPending(waiting, "recvMsg before the message");
  await a.sendall(framed("fives"));
  assert.equal(text((await settled(waiting, "recvMsg"))!), "fives");
});

Deno.test("messages recvMsg took from the buffer whole never change when later reads reuse the buffer", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const wire = new Uint8Array([...framed("first"), ...framed("second")]);
  await a.sendall(wire);
  // The bytes land through a peek, so both messages are taken by the
  // buffered path with nothing else having handed out a view of them.
  assert.equal((await b.recv(wire.length, MSG_PEEK | MSG_WAITALL)).length, wire.length);
  const first = await recvMsg(b);
  const second = await recvMsg(b);
  await a.sendall(framed("overwrite-them"));
  assert.equal(text((await recvMsg(b))!), "overwrite-them");
  assert.equal(text(first!), "first");
  assert.equal(text(second!), "second");
  // The same through recvMsgs, whose steps take buffered messages the same way.
  await a.sendall(wire);
  assert.equal((await b.recv(wire.length, MSG_PEEK | MSG_WAITALL)).length, wire.length);
  const messages = recvMsgs(b);
  const one = (await messages.next()).value!;
  const two = (await messages.next()).value!;
  await a.sendall(framed("and-again-xyz"));
  assert.equal(text((await messages.next()).value!), "and-again-xyz");
  assert.deepEqual([text(one), text(two)], ["first", "second"]);
});

Deno.test("a read waiting when close() is called rejects with EBADF, also while non-blocking sends are still being written", async () => {
  const [a, b] = await socketpair();
  await using _b = b;
  a.setblocking(false);
  assert.equal(await a.send("queued"), 6);
  a.setblocking(true);
  const calls = [a.recv(5), recvExactly(a, 5), recvMsg(a)].map((call) =>
    call.then(() => null, (e) => e)
  );
  a.close();
  for (const call of calls) {
    const err = await settled(call, "the read");
    assert.ok(err instanceof OSError && !(err instanceof IncompleteReadError), String(err));
    assert.equal(err.errno, errno.EBADF);
  }
  assert.equal(text(await b.recv(10)), "queued");
});

Deno.test("a select waiting for a socket to be readable returns it when shutdown(SHUT_RD) ends its reading, as Linux's does", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const waiting = select([b], [], []);
  await assertPending(waiting, "select on an idle socket");
  b.shutdown(SHUT_RD);
  const [readable] = await settled(waiting, "select after SHUT_RD");
  assert.deepEqual(readable, [b]);
  assert.equal((await b.recv(10)).length, 0);
});

Deno.test("a select after a timed-out recv waits on the read that recv left, so every byte lands once and in order", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  b.settimeout(0.05);
  assert.equal((await b.recv(10).then(() => null, (e) => e)).name, "TimeoutError");
  b.settimeout(null);
  const waiting = select([b], [], []);
  await a.sendall("abc");
  assert.deepEqual((await settled(waiting, "select"))[0], [b]);
  const first = await b.recv(10);
  await a.sendall("def");
  assert.equal(text(await b.recv(10)), "def");
  assert.equal(text(first), "abc");
});

Deno.test("recvMsg after the caller transferred a message's buffer with the next message unread: one TypeError naming the transfer, then end of stream", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const wire = new Uint8Array([...framed("one"), ...framed("two")]);
  await a.sendall(wire);
  assert.equal((await b.recv(wire.length, MSG_PEEK | MSG_WAITALL)).length, wire.length);
  const first = (await recvMsg(b))!;
  (first.buffer as ArrayBuffer).transfer();
  const err = await recvMsg(b).then(() => null, (e) => e);
  assert.ok(err instanceof TypeError, String(err));
  assert.match(err.message, /was transferred with 7 unread bytes/);
  assert.equal(await recvMsg(b), null);
});

Deno.test("views handed out by recv and recvExactly never change when a later read needs more room than the slab's tail", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const data = new Uint8Array(12000).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
  await a.sendall(data.subarray(0, 8000));
  // 8000 bytes buffered in one slab of that size (a peek consumes nothing).
  assert.equal((await b.recv(8000, MSG_PEEK | MSG_WAITALL)).length, 8000);
  const one = await b.recv(1);
  const most = await recvExactly(b, 7000);
  // 999 bytes stay buffered at the slab's end; this call needs 3500 more:
  // the slab has room for them only where the views above lie.
  await a.sendall(data.subarray(8000));
  const rest = await recvExactly(b, 4499);
  assert.deepEqual(one, data.subarray(0, 1));
  assert.deepEqual(most, data.subarray(1, 7001));
  assert.deepEqual(rest, data.subarray(7001, 11500));
});

Deno.test("a call queued behind a read with a signal still gets its turn when that signal aborts the read", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const first = b.recv(10);
  const abort = new AbortController();
  const second = b.recv(10, 0, { signal: abort.signal });
  await a.sendall("one");
  assert.equal(text(await first), "one");
  const third = b.recv(10);
  await assertPending(second, "the read with a signal");
  abort.abort(new Error("stop"));
  assert.equal((await second.then(() => null, (e) => e)).message, "stop");
  await a.sendall("two");
  assert.equal(text(await settled(third, "the read queued behind it")), "two");
});

Deno.test("a call that got its turn before its timeout leaves nothing behind that could drop a later call from the queue", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const first = b.recv(3);
  b.settimeout(0.3);
  const second = b.recv(3);
  b.settimeout(null);
  await a.sendall("onetwo");
  assert.deepEqual([text(await first), text(await second)], ["one", "two"]);
  const third = b.recv(10);
  const fourth = b.recv(10);
  // Past the second call's timeout: by then nothing of it may act on the queue.
  await sleep(350);
  await a.sendall("three");
  assert.equal(text(await settled(third, "the third read")), "three");
  await a.sendall("four");
  assert.equal(text(await settled(fourth, "the fourth read")), "four");
});

Deno.test("closing a socket's writable after the socket was closed resolves", async () => {
  const [a, b] = await socketpair();
  await using _b = b;
  const writer = a.writable.getWriter();
  await writer.write(bytes("last"));
  a.close();
  await writer.close();
  assert.equal(text(await b.recv(10)), "last");
});

Deno.test("chunks() is done after return() and after a failed next(), and the socket's bytes stay for recv", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const chunks = b.chunks(16);
  await a.sendall("ab");
  assert.equal(text((await chunks.next()).value!), "ab");
  await chunks.return!();
  await a.sendall("cd");
  assert.deepEqual(await chunks.next(), { value: undefined, done: true });
  assert.equal(text(await b.recv(10)), "cd");
  const closed = b.chunks(16);
  b.close();
  const err = await closed.next().then(() => null, (e) => e);
  assert.ok(err instanceof OSError && err.errno === errno.EBADF, String(err));
  assert.deepEqual(await closed.next(), { value: undefined, done: true });
});

Deno.test("a text readline returns the first 1 MiB of a longer line without waiting for the rest of it", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const f = b.makefile("r");
  const line = f.readline();
  await a.sendall("a".repeat((1 << 20) + 1));
  // The peer holds the connection open: the piece cannot wait for the line's end.
  assert.equal((await settled(line, "readline")).length, 1 << 20);
  a.close();
  assert.equal(await f.readline(), "a");
  await f.close();
});

// A program whose last call timed out must end, as Python's does: the read
// that call left pending must not keep it alive, even after earlier calls
// that waited and got their bytes.
const KEPT_READ_EXITS = `
import { socketpair } from ${JSON.stringify(MOD)};
const [a, b] = await socketpair();
b.settimeout(5);
const got = b.recv(10);
setTimeout(() => a.sendall("x"), 20);
console.log(new TextDecoder().decode(await got));
b.settimeout(0.05);
console.log(await b.recv(10).then(() => "bytes", (e) => e.name));
`;

Deno.test("a program ends after a recv that timed out, also when recvs before it waited for their bytes", async () => {
  const r = await runScript(KEPT_READ_EXITS, ["--allow-net=127.0.0.1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "x\nTimeoutError\n");
});

Deno.test("BytesIO keeps its position past the end and seeks from where whence says, as io.BytesIO", async () => {
  const cpython = await pythonJson(`
import io
f = io.BytesIO(b"abcdef")
got = [f.read(2).decode(), f.seek(1, 1), f.seek(-1, 2), f.read(1).decode(), f.seek(10), f.read().decode(),
       f.tell(), f.read(2).decode(), f.tell(), f.readline().decode(), f.tell()]
print(json.dumps(got))
`);
  const f = new BytesIO("abcdef");
  const got = [
    text(f.read(2)),
    f.seek(1, 1),
    f.seek(-1, 2),
    text(f.read(1)),
    f.seek(10),
    text(f.read()),
    f.tell(),
    text(f.read(2)),
    f.tell(),
    text(f.readline()),
    f.tell(),
  ];
  assert.deepEqual(got, cpython);
});

Deno.test("a text file's write counts characters as Python's len(): a lone surrogate is one", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  const f = a.makefile("w");
  // Two code points, as Python counts them; U+D800 is written as U+FFFD.
  assert.equal(await f.write("\ud800\ue000"), 2);
  await f.close();
  assert.deepEqual(await recvExactly(b, 6), new Uint8Array([0xef, 0xbf, 0xbd, 0xee, 0x80, 0x80]));
});

// ------------------------------------------------ makefile, against CPython

// Non-blocking writes of binary files with a small buffer (16) and none (0)
// to a socket that takes nothing more: what the write says, and how many of
// its bytes the peer gets once the file is flushed blocking.
const PY_FULL_SOCKET_WRITES = `
import threading
from socket import *
l = create_server(("127.0.0.1", 0))
a = create_connection(l.getsockname())
b, _ = l.accept()
a.setblocking(False)
try:
    while True: a.send(bytes(1 << 20))
except BlockingIOError: pass
got = []
files = []
for buffering in (16, 0):
    f = a.makefile("wb", buffering=buffering)
    files.append(f)
    try: got.append(["ok", f.write(b"z" * 20)])
    except BlockingIOError as e: got.append(["BlockingIOError", e.characters_written])
def drain():
    tail = b""
    while True:
        chunk = b.recv(1 << 20)
        if not chunk: break
        tail = (tail + chunk)[-64:]
    got.append(len(tail) - len(tail.rstrip(b"z")))
draining = threading.Thread(target=drain)
draining.start()
a.setblocking(True)
for f in files: f.close()
a.shutdown(SHUT_WR)
draining.join()
print(json.dumps(got))
`;

Deno.test("non-blocking, a binary file keeps at most its buffer's size of a write the socket cannot take, as CPython's BufferedWriter; an unbuffered one keeps nothing", async () => {
  const cpython = await pythonJson(PY_FULL_SOCKET_WRITES);
  // CPython's unbuffered SocketIO.write returns None: pysock's BlockingIOError (README).
  assert.deepEqual(cpython, [["BlockingIOError", 16], ["ok", null], 16]);
  const [a, b] = await socketpair();
  await using _a = a;
  await using _b = b;
  a.setblocking(false);
  for (let i = 0; i < 1000; i++) {
    const err = await a.send(new Uint8Array(1 << 20)).then(() => null, (e) => e);
    if (err instanceof BlockingIOError) break;
    assert.equal(err, null);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const got: unknown[] = [];
  const files = [];
  for (const buffering of [16, 0]) {
    const f = a.makefile("wb", buffering);
    files.push(f);
    got.push(
      await f.write(bytes("z".repeat(20))).then(
        (n) => ["ok", n],
        (e) => [e.name, e.charactersWritten],
      ),
    );
  }
  a.setblocking(true);
  const draining = (async () => {
    let tail = new Uint8Array(0);
    for (let i = 0; i < 100_000; i++) {
      const chunk = await b.recv(1 << 20);
      if (chunk.length === 0) break;
      tail = new Uint8Array([...tail, ...chunk.subarray(-64)]).subarray(-64);
    }
    return tail.length - text(tail).replace(/z+$/, "").length;
  })();
  for (const f of files) await f.close();
  a.shutdown(SHUT_WR);
  got.push(await draining);
  assert.deepEqual(got, [cpython[0], ["BlockingIOError", 0], cpython[2]]);
});

/** A text file as pysock's: UTF-8, bad bytes replaced. */
const TEXT: Call = ["makefile", "r", { encoding: "utf-8", errors: "replace" }];
const RESET: Outcome = {
  err: "ConnectionResetError",
  errno: 104,
  msg: "[Errno 104] Connection reset by peer",
};
const RESET_ORDER = "README (Timeouts lose no data): the bytes before a reset are all returned " +
  "and the reset raised once (CPython's buffered read raises and drops them)";

const FILE_CASES: Case[] = [
  {
    name: "r: text readline gets the partial line before a reset, then the error",
    peer: [send("ab\ncd"), ["rst"]],
    client: [TEXT, ["readline", 0], ["readline", 0], ["readline", 0], ["readline", 0]],
    differs: {
      2: { cpython: RESET, pysock: { ok: "cd" }, why: RESET_ORDER },
      3: { cpython: { ok: "" }, pysock: RESET, why: RESET_ORDER },
    },
  },
  {
    // An overlong E0 80 80 is three ill-formed units, each one U+FFFD.
    name: "r: read(1) of an overlong three-byte sequence takes one replaced byte",
    peer: [send([0xe0, 0x80, 0x80, 0x78]), ["eof"]],
    client: [TEXT, ["read", 0, 1], ["read", 0, 1], ["read", 0]],
  },
  {
    name: "r newline='': readline(3) of a\\r\\nb keeps the whole \\r\\n",
    peer: [send("a\r\nb"), ["eof"]],
    client: [
      ["makefile", "r", { encoding: "utf-8", errors: "replace", newline: "" }],
      ["readline", 0, 3],
      ["readline", 0, 3],
    ],
  },
  {
    // BufferedWriter: a write that does not fit beside what is buffered sends
    // the buffer; one of exactly the buffer's size then waits in it.
    name: "wb buffering=16: after 2 bytes, a write of exactly 16 waits in the emptied buffer",
    peer: [],
    client: [
      ["makefile", "wb", { buffering: 16 }],
      ["write", 0, utf8("ab")],
      ["write", 0, utf8("c".repeat(16))],
      ["sendall", "|1|"],
      ["write", 0, utf8("d")],
      ["sendall", "|2|"],
      ["close", 0],
    ],
  },
  {
    // TextIOWrapper hands its pending text on once it reaches 8192 bytes
    // (not only past them), to a 16-byte BufferedWriter that sends it.
    name: "w buffering=16: a text write of exactly 8192 bytes goes out at once",
    peer: [],
    client: [
      ["makefile", "w", { encoding: "utf-8", buffering: 16 }],
      ["write", 0, "e".repeat(8192)],
      ["sendall", "|1|"],
      ["close", 0],
    ],
  },
];

Deno.test("makefile edges as CPython's: text lines before a reset, writes at the buffers' edges", async () => {
  assertTwins(FILE_CASES, await runTwins(FILE_CASES));
});
