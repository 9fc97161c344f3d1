// API.md conformance audit: one Deno.test per testable statement of
// /work/shared/API.md, titled with the section and a short quote, asserting
// pysock does exactly what the sentence says. Real sockets, loopback only
// (127.0.0.1, ::1, Unix sockets in a temp dir); anything that could resolve a
// name runs in a subprocess without net permission for it, so no query leaves
// the machine.
//
// Readings taken where API.md is ambiguous (the natural one for a Python
// programmer):
// - "rejected ... before any I/O": a synchronous call throws, a Promise-returning
//   call may throw or reject; either is accepted, but nothing is sent.
// - "SO_REUSEADDR ... 0 is refused": refused with OSError ENOPROTOOPT, like the
//   other options Deno cannot honour.
// - String(sock): Python's repr, including raddr once connected and
//   `[closed]` once closed.
// Not tested (cannot be checked from a test, or would leave loopback):
// "no worker threads, no polling, no extra copies" (design claims),
// `"<broadcast>"` actually sending to 255.255.255.255, multicast joins
// (IGMP on a real interface), connect to a real host name (DNS).

import assert from "node:assert/strict";
import * as mod from "../mod.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  BlockingIOError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  createConnection,
  createServer,
  DatagramSocket,
  errno,
  gaierror,
  getaddrinfo,
  getdefaulttimeout,
  gethostbyname,
  gethostname,
  hasDualstackIpv6,
  herror,
  IPPROTO_TCP,
  MSG_DONTWAIT,
  MSG_OOB,
  MSG_PEEK,
  MSG_TRUNC,
  MSG_WAITALL,
  OSError,
  PermissionError,
  setdefaulttimeout,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_BROADCAST,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SO_TYPE,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  socket,
  SocketBase,
  SOL_SOCKET,
  StreamSocket,
  TCP_NODELAY,
  TimeoutError,
} from "../mod.ts";
import * as framing from "../framing.ts";
import * as udpMod from "../udp.ts";
import * as selectorsMod from "../selectors.ts";
import * as serverMod from "../socketserver.ts";
import * as sslMod from "../ssl.ts";
import * as socketMod from "../socket.ts";
import * as errorsMod from "../errors.ts";
import {
  bytes,
  fails,
  freePort,
  HAS_IPV6,
  MOD,
  pair,
  python,
  runScript,
  sleep,
  text,
} from "./_helpers.ts";
import { certs } from "./_ssl_helpers.ts";

const ROOT = new URL("..", import.meta.url);
const LO: [string, number] = ["127.0.0.1", 0];
const MSG = bytes("Michael Gilfix was here\u1234\r\n");

/** Whether `e` is an OSError (or subclass `cls`) with `code`. */
function isErr(
  e: unknown,
  code: number | null,
  cls: abstract new (...a: never[]) => unknown = OSError,
) {
  return e instanceof cls && (e as OSError).errno === code;
}

/** A listening TCP socket on loopback and its address. */
function listener(): [StreamSocket, [string, number]] {
  const s = socket();
  s.bind(LO);
  s.listen();
  return [s, s.getsockname() as [string, number]];
}

/** A UDP socket bound on loopback and its address. */
function udp(): [DatagramSocket, [string, number]] {
  const s = socket(AF_INET, SOCK_DGRAM);
  s.bind(LO);
  return [s, s.getsockname() as [string, number]];
}

/** Runs cli/mod.ts with `args`; killed after 15 s. */
async function cli(
  args: string[],
  flags = ["-A"],
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "cli/mod.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(guard);
  return { code, out: text(stdout), err: text(stderr) };
}

const denoJson = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))) as {
  name: string;
  exports: Record<string, string>;
  unstable: string[];
  tasks: Record<string, string>;
};

// ---------------------------------------------------------------------------
// Package

Deno.test("API.md Package: JSR name `@pysock/socket`", () => {
  assert.equal(denoJson.name, "@pysock/socket");
});

Deno.test('API.md Package: exports "." → ./mod.ts, "./framing" → ./framing.ts, "./udp" → ./udp.ts', () => {
  assert.equal(denoJson.exports["."], "./mod.ts");
  assert.equal(denoJson.exports["./framing"], "./framing.ts");
  assert.equal(denoJson.exports["./udp"], "./udp.ts");
});

Deno.test('API.md Package: exports gain "./selectors", "./socketserver", "./ssl"; "./cli" stays', () => {
  assert.equal(denoJson.exports["./selectors"], "./selectors.ts");
  assert.equal(denoJson.exports["./socketserver"], "./socketserver.ts");
  assert.equal(denoJson.exports["./ssl"], "./ssl.ts");
  assert.ok(typeof denoJson.exports["./cli"] === "string");
  const cliPath = new URL(denoJson.exports["./cli"], ROOT);
  assert.ok(Deno.statSync(cliPath).isFile);
  assert.ok(denoJson.exports["./cli"].startsWith("./cli/"));
});

Deno.test("API.md Package: mod.ts re-exports everything public (socket, udp, framing, selectors, socketserver, errors)", () => {
  const m = mod as Record<string, unknown>;
  for (const sub of [socketMod, udpMod, framing, selectorsMod, serverMod, errorsMod]) {
    for (const [name, value] of Object.entries(sub)) {
      assert.ok(name in m, `mod.ts lacks ${name}`);
      assert.equal(m[name], value, `mod.ts ${name} is another value`);
    }
  }
  // ssl.ts is there too, under the `ssl` namespace (mod.ts's JSDoc).
  assert.equal(mod.ssl.SSLContext, sslMod.SSLContext);
});

Deno.test("API.md Package: nothing imports a `jsr:` (or npm:/http) specifier", async () => {
  const found: string[] = [];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && !entry.name.startsWith(".") && entry.name !== "node_modules") {
        await walk(new URL(`${entry.name}/`, dir));
      } else if (entry.isFile && entry.name.endsWith(".ts")) {
        const src = await Deno.readTextFile(new URL(entry.name, dir));
        if (/from\s+["'](jsr:|npm:|https?:)/.test(src) || /import\(\s*["'](jsr:|npm:)/.test(src)) {
          found.push(new URL(entry.name, dir).pathname);
        }
      }
    }
  };
  await walk(ROOT);
  assert.deepEqual(found, []);
  assert.ok(
    !("imports" in denoJson) ||
      Object.keys((denoJson as { imports?: object }).imports ?? {}).length === 0,
  );
});

Deno.test("API.md Package: tests assert with node:assert/strict", async () => {
  let withAssert = 0;
  for await (const entry of Deno.readDir(new URL("tests/", ROOT))) {
    if (!entry.name.endsWith("_test.ts") || entry.name === "api_contract_test.ts") continue;
    const src = await Deno.readTextFile(new URL(`tests/${entry.name}`, ROOT));
    assert.ok(!/jsr:@std\/assert|@std\/assert/.test(src), `${entry.name} uses @std/assert`);
    if (src.includes('"node:assert/strict"')) withAssert++;
  }
  assert.ok(withAssert > 0);
});

Deno.test("API.md Package: the command line parses with node:util's parseArgs", async () => {
  let src = "";
  for await (const entry of Deno.readDir(new URL("cli/", ROOT))) {
    if (entry.isFile) src += await Deno.readTextFile(new URL(`cli/${entry.name}`, ROOT));
  }
  assert.match(src, /import\s*\{[^}]*parseArgs[^}]*\}\s*from\s*["']node:util["']/);
});

Deno.test("API.md Package: byte helpers live in a private `_bytes.ts`", () => {
  assert.ok(Deno.statSync(new URL("_bytes.ts", ROOT)).isFile);
});

Deno.test("API.md Package: the files socket.ts, udp.ts, framing.ts, errors.ts, selectors.ts, socketserver.ts, ssl.ts, cli/, examples/, tests/, bench/", () => {
  for (
    const f of [
      "socket.ts",
      "udp.ts",
      "framing.ts",
      "errors.ts",
      "selectors.ts",
      "socketserver.ts",
      "ssl.ts",
    ]
  ) {
    assert.ok(Deno.statSync(new URL(f, ROOT)).isFile, f);
  }
  for (const d of ["cli", "examples", "tests", "bench"]) {
    assert.ok(Deno.statSync(new URL(d, ROOT)).isDirectory, d);
  }
});

Deno.test('API.md Package: deno.json sets "unstable": ["net"]', () => {
  assert.ok(denoJson.unstable.includes("net"));
});

Deno.test("API.md Package: deno.json tasks demo, test, bench, check", () => {
  for (const t of ["demo", "test", "bench", "check"]) assert.ok(t in denoJson.tasks, t);
});

Deno.test("API.md Package: `check` runs fmt, lint, type check and doc lint", () => {
  const check = denoJson.tasks.check;
  assert.match(check, /deno fmt/);
  assert.match(check, /deno lint/);
  assert.match(check, /deno check/);
  assert.match(check, /deno doc --lint/);
});

Deno.test("API.md Package: one task per example", async () => {
  const tasks = Object.values(denoJson.tasks).join("\n");
  const missing: string[] = [];
  for await (const entry of Deno.readDir(new URL("examples/", ROOT))) {
    if (!entry.isFile || !entry.name.endsWith(".ts") || entry.name.startsWith("_")) continue;
    if (!tasks.includes(`examples/${entry.name}`)) missing.push(entry.name);
  }
  assert.deepEqual(missing, []);
});

Deno.test("API.md Package: `demo` runs the echo server and client in one run, on loopback, and exits by itself", async () => {
  const [deno, ...args] = denoJson.tasks.demo.split(" ");
  assert.equal(deno, "deno");
  assert.ok(
    args.some((a) => a === "--allow-net=127.0.0.1" || a.startsWith("--allow-net=127.0.0.1")),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const { code, stderr } = await child.output();
  clearTimeout(guard);
  assert.equal(code, 0, text(stderr));
});

// ---------------------------------------------------------------------------
// Naming rule

const STREAM_METHODS = [
  "bind",
  "listen",
  "accept",
  "connect",
  "send",
  "sendall",
  "sendto",
  "recv",
  "recvfrom",
  "close",
  "shutdown",
  "getpeername",
  "getsockname",
  "settimeout",
  "gettimeout",
  "setblocking",
  "getblocking",
  "setsockopt",
  "getsockopt",
  "makefile",
  "fileno",
  "sendfile",
  "connectEx",
  "recvInto",
  "recvfromInto",
];
for (const name of STREAM_METHODS) {
  Deno.test(`API.md Naming rule: StreamSocket has \`${name}\``, () => {
    using s = socket();
    assert.equal(typeof (s as unknown as Record<string, unknown>)[name], "function");
  });
}

for (
  const name of [
    "getaddrinfo",
    "gethostbyname",
    "gethostname",
    "createConnection",
    "createServer",
    "hasDualstackIpv6",
  ]
) {
  Deno.test(`API.md Naming rule: module function \`${name}\``, () => {
    assert.equal(typeof (mod as Record<string, unknown>)[name], "function");
  });
}

Deno.test("API.md Naming rule: no snake_case aliases for camelCase names (connect_ex, recv_into, create_connection)", () => {
  using s = socket();
  const r = s as unknown as Record<string, unknown>;
  assert.equal(r.connect_ex, undefined);
  assert.equal(r.recv_into, undefined);
  assert.equal((mod as Record<string, unknown>).create_connection, undefined);
});

const CONSTANTS: [string, number | string][] = [
  ["AF_INET", 2],
  ["AF_INET6", 10],
  ["AF_UNIX", 1],
  ["SOCK_STREAM", 1],
  ["SOCK_DGRAM", 2],
  ["SOCK_RAW", 3],
  ["SHUT_RD", 0],
  ["SHUT_WR", 1],
  ["SHUT_RDWR", 2],
  ["SOL_SOCKET", 1],
  ["SO_REUSEADDR", 2],
  ["SO_KEEPALIVE", 9],
  ["SO_BROADCAST", 6],
  ["SO_REUSEPORT", 15],
  ["SO_RCVBUF", 8],
  ["SO_SNDBUF", 7],
  ["SO_TYPE", 3],
  ["SO_ERROR", 4],
  ["IPPROTO_TCP", 6],
  ["IPPROTO_UDP", 17],
  ["TCP_NODELAY", 1],
  ["IPPROTO_IP", 0],
  ["IP_MULTICAST_TTL", 33],
  ["IP_ADD_MEMBERSHIP", 35],
  ["IP_DROP_MEMBERSHIP", 36],
  ["INADDR_ANY", ""],
  ["MSG_PEEK", 2],
  ["MSG_WAITALL", 256],
  ["MSG_DONTWAIT", 64],
  ["MSG_TRUNC", 32],
];
for (const [name, value] of CONSTANTS) {
  Deno.test(`API.md Naming rule: ${name} is ${JSON.stringify(value)}`, () => {
    assert.equal((mod as Record<string, unknown>)[name], value);
    assert.equal((socketMod as Record<string, unknown>)[name], value, "socket.ts");
  });
}

Deno.test("API.md Naming rule: the constants match CPython's values on this Linux box", async () => {
  const names = CONSTANTS.map(([n]) => n).filter((n) => n !== "INADDR_ANY");
  await using py = python(
    `import socket, json, sys; print(json.dumps({n: getattr(socket, n) for n in sys.argv[1:]}))`,
    ...names,
  );
  const theirs = JSON.parse(await py.output());
  for (const n of names) assert.equal((mod as Record<string, unknown>)[n], theirs[n], n);
});

Deno.test("API.md Naming rule: `errno.ECONNREFUSED === 111`", () => {
  assert.equal(errno.ECONNREFUSED, 111);
});

Deno.test("API.md Naming rule: the errno object has the Linux numbers by name (as Python's errno module)", async () => {
  const names = [
    "EPERM",
    "EBADF",
    "EAGAIN",
    "EINVAL",
    "EPIPE",
    "ENOTCONN",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ECONNRESET",
    "ECONNABORTED",
    "ETIMEDOUT",
    "EMSGSIZE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "EOPNOTSUPP",
    "EAFNOSUPPORT",
    "EISCONN",
    "EHOSTUNREACH",
    "ENETUNREACH",
  ];
  await using py = python(
    `import errno, json, sys; print(json.dumps({n: getattr(errno, n) for n in sys.argv[1:]}))`,
    ...names,
  );
  const theirs = JSON.parse(await py.output());
  for (const n of names) assert.equal((errno as Record<string, number>)[n], theirs[n], n);
});

// ---------------------------------------------------------------------------
// Data and addresses

Deno.test("API.md Data: bytes are Uint8Array; send/sendall accept a string, sent as UTF-8", async () => {
  await using p = await pair();
  await p.client.sendall("é\u1234");
  assert.equal(await p.client.send("x"), 1);
  assert.deepEqual(
    await framing.recvExactly(p.conn, 6),
    new Uint8Array([0xc3, 0xa9, 0xe1, 0x88, 0xb4, 0x78]),
  );
});

Deno.test("API.md Data: sendto accepts a string, sent as UTF-8", async () => {
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.equal(await s.sendto("é", addr), 2);
  const [data] = await r.recvfrom(10);
  assert.deepEqual(data, new Uint8Array([0xc3, 0xa9]));
});

Deno.test("API.md Data: every receive returns a fresh Uint8Array the caller owns", async () => {
  await using p = await pair();
  await p.client.sendall("abcdef");
  const a = await framing.recvExactly(p.conn, 3);
  assert.ok(a instanceof Uint8Array);
  a.fill(0);
  const b = await p.conn.recv(3);
  assert.equal(text(b), "def");
  assert.deepEqual(a, new Uint8Array(3)); // later receives do not write over it
  // Writing into what recv returned changes nothing pysock will hand out again.
  await p.client.sendall("xyz");
  const c = await p.conn.recv(3, MSG_PEEK);
  c.fill(0x21);
  assert.equal(text(await p.conn.recv(3)), "xyz");
});

Deno.test({
  name:
    "API.md Data: a receive returns a fresh Uint8Array the caller owns — transferring its buffer once it was all read loses nothing",
  async fn() {
    // A caller that owns an array may transfer its buffer (postMessage to a worker,
    // ArrayBuffer.prototype.transfer); the socket then reads on into a new buffer
    // (found by this audit: the next recv threw "RangeError: Invalid typed array length").
    await using p = await pair();
    await p.client.sendall("hello");
    const a = await p.conn.recv(100);
    assert.equal(text(a), "hello");
    const moved = (a.buffer as ArrayBuffer).transfer();
    assert.ok(moved.byteLength >= 5);
    await p.client.sendall("world");
    assert.equal(text(await p.conn.recv(100)), "world");
  },
});

Deno.test("API.md Data: the *Into forms fill the caller's buffer", async () => {
  await using p = await pair();
  await p.client.sendall("hello");
  const buf = new Uint8Array(10);
  const n = await p.conn.recvInto(buf);
  assert.ok(n >= 1 && n <= 5);
  assert.equal(text(buf.subarray(0, n)), "hello".slice(0, n));
});

Deno.test("API.md Data: an IPv4 address is the tuple [host, port]", async () => {
  await using p = await pair();
  const name = p.client.getsockname();
  assert.ok(Array.isArray(name) && name.length === 2);
  assert.equal(name[0], "127.0.0.1");
  assert.equal(typeof name[1], "number");
  assert.deepEqual(p.client.getpeername(), p.server.getsockname());
});

Deno.test({
  name:
    "API.md Data: IPv6 is [host, port, flowinfo, scopeId] when returned (a 2-tuple is accepted as input)",
  ignore: !HAS_IPV6,
  async fn() {
    using s = socket(AF_INET6);
    s.bind(["::1", 0]); // a 2-tuple as input
    s.listen();
    const name = s.getsockname() as unknown[];
    assert.equal(name.length, 4);
    assert.equal(name[0], "::1");
    assert.equal(name[2], 0);
    assert.equal(name[3], 0);
    using c = socket(AF_INET6);
    const accepting = s.accept();
    await c.connect(["::1", name[1] as number]);
    const [conn, addr] = await accepting;
    using _conn = conn;
    assert.equal((addr as unknown[]).length, 4);
    assert.deepEqual(c.getpeername(), name);
  },
});

Deno.test("API.md Data: a Unix address is a path string", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/u.sock`;
    using s = socket(AF_UNIX);
    s.bind(path);
    s.listen();
    assert.equal(s.getsockname(), path);
    using c = socket(AF_UNIX);
    const accepting = s.accept();
    await c.connect(path);
    const [conn] = await accepting;
    using _conn = conn;
    assert.equal(c.getpeername(), path);
    assert.equal(typeof conn.getsockname(), "string");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('API.md Data: host "" means all interfaces, as in Python', () => {
  using s = socket();
  s.bind(["", 0]);
  assert.equal((s.getsockname() as [string, number])[0], "0.0.0.0");
  using u = socket(AF_INET, SOCK_DGRAM);
  u.bind(["", 0]);
  assert.equal((u.getsockname() as [string, number])[0], "0.0.0.0");
});

Deno.test('API.md Data: "<broadcast>" means 255.255.255.255 (bind, as in Python: EADDRNOTAVAIL)', async () => {
  // Binding sends nothing; Python: OSError [Errno 99] Cannot assign requested address.
  await using py = python(`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(("<broadcast>", 0)); print("bound")
except OSError as e:
    print(type(e).__name__, e.errno)
`);
  const theirs = (await py.output()).trim();
  using u = socket(AF_INET, SOCK_DGRAM);
  let ours = "bound";
  try {
    u.bind(["<broadcast>", 0]);
  } catch (e) {
    ours = `${(e as Error).constructor.name} ${(e as OSError).errno}`;
  }
  assert.equal(ours, theirs);
});

for (const port of [-1, 65536, 70000]) {
  Deno.test(`API.md Data: port ${port} outside 0–65535 is a RangeError before any I/O (bind, connect, sendto)`, async () => {
    using s = socket();
    assert.throws(() => s.bind(["127.0.0.1", port]), RangeError);
    await fails(() => s.connect(["127.0.0.1", port]), (e) => e instanceof RangeError);
    await fails(() => s.connectEx(["127.0.0.1", port]), (e) => e instanceof RangeError);
    using u = socket(AF_INET, SOCK_DGRAM);
    await fails(() => u.sendto("x", ["127.0.0.1", port]), (e) => e instanceof RangeError);
    // Nothing happened to the sockets: the UDP one is still unbound.
    assert.deepEqual(u.getsockname(), ["0.0.0.0", 0]);
  });
}

for (
  const [label, addr] of [
    ["a 1-tuple", ["127.0.0.1"]],
    ["a 3-tuple for IPv4", ["127.0.0.1", 80, 0]],
    ["a port that is a string", ["127.0.0.1", "80"]],
    ["a host that is a number", [127, 80]],
    ["a path for AF_INET", "/tmp/x.sock"],
    ["null", null],
  ] as [string, unknown][]
) {
  Deno.test(`API.md Data: a malformed address (${label}) is a TypeError before any I/O`, async () => {
    using s = socket();
    assert.throws(() => s.bind(addr as never), TypeError);
    await fails(() => s.connect(addr as never), (e) => e instanceof TypeError);
    using u = socket(AF_INET, SOCK_DGRAM);
    await fails(() => u.sendto("x", addr as never), (e) => e instanceof TypeError);
    assert.deepEqual(u.getsockname(), ["0.0.0.0", 0]);
  });
}

Deno.test("API.md Data: a non-integer port is rejected before any I/O (Python: TypeError)", async () => {
  using s = socket();
  assert.throws(
    () => s.bind(["127.0.0.1", 1.5]),
    (e) => e instanceof TypeError || e instanceof RangeError,
  );
  await fails(
    () => s.connect(["127.0.0.1", 1.5]),
    (e) => e instanceof TypeError || e instanceof RangeError,
  );
});

// ---------------------------------------------------------------------------
// socket()

Deno.test("API.md socket(): defaults are family = AF_INET, type = SOCK_STREAM, proto = 0", () => {
  using s = socket();
  assert.equal(s.family, AF_INET);
  assert.equal(s.type, SOCK_STREAM);
  assert.equal(s.proto, 0);
  assert.ok(s instanceof StreamSocket);
});

Deno.test("API.md socket(): SOCK_STREAM gives a StreamSocket (socket.ts), SOCK_DGRAM a DatagramSocket (udp.ts)", () => {
  using s = socket(AF_INET, SOCK_STREAM);
  using d = socket(AF_INET, SOCK_DGRAM);
  assert.ok(s instanceof socketMod.StreamSocket);
  assert.ok(d instanceof udpMod.DatagramSocket);
  assert.equal(d.type, SOCK_DGRAM);
  assert.ok(!(d instanceof StreamSocket));
});

Deno.test("API.md socket(): AF_INET6 and AF_UNIX give sockets of that family", () => {
  for (const family of [AF_INET6, AF_UNIX]) {
    for (const type of [SOCK_STREAM, SOCK_DGRAM]) {
      using s = socket(family, type);
      assert.equal(s.family, family);
      assert.equal(s.type, type);
    }
  }
});

const BASE = [
  "family",
  "type",
  "proto",
  "bind",
  "close",
  "getsockname",
  "settimeout",
  "gettimeout",
  "setblocking",
  "getblocking",
  "setsockopt",
  "getsockopt",
  "fileno",
];
Deno.test("API.md socket(): both share a base with family, type, proto, bind, close, getsockname, settimeout, … fileno", () => {
  using s = socket();
  using d = socket(AF_INET, SOCK_DGRAM);
  assert.ok(s instanceof SocketBase);
  assert.ok(d instanceof SocketBase);
  for (const name of BASE) {
    assert.ok(name in s, `StreamSocket.${name}`);
    assert.ok(name in d, `DatagramSocket.${name}`);
  }
});

Deno.test("API.md socket(): [Symbol.asyncDispose]/[Symbol.dispose] — `await using s = socket()` closes it", async () => {
  let a: StreamSocket, b: DatagramSocket, c: StreamSocket;
  {
    await using s = socket();
    a = s;
    using d = socket(AF_INET, SOCK_DGRAM);
    b = d;
    using e = socket();
    c = e;
    assert.ok(a.fileno() > 0);
  }
  assert.equal(a.fileno(), -1);
  assert.equal(b.fileno(), -1);
  assert.equal(c.fileno(), -1);
  assert.equal(typeof a[Symbol.asyncDispose], "function");
  assert.equal(typeof b[Symbol.dispose], "function");
});

for (const [name, type] of [["SOCK_RAW", SOCK_RAW], ["SOCK_SEQPACKET", SOCK_SEQPACKET]] as const) {
  Deno.test(`API.md socket(): ${name} throws OSError EPROTONOSUPPORT with a message saying what Deno can do instead`, () => {
    assert.throws(() => socket(AF_INET, type as never), (e) => {
      assert.ok(isErr(e, errno.EPROTONOSUPPORT));
      assert.match((e as Error).message, /^\[Errno 93\] /);
      assert.match((e as Error).message, /SOCK_STREAM|SOCK_DGRAM/);
      return true;
    });
  });
}

Deno.test("API.md socket(): an unknown family throws OSError EAFNOSUPPORT with a message naming what Deno supports", () => {
  assert.throws(() => socket(99 as never), (e) => {
    assert.ok(isErr(e, errno.EAFNOSUPPORT));
    assert.match((e as Error).message, /^\[Errno 97\] /);
    assert.match((e as Error).message, /AF_INET/);
    return true;
  });
});

Deno.test("API.md socket(): synchronous bind, listen, close, getsockname, getpeername, option calls", async () => {
  await using p = await pair();
  using s = socket();
  assert.equal(s.bind(LO), undefined);
  assert.equal(s.listen(), undefined);
  assert.ok(Array.isArray(s.getsockname()));
  assert.ok(Array.isArray(p.client.getpeername()));
  assert.equal(p.client.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1), undefined);
  assert.equal(typeof p.client.getsockopt(IPPROTO_TCP, TCP_NODELAY), "number");
  assert.equal(p.client.shutdown(SHUT_WR), undefined);
  assert.equal(s.close(), undefined);
});

Deno.test("API.md socket(): everything that waits on the network returns a Promise", async () => {
  await using p = await pair();
  const [u, addr] = udp();
  using _u = u;
  const waits: Promise<unknown>[] = [
    p.client.send("a"),
    p.client.sendall("b"),
    p.conn.recv(1),
    p.conn.recvInto(new Uint8Array(1)),
    u.sendto("c", addr),
    u.recvfrom(10),
  ];
  for (const w of waits) assert.ok(w instanceof Promise);
  await Promise.all(waits);
  const c = socket();
  const connecting = c.connect(p.server.getsockname());
  const accepting = p.server.accept();
  assert.ok(connecting instanceof Promise);
  assert.ok(accepting instanceof Promise);
  await connecting;
  const [conn] = await accepting;
  conn.close();
  c.close();
});

// ---------------------------------------------------------------------------
// StreamSocket

Deno.test("API.md StreamSocket bind: binds now — a port in use fails here with EADDRINUSE", () => {
  const [l, addr] = listener();
  using _l = l;
  using s = socket();
  assert.throws(
    () => s.bind(addr),
    (e) => isErr(e, errno.EADDRINUSE) && /^\[Errno 98\] /.test((e as Error).message),
  );
});

Deno.test("API.md StreamSocket bind: getsockname() then gives the real port for port 0", () => {
  using s = socket();
  s.bind(LO);
  const [host, port] = s.getsockname() as [string, number];
  assert.equal(host, "127.0.0.1");
  assert.ok(port > 0 && port <= 65535);
  // Bound now: the port is taken before listen().
  using t = socket();
  assert.throws(() => t.bind(["127.0.0.1", port]), (e) => isErr(e, errno.EADDRINUSE));
});

Deno.test("API.md StreamSocket bind: a second bind is EINVAL", () => {
  using s = socket();
  s.bind(LO);
  assert.throws(() => s.bind(LO), (e) => isErr(e, errno.EINVAL));
});

Deno.test("API.md StreamSocket listen: starts accepting; backlog reaches the kernel (backlog 0 queues one, then SYNs drop)", async () => {
  using s = socket();
  s.bind(LO);
  s.listen(0);
  const addr = s.getsockname();
  const clients: StreamSocket[] = [];
  let timedOut = false;
  try {
    for (let i = 0; i < 8 && !timedOut; i++) {
      const c = socket();
      clients.push(c);
      c.settimeout(0.2);
      try {
        await c.connect(addr);
      } catch (e) {
        assert.ok(e instanceof TimeoutError, String(e));
        timedOut = true;
      }
    }
    assert.ok(timedOut, "a full backlog of 0 made no connect wait");
    assert.ok(clients.length >= 2);
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("API.md StreamSocket listen: accept before listen is EINVAL", async () => {
  using s = socket();
  s.bind(LO);
  await assert.rejects(s.accept(), (e) => isErr(e, errno.EINVAL));
  using t = socket();
  await assert.rejects(t.accept(), (e) => isErr(e, errno.EINVAL));
});

Deno.test("API.md StreamSocket accept: Promise<[StreamSocket, Address]>", async () => {
  const [l, addr] = listener();
  using _l = l;
  using c = socket();
  const accepting = l.accept();
  await c.connect(addr);
  const [conn, peer] = await accepting;
  using _conn = conn;
  assert.ok(conn instanceof StreamSocket);
  assert.deepEqual(peer, c.getsockname());
  assert.deepEqual(conn.getpeername(), c.getsockname());
  assert.deepEqual(conn.getsockname(), addr);
});

Deno.test("API.md StreamSocket accept: the new socket starts blocking (no default timeout), not with the listener's timeout", async () => {
  const [l, addr] = listener();
  using _l = l;
  l.settimeout(5);
  using c = socket();
  const accepting = l.accept();
  await c.connect(addr);
  const [conn] = await accepting;
  using _conn = conn;
  assert.equal(getdefaulttimeout(), null);
  assert.equal(conn.gettimeout(), null);
  assert.equal(conn.getblocking(), true);
});

Deno.test("API.md StreamSocket accept: the new socket starts with getdefaulttimeout()", async () => {
  const [l, addr] = listener();
  using _l = l;
  l.settimeout(0);
  setdefaulttimeout(2.5);
  try {
    using c = socket();
    assert.equal(c.gettimeout(), 2.5);
    await c.connect(addr);
    let accepted: StreamSocket | null = null;
    for (let i = 0; i < 50 && accepted === null; i++) {
      try {
        [accepted] = await l.accept();
      } catch (e) {
        assert.ok(e instanceof BlockingIOError);
        await sleep(10);
      }
    }
    using conn = accepted!;
    assert.equal(conn.gettimeout(), 2.5);
  } finally {
    setdefaulttimeout(null);
  }
});

Deno.test("API.md StreamSocket connect: refused → ConnectionRefusedError (errno 111), message [Errno 111] Connection refused", async () => {
  using s = socket();
  await assert.rejects(s.connect(["127.0.0.1", freePort()]), (e) => {
    assert.ok(e instanceof ConnectionRefusedError);
    assert.ok(e instanceof ConnectionError);
    assert.ok(e instanceof OSError);
    assert.equal((e as OSError).errno, 111);
    assert.equal((e as OSError).strerror, "Connection refused");
    assert.equal((e as Error).message, "[Errno 111] Connection refused");
    return true;
  });
});

Deno.test("API.md StreamSocket connect: resolves names (localhost via /etc/hosts)", async () => {
  const [l, addr] = listener();
  using _l = l;
  using c = socket();
  const accepting = l.accept();
  await c.connect(["localhost", addr[1]]);
  const [conn] = await accepting;
  conn.close();
  assert.deepEqual(c.getpeername(), addr);
});

Deno.test("API.md StreamSocket connect: unknown host → gaierror (run without net permission for it: no query leaves)", async () => {
  const r = await runScript(
    `import { socket, gaierror } from ${JSON.stringify(MOD)};
const s = socket();
try { await s.connect(["no such host!", 80]); console.log("connected"); }
catch (e) { console.log(e instanceof gaierror, e.constructor.name, typeof e.errno, e.message); }
finally { s.close(); }`,
    ["--allow-net=127.0.0.1"],
  );
  assert.equal(r.code, 0, r.stderr);
  const [isGai, name, type] = r.stdout.trim().split(" ");
  assert.equal(isGai, "true", r.stdout);
  assert.equal(name, "gaierror");
  assert.equal(type, "number");
  assert.match(r.stdout, /\[Errno -?\d+\] /);
});

Deno.test("API.md StreamSocket connect: over the timeout → TimeoutError", async () => {
  await using quiet = await (await import("./_helpers.ts")).silentListener();
  using s = socket();
  s.settimeout(0.1);
  await assert.rejects(
    s.connect(quiet.addr),
    (e) => e instanceof TimeoutError && (e as OSError).errno === null,
  );
});

Deno.test("API.md StreamSocket connect: after bind() — OSError EOPNOTSUPP saying so, never a silent drop", async () => {
  const [l, addr] = listener();
  using _l = l;
  using s = socket();
  s.bind(LO);
  await assert.rejects(s.connect(addr), (e) => {
    assert.ok(isErr(e, errno.EOPNOTSUPP), String(e));
    assert.match((e as Error).message, /^\[Errno 95\] /);
    assert.match((e as Error).message, /bind/);
    return true;
  });
});

Deno.test("API.md StreamSocket connectEx: Promise<number> — 0, or the errno instead of throwing", async () => {
  const [l, addr] = listener();
  using _l = l;
  using a = socket();
  const accepting = l.accept();
  assert.equal(await a.connectEx(addr), 0);
  (await accepting)[0].close();
  using b = socket();
  assert.equal(await b.connectEx(["127.0.0.1", freePort()]), errno.ECONNREFUSED);
});

Deno.test("API.md StreamSocket send: one write; resolves to the count written (≤ asked)", async () => {
  await using p = await pair();
  const n = await p.client.send(MSG);
  assert.ok(n >= 1 && n <= MSG.length);
  assert.deepEqual(await framing.recvExactly(p.conn, n), MSG.subarray(0, n));
});

Deno.test("API.md StreamSocket sendall: resolves once every byte is written", async () => {
  await using p = await pair();
  const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
  const reading = framing.recvExactly(p.conn, big.length);
  assert.equal(await p.client.sendall(big), undefined);
  assert.deepEqual(await reading, big);
});

Deno.test("API.md StreamSocket sendall: rejects with the first error (peer gone: BrokenPipeError or ConnectionResetError)", async () => {
  await using p = await pair();
  p.conn.close();
  let error: unknown = null;
  for (let i = 0; i < 50 && error === null; i++) {
    try {
      await p.client.sendall(new Uint8Array(65536));
    } catch (e) {
      error = e;
    }
  }
  assert.ok(
    error instanceof BrokenPipeError || error instanceof ConnectionResetError,
    String(error),
  );
  assert.ok([errno.EPIPE, errno.ECONNRESET].includes((error as OSError).errno!));
});

Deno.test("API.md StreamSocket recv: 1..bufsize bytes as soon as any are there", async () => {
  await using p = await pair();
  await p.client.sendall("abc");
  const got = await p.conn.recv(1024);
  assert.ok(got.length >= 1 && got.length <= 3);
  await p.client.sendall("0123456789");
  let all = text(got);
  while (all.length < 13) {
    const part = await p.conn.recv(4);
    assert.ok(part.length >= 1 && part.length <= 4);
    all += text(part);
  }
  assert.equal(all, "abc0123456789");
});

Deno.test("API.md StreamSocket recv: an empty array at end of stream", async () => {
  await using p = await pair();
  await p.client.sendall("x");
  p.client.close();
  assert.equal(text(await p.conn.recv(10)), "x");
  const eof = await p.conn.recv(10);
  assert.ok(eof instanceof Uint8Array);
  assert.equal(eof.length, 0);
  assert.equal((await p.conn.recv(10)).length, 0);
});

Deno.test("API.md StreamSocket recv: negative size → RangeError", async () => {
  await using p = await pair();
  await fails(() => p.conn.recv(-1), (e) => e instanceof RangeError);
  await fails(() => p.conn.recvInto(new Uint8Array(4), -1), (e) => e instanceof RangeError);
});

Deno.test("API.md StreamSocket recvInto: fills buf, resolves to the count (0 at end of stream)", async () => {
  await using p = await pair();
  await p.client.sendall("hello");
  const buf = new Uint8Array(5);
  let n = 0;
  while (n < 5) n += await p.conn.recvInto(buf.subarray(n));
  assert.equal(text(buf), "hello");
  p.client.shutdown(SHUT_WR);
  assert.equal(await p.conn.recvInto(buf), 0);
});

Deno.test("API.md StreamSocket recvInto: nbytes limits the count", async () => {
  await using p = await pair();
  await p.client.sendall("hello world");
  const buf = new Uint8Array(11);
  const n = await p.conn.recvInto(buf, 3);
  assert.ok(n >= 1 && n <= 3);
  assert.deepEqual(buf.subarray(n), new Uint8Array(11 - n));
});

Deno.test("API.md StreamSocket shutdown: SHUT_WR sends end-of-stream while receiving goes on", async () => {
  await using p = await pair();
  p.client.shutdown(SHUT_WR);
  assert.equal((await p.conn.recv(10)).length, 0);
  await p.conn.sendall("after");
  assert.equal(text(await framing.recvExactly(p.client, 5)), "after");
});

Deno.test("API.md StreamSocket shutdown: SHUT_RD makes later recv return empty", async () => {
  await using p = await pair();
  p.conn.shutdown(SHUT_RD);
  assert.equal((await p.conn.recv(10)).length, 0);
  // The write side stays open.
  await p.conn.sendall("still");
  assert.equal(text(await framing.recvExactly(p.client, 5)), "still");
});

Deno.test("API.md StreamSocket shutdown: SHUT_RDWR both", async () => {
  await using p = await pair();
  p.conn.shutdown(SHUT_RDWR);
  assert.equal((await p.conn.recv(10)).length, 0);
  assert.equal((await p.client.recv(10)).length, 0);
  // Python: send after SHUT_RDWR is BrokenPipeError (EPIPE).
  await assert.rejects(p.conn.sendall("x"), (e) => isErr(e, errno.EPIPE, BrokenPipeError));
});

Deno.test("API.md StreamSocket shutdown: an unconnected socket is ENOTCONN (as Python)", () => {
  using s = socket();
  assert.throws(() => s.shutdown(SHUT_RDWR), (e) => isErr(e, errno.ENOTCONN));
});

Deno.test("API.md StreamSocket close: idempotent", () => {
  const s = socket();
  s.close();
  s.close();
  assert.equal(s.fileno(), -1);
});

Deno.test("API.md StreamSocket close: any later I/O call fails with OSError EBADF", async () => {
  await using p = await pair();
  p.client.close();
  const bad = (e: unknown) => isErr(e, errno.EBADF);
  await fails(() => p.client.recv(1), bad);
  await fails(() => p.client.send("x"), bad);
  await fails(() => p.client.sendall("x"), bad);
  await fails(() => p.client.recvInto(new Uint8Array(1)), bad);
  await fails(() => p.client.connect(p.server.getsockname()), bad);
  p.server.close();
  await fails(() => p.server.accept(), bad);
  const s = socket();
  s.close();
  await fails(() => s.bind(LO), bad);
  await fails(() => s.listen(), bad);
  await fails(() => s.getsockname(), bad);
  await fails(() => s.getpeername(), bad);
  await fails(() => s.shutdown(SHUT_RDWR), bad);
  await fails(() => s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1), bad);
  await fails(() => s.getsockopt(IPPROTO_TCP, TCP_NODELAY), bad);
});

Deno.test("API.md StreamSocket close: the EBADF message reads like Python's", async () => {
  const s = socket();
  s.close();
  await assert.rejects(
    s.recv(1),
    (e) => (e as Error).message.startsWith("[Errno 9] Bad file descriptor"),
  );
});

Deno.test("API.md StreamSocket close: fileno() then returns -1", () => {
  const s = socket();
  assert.ok(s.fileno() > 0);
  s.close();
  assert.equal(s.fileno(), -1);
});

Deno.test("API.md StreamSocket close: pending calls settle (reject with OSError), none hangs", async () => {
  await using p = await pair();
  const recv = p.conn.recv(10);
  const [l] = listener();
  const accept = l.accept();
  await sleep(10);
  p.conn.close();
  l.close();
  await assert.rejects(recv, (e) => e instanceof OSError);
  await assert.rejects(accept, (e) => e instanceof OSError);
});

Deno.test("API.md StreamSocket fileno: a positive number unique among open sockets, -1 once closed", async () => {
  await using p = await pair();
  using d = socket(AF_INET, SOCK_DGRAM);
  const fds = [p.server, p.client, p.conn, d].map((s) => s.fileno());
  for (const fd of fds) assert.ok(Number.isInteger(fd) && fd > 0);
  assert.equal(new Set(fds).size, fds.length);
});

Deno.test("API.md StreamSocket fileno: the docs say it is not an OS fd", async () => {
  const src = await Deno.readTextFile(new URL("_base.ts", ROOT));
  const doc = src.slice(0, src.indexOf("fileno(): number"));
  const jsdoc = doc.slice(doc.lastIndexOf("/**"));
  assert.match(jsdoc, /not an? (OS|operating[- ]system)|no OS (file )?descriptor/i);
});

Deno.test("API.md StreamSocket getpeername: ENOTCONN when not connected", () => {
  using s = socket();
  assert.throws(
    () => s.getpeername(),
    (e) => isErr(e, errno.ENOTCONN) && /^\[Errno 107\] /.test((e as Error).message),
  );
  const [l] = listener();
  using _l = l;
  assert.throws(() => l.getpeername(), (e) => isErr(e, errno.ENOTCONN));
});

Deno.test("API.md StreamSocket settimeout: null blocks forever, 0 is non-blocking, >0 seconds (gettimeout, getblocking)", () => {
  using s = socket();
  assert.equal(s.gettimeout(), null);
  assert.equal(s.getblocking(), true);
  s.settimeout(0);
  assert.equal(s.gettimeout(), 0);
  assert.equal(s.getblocking(), false);
  s.settimeout(1.5);
  assert.equal(s.gettimeout(), 1.5);
  assert.equal(s.getblocking(), true);
  s.settimeout(null);
  assert.equal(s.gettimeout(), null);
});

Deno.test("API.md StreamSocket settimeout: a negative timeout is rejected (Python: ValueError → RangeError)", () => {
  using s = socket();
  assert.throws(() => s.settimeout(-1), RangeError);
});

Deno.test("API.md StreamSocket settimeout: a timed-out call rejects with TimeoutError('timed out', errno null)", async () => {
  await using p = await pair();
  p.conn.settimeout(0.05);
  await assert.rejects(p.conn.recv(10), (e) => {
    assert.ok(e instanceof TimeoutError);
    assert.ok(e instanceof OSError);
    assert.equal((e as OSError).errno, null);
    assert.equal((e as Error).message, "timed out");
    return true;
  });
});

Deno.test("API.md StreamSocket settimeout: loses no data — bytes that arrive after the timeout come with the next recv", async () => {
  await using p = await pair();
  p.conn.settimeout(0.05);
  await assert.rejects(p.conn.recv(100), TimeoutError);
  await p.client.sendall(MSG);
  p.conn.settimeout(null);
  assert.deepEqual(await framing.recvExactly(p.conn, MSG.length), MSG);
});

Deno.test("API.md StreamSocket settimeout: a timed-out accept loses no connection", async () => {
  const [l, addr] = listener();
  using _l = l;
  l.settimeout(0.05);
  await assert.rejects(l.accept(), TimeoutError);
  using c = socket();
  await c.connect(addr);
  l.settimeout(1);
  const [conn, peer] = await l.accept();
  using _conn = conn;
  assert.deepEqual(peer, c.getsockname());
});

Deno.test("API.md StreamSocket setblocking(false) ≡ settimeout(0)", () => {
  using s = socket();
  s.setblocking(false);
  assert.equal(s.gettimeout(), 0);
  assert.equal(s.getblocking(), false);
  s.setblocking(true);
  assert.equal(s.gettimeout(), null);
  assert.equal(s.getblocking(), true);
});

Deno.test("API.md StreamSocket setblocking(false): recv rejects at once with BlockingIOError (EAGAIN) when nothing is ready", async () => {
  await using p = await pair();
  p.conn.setblocking(false);
  await assert.rejects(p.conn.recv(10), (e) => {
    assert.ok(isErr(e, errno.EAGAIN, BlockingIOError));
    assert.match((e as Error).message, /^\[Errno 11\] Resource temporarily unavailable/);
    return true;
  });
});

Deno.test("API.md StreamSocket setblocking(false): accept rejects at once with BlockingIOError (EAGAIN) when nothing is ready", async () => {
  const [l] = listener();
  using _l = l;
  l.setblocking(false);
  await assert.rejects(l.accept(), (e) => isErr(e, errno.EAGAIN, BlockingIOError));
});

Deno.test("API.md StreamSocket setblocking(false): returns what is ready otherwise", async () => {
  await using p = await pair();
  await p.client.sendall("ready");
  p.conn.setblocking(false);
  let got = "";
  for (let i = 0; i < 200 && got.length < 5; i++) {
    try {
      got += text(await p.conn.recv(10));
    } catch (e) {
      assert.ok(e instanceof BlockingIOError);
      await sleep(5);
    }
  }
  assert.equal(got, "ready");
});

Deno.test("API.md StreamSocket setsockopt: TCP_NODELAY set and read back", async () => {
  await using p = await pair();
  p.client.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  assert.notEqual(p.client.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
  p.client.setsockopt(IPPROTO_TCP, TCP_NODELAY, 0);
  assert.equal(p.client.getsockopt(IPPROTO_TCP, TCP_NODELAY), 0);
});

Deno.test("API.md StreamSocket setsockopt: SO_KEEPALIVE set and read back", async () => {
  await using p = await pair();
  p.client.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
  assert.notEqual(p.client.getsockopt(SOL_SOCKET, SO_KEEPALIVE), 0);
  p.client.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 0);
  assert.equal(p.client.getsockopt(SOL_SOCKET, SO_KEEPALIVE), 0);
});

Deno.test("API.md StreamSocket setsockopt: SO_REUSEADDR 1 is accepted (listeners always reuse), 0 is refused", () => {
  using s = socket();
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  s.bind(LO);
  s.listen();
  assert.notEqual(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  using t = socket();
  assert.throws(() => t.setsockopt(SOL_SOCKET, SO_REUSEADDR, 0), (e) => {
    assert.ok(e instanceof OSError, String(e));
    assert.equal((e as OSError).errno, errno.ENOPROTOOPT);
    assert.match((e as Error).message, /SO_REUSEADDR/);
    return true;
  });
});

Deno.test("API.md StreamSocket setsockopt: SO_REUSEPORT before bind lets two sockets bind one port", () => {
  using a = socket();
  a.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  a.bind(LO);
  a.listen();
  using b = socket();
  b.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  b.bind(a.getsockname());
  b.listen();
  assert.deepEqual(b.getsockname(), a.getsockname());
  assert.notEqual(a.getsockopt(SOL_SOCKET, SO_REUSEPORT), 0);
});

Deno.test("API.md StreamSocket getsockopt: SO_TYPE is SOCK_STREAM, SO_ERROR is 0", async () => {
  await using p = await pair();
  assert.equal(p.client.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  assert.equal(p.client.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  using s = socket();
  assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
});

for (const [name, opt] of [["SO_RCVBUF", SO_RCVBUF], ["SO_SNDBUF", SO_SNDBUF]] as const) {
  Deno.test(`API.md StreamSocket setsockopt: ${name} Deno cannot honour → OSError ENOPROTOOPT naming the option, never a silent no-op`, async () => {
    await using p = await pair();
    for (const s of [p.client, socket()]) {
      assert.throws(() => s.setsockopt(SOL_SOCKET, opt, 65536), (e) => {
        assert.ok(isErr(e, errno.ENOPROTOOPT), String(e));
        assert.match((e as Error).message, /^\[Errno 92\] /);
        assert.match((e as Error).message, new RegExp(name));
        return true;
      });
      if (s !== p.client) s.close();
    }
  });
}

Deno.test("API.md StreamSocket setsockopt: an unknown option is ENOPROTOOPT too", () => {
  using s = socket();
  assert.throws(() => s.setsockopt(SOL_SOCKET, 999, 1), (e) => isErr(e, errno.ENOPROTOOPT));
});

Deno.test("API.md StreamSocket makefile: read(n), readline(limit), write, flush, close (binary)", async () => {
  await using p = await pair();
  const w = p.client.makefile("wb");
  const r = p.conn.makefile("rb");
  assert.equal(await w.write(bytes("line one\nline two\nrest")), 22);
  await w.flush();
  await w.close();
  p.client.shutdown(SHUT_WR);
  assert.equal(text(await r.readline()), "line one\n");
  assert.equal(text(await r.readline(4)), "line");
  assert.equal(text(await r.read(5)), " two\n");
  assert.equal(text(await r.read()), "rest");
  assert.equal((await r.read()).length, 0);
  await r.close();
});

Deno.test("API.md StreamSocket makefile: text mode and async iteration over lines", async () => {
  await using p = await pair();
  const w = p.client.makefile("w");
  await w.write("a\nb\nc");
  await w.flush();
  await w.close();
  p.client.shutdown(SHUT_WR);
  const r = p.conn.makefile("r");
  const lines: string[] = [];
  for await (const line of r) lines.push(line);
  assert.deepEqual(lines, ["a\n", "b\n", "c"]);
  await r.close();
});

Deno.test("API.md StreamSocket makefile: shares the socket's read buffer — nothing read ahead is lost", async () => {
  await using p = await pair();
  await p.client.sendall("first\nsecond part");
  const r = p.conn.makefile("rb");
  assert.equal(text(await r.readline()), "first\n");
  // Whatever the file read ahead, recv sees next.
  assert.equal(text(await framing.recvExactly(p.conn, 6)), "second");
  await p.client.sendall("\n");
  assert.equal(text(await r.readline()), " part\n");
  await r.close();
});

Deno.test("API.md StreamSocket makefile: closing the file leaves the socket open (as Python)", async () => {
  await using p = await pair();
  const f = p.conn.makefile("rwb");
  await f.close();
  await p.client.sendall("x");
  assert.equal(text(await p.conn.recv(1)), "x");
});

Deno.test("API.md StreamSocket sendfile: streams a Deno.FsFile; resolves to bytes sent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/data.bin`;
    const data = new Uint8Array(100_000).map((_, i) => i % 251);
    await Deno.writeFile(path, data);
    await using p = await pair();
    using file = await Deno.open(path);
    const reading = framing.recvExactly(p.conn, data.length);
    assert.equal(await p.client.sendfile(file), data.length);
    assert.deepEqual(await reading, data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("API.md StreamSocket sendfile: a path, with offset and count", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/data.txt`;
    await Deno.writeTextFile(path, "0123456789");
    await using p = await pair();
    assert.equal(await p.client.sendfile(path, 2, 5), 5);
    assert.equal(text(await framing.recvExactly(p.conn, 5)), "23456");
    assert.equal(await p.client.sendfile(path, 7), 3);
    assert.equal(text(await framing.recvExactly(p.conn, 3)), "789");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("API.md StreamSocket readable/writable: Web Streams for pipeTo/pipeThrough", async () => {
  await using p = await pair();
  const writing = (async () => {
    await ReadableStream.from([bytes("web "), bytes("streams")]).pipeTo(p.client.writable, {
      preventClose: true,
    });
    p.client.shutdown(SHUT_WR);
  })();
  let got = "";
  for await (const chunk of p.conn.readable.pipeThrough(new TextDecoderStream())) got += chunk;
  await writing;
  assert.equal(got, "web streams");
});

Deno.test("API.md StreamSocket readable: bytes already buffered come first", async () => {
  await using p = await pair();
  await p.client.sendall("head\nbody");
  p.client.shutdown(SHUT_WR);
  assert.equal(text(await framing.recvLine(p.conn)), "head\n"); // may read ahead "body"
  assert.equal(await new Response(p.conn.readable).text(), "body");
});

Deno.test("API.md StreamSocket readable: reading to EOF leaves the write side open", async () => {
  await using p = await pair();
  p.client.shutdown(SHUT_WR);
  assert.equal((await new Response(p.conn.readable).arrayBuffer()).byteLength, 0);
  await p.conn.sendall("still open");
  assert.equal(text(await framing.recvExactly(p.client, 10)), "still open");
  const w = p.conn.writable.getWriter();
  await w.write(bytes("!"));
  w.releaseLock();
  assert.equal(text(await p.client.recv(1)), "!");
});

// ---------------------------------------------------------------------------
// DatagramSocket

Deno.test("API.md DatagramSocket bind: binds now; port in use: EADDRINUSE", () => {
  const [a, addr] = udp();
  using _a = a;
  assert.ok(addr[1] > 0);
  using b = socket(AF_INET, SOCK_DGRAM);
  assert.throws(() => b.bind(addr), (e) => isErr(e, errno.EADDRINUSE));
});

Deno.test("API.md DatagramSocket bind: a second bind is EINVAL (as Python)", () => {
  const [a] = udp();
  using _a = a;
  assert.throws(() => a.bind(LO), (e) => isErr(e, errno.EINVAL));
});

Deno.test("API.md DatagramSocket sendto: binds to an ephemeral port first if unbound; resolves to bytes sent", async () => {
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.deepEqual(s.getsockname(), ["0.0.0.0", 0]);
  assert.equal(await s.sendto(MSG, addr), MSG.length);
  const [, port] = s.getsockname() as [string, number];
  assert.ok(port > 0);
  const [data, from] = await r.recvfrom(1024);
  assert.deepEqual(data, MSG);
  assert.equal((from as [string, number])[1], port);
});

Deno.test("API.md DatagramSocket sendto: > 65507 bytes over IPv4 is OSError EMSGSIZE; 65507 goes", async () => {
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  await assert.rejects(
    s.sendto(new Uint8Array(65508), addr),
    (e) => isErr(e, errno.EMSGSIZE) && /^\[Errno 90\] Message too long/.test((e as Error).message),
  );
  assert.equal(await s.sendto(new Uint8Array(65507), addr), 65507);
  const [data] = await r.recvfrom(70000);
  assert.equal(data.length, 65507);
});

Deno.test("API.md DatagramSocket recvfrom: Promise<[Uint8Array, Address]>", async () => {
  const [r, addr] = udp();
  using _r = r;
  const [s, saddr] = udp();
  using _s = s;
  await s.sendto("hi", addr);
  const got = r.recvfrom(10);
  assert.ok(got instanceof Promise);
  const [data, from] = await got;
  assert.ok(data instanceof Uint8Array);
  assert.equal(text(data), "hi");
  assert.deepEqual(from, saddr);
});

Deno.test("API.md DatagramSocket recvfrom: a datagram longer than bufsize is cut to bufsize and the rest dropped", async () => {
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  await s.sendto("0123456789", addr);
  await s.sendto("next", addr);
  const [cut] = await r.recvfrom(4);
  assert.equal(text(cut), "0123");
  const [next] = await r.recvfrom(100);
  assert.equal(text(next), "next");
});

Deno.test("API.md DatagramSocket recvfrom: timeouts lose no datagram", async () => {
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  r.settimeout(0.05);
  await assert.rejects(
    r.recvfrom(100),
    (e) => e instanceof TimeoutError && (e as Error).message === "timed out",
  );
  await s.sendto("late", addr);
  r.settimeout(1);
  const [data] = await r.recvfrom(100);
  assert.equal(text(data), "late");
});

Deno.test("API.md DatagramSocket setblocking(false): recvfrom rejects with BlockingIOError EAGAIN when nothing is there", async () => {
  const [r] = udp();
  using _r = r;
  r.setblocking(false);
  await assert.rejects(r.recvfrom(10), (e) => isErr(e, errno.EAGAIN, BlockingIOError));
});

Deno.test("API.md DatagramSocket recvfromInto: Promise<[number, Address]>", async () => {
  const [r, addr] = udp();
  using _r = r;
  const [s, saddr] = udp();
  using _s = s;
  await s.sendto("hello", addr);
  const buf = new Uint8Array(16);
  const [n, from] = await r.recvfromInto(buf);
  assert.equal(n, 5);
  assert.equal(text(buf.subarray(0, 5)), "hello");
  assert.deepEqual(from, saddr);
  await s.sendto("hello", addr);
  const [m] = await r.recvfromInto(buf, 2);
  assert.equal(m, 2);
});

Deno.test("API.md DatagramSocket connect: sets the default peer — send/recv then work", async () => {
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  await s.connect(addr);
  assert.deepEqual(s.getpeername(), addr);
  assert.equal(await s.send("via send"), 8);
  const [data, from] = await r.recvfrom(100);
  assert.equal(text(data), "via send");
  await r.sendto("reply", from);
  assert.equal(text(await s.recv(100)), "reply");
});

Deno.test("API.md DatagramSocket connect: datagrams from other peers are not delivered", async () => {
  const [r, raddr] = udp();
  using _r = r;
  const [peer, paddr] = udp();
  using _peer = peer;
  const [other] = udp();
  using _other = other;
  await r.connect(paddr);
  await other.sendto("intruder", raddr);
  await peer.sendto("friend", raddr);
  const [data, from] = await r.recvfrom(100);
  assert.equal(text(data), "friend");
  assert.deepEqual(from, paddr);
  r.setblocking(false);
  await assert.rejects(r.recvfrom(100), BlockingIOError);
});

Deno.test("API.md DatagramSocket getpeername: ENOTCONN when not connected (as Python)", () => {
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.throws(() => s.getpeername(), (e) => isErr(e, errno.ENOTCONN));
});

Deno.test("API.md DatagramSocket setsockopt: SO_REUSEADDR before bind lets two sockets share a port", () => {
  using a = socket(AF_INET, SOCK_DGRAM);
  a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  a.bind(LO);
  using b = socket(AF_INET, SOCK_DGRAM);
  b.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  b.bind(a.getsockname());
  assert.deepEqual(b.getsockname(), a.getsockname());
});

Deno.test("API.md DatagramSocket setsockopt: SO_BROADCAST is accepted (and read back) where Deno allows it", () => {
  using s = socket(AF_INET, SOCK_DGRAM);
  s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
  assert.notEqual(s.getsockopt(SOL_SOCKET, SO_BROADCAST), 0);
});

Deno.test("API.md DatagramSocket setsockopt: IP_MULTICAST_LOOP is accepted", () => {
  using s = socket(AF_INET, SOCK_DGRAM);
  s.setsockopt(mod.IPPROTO_IP, mod.IP_MULTICAST_LOOP, 1);
});

Deno.test("API.md DatagramSocket setsockopt: otherwise ENOPROTOOPT (SO_RCVBUF), never a silent no-op", () => {
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.throws(() => s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536), (e) => {
    assert.ok(isErr(e, errno.ENOPROTOOPT));
    assert.match((e as Error).message, /SO_RCVBUF/);
    return true;
  });
  assert.throws(
    () => s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1),
    (e) => isErr(e, errno.ENOPROTOOPT),
  );
});

Deno.test("API.md DatagramSocket getsockopt: SO_TYPE is SOCK_DGRAM", () => {
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
});

Deno.test("API.md DatagramSocket close: later I/O fails with EBADF, fileno -1, a pending recvfrom settles", async () => {
  const [r] = udp();
  const pending = r.recvfrom(10);
  await sleep(5);
  r.close();
  r.close();
  await assert.rejects(pending, (e) => e instanceof OSError);
  assert.equal(r.fileno(), -1);
  await fails(() => r.recvfrom(10), (e) => isErr(e, errno.EBADF));
  await fails(() => r.sendto("x", LO), (e) => isErr(e, errno.EBADF));
});

Deno.test("API.md DatagramSocket Unix datagram: a path address, sendto and recvfrom", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using r = socket(AF_UNIX, SOCK_DGRAM);
    r.bind(`${dir}/r.sock`);
    using s = socket(AF_UNIX, SOCK_DGRAM);
    s.bind(`${dir}/s.sock`);
    assert.equal(await s.sendto("unix", `${dir}/r.sock`), 4);
    const [data, from] = await r.recvfrom(100);
    assert.equal(text(data), "unix");
    assert.equal(from, `${dir}/s.sock`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("API.md DatagramSocket: where Deno.listenDatagram is absent (no --unstable-net), the error says so, naming the flag", async () => {
  const r = await runScript(
    `import { socket, SOCK_DGRAM, AF_INET } from ${JSON.stringify(MOD)};
try { const s = socket(AF_INET, SOCK_DGRAM); s.bind(["127.0.0.1", 0]); s.close(); console.log("bound"); }
catch (e) { console.log(e.constructor.name + " " + e.errno + ": " + e.message); }`,
    ["--allow-net=127.0.0.1", "--no-config"],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^OSError \d+: .*Deno\.listenDatagram.*--unstable-net/);
});

// ---------------------------------------------------------------------------
// Flags and messages

Deno.test("API.md Flags: MSG_PEEK is served from the read buffer, nothing consumed (stream)", async () => {
  await using p = await pair();
  await p.client.sendall("peekaboo");
  let peeked: Uint8Array = new Uint8Array();
  for (let i = 0; i < 100 && peeked.length < 8; i++) {
    peeked = await p.conn.recv(8, MSG_PEEK);
    if (peeked.length < 8) await sleep(5);
  }
  assert.equal(text(peeked), "peekaboo");
  assert.equal(text(await p.conn.recv(4, MSG_PEEK)), "peek");
  assert.equal(text(await framing.recvExactly(p.conn, 8)), "peekaboo");
});

Deno.test("API.md Flags: MSG_PEEK on a datagram socket leaves the datagram queued", async () => {
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  await s.sendto("dgram", addr);
  const [peek, from] = await r.recvfrom(100, MSG_PEEK);
  assert.equal(text(peek), "dgram");
  const [data, from2] = await r.recvfrom(100);
  assert.equal(text(data), "dgram");
  assert.deepEqual(from, from2);
});

Deno.test("API.md Flags: MSG_WAITALL waits for the whole bufsize", async () => {
  await using p = await pair();
  const got = p.conn.recv(10, MSG_WAITALL);
  await p.client.sendall("01234");
  await sleep(20);
  await p.client.sendall("56789");
  assert.equal(text(await got), "0123456789");
});

Deno.test("API.md Flags: MSG_WAITALL returns what came at end of stream", async () => {
  await using p = await pair();
  await p.client.sendall("abc");
  p.client.shutdown(SHUT_WR);
  assert.equal(text(await p.conn.recv(10, MSG_WAITALL)), "abc");
});

Deno.test("API.md Flags: MSG_DONTWAIT is non-blocking for this call only (BlockingIOError EAGAIN)", async () => {
  await using p = await pair();
  await assert.rejects(
    p.conn.recv(10, MSG_DONTWAIT),
    (e) => isErr(e, errno.EAGAIN, BlockingIOError),
  );
  assert.equal(p.conn.gettimeout(), null);
  const later = p.conn.recv(10);
  await p.client.sendall("ok");
  assert.equal(text(await later), "ok");
  const [r] = udp();
  using _r = r;
  await assert.rejects(
    r.recvfrom(10, MSG_DONTWAIT),
    (e) => isErr(e, errno.EAGAIN, BlockingIOError),
  );
});

Deno.test("API.md Flags: MSG_TRUNC is accepted on datagram receives", async () => {
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  await s.sendto("0123456789", addr);
  const [data] = await r.recvfrom(4, MSG_TRUNC);
  assert.ok(data instanceof Uint8Array);
  assert.equal(text(data.subarray(0, 4)), "0123");
});

Deno.test("API.md Flags: any other flag (MSG_OOB) is OSError EOPNOTSUPP naming it", async () => {
  await using p = await pair();
  const named = (e: unknown) => isErr(e, errno.EOPNOTSUPP) && /MSG_OOB/.test((e as Error).message);
  await fails(() => p.conn.recv(10, MSG_OOB), named);
  await fails(() => p.conn.recvInto(new Uint8Array(4), 0, MSG_OOB), named);
  await fails(() => p.client.send("x", MSG_OOB), named);
  await fails(() => p.client.sendall("x", MSG_OOB), named);
  const [r, addr] = udp();
  using _r = r;
  await fails(() => r.recvfrom(10, MSG_OOB), named);
  await fails(() => r.recvfromInto(new Uint8Array(4), 0, MSG_OOB), named);
  await fails(() => r.sendto("x", MSG_OOB, addr), named);
});

Deno.test("API.md Flags: send/sendall/sendto take Python's flags argument (0 and MSG_DONTWAIT)", async () => {
  await using p = await pair();
  assert.equal(await p.client.send("a", 0), 1);
  await p.client.sendall("b", MSG_DONTWAIT);
  assert.equal(text(await framing.recvExactly(p.conn, 2)), "ab");
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.equal(await s.sendto("c", 0, addr), 1);
  assert.equal(text((await r.recvfrom(10))[0]), "c");
});

Deno.test("API.md Flags: recvmsg → [data, ancdata, msgFlags, address], ancdata always []", async () => {
  await using p = await pair();
  await p.client.sendall("msg");
  const [data, anc, flags, address] = await p.conn.recvmsg(10);
  assert.equal(text(data), "msg");
  assert.deepEqual(anc, []);
  assert.equal(flags, 0);
  assert.equal(address, null); // Python's on a connected stream
});

Deno.test("API.md Flags: recvmsg sets MSG_TRUNC in msgFlags for a cut datagram", async () => {
  const [r, addr] = udp();
  using _r = r;
  const [s, saddr] = udp();
  using _s = s;
  await s.sendto("0123456789", addr);
  await s.sendto("ok", addr);
  const [data, anc, flags, from] = await r.recvmsg(4);
  assert.equal(text(data), "0123");
  assert.deepEqual(anc, []);
  assert.equal(flags & MSG_TRUNC, MSG_TRUNC);
  assert.deepEqual(from, saddr);
  const [data2, , flags2] = await r.recvmsg(100);
  assert.equal(text(data2), "ok");
  assert.equal(flags2 & MSG_TRUNC, 0);
});

Deno.test("API.md Flags: sendmsg(buffers, ancdata?, flags?, address?) on a stream and a datagram socket", async () => {
  await using p = await pair();
  assert.equal(await p.client.sendmsg([bytes("ab"), bytes("cd")]), 4);
  assert.equal(text(await framing.recvExactly(p.conn, 4)), "abcd");
  const [r, addr] = udp();
  using _r = r;
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.equal(await s.sendmsg([bytes("one"), bytes("two")], [], 0, addr), 6);
  assert.equal(text((await r.recvfrom(100))[0]), "onetwo");
});

Deno.test("API.md Flags: String(sock) gives Python's repr, with laddr", () => {
  using s = socket();
  s.bind(LO);
  const [, port] = s.getsockname() as [string, number];
  assert.equal(
    String(s),
    `<socket.socket fd=${s.fileno()}, family=2, type=1, proto=0, laddr=('127.0.0.1', ${port})>`,
  );
});

Deno.test("API.md Flags: Deno.inspect(sock) gives the same repr", () => {
  using s = socket();
  s.bind(LO);
  assert.equal(Deno.inspect(s), String(s));
  using d = socket(AF_INET, SOCK_DGRAM);
  assert.equal(Deno.inspect(d), String(d));
});

Deno.test("API.md Flags: repr matches CPython's for an unbound, a connected, a datagram and a closed socket", async () => {
  await using p = await pair();
  const [laddr, raddr] = [p.client.getsockname(), p.client.getpeername()] as [string, number][];
  const fd = p.client.fileno();
  assert.equal(
    String(p.client),
    `<socket.socket fd=${fd}, family=2, type=1, proto=0, laddr=('${laddr[0]}', ${
      laddr[1]
    }), raddr=('${raddr[0]}', ${raddr[1]})>`,
  );
  using u = socket();
  assert.equal(
    String(u),
    `<socket.socket fd=${u.fileno()}, family=2, type=1, proto=0, laddr=('0.0.0.0', 0)>`,
  );
  const [d, daddr] = udp();
  assert.equal(
    String(d),
    `<socket.socket fd=${d.fileno()}, family=2, type=2, proto=0, laddr=('127.0.0.1', ${daddr[1]})>`,
  );
  d.close();
  assert.equal(String(d), "<socket.socket [closed] fd=-1, family=2, type=2, proto=0>");
});

// ---------------------------------------------------------------------------
// Module functions

Deno.test("API.md Module functions: inet_aton / inet_ntoa with Python's results", () => {
  assert.deepEqual(mod.inet_aton("127.0.0.1"), new Uint8Array([127, 0, 0, 1]));
  assert.equal(mod.inet_ntoa(new Uint8Array([127, 0, 0, 1])), "127.0.0.1");
});

Deno.test("API.md Module functions: inet_aton / inet_ntoa with Python's errors", () => {
  assert.throws(
    () => mod.inet_aton("x"),
    (e) =>
      e instanceof OSError &&
      (e as Error).message === "illegal IP address string passed to inet_aton",
  );
  assert.throws(
    () => mod.inet_ntoa(new Uint8Array([127, 0, 0])),
    (e) =>
      e instanceof OSError && /packed IP wrong length for inet_ntoa/.test((e as Error).message),
  );
});

Deno.test("API.md Module functions: inet_pton / inet_ntop with Python's results", () => {
  const one = new Uint8Array(16);
  one[15] = 1;
  assert.deepEqual(mod.inet_pton(AF_INET6, "::1"), one);
  assert.equal(mod.inet_ntop(AF_INET6, one), "::1");
  assert.deepEqual(mod.inet_pton(AF_INET, "10.0.0.1"), new Uint8Array([10, 0, 0, 1]));
  assert.equal(mod.inet_ntop(AF_INET, new Uint8Array([10, 0, 0, 1])), "10.0.0.1");
});

Deno.test("API.md Module functions: inet_pton with Python's error", () => {
  assert.throws(
    () => mod.inet_pton(AF_INET, "1.2.3"),
    (e) =>
      e instanceof OSError &&
      (e as Error).message === "illegal IP address string passed to inet_pton",
  );
});

Deno.test("API.md Module functions: htons, ntohs, htonl, ntohl with Python's results", () => {
  assert.equal(mod.htons(1), 256);
  assert.equal(mod.ntohs(256), 1);
  assert.equal(mod.htonl(1), 16777216);
  assert.equal(mod.ntohl(16777216), 1);
  assert.equal(mod.htonl(0x12345678), 0x78563412);
});

Deno.test("API.md Module functions: htons out of range is Python's OverflowError (RangeError)", () => {
  assert.throws(() => mod.htons(65536), RangeError);
  assert.throws(() => mod.htons(-1), RangeError);
});

Deno.test("API.md Module functions: getnameinfo with Python's results", async () => {
  assert.deepEqual(
    await mod.getnameinfo(["127.0.0.1", 80], mod.NI_NUMERICHOST | mod.NI_NUMERICSERV),
    ["127.0.0.1", "80"],
  );
});

Deno.test("API.md Module functions: gethostbyaddr('127.0.0.1') with Python's result (from /etc/hosts)", async () => {
  await using py = python(
    `import socket, json; print(json.dumps(socket.gethostbyaddr("127.0.0.1")))`,
  );
  const theirs = JSON.parse(await py.output());
  assert.deepEqual(await mod.gethostbyaddr("127.0.0.1"), theirs);
});

Deno.test("API.md Module functions: gethostbyname_ex is camelCase gethostbynameEx, Python's result", async () => {
  assert.equal((mod as Record<string, unknown>).gethostbyname_ex, undefined);
  assert.deepEqual(await mod.gethostbynameEx("localhost"), ["localhost", [], ["127.0.0.1"]]);
});

Deno.test("API.md Module functions: getservbyname / getservbyport with Python's results", () => {
  assert.equal(mod.getservbyname("http", "tcp"), 80);
  assert.equal(mod.getservbyname("http"), 80);
  assert.equal(mod.getservbyport(80), "http");
  assert.equal(mod.getservbyport(53, "udp"), "domain");
});

Deno.test("API.md Module functions: getservbyname / getservbyport with Python's errors", () => {
  assert.throws(
    () => mod.getservbyname("nosuchservice"),
    (e) => e instanceof OSError && (e as Error).message === "service/proto not found",
  );
  assert.throws(() => mod.getservbyport(70000), RangeError);
});

Deno.test("API.md Module functions: getfqdn('localhost') with Python's result", async () => {
  assert.equal(await mod.getfqdn("localhost"), "localhost");
});

Deno.test("API.md Module functions: getaddrinfo(host, port, family?, type?) — the system resolver, localhost offline", async () => {
  const infos = await getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM);
  assert.deepEqual(infos, [[AF_INET, SOCK_STREAM, 6, "", ["127.0.0.1", 80]]]);
  const numeric = await getaddrinfo("127.0.0.1", "http", AF_INET, SOCK_STREAM);
  assert.deepEqual(numeric, [[AF_INET, SOCK_STREAM, 6, "", ["127.0.0.1", 80]]]);
});

Deno.test("API.md Module functions: getaddrinfo without family/type gives every kind, as Python", async () => {
  await using py = python(
    `import socket, json; print(json.dumps(sorted([list(i[:4]) + [list(i[4])] for i in socket.getaddrinfo("127.0.0.1", 80)])))`,
  );
  const theirs = JSON.parse(await py.output());
  const ours = (await getaddrinfo("127.0.0.1", 80)).map((
    i,
  ) => [...i.slice(0, 4), [...(i[4] as unknown[])]]);
  ours.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
  assert.deepEqual(ours, theirs);
});

Deno.test("API.md Module functions: gethostbyname(host)", async () => {
  assert.equal(await gethostbyname("localhost"), "127.0.0.1");
  assert.equal(await gethostbyname("127.0.0.1"), "127.0.0.1");
});

Deno.test("API.md Module functions: gethostname() is Python's", async () => {
  await using py = python(`import socket; print(socket.gethostname())`);
  assert.equal(gethostname(), (await py.output()).trim());
});

Deno.test("API.md Module functions: getdefaulttimeout()/setdefaulttimeout(s), applied to new sockets", () => {
  assert.equal(getdefaulttimeout(), null);
  setdefaulttimeout(0.5);
  try {
    assert.equal(getdefaulttimeout(), 0.5);
    using s = socket();
    assert.equal(s.gettimeout(), 0.5);
    using d = socket(AF_INET, SOCK_DGRAM);
    assert.equal(d.gettimeout(), 0.5);
  } finally {
    setdefaulttimeout(null);
  }
  assert.equal(getdefaulttimeout(), null);
  assert.throws(() => setdefaulttimeout(-1), RangeError);
});

Deno.test("API.md Module functions: hasDualstackIpv6() is a boolean like Python's", async () => {
  await using py = python(`import socket; print(socket.has_dualstack_ipv6())`);
  assert.equal(
    String(hasDualstackIpv6()) === "true" ? "True" : "False",
    (await py.output()).trim(),
  );
});

Deno.test("API.md Module functions: createConnection(address) connects; {timeout} sets the socket's timeout", async () => {
  const [l, addr] = listener();
  using _l = l;
  const accepting = l.accept();
  await using c = await createConnection(addr, { timeout: 2 });
  (await accepting)[0].close();
  assert.ok(c instanceof StreamSocket);
  assert.equal(c.gettimeout(), 2);
  assert.deepEqual(c.getpeername(), addr);
});

Deno.test("API.md Module functions: createConnection refused → ConnectionRefusedError", async () => {
  await assert.rejects(
    createConnection(["127.0.0.1", freePort()]),
    (e) => isErr(e, 111, ConnectionRefusedError),
  );
});

Deno.test("API.md Module functions: createConnection {timeout} over the timeout → TimeoutError", async () => {
  await using quiet = await (await import("./_helpers.ts")).silentListener();
  await assert.rejects(createConnection(quiet.addr, { timeout: 0.1 }), TimeoutError);
});

Deno.test("API.md Module functions: createConnection {sourceAddress} (Deno cannot choose it: EOPNOTSUPP, or honoured)", async () => {
  const [l, addr] = listener();
  using _l = l;
  const accepting = l.accept();
  try {
    await using c = await createConnection(addr, { sourceAddress: ["127.0.0.1", 0] });
    (await accepting)[0].close();
    assert.equal((c.getsockname() as [string, number])[0], "127.0.0.1");
  } catch (e) {
    assert.ok(isErr(e, errno.EOPNOTSUPP), String(e));
    using c = socket();
    await c.connect(addr);
    (await accepting)[0].close();
  }
});

Deno.test("API.md Module functions: createConnection {allErrors} rejects with an ExceptionGroup of every attempt", async () => {
  await assert.rejects(
    createConnection(["localhost", freePort()], { allErrors: true }),
    (e) => {
      assert.ok(e instanceof mod.ExceptionGroup || e instanceof AggregateError, String(e));
      const errors = (e as AggregateError).errors;
      assert.ok(errors.length >= 1);
      for (const err of errors) assert.ok(err instanceof ConnectionRefusedError, String(err));
      return true;
    },
  );
});

Deno.test("API.md Module functions: createConnection {signal} aborts the attempt", async () => {
  await using quiet = await (await import("./_helpers.ts")).silentListener();
  const ac = new AbortController();
  const connecting = createConnection(quiet.addr, { signal: ac.signal, timeout: 5 });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(connecting);
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(createConnection(quiet.addr, { signal: pre.signal }));
});

Deno.test("API.md Module functions: createServer(address, {backlog}) listens", async () => {
  using srv = createServer(LO, { backlog: 3 });
  assert.ok(srv instanceof StreamSocket);
  const addr = srv.getsockname() as [string, number];
  const accepting = srv.accept();
  await using _c = await createConnection(addr);
  const [conn] = await accepting;
  conn.close();
});

Deno.test("API.md Module functions: createServer {reusePort} lets two servers share a port", () => {
  using a = createServer(LO, { reusePort: true });
  using b = createServer(a.getsockname(), { reusePort: true });
  assert.deepEqual(b.getsockname(), a.getsockname());
});

Deno.test({
  name: "API.md Module functions: createServer {family: AF_INET6, dualstackIpv6} accepts IPv4 too",
  ignore: !HAS_IPV6 || !hasDualstackIpv6(),
  async fn() {
    using srv = createServer(["", 0], { family: AF_INET6, dualstackIpv6: true });
    assert.equal(srv.family, AF_INET6);
    const port = (srv.getsockname() as unknown[])[1] as number;
    const accepting = srv.accept();
    await using _c = await createConnection(["127.0.0.1", port]);
    const [conn] = await accepting;
    conn.close();
  },
});

Deno.test("API.md Module functions: createServer on a Unix path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using srv = createServer(`${dir}/s.sock`, { family: AF_UNIX });
    assert.equal(srv.family, AF_UNIX);
    assert.equal(srv.getsockname(), `${dir}/s.sock`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// Errors

const HIERARCHY: [string, unknown, unknown][] = [
  ["ConnectionError", ConnectionError, OSError],
  ["ConnectionRefusedError", ConnectionRefusedError, ConnectionError],
  ["ConnectionResetError", ConnectionResetError, ConnectionError],
  ["ConnectionAbortedError", ConnectionAbortedError, ConnectionError],
  ["BrokenPipeError", BrokenPipeError, ConnectionError],
  ["TimeoutError", TimeoutError, OSError],
  ["BlockingIOError", BlockingIOError, OSError],
  ["PermissionError", PermissionError, OSError],
  ["gaierror", gaierror, OSError],
  ["herror", herror, OSError],
];
for (const [name, cls, parent] of HIERARCHY) {
  Deno.test(`API.md Errors: ${name} is a subclass of ${(parent as { name: string }).name}; instanceof works`, () => {
    const C = cls as new () => Error;
    const e = new C();
    assert.ok(e instanceof (parent as new () => Error));
    assert.ok(e instanceof OSError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, name);
    assert.equal((errorsMod as Record<string, unknown>)[name], cls);
  });
}

const DEFAULT_ERRNO: [string, unknown, number][] = [
  ["ConnectionRefusedError", ConnectionRefusedError, 111],
  ["ConnectionResetError", ConnectionResetError, 104],
  ["ConnectionAbortedError", ConnectionAbortedError, 103],
  ["BrokenPipeError", BrokenPipeError, 32],
  ["BlockingIOError", BlockingIOError, 11],
];
for (const [name, cls, code] of DEFAULT_ERRNO) {
  Deno.test(`API.md Errors: new ${name}() carries errno ${code} and reads [Errno ${code}] …`, () => {
    const e = new (cls as new () => OSError)();
    assert.equal(e.errno, code);
    assert.match(e.message, new RegExp(`^\\[Errno ${code}\\] `));
  });
}

Deno.test("API.md Errors: OSError has errno, strerror; message [Errno 111] Connection refused", () => {
  const e = new OSError(111);
  assert.equal(e.errno, 111);
  assert.equal(e.strerror, "Connection refused");
  assert.equal(e.message, "[Errno 111] Connection refused");
  assert.equal(String(e).includes("[Errno 111] Connection refused"), true);
});

Deno.test("API.md Errors: OSError's `cause` holds Deno's original error", async () => {
  using s = socket();
  await assert.rejects(s.connect(["127.0.0.1", freePort()]), (e) => {
    assert.ok(e instanceof OSError);
    assert.ok(
      (e as Error).cause instanceof Deno.errors.ConnectionRefused,
      String((e as Error).cause),
    );
    return true;
  });
});

Deno.test("API.md Errors: a timeout's message is `timed out` and its errno is null, as in Python", () => {
  const e = new TimeoutError();
  assert.equal(e.message, "timed out");
  assert.equal(e.errno, null);
  assert.equal(mod.timeout, TimeoutError);
  assert.equal(mod.error, OSError);
});

Deno.test("API.md Errors: PermissionError for Deno's PermissionDenied/NotCapable, naming --allow-net=host:port", async () => {
  const port = freePort();
  const r = await runScript(
    `import { socket, PermissionError, OSError } from ${JSON.stringify(MOD)};
const s = socket();
try { await s.connect(["127.0.0.1", ${port}]); console.log("connected"); }
catch (e) { console.log(String(e instanceof PermissionError) + " " + String(e instanceof OSError) + " " + e.message); }
finally { s.close(); }`,
    ["--no-config"],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^true true /);
  assert.match(r.stdout, new RegExp(`--allow-net=127\\.0\\.0\\.1:${port}`));
});

Deno.test("API.md Errors: PermissionError on bind names the --allow-net flag too", async () => {
  const r = await runScript(
    `import { socket, PermissionError } from ${JSON.stringify(MOD)};
const s = socket();
try { s.bind(["127.0.0.1", 0]); s.listen(); console.log("bound"); }
catch (e) { console.log(String(e instanceof PermissionError) + " " + e.message); }
finally { s.close(); }`,
    ["--no-config"],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^true .*--allow-net=127\.0\.0\.1/);
});

Deno.test("API.md Errors: gaierror carries a negative EAI errno and Python's text", () => {
  const e = new gaierror(mod.EAI.EAI_NONAME);
  assert.equal(e.errno, -2);
  assert.equal(e.message, "[Errno -2] Name or service not known");
});

// ---------------------------------------------------------------------------
// framing.ts

const {
  sendMsg,
  recvMsg,
  recvMsgs,
  recvExactly,
  recvUntil,
  recvLine,
  encodeMessage,
  MessageDecoder,
} = framing;

Deno.test({
  name:
    "API.md framing.ts: the errors it names (MessageTooLargeError, IncompleteReadError, LimitOverrunError) are exported by ./framing",
  fn() {
    // A user of the "./framing" export alone can test `e instanceof MessageTooLargeError`.
    const f = framing as Record<string, unknown>;
    assert.equal(f.MessageTooLargeError, errorsMod.MessageTooLargeError);
    assert.equal(f.IncompleteReadError, errorsMod.IncompleteReadError);
    assert.equal(f.LimitOverrunError, errorsMod.LimitOverrunError);
  },
});

Deno.test("API.md framing: the errors are exported by mod.ts (MessageTooLargeError, IncompleteReadError, LimitOverrunError)", () => {
  const m = mod as Record<string, unknown>;
  for (const n of ["MessageTooLargeError", "IncompleteReadError", "LimitOverrunError"]) {
    assert.equal(typeof m[n], "function", n);
  }
});

Deno.test("API.md framing: two sendall calls can arrive as one recv; recvMsg gives messages back their edges", async () => {
  await using p = await pair();
  await sendMsg(p.client, "one");
  await sendMsg(p.client, "two");
  assert.equal(text((await recvMsg(p.conn))!), "one");
  assert.equal(text((await recvMsg(p.conn))!), "two");
});

Deno.test("API.md framing: the default header is 4 bytes unsigned big-endian — Python's struct.pack('>I', len) + payload", async () => {
  await using p = await pair();
  await sendMsg(p.client, MSG);
  const raw = await recvExactly(p.conn, 4 + MSG.length);
  await using py = python(
    `import struct, sys; m = "Michael Gilfix was here\\u1234\\r\\n".encode(); sys.stdout.write((struct.pack(">I", len(m)) + m).hex())`,
  );
  const hex = await py.output();
  assert.equal([...raw].map((b) => b.toString(16).padStart(2, "0")).join(""), hex);
  assert.deepEqual(encodeMessage(MSG), raw);
});

Deno.test("API.md framing: a Python peer interoperates (Python sends struct.pack('>I') frames, recvMsg reads them)", async () => {
  const [l, addr] = listener();
  using _l = l;
  await using py = python(
    `import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for m in [b"", b"hello", bytes(range(256)) * 10]:
    s.sendall(struct.pack(">I", len(m)) + m)
n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
data = s.recv(n, socket.MSG_WAITALL)
print(data.decode())
s.close()`,
    String(addr[1]),
  );
  const [conn] = await l.accept();
  using _conn = conn;
  assert.deepEqual(await recvMsg(conn), new Uint8Array());
  assert.equal(text((await recvMsg(conn))!), "hello");
  const big = (await recvMsg(conn))!;
  assert.equal(big.length, 2560);
  assert.equal(big[255], 255);
  await sendMsg(conn, "from deno");
  assert.equal((await py.output()).trim(), "from deno");
  assert.equal(await recvMsg(conn), null);
});

Deno.test("API.md framing: recvMsg resolves to null at a clean end of stream between messages", async () => {
  await using p = await pair();
  await sendMsg(p.client, "last");
  p.client.shutdown(SHUT_WR);
  assert.equal(text((await recvMsg(p.conn))!), "last");
  assert.equal(await recvMsg(p.conn), null);
});

Deno.test("API.md framing: recvMsgs is an async iterator of messages, ending at end of stream", async () => {
  await using p = await pair();
  const sent = ["a", "bb", "", "dddd"];
  for (const m of sent) await sendMsg(p.client, m);
  p.client.shutdown(SHUT_WR);
  const got: string[] = [];
  for await (const m of recvMsgs(p.conn)) got.push(text(m));
  assert.deepEqual(got, sent);
});

for (const header of [1, 2, 4, 8] as const) {
  for (const littleEndian of [false, true]) {
    Deno.test(`API.md framing: header: ${header}, littleEndian: ${littleEndian}`, async () => {
      await using p = await pair();
      const opts = { header, littleEndian };
      await sendMsg(p.client, "abc", opts);
      const raw = await recvExactly(p.conn, header + 3);
      const want = new Uint8Array(header + 3);
      want[littleEndian ? 0 : header - 1] = 3;
      want.set(bytes("abc"), header);
      assert.deepEqual(raw, want);
      assert.deepEqual(encodeMessage("abc", opts), want);
      await p.client.sendall(want);
      assert.equal(text((await recvMsg(p.conn, opts))!), "abc");
    });
  }
}

Deno.test("API.md framing: a header size other than 1 | 2 | 4 | 8 is rejected", async () => {
  await using p = await pair();
  await fails(
    () => sendMsg(p.client, "x", { header: 3 as never }),
    (e) => e instanceof RangeError || e instanceof TypeError,
  );
  assert.throws(
    () => encodeMessage("x", { header: 3 as never }),
    (e) => e instanceof RangeError || e instanceof TypeError,
  );
});

Deno.test("API.md framing: maxMessage defaults to 16 MiB", () => {
  assert.equal(framing.DEFAULT_MAX_MESSAGE, 16 * 1024 * 1024);
});

Deno.test("API.md framing: a header announcing more than maxMessage (default 16 MiB) rejects with MessageTooLargeError", async () => {
  await using p = await pair();
  await p.client.sendall(new Uint8Array([0x01, 0x00, 0x00, 0x01])); // 16 MiB + 1
  await assert.rejects(recvMsg(p.conn), (e) => e instanceof errorsMod.MessageTooLargeError);
});

Deno.test("API.md framing: MessageTooLargeError before any allocation — a 4 GiB header fails at once", async () => {
  await using p = await pair();
  await p.client.sendall(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  await assert.rejects(recvMsg(p.conn, { maxMessage: 100 }), (e) => {
    assert.ok(e instanceof errorsMod.MessageTooLargeError);
    assert.equal((e as errorsMod.MessageTooLargeError).size, 0xffffffff);
    assert.equal((e as errorsMod.MessageTooLargeError).maxMessage, 100);
    return true;
  });
  await using p2 = await pair();
  await p2.client.sendall(new Uint8Array([0, 0, 0, 11]));
  await assert.rejects(recvMsg(p2.conn, { maxMessage: 10 }), errorsMod.MessageTooLargeError);
});

Deno.test("API.md framing: MessageDecoder rejects an oversized header too", () => {
  const d = new MessageDecoder({ maxMessage: 10 });
  assert.throws(() => d.push(new Uint8Array([0, 0, 0, 11])), errorsMod.MessageTooLargeError);
});

Deno.test("API.md framing: sendMsg of a payload over maxMessage is a RangeError, nothing sent", async () => {
  await using p = await pair();
  await fails(
    () => sendMsg(p.client, "0123456789A", { maxMessage: 10 }),
    (e) => e instanceof RangeError,
  );
  await fails(
    () => sendMsg(p.client, new Uint8Array(256), { header: 1 }),
    (e) => e instanceof RangeError,
  );
  p.client.shutdown(SHUT_WR);
  assert.equal((await p.conn.recv(10)).length, 0);
});

Deno.test("API.md framing: end of stream inside a message rejects with IncompleteReadError carrying partial and expected", async () => {
  await using p = await pair();
  await p.client.sendall(new Uint8Array([0, 0, 0, 10, 0x61, 0x62, 0x63]));
  p.client.shutdown(SHUT_WR);
  await assert.rejects(recvMsg(p.conn), (e) => {
    assert.ok(e instanceof errorsMod.IncompleteReadError);
    assert.deepEqual((e as errorsMod.IncompleteReadError).partial, bytes("abc"));
    assert.equal((e as errorsMod.IncompleteReadError).expected, 10);
    return true;
  });
});

Deno.test("API.md framing: end of stream inside the header is an IncompleteReadError too", async () => {
  await using p = await pair();
  await p.client.sendall(new Uint8Array([0, 0]));
  p.client.shutdown(SHUT_WR);
  await assert.rejects(recvMsg(p.conn), (e) => {
    assert.ok(e instanceof errorsMod.IncompleteReadError);
    assert.equal((e as errorsMod.IncompleteReadError).partial.length, 2);
    return true;
  });
});

Deno.test("API.md framing: recvExactly(sock, n) — asyncio readexactly; IncompleteReadError at early EOF", async () => {
  await using p = await pair();
  await p.client.sendall("12");
  setTimeout(() => p.client.sendall("345").then(() => p.client.shutdown(SHUT_WR)), 10);
  assert.equal(text(await recvExactly(p.conn, 4)), "1234");
  await assert.rejects(recvExactly(p.conn, 3), (e) => {
    assert.ok(e instanceof errorsMod.IncompleteReadError);
    assert.deepEqual((e as errorsMod.IncompleteReadError).partial, bytes("5"));
    assert.equal((e as errorsMod.IncompleteReadError).expected, 3);
    return true;
  });
});

Deno.test("API.md framing: recvUntil(sock, delimiter) includes the delimiter (asyncio readuntil)", async () => {
  await using p = await pair();
  await p.client.sendall("HELO x\r\nrest");
  assert.equal(text(await recvUntil(p.conn, "\r\n")), "HELO x\r\n");
  assert.equal(text(await recvExactly(p.conn, 4)), "rest");
});

Deno.test("API.md framing: recvLine(sock) — asyncio readline, on the socket's own buffer", async () => {
  await using p = await pair();
  await p.client.sendall("one\ntwo\nthree");
  p.client.shutdown(SHUT_WR);
  assert.equal(text(await recvLine(p.conn)), "one\n");
  assert.equal(text(await p.conn.recv(4)), "two\n".slice(0, 4));
  assert.equal(text(await recvLine(p.conn)), "three"); // asyncio: the rest at EOF
  assert.equal((await recvLine(p.conn)).length, 0);
});

Deno.test("API.md framing: recvUntil over the limit is LimitOverrunError, and the buffered bytes stay readable", async () => {
  await using p = await pair();
  await p.client.sendall("0123456789\n");
  await assert.rejects(recvUntil(p.conn, "\n", { limit: 4 }), errorsMod.LimitOverrunError);
  assert.equal(text(await recvExactly(p.conn, 11)), "0123456789\n");
});

Deno.test("API.md framing: recvLine over the limit is LimitOverrunError, and the buffered bytes stay readable", async () => {
  await using p = await pair();
  await p.client.sendall("a long line\nnext\n");
  await assert.rejects(
    recvLine(p.conn, { limit: 3 }),
    (e) => e instanceof errorsMod.LimitOverrunError,
  );
  assert.equal(text(await recvLine(p.conn)), "a long line\n");
  assert.equal(text(await recvLine(p.conn)), "next\n");
});

Deno.test("API.md framing: encodeMessage(data, opts?) is the pure codec of sendMsg", () => {
  assert.deepEqual(encodeMessage("hi"), new Uint8Array([0, 0, 0, 2, 0x68, 0x69]));
  assert.deepEqual(
    encodeMessage(new Uint8Array([9]), { header: 2, littleEndian: true }),
    new Uint8Array([1, 0, 9]),
  );
});

Deno.test("API.md framing: MessageDecoder takes chunks of any size and yields whole messages", () => {
  const stream = new Uint8Array([
    ...encodeMessage("first"),
    ...encodeMessage(""),
    ...encodeMessage("third!"),
  ]);
  for (const size of [1, 2, 3, 5, 7, stream.length]) {
    const d = new MessageDecoder();
    const out: string[] = [];
    for (let i = 0; i < stream.length; i += size) {
      for (const m of d.push(stream.subarray(i, i + size))) out.push(text(m));
    }
    assert.deepEqual(out, ["first", "", "third!"], `chunks of ${size}`);
  }
});

Deno.test("API.md framing: MessageEncoderStream → MessageDecoderStream round-trips messages", async () => {
  const msgs = ["a", "", "ccc"].map(bytes);
  const out: string[] = [];
  const piped = ReadableStream.from(msgs)
    .pipeThrough(new framing.MessageEncoderStream())
    .pipeThrough(new framing.MessageDecoderStream());
  for await (const m of piped) out.push(text(m));
  assert.deepEqual(out, ["a", "", "ccc"]);
});

Deno.test("API.md framing: MessageDecoderStream takes arbitrary chunking", async () => {
  const all = new Uint8Array([...encodeMessage("xyz"), ...encodeMessage("12345")]);
  const chunks = [...all].map((b) => new Uint8Array([b]));
  const out: string[] = [];
  for await (
    const m of ReadableStream.from(chunks).pipeThrough(new framing.MessageDecoderStream())
  ) out.push(text(m));
  assert.deepEqual(out, ["xyz", "12345"]);
});

Deno.test("API.md framing: DelimiterDecoderStream splits on the delimiter across chunks", async () => {
  const chunks = ["li", "ne1\nline", "2\n", "line3\n"].map(bytes);
  const out: string[] = [];
  for await (
    const m of ReadableStream.from(chunks).pipeThrough(new framing.DelimiterDecoderStream("\n"))
  ) {
    out.push(text(m).replace(/\n$/, ""));
  }
  assert.deepEqual(out, ["line1", "line2", "line3"]);
});

// ---------------------------------------------------------------------------
// selectors.ts

const { DefaultSelector, EVENT_READ, EVENT_WRITE, SelectorKey } = selectorsMod;

Deno.test("API.md selectors: DefaultSelector (also PollSelector, EpollSelector); EVENT_READ=1, EVENT_WRITE=2", () => {
  assert.equal(EVENT_READ, 1);
  assert.equal(EVENT_WRITE, 2);
  using a = new selectorsMod.PollSelector();
  using b = new selectorsMod.EpollSelector();
  assert.ok(a instanceof DefaultSelector);
  assert.ok(b instanceof DefaultSelector);
  assert.equal(mod.DefaultSelector, DefaultSelector);
});

Deno.test("API.md selectors: register(fileobj, events, data?) returns SelectorKey {fileobj, fd, events, data}", async () => {
  await using p = await pair();
  using sel = new DefaultSelector();
  const key = sel.register(p.conn, EVENT_READ, "payload");
  assert.ok(key instanceof SelectorKey);
  assert.equal(key.fileobj, p.conn);
  assert.equal(key.fd, p.conn.fileno());
  assert.equal(key.events, EVENT_READ);
  assert.equal(key.data, "payload");
});

Deno.test("API.md selectors: getKey and getMap; registering twice is KeyError (as Python)", async () => {
  await using p = await pair();
  using sel = new DefaultSelector();
  const key = sel.register(p.conn, EVENT_READ);
  assert.equal(sel.getKey(p.conn), key);
  assert.equal(sel.getMap().size, 1);
  assert.equal(sel.getMap().get(p.conn), key);
  assert.throws(() => sel.register(p.conn, EVENT_READ), selectorsMod.KeyError);
  assert.throws(() => sel.getKey(p.client), selectorsMod.KeyError);
});

Deno.test("API.md selectors: unregister(fileobj) returns the key and forgets it", async () => {
  await using p = await pair();
  using sel = new DefaultSelector();
  const key = sel.register(p.conn, EVENT_READ);
  assert.equal(sel.unregister(p.conn), key);
  assert.equal(sel.getMap().size, 0);
  assert.throws(() => sel.unregister(p.conn), selectorsMod.KeyError);
});

Deno.test("API.md selectors: modify(fileobj, events, data?) changes the key", async () => {
  await using p = await pair();
  using sel = new DefaultSelector();
  sel.register(p.conn, EVENT_READ, 1);
  const key = sel.modify(p.conn, EVENT_READ | EVENT_WRITE, 2);
  assert.equal(key.events, EVENT_READ | EVENT_WRITE);
  assert.equal(key.data, 2);
  assert.equal(sel.getKey(p.conn).events, 3);
});

Deno.test("API.md selectors: registering with no events is a RangeError (Python: ValueError)", async () => {
  await using p = await pair();
  using sel = new DefaultSelector();
  assert.throws(() => sel.register(p.conn, 0), RangeError);
});

Deno.test("API.md selectors: await select(timeout) → [SelectorKey, number][]; empty at the timeout", async () => {
  await using p = await pair();
  using sel = new DefaultSelector();
  sel.register(p.conn, EVENT_READ);
  const none = await sel.select(0.05);
  assert.deepEqual(none, []);
  await p.client.sendall("x");
  const ready = await sel.select(1);
  assert.equal(ready.length, 1);
  assert.equal(ready[0][0].fileobj, p.conn);
  assert.equal(ready[0][1], EVENT_READ);
});

Deno.test("API.md selectors: readable means a non-blocking recv would not wait (from the socket's buffer)", async () => {
  await using p = await pair();
  await p.client.sendall("abc");
  using sel = new DefaultSelector();
  sel.register(p.conn, EVENT_READ);
  const [[key, events]] = await sel.select(1);
  assert.equal(events & EVENT_READ, EVENT_READ);
  p.conn.setblocking(false);
  assert.equal(text(await (key.fileobj as StreamSocket).recv(10)), "abc");
  // Bytes read ahead into the buffer count: after recvExactly leaves some, select sees them.
  await p.client.sendall("12345");
  p.conn.setblocking(true);
  assert.equal(text(await recvExactly(p.conn, 1)), "1");
  assert.equal((await sel.select(0)).length, 1);
});

Deno.test("API.md selectors: a listener with a pending connection is readable (accept would not wait)", async () => {
  const [l, addr] = listener();
  using _l = l;
  using sel = new DefaultSelector();
  sel.register(l, EVENT_READ);
  assert.deepEqual(await sel.select(0), []);
  using c = socket();
  await c.connect(addr);
  const ready = await sel.select(1);
  assert.equal(ready.length, 1);
  l.setblocking(false);
  const [conn] = await l.accept();
  conn.close();
});

Deno.test("API.md selectors: a datagram socket with a datagram queued is readable", async () => {
  const [r, addr] = udp();
  using _r = r;
  using sel = new DefaultSelector();
  sel.register(r, EVENT_READ);
  assert.deepEqual(await sel.select(0.02), []);
  using s = socket(AF_INET, SOCK_DGRAM);
  await s.sendto("d", addr);
  assert.equal((await sel.select(1)).length, 1);
  r.setblocking(false);
  assert.equal(text((await r.recvfrom(10))[0]), "d");
});

Deno.test("API.md selectors: a connected socket is writable (a send would not wait)", async () => {
  await using p = await pair();
  using sel = new DefaultSelector();
  sel.register(p.client, EVENT_WRITE);
  const ready = await sel.select(1);
  assert.equal(ready.length, 1);
  assert.equal(ready[0][1], EVENT_WRITE);
});

Deno.test("API.md selectors: writable means a non-blocking connect finished", async () => {
  const [l, addr] = listener();
  using _l = l;
  using c = socket();
  c.setblocking(false);
  const code = await c.connectEx(addr);
  assert.ok(code === 0 || code === errno.EINPROGRESS, `connectEx gave ${code}`);
  using sel = new DefaultSelector();
  sel.register(c, EVENT_WRITE);
  const ready = await sel.select(1);
  assert.equal(ready.length, 1);
  assert.equal(c.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  assert.deepEqual(c.getpeername(), addr);
  l.setblocking(false);
  const [conn] = await l.accept();
  conn.close();
});

Deno.test("API.md selectors: close() empties the selector", async () => {
  await using p = await pair();
  const sel = new DefaultSelector();
  sel.register(p.conn, EVENT_READ);
  sel.close();
  assert.throws(() => sel.getKey(p.conn));
});

Deno.test("API.md selectors: select(rlist, wlist, xlist, timeout?) → Promise<[readable, writable, exceptional]>", async () => {
  await using p = await pair();
  const waiting = selectorsMod.select([p.conn], [], [], 0.05);
  assert.ok(waiting instanceof Promise);
  assert.deepEqual(await waiting, [[], [], []]);
  const [r0, w0, x0] = await selectorsMod.select([p.conn], [p.client], [], 1);
  assert.deepEqual([r0, w0, x0], [[], [p.client], []]);
  await p.client.sendall("x");
  const [r, w, x] = await selectorsMod.select([p.conn], [], [], 1);
  assert.deepEqual([r, w, x], [[p.conn], [], []]);
});

Deno.test({
  name:
    "API.md selectors: readable means a non-blocking recv would not wait — select(…, 0) right after the peer's sendall",
  async fn() {
    // CPython (checked): a.sendall(b"x"); select.select([b], [a], [], 1) → ([b], [a], []),
    // and select([b], [], [], 0) → ([b], [], []). (pysock reported [] for b in both.)
    await using p = await pair();
    await p.client.sendall("x");
    assert.deepEqual(await selectorsMod.select([p.conn], [], [], 0), [[p.conn], [], []]);
    await p.client.sendall("y");
    assert.deepEqual(await selectorsMod.select([p.conn], [p.client], [], 1), [
      [p.conn],
      [p.client],
      [],
    ]);
    using sel = new DefaultSelector();
    sel.register(p.conn, EVENT_READ);
    await p.client.sendall("z");
    assert.equal((await sel.select(0)).length, 1);
  },
});

Deno.test("API.md selectors: select() with no timeout waits until something is ready", async () => {
  await using p = await pair();
  const waiting = selectorsMod.select([p.conn], [], []);
  setTimeout(() => p.client.sendall("late"), 20);
  const [r] = await waiting;
  assert.deepEqual(r, [p.conn]);
  assert.equal(text(await recvExactly(p.conn, 4)), "late");
});

// ---------------------------------------------------------------------------
// socketserver.ts

const {
  BaseRequestHandler,
  DatagramRequestHandler,
  StreamRequestHandler,
  TCPServer,
  ThreadingTCPServer,
  ThreadingUDPServer,
  UDPServer,
  UnixDatagramServer,
  UnixStreamServer,
} = serverMod;

class UpperLine extends StreamRequestHandler {
  override async handle() {
    const line = await this.rfile.readline();
    await this.wfile.write(bytes(text(line).toUpperCase()));
  }
}

class UpperDatagram extends DatagramRequestHandler {
  override async handle() {
    await this.wfile.write(bytes(text(this.rfile.read()).toUpperCase()));
  }
}

Deno.test("API.md socketserver: the classes exist under ./socketserver (and mod.ts)", () => {
  const names = [
    "TCPServer",
    "UDPServer",
    "UnixStreamServer",
    "UnixDatagramServer",
    "ThreadingTCPServer",
    "ThreadingUDPServer",
    "BaseRequestHandler",
    "StreamRequestHandler",
    "DatagramRequestHandler",
  ];
  for (const n of names) {
    assert.equal(typeof (serverMod as Record<string, unknown>)[n], "function", n);
    assert.equal((mod as Record<string, unknown>)[n], (serverMod as Record<string, unknown>)[n], n);
  }
});

Deno.test("API.md socketserver: no ForkingMixIn (Deno cannot fork)", () => {
  const m = serverMod as Record<string, unknown>;
  for (const n of ["ForkingMixIn", "ForkingTCPServer", "ForkingUDPServer"]) {
    assert.equal(m[n], undefined, n);
  }
});

Deno.test("API.md socketserver: TCPServer + StreamRequestHandler (rfile/wfile), serveForever(pollInterval) and shutdown()", async () => {
  await using server = new TCPServer(LO, UpperLine);
  const serving = server.serveForever(0.05);
  for (const word of ["one", "two"]) {
    await using c = await createConnection(server.serverAddress as [string, number]);
    await c.sendall(`${word}\n`);
    assert.equal(text(await recvExactly(c, word.length + 1)), `${word.toUpperCase()}\n`);
  }
  await server.shutdown();
  await serving;
});

Deno.test("API.md socketserver: serverAddress gives the real port for port 0", async () => {
  await using server = new TCPServer(LO, UpperLine);
  const [host, port] = server.serverAddress as [string, number];
  assert.equal(host, "127.0.0.1");
  assert.ok(port > 0);
  assert.deepEqual(server.socket.getsockname(), server.serverAddress);
});

Deno.test("API.md socketserver: handleRequest() handles one request", async () => {
  await using server = new TCPServer(LO, UpperLine);
  await using c = await createConnection(server.serverAddress as [string, number]);
  await c.sendall("single\n");
  await server.handleRequest();
  assert.equal(text(await recvExactly(c, 7)), "SINGLE\n");
});

Deno.test("API.md socketserver: serverClose() closes the socket; later connects are refused", async () => {
  const server = new TCPServer(LO, UpperLine);
  const addr = server.serverAddress as [string, number];
  await server.serverClose();
  assert.equal(server.socket.fileno(), -1);
  await assert.rejects(createConnection(addr), ConnectionRefusedError);
});

Deno.test("API.md socketserver: `await using` closes the server", async () => {
  let addr: [string, number];
  let sock: StreamSocket;
  {
    await using server = new TCPServer(LO, UpperLine);
    addr = server.serverAddress as [string, number];
    sock = server.socket;
  }
  assert.equal(sock.fileno(), -1);
  await assert.rejects(createConnection(addr), ConnectionRefusedError);
});

Deno.test("API.md socketserver: allowReuseAddress, allowReusePort, requestQueueSize, timeout have Python's defaults", async () => {
  await using server = new TCPServer(LO, UpperLine);
  assert.equal(server.allowReuseAddress, false);
  assert.equal(server.allowReusePort, false);
  assert.equal(server.requestQueueSize, 5);
  assert.equal(server.timeout, null);
  assert.equal(TCPServer.requestQueueSize, 5);
});

Deno.test("API.md socketserver: allowReusePort lets two servers share a port (SO_REUSEPORT scale-out)", async () => {
  class Shared extends TCPServer {
    static override allowReusePort = true;
  }
  await using a = new Shared(LO, UpperLine);
  await using b = new Shared(a.serverAddress, UpperLine);
  assert.deepEqual(b.serverAddress, a.serverAddress);
  assert.notEqual(a.socket.getsockopt(SOL_SOCKET, SO_REUSEPORT), 0);
});

Deno.test("API.md socketserver: verifyRequest returning false turns the client away unhandled", async () => {
  let handled = 0;
  class Counting extends BaseRequestHandler<StreamSocket> {
    override handle() {
      handled++;
    }
  }
  class Picky extends TCPServer {
    override verifyRequest() {
      return false;
    }
  }
  await using server = new Picky(LO, Counting);
  await using c = await createConnection(server.serverAddress as [string, number]);
  await server.handleRequest();
  assert.equal(handled, 0);
  assert.equal((await c.recv(10)).length, 0);
});

Deno.test("API.md socketserver: processRequest is the hook that runs each request", async () => {
  const seen: unknown[] = [];
  class Hooked extends TCPServer {
    override async processRequest(request: StreamSocket, clientAddress: mod.Address) {
      seen.push(clientAddress);
      await super.processRequest(request, clientAddress);
    }
  }
  await using server = new Hooked(LO, UpperLine);
  await using c = await createConnection(server.serverAddress as [string, number]);
  await c.sendall("hook\n");
  await server.handleRequest();
  assert.deepEqual(seen, [c.getsockname()]);
  assert.equal(text(await recvExactly(c, 5)), "HOOK\n");
});

Deno.test("API.md socketserver: handleError is called when a handler throws, and the server goes on", async () => {
  const errors: unknown[] = [];
  class Boom extends BaseRequestHandler<StreamSocket> {
    override handle() {
      throw new Error("boom");
    }
  }
  class Catching extends TCPServer {
    override handleError(_r: StreamSocket, _a: mod.Address, error?: unknown) {
      errors.push(error);
    }
  }
  await using server = new Catching(LO, Boom);
  await using _c = await createConnection(server.serverAddress as [string, number]);
  await server.handleRequest();
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, "boom");
});

Deno.test("API.md socketserver: handleTimeout is called when handleRequest waits past `timeout`", async () => {
  let timeouts = 0;
  class Timing extends TCPServer {
    override handleTimeout() {
      timeouts++;
    }
  }
  await using server = new Timing(LO, UpperLine);
  server.timeout = 0.05;
  await server.handleRequest();
  assert.equal(timeouts, 1);
});

Deno.test("API.md socketserver: UDPServer + DatagramRequestHandler reply to the sender", async () => {
  await using server = new UDPServer(LO, UpperDatagram);
  const serving = server.serveForever(0.05);
  using c = socket(AF_INET, SOCK_DGRAM);
  c.settimeout(2);
  await c.sendto("datagram", server.serverAddress);
  const [data, from] = await c.recvfrom(100);
  assert.equal(text(data), "DATAGRAM");
  assert.deepEqual(from, server.serverAddress);
  await server.shutdown();
  await serving;
});

Deno.test("API.md socketserver: UnixStreamServer and UnixDatagramServer on paths", async () => {
  const dir = await Deno.makeTempDir();
  try {
    {
      await using server = new UnixStreamServer(`${dir}/stream.sock`, UpperLine);
      assert.equal(server.serverAddress, `${dir}/stream.sock`);
      using c = socket(AF_UNIX);
      await c.connect(`${dir}/stream.sock`);
      await c.sendall("unix\n");
      await server.handleRequest();
      assert.equal(text(await recvExactly(c, 5)), "UNIX\n");
    }
    {
      await using server = new UnixDatagramServer(`${dir}/dgram.sock`, UpperDatagram);
      using c = socket(AF_UNIX, SOCK_DGRAM);
      c.bind(`${dir}/client.sock`);
      await c.sendto("unixd", `${dir}/dgram.sock`);
      await server.handleRequest();
      c.settimeout(2);
      assert.equal(text((await c.recvfrom(100))[0]), "UNIXD");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("API.md socketserver: ThreadingTCPServer runs a task per request (two clients at once)", async () => {
  const gate = Promise.withResolvers<void>();
  class Waiting extends StreamRequestHandler {
    override async handle() {
      const line = text(await this.rfile.readline());
      if (line === "first\n") await gate.promise; // waits until the second client was served
      else gate.resolve();
      await this.wfile.write(bytes(line.toUpperCase()));
    }
  }
  await using server = new ThreadingTCPServer(LO, Waiting);
  const serving = server.serveForever(0.05);
  await using a = await createConnection(server.serverAddress as [string, number]);
  await a.sendall("first\n");
  await using b = await createConnection(server.serverAddress as [string, number]);
  await b.sendall("second\n");
  assert.equal(text(await recvExactly(b, 7)), "SECOND\n");
  assert.equal(text(await recvExactly(a, 6)), "FIRST\n");
  await server.shutdown();
  await serving;
});

Deno.test("API.md socketserver: ThreadingUDPServer serves datagrams", async () => {
  await using server = new ThreadingUDPServer(LO, UpperDatagram);
  const serving = server.serveForever(0.05);
  using c = socket(AF_INET, SOCK_DGRAM);
  c.settimeout(2);
  await c.sendto("threaded", server.serverAddress);
  assert.equal(text((await c.recvfrom(100))[0]), "THREADED");
  await server.shutdown();
  await serving;
});

Deno.test("API.md socketserver: a port in use fails the constructor with EADDRINUSE", async () => {
  await using a = new TCPServer(LO, UpperLine);
  assert.throws(() => new TCPServer(a.serverAddress, UpperLine), (e) => isErr(e, errno.EADDRINUSE));
});

// ---------------------------------------------------------------------------
// ssl.ts

Deno.test("API.md ssl: createDefaultContext, SSLContext, PROTOCOL_TLS_CLIENT/SERVER, CERT_* under ./ssl and mod.ssl", () => {
  for (const n of ["createDefaultContext", "SSLContext", "SSLSocket"]) {
    assert.equal(typeof (sslMod as Record<string, unknown>)[n], "function", n);
    assert.equal(
      (mod.ssl as Record<string, unknown>)[n],
      (sslMod as Record<string, unknown>)[n],
      n,
    );
  }
  assert.equal(sslMod.PROTOCOL_TLS_CLIENT, 16);
  assert.equal(sslMod.PROTOCOL_TLS_SERVER, 17);
  assert.equal(sslMod.CERT_NONE, 0);
  assert.equal(sslMod.CERT_OPTIONAL, 1);
  assert.equal(sslMod.CERT_REQUIRED, 2);
});

Deno.test("API.md ssl: SSLContext has loadCertChain, loadVerifyLocations, loadDefaultCerts, setAlpnProtocols, wrapSocket", () => {
  const ctx = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_CLIENT);
  for (
    const n of [
      "loadCertChain",
      "loadVerifyLocations",
      "loadDefaultCerts",
      "setAlpnProtocols",
      "wrapSocket",
    ]
  ) {
    assert.equal(typeof (ctx as unknown as Record<string, unknown>)[n], "function", n);
  }
});

Deno.test("API.md ssl: a PROTOCOL_TLS_CLIENT context checks the hostname and requires a certificate (as Python)", () => {
  const ctx = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_CLIENT);
  assert.equal(ctx.checkHostname, true);
  assert.equal(ctx.verifyMode, sslMod.CERT_REQUIRED);
  const def = sslMod.createDefaultContext();
  assert.equal(def.checkHostname, true);
  assert.equal(def.verifyMode, sslMod.CERT_REQUIRED);
});

Deno.test("API.md ssl: a PROTOCOL_TLS_SERVER context verifies nothing by default (as Python)", () => {
  const ctx = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_SERVER);
  assert.equal(ctx.checkHostname, false);
  assert.equal(ctx.verifyMode, sslMod.CERT_NONE);
});

Deno.test("API.md ssl: checkHostname, verifyMode, minimumVersion/maximumVersion are settable", () => {
  const ctx = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_CLIENT);
  ctx.checkHostname = false;
  ctx.verifyMode = sslMod.CERT_NONE;
  assert.equal(ctx.verifyMode, sslMod.CERT_NONE);
  ctx.minimumVersion = sslMod.TLSVersion.TLSv1_2;
  ctx.maximumVersion = sslMod.TLSVersion.TLSv1_3;
  assert.equal(ctx.minimumVersion, sslMod.TLSVersion.TLSv1_2);
  assert.equal(ctx.maximumVersion, sslMod.TLSVersion.TLSv1_3);
});

Deno.test("API.md ssl: verifyMode CERT_NONE with checkHostname on is refused (Python: ValueError)", () => {
  // pysock throws a TypeError here; API.md names no class, so either argument error passes.
  const ctx = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_CLIENT);
  assert.throws(() => {
    ctx.verifyMode = sslMod.CERT_NONE;
  }, (e) => e instanceof RangeError || e instanceof TypeError);
  assert.equal(ctx.verifyMode, sslMod.CERT_REQUIRED);
});

Deno.test("API.md ssl: SSLError is an OSError; SSLCertVerificationError, SSLZeroReturnError, SSLWantReadError, SSLWantWriteError, SSLEOFError are SSLErrors", () => {
  assert.ok(sslMod.SSLError.prototype instanceof OSError);
  for (
    const C of [
      sslMod.SSLCertVerificationError,
      sslMod.SSLZeroReturnError,
      sslMod.SSLWantReadError,
      sslMod.SSLWantWriteError,
      sslMod.SSLEOFError,
    ]
  ) {
    assert.ok(C.prototype instanceof sslMod.SSLError, C.name);
    assert.ok(C.prototype instanceof OSError, C.name);
  }
});

Deno.test("API.md ssl: await ctx.wrapSocket(sock, {serverSide, serverHostname}) → SSLSocket with version, cipher, selectedAlpnProtocol, getpeercert", async () => {
  const c = await certs();
  const server = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_SERVER);
  server.loadCertChain(c.server, c.serverKey);
  server.setAlpnProtocols(["h2", "http/1.1"]);
  const client = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_CLIENT);
  client.loadVerifyLocations(c.ca);
  client.setAlpnProtocols(["http/1.1"]);
  await using p = await pair();
  const [ts, tc] = await Promise.all([
    server.wrapSocket(p.conn, { serverSide: true }),
    client.wrapSocket(p.client, { serverHostname: "localhost" }),
  ]);
  await using _ts = ts;
  await using _tc = tc;
  assert.ok(tc instanceof sslMod.SSLSocket);
  assert.ok(tc instanceof StreamSocket); // the StreamSocket surface
  assert.match(tc.version() ?? "", /^TLSv1\.[23]$/);
  const cipher = tc.cipher();
  assert.ok(Array.isArray(cipher) && typeof cipher[0] === "string");
  assert.equal(tc.selectedAlpnProtocol(), "http/1.1");
  const cert = tc.getpeercert() as Record<string, unknown>;
  assert.ok(cert && "subject" in cert);
  const der = tc.getpeercert(true);
  assert.ok(der instanceof Uint8Array && der.length > 0);
  await tc.sendall("over tls");
  assert.equal(text(await recvExactly(ts, 8)), "over tls");
});

Deno.test("API.md ssl: an untrusted certificate fails with SSLCertVerificationError", async () => {
  const c = await certs();
  const server = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_SERVER);
  server.loadCertChain(c.selfSigned, c.selfSignedKey);
  const client = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_CLIENT);
  client.loadVerifyLocations(c.ca);
  await using p = await pair();
  const serving = server.wrapSocket(p.conn, { serverSide: true }).then((s) => s.close(), () => {});
  await assert.rejects(
    client.wrapSocket(p.client, { serverHostname: "localhost" }),
    (e) =>
      e instanceof sslMod.SSLCertVerificationError && e instanceof sslMod.SSLError &&
      e instanceof OSError,
  );
  p.client.close();
  await serving;
});

Deno.test("API.md ssl: doHandshakeOnConnect: false defers the handshake to doHandshake()", async () => {
  const c = await certs();
  const server = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_SERVER);
  server.loadCertChain(c.server, c.serverKey);
  const client = new sslMod.SSLContext(sslMod.PROTOCOL_TLS_CLIENT);
  client.loadVerifyLocations(c.ca);
  await using p = await pair();
  const [ts, tc] = await Promise.all([
    server.wrapSocket(p.conn, { serverSide: true, doHandshakeOnConnect: false }),
    client.wrapSocket(p.client, { serverHostname: "localhost", doHandshakeOnConnect: false }),
  ]);
  await using _ts = ts;
  await using _tc = tc;
  assert.equal(tc.version(), null);
  await Promise.all([ts.doHandshake(), tc.doHandshake()]);
  assert.match(tc.version() ?? "", /^TLSv1\.[23]$/);
});

// ---------------------------------------------------------------------------
// cli

const CLI_COMMANDS = ["echo-server", "connect", "udp-listen", "udp-send", "send-file", "recv-file"];

Deno.test("API.md cli: `deno task cli` exists and runs cli/mod.ts", () => {
  assert.match(denoJson.tasks.cli, /cli\/mod\.ts/);
});

Deno.test("API.md cli: --help lists every command and exits 0", async () => {
  const r = await cli(["--help"]);
  assert.equal(r.code, 0, r.err);
  for (const c of CLI_COMMANDS) assert.ok(r.out.includes(c), c);
});

Deno.test("API.md cli: --help on every command exits 0", async () => {
  const results = await Promise.all(CLI_COMMANDS.map((c) => cli([c, "--help"])));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `${CLI_COMMANDS[i]}: ${r.err}`);
    assert.match(r.out, /usage/i, CLI_COMMANDS[i]);
  });
});

Deno.test("API.md cli: a bad command line exits 2 with one line on stderr", async () => {
  const [unknown, missing] = await Promise.all([cli(["no-such-command"]), cli(["connect"])]);
  for (const r of [unknown, missing]) {
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
  }
});

Deno.test("API.md cli: a failure (connect refused) exits 1 with one line on stderr, never a stack trace", async () => {
  const r = await cli(["connect", "127.0.0.1", String(freePort())]);
  assert.equal(r.code, 1, r.err);
  const lines = r.err.trim().split("\n");
  assert.equal(lines.length, 1, r.err);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.match(r.err, /127\.0\.0\.1/);
});

Deno.test("API.md cli: connect is netcat-like — stdin to the socket, socket to stdout, half-close on stdin EOF", async () => {
  const [l, addr] = listener();
  using _l = l;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/mod.ts", "connect", "127.0.0.1", String(addr[1])],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 15_000);
  try {
    const w = child.stdin.getWriter();
    await w.write(bytes("to server"));
    await w.close();
    const [conn] = await l.accept();
    using _conn = conn;
    let got = "";
    for (let i = 0; i < 100; i++) {
      const part = await conn.recv(100);
      if (part.length === 0) break; // the half-close
      got += text(part);
    }
    assert.equal(got, "to server");
    await conn.sendall("from server");
    conn.close();
    const { code, stdout } = await child.output();
    assert.equal(code, 0);
    assert.equal(text(stdout), "from server");
  } finally {
    clearTimeout(guard);
  }
});
