// recvmsg, recvmsgInto and sendmsg (_message.ts) on stream and datagram
// sockets, in Python's shapes, beside their CPython twins: MSG_TRUNC in
// msgFlags for a cut datagram, ancdata always [] and refused for sending.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_UNIX,
  CMSG_LEN,
  CMSG_SPACE,
  errno,
  MSG_PEEK,
  MSG_TRUNC,
  MSG_WAITALL,
  OSError,
  SCM_RIGHTS,
  SOCK_DGRAM,
  socket,
  SOL_SOCKET,
} from "../mod.ts";
import { errorOf, pair, pythonJson, sleep, text } from "./_helpers.ts";

const PY_STREAM = `
a, b = tcppair()
got = []
got.append(a.sendmsg([b"he", b"llo"]))
time.sleep(0.05)
data, anc, flags, addr = b.recvmsg(3)
got.append([data.decode(), anc, flags, addr])
data, anc, flags, addr = b.recvmsg(10, 64, socket.MSG_PEEK)
got.append([data.decode(), anc, flags, addr])
x, y = bytearray(1), bytearray(5)
n, anc, flags, addr = b.recvmsg_into([x, y])
got.append([n, (x + y[:n - 1]).decode(), anc, flags, addr])
got.append(a.sendmsg([b"ab"], [], 0, ("127.0.0.1", 9)))
time.sleep(0.05)
got.append(b.recv(10).decode())
got.append(a.sendmsg([]))
got += [err(lambda: b.recvmsg(-1)), err(lambda: b.recvmsg(1, -1)), err(lambda: a.sendmsg(b"ab"))]
print(json.dumps(got))
`;

Deno.test("recvmsg, recvmsgInto and sendmsg on a stream give Python's shapes, as CPython", async () => {
  const py = await pythonJson(PY_STREAM);
  assert.deepEqual(py, [
    5,
    ["hel", [], 0, null],
    ["lo", [], 0, null],
    [2, "lo", [], 0, null],
    2,
    "ab",
    0,
    ["ValueError", null],
    ["ValueError", null],
    ["TypeError", null],
  ]);
  await using p = await pair();
  const [a, b] = [p.client, p.conn];
  const got: unknown[] = [await a.sendmsg([new TextEncoder().encode("he"), "llo"])];
  await sleep(50);
  const [d1, anc1, f1, addr1] = await b.recvmsg(3);
  got.push([text(d1), anc1, f1, addr1]);
  const [d2, anc2, f2, addr2] = await b.recvmsg(10, 64, MSG_PEEK);
  got.push([text(d2), anc2, f2, addr2]);
  const [x, y] = [new Uint8Array(1), new Uint8Array(5)];
  const [n, anc3, f3, addr3] = await b.recvmsgInto([x, y]);
  got.push([n, text(x) + text(y.subarray(0, n - 1)), anc3, f3, addr3]);
  // A TCP socket ignores the address, as Linux does.
  got.push(await a.sendmsg(["ab"], [], 0, ["127.0.0.1", 9]));
  await sleep(50);
  got.push(text(await b.recv(10)));
  got.push(await a.sendmsg([]));
  const mapped = (e: [string, unknown] | null) =>
    e && [e[0] === "RangeError" ? "ValueError" : e[0], null];
  got.push(
    mapped(await errorOf(b.recvmsg(-1))),
    mapped(await errorOf(b.recvmsg(1, -1))),
    mapped(await errorOf(a.sendmsg(new Uint8Array(2) as never))),
  );
  assert.deepEqual(got, py);
});

Deno.test("recvmsgInto with MSG_WAITALL fills every buffer in turn", async () => {
  await using p = await pair();
  const pieces = [new Uint8Array(2), new Uint8Array(0), new Uint8Array(3)];
  const receiving = p.conn.recvmsgInto(pieces, 0, MSG_WAITALL);
  await p.client.sendall("ab");
  await sleep(20);
  await p.client.sendall("cde");
  assert.deepEqual(await receiving, [5, [], 0, null]);
  assert.deepEqual(pieces.map(text), ["ab", "", "cde"]);
});

Deno.test("sendmsg refuses ancillary data with EOPNOTSUPP naming it, before sending anything", async () => {
  await using p = await pair(AF_UNIX);
  const err = await p.client.sendmsg(["x"], [[SOL_SOCKET, SCM_RIGHTS, new Uint8Array(4)]])
    .catch((e) => e);
  assert.ok(err instanceof OSError && err.errno === errno.EOPNOTSUPP);
  assert.equal(
    err.message,
    "[Errno 95] Operation not supported: Deno cannot send SCM_RIGHTS (file descriptors): it has no sendmsg(2)",
  );
  await assert.rejects(p.client.sendmsg(["x"], "bad" as never), TypeError);
  // A Unix stream socket refuses an address, as Linux does.
  await assert.rejects(
    p.client.sendmsg(["x"], [], 0, `${p.dir}/other.sock`),
    (e: OSError) => e.errno === errno.EISCONN,
  );
  await p.client.sendall("only this");
  assert.equal(text(await p.conn.recv(20)), "only this");
});

const PY_DATAGRAM = `
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = list(s.getsockname())
got = []
got.append(s.sendmsg([b"0123", b"456789"], [], 0, tuple(me)))
data, anc, flags, addr = s.recvmsg(4)
got.append([data.decode(), anc, flags, list(addr) == me])
s.sendto(b"0123456789", tuple(me))
data, anc, flags, addr = s.recvmsg(4, 0, socket.MSG_TRUNC)
got.append([data.decode(), anc, flags])
s.sendto(b"ab", tuple(me))
data, anc, flags, addr = s.recvmsg(10)
got.append([data.decode(), anc, flags])
s.sendto(b"hello", tuple(me))
x, y = bytearray(2), bytearray(2)
n, anc, flags, addr = s.recvmsg_into([x, y])
got.append([n, (x + y).decode(), anc, flags])
got.append(err(lambda: s.sendmsg([b"x"])))
print(json.dumps(got))
`;

Deno.test("recvmsg on a datagram socket sets MSG_TRUNC when the datagram was cut, as CPython", async () => {
  const py = await pythonJson(PY_DATAGRAM);
  assert.deepEqual(py, [
    10,
    ["0123", [], MSG_TRUNC, true],
    ["0123", [], MSG_TRUNC],
    ["ab", [], 0],
    [4, "hell", [], MSG_TRUNC],
    ["OSError", errno.EDESTADDRREQ],
  ]);
  await using s = socket(AF_INET, SOCK_DGRAM);
  s.bind(["127.0.0.1", 0]);
  const me = s.getsockname();
  const got: unknown[] = [await s.sendmsg(["0123", "456789"], [], 0, me)];
  const [d1, anc1, f1, addr1] = await s.recvmsg(4);
  got.push([text(d1), anc1, f1, JSON.stringify(addr1) === JSON.stringify(me)]);
  await s.sendto("0123456789", me);
  const [d2, anc2, f2] = await s.recvmsg(4, 0, MSG_TRUNC);
  got.push([text(d2), anc2, f2]);
  await s.sendto("ab", me);
  const [d3, anc3, f3] = await s.recvmsg(10);
  got.push([text(d3), anc3, f3]);
  await s.sendto("hello", me);
  const [x, y] = [new Uint8Array(2), new Uint8Array(2)];
  const [n, anc4, f4] = await s.recvmsgInto([x, y]);
  got.push([n, text(x) + text(y), anc4, f4]);
  got.push(await errorOf(s.sendmsg(["x"])));
  assert.deepEqual(got, py);
});

Deno.test("CMSG_LEN and CMSG_SPACE give Linux's sizes and Python's range, as CPython", async () => {
  const inputs = [0, 1, 4, 8, 9, 2147483623, 2147483624, 2147483631, 2147483632, -1];
  const py = await pythonJson(`
out = []
for f in (socket.CMSG_LEN, socket.CMSG_SPACE):
    for n in ${JSON.stringify(inputs)}:
        try:
            out.append(f(n))
        except OverflowError:
            out.append("RangeError")
print(json.dumps(out))
`);
  const ours = [CMSG_LEN, CMSG_SPACE].flatMap((f) =>
    inputs.map((n) => {
      try {
        return f(n);
      } catch (e) {
        return (e as Error).name;
      }
    })
  );
  assert.deepEqual(ours, py);
  assert.throws(() => CMSG_LEN(1.5), TypeError);
});
