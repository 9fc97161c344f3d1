// makefile() as CPython's: text mode decodes UTF-8 as it arrives (a
// character split across segments is waited for; sizes count characters),
// Python's newline handling, and an open file holding its socket after
// close() (_socket_file.ts, _text.ts). Each case beside its CPython twin.

import assert from "node:assert/strict";
import { BlockingIOError, OSError, recvExactly, SHUT_WR, type StreamSocket } from "../mod.ts";
import { pair, pythonJson, sleep, text } from "./_helpers.ts";

/** Sends `parts` one by one, with a pause between, so each is its own TCP segment. */
async function trickle(sock: StreamSocket, parts: (number[] | string)[]): Promise<void> {
  for (const part of parts) {
    await sock.sendall(typeof part === "string" ? part : new Uint8Array(part));
    await sleep(30);
  }
}

const PY_SPLIT = `
a, b = tcppair()
f = b.makefile("r", encoding="utf-8")
def trickle(parts):
    for p in parts:
        a.sendall(p)
        time.sleep(0.03)
got = []
threading.Thread(target=trickle, args=([b"\\xc3", b"\\xa9"],)).start()
got.append(f.read(1))
threading.Thread(target=trickle, args=([b"h\\xc3", b"\\xa9llo\\n"],)).start()
got.append(f.readline())
threading.Thread(target=trickle, args=([b"\\xf0", b"\\x9f", b"\\x98", b"\\x80", b"!"],)).start()
s = f.read(2)
got += [s, len(s)]
a.sendall("a😀bc".encode())
s = f.read(3)
got += [s, len(s)]
a.shutdown(socket.SHUT_WR)
got += [f.read(5), f.read(1), f.readline()]
print(json.dumps(got))
`;

Deno.test("text makefile: a character split across segments is waited for, and read(n) counts characters, as CPython", async () => {
  const py = await pythonJson(PY_SPLIT);
  assert.deepEqual(py, ["é", "héllo\n", "😀!", 2, "a😀b", 3, "c", "", ""]);
  await using p = await pair();
  const f = p.conn.makefile("r");
  const got: unknown[] = [];
  let sending = trickle(p.client, [[0xc3], [0xa9]]);
  got.push(await f.read(1));
  await sending;
  sending = trickle(p.client, [[0x68, 0xc3], [0xa9, 0x6c, 0x6c, 0x6f, 0x0a]]);
  got.push(await f.readline());
  await sending;
  sending = trickle(p.client, [[0xf0], [0x9f], [0x98], [0x80], "!"]);
  const emoji = await f.read(2);
  got.push(emoji, [...emoji].length);
  await sending;
  await p.client.sendall("a😀bc");
  const three = await f.read(3);
  got.push(three, [...three].length);
  p.client.shutdown(SHUT_WR);
  got.push(await f.read(5), await f.read(1), await f.readline());
  assert.deepEqual(got, py);
  await f.close();
});

Deno.test("text makefile: what follows the characters read stays in the socket's buffer for recv", async () => {
  await using p = await pair();
  const f = p.conn.makefile("r");
  await p.client.sendall(new Uint8Array([0xc3, 0xa9, 0x41, 0xe2, 0x82]));
  assert.equal(await f.read(2), "éA");
  // The cut-off euro sign is still bytes in the buffer, not decoded ahead.
  assert.deepEqual(await p.conn.recv(10), new Uint8Array([0xe2, 0x82]));
  await f.close();
});

Deno.test("text makefile: a sequence cut off by the end of stream reads as U+FFFD, never vanishes", async () => {
  await using p = await pair();
  const f = p.conn.makefile("r");
  await p.client.sendall(new Uint8Array([0x61, 0xe2, 0x82]));
  p.client.shutdown(SHUT_WR);
  // CPython's strict decoder raises UnicodeDecodeError here; pysock decodes
  // as errors="replace" does: one U+FFFD for the cut-off sequence.
  assert.equal(await f.read(5), "a\ufffd");
  assert.equal(await f.read(1), "");
  await f.close();
});

const PY_NEWLINES = `
data = b"one\\r\\ntwo\\rthree\\nfour"
got = []
for nl in [None, "", "\\n", "\\r", "\\r\\n"]:
    a, b = tcppair()
    a.sendall(data)
    a.shutdown(socket.SHUT_WR)
    got.append(b.makefile("r", encoding="utf-8", newline=nl).readlines())
a, b = tcppair()
a.sendall(b"a\\r\\nbcd\\r")
a.shutdown(socket.SHUT_WR)
f = b.makefile("r", encoding="utf-8")
got += [f.read(5), f.read(5)]
a, b = tcppair()
f = b.makefile("r", encoding="utf-8")
def later():
    a.sendall(b"x\\r")
    time.sleep(0.05)
    a.sendall(b"\\ny\\n")
threading.Thread(target=later).start()
got += [f.readline(), f.readline()]
print(json.dumps(got))
`;

Deno.test("text makefile: universal newlines by default, and each of Python's newline settings, as CPython", async () => {
  const py = await pythonJson(PY_NEWLINES);
  assert.deepEqual(py, [
    ["one\n", "two\n", "three\n", "four"],
    ["one\r\n", "two\r", "three\n", "four"],
    ["one\r\n", "two\rthree\n", "four"],
    ["one\r", "\ntwo\r", "three\nfour"],
    ["one\r\n", "two\rthree\nfour"],
    "a\nbcd",
    "\n",
    "x\n",
    "y\n",
  ]);
  const got: unknown[] = [];
  for (const newline of [null, "", "\n", "\r", "\r\n"] as const) {
    await using p = await pair();
    await p.client.sendall("one\r\ntwo\rthree\nfour");
    p.client.shutdown(SHUT_WR);
    const f = p.conn.makefile("r", { newline });
    got.push(await f.readlines());
    await f.close();
  }
  {
    await using p = await pair();
    await p.client.sendall("a\r\nbcd\r");
    p.client.shutdown(SHUT_WR);
    const f = p.conn.makefile("r");
    got.push(await f.read(5), await f.read(5));
    await f.close();
  }
  {
    await using p = await pair();
    const f = p.conn.makefile("r");
    // A "\r" at the end of what has come may start a "\r\n": readline waits to see.
    const sending = trickle(p.client, ["x\r", "\ny\n"]);
    got.push(await f.readline(), await f.readline());
    await sending;
    await f.close();
  }
  assert.deepEqual(got, py);
});

const PY_WRITE = `
a, b = tcppair()
f = b.makefile("w", encoding="utf-8", newline="\\r\\n")
n = [f.write("a\\nb"), f.write("😀\\n")]
f.flush()
time.sleep(0.05)
print(json.dumps([n, a.recv(100).decode()]))
`;

Deno.test("text makefile writes count characters and turn \\n into the newline setting, as CPython", async () => {
  const py = await pythonJson(PY_WRITE);
  assert.deepEqual(py, [[3, 2], "a\r\nb😀\r\n"]);
  await using p = await pair();
  const f = p.conn.makefile("w", { newline: "\r\n" });
  const n = [await f.write("a\nb"), await f.write("😀\n")];
  await f.flush();
  await sleep(50);
  assert.deepEqual([n, text(await p.client.recv(100))], py);
  await f.close();
});

Deno.test("makefile refuses a newline it does not know, and any newline in binary mode", async () => {
  await using p = await pair();
  assert.throws(() => p.conn.makefile("r", { newline: "x" as never }), RangeError);
  assert.throws(() => p.conn.makefile("rb" as "r", { newline: "\n" }), RangeError);
});

const PY_CLOSE = `
a, b = tcppair()
f = b.makefile("rb")
b.close()
a.sendall(b"line\\n")
got = [f.readline().decode(), b.fileno() != -1]
# CPython's file reads ahead into its own buffer: send the rest only now.
a.sendall(b"more")
got.append(b.recv(4).decode())
b.sendall(b"still")
time.sleep(0.05)
got.append(a.recv(10).decode())
f.close()
got += [b.fileno(), err(lambda: b.recv(1)), a.recv(10).decode()]
print(json.dumps(got))
`;

Deno.test("close() while a makefile is open keeps the connection until the file is closed, as CPython", async () => {
  const py = await pythonJson(PY_CLOSE);
  assert.deepEqual(py, ["line\n", true, "more", "still", -1, ["OSError", 9], ""]);
  await using p = await pair();
  const b = p.conn;
  const f = b.makefile("rb");
  b.close();
  await p.client.sendall("line\n");
  const got: unknown[] = [text(await f.readline()), b.fileno() !== -1];
  await p.client.sendall("more");
  got.push(text(await b.recv(4)));
  await b.sendall("still");
  await sleep(50);
  got.push(text(await p.client.recv(10)));
  await f.close();
  const after = await b.recv(1).catch((e) => e);
  assert.ok(after instanceof OSError);
  got.push(b.fileno(), [after.name, after.errno], text(await p.client.recv(10)));
  assert.deepEqual(got, py);
});

Deno.test("the socket closes when the last of its open files closes, and not before", async () => {
  await using p = await pair();
  const r = p.conn.makefile("rb");
  const w = p.conn.makefile("wb");
  p.conn.close();
  await w.write(new TextEncoder().encode("via w"));
  await w.close();
  assert.equal(text(await p.client.recv(10)), "via w");
  assert.notEqual(p.conn.fileno(), -1, "r still holds the socket");
  await r.close();
  assert.equal(p.conn.fileno(), -1);
  assert.equal((await p.client.recv(10)).length, 0);
  // Closing a file of a socket that was never closed leaves the socket open.
  await using q = await pair();
  await q.conn.makefile("rb").close();
  assert.notEqual(q.conn.fileno(), -1);
});

Deno.test("a file's write keeps its own copy: the caller may reuse its array at once", async () => {
  await using p = await pair();
  const f = p.client.makefile("wb");
  const buf = new TextEncoder().encode("first");
  await f.write(buf);
  buf.fill(0x7a);
  await f.write(buf.subarray(0, 2));
  await f.close();
  assert.equal(text(await recvExactly(p.conn, 7)), "firstzz");
});

Deno.test("non-blocking, a file's write buffers what fits, and takes the rest only as far as the socket does, saying how far", async () => {
  await using p = await pair();
  p.client.setblocking(false);
  const f = p.client.makefile("wb");
  // Fits in the buffer: taken whole, sent by flush.
  assert.equal(await f.write(new Uint8Array([1, 2, 3])), 3);
  const data = new Uint8Array(4 << 20).map((_, i) => i % 251);
  // Nobody reads: the socket takes part of 4 MiB, and the write says how much.
  const err = await f.write(data).then(() => null, (e) => e);
  assert.ok(err instanceof BlockingIOError, String(err));
  assert.equal(err.errno, 11);
  assert.equal(err.message, "[Errno 11] write could not complete without blocking");
  const taken = err.charactersWritten;
  assert.ok(taken > 0 && taken < data.length, String(taken));
  p.client.setblocking(true);
  await f.close();
  p.client.shutdown(SHUT_WR);
  // Exactly the three bytes, then the first `taken` bytes of data: nothing lost, nothing twice.
  assert.deepEqual(await recvExactly(p.conn, 3), new Uint8Array([1, 2, 3]));
  assert.deepEqual(await recvExactly(p.conn, taken), data.subarray(0, taken));
  assert.equal((await p.conn.recv(10)).length, 0);
});
