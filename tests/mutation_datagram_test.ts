// Tests from a mutation audit of the datagram socket, its addresses and its
// errors (udp.ts, _datagram_receiver.ts, _datagram_options.ts, _message.ts,
// _flags.ts, _address.ts, errors.ts): each one pins a behaviour that a
// changed line of those files broke without any other test noticing.
// CPython on the same kernel is the oracle where the behaviour is Python's
// (one python3 run answers every question, see PY_FACTS), API.md where it is
// pysock's contract. Loopback and a temp dir only.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  EAI,
  errno,
  errorFromErrno,
  fromDenoError,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_TTL,
  IPPROTO_IP,
  MSG_DONTWAIT,
  MSG_MORE,
  MSG_OOB,
  multicastRequest,
  OSError,
  PermissionError,
  select,
  SO_BROADCAST,
  SO_ERROR,
  SO_REUSEADDR,
  SOCK_DGRAM,
  socket,
  SOL_SOCKET,
  strerror,
} from "../mod.ts";
import * as constants from "../_constants.ts";
import { HAS_IPV6, MOD, pair, pythonJson, runScript, settled, sleep } from "./_helpers.ts";
import { failure } from "./_datagram_twin.ts";

// What CPython does, asked once: each entry is one question a test below compares with.
const PY_FACTS = `
import os, select, tempfile
out = {}
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.connect(a.getsockname())
out["send_oob"] = err(lambda: b.send(b"x", socket.MSG_OOB))
out["send_float_flags"] = err(lambda: b.send(b"x", 1.5))
out["send_flag_bounds"] = [err(lambda: b.send(b"x", f)) for f in (0x7FFFFFFF, 2**31, -(2**31) - 1)]
t1, t2 = tcppair()
out["stream_recv_into_dontwait"] = err(lambda: t1.recv_into(bytearray(4), 0, socket.MSG_DONTWAIT))
t1.close(); t2.close()
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); p.connect(("127.0.0.1", 65535))
out["peer_65535"] = list(p.getpeername()); p.close()
ERRNOS = [1, 2, 4, 9, 11, 13, 17, 20, 21, 22, 32, 98, 103, 104, 108, 110, 111, 114, 115]
out["errno_classes"] = [type(OSError(e, "x")).__name__ for e in ERRNOS]
import errno as errno_module
out["eai"] = {n: getattr(socket, n) for n in dir(socket) if n.startswith("EAI_") and n != "EAI_OVERFLOW"}
out["errno"] = {n: getattr(errno_module, n) for n in dir(errno_module) if n.startswith("E")}
out["strerror"] = {str(c): os.strerror(c) for c in list(errno_module.errorcode) + [9999]}
out["constants"] = {n: int(v) for n, v in vars(socket).items() if n.isupper() and isinstance(v, int)}
import ctypes
gai_strerror = ctypes.CDLL(None).gai_strerror
gai_strerror.restype = ctypes.c_char_p
out["gai_strerror"] = {str(c): gai_strerror(c).decode() for c in out["eai"].values()}
b.send(b"kept")
out["recv_into_empty"] = a.recv_into(bytearray(0))
a.settimeout(5)
out["after_empty"] = a.recv(16).decode()
tmp = tempfile.mkdtemp()
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
out["unix_send_oob_unconnected"] = err(lambda: u.send(b"x", socket.MSG_OOB))
u.close(); os.rmdir(tmp)
n = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r, w, _ = select.select([n], [n], [], 0)
out["unbound_select"] = [len(r), len(w)]
n.close()
# A join on an interface address no interface has: refused before any packet.
j = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); j.bind(("127.0.0.1", 0))
mreq = socket.inet_aton("239.255.77.79") + socket.inet_aton("0.0.0.1")
out["join_nowhere"] = err(lambda: j.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq))
out["join_again"] = err(lambda: j.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq))
out["drop_unjoined"] = err(lambda: j.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq))
# A membership on the loopback interface, never sent to: the TTL's top
# value, and request values too short for an ip_mreq.
g = socket.inet_aton("239.255.10.2"); lo = socket.inet_aton("127.0.0.1")
j2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); j2.bind(("127.0.0.1", 0))
out["lo_membership"] = [
    err(lambda: j2.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, g + lo)),
    err(lambda: j2.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)),
    j2.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL),
    err(lambda: j2.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 256)),
    err(lambda: j2.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, g)),
    err(lambda: j2.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, g + lo[:3])),
    err(lambda: j2.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, g + lo)),
    j2.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR),
]
j2.close()
r1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r1.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
r1.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
r1.bind(("127.0.0.1", 0))
r2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
out["reuse_cleared"] = [r1.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR), err(lambda: r2.bind(r1.getsockname()))]
r1.close(); r2.close()
j.close()
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(("127.0.0.2", 9))
out["connect_127_0_0_2"] = c.getsockname()[0]
c.close()
if socket.has_ipv6:
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    out["mapped_sizes"] = [err(lambda: s6.sendto(b"x" * size, ("::ffff:127.0.0.1", a.getsockname()[1]))) for size in (65507, 65508)]
    r6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); r6.bind(("::1", 0))
    to = r6.getsockname()[:2]
    s6.sendto(b"plain", to)
    out["cached_flowinfo"] = err(lambda: s6.sendto(b"x", to + (0x100000, 0)))
    s6.close(); r6.close()
a.close(); b.close()
print(json.dumps(out))
`;

let facts: Promise<Record<string, unknown>> | null = null;
/** CPython's answers (one python3 run, shared by the tests). */
function cpython(): Promise<Record<string, unknown>> {
  return facts ??= pythonJson(PY_FACTS) as Promise<Record<string, unknown>>;
}

const isErrno = (code: number) => (e: unknown) => e instanceof OSError && e.errno === code;

// udp.ts send(): the flags check. (Mutant: the checkFlags call in send dropped.)
Deno.test("send refuses MSG_OOB with EOPNOTSUPP and a float flags with TypeError, sending nothing, as CPython", async () => {
  const py = await cpython();
  await using a = socket(AF_INET, SOCK_DGRAM);
  a.bind(["127.0.0.1", 0]);
  await using b = socket(AF_INET, SOCK_DGRAM);
  await b.connect(a.getsockname());
  assert.deepEqual(await failure(() => b.send("x", MSG_OOB)), py.send_oob);
  assert.deepEqual(py.send_oob, ["OSError", errno.EOPNOTSUPP]);
  assert.deepEqual(await failure(() => b.send("x", 1.5)), py.send_float_flags);
  // Neither reached the network: the next datagram is the one sent now.
  await b.send("after");
  a.settimeout(5);
  assert.equal(new TextDecoder().decode(await a.recv(16)), "after");
  // An unconnected Unix datagram socket names the flag first, as Linux does.
  await using u = socket(AF_UNIX, SOCK_DGRAM);
  assert.deepEqual(await failure(() => u.send("x", MSG_OOB)), py.unix_send_oob_unconnected);
});

// udp.ts recvInto(): an empty array. (Mutant: the target.length === 0 shortcut dropped.)
Deno.test("recvInto of an empty array returns 0 at once and leaves the datagram for the next call, as CPython's recv_into", async () => {
  const py = await cpython();
  await using a = socket(AF_INET, SOCK_DGRAM);
  a.bind(["127.0.0.1", 0]);
  await using b = socket(AF_INET, SOCK_DGRAM);
  await b.connect(a.getsockname());
  await b.send("kept");
  const empty = await settled(a.recvInto(new Uint8Array(0)), "recvInto(empty)");
  assert.equal(empty, py.recv_into_empty);
  a.settimeout(5);
  assert.equal(new TextDecoder().decode(await a.recv(16)), py.after_empty);
});

// udp.ts #receiveNothing: flags and closed checks. CPython's recv(0) returns
// b"" without looking at either; API.md makes both binding for every receive
// (any other flag: EOPNOTSUPP; after close every I/O call: EBADF), as the
// stream socket's recv(0) does. (Mutants: its checkFlags, its checkOpen dropped.)
Deno.test("recv(0) and recvInto of no room still refuse a flag Deno cannot honour, and fail with EBADF once closed (API.md)", async () => {
  const a = socket(AF_INET, SOCK_DGRAM);
  a.bind(["127.0.0.1", 0]);
  await assert.rejects(a.recv(0, MSG_OOB), isErrno(errno.EOPNOTSUPP));
  await assert.rejects(a.recvInto(new Uint8Array(0), 0, MSG_OOB), isErrno(errno.EOPNOTSUPP));
  a.close();
  await assert.rejects(a.recv(0), isErrno(errno.EBADF));
  await assert.rejects(a.recvInto(new Uint8Array(0)), isErrno(errno.EBADF));
});

// udp.ts getpeername(): a copy. (Mutant: the tuple itself returned.)
Deno.test("getpeername returns a fresh array each time: changing one changes neither the peer nor the next answer", async () => {
  await using a = socket(AF_INET, SOCK_DGRAM);
  a.bind(["127.0.0.1", 0]);
  await using b = socket(AF_INET, SOCK_DGRAM);
  await b.connect(a.getsockname());
  const first = b.getpeername() as [string, number];
  first[1] = 1;
  assert.deepEqual(b.getpeername(), a.getsockname());
  await b.send("still to a");
  a.settimeout(5);
  assert.equal(new TextDecoder().decode(await a.recv(16)), "still to a");
});

// udp.ts [kWatch] on an unbound socket. (Mutants: unbound reported readable;
// the bind watcher not kept, or not woken by bind.)
Deno.test("select on an unbound UDP socket: writable, not readable, and a select waiting on it wakes once bind() lets a datagram in", async () => {
  const py = await cpython();
  await using n = socket(AF_INET, SOCK_DGRAM);
  const [r, w] = await select([n], [n], [], 0);
  assert.deepEqual([r.length, w.length], py.unbound_select);
  // A select waiting to read the unbound socket, then bind and a datagram.
  const waiting = select([n], [], [], 10);
  n.bind(["127.0.0.1", 0]);
  await using peer = socket(AF_INET, SOCK_DGRAM);
  await peer.sendto("wake", n.getsockname());
  const [readable] = await settled(waiting, "select on the socket bound while it waited");
  assert.deepEqual(readable, [n]);
  assert.equal(new TextDecoder().decode((await n.recvfrom(16))[0]), "wake");
});

// udp.ts checkDatagramSize: a mapped IPv4 destination has IPv4's limit.
// (Mutant: the ::ffff: exception dropped, so 65508 bytes went out.)
Deno.test({
  name:
    "an AF_INET6 socket sending to an IPv4-mapped address has IPv4's 65507-byte limit, as CPython",
  ignore: !HAS_IPV6,
  async fn() {
    const py = await cpython();
    await using a = socket(AF_INET, SOCK_DGRAM);
    a.bind(["127.0.0.1", 0]);
    await using s = socket(AF_INET6, SOCK_DGRAM);
    const to = ["::ffff:127.0.0.1", a.getsockname()[1] as number] as const;
    const ours = [];
    for (const size of [65507, 65508]) {
      ours.push(await failure(() => s.sendto(new Uint8Array(size), to)));
    }
    assert.deepEqual(ours, py.mapped_sizes);
    assert.deepEqual(ours, [null, ["OSError", errno.EMSGSIZE]]);
    a.settimeout(5);
    const [data] = await a.recvfrom(70000);
    assert.equal(data.length, 65507);
    // Nothing else came: the refused one was never sent.
    await assert.rejects(a.recvfrom(70000, MSG_DONTWAIT), (e) => e instanceof BlockingIOError);
  },
});

// udp.ts #cachedTarget: a destination seen before skips the address checks
// only when it is the same one. (Mutant: any 4-tuple with that host and port
// taken as the same, so a flowinfo out of range went unchecked.)
Deno.test({
  name:
    "sendto checks the flowinfo and scope id of an IPv6 4-tuple also right after sending to that host and port, as CPython",
  ignore: !HAS_IPV6,
  async fn() {
    const py = await cpython();
    await using r = socket(AF_INET6, SOCK_DGRAM);
    r.bind(["::1", 0]);
    const [host, port] = r.getsockname() as [string, number];
    await using s = socket(AF_INET6, SOCK_DGRAM);
    await s.sendto("plain", [host, port]);
    // Python's OverflowError is a RangeError here.
    assert.deepEqual(py.cached_flowinfo, ["OverflowError", null]);
    assert.deepEqual(await failure(() => s.sendto("x", [host, port, 0x100000, 0])), [
      "RangeError",
      null,
    ]);
    // A scope id past 32 bits is pysock's RangeError where CPython wraps it
    // (see differential_module_test.ts), checked here all the same.
    await assert.rejects(s.sendto("x", [host, port, 0, 2 ** 32]), RangeError);
    r.settimeout(5);
    assert.equal(new TextDecoder().decode((await r.recvfrom(16))[0]), "plain");
    await assert.rejects(r.recvfrom(16, MSG_DONTWAIT), (e) => e instanceof BlockingIOError);
  },
});

// udp.ts isLoopback: all of 127/8 is loopback. (Mutant: only 127.0.0.1,
// so connecting to 127.0.0.2 bound the socket to 0.0.0.0.)
Deno.test("connect on an unbound socket to 127.0.0.2 binds it to 127.0.0.1, as Linux's source address choice does in CPython", async () => {
  const py = await cpython();
  await using c = socket(AF_INET, SOCK_DGRAM);
  await c.connect(["127.0.0.2", 9]);
  assert.equal(c.getsockname()[0], py.connect_127_0_0_2);
  assert.equal(py.connect_127_0_0_2, "127.0.0.1");
});

// udp.ts #connectByName: the socket may close while the name resolves.
// (Mutant: no checkOpen after the lookup, so the peer was set and the
// closed socket bound again.)
Deno.test("a connect by host name on a socket closed while the name resolves fails with EBADF and opens nothing (API.md: pending calls settle)", async () => {
  const c = socket(AF_INET, SOCK_DGRAM);
  const connecting = c.connect(["localhost", 9]);
  c.close();
  await assert.rejects(connecting, isErrno(errno.EBADF));
  assert.throws(() => c.getsockname(), isErrno(errno.EBADF));
});

// _datagram_receiver.ts connect(): a new peer forgets which sender names
// were the old one. (Mutant: the name cache kept across connect, so the old
// peer, bound under another spelling of its path, still got through.)
Deno.test("a Unix datagram socket connected again drops the old peer's datagrams, also from a sender bound through a symlinked directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using r = socket(AF_UNIX, SOCK_DGRAM);
    r.bind(`${dir}/r`);
    // Through a symlinked directory: a spelling Deno does not normalize away
    // (with permissions granted per flag it resolves "dir/./x" to "dir/x").
    await Deno.symlink(dir, `${dir}/link`);
    await using x = socket(AF_UNIX, SOCK_DGRAM);
    x.bind(`${dir}/link/x`);
    await using y = socket(AF_UNIX, SOCK_DGRAM);
    y.bind(`${dir}/y`);
    r.settimeout(5);
    await r.connect(`${dir}/x`);
    await x.sendto("x first", `${dir}/r`);
    assert.equal(new TextDecoder().decode(await r.recv(16)), "x first");
    await r.connect(`${dir}/y`);
    // Linux refuses x's send now (EPERM); Deno sends it, and r must drop it.
    await x.sendto("x again", `${dir}/r`);
    await y.sendto("from y", `${dir}/r`);
    assert.equal(new TextDecoder().decode(await r.recv(16)), "from y");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// _datagram_options.ts: a join Deno runs asynchronously and the kernel
// refuses is the socket's pending error, reported once by the next call or
// by SO_ERROR (the udp.ts setsockopt doc). CPython's setsockopt raises the
// same errno at once. 0.0.0.1 is no interface's address, so the kernel
// refuses before anything is sent. (Mutants: busy forgetting a pending
// error; settle not throwing it; the error not recorded; #next not
// settling first.)
Deno.test("a multicast join the kernel refuses is reported with CPython's errno by the next receive, or by SO_ERROR once it has failed, then cleared, and leaves no membership", async () => {
  const py = await cpython();
  assert.deepEqual(py.join_nowhere, ["OSError", errno.ENODEV]);
  const mreq = multicastRequest("239.255.77.79", "0.0.0.1");
  await using a = socket(AF_INET, SOCK_DGRAM);
  a.bind(["127.0.0.1", 0]);
  a.settimeout(5);
  a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
  assert.deepEqual(await failure(() => a.recvfrom(16)), py.join_nowhere);
  assert.equal(a.getsockopt(SOL_SOCKET, SO_ERROR), 0, "reporting it cleared it");
  // Once the join has failed, the error waits as SO_ERROR (Deno's op
  // settles within a few event-loop turns: polled, bounded) ...
  a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
  let pending = 0;
  for (let i = 0; i < 400 && pending === 0; i++) {
    await sleep(5);
    pending = a.getsockopt(SOL_SOCKET, SO_ERROR);
  }
  assert.equal(pending, errno.ENODEV);
  assert.equal(a.getsockopt(SOL_SOCKET, SO_ERROR), 0, "SO_ERROR cleared it");
  // ... and a receive called after it failed reports it too.
  a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
  await sleep(50);
  assert.deepEqual(await failure(() => a.recvfrom(16)), py.join_nowhere);
  assert.equal(a.getsockopt(SOL_SOCKET, SO_ERROR), 0, "recvfrom cleared it");
  // A refused join left no membership: joining again met the kernel again
  // (above, as CPython's second join), and dropping it is EADDRNOTAVAIL.
  assert.deepEqual(py.join_again, py.join_nowhere);
  assert.deepEqual(
    await failure(() => a.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq)),
    py.drop_unjoined,
  );
  // A membership on the loopback interface (nothing is sent to it), then a
  // refused join: the TTL still goes through the one that holds.
  a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, multicastRequest("239.255.77.80", "127.0.0.1"));
  a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
  assert.deepEqual(await failure(() => a.recvfrom(16)), py.join_nowhere);
  a.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 3);
  assert.equal(a.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL), 3);
  await a.sendto("fine again", a.getsockname());
  assert.equal(new TextDecoder().decode((await a.recvfrom(16))[0]), "fine again");
  assert.equal(a.getsockopt(SOL_SOCKET, SO_ERROR), 0);
});

// _datagram_receiver.ts #next: a wait given up (non-blocking, aborted) on a
// socket closed meanwhile says EBADF, as recvfrom's doc has it ("EBADF once
// closed, also for a call that was waiting"). (Mutant: the closed check
// dropped, so the BlockingIOError or the abort came out instead.)
Deno.test("a non-blocking or aborted recvfrom on a socket closed before it settles fails with EBADF", async () => {
  const a = socket(AF_INET, SOCK_DGRAM);
  a.bind(["127.0.0.1", 0]);
  a.setblocking(false);
  const nonblocking = a.recvfrom(16);
  const controller = new AbortController();
  a.setblocking(true);
  const aborted = a.recvfrom(16, 0, { signal: controller.signal });
  controller.abort();
  a.close();
  const outcomes = await Promise.allSettled([nonblocking, aborted]);
  for (const outcome of outcomes) {
    assert.equal(outcome.status, "rejected");
    assert.ok(isErrno(errno.EBADF)((outcome as PromiseRejectedResult).reason));
  }
});

// _datagram_receiver.ts #watch: the receive a selector leaves in flight
// does not keep the process alive, as CPython's select leaves nothing
// running. (Mutant: its release() dropped.) The same program checks
// udp.ts #autobind's permission message, which names both endpoints.
// (Mutant: formatEndpoint writing an IPv6 one without brackets.)
Deno.test("a program that polled a UDP socket with select and never closed it still exits; an IPv6 send it may not make names [::1]:0 and [::1]:9", async () => {
  const result = await runScript(
    `import { AF_INET, AF_INET6, select, SOCK_DGRAM, socket } from "${MOD}";
const s = socket(AF_INET, SOCK_DGRAM);
s.bind(["127.0.0.1", 0]);
const [readable] = await select([s], [], [], 0);
console.log("polled", readable.length);
// Not granted: the message names both endpoints, IPv6 ones in brackets.
const s6 = socket(AF_INET6, SOCK_DGRAM);
await s6.sendto("x", ["::1", 9]).catch((e) => console.log(e.name, e.message));
s6.close();
`,
    ["--unstable-net", "--allow-net=127.0.0.1"],
  );
  const [polled, denied] = result.stdout.trim().split("\n");
  assert.equal(polled, "polled 0", result.stderr);
  assert.match(denied, /^PermissionError .*run again with --allow-net=\[::1\]:0,\[::1\]:9$/);
  assert.equal(result.code, 0, result.stderr);
});

// _datagram_receiver.ts #next: an abort ends the wait as a timeout does.
// (Mutant: an abort taken as the receive's failure, so the receive in
// flight was given up and the next datagram lost with it.)
for (const family of [AF_INET, AF_UNIX]) {
  Deno.test(`${family === AF_UNIX ? "AF_UNIX" : "AF_INET"}: an aborted recvfrom rejects with the signal's reason and the next datagram goes to the next call (recvfrom's doc)`, async () => {
    const dir = family === AF_UNIX ? await Deno.makeTempDir() : null;
    try {
      await using a = socket(family, SOCK_DGRAM);
      a.bind(dir === null ? ["127.0.0.1", 0] : `${dir}/a`);
      const controller = new AbortController();
      const waiting = a.recvfrom(16, 0, { signal: controller.signal });
      await sleep(10);
      const reason = new Error("enough");
      controller.abort(reason);
      await assert.rejects(waiting, (e) => e === reason);
      await using b = socket(family, SOCK_DGRAM);
      if (dir !== null) b.bind(`${dir}/b`);
      await b.sendto("after the abort", a.getsockname());
      a.settimeout(5);
      assert.equal(new TextDecoder().decode((await a.recvfrom(16))[0]), "after the abort");
    } finally {
      if (dir !== null) await Deno.remove(dir, { recursive: true });
    }
  });
}

// _datagram_receiver.ts ready(): readable only once a datagram is there;
// writable on AF_UNIX only between receives (README: Deno's Unix datagram
// socket runs one operation at a time); after connect(), another sender's
// datagram does not make the socket readable, as the kernel never queues it.
// (Mutants: readable while the receive is still waiting; Unix always
// writable; the selector's receive not filtering by peer.)
Deno.test("select on a bound datagram socket: not readable while a kept receive waits, Unix not writable then, and a connected socket not readable for another sender's datagram", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using a = socket(AF_INET, SOCK_DGRAM);
    a.bind(["127.0.0.1", 0]);
    a.settimeout(0.01);
    await assert.rejects(a.recvfrom(16), (e) => e instanceof OSError && e.errno === null);
    assert.deepEqual(await select([a], [a], [], 0), [[], [a], []]);

    await using u = socket(AF_UNIX, SOCK_DGRAM);
    u.bind(`${dir}/u`);
    u.settimeout(0.01);
    await assert.rejects(u.recvfrom(16), (e) => e instanceof OSError && e.errno === null);
    assert.deepEqual(await select([u], [u], [], 0), [[], [], []]);
    await using v = socket(AF_UNIX, SOCK_DGRAM);
    await v.sendto("to u", `${dir}/u`);
    // The datagram lands in the kept receive: readable, and writable again.
    assert.deepEqual(await select([u], [u], [], 5), [[u], [u], []]);
    assert.equal(new TextDecoder().decode((await u.recvfrom(16))[0]), "to u");

    await using peer = socket(AF_INET, SOCK_DGRAM);
    peer.bind(["127.0.0.1", 0]);
    await using other = socket(AF_INET, SOCK_DGRAM);
    await using c = socket(AF_INET, SOCK_DGRAM);
    c.bind(["127.0.0.1", 0]);
    await c.connect(peer.getsockname());
    await other.sendto("intruder", c.getsockname());
    assert.deepEqual(await select([c], [], [], 0.2), [[], [], []]);
    await peer.sendto("from the peer", c.getsockname());
    assert.deepEqual(await select([c], [], [], 5), [[c], [], []]);
    c.settimeout(5);
    assert.equal(new TextDecoder().decode(await c.recv(16)), "from the peer");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// _datagram_options.ts: IP_MULTICAST_TTL's range and ip_mreq's length, on
// a membership of the loopback interface that nothing is sent to. (Mutants:
// 255 refused; a 4- to 7-byte request taken; a 12-byte ip_mreqn's
// interface index ignored.)
Deno.test("IP_MULTICAST_TTL takes 255 and refuses 256, a request shorter than an ip_mreq is EINVAL, as CPython; an ip_mreqn naming an interface index is ENOPROTOOPT", async () => {
  const py = await cpython();
  await using s = socket(AF_INET, SOCK_DGRAM);
  s.bind(["127.0.0.1", 0]);
  const mreq = multicastRequest("239.255.10.2", "127.0.0.1");
  const ours = [
    await failure(() => s.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq)),
    await failure(() => s.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 255)),
    s.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL),
    await failure(() => s.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 256)),
    await failure(() => s.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq.subarray(0, 4))),
    await failure(() => s.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq.subarray(0, 7))),
    await failure(() => s.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq)),
    s.getsockopt(SOL_SOCKET, SO_ERROR),
  ];
  assert.deepEqual(ours, py.lo_membership);
  // struct.pack("4s4si", group, iface, 1): Deno joins by address only (the udp.ts doc).
  const mreqn = new Uint8Array(12);
  mreqn.set(mreq);
  mreqn[8] = 1;
  assert.deepEqual(
    await failure(() => s.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn)),
    ["OSError", errno.ENOPROTOOPT],
  );
  assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), 0);
});

// _datagram_options.ts get(): SO_BROADCAST is an IP socket's. On AF_UNIX
// pysock refuses setting it (udp_test.ts), and reading it too, where
// CPython reads Linux's 0. (Mutant: read as 1 on AF_UNIX.)
Deno.test("AF_UNIX: getsockopt(SO_BROADCAST) is ENOPROTOOPT, as setting it is", () => {
  using u = socket(AF_UNIX, SOCK_DGRAM);
  assert.throws(() => u.getsockopt(SOL_SOCKET, SO_BROADCAST), isErrno(errno.ENOPROTOOPT));
  assert.throws(() => u.setsockopt(SOL_SOCKET, SO_BROADCAST, 1), isErrno(errno.ENOPROTOOPT));
});

// _datagram_options.ts: SO_REUSEADDR set back to 0 before bind is off.
// (Mutant: any value turned it on.)
Deno.test("SO_REUSEADDR set to 1 and back to 0 before bind reads 0 and shares no port, as CPython", async () => {
  const py = await cpython();
  using a = socket(AF_INET, SOCK_DGRAM);
  a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 0);
  a.bind(["127.0.0.1", 0]);
  using b = socket(AF_INET, SOCK_DGRAM);
  b.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  const ours = [
    a.getsockopt(SOL_SOCKET, SO_REUSEADDR),
    await failure(() => b.bind(a.getsockname())),
  ];
  assert.deepEqual(ours, py.reuse_cleared);
  assert.deepEqual(ours, [0, ["OSError", errno.EADDRINUSE]]);
});

// udp.ts bind(): "localhost" is bound where sendto and connect send it
// (_resolve.ts answers the RFC 6761 names itself: ::1 for AF_INET6).
// Deno's own lookup gave 127.0.0.1, which an AF_INET6 socket refused with
// EAI_ADDRFAMILY, an errno no CPython gives for it (CPython binds ::1
// where /etc/hosts names ::1 localhost, else EAI_NONAME). (Mutant on the
// old code: the family check after Deno's bind dropped.)
Deno.test({
  name:
    "bind to localhost on an AF_INET6 datagram socket binds ::1, where sendto to localhost goes",
  ignore: !HAS_IPV6,
  async fn() {
    await using r = socket(AF_INET6, SOCK_DGRAM);
    r.bind(["localhost", 0]);
    const [host, port] = r.getsockname() as [string, number];
    assert.equal(host, "::1");
    await using s = socket(AF_INET6, SOCK_DGRAM);
    await s.sendto("to localhost", ["localhost", port]);
    r.settimeout(5);
    assert.equal(new TextDecoder().decode((await r.recvfrom(32))[0]), "to localhost");
    await using r4 = socket(AF_INET, SOCK_DGRAM);
    r4.bind(["localhost", 0]);
    assert.equal(r4.getsockname()[0], "127.0.0.1");
  },
});

// _flags.ts checkFlags: a C int's bounds, bit 31, and the reason given for
// the first refused flag. (Mutants: 0x7fffffff or -0x80000000 taken as out
// of range; bit 31 named as a negative number; the reason of the last flag.)
Deno.test("send flags at a C int's bounds fail as CPython's do; bit 31 and several flags are named, each refused with EOPNOTSUPP before any I/O", async () => {
  const py = await cpython();
  await using a = socket(AF_INET, SOCK_DGRAM);
  a.bind(["127.0.0.1", 0]);
  await using b = socket(AF_INET, SOCK_DGRAM);
  await b.connect(a.getsockname());
  const ours = [];
  for (const flags of [0x7fffffff, 2 ** 31, -(2 ** 31) - 1]) {
    ours.push(await failure(() => b.send("x", flags)));
  }
  // Python's OverflowError is a RangeError here.
  const named = (py.send_flag_bounds as [string, number | null][]).map(([name, code]) => [
    name === "OverflowError" ? "RangeError" : name,
    code,
  ]);
  assert.deepEqual(ours, named);
  assert.deepEqual(named[0], ["OSError", errno.EOPNOTSUPP]);
  // -2**31 is a C int with only bit 31 set: a flag pysock does not know.
  await assert.rejects(b.send("x", -(2 ** 31)), (e) => {
    assert.ok(isErrno(errno.EOPNOTSUPP)(e));
    assert.match(
      (e as Error).message,
      /send cannot take flag 0x80000000 \(not a flag pysock knows\)/,
    );
    return true;
  });
  await assert.rejects(b.send("x", MSG_OOB | MSG_MORE), (e) => {
    assert.match((e as Error).message, /MSG_OOB \| MSG_MORE \(Deno has no out-of-band data\)/);
    return true;
  });
  a.settimeout(5);
  await b.send("after");
  assert.equal(new TextDecoder().decode(await a.recv(16)), "after");
});

// _flags.ts recvIntoFlagged: MSG_DONTWAIT alone on a stream socket's
// recvInto. (Mutant: the call's timeout used, so it waited.)
Deno.test("a stream recvInto with MSG_DONTWAIT and nothing to read fails with BlockingIOError at once, as CPython's recv_into", async () => {
  const py = await cpython();
  await using p = await pair();
  const got = await settled(
    failure(() => p.client.recvInto(new Uint8Array(4), 0, MSG_DONTWAIT)),
    "recvInto(MSG_DONTWAIT)",
  );
  assert.deepEqual(got, py.stream_recv_into_dontwait);
  await p.conn.sendall("late");
  const buf = new Uint8Array(4);
  p.client.settimeout(5);
  assert.equal(await p.client.recvInto(buf), 4);
  assert.equal(new TextDecoder().decode(buf), "late");
});

// _address.ts checkPort: 65535 is a port. (Mutant: refused as out of range.)
Deno.test("connect to port 65535 names it as the peer, as CPython", async () => {
  const py = await cpython();
  await using c = socket(AF_INET, SOCK_DGRAM);
  await c.connect(["127.0.0.1", 65535]);
  assert.deepEqual(c.getpeername(), py.peer_65535);
  await assert.rejects(c.connect(["127.0.0.1", 65536]), RangeError);
});

// _address.ts checkHost and checkUnixPath: a host name of 253 characters
// (DNS's longest) is a name, one of 254 a RangeError before any lookup; a
// Unix path with a lone surrogate is a RangeError (README: Deno would bind
// U+FFFD instead). The 253-character name ends in .invalid, which pysock
// answers itself (RFC 6761), so nothing is asked of DNS. (Mutants: 253
// refused; the surrogate check dropped.)
Deno.test("a 253-character host name is looked up (here: EAI_NONAME for .invalid), a 254-character one is a RangeError; a Unix path with a lone surrogate is a RangeError", async () => {
  const longest = "a".repeat(245) + ".invalid";
  assert.equal(longest.length, 253);
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.deepEqual(await failure(() => s.bind([longest, 0])), ["gaierror", EAI.EAI_NONAME]);
  assert.deepEqual(await failure(() => s.sendto("x", [longest, 9])), ["gaierror", EAI.EAI_NONAME]);
  assert.throws(() => s.bind(["a" + longest, 0]), RangeError);
  await assert.rejects(s.sendto("x", ["a" + longest, 9]), RangeError);
  const dir = await Deno.makeTempDir();
  try {
    using u = socket(AF_UNIX, SOCK_DGRAM);
    assert.throws(() => u.bind(`${dir}/\udc80`), RangeError);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// _address.ts checkHost: brackets are URL syntax, not a socket address's.
// CPython hands "[::1]" to getaddrinfo as a name, which no resolver has
// (glibc refuses its characters before asking DNS): gaierror EAI_NONAME.
// pysock used to strip them and bind ::1. (Found as a surviving mutant:
// dropping the stripping changed no test.)
Deno.test("a host in brackets is a name no resolver has, as in CPython: bind, connect and sendto fail with gaierror EAI_NONAME", async () => {
  for (const [family, host] of [[AF_INET, "[127.0.0.1]"], [AF_INET6, "[::1]"]] as const) {
    if (family === AF_INET6 && !HAS_IPV6) continue;
    await using s = socket(family, SOCK_DGRAM);
    const noname = ["gaierror", EAI.EAI_NONAME];
    assert.deepEqual(await failure(() => s.bind([host, 0])), noname, host);
    assert.deepEqual(await failure(() => s.connect([host, 9])), noname, host);
    assert.deepEqual(await failure(() => s.sendto("x", [host, 9])), noname, host);
    assert.deepEqual(s.getsockname()[1], 0, "nothing was bound");
  }
});

// errors.ts errorFromErrno: the subclass CPython's OSError(errno, ...)
// makes. (Mutants: EPERM, EALREADY, EINPROGRESS each left a plain OSError.)
Deno.test("errorFromErrno makes the subclass CPython's OSError(errno, text) makes, also for EPERM, EALREADY and EINPROGRESS", async () => {
  const py = await cpython();
  const errnos = [1, 2, 4, 9, 11, 13, 17, 20, 21, 22, 32, 98, 103, 104, 108, 110, 111, 114, 115];
  assert.deepEqual(errnos.map((code) => errorFromErrno(code).name), py.errno_classes);
  for (const code of errnos) assert.ok(errorFromErrno(code) instanceof OSError);
});

// errors.ts tables: every EAI code and errno pysock names is CPython's
// number, and strerror gives glibc's text. (Mutants: a changed number.)
Deno.test("EAI, errno and strerror agree with CPython's socket.EAI_*, errno module and os.strerror", async () => {
  const py = await cpython();
  const eai = py.eai as Record<string, number>;
  const gaiTexts = py.gai_strerror as Record<string, string>;
  for (const [name, code] of Object.entries(EAI)) {
    assert.equal(code, eai[name], name);
    assert.equal(strerror(code), gaiTexts[String(code)], name);
  }
  const numbers = py.errno as Record<string, number>;
  const texts = py.strerror as Record<string, string>;
  for (const [name, code] of Object.entries(errno)) {
    assert.equal(code, numbers[name], name);
    assert.equal(strerror(code), texts[String(code)], name);
  }
  // Every name of Python's errno module is there, so ported comparisons compile.
  assert.deepEqual(Object.keys(errno).sort(), Object.keys(numbers).sort());
  assert.equal(strerror(9999), texts["9999"]);
  // A socket call's BlockingIOError wrote nothing (its charactersWritten doc).
  await using s = socket(AF_INET, SOCK_DGRAM);
  s.bind(["127.0.0.1", 0]);
  await assert.rejects(
    s.recvfrom(16, MSG_DONTWAIT),
    (e) => e instanceof BlockingIOError && e.charactersWritten === 0,
  );
});

// errors.ts permissionError: the flag Deno names, with the target it quotes.
// (Mutants: --allow-all given a value; the caller's description preferred
// to the address Deno checked.)
Deno.test("a Deno permission error names Deno's own target in the flag to add, and --allow-all without a value", () => {
  const net = fromDenoError(
    new Deno.errors.NotCapable(
      'Requires net access to "127.0.0.1:8080", run again with the --allow-net flag',
    ),
    "localhost:8080",
  ) as OSError;
  assert.ok(net instanceof PermissionError && net.errno === errno.EACCES);
  assert.match(net.message, /run again with --allow-net=127\.0\.0\.1:8080$/);
  const all = fromDenoError(
    new Deno.errors.NotCapable(
      'Requires all access to "/proc/self/fd", run again with the --allow-all flag',
    ),
  ) as OSError;
  assert.ok(all instanceof PermissionError);
  assert.match(all.message, /all access to \/proc\/self\/fd denied; run again with --allow-all$/);
});

// _constants.ts: every number is CPython's socket constant of that name on
// Linux. (Mutants: SO_BROADCAST, NI_MAXHOST, INADDR_MAX_LOCAL_GROUP,
// SOMAXCONN or SO_PROTOCOL changed.)
Deno.test("every numeric constant of _constants.ts is CPython's socket constant of the same name", async () => {
  const py = (await cpython()).constants as Record<string, number>;
  let compared = 0;
  for (const [name, value] of Object.entries(constants)) {
    if (typeof value !== "number") continue;
    assert.equal(value, py[name], name);
    compared++;
  }
  assert.ok(compared > 60, `compared ${compared}`);
});
