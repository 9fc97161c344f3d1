// CPython's own socket tests (Lib/test/test_socket.py, 3.11.7), the datagram
// and Unix-address classes (BasicUDPTest, UDPTimeoutTest,
// TestLinuxAbstractNamespace, TestUnixDomain), ported to pysock on loopback;
// the stream classes are in cpython_socket_stream_test.ts. Every test names
// its CPython test; a "threaded" test runs its client part (`_testX`)
// concurrently in the same test, as a promise. Where pysock deliberately
// differs (API.md, README "What differs from Python") the test asserts
// pysock's documented behaviour and says so.
//
// Not ported:
// - TestLinuxAbstractNamespace.testBytearrayName, TestUnixDomain.testBytesAddr:
//   bytes addresses; a pysock Unix address is a path string (API.md).
// - TestUnixDomain.testUnencodableAddr: a lone surrogate (\udcff) path; a JS
//   string encodes it as U+FFFD, there is no surrogateescape.
// - TestUnixDomain.testEmptyAddress: CPython skips it on Linux itself.
// - IPv6 variants: CPython runs none of these classes over IPv6.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_UNIX,
  BlockingIOError,
  type DatagramSocket,
  errno,
  OSError,
  SOCK_DGRAM,
  SOCK_STREAM,
  socket,
  type StreamSocket,
  TimeoutError,
} from "../mod.ts";
import { bytes } from "./_helpers.ts";

// test.support.socket_helper.HOST
const HOST = "localhost";
const MSG = bytes("Michael Gilfix was here\u1234\r\n");

/** socket_helper.bind_port: binds to a free port on `host`, returns the port. */
function bindPort(sock: DatagramSocket, host = HOST): number {
  sock.bind([host, 0]);
  return sock.getsockname()[1] as number;
}

/**
 * Runs a threaded test's server part and client part at once. The first to
 * fail closes `closables`, so the other's pending calls settle (as CPython's
 * tearDown closes the sockets), and its error is the test's.
 */
async function threaded(
  closables: { close(): void }[],
  server: () => Promise<void> | void,
  client: () => Promise<void> | void,
): Promise<void> {
  let failed = false;
  let first: unknown;
  const guard = (part: Promise<void>) =>
    part.catch((err) => {
      if (!failed) [failed, first] = [true, err];
      for (const c of closables) c.close();
    });
  await Promise.all([
    guard(Promise.resolve().then(server)),
    guard(Promise.resolve().then(client)),
  ]);
  if (failed) throw first;
}

// ---------------------------------------------------------------------------
// BasicUDPTest (ThreadedUDPSocketTest)

/** ThreadedUDPSocketTest: `serv` bound on HOST, an unbound `cli`. */
function threadedUDPSocketTest(): { serv: DatagramSocket; port: number; cli: DatagramSocket } {
  const serv = socket(AF_INET, SOCK_DGRAM);
  try {
    const port = bindPort(serv);
    const cli = socket(AF_INET, SOCK_DGRAM);
    return { serv, port, cli };
  } catch (err) {
    serv.close();
    throw err;
  }
}

Deno.test("BasicUDPTest.testSendtoAndRecv: sendto() and recv() over UDP", async () => {
  const { serv, port, cli } = threadedUDPSocketTest();
  using _serv = serv;
  using _cli = cli;
  await threaded([serv, cli], async () => {
    const msg = await serv.recv(MSG.length);
    assert.deepEqual(msg, MSG);
  }, async () => {
    await cli.sendto(MSG, 0, [HOST, port]);
  });
});

Deno.test("BasicUDPTest.testRecvFrom: recvfrom() over UDP", async () => {
  const { serv, port, cli } = threadedUDPSocketTest();
  using _serv = serv;
  using _cli = cli;
  await threaded([serv, cli], async () => {
    const [msg, _addr] = await serv.recvfrom(MSG.length);
    assert.deepEqual(msg, MSG);
  }, async () => {
    await cli.sendto(MSG, 0, [HOST, port]);
  });
});

Deno.test("BasicUDPTest.testRecvFromNegative: a negative length gives ValueError (RangeError)", async () => {
  const { serv, port, cli } = threadedUDPSocketTest();
  using _serv = serv;
  using _cli = cli;
  await threaded([serv, cli], async () => {
    // Python's ValueError is a RangeError here (API.md: negative size).
    await assert.rejects(serv.recvfrom(-1), RangeError);
  }, async () => {
    await cli.sendto(MSG, 0, [HOST, port]);
  });
});

// ---------------------------------------------------------------------------
// UDPTimeoutTest (SocketUDPTest)

Deno.test("UDPTimeoutTest.testUDPTimeout: recv() past the timeout raises TimeoutError", async () => {
  using serv = socket(AF_INET, SOCK_DGRAM);
  bindPort(serv);
  serv.settimeout(1.0);
  await assert.rejects(
    serv.recv(1024),
    (e) => e instanceof TimeoutError && e.errno === null,
    "Error generating a timeout exception (UDP)",
  );
});

Deno.test("UDPTimeoutTest.testTimeoutZero: recv() with timeout 0 raises OSError, not TimeoutError", async () => {
  using serv = socket(AF_INET, SOCK_DGRAM);
  bindPort(serv);
  serv.settimeout(0.0);
  await assert.rejects(
    serv.recv(1024),
    (e) => e instanceof BlockingIOError && !(e instanceof TimeoutError) && e.errno === errno.EAGAIN,
  );
});

// ---------------------------------------------------------------------------
// TestLinuxAbstractNamespace. README ("UDP specifics"): "Unix sockets take
// filesystem paths only (no abstract namespace)": Deno binds paths only, so
// every abstract name (and "", Linux's autobind) is refused with OSError
// EINVAL saying so. Each test asserts that documented refusal.

function assertNoAbstractNamespace(e: unknown): boolean {
  return e instanceof OSError && e.errno === errno.EINVAL && /abstract namespace/.test(e.message);
}

Deno.test("TestLinuxAbstractNamespace.testLinuxAbstractNamespace: bind to an abstract name (EINVAL in pysock)", () => {
  const address = "\x00python-test-hello\x00\xff";
  using s1 = socket(AF_UNIX, SOCK_STREAM);
  assert.throws(() => s1.bind(address), assertNoAbstractNamespace);
});

Deno.test("TestLinuxAbstractNamespace.testMaxName: the longest abstract name (EINVAL in pysock)", () => {
  const UNIX_PATH_MAX = 108;
  const address = "\x00" + "h".repeat(UNIX_PATH_MAX - 1);
  using s = socket(AF_UNIX, SOCK_STREAM);
  assert.throws(() => s.bind(address), assertNoAbstractNamespace);
});

Deno.test("TestLinuxAbstractNamespace.testNameOverflow: an abstract name too long is OSError", () => {
  const UNIX_PATH_MAX = 108;
  const address = "\x00" + "h".repeat(UNIX_PATH_MAX);
  using s = socket(AF_UNIX, SOCK_STREAM);
  // CPython: OSError("AF_UNIX path too long"); pysock refuses the abstract
  // name first, also an OSError.
  assert.throws(() => s.bind(address), assertNoAbstractNamespace);
});

Deno.test("TestLinuxAbstractNamespace.testStrName: an abstract name as a string (EINVAL in pysock)", () => {
  const s = socket(AF_UNIX, SOCK_STREAM);
  try {
    assert.throws(() => s.bind("\x00python\x00test\x00"), assertNoAbstractNamespace);
  } finally {
    s.close();
  }
});

Deno.test("TestLinuxAbstractNamespace.testAutobind: bind('') autobinds (EINVAL in pysock)", () => {
  using s1 = socket(AF_UNIX, SOCK_STREAM);
  assert.throws(() => s1.bind(""), assertNoAbstractNamespace);
});

// ---------------------------------------------------------------------------
// TestUnixDomain. CPython binds os.path.abspath(TESTFN) in its working
// directory; here the same name in a temp dir.

async function unixDomainTest(body: (sock: StreamSocket, dir: string) => Promise<void> | void) {
  const dir = await Deno.makeTempDir();
  try {
    await using sock = socket(AF_UNIX, SOCK_STREAM);
    await body(sock, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("TestUnixDomain.testUnbound: getsockname() of an unbound socket is '' (issue 30205)", async () => {
  await unixDomainTest((sock) => {
    assert.ok(["", null].includes(sock.getsockname() as string));
  });
});

Deno.test("TestUnixDomain.testStrAddr: bind to a path, getsockname() returns it", async () => {
  await unixDomainTest((sock, dir) => {
    const path = `${dir}/@test_${Deno.pid}_tmp\u00e6`; // os_helper.TESTFN
    sock.bind(path);
    assert.equal(sock.getsockname(), path);
  });
});

Deno.test("TestUnixDomain.testSurrogateescapeBind: a non-ASCII path", async () => {
  // CPython passes the path's bytes through surrogateescape; a JS string is
  // the path itself, UTF-8 on the way out.
  await unixDomainTest((sock, dir) => {
    const path = `${dir}/@test_${Deno.pid}_tmp-\u00e0\u00f2\u0258\u0141\u011f`; // TESTFN_UNICODE
    sock.bind(path);
    assert.equal(sock.getsockname(), path);
  });
});
