// DatagramSocket against real sockets on loopback: IPv4, IPv6 (::1, where
// the host has it) and Unix datagram sockets in a temp dir.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  type DatagramSocket,
  EAI,
  errno,
  gaierror,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TTL,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  MAX_DATAGRAM_IPV4,
  MAX_DATAGRAM_IPV6,
  multicastRequest,
  OSError,
  SO_BROADCAST,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SO_TYPE,
  SOCK_DGRAM,
  socket,
  SOL_SOCKET,
  TimeoutError,
} from "../mod.ts";
import { bytes, HAS_IPV6, MOD, python, runScript, sleep, text } from "./_helpers.ts";
import { Sockets } from "./_datagram_twin.ts";

const FAMILIES = [
  { name: "AF_INET", family: AF_INET },
  ...(HAS_IPV6 ? [{ name: "AF_INET6", family: AF_INET6 }] : []),
  { name: "AF_UNIX", family: AF_UNIX },
];
const IP_FAMILIES = FAMILIES.filter((f) => f.family !== AF_UNIX);
const ROOT = new URL("..", import.meta.url);
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

function isErrno(code: number, Class: typeof OSError = OSError) {
  return (err: unknown) => {
    assert.ok(err instanceof Class, `expected ${Class.name}, got ${err}`);
    assert.equal((err as OSError).errno, code, String(err));
    return true;
  };
}

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: sendto and recvfrom carry exact bytes both ways and name the sender`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    assert.equal(await a.sendto(ALL_BYTES, b.getsockname()), 256);
    const [data, from] = await b.recvfrom(1024);
    assert.deepEqual(data, ALL_BYTES);
    assert.deepEqual(from, a.getsockname());
    assert.equal(await b.sendto("héllo", from), 6);
    const [reply, replyFrom] = await a.recvfrom(1024);
    assert.deepEqual(reply, bytes("héllo"));
    assert.deepEqual(replyFrom, b.getsockname());
  });

  Deno.test(`${name}: an empty datagram arrives as an empty array`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    await a.sendto(new Uint8Array(0), a.getsockname());
    const [data, from] = await a.recvfrom(10);
    assert.equal(data.length, 0);
    assert.deepEqual(from, a.getsockname());
  });

  Deno.test(`${name}: a datagram longer than bufsize is cut to bufsize and the next arrives whole`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    await a.sendto("0123456789", b.getsockname());
    await a.sendto("abc", b.getsockname());
    const [first] = await b.recvfrom(4);
    assert.equal(text(first), "0123");
    first.fill(0x21); // the caller's own: writing to it touches nothing else
    const [second] = await b.recvfrom(4);
    assert.equal(text(second), "abc");
    assert.equal(text(first), "!!!!");
  });

  Deno.test(`${name}: recvfrom returns arrays the caller owns, untouched by later receives`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    await a.sendto("first", a.getsockname());
    await a.sendto("second", a.getsockname());
    const [one] = await a.recvfrom(100);
    const [two] = await a.recvfrom(100);
    assert.equal(text(one), "first");
    assert.equal(text(two), "second");
  });

  Deno.test(`${name}: recvfromInto fills the caller's buffer up to nbytes and drops the rest`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    await a.sendto("0123456789", b.getsockname());
    await a.sendto("abc", b.getsockname());
    const buf = new Uint8Array(6).fill(0x2e);
    const [n, from] = await b.recvfromInto(buf, 4);
    assert.equal(n, 4);
    assert.equal(text(buf), "0123..");
    assert.deepEqual(from, a.getsockname());
    const [m] = await b.recvfromInto(buf);
    assert.equal(m, 3);
    assert.equal(text(buf), "abc3..");
  });

  Deno.test(`${name}: recv and recvInto return the datagram without its address`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    await a.sendto("one", a.getsockname());
    await a.sendto("two", a.getsockname());
    assert.equal(text(await a.recv(100)), "one");
    const buf = new Uint8Array(2);
    assert.equal(await a.recvInto(buf), 2);
    assert.equal(text(buf), "tw");
  });

  Deno.test(`${name}: after connect, send and recv use the peer and other senders are not delivered`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const peer = s.open();
    const other = s.open();
    await a.connect(peer.getsockname());
    assert.deepEqual(a.getpeername(), peer.getsockname());
    await other.sendto("intruder", a.getsockname());
    await peer.sendto("from peer", a.getsockname());
    assert.equal(text(await a.recv(100)), "from peer");
    await other.sendto("intruder again", a.getsockname());
    await peer.sendto("second", a.getsockname());
    const [data, from] = await a.recvfrom(100);
    assert.equal(text(data), "second");
    assert.deepEqual(from, peer.getsockname());
    assert.equal(await a.send("to peer"), 7);
    const [got, sender] = await peer.recvfrom(100);
    assert.equal(text(got), "to peer");
    assert.deepEqual(sender, a.getsockname());
  });

  Deno.test(`${name}: a timed-out recvfrom loses no datagram and the next call returns it once`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    a.settimeout(0.05);
    await assert.rejects(a.recvfrom(100), (err) => {
      assert.ok(err instanceof TimeoutError && err instanceof OSError);
      assert.equal((err as OSError).message, "timed out");
      assert.equal((err as OSError).errno, null);
      return true;
    });
    await b.sendto("late", a.getsockname());
    a.settimeout(10);
    assert.equal(text((await a.recvfrom(100))[0]), "late");
    a.setblocking(false);
    await assert.rejects(a.recvfrom(100), isErrno(errno.EAGAIN, BlockingIOError));
  });

  Deno.test(`${name}: a timed-out recvfromInto keeps its datagram for recvfrom`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    a.setblocking(false);
    await assert.rejects(a.recvfromInto(new Uint8Array(10)), BlockingIOError);
    await b.sendto("kept", a.getsockname());
    a.setblocking(true);
    assert.equal(text((await a.recvfrom(100))[0]), "kept");
  });

  Deno.test(`${name}: non-blocking recvfrom raises BlockingIOError when idle and returns a waiting datagram`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    a.setblocking(false);
    assert.equal(a.getblocking(), false);
    assert.equal(a.gettimeout(), 0);
    await assert.rejects(a.recvfrom(100), isErrno(errno.EAGAIN, BlockingIOError));
    await b.sendto("ready", a.getsockname());
    assert.equal(text((await a.recvfrom(100))[0]), "ready");
    await b.sendto("also ready", a.getsockname());
    assert.equal(text((await a.recvfrom(100))[0]), "also ready");
  });

  Deno.test(`${name}: concurrent receives each get a different datagram`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    const first = a.recvfrom(100);
    const second = a.recvfrom(100);
    await b.sendto("one", a.getsockname());
    await b.sendto("two", a.getsockname());
    const got = [text((await first)[0]), text((await second)[0])].sort();
    assert.deepEqual(got, ["one", "two"]);
  });

  Deno.test(`${name}: recvfromInto calls waiting together, beside a recvfrom with a timeout, each get their own datagram in their own buffer`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    const one = new Uint8Array(8).fill(0x2e);
    const two = new Uint8Array(8).fill(0x2e);
    const first = a.recvfromInto(one);
    const second = a.recvfromInto(two, 3);
    a.settimeout(5);
    const third = a.recvfrom(100);
    await b.sendto("alpha", a.getsockname());
    await b.sendto("bravo", a.getsockname());
    await b.sendto("charlie", a.getsockname());
    const [n1, from1] = await first;
    const [n2] = await second;
    const [data3] = await third;
    assert.deepEqual(from1, b.getsockname());
    // First come, first served: the calls were made in this order.
    assert.deepEqual([n1, text(one)], [5, "alpha..."]);
    assert.deepEqual([n2, text(two)], [3, "bra....."]);
    assert.equal(text(data3), "charlie");
  });

  Deno.test(`${name}: close settles a pending recvfromInto with EBADF and leaves its buffer as it was`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const buf = new Uint8Array(4).fill(0x2e);
    const pending = a.recvfromInto(buf);
    a.close();
    await assert.rejects(pending, isErrno(errno.EBADF));
    assert.equal(text(buf), "....");
  });

  Deno.test(`${name}: recvfromInto into an empty buffer consumes the datagram and returns 0`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const b = s.open();
    const waiting = a.recvfromInto(new Uint8Array(0));
    await b.sendto("gone", a.getsockname());
    await b.sendto("next", a.getsockname());
    const [n, from] = await waiting;
    assert.equal(n, 0);
    assert.deepEqual(from, b.getsockname());
    assert.equal(text((await a.recvfrom(100))[0]), "next");
  });

  Deno.test(`${name}: close settles a pending recvfrom with EBADF and every later call fails with EBADF`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    const peer = s.address();
    const pending = a.recvfrom(100);
    a.close();
    await assert.rejects(pending, isErrno(errno.EBADF));
    a.close();
    assert.equal(a.fileno(), -1);
    assert.equal(a.closed, true);
    await assert.rejects(a.sendto("x", peer), isErrno(errno.EBADF));
    await assert.rejects(a.recvfrom(10), isErrno(errno.EBADF));
    await assert.rejects(a.recvfromInto(new Uint8Array(1)), isErrno(errno.EBADF));
    await assert.rejects(a.send("x"), isErrno(errno.EBADF));
    await assert.rejects(a.connect(peer), isErrno(errno.EBADF));
    assert.throws(() => a.bind(s.address()), isErrno(errno.EBADF));
    assert.throws(() => a.getsockname(), isErrno(errno.EBADF));
    assert.throws(() => a.getpeername(), isErrno(errno.EBADF));
    assert.throws(() => a.getsockopt(SOL_SOCKET, SO_TYPE), isErrno(errno.EBADF));
  });

  Deno.test(`${name}: a second bind fails with EINVAL`, async () => {
    await using s = new Sockets(family);
    const a = s.open();
    assert.throws(() => a.bind(s.address()), isErrno(errno.EINVAL));
  });

  Deno.test(`${name}: await using closes the socket at the end of the block`, async () => {
    let kept: DatagramSocket;
    {
      await using a = socket(family, SOCK_DGRAM);
      kept = a;
      assert.ok(a.fileno() > 2);
    }
    assert.equal(kept.closed, true);
    assert.equal(kept.fileno(), -1);
  });

  Deno.test(`${name}: the socket reports its family, type and SO_TYPE`, () => {
    using a = socket(family, SOCK_DGRAM);
    assert.equal(a.family, family);
    assert.equal(a.type, SOCK_DGRAM);
    assert.equal(a.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    assert.equal(a.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  });
}

for (const { name, family } of IP_FAMILIES) {
  const host = family === AF_INET6 ? "::1" : "127.0.0.1";
  const wildcard = family === AF_INET6 ? ["::", 0, 0, 0] : ["0.0.0.0", 0];

  Deno.test(`${name}: bind to port 0 gives the real port in getsockname`, () => {
    using a = socket(family, SOCK_DGRAM);
    assert.deepEqual(a.getsockname(), wildcard);
    a.bind([host, 0]);
    const [boundHost, port] = a.getsockname() as [string, number];
    assert.equal(boundHost, host);
    assert.ok(port > 0 && port <= 65535);
  });

  Deno.test(`${name}: bind to a port in use fails with EADDRINUSE`, () => {
    using a = socket(family, SOCK_DGRAM);
    a.bind([host, 0]);
    using b = socket(family, SOCK_DGRAM);
    assert.throws(() => b.bind(a.getsockname()), isErrno(errno.EADDRINUSE));
    assert.deepEqual(b.getsockname(), wildcard, "the failed bind leaves it unbound");
  });

  Deno.test(`${name}: the first sendto binds an unbound socket to a free port`, async () => {
    await using s = new Sockets(family);
    const receiver = s.open();
    const sender = s.open(false);
    assert.deepEqual(sender.getsockname(), wildcard);
    await sender.sendto("hi", receiver.getsockname());
    const [, port] = sender.getsockname() as [string, number];
    assert.ok(port > 0);
    const [, from] = await receiver.recvfrom(10);
    assert.equal(from[1], port);
    await receiver.sendto("back", from);
    assert.equal(text((await sender.recvfrom(10))[0]), "back");
  });

  Deno.test(`${name}: a receive on an unbound socket binds it and gets what a later sendto's reply brings`, async () => {
    await using s = new Sockets(family);
    const server = s.open();
    const client = s.open(false);
    const reply = client.recvfrom(100);
    await client.sendto("ask", server.getsockname());
    const [question, from] = await server.recvfrom(100);
    assert.equal(text(question), "ask");
    await server.sendto("answer", from);
    assert.equal(text((await reply)[0]), "answer");
  });

  Deno.test(`${name}: connect on an unbound socket binds it to loopback for a loopback peer`, async () => {
    await using s = new Sockets(family);
    const peer = s.open();
    const a = s.open(false);
    await a.connect(peer.getsockname());
    const [local, port] = a.getsockname() as [string, number];
    assert.equal(local, host);
    assert.ok(port > 0);
  });

  Deno.test(`${name}: getpeername raises ENOTCONN and send raises EDESTADDRREQ before connect`, async () => {
    using a = socket(family, SOCK_DGRAM);
    assert.throws(() => a.getpeername(), isErrno(errno.ENOTCONN));
    await assert.rejects(a.send("x"), isErrno(errno.EDESTADDRREQ));
    assert.deepEqual(a.getsockname(), wildcard, "nothing was bound");
  });

  const max = family === AF_INET6 ? MAX_DATAGRAM_IPV6 : MAX_DATAGRAM_IPV4;
  Deno.test(`${name}: sendto over ${max} bytes fails with EMSGSIZE before any I/O, ${max} arrives whole`, async () => {
    await using s = new Sockets(family);
    const receiver = s.open();
    const sender = s.open(false);
    await assert.rejects(
      sender.sendto(new Uint8Array(max + 1), receiver.getsockname()),
      isErrno(errno.EMSGSIZE),
    );
    assert.deepEqual(sender.getsockname(), wildcard, "the socket was not even bound");
    const big = Uint8Array.from({ length: max }, (_, i) => i * 7);
    assert.equal(await sender.sendto(big, receiver.getsockname()), max);
    const [data] = await receiver.recvfrom(65536);
    assert.deepEqual(data, big);
  });

  Deno.test(`${name}: sendto refuses malformed addresses before any I/O`, async () => {
    using a = socket(family, SOCK_DGRAM);
    await assert.rejects(a.sendto("x", [host] as unknown as [string, number]), TypeError);
    await assert.rejects(a.sendto("x", [host, 70000]), RangeError);
    await assert.rejects(a.sendto("x", [host, 1.5]), TypeError);
    await assert.rejects(a.sendto("x", [42, 1] as unknown as [string, number]), TypeError);
    await assert.rejects(a.sendto(42 as unknown as string, [host, 1]), TypeError);
    const other = family === AF_INET6 ? "127.0.0.1" : "::1";
    await assert.rejects(a.sendto("x", [other, 9]), (err) => {
      assert.ok(err instanceof gaierror);
      assert.equal(err.errno, EAI.EAI_ADDRFAMILY);
      return true;
    });
    assert.deepEqual(a.getsockname(), wildcard);
  });

  Deno.test(`${name}: recvfrom refuses a negative or fractional size, recvfromInto an nbytes past the buffer`, async () => {
    using a = socket(family, SOCK_DGRAM);
    await assert.rejects(a.recvfrom(-1), RangeError);
    await assert.rejects(a.recvfrom(1.5), TypeError);
    await assert.rejects(a.recvfromInto(new Uint8Array(4), 5), RangeError);
    await assert.rejects(a.recvfromInto([] as unknown as Uint8Array), TypeError);
  });

  Deno.test(`${name}: SO_REUSEADDR set before bind lets two sockets share a port`, () => {
    using a = socket(family, SOCK_DGRAM);
    assert.equal(a.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
    a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    assert.equal(a.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
    a.bind([host, 0]);
    using b = socket(family, SOCK_DGRAM);
    b.setsockopt(SOL_SOCKET, SO_REUSEADDR, true);
    b.bind(a.getsockname());
    assert.deepEqual(b.getsockname(), a.getsockname());
  });

  Deno.test(`${name}: SO_REUSEADDR after bind fails with EINVAL`, () => {
    using a = socket(family, SOCK_DGRAM);
    a.bind([host, 0]);
    assert.throws(() => a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1), isErrno(errno.EINVAL));
  });

  Deno.test(`${name}: SO_BROADCAST reads 1, accepts 1 and refuses 0 with ENOPROTOOPT`, () => {
    using a = socket(family, SOCK_DGRAM);
    assert.equal(a.getsockopt(SOL_SOCKET, SO_BROADCAST), 1);
    a.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
    assert.throws(() => a.setsockopt(SOL_SOCKET, SO_BROADCAST, 0), (err) => {
      isErrno(errno.ENOPROTOOPT)(err);
      assert.match((err as Error).message, /SO_BROADCAST/);
      return true;
    });
  });

  Deno.test(`${name}: getsockopt's buflen form gives the int's bytes, as CPython's (it was ignored)`, () => {
    using a = socket(family, SOCK_DGRAM);
    assert.deepEqual(a.getsockopt(SOL_SOCKET, SO_TYPE, 4), new Uint8Array([2, 0, 0, 0]));
    assert.deepEqual(a.getsockopt(SOL_SOCKET, SO_TYPE, 1), new Uint8Array([2]));
    assert.deepEqual(a.getsockopt(SOL_SOCKET, SO_TYPE, 8), new Uint8Array([2, 0, 0, 0]));
    assert.deepEqual(a.getsockopt(SOL_SOCKET, SO_BROADCAST, 4), new Uint8Array([1, 0, 0, 0]));
    assert.equal(a.getsockopt(SOL_SOCKET, SO_TYPE, 0), SOCK_DGRAM);
    for (const buflen of [-1, 1025]) {
      assert.throws(() => a.getsockopt(SOL_SOCKET, SO_TYPE, buflen), (err) => {
        assert.ok(err instanceof OSError);
        assert.equal(err.errno, null);
        assert.equal(err.message, "getsockopt buflen out of range");
        return true;
      });
    }
  });

  Deno.test(`${name}: options Deno cannot honour fail with ENOPROTOOPT naming the option`, () => {
    using a = socket(family, SOCK_DGRAM);
    const cases: [number, number, string][] = [
      [SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"],
      [SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"],
      [SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"],
      [SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT"],
      [IPPROTO_IP, IP_TTL, "IP_TTL"],
      [IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY"],
      [SOL_SOCKET, 999, "option 999 at level 1"],
    ];
    for (const [level, optname, optName] of cases) {
      for (
        const call of [() => a.setsockopt(level, optname, 1), () => a.getsockopt(level, optname)]
      ) {
        assert.throws(call, (err) => {
          isErrno(errno.ENOPROTOOPT)(err);
          assert.ok((err as Error).message.includes(optName), (err as Error).message);
          return true;
        });
      }
    }
  });

  Deno.test(`${name}: sendto and connect resolve "localhost" with the system resolver`, async () => {
    if (family === AF_INET6) return; // /etc/hosts may map localhost to IPv4 only
    await using s = new Sockets(family);
    const receiver = s.open();
    const [, port] = receiver.getsockname() as [string, number];
    const a = s.open();
    await a.sendto("by name", ["localhost", port]);
    assert.equal(text((await receiver.recvfrom(100))[0]), "by name");
    await a.connect(["localhost", port]);
    assert.deepEqual(a.getpeername(), ["127.0.0.1", port]);
  });
}

Deno.test("AF_INET6: a peer given in a long spelling still matches the connected filter", async () => {
  if (!HAS_IPV6) return;
  await using s = new Sockets(AF_INET6);
  const a = s.open();
  const peer = s.open();
  const [, port] = peer.getsockname() as [string, number];
  await a.connect(["0:0:0:0:0:0:0:1", port]);
  assert.deepEqual(a.getpeername(), ["::1", port, 0, 0]);
  await peer.sendto("matched", a.getsockname());
  assert.equal(text(await a.recv(100)), "matched");
});

Deno.test("AF_INET6: a dual-stack socket connected to an IPv4-mapped peer filters and names it as Python does", async () => {
  if (!HAS_IPV6) return;
  await using v6 = new Sockets(AF_INET6);
  await using v4 = new Sockets(AF_INET);
  const a = v6.open(false);
  a.bind(["::", 0]);
  const peer = v4.open();
  const other = v4.open();
  const [, port] = peer.getsockname() as [string, number];
  await a.connect(["::ffff:127.0.0.1", port]);
  assert.deepEqual(a.getpeername(), ["::ffff:127.0.0.1", port, 0, 0]);
  const [, aPort] = a.getsockname() as [string, number];
  await other.sendto("intruder", ["127.0.0.1", aPort]);
  await peer.sendto("mapped", ["127.0.0.1", aPort]);
  const [data, from] = await a.recvfrom(100);
  assert.equal(text(data), "mapped");
  assert.deepEqual(from, ["::ffff:127.0.0.1", port, 0, 0]);
});

Deno.test("sendto checks a new address even when it looks like the last one", async () => {
  await using s = new Sockets(AF_INET);
  const receiver = s.open();
  const a = s.open();
  const [host, port] = receiver.getsockname() as [string, number];
  await a.sendto("first", [host, port]);
  await assert.rejects(a.sendto("x", host as unknown as [string, number]), TypeError);
  await assert.rejects(
    a.sendto("x", { 0: host, 1: port, length: 2 } as unknown as [string, number]),
    TypeError,
  );
  assert.equal(text((await receiver.recvfrom(100))[0]), "first");
});

Deno.test("AF_UNIX: an unbound sender shows as an empty path, and the first sendto does not bind it", async () => {
  await using s = new Sockets(AF_UNIX);
  const receiver = s.open();
  const sender = s.open(false);
  assert.equal(sender.getsockname(), "");
  await sender.sendto("anonymous", receiver.getsockname());
  const [data, from] = await receiver.recvfrom(100);
  assert.equal(text(data), "anonymous");
  assert.equal(from, "");
  assert.equal(sender.getsockname(), "");
});

Deno.test("AF_UNIX: a send while a receive waits on the same socket fails with a clear BlockingIOError", async () => {
  await using s = new Sockets(AF_UNIX);
  const a = s.open();
  const b = s.open();
  const waiting = a.recvfrom(100);
  await assert.rejects(a.sendto("x", b.getsockname()), (err) => {
    isErrno(errno.EAGAIN, BlockingIOError)(err);
    assert.match((err as Error).message, /Unix datagram socket while a receive waits/);
    return true;
  });
  await b.sendto("unblocks it", a.getsockname());
  assert.equal(text((await waiting)[0]), "unblocks it");
  assert.equal(await a.sendto("now it can", b.getsockname()), 10);
});

Deno.test("AF_UNIX: bind to a path in use fails with EADDRINUSE", async () => {
  await using s = new Sockets(AF_UNIX);
  const a = s.open();
  using b = socket(AF_UNIX, SOCK_DGRAM);
  assert.throws(() => b.bind(a.getsockname()), isErrno(errno.EADDRINUSE));
});

Deno.test("AF_UNIX: a datagram larger than the kernel allows fails with EMSGSIZE", async () => {
  await using s = new Sockets(AF_UNIX);
  const a = s.open();
  await assert.rejects(
    a.sendto(new Uint8Array(4 * 1024 * 1024), a.getsockname()),
    isErrno(errno.EMSGSIZE),
  );
});

Deno.test("AF_UNIX: a datagram over 64 KiB arrives whole when bufsize asks for it", async () => {
  await using s = new Sockets(AF_UNIX);
  const a = s.open();
  const big = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
  await a.sendto(big, a.getsockname());
  const [data] = await a.recvfrom(200_000);
  assert.deepEqual(data, big);
});

Deno.test("AF_UNIX: IP-level and UDP options fail with ENOPROTOOPT; SO_REUSEADDR reads back what was set, as Linux keeps it", async () => {
  await using s = new Sockets(AF_UNIX);
  const a = s.open();
  for (const [level, optname] of [[SOL_SOCKET, SO_BROADCAST], [IPPROTO_IP, IP_ADD_MEMBERSHIP]]) {
    assert.throws(() => a.setsockopt(level, optname, 1), isErrno(errno.ENOPROTOOPT));
  }
  // Bound already (Sockets.open binds): Linux takes it after bind too.
  assert.equal(a.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  assert.equal(a.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
  // It does nothing there: the bound path stays taken.
  using b = socket(AF_UNIX, SOCK_DGRAM);
  b.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  assert.throws(() => b.bind(a.getsockname() as string), isErrno(errno.EADDRINUSE));
});

Deno.test("socket() refuses a protocol that is not UDP for SOCK_DGRAM", () => {
  assert.throws(() => socket(AF_INET, SOCK_DGRAM, 6), isErrno(errno.EPROTONOSUPPORT));
  using ok = socket(AF_INET, SOCK_DGRAM, 17);
  assert.equal(ok.proto, 17);
});

Deno.test("IP_MULTICAST_TTL and IP_MULTICAST_LOOP read Linux's defaults and need a group to change after bind", () => {
  using a = socket(AF_INET, SOCK_DGRAM);
  assert.equal(a.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL), 1);
  assert.equal(a.getsockopt(IPPROTO_IP, IP_MULTICAST_LOOP), 1);
  a.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, new Uint8Array([1])); // struct.pack("b", 1)
  a.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 0); // before bind: Deno's loopback option
  assert.equal(a.getsockopt(IPPROTO_IP, IP_MULTICAST_LOOP), 0);
  assert.throws(() => a.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 300), isErrno(errno.EINVAL));
  assert.throws(() => a.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 2), (err) => {
    isErrno(errno.ENOPROTOOPT)(err);
    assert.match((err as Error).message, /IP_MULTICAST_TTL.*IP_ADD_MEMBERSHIP/);
    return true;
  });
  a.bind(["127.0.0.1", 0]);
  a.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 0); // unchanged: nothing to do
  assert.throws(() => a.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 1), isErrno(errno.ENOPROTOOPT));
});

Deno.test("IP_ADD_MEMBERSHIP checks its value before Deno joins anything", () => {
  using a = socket(AF_INET, SOCK_DGRAM);
  const mreq = multicastRequest("239.255.77.77", "127.0.0.1");
  assert.throws(() => a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq), (err) => {
    isErrno(errno.EINVAL)(err);
    assert.match((err as Error).message, /bind\(\) before IP_ADD_MEMBERSHIP/);
    return true;
  });
  a.bind(["127.0.0.1", 0]);
  const short = new Uint8Array(4);
  assert.throws(() => a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, short), isErrno(errno.EINVAL));
  assert.throws(() => a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, 1), isErrno(errno.EINVAL));
  const unicast = multicastRequest("127.0.0.1", "127.0.0.1");
  assert.throws(() => a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, unicast), isErrno(errno.EINVAL));
  const byIndex = new Uint8Array([239, 1, 2, 3, 0, 0, 0, 0, 1, 0, 0, 0]); // ip_mreqn, ifindex 1
  assert.throws(
    () => a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, byIndex),
    isErrno(errno.ENOPROTOOPT),
  );
  assert.throws(
    () => a.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq),
    isErrno(errno.EADDRNOTAVAIL),
  );
  assert.throws(() => a.getsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP), isErrno(errno.ENOPROTOOPT));
});

Deno.test("IP_ADD_MEMBERSHIP on an IPv6 socket fails with ENOPROTOOPT", () => {
  using a = socket(AF_INET6, SOCK_DGRAM);
  const mreq = multicastRequest("239.255.77.77", "127.0.0.1");
  assert.throws(
    () => a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq),
    isErrno(errno.ENOPROTOOPT),
  );
});

Deno.test("multicastRequest packs group and interface as struct.pack('4s4s') does", () => {
  assert.deepEqual(
    multicastRequest("239.1.2.3", "127.0.0.1"),
    new Uint8Array([239, 1, 2, 3, 127, 0, 0, 1]),
  );
  assert.deepEqual(multicastRequest("224.0.0.251"), new Uint8Array([224, 0, 0, 251, 0, 0, 0, 0]));
  assert.throws(() => multicastRequest("239.1.2"), TypeError);
  assert.throws(() => multicastRequest("239.1.2.3", "lo"), TypeError);
});

// Multicast leaves the loopback interface unless the kernel is told
// otherwise, so real group traffic is only sent inside a network namespace
// of our own, where loopback is the only interface there is.
const IN_NETNS = (() => {
  try {
    return Deno.env.get("PYSOCK_UDP_NETNS") === "1";
  } catch {
    return false;
  }
})();

if (IN_NETNS) {
  Deno.test("netns: a member on loopback receives a group datagram, options go through the membership", async () => {
    const group = "239.255.77.77";
    await using receiver = socket(AF_INET, SOCK_DGRAM);
    receiver.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    receiver.bind(["", 0]);
    const [, port] = receiver.getsockname() as [string, number];
    const mreq = multicastRequest(group, "127.0.0.1");
    receiver.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
    assert.throws(
      () => receiver.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq),
      isErrno(errno.EADDRINUSE),
    );

    await using sender = socket(AF_INET, SOCK_DGRAM);
    sender.bind(["127.0.0.1", 0]);
    sender.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
    sender.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 0);
    assert.equal(sender.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL), 0);
    await sender.sendto("to the group", [group, port]);
    receiver.settimeout(10);
    const [data, from] = await receiver.recvfrom(100);
    assert.equal(text(data), "to the group");
    assert.deepEqual(from, sender.getsockname());

    sender.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    assert.equal(sender.getsockopt(IPPROTO_IP, IP_MULTICAST_LOOP), 0);
    receiver.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq);
    sender.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, mreq);
    await sender.sendto("after leaving", receiver.getsockname());
    assert.equal(text((await receiver.recvfrom(100))[0]), "after leaving");
    assert.equal(receiver.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  });

  Deno.test("netns: a join the kernel refuses is reported by the next call, then cleared", async () => {
    await using a = socket(AF_INET, SOCK_DGRAM);
    a.bind(["127.0.0.1", 0]);
    // No interface has 10.99.99.99 in this namespace, so the kernel refuses the join.
    a.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, multicastRequest("239.255.77.78", "10.99.99.99"));
    await assert.rejects(a.sendto("x", a.getsockname()), OSError);
    assert.equal(a.getsockopt(SOL_SOCKET, SO_ERROR), 0, "reporting the error cleared it");
    await a.sendto("fine again", a.getsockname());
    assert.equal(text((await a.recvfrom(100))[0]), "fine again");
  });
}

Deno.test("multicast on loopback, in a network namespace of its own (skipped where none can be made)", async () => {
  if (IN_NETNS) return;
  const probe = await run("unshare", ["-rn", "ip", "link", "set", "lo", "up"]);
  if (!probe.ok) {
    console.log(
      `skipped: cannot make an isolated network namespace (${probe.why}); ` +
        "group traffic from the host namespace could leave the machine",
    );
    return;
  }
  const result = await run("unshare", [
    "-rn",
    "sh",
    "-c",
    'ip link set lo up && exec "$@"',
    "sh",
    Deno.execPath(),
    "test",
    "--allow-net",
    "--allow-env",
    "--filter",
    "/^netns: /",
    "tests/udp_test.ts",
  ], { PYSOCK_UDP_NETNS: "1" });
  assert.ok(result.ok, result.why);
  assert.match(result.out, /ok \| 2 passed \| 0 failed/);
});

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ok: boolean; why: string; out: string }> {
  try {
    const { success, code, stdout, stderr } = await new Deno.Command(cmd, {
      args,
      cwd: ROOT,
      env: { ...env, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = text(stdout);
    return { ok: success, why: `exit ${code}: ${text(stderr).trim()} ${out}`, out };
  } catch (err) {
    return { ok: false, why: String(err), out: "" };
  }
}

Deno.test("permission errors name the --allow-net flag to add", async () => {
  const [allowed, denied] = [await freeUdpPort(), await freeUdpPort()];
  const result = await runScript(
    `import { AF_INET, SOCK_DGRAM, socket } from "${MOD}";
using s = socket(AF_INET, SOCK_DGRAM);
s.bind(["127.0.0.1", ${allowed}]);
for (const attempt of [() => s.sendto("x", ["127.0.0.1", ${denied}]), async () => {
  using t = socket(AF_INET, SOCK_DGRAM);
  t.bind(["127.0.0.1", ${denied}]);
}]) {
  try { await attempt(); console.log("no error"); }
  catch (err) { console.log(err.constructor.name, err.errno, err.message); }
}
`,
    ["--no-prompt", "--unstable-net", `--allow-net=127.0.0.1:${allowed}`],
  );
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.length, 2, result.stdout);
  for (const line of lines) {
    assert.match(line, /^PermissionError 13 /);
    assert.ok(line.includes(`--allow-net=127.0.0.1:${denied}`), line);
  }
});

Deno.test("a receive kept after a timeout does not keep the process alive", async () => {
  const result = await runScript(
    `import { AF_INET, SOCK_DGRAM, socket } from "${MOD}";
const s = socket(AF_INET, SOCK_DGRAM);
s.bind(["127.0.0.1", 0]);
s.settimeout(0.01);
try { await s.recvfrom(10); } catch (err) { console.log(err.constructor.name); }
// Left open on purpose: Python would exit here, and so must Deno.
`,
    ["--unstable-net", "--allow-net=127.0.0.1"],
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "TimeoutError\n");
});

Deno.test("a blocking recvfrom keeps the process alive even after another call on the socket timed out", async () => {
  const result = await runScript(
    `import { AF_INET, SOCK_DGRAM, socket } from "${MOD}";
// Not a top-level await: Deno keeps a process with one pending alive regardless.
(async () => {
  const s = socket(AF_INET, SOCK_DGRAM);
  s.bind(["127.0.0.1", 0]);
  const waiting = s.recvfrom(100);
  s.settimeout(0.01);
  try { await s.recvfrom(100); } catch (err) { console.log(err.constructor.name); }
  // Only the waiting recvfrom may keep the process alive until this timer fires.
  const timer = setTimeout(async () => {
    const t = socket(AF_INET, SOCK_DGRAM);
    await t.sendto("hello", s.getsockname());
    t.close();
  }, 100);
  Deno.unrefTimer(timer);
  const [data] = await waiting;
  console.log("got", new TextDecoder().decode(data));
  s.close();
})();
`,
    ["--unstable-net", "--allow-net=127.0.0.1"],
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "TimeoutError\ngot hello\n");
});

Deno.test("without --unstable-net, socket(AF_INET, SOCK_DGRAM) names the flag and the deno.json setting", async () => {
  const result = await runScript(
    `import { AF_INET, SOCK_DGRAM, socket } from "${MOD}";
try { socket(AF_INET, SOCK_DGRAM); console.log("no error"); }
catch (err) { console.log(err.constructor.name, err.errno); console.log(err.message); }
`,
    ["--no-config", "--allow-read"],
  );
  assert.equal(result.code, 0, result.stderr);
  const [kind, message] = result.stdout.trim().split("\n");
  assert.equal(kind, `OSError ${errno.ENOSYS}`);
  assert.ok(message.includes("--unstable-net"), message);
  assert.ok(message.includes('"unstable": ["net"]'), message);
});

async function freeUdpPort(): Promise<number> {
  await using probe = socket(AF_INET, SOCK_DGRAM);
  probe.bind(["127.0.0.1", 0]);
  return (probe.getsockname() as [string, number])[1];
}

// ---- CPython interop ----

const PY_PEER = new URL("py/udp_peer.py", import.meta.url).pathname;

for (const { name, family } of IP_FAMILIES) {
  const host = family === AF_INET6 ? "::1" : "127.0.0.1";

  Deno.test(`${name}: a CPython UDP server echoes pysock's datagrams byte for byte`, async () => {
    const payloads = [
      ALL_BYTES,
      bytes("héllo wörld"),
      new Uint8Array(0),
      new Uint8Array(60000).fill(0xab),
    ];
    await using peer = python(
      await Deno.readTextFile(PY_PEER),
      "echo",
      host,
      String(payloads.length),
    );
    const port = Number(await peer.firstLine());
    await using sock = socket(family, SOCK_DGRAM);
    sock.settimeout(10);
    for (const payload of payloads) {
      await sock.sendto(payload, [host, port]);
      const [data, from] = await sock.recvfrom(65536);
      assert.deepEqual(data, payload);
      assert.equal(from[0], host);
      assert.equal(from[1], port);
    }
    const out = await peer.output();
    assert.ok(out.includes(`echoed ${payloads.length}`), out);
  });

  Deno.test(`${name}: pysock answers a CPython UDP client, which gets exact bytes back`, async () => {
    await using server = socket(family, SOCK_DGRAM);
    server.bind([host, 0]);
    const [, port] = server.getsockname() as [string, number];
    await using peer = python(await Deno.readTextFile(PY_PEER), "client", host, String(port));
    server.settimeout(10);
    const [data, from] = await server.recvfrom(65536);
    assert.deepEqual(data, ALL_BYTES);
    assert.equal(from[0], host);
    await server.sendto(data.slice().reverse(), from);
    const out = (await peer.output()).trim().split("\n");
    assert.equal(out[0], `reply ${Array.from(ALL_BYTES).reverse().map(hex).join("")}`);
    assert.equal(out[1], `from ${port}`);
  });
}

Deno.test("AF_UNIX: CPython and pysock exchange datagrams over Unix sockets both ways", async () => {
  await using s = new Sockets(AF_UNIX);
  const server = s.open();
  const clientPath = `${s.dir}/python.sock`;
  await using peer = python(
    await Deno.readTextFile(PY_PEER),
    "unix",
    clientPath,
    server.getsockname() as string,
  );
  server.settimeout(10);
  const [data, from] = await server.recvfrom(1024);
  assert.deepEqual(data, ALL_BYTES);
  assert.equal(from, clientPath);
  await server.sendto(bytes("pysock says hi"), from);
  const out = (await peer.output()).trim();
  assert.equal(out, `reply ${Array.from(bytes("pysock says hi")).map(hex).join("")}`);
});

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

Deno.test("a sendto to a new address that close() overtakes rejects with EBADF and binds no socket for it (it sent, from a socket bound after the close)", async () => {
  await using s = new Sockets(AF_INET);
  const rx = s.open();
  for (const host of ["127.0.0.1", "localhost"]) {
    const tx = socket(AF_INET, SOCK_DGRAM);
    const sending = tx.sendto("late", [host, rx.getsockname()[1] as number]);
    tx.close();
    await assert.rejects(sending, isErrno(errno.EBADF));
    assert.equal(tx.fileno(), -1);
  }
  // Nothing was sent: the first datagram rx sees is the one sent after.
  const marker = s.open();
  await marker.sendto("marker", rx.getsockname());
  rx.settimeout(5);
  assert.equal(text((await rx.recvfrom(100))[0]), "marker");
});

Deno.test("AF_UNIX: a sendto waiting on a full receiver rejects with EBADF when its socket closes (it waited until the receiver read)", async () => {
  await using s = new Sockets(AF_UNIX);
  const rx = s.open(); // never reads until the end
  const tx = socket(AF_UNIX, SOCK_DGRAM);
  tx.bind(s.address());
  const to = rx.getsockname() as string;
  let waiting: Promise<number> | null = null;
  for (let i = 0; i < 2000 && waiting === null; i++) {
    const sending = tx.sendto(new Uint8Array(1000), to);
    const settled = await Promise.race([sending.then(() => true), sleep(200).then(() => false)]);
    if (!settled) waiting = sending;
  }
  assert.ok(waiting !== null, "the receiver's queue never filled");
  tx.close();
  await assert.rejects(waiting, isErrno(errno.EBADF));
  await assert.rejects(tx.sendto("x", to), isErrno(errno.EBADF));
});

Deno.test("a closed datagram socket's send and sendto check their arguments before EBADF, as CPython's", async () => {
  const u = socket(AF_INET, SOCK_DGRAM);
  u.close();
  await assert.rejects(u.sendto(5 as never, ["127.0.0.1", 9]), TypeError);
  await assert.rejects(u.sendto("x", "bad" as never), TypeError);
  await assert.rejects(u.sendto("x", ["127.0.0.1", 70000]), RangeError);
  await assert.rejects(u.send(5 as never), TypeError);
  await assert.rejects(u.sendto("x", ["127.0.0.1", 9]), isErrno(errno.EBADF));
  await assert.rejects(u.send("x"), isErrno(errno.EBADF));
  // sendmsg's errors name sendmsg (they named sendto).
  await assert.rejects(u.sendmsg(["x"], [], 0, "bad" as never), /^TypeError: Cannot sendmsg/);
});

Deno.test("concurrent recvfrom calls are served first come, first served: one with a timeout is not overtaken by a later blocking one, as CPython's", async () => {
  await using s = new Sockets(AF_INET);
  const rx = s.open();
  const tx = s.open();
  for (const how of ["timeout", "signal"] as const) {
    const abort = new AbortController();
    if (how === "timeout") rx.settimeout(5);
    const first = how === "timeout"
      ? rx.recvfrom(100)
      : rx.recvfrom(100, 0, { signal: abort.signal });
    rx.settimeout(null);
    const second = rx.recvfrom(100);
    await sleep(20);
    await tx.sendto(`${how} 1`, rx.getsockname());
    // The later call got this one, and the first timed out with the next one coming.
    assert.equal(text((await first)[0]), `${how} 1`);
    await tx.sendto(`${how} 2`, rx.getsockname());
    assert.equal(text((await second)[0]), `${how} 2`);
  }
});
