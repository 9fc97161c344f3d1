// recv/send flags (_flags.ts): MSG_PEEK, MSG_WAITALL and MSG_DONTWAIT on
// stream sockets, each beside a CPython twin running the same case, and the
// refusal (EOPNOTSUPP naming the flag) of every flag Deno cannot honour.

import assert from "node:assert/strict";
import {
  AF_INET,
  BlockingIOError,
  errno,
  MSG_CMSG_CLOEXEC,
  MSG_CONFIRM,
  MSG_CTRUNC,
  MSG_DONTROUTE,
  MSG_DONTWAIT,
  MSG_EOR,
  MSG_ERRQUEUE,
  MSG_FASTOPEN,
  MSG_MORE,
  MSG_NOSIGNAL,
  MSG_OOB,
  MSG_PEEK,
  MSG_TRUNC,
  MSG_WAITALL,
  OSError,
  SHUT_WR,
  SOCK_DGRAM,
  socket,
  TimeoutError,
} from "../mod.ts";
import { FAMILIES, pair, pythonJson, sleep, text } from "./_helpers.ts";

Deno.test("the MSG_ constants have Python's Linux values", async () => {
  const py = await pythonJson(`
print(json.dumps([getattr(socket, n) for n in ["MSG_OOB", "MSG_PEEK", "MSG_DONTROUTE",
  "MSG_CTRUNC", "MSG_TRUNC", "MSG_DONTWAIT", "MSG_EOR", "MSG_WAITALL", "MSG_CONFIRM",
  "MSG_ERRQUEUE", "MSG_NOSIGNAL", "MSG_MORE", "MSG_FASTOPEN", "MSG_CMSG_CLOEXEC"]]))
`);
  assert.deepEqual(py, [
    1,
    2,
    4,
    8,
    32,
    64,
    128,
    256,
    2048,
    8192,
    16384,
    32768,
    0x20000000,
    0x40000000,
  ]);
  assert.deepEqual(
    [
      MSG_OOB,
      MSG_PEEK,
      MSG_DONTROUTE,
      MSG_CTRUNC,
      MSG_TRUNC,
      MSG_DONTWAIT,
      MSG_EOR,
      MSG_WAITALL,
      MSG_CONFIRM,
      MSG_ERRQUEUE,
      MSG_NOSIGNAL,
      MSG_MORE,
      MSG_FASTOPEN,
      MSG_CMSG_CLOEXEC,
    ],
    py,
  );
});

const PY_PEEK = `
a, b = tcppair()
a.sendall(b"hello")
got = [b.recv(3, socket.MSG_PEEK).decode(), b.recv(3, socket.MSG_PEEK).decode()]
got.append(b.recv(10).decode())
a.sendall(b"xyz")
buf = bytearray(8)
n = b.recv_into(buf, 2, socket.MSG_PEEK)
got += [n, buf[:n].decode(), b.recv(10).decode()]
print(json.dumps(got))
`;

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: recv(n, MSG_PEEK) returns the bytes without consuming them, as CPython does`, async () => {
    const py = await pythonJson(PY_PEEK);
    assert.deepEqual(py, ["hel", "hel", "hello", 2, "xy", "xyz"]);
    await using p = await pair(family);
    await p.client.sendall("hello");
    const got: unknown[] = [
      text(await p.conn.recv(3, MSG_PEEK)),
      text(await p.conn.recv(3, MSG_PEEK)),
    ];
    got.push(text(await p.conn.recv(10)));
    await p.client.sendall("xyz");
    const buf = new Uint8Array(8);
    const n = await p.conn.recvInto(buf, 2, MSG_PEEK);
    got.push(n, text(buf.subarray(0, n)), text(await p.conn.recv(10)));
    assert.deepEqual(got, py);
  });
}

const PY_WAITALL = `
a, b = tcppair()
def later():
    time.sleep(0.1)
    a.sendall(b"cd")
a.sendall(b"ab")
threading.Thread(target=later).start()
got = [b.recv(4, socket.MSG_PEEK | socket.MSG_WAITALL).decode(), b.recv(4, socket.MSG_WAITALL).decode()]
threading.Thread(target=later).start()
a.sendall(b"ab")
buf = bytearray(4)
got += [b.recv_into(buf, 4, socket.MSG_WAITALL), buf.decode()]
a.sendall(b"end")
a.shutdown(socket.SHUT_WR)
got += [b.recv(10, socket.MSG_WAITALL).decode(), b.recv(10, socket.MSG_WAITALL).decode()]
print(json.dumps(got))
`;

Deno.test("recv(n, MSG_WAITALL) waits for all n bytes across segments, fewer only at end of stream, as CPython does", async () => {
  const py = await pythonJson(PY_WAITALL);
  assert.deepEqual(py, ["abcd", "abcd", 4, "abcd", "end", ""]);
  await using p = await pair();
  const later = async () => {
    await sleep(100);
    await p.client.sendall("cd");
  };
  await p.client.sendall("ab");
  let sending = later();
  const got: unknown[] = [
    text(await p.conn.recv(4, MSG_PEEK | MSG_WAITALL)),
    text(await p.conn.recv(4, MSG_WAITALL)),
  ];
  await sending;
  sending = later();
  await p.client.sendall("ab");
  const buf = new Uint8Array(4);
  got.push(await p.conn.recvInto(buf, 4, MSG_WAITALL), text(buf));
  await sending;
  await p.client.sendall("end");
  p.client.shutdown(SHUT_WR);
  got.push(text(await p.conn.recv(10, MSG_WAITALL)), text(await p.conn.recv(10, MSG_WAITALL)));
  assert.deepEqual(got, py);
});

Deno.test("recv(n, MSG_WAITALL) with a timeout returns what came by the deadline, and times out only when nothing did", async () => {
  await using p = await pair();
  p.conn.settimeout(0.1);
  const nothing = await p.conn.recv(4, MSG_WAITALL).catch((e) => e);
  assert.ok(nothing instanceof TimeoutError);
  await p.client.sendall("ab");
  // Linux's SO_RCVTIMEO gives the partial bytes at the deadline; so does pysock.
  assert.equal(text(await p.conn.recv(4, MSG_WAITALL)), "ab");
  await p.client.sendall("cd");
  assert.equal(text(await p.conn.recv(4)), "cd");
});

const PY_DONTWAIT = `
a, b = tcppair()
got = [err(lambda: b.recv(10, socket.MSG_DONTWAIT)), b.gettimeout()]
a.sendall(b"ready")
time.sleep(0.05)
got += [b.recv(10, socket.MSG_DONTWAIT).decode(), b.getblocking()]
got.append(a.send(b"x", socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL))
a.sendall(b"y", socket.MSG_NOSIGNAL)
time.sleep(0.05)
got.append(b.recv(10).decode())
print(json.dumps(got))
`;

Deno.test("MSG_DONTWAIT makes one call non-blocking and leaves the socket blocking, as CPython does", async () => {
  const py = await pythonJson(PY_DONTWAIT);
  assert.deepEqual(py, [["BlockingIOError", 11], null, "ready", true, 1, "xy"]);
  await using p = await pair();
  const none = await p.conn.recv(10, MSG_DONTWAIT).catch((e) => e);
  assert.ok(none instanceof BlockingIOError);
  const got: unknown[] = [[none.name, none.errno], p.conn.gettimeout()];
  await p.client.sendall("ready");
  await sleep(50);
  got.push(text(await p.conn.recv(10, MSG_DONTWAIT)), p.conn.getblocking());
  got.push(await p.client.send("x", MSG_DONTWAIT | MSG_NOSIGNAL));
  await p.client.sendall("y", MSG_NOSIGNAL);
  await sleep(50);
  got.push(text(await p.conn.recv(10)));
  assert.deepEqual(got, py);
});

Deno.test("MSG_PEEK sees the bytes another reader of the socket read ahead", async () => {
  await using p = await pair();
  await p.client.sendall("line\nrest");
  const f = p.conn.makefile("rb");
  assert.equal(text(await f.readline()), "line\n");
  assert.equal(text(await p.conn.recv(10, MSG_PEEK)), "rest");
  assert.equal(text(await p.conn.recv(10)), "rest");
  await f.close();
});

Deno.test("a MSG_PEEK that timed out consumed nothing and a later one sees the bytes", async () => {
  await using p = await pair();
  p.conn.settimeout(0.05);
  assert.ok(await p.conn.recv(5, MSG_PEEK).catch((e) => e) instanceof TimeoutError);
  await p.client.sendall("later");
  p.conn.settimeout(5);
  assert.equal(text(await p.conn.recv(5, MSG_PEEK | MSG_WAITALL)), "later");
  assert.equal(text(await p.conn.recv(5)), "later");
});

/** An OSError EOPNOTSUPP whose message names `what`. */
function refused(what: string) {
  return (err: unknown) => {
    assert.ok(err instanceof OSError, String(err));
    assert.equal(err.errno, errno.EOPNOTSUPP);
    assert.ok(err.message.startsWith("[Errno 95] Operation not supported: "), err.message);
    assert.ok(err.message.includes(what), `${err.message} names ${what}`);
    return true;
  };
}

Deno.test("a flag Deno cannot honour is refused with EOPNOTSUPP naming it, before any I/O", async () => {
  await using p = await pair();
  await p.client.sendall("kept");
  const s = p.conn;
  await assert.rejects(s.recv(4, MSG_OOB), refused("MSG_OOB (Deno has no out-of-band data)"));
  await assert.rejects(s.recv(4, MSG_TRUNC), refused("MSG_TRUNC (it is for datagram sockets)"));
  await assert.rejects(s.recv(4, MSG_PEEK | MSG_ERRQUEUE), refused("MSG_ERRQUEUE"));
  await assert.rejects(s.recv(4, 0x1000), refused("flag 0x1000 (not a flag pysock knows)"));
  await assert.rejects(s.recv(4, MSG_NOSIGNAL), refused("MSG_NOSIGNAL (it is a send flag)"));
  await assert.rejects(s.recvInto(new Uint8Array(4), 0, MSG_CMSG_CLOEXEC), refused("recvInto"));
  await assert.rejects(
    s.send("x", MSG_PEEK),
    refused("send cannot take MSG_PEEK (it is a receive flag)"),
  );
  await assert.rejects(s.sendall("x", MSG_MORE | MSG_EOR), refused("MSG_EOR | MSG_MORE"));
  await assert.rejects(
    s.send("x", MSG_DONTROUTE),
    refused("MSG_DONTROUTE (Deno cannot bypass routing)"),
  );
  await assert.rejects(s.send("x", MSG_FASTOPEN), refused("MSG_FASTOPEN"));
  await assert.rejects(s.send("x", MSG_CONFIRM), refused("MSG_CONFIRM"));
  // Nothing was consumed or sent by the refused calls.
  assert.equal(text(await s.recv(10)), "kept");
  await s.sendall("ok");
  assert.equal(text(await p.client.recv(10)), "ok");
});

Deno.test("flags must be an integer that fits in a C int, as in Python", async () => {
  await using p = await pair();
  await assert.rejects(p.conn.recv(4, "2" as never), TypeError);
  await assert.rejects(p.conn.recv(4, 1.5), TypeError);
  await assert.rejects(p.conn.recv(4, 2 ** 40), RangeError);
  await assert.rejects(p.conn.send("x", null as never), TypeError);
  // Checked before the connection: an unconnected socket reports the flag.
  using s = socket();
  await assert.rejects(s.recv(1, MSG_OOB), refused("MSG_OOB"));
});

const PY_DATAGRAM_FLAGS = `
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()
got = [err(lambda: s.recvfrom(10, socket.MSG_DONTWAIT))]
s.sendto(b"first", 0, me)
s.sendto(b"second", socket.MSG_DONTWAIT, me)
time.sleep(0.05)
got.append(s.recvfrom(3, socket.MSG_PEEK)[0].decode())
got.append(s.recv(10, socket.MSG_PEEK).decode())
got.append(s.recvfrom(10)[0].decode())
buf = bytearray(3)
n, addr = s.recvfrom_into(buf, 0, socket.MSG_TRUNC)
got += [n, buf.decode()]
s.sendto(b"0123456789", me)
data, addr = s.recvfrom(4, socket.MSG_TRUNC)
got += [len(data), data[:4].decode()]
s.sendto(b"abc", me)
got.append(s.recv_into(bytearray(2), 0, socket.MSG_TRUNC))
print(json.dumps(got))
`;

Deno.test("datagram flags: MSG_PEEK keeps the datagram, MSG_TRUNC gives its real length, MSG_DONTWAIT does not wait, as CPython", async () => {
  const py = await pythonJson(PY_DATAGRAM_FLAGS);
  assert.deepEqual(py, [["BlockingIOError", 11], "fir", "first", "first", 6, "sec", 10, "0123", 3]);
  await using s = socket(AF_INET, SOCK_DGRAM);
  s.bind(["127.0.0.1", 0]);
  const me = s.getsockname();
  const none = await s.recvfrom(10, MSG_DONTWAIT).catch((e) => e);
  assert.ok(none instanceof BlockingIOError);
  const got: unknown[] = [[none.name, none.errno]];
  await s.sendto("first", 0, me);
  await s.sendto("second", MSG_DONTWAIT, me);
  await sleep(50);
  got.push(text((await s.recvfrom(3, MSG_PEEK))[0]));
  got.push(text(await s.recv(10, MSG_PEEK)));
  got.push(text((await s.recvfrom(10))[0]));
  const buf = new Uint8Array(3);
  const [n] = await s.recvfromInto(buf, 0, MSG_TRUNC);
  got.push(n, text(buf));
  await s.sendto("0123456789", me);
  const [data] = await s.recvfrom(4, MSG_TRUNC);
  got.push(data.length, text(data.subarray(0, 4)));
  // CPython's bytes past bufsize are whatever its buffer held; pysock's are zeros.
  assert.deepEqual(data.subarray(4), new Uint8Array(6));
  await s.sendto("abc", me);
  got.push(await s.recvInto(new Uint8Array(2), 0, MSG_TRUNC));
  assert.deepEqual(got, py);
});

Deno.test("datagram flags Deno cannot honour are refused with EOPNOTSUPP naming them, before any I/O", async () => {
  await using s = socket(AF_INET, SOCK_DGRAM);
  s.bind(["127.0.0.1", 0]);
  const me = s.getsockname();
  await assert.rejects(s.recvfrom(4, MSG_OOB), refused("recvfrom cannot take MSG_OOB"));
  await assert.rejects(s.recvfromInto(new Uint8Array(4), 0, MSG_ERRQUEUE), refused("MSG_ERRQUEUE"));
  await assert.rejects(s.sendto("x", MSG_PEEK, me), refused("sendto cannot take MSG_PEEK"));
  await assert.rejects(s.sendto("x", MSG_TRUNC, me), refused("MSG_TRUNC (it is a receive flag)"));
  await assert.rejects(s.sendto("x", MSG_CONFIRM, me), refused("MSG_CONFIRM"));
  // sendto(data, number) is a malformed address, as in Python, not flags.
  await assert.rejects(s.sendto("x", 5 as never), TypeError);
  await s.sendto("kept", me);
  assert.equal(text((await s.recvfrom(10))[0]), "kept");
});

Deno.test("an aborted recvfrom rejects with the signal's reason and the datagram goes to the next call", async () => {
  await using s = socket(AF_INET, SOCK_DGRAM);
  s.bind(["127.0.0.1", 0]);
  const controller = new AbortController();
  const waiting = s.recvfrom(10, 0, { signal: controller.signal });
  await sleep(20);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, { message: "stop" });
  await s.sendto("after", s.getsockname());
  assert.equal(text((await s.recvfrom(10))[0]), "after");
  await assert.rejects(s.recv(1, 0, { signal: AbortSignal.abort() }), { name: "AbortError" });
});
