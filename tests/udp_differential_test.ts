// The datagram socket against CPython 3.11 on the same kernel: each test runs
// one sequence in pysock and, as a python3 twin, on CPython's own sockets,
// and compares bytes, addresses, msg_flags, error classes and errnos. UDP on
// 127.0.0.1 and ::1 (where the host has it) and Unix datagram sockets in a
// temp dir; nothing is ever sent anywhere else (no broadcast, no multicast
// group: memberships are joined on the loopback interface and left unused).
//
// Where pysock deliberately differs (API.md, the udp.ts module doc) the test
// compares around the difference and says so; a difference that is a bug
// Deno leaves no small fix for is an ignored test whose comment starts BUG:.
//
// Receives, connect, timeouts and close here; sizes, options, names and the
// AF_UNIX differences are in udp_differential_options_test.ts.

import assert from "node:assert/strict";
import {
  AF_INET6,
  AF_UNIX,
  type DatagramSocket,
  errno,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_TRUNC,
} from "../mod.ts";
import { sleep, text } from "./_helpers.ts";
import {
  failure,
  FAMILIES,
  hex,
  IP_FAMILIES,
  outcome,
  payload,
  Sockets,
  twin,
} from "./_datagram_twin.ts";

// ---- receives: every call, size and flag ----

type ReceiveOp = "recvfrom" | "recv" | "recvfromInto" | "recvInto" | "recvmsg" | "recvmsgInto";
const RECEIVE_OPS: ReceiveOp[] = [
  "recvfrom",
  "recv",
  "recvfromInto",
  "recvInto",
  "recvmsg",
  "recvmsgInto",
];
/** [op, datagram length or -1 for none, size, flags] */
type Step = [ReceiveOp, number, number, number];

const STEPS: Step[] = [];
for (const op of RECEIVE_OPS) {
  for (const flags of [0, MSG_PEEK, MSG_TRUNC, MSG_PEEK | MSG_TRUNC, MSG_DONTWAIT]) {
    for (const length of [0, 5]) {
      for (const size of [0, 4, 5, 6]) STEPS.push([op, length, size, flags]);
    }
  }
  STEPS.push([op, -1, 4, MSG_DONTWAIT], [op, -1, 4, MSG_DONTWAIT | MSG_PEEK]);
}

// One receive step in CPython: *Into buffers are size + 2 bytes of "." with
// nbytes = size (0: the whole buffer); recvmsg_into splits size into
// [1, 0, size - 1]. Bytes past bufsize under MSG_TRUNC are whatever
// CPython's buffer held (pysock's are zeros), so only the length and the
// first bufsize bytes are compared.
const PY_STEP = `
def step(a, me, op, size, flags):
    if op in ("recvfrom", "recv"):
        r = a.recvfrom(size, flags) if op == "recvfrom" else (a.recv(size, flags), me)
        data = r[0]
        return [len(data), data[:size].hex(), r[1] == me]
    if op in ("recvfromInto", "recvInto"):
        buf = bytearray(b"." * (size + 2))
        r = a.recvfrom_into(buf, size, flags) if op == "recvfromInto" else (a.recv_into(buf, size, flags), me)
        return [r[0], buf.hex(), r[1] == me]
    if op == "recvmsg":
        data, anc, mflags, who = a.recvmsg(size, 0, flags)
        return [len(data), data.hex(), anc, mflags, who == me]
    bufs = [bytearray(b"." * min(1, size)), bytearray(), bytearray(b"." * max(0, size - 1))]
    n, anc, mflags, who = a.recvmsg_into(bufs, 0, flags)
    return [n, [b.hex() for b in bufs], anc, mflags, who == me]
`;

async function step(
  a: DatagramSocket,
  me: unknown,
  op: ReceiveOp,
  size: number,
  flags: number,
): Promise<unknown[]> {
  const same = (who: unknown) => JSON.stringify(who) === JSON.stringify(me);
  if (op === "recvfrom" || op === "recv") {
    const [data, who] = op === "recvfrom"
      ? await a.recvfrom(size, flags)
      : [await a.recv(size, flags), me];
    return [data.length, hex(data.subarray(0, size)), same(who)];
  }
  if (op === "recvfromInto" || op === "recvInto") {
    const buf = new Uint8Array(size + 2).fill(0x2e);
    const [n, who] = op === "recvfromInto"
      ? await a.recvfromInto(buf, size, flags)
      : [await a.recvInto(buf, size, flags), me];
    return [n, hex(buf), same(who)];
  }
  if (op === "recvmsg") {
    const [data, anc, msgFlags, who] = await a.recvmsg(size, 0, flags);
    return [data.length, hex(data), anc, msgFlags, same(who)];
  }
  const bufs = [
    new Uint8Array(Math.min(1, size)).fill(0x2e),
    new Uint8Array(0),
    new Uint8Array(Math.max(0, size - 1)).fill(0x2e),
  ];
  const [n, anc, msgFlags, who] = await a.recvmsgInto(bufs, 0, flags);
  return [n, bufs.map(hex), anc, msgFlags, same(who)];
}

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: every receive call with bufsize 0, smaller, equal and larger, empty datagrams and each flag gives CPython's bytes, counts, msg_flags and sender`, async () => {
    const py = await twin(
      family,
      PY_STEP + `
a, b = sock(), sock()
me = b.getsockname()
def run(op, size, flags):
    try:
        return step(a, me, op, size, flags)
    except OSError as e:
        return [type(e).__name__, e.errno]
out = []
for op, length, size, flags in json.loads(sys.argv[2]):
    if length >= 0:
        b.sendto(bytes((i * 7 + length) % 256 for i in range(length)), a.getsockname())
        time.sleep(0.002)
    out.append(run(op, size, flags))
    if flags & socket.MSG_PEEK and length >= 0:
        out.append(a.recv(100).hex())
print(json.dumps(out))
`,
      JSON.stringify(STEPS),
    ) as unknown[];
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    const me = b.getsockname();
    const ours: unknown[] = [];
    for (const [op, length, size, flags] of STEPS) {
      if (length >= 0) {
        await b.sendto(payload(length), a.getsockname());
        // The twin sleeps too: a MSG_DONTWAIT receive must find the datagram there.
        await sleep(2);
      }
      ours.push(await outcome(() => step(a, me, op, size, flags)));
      if (flags & MSG_PEEK && length >= 0) ours.push(hex(await a.recv(100)));
    }
    assert.equal(ours.length, py.length);
    for (let i = 0, j = 0; i < STEPS.length; i++, j++) {
      const at = `step ${JSON.stringify(STEPS[i])}`;
      assert.deepEqual(ours[j], py[j], at);
      if (STEPS[i][3] & MSG_PEEK && STEPS[i][1] >= 0) j++, assert.deepEqual(ours[j], py[j], at);
    }
  });

  Deno.test(`${name}: receive calls made together, before any datagram, each get one datagram, in call order, none lost or repeated (CPython: the same datagrams read one by one)`, async () => {
    const py = await twin(
      family,
      `
a, b = sock(), sock()
for m in "123456789":
    b.sendto(m.encode(), a.getsockname())
out = [a.recvfrom(10)[0].decode() for _ in range(4)]
out += [a.recvmsg(10)[0].decode(), a.recv(10).decode()]
buf = bytearray(4)
n = a.recv_into(buf)
out += [buf[:n].decode(), a.recvfrom(10)[0].decode()]
out += [a.recv(10, socket.MSG_PEEK).decode(), a.recvmsg(10)[0].decode()]
a.setblocking(False)
print(json.dumps([out, err(lambda: a.recv(10))]))
`,
    );
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    const buf = new Uint8Array(4);
    const calls: Promise<string>[] = [
      ...[0, 1, 2, 3].map(() => a.recvfrom(10).then(([d]) => text(d))),
      a.recvmsg(10).then(([d]) => text(d)),
      a.recv(10).then(text),
      a.recvInto(buf).then((n) => text(buf.subarray(0, n))),
      a.recvfrom(10).then(([d]) => text(d)),
      a.recv(10, MSG_PEEK).then(text),
      a.recvmsg(10).then(([d]) => text(d)),
    ];
    for (const m of "123456789") await b.sendto(m, a.getsockname());
    const got = await Promise.all(calls);
    a.setblocking(false);
    assert.deepEqual([got, await outcome(() => a.recv(10))], py);
  });
}

// ---- connect ----

for (const { name, family } of FAMILIES) {
  const unix = family === AF_UNIX;
  Deno.test(`${name}: connect sets the peer, filters other senders, leaves sendto to another address working, and a second connect moves the filter, as CPython`, async () => {
    // On AF_UNIX, Linux refuses a stranger's sendto to a connected socket
    // with EPERM (see the BUG test below); pysock's stranger sends and the
    // datagram is dropped, so the strangers' send outcomes are compared only
    // over UDP.
    const py = await twin(
      family,
      `
a, b, c = sock(), sock(), sock()
out = [err(lambda: a.send(b"x")), err(lambda: a.getpeername())]
a.connect(b.getsockname())
out.append(a.getpeername() == b.getsockname())
stranger = err(lambda: c.sendto(b"stranger", a.getsockname()))
b.sendto(b"peer1", a.getsockname())
out.append(a.recv(100).decode())
out.append(a.sendto(b"other", c.getsockname()))
data, who = c.recvfrom(100)
out += [data.decode(), who == a.getsockname()]
a.send(b"to-b")
data, who = b.recvfrom(100)
out += [data.decode(), who == a.getsockname()]
a.connect(c.getsockname())
out.append(a.getpeername() == c.getsockname())
old = err(lambda: b.sendto(b"old-peer", a.getsockname()))
c.sendto(b"new-peer", a.getsockname())
out.append(a.recvfrom(100)[0].decode())
a.setblocking(False)
out.append(err(lambda: a.recv(100)))
print(json.dumps([out, [stranger, old]]))
`,
    ) as [unknown[], unknown[]];
    await using s = new Sockets(family);
    const [a, b, c] = [s.open(), s.open(), s.open()];
    const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
    const out: unknown[] = [await outcome(() => a.send("x")), await outcome(() => a.getpeername())];
    await a.connect(b.getsockname());
    out.push(same(a.getpeername(), b.getsockname()));
    const stranger = await failure(() => c.sendto("stranger", a.getsockname()));
    await b.sendto("peer1", a.getsockname());
    out.push(text(await a.recv(100)));
    out.push(await a.sendto("other", c.getsockname()));
    let [data, who] = await c.recvfrom(100);
    out.push(text(data), same(who, a.getsockname()));
    await a.send("to-b");
    [data, who] = await b.recvfrom(100);
    out.push(text(data), same(who, a.getsockname()));
    await a.connect(c.getsockname());
    out.push(same(a.getpeername(), c.getsockname()));
    const old = await failure(() => b.sendto("old-peer", a.getsockname()));
    await c.sendto("new-peer", a.getsockname());
    out.push(text((await a.recvfrom(100))[0]));
    a.setblocking(false);
    out.push(await outcome(() => a.recv(100)));
    assert.deepEqual(out, py[0]);
    if (!unix) assert.deepEqual([stranger, old], py[1]);
  });
}

for (const { name, family } of IP_FAMILIES) {
  const any = family === AF_INET6 ? "::" : "0.0.0.0";
  Deno.test(`${name}: connect to "" or ${any} makes the peer loopback, as Linux does, and the peer's replies are delivered`, async () => {
    const py = await twin(
      family,
      `
b = sock()
out = []
for host in ("", "${any}"):
    a = sock(False)
    a.connect((host, b.getsockname()[1]))
    out.append([a.getpeername() == b.getsockname(), a.getsockname()[0]])
    a.send(b"hi")
    data, who = b.recvfrom(10)
    b.sendto(b"re:" + data, who)
    out.append(a.recv(10).decode())
    a.close()
print(json.dumps(out))
`,
    );
    await using s = new Sockets(family);
    const b = s.open();
    const out: unknown[] = [];
    for (const host of ["", any]) {
      const a = s.open(false);
      a.settimeout(5);
      await a.connect([host, b.getsockname()[1] as number]);
      const peer = a.getpeername();
      out.push([JSON.stringify(peer) === JSON.stringify(b.getsockname()), a.getsockname()[0]]);
      await a.send("hi");
      const [data, who] = await b.recvfrom(10);
      await b.sendto(new Uint8Array([...new TextEncoder().encode("re:"), ...data]), who);
      out.push(await outcome(async () => text(await a.recv(10))));
      a.close();
    }
    assert.deepEqual(out, py);
  });

  Deno.test(`${name}: connect to port 0 leaves getpeername ENOTCONN and lets datagrams from any port of that host in, as Linux does`, async () => {
    const host = family === AF_INET6 ? "::1" : "127.0.0.1";
    const py = await twin(
      family,
      `
a, x = sock(False), sock()
a.connect(("${host}", 0))
out = [err(lambda: a.getpeername()), a.getsockname()[0]]
x.sendto(b"any-port", a.getsockname())
out.append(a.recv(10).decode())
print(json.dumps(out))
`,
    );
    await using s = new Sockets(family);
    const [a, x] = [s.open(false), s.open()];
    a.settimeout(5);
    await a.connect([host, 0]);
    const out: unknown[] = [await outcome(() => a.getpeername()), a.getsockname()[0]];
    await x.sendto("any-port", a.getsockname());
    out.push(await outcome(async () => text(await a.recv(10))));
    assert.deepEqual(out, py);
  });

  Deno.test({
    name: `${name}: send on a socket connected to port 0 succeeds, as on Linux`,
    // BUG: Linux sends a connected socket's datagram to port 0 (it is then
    // dropped) and send() returns the count; Deno's send_to refuses port 0
    // with EINVAL, so pysock's send raises OSError EINVAL where CPython
    // returns 1.
    ignore: true,
    async fn() {
      const host = family === AF_INET6 ? "::1" : "127.0.0.1";
      const py = await twin(
        family,
        `a = sock(False)\na.connect(("${host}", 0))\nprint(a.send(b"x"))`,
      );
      await using s = new Sockets(family);
      const a = s.open(false);
      await a.connect([host, 0]);
      assert.deepEqual(await outcome(() => a.send("x")), py);
    },
  });
}

for (const { name, family } of FAMILIES) {
  Deno.test({
    name:
      `${name}: a datagram from another sender queued before connect is still delivered, as on Linux`,
    // BUG: Linux's connect() filters only datagrams that arrive after it;
    // one already queued from another sender is returned by the next recv.
    // pysock filters when it reads (Deno has no connected UDP), so it drops
    // that datagram: CPython gives ["stranger-before", "peer"], pysock
    // ["peer", BlockingIOError].
    ignore: true,
    async fn() {
      const code = `
a, b, p = sock(), sock(), sock()
b.sendto(b"stranger-before", a.getsockname())
a.connect(p.getsockname())
p.sendto(b"peer", a.getsockname())
a.settimeout(5)
out = [a.recv(100).decode(), a.recv(100).decode()]
print(json.dumps(out))
`;
      const py = await twin(family, code);
      await using s = new Sockets(family);
      const [a, b, p] = [s.open(), s.open(), s.open()];
      await b.sendto("stranger-before", a.getsockname());
      await a.connect(p.getsockname());
      await p.sendto("peer", a.getsockname());
      a.setblocking(false);
      const out = [await outcome(async () => text(await a.recv(100)))];
      out.push(await outcome(async () => text(await a.recv(100))));
      assert.deepEqual(out, py);
    },
  });
}

// ---- timeouts ----

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: timed-out recvfrom, recvmsg and recvfromInto lose nothing: the datagram sent afterwards is returned once, as CPython`, async () => {
    const py = await twin(
      family,
      `
a, b = sock(), sock()
a.settimeout(0.05)
out = [err(lambda: a.recvfrom(10)), err(lambda: a.recvmsg(10)), err(lambda: a.recvfrom_into(bytearray(4)))]
b.sendto(b"late", a.getsockname())
b.sendto(b"later", a.getsockname())
a.settimeout(None)
out += [a.recvfrom(10)[0].decode(), a.recvmsg(10)[0].decode()]
a.setblocking(False)
out.append(err(lambda: a.recv(10)))
print(json.dumps(out))
`,
    );
    await using s = new Sockets(family);
    const [a, b] = [s.open(), s.open()];
    a.settimeout(0.05);
    const out: unknown[] = [
      await failure(() => a.recvfrom(10)),
      await failure(() => a.recvmsg(10)),
      await failure(() => a.recvfromInto(new Uint8Array(4))),
    ];
    await b.sendto("late", a.getsockname());
    await b.sendto("later", a.getsockname());
    a.settimeout(null);
    out.push(text((await a.recvfrom(10))[0]), text((await a.recvmsg(10))[0]));
    a.setblocking(false);
    out.push(await failure(() => a.recv(10)));
    assert.deepEqual(out, py);
  });

  Deno.test(`${name}: settimeout while a blocking recvfrom waits does not end that call, as in CPython (the timeout is read when a call starts)`, async () => {
    const py = await twin(
      family,
      `
a, b = sock(), sock()
got = []
t = threading.Thread(target=lambda: got.append(a.recvfrom(10)[0].decode()))
t.start()
time.sleep(0.05)
a.settimeout(0.01)
time.sleep(0.1)
b.sendto(b"w", a.getsockname())
t.join(5)
print(json.dumps([got, a.gettimeout()]))
`,
    );
    await using s = new Sockets(family);
    const [a, b] = [s.open(), s.open()];
    const waiting = a.recvfrom(10);
    await sleep(50);
    a.settimeout(0.01);
    await sleep(100);
    await b.sendto("w", a.getsockname());
    assert.deepEqual([[text((await waiting)[0])], a.gettimeout()], py);
  });
}

// ---- close ----

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: close settles every pending receive with EBADF, is idempotent, and every later call fails with EBADF as in CPython`, async () => {
    const py = await twin(
      family,
      `
a, b = sock(), sock()
target = b.getsockname()
a.close()
a.close()
calls = [lambda: a.recvfrom(1), lambda: a.recv(1), lambda: a.recv_into(bytearray(1)),
         lambda: a.recvfrom_into(bytearray(1)), lambda: a.recvmsg(1),
         lambda: a.recvmsg_into([bytearray(1)]), lambda: a.sendto(b"x", target),
         lambda: a.send(b"x"), lambda: a.sendmsg([b"x"], [], 0, target),
         lambda: a.connect(target), lambda: a.bind(addr()), lambda: a.getsockname(),
         lambda: a.getpeername(), lambda: a.setsockopt(socket.SOL_SOCKET, socket.SO_TYPE, 1),
         lambda: a.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)]
print(json.dumps([[err(c) for c in calls], a.fileno(), repr(a)]))
`,
    ) as unknown[];
    await using s = new Sockets(family);
    const [a, b] = [s.open(), s.open()];
    const target = b.getsockname();
    const pending = [
      a.recvfrom(10),
      a.recvmsg(10),
      a.recvfromInto(new Uint8Array(4)),
      a.recvmsgInto([new Uint8Array(4)]),
      a.recv(10, MSG_PEEK),
    ];
    a.settimeout(30);
    pending.push(a.recv(10));
    await sleep(10);
    a.close();
    a.close();
    for (const call of pending) {
      assert.deepEqual(await failure(() => call), ["OSError", errno.EBADF]);
    }
    const calls = [
      () => a.recvfrom(1),
      () => a.recv(1),
      () => a.recvInto(new Uint8Array(1)),
      () => a.recvfromInto(new Uint8Array(1)),
      () => a.recvmsg(1),
      () => a.recvmsgInto([new Uint8Array(1)]),
      () => a.sendto("x", target),
      () => a.send("x"),
      () => a.sendmsg(["x"], [], 0, target),
      () => a.connect(target),
      () => a.bind(s.address()),
      () => a.getsockname(),
      () => a.getpeername(),
      // SO_TYPE is read-only (ENOPROTOOPT in pysock): closed comes first, as in CPython.
      () => a.setsockopt(1, 3, 1),
      () => a.getsockopt(1, 3),
    ];
    const ours = [];
    for (const call of calls) ours.push(await failure(call));
    assert.deepEqual([ours, a.fileno(), String(a)], py);
  });

  Deno.test({
    name: `${name}: settimeout and setblocking on a closed socket fail with EBADF, as in CPython`,
    // CPython's call fcntl on the closed fd after recording the value.
    async fn() {
      const py = await twin(
        family,
        `a = sock()\na.close()\nprint(json.dumps([err(lambda: a.settimeout(1)), err(lambda: a.setblocking(False)), a.gettimeout()]))`,
      );
      await using s = new Sockets(family);
      const a = s.open();
      a.close();
      const out = [await failure(() => a.settimeout(1)), await failure(() => a.setblocking(false))];
      assert.deepEqual([...out, a.gettimeout()], py);
    },
  });
}
