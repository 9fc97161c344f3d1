// socket() factory and the module functions: createConnection, createServer,
// socketpair, getaddrinfo, gethostbyname, gethostname, default timeout.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AI_ADDRCONFIG,
  BlockingIOError,
  createConnection,
  createServer,
  EAI,
  errno,
  gaierror,
  getaddrinfo,
  getdefaulttimeout,
  gethostbyname,
  gethostname,
  hasDualstackIpv6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  OSError,
  setdefaulttimeout,
  SO_REUSEPORT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  socket,
  socketpair,
  SOL_SOCKET,
  TimeoutError,
} from "../mod.ts";
import { freePort, HAS_IPV6, MOD, pythonJson, runScript, text } from "./_helpers.ts";

Deno.test("SOCK_NONBLOCK and SOCK_CLOEXEC or'ed into the type are Linux's: the type is what is left, and SOCK_NONBLOCK starts non-blocking, as in CPython (they were EINVAL)", async () => {
  assert.equal(SOCK_NONBLOCK, 2048);
  assert.equal(SOCK_CLOEXEC, 524288);
  using stream = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  assert.equal(stream.type, SOCK_STREAM);
  assert.equal(stream.gettimeout(), 0);
  using dgram = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
  assert.equal(dgram.type, SOCK_DGRAM);
  assert.equal(dgram.gettimeout(), null);
  using both = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
  assert.equal(both.type, SOCK_DGRAM);
  assert.equal(both.gettimeout(), 0);
  both.bind(["127.0.0.1", 0]);
  await assert.rejects(both.recvfrom(10), BlockingIOError);
});

Deno.test("SOCK_RAW and SOCK_SEQPACKET fail with EPROTONOSUPPORT saying what Deno can do", () => {
  for (const type of [SOCK_RAW, SOCK_SEQPACKET]) {
    assert.throws(
      () => socket(AF_INET, type),
      (e: unknown) =>
        e instanceof OSError && e.errno === errno.EPROTONOSUPPORT && /SOCK_STREAM/.test(e.message),
    );
  }
});

Deno.test("an unknown family fails with EAFNOSUPPORT; a wrong protocol with EPROTONOSUPPORT", () => {
  assert.throws(() => socket(99), (e: unknown) => (e as OSError).errno === errno.EAFNOSUPPORT);
  assert.throws(
    () => socket(AF_INET, SOCK_STREAM, IPPROTO_UDP),
    (e: unknown) => (e as OSError).errno === errno.EPROTONOSUPPORT,
  );
  assert.throws(() => socket("2" as unknown as number), TypeError);
  assert.throws(() => socket(AF_INET, 1.5 as 1), TypeError);
  using ok = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  assert.equal(ok.proto, IPPROTO_TCP);
});

Deno.test("createServer listens and createConnection connects with a timeout", async () => {
  using server = createServer(["127.0.0.1", 0], { backlog: 8 });
  const port = (server.getsockname() as [string, number])[1];
  using client = await createConnection(["127.0.0.1", port], { timeout: 2 });
  assert.equal(client.gettimeout(), 2);
  const [conn] = await server.accept();
  using _conn = conn;
  await client.sendall("over create_connection");
  assert.equal(text(await conn.recv(100)), "over create_connection");
});

Deno.test("createConnection to a closed port rejects with ConnectionRefusedError", async () => {
  await assert.rejects(
    createConnection(["127.0.0.1", freePort()]),
    (e: unknown) => e instanceof OSError && e.errno === errno.ECONNREFUSED,
  );
});

Deno.test("createConnection refuses a source address with EOPNOTSUPP", async () => {
  await assert.rejects(
    createConnection(["127.0.0.1", 1], { sourceAddress: ["127.0.0.1", 5000] }),
    (e: unknown) => (e as OSError).errno === errno.EOPNOTSUPP,
  );
});

Deno.test("createServer with reusePort shares a port between two servers", () => {
  using a = createServer(["127.0.0.1", 0], { reusePort: true });
  using b = createServer(a.getsockname(), { reusePort: true });
  assert.deepEqual(a.getsockname(), b.getsockname());
  assert.equal(b.getsockopt(SOL_SOCKET, SO_REUSEPORT), 1);
});

Deno.test("createServer with dualstackIpv6 accepts IPv4 and IPv6 clients", async () => {
  if (!HAS_IPV6 || !hasDualstackIpv6()) {
    console.log("skipped: this host has no dual-stack IPv6");
    return;
  }
  using server = createServer(["", 0], { family: AF_INET6, dualstackIpv6: true });
  const port = (server.getsockname() as [string, number])[1];
  using _v4 = await createConnection(["127.0.0.1", port]);
  const [c4, a4] = await server.accept();
  c4.close();
  assert.equal((a4 as string[])[0], "::ffff:127.0.0.1");
  using _v6 = await createConnection(["::1", port]);
  const [c6, a6] = await server.accept();
  c6.close();
  assert.equal((a6 as string[])[0], "::1");
  assert.equal((a6 as unknown[]).length, 4);
});

Deno.test("createServer rejects dualstackIpv6 without AF_INET6", () => {
  assert.throws(() => createServer(["", 0], { dualstackIpv6: true }), RangeError);
});

Deno.test("createServer on a Unix path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using server = createServer(`${dir}/srv.sock`, { family: AF_UNIX });
    assert.equal(server.getsockname(), `${dir}/srv.sock`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("socketpair gives two connected sockets", async () => {
  const [a, b] = await socketpair();
  using _a = a;
  using _b = b;
  await a.sendall("ping");
  assert.equal(text(await b.recv(4)), "ping");
  await b.sendall("pong");
  assert.equal(text(await a.recv(4)), "pong");
});

Deno.test("getaddrinfo resolves localhost offline, one entry per socket type", async () => {
  const all = await getaddrinfo("localhost", 8080, AF_INET);
  assert.deepEqual(all, [
    [AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ["127.0.0.1", 8080]],
    [AF_INET, SOCK_DGRAM, IPPROTO_UDP, "", ["127.0.0.1", 8080]],
    [AF_INET, SOCK_RAW, 0, "", ["127.0.0.1", 8080]],
  ]);
  const stream = await getaddrinfo("127.0.0.1", "80", AF_INET, SOCK_STREAM);
  assert.deepEqual(stream, [[AF_INET, SOCK_STREAM, IPPROTO_TCP, "", ["127.0.0.1", 80]]]);
  const v6 = await getaddrinfo("::1", 443, AF_INET6, SOCK_STREAM);
  assert.deepEqual(v6, [[AF_INET6, SOCK_STREAM, IPPROTO_TCP, "", ["::1", 443, 0, 0]]]);
});

Deno.test("getaddrinfo reads a port string as glibc's strtoul does: white space and a sign before the digits", async () => {
  // What CPython 3.11 on Linux returns for each (checked with python3).
  const cases: [string, number | null][] = [
    [" 80", 80],
    ["+80", 80],
    [" \t+80", 80],
    ["080", 80],
    ["-0", 0],
    ["80 ", null],
    ["8 0", null],
    ["0x50", null],
    ["-1", null],
    [" http", null],
  ];
  for (const [port, expected] of cases) {
    const got = await getaddrinfo("127.0.0.1", port, AF_INET, SOCK_STREAM).then(
      (infos) => infos[0][4][1],
      (e: unknown) => (e instanceof gaierror && e.errno === EAI.EAI_SERVICE ? null : e),
    );
    assert.equal(got, expected, JSON.stringify(port));
  }
});

Deno.test("getaddrinfo of an unknown name rejects with gaierror", async () => {
  const err = await getaddrinfo("no-such-host.invalid", 80).catch((e) => e);
  assert.ok(err instanceof gaierror, String(err));
  assert.ok(err.errno !== null && err.errno < 0);
  await assert.rejects(
    getaddrinfo("localhost", "http-ish"),
    (e: unknown) => (e as OSError).errno === EAI.EAI_SERVICE,
  );
  await assert.rejects(getaddrinfo("localhost", 70000), RangeError);
});

Deno.test("gethostbyname returns the IPv4 address; a family mismatch is a gaierror", async () => {
  assert.equal(await gethostbyname("localhost"), "127.0.0.1");
  assert.equal(await gethostbyname("127.0.0.1"), "127.0.0.1");
  await assert.rejects(gethostbyname("::1"), gaierror);
});

Deno.test("connect to an unknown host raises gaierror", async () => {
  using s = socket();
  await assert.rejects(s.connect(["no-such-host.invalid", 80]), gaierror);
});

Deno.test("gethostname returns this machine's name", () => {
  assert.equal(gethostname(), Deno.hostname());
});

Deno.test("setdefaulttimeout applies to new and accepted sockets", async () => {
  assert.equal(getdefaulttimeout(), null);
  setdefaulttimeout(0.25);
  try {
    using s = socket();
    assert.equal(s.gettimeout(), 0.25);
    using server = createServer(["127.0.0.1", 0]);
    using _c = await createConnection(server.getsockname() as [string, number]);
    const [conn] = await server.accept();
    using _conn = conn;
    assert.equal(conn.gettimeout(), 0.25);
    await assert.rejects(conn.recv(1), TimeoutError);
  } finally {
    setdefaulttimeout(null);
  }
  assert.throws(() => setdefaulttimeout(-1), RangeError);
});

Deno.test("createConnection names every resolved address when one is not allowed", async () => {
  const port = freePort();
  const { stdout } = await runScript(
    `import { createConnection } from "${MOD}";
try { await createConnection(["localhost", ${port}]); } catch (e) { console.log(e.name, e.message); }`,
    ["--no-config", `--allow-net=127.0.0.1:${port}`],
  );
  assert.equal(
    stdout.trim(),
    `PermissionError [Errno 13] Permission denied: net access to localhost:${port} needs every ` +
      `address it resolves to; run again with --allow-net=127.0.0.1:${port},[::1]:${port}`,
  );
});

const PY_IPV6_SPELLING = `
got = [socket.getaddrinfo(h, 80, socket.AF_INET6, socket.SOCK_STREAM)[0][4][0]
       for h in ["0:0:0:0:0:0:0:1", "::FFFF:127.0.0.1", "0000::0001", "FE80:0:0:0:0:0:0:1"]]
srv = socket.socket(socket.AF_INET6)
srv.bind(("0:0:0:0:0:0:0:1", 0))
srv.listen()
c = socket.socket(socket.AF_INET6)
c.connect(("0::1", srv.getsockname()[1]))
a, addr = srv.accept()
got += [srv.getsockname()[0], c.getpeername()[0], addr[0], a.getsockname()[0]]
print(json.dumps(got))
`;

Deno.test(
  "IPv6 addresses come back in Python's compressed form, from getaddrinfo and the socket names",
  {
    ignore: !HAS_IPV6,
  },
  async () => {
    const py = await pythonJson(PY_IPV6_SPELLING);
    assert.deepEqual(py, ["::1", "::ffff:127.0.0.1", "::1", "fe80::1", "::1", "::1", "::1", "::1"]);
    const got: unknown[] = [];
    for (const h of ["0:0:0:0:0:0:0:1", "::FFFF:127.0.0.1", "0000::0001", "FE80:0:0:0:0:0:0:1"]) {
      got.push((await getaddrinfo(h, 80, AF_INET6, SOCK_STREAM))[0][4][0]);
    }
    using srv = socket(AF_INET6);
    srv.bind(["0:0:0:0:0:0:0:1", 0]);
    srv.listen();
    using c = socket(AF_INET6);
    await c.connect(["0::1", srv.getsockname()[1] as number]);
    const [a, addr] = await srv.accept();
    using _a = a;
    got.push(srv.getsockname()[0], c.getpeername()[0], addr[0], a.getsockname()[0]);
    assert.deepEqual(got, py);
  },
);

Deno.test("getaddrinfo with AI_ADDRCONFIG keeps the families this host has a non-loopback address of, as glibc counts them", async () => {
  const families = new Set<number>(
    Deno.networkInterfaces()
      .filter((i) => i.address !== "127.0.0.1" && i.address !== "::1")
      .map((i) => i.family === "IPv4" ? AF_INET : AF_INET6),
  );
  // localhost is both loopback addresses (README): AI_ADDRCONFIG drops the families not configured.
  const all = await getaddrinfo("localhost", 80, 0, SOCK_STREAM);
  const expected = all.filter(([family]) => families.has(family));
  if (expected.length === 0) {
    await assert.rejects(
      getaddrinfo("localhost", 80, 0, SOCK_STREAM, 0, AI_ADDRCONFIG),
      (e) => e instanceof gaierror && e.errno === EAI.EAI_NONAME,
    );
  } else {
    assert.deepEqual(
      await getaddrinfo("localhost", 80, 0, SOCK_STREAM, 0, AI_ADDRCONFIG),
      expected,
    );
  }
});
