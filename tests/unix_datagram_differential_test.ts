// Unix datagram sockets against CPython 3.11, continued from
// unix_differential_test.ts: the socket file's life, many datagrams through a
// receive queue that fills (Linux's net.unix.max_dgram_qlen), connect() by
// another spelling of a path, a socket of the other type, file-system
// permissions (EACCES), the permissions Deno asks for, and UnixDatagramServer.
// Receives, sizes, flags and names are in udp_differential_test.ts and
// udp_differential_options_test.ts.

import assert from "node:assert/strict";
import { AF_UNIX, type DatagramSocket, type OSError, SOCK_DGRAM, socket } from "../mod.ts";
import {
  BaseRequestHandler,
  type DatagramRequest,
  UnixDatagramServer,
  UnixStreamServer,
} from "../socketserver.ts";
import {
  errorOf,
  installed,
  MOD,
  PY_PRELUDE,
  python,
  pythonJson,
  rejection,
  runScript,
  settled,
  text,
} from "./_helpers.ts";

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function dgram(path?: string): DatagramSocket {
  const s = socket(AF_UNIX, SOCK_DGRAM);
  if (path !== undefined) s.bind(path);
  return s;
}

const PY_FILE = `
import os
d = sys.argv[1]
a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); a.bind(d + "/a"); a.close()
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
out = [os.path.exists(d + "/a"), err(lambda: b.bind(d + "/a"))]
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
out.append(err(lambda: c.sendto(b"x", d + "/a")))
os.unlink(d + "/a")
b.bind(d + "/a")
c.sendto(b"again", d + "/a")
out += [b.getsockname().replace(d, "D"), b.recvfrom(10)[0].decode()]
b.close(); c.close()
out.append(sorted(os.listdir(d)))
print(json.dumps(out))
`;

Deno.test("a closed Unix datagram socket leaves its file: bind to it is EADDRINUSE, sendto ECONNREFUSED, and after unlink the path binds again, as in CPython", async () => {
  const py = await withDir((dir) => pythonJson(PY_FILE, dir));
  const ours = await withDir(async (dir) => {
    dgram(`${dir}/a`).close();
    using b = dgram();
    const out: unknown[] = [
      (await Deno.lstat(`${dir}/a`)).isSocket,
      await errorOf(Promise.resolve().then(() => b.bind(`${dir}/a`))),
    ];
    using c = dgram();
    out.push(await errorOf(c.sendto("x", `${dir}/a`)));
    await Deno.remove(`${dir}/a`);
    b.bind(`${dir}/a`);
    await c.sendto("again", `${dir}/a`);
    out.push((b.getsockname() as string).replace(dir, "D"), text((await b.recvfrom(10))[0]));
    b.close();
    c.close();
    out.push([...Deno.readDirSync(dir)].map((e) => e.name).sort());
    return out;
  });
  assert.deepEqual(ours, py);
  assert.deepEqual(ours.slice(1, 3), [["OSError", 98], ["ConnectionRefusedError", 111]]);
});

// More datagrams than the receiver's queue holds (net.unix.max_dgram_qlen,
// 10 by default): a sender waits for the reader, and nothing is lost.
const COUNT = 300;

Deno.test(`${COUNT} datagrams from CPython to a pysock receiver that reads late arrive all, in order: the sender waits on the full queue`, async () => {
  await withDir(async (dir) => {
    using r = dgram(`${dir}/r`);
    await using peer = python(
      `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1] + "/s")
for i in range(${COUNT}):
    s.sendto(b"%d:" % i + b"." * (i % 50), sys.argv[1] + "/r")
print("sent")`,
      dir,
    );
    const got: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const [data, from] = await settled(r.recvfrom(100), `datagram ${i}`);
      assert.equal(from, `${dir}/s`);
      got.push(text(data));
    }
    assert.equal((await peer.output()).trim(), "sent");
    assert.deepEqual(got, Array.from({ length: COUNT }, (_, i) => `${i}:${".".repeat(i % 50)}`));
  });
});

Deno.test(`${COUNT} datagrams from pysock to a CPython receiver that reads late arrive all, in order: sendto waits on the full queue`, async () => {
  await withDir(async (dir) => {
    await using peer = python(
      `import socket, sys, time, hashlib
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); r.bind(sys.argv[1] + "/r")
print("bound", flush=True)
time.sleep(0.2)
got = [r.recv(100).decode() for _ in range(${COUNT})]
print(",".join(got))`,
      dir,
    );
    assert.equal(await peer.firstLine(), "bound");
    using s = dgram(`${dir}/s`);
    for (let i = 0; i < COUNT; i++) {
      assert.equal(await settled(s.sendto(String(i), `${dir}/r`), `sendto ${i}`), String(i).length);
    }
    const lines = (await peer.output()).trim().split("\n");
    assert.equal(lines[1], Array.from({ length: COUNT }, (_, i) => i).join(","));
  });
});

const PY_FULL = `
d = sys.argv[1]
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); r.bind(d + "/r")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(d + "/s")
sent = 0
s.setblocking(False)
while sent < 100 and err(lambda: s.sendto(b"x", d + "/r")) is None:
    sent += 1
out = [sent, err(lambda: s.sendto(b"x", d + "/r"))]
s.settimeout(0.05)
out.append(err(lambda: s.sendto(b"x", d + "/r")))
print(json.dumps(out))
`;

Deno.test({
  name:
    "a sendto to a full Unix datagram queue fails with BlockingIOError when non-blocking and TimeoutError past the timeout, as in CPython",
  // BUG: a Unix datagram send waits while the receiver's queue is full
  // (unlike UDP, which drops), but pysock's sendto ignores the socket's
  // timeout and non-blocking mode ("a UDP send does not wait for the peer"):
  // it hangs where CPython raises BlockingIOError (EAGAIN) or TimeoutError.
  // Deno's DatagramConn.send cannot be cancelled or tried without waiting,
  // so a timed-out send would still deliver later; no small fix.
  ignore: true,
  async fn() {
    const py = await withDir((dir) => pythonJson(PY_FULL, dir)) as unknown[];
    await withDir(async (dir) => {
      using r = dgram(`${dir}/r`);
      using s = dgram(`${dir}/s`);
      s.setblocking(false);
      const sent = py[0] as number;
      for (let i = 0; i < sent; i++) await settled(s.sendto("x", `${dir}/r`), `sendto ${i}`);
      const full = await rejection(s.sendto("x", `${dir}/r`), "non-blocking sendto");
      s.settimeout(0.05);
      const timedOut = await rejection(s.sendto("x", `${dir}/r`), "sendto with a timeout");
      const name = (e: unknown) => [(e as Error).name, (e as { errno: unknown }).errno ?? null];
      assert.deepEqual([sent, name(full), name(timedOut)], py);
      r.close();
    });
  },
});

// ---- connect() by another spelling of the peer's path ----

const SPELLINGS = ["/./b", "//b", "/link/b"];

const PY_SPELLED = `
import os
d = sys.argv[1]
os.symlink(d, d + "/link")
b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); b.bind(d + "/b")
out = []
for i, spelling in enumerate(json.loads(sys.argv[2])):
    a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); a.bind(d + "/a%d" % i)
    a.connect(d + spelling)
    b.sendto(b"from b", d + "/a%d" % i)
    data, sender = a.recvfrom(100)
    out.append([data.decode(), sender.replace(d, "D"), a.getpeername().replace(d, "D")])
    a.close()
print(json.dumps(out))
`;

async function spelled(dir: string, peername: boolean): Promise<unknown[]> {
  await Deno.symlink(dir, `${dir}/link`);
  using b = dgram(`${dir}/b`);
  const out: unknown[] = [];
  for (const [i, spelling] of SPELLINGS.entries()) {
    using a = dgram(`${dir}/a${i}`);
    await a.connect(dir + spelling);
    await b.sendto("from b", `${dir}/a${i}`);
    const [data, sender] = await settled(a.recvfrom(100), `the datagram via ${spelling}`);
    const row = [text(data), (sender as string).replace(dir, "D")];
    if (peername) row.push((a.getpeername() as string).replace(dir, "D"));
    out.push(row);
  }
  return out;
}

Deno.test("a Unix datagram socket connected to its peer's path spelled otherwise (dir/./b, dir//b, a symlinked dir) receives the peer's datagrams, as in CPython", async () => {
  const py = await withDir((dir) => pythonJson(PY_SPELLED, dir, JSON.stringify(SPELLINGS)));
  const ours = await withDir((dir) => spelled(dir, false));
  assert.deepEqual(ours, (py as string[][]).map((row) => row.slice(0, 2)));
});

Deno.test({
  name:
    "getpeername of a Unix datagram socket connected by another spelling is the peer's own name, as in CPython",
  // BUG: Linux names the peer by the name its socket was bound to ("D/b");
  // pysock cannot connect a Unix datagram socket in the kernel (the ignored
  // connect tests in udp_differential_options_test.ts) and names it by the
  // spelling given to connect ("D/./b", "D//b", "D/link/b").
  ignore: true,
  async fn() {
    const py = await withDir((dir) => pythonJson(PY_SPELLED, dir, JSON.stringify(SPELLINGS)));
    assert.deepEqual(await withDir((dir) => spelled(dir, true)), py);
  },
});

const PY_PEER_GONE = `
import os
d = sys.argv[1]
out = []
for unlink in (0, 1):
    a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); a.bind(d + "/a%d" % unlink)
    b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); b.bind(d + "/b%d" % unlink)
    a.connect(d + "/b%d" % unlink)
    b.close()
    if unlink:
        os.unlink(d + "/b%d" % unlink)
        c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); c.bind(d + "/b%d" % unlink)
    out.append([err(lambda: a.send(b"x")), err(lambda: a.send(b"x")), err(a.getpeername)])
print(json.dumps(out))
`;

Deno.test({
  name:
    "a Unix datagram socket whose connected peer closed gets ECONNREFUSED once, then ENOTCONN, even after another socket binds the path, as in CPython",
  // BUG: Linux ties a connected datagram socket to the peer socket, not to
  // its name: once the peer closes, the first send is ECONNREFUSED and the
  // socket is disconnected (ENOTCONN after). pysock's connect only records
  // the path (Deno cannot connect a Unix datagram socket): every send is
  // ECONNREFUSED (stale file) or ENOENT (unlinked), getpeername still names
  // the path, and a new socket bound there gets the datagrams.
  ignore: true,
  async fn() {
    const py = await withDir((dir) => pythonJson(PY_PEER_GONE, dir));
    const ours = await withDir(async (dir) => {
      const out: unknown[] = [];
      const open: DatagramSocket[] = [];
      try {
        for (const unlink of [0, 1]) {
          const a = dgram(`${dir}/a${unlink}`);
          const b = dgram(`${dir}/b${unlink}`);
          open.push(a, b);
          await a.connect(`${dir}/b${unlink}`);
          b.close();
          if (unlink) {
            await Deno.remove(`${dir}/b${unlink}`);
            open.push(dgram(`${dir}/b${unlink}`));
          }
          out.push([
            await errorOf(a.send("x")),
            await errorOf(a.send("x")),
            await errorOf(Promise.resolve().then(() => a.getpeername())),
          ]);
        }
      } finally {
        for (const s of open) s.close();
      }
      return out;
    });
    assert.deepEqual(ours, py);
  },
});

const PY_TYPES = `
d = sys.argv[1]
st = socket.socket(socket.AF_UNIX); st.bind(d + "/stream"); st.listen()
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); dg.bind(d + "/dgram")
c = socket.socket(socket.AF_UNIX)
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(json.dumps([err(lambda: c.connect(d + "/dgram")), err(lambda: u.sendto(b"x", d + "/stream"))]))
`;

Deno.test("a stream connect to a datagram socket and a datagram sendto to a stream socket fail with EPROTOTYPE (91), as in CPython", async () => {
  const py = await withDir((dir) => pythonJson(PY_TYPES, dir));
  const ours = await withDir(async (dir) => {
    using st = socket(AF_UNIX);
    st.bind(`${dir}/stream`);
    st.listen();
    using dg = socket(AF_UNIX, SOCK_DGRAM);
    dg.bind(`${dir}/dgram`);
    await using c = socket(AF_UNIX);
    await using u = socket(AF_UNIX, SOCK_DGRAM);
    return [
      await errorOf(c.connect(`${dir}/dgram`)),
      await errorOf(u.sendto("x", `${dir}/stream`)),
    ];
  });
  assert.deepEqual(ours, py);
  assert.deepEqual(ours, [["OSError", 91], ["OSError", 91]]);
});

// ---- file-system permissions (EACCES) ----

// Root passes every permission check; without CAP_DAC_OVERRIDE (dropped from
// the bounding set, so the child has it no more) root is held to the mode
// bits of its own files, as any user is.
const AS_ROOT = Deno.uid() === 0;
const CAN_DROP = !AS_ROOT || await installed("setpriv", ["--version"]);
const DROP = AS_ROOT ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] : [];

async function unprivileged(args: string[]): Promise<unknown> {
  const [command, ...rest] = [...DROP, ...args];
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args: rest,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, text(stderr));
  return JSON.parse(text(stdout));
}

// Each side: bind in a read-only dir; connect to a socket file of mode 000;
// connect to and bind in a dir without search permission; sendto a
// datagram socket file of mode 000.
const PY_EACCES = PY_PRELUDE + `
import os
d = sys.argv[1]
os.mkdir(d + "/ro", 0o555)
l = socket.socket(socket.AF_UNIX); l.bind(d + "/l"); l.listen(); os.chmod(d + "/l", 0)
os.mkdir(d + "/nox"); m = socket.socket(socket.AF_UNIX); m.bind(d + "/nox/m"); m.listen(); os.chmod(d + "/nox", 0o600)
g = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); g.bind(d + "/g"); os.chmod(d + "/g", 0)
s = lambda t=socket.SOCK_STREAM: socket.socket(socket.AF_UNIX, t)
print(json.dumps([err(lambda: s().bind(d + "/ro/x")), err(lambda: s().connect(d + "/l")),
    err(lambda: s().connect(d + "/nox/m")), err(lambda: s().bind(d + "/nox/y")),
    err(lambda: s(socket.SOCK_DGRAM).sendto(b"x", d + "/g"))]))
`;

const TS_EACCES = `
import { AF_UNIX, SOCK_DGRAM, socket } from ${JSON.stringify(MOD)};
const d = Deno.args[0];
async function err(call) {
  try {
    await call();
    return null;
  } catch (e) {
    return [e.constructor.name, e.errno ?? null];
  }
}
Deno.mkdirSync(d + "/ro", { mode: 0o555 });
const l = socket(AF_UNIX); l.bind(d + "/l"); l.listen(); Deno.chmodSync(d + "/l", 0);
Deno.mkdirSync(d + "/nox"); const m = socket(AF_UNIX); m.bind(d + "/nox/m"); m.listen(); Deno.chmodSync(d + "/nox", 0o600);
const g = socket(AF_UNIX, SOCK_DGRAM); g.bind(d + "/g"); Deno.chmodSync(d + "/g", 0);
const s = (t = 1) => socket(AF_UNIX, t);
console.log(JSON.stringify([await err(() => s().bind(d + "/ro/x")), await err(() => s().connect(d + "/l")),
  await err(() => s().connect(d + "/nox/m")), await err(() => s().bind(d + "/nox/y")),
  await err(() => s(SOCK_DGRAM).sendto("x", d + "/g"))]));
Deno.exit(0);
`;

Deno.test({
  name:
    "bind in a read-only dir, connect to a socket file without write permission and paths under a dir without search permission raise PermissionError (13), as in CPython",
  ignore: !CAN_DROP,
  async fn() {
    await withDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/eacces.ts`, TS_EACCES);
      await Deno.mkdir(`${dir}/py`);
      await Deno.mkdir(`${dir}/ts`);
      const py = await unprivileged(["python3", "-c", PY_EACCES, `${dir}/py`]);
      const ours = await unprivileged([
        Deno.execPath(),
        "run",
        "--no-config",
        "--unstable-net",
        "-A",
        `${dir}/eacces.ts`,
        `${dir}/ts`,
      ]);
      assert.deepEqual(ours, py);
      assert.deepEqual(py, Array(5).fill(["PermissionError", 13]));
      // The dirs the children made unsearchable, so that the cleanup can remove them.
      await Deno.chmod(`${dir}/py/nox`, 0o700);
      await Deno.chmod(`${dir}/ts/nox`, 0o700);
    });
  },
});

// ---- Deno's permissions ----

const PROBE = (action: string, path: string) => `
import { AF_UNIX, SOCK_DGRAM, socket } from ${JSON.stringify(MOD)};
const path = ${JSON.stringify(path)};
try {
  using s = socket(AF_UNIX, SOCK_DGRAM);
  if (${JSON.stringify(action)} === "bind") s.bind(path);
  else if (${JSON.stringify(action)} === "sendto") await s.sendto("x", path);
  else { await s.connect(path); await s.send("x"); }
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ name: e.constructor.name, errno: e.errno, message: e.message }));
}
`;

/** The flags a PermissionError message says to run again with. */
function namedFlags(message: string): string[] {
  return /run again with (.+)$/.exec(message)?.[1].split(" ") ?? [];
}

Deno.test("without permissions, a Unix datagram bind names all three flags its path needs, and sendto and send the two theirs need: one corrected run succeeds", async () => {
  await withDir(async (dir) => {
    using receiver = dgram(`${dir}/r`);
    const cases: [string, string, string[]][] = [
      ["bind", `${dir}/b`, [
        `--allow-read=${dir}/b`,
        `--allow-write=${dir}/b`,
        `--allow-net=unix:${dir}/b`,
      ]],
      ["sendto", `${dir}/r`, [`--allow-write=${dir}/r`, `--allow-net=unix:${dir}/r`]],
      ["connect", `${dir}/r`, [`--allow-write=${dir}/r`, `--allow-net=unix:${dir}/r`]],
    ];
    const base = ["--no-config", "--unstable-net", "--no-prompt"];
    for (const [action, path, expected] of cases) {
      const denied = await runScript(PROBE(action, path), base);
      assert.equal(denied.code, 0, denied.stderr);
      const outcome = JSON.parse(denied.stdout);
      assert.deepEqual([outcome.name, outcome.errno], ["PermissionError", 13], action);
      assert.deepEqual(namedFlags(outcome.message), expected, action);
      const allowed = await runScript(PROBE(action, path), [...base, ...expected]);
      assert.deepEqual(JSON.parse(allowed.stdout), { ok: true }, `${action} with ${expected}`);
    }
    receiver.setblocking(false);
    for (let i = 0; i < 2; i++) assert.equal(text((await receiver.recvfrom(10))[0]), "x");
  });
});

// ---- socketserver ----

const PY_SERVER = `
import os, socketserver
d = sys.argv[1]
seen = []
class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        seen.append([data.decode(), self.client_address, self.server.server_address])
        if self.client_address:
            sock.sendto(b"re:" + data, self.client_address)
srv = socketserver.UnixDatagramServer(d + "/srv", Handler)
named = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); named.bind(d + "/named")
unnamed = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
named.sendto(b"one", d + "/srv"); srv.handle_request()
unnamed.sendto(b"two", d + "/srv"); srv.handle_request()
reply = named.recvfrom(100)
srv.server_close()
again = err(lambda: socketserver.UnixDatagramServer(d + "/srv", Handler))
print(json.dumps([[[x.replace(d, "D") if isinstance(x, str) else x for x in s] for s in seen],
    [reply[0].decode(), reply[1].replace(d, "D")], os.path.exists(d + "/srv"), again]))
`;

Deno.test("UnixDatagramServer: serverAddress, a named client's address and the reply to it, the socket file after serverClose, as in CPython (an unnamed client's address is '' for None)", async () => {
  const py = await withDir((dir) => pythonJson(PY_SERVER, dir)) as unknown[];
  const ours = await withDir(async (dir) => {
    const seen: unknown[][] = [];
    const show = (a: unknown) => typeof a === "string" ? a.replace(dir, "D") : a;
    class Handler extends BaseRequestHandler<DatagramRequest> {
      override async handle() {
        const [data, sock] = this.request;
        seen.push([text(data), show(this.clientAddress), show(this.server.serverAddress)]);
        if (this.clientAddress) await sock.sendto(`re:${text(data)}`, this.clientAddress);
      }
    }
    const server = new UnixDatagramServer(`${dir}/srv`, Handler);
    using named = dgram(`${dir}/named`);
    using unnamed = dgram();
    await named.sendto("one", `${dir}/srv`);
    await server.handleRequest();
    await unnamed.sendto("two", `${dir}/srv`);
    await server.handleRequest();
    const [data, from] = await named.recvfrom(100);
    await server.serverClose();
    let again: unknown = null;
    try {
      await using _s = new UnixDatagramServer(`${dir}/srv`, Handler);
    } catch (e) {
      again = [(e as Error).name, (e as { errno?: unknown }).errno ?? null];
    }
    return [seen, [text(data), show(from)], (await Deno.lstat(`${dir}/srv`)).isSocket, again];
  });
  // CPython gives an unnamed sender's address as None; pysock as "" (udp.ts).
  const [pySeen] = py as [unknown[][]];
  pySeen[1][1] = "";
  assert.deepEqual(ours, py);
});

Deno.test("Unix servers with allowReuseAddress bind, as in CPython (Linux takes SO_REUSEADDR on a Unix socket and ignores it)", async () => {
  const py = await withDir((dir) =>
    pythonJson(
      `import socketserver
d = sys.argv[1]
class S(socketserver.UnixStreamServer): allow_reuse_address = True
class D(socketserver.UnixDatagramServer): allow_reuse_address = True
out = []
for cls, name in ((S, "/s"), (D, "/d")):
    srv = cls(d + name, socketserver.BaseRequestHandler)
    out.append(srv.server_address.replace(d, "D")); srv.server_close()
print(json.dumps(out))`,
      dir,
    )
  );
  const ours = await withDir(async (dir) => {
    class S extends UnixStreamServer {
      static override allowReuseAddress = true;
    }
    class D extends UnixDatagramServer {
      static override allowReuseAddress = true;
    }
    const out: unknown[] = [];
    for (const [Server, name] of [[S, "/s"], [D, "/d"]] as const) {
      await using server = new Server(dir + name, BaseRequestHandler);
      out.push((server.serverAddress as string).replace(dir, "D"));
    }
    return out;
  });
  assert.deepEqual(ours, py);
});

// ---- a peer named by bytes that are not UTF-8 ----

// A CPython peer binds "<dir>/s\xff" (bytes), sends one datagram from it and
// one from an unnamed socket, then connects from "<dir>/c\xff" and then from
// an unnamed socket, and reports what each connection read.
const PY_NOT_UTF8_PEER = `
import os, socket, sys
d = os.fsencode(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(d + b"/s\\xff")
s.sendto(b"named", d + b"/r")
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"unnamed", d + b"/r")
out = []
for name in (d + b"/c\\xff", None):
    c = socket.socket(socket.AF_UNIX)
    if name: c.bind(name)
    c.connect(d + b"/l"); c.settimeout(5)
    out.append(c.recv(100).decode())
print(out)
`;

async function notUtf8Peer(dir: string): Promise<unknown[]> {
  using r = dgram(`${dir}/r`);
  await using l = socket(AF_UNIX);
  l.bind(`${dir}/l`);
  l.listen();
  await using peer = python(PY_NOT_UTF8_PEER, dir);
  const out: unknown[] = [];
  for (let i = 0; i < 2; i++) {
    try {
      out.push(text((await r.recvfrom(100))[0]));
    } catch (e) {
      out.push([(e as Error).name, (e as OSError).errno, (e as Error).message]);
    }
  }
  for (let i = 0; i < 2; i++) {
    try {
      const [a] = await l.accept();
      await using _a = a;
      await a.sendall(`hello ${i}`);
      out.push("accepted");
    } catch (e) {
      out.push([(e as Error).name, (e as OSError).errno, (e as Error).message]);
      // CPython's second connection, which pysock accepts next.
      const [a] = await l.accept();
      await using _a = a;
      await a.sendall(`hello ${i}`);
      break;
    }
  }
  out.push((await peer.output()).trim());
  return out;
}

Deno.test("a datagram or a connection from a peer whose name is not UTF-8 fails recvfrom and accept with an EINVAL that says so, and the next one gets through", async () => {
  let dir = "";
  const ours = await withDir((d) => notUtf8Peer(dir = d));
  const said = (name: string) => [
    "OSError",
    22,
    `[Errno 22] Invalid argument: Deno cannot give the Unix socket name "${dir}/${name}\\xFF", ` +
    "which is not valid UTF-8, and drops the datagram or connection that came from it",
  ];
  // The connection from the bad name is closed unread: its peer reads EOF.
  assert.deepEqual(ours, [said("s"), "unnamed", said("c"), "['', 'hello 0']"]);
});

Deno.test({
  name:
    "a datagram and a connection from a peer whose name is not UTF-8 are received, as in CPython (which gives the name surrogate-escaped)",
  // BUG: Deno reads the peer's address into a string and fails the receive
  // or accept when the name is not UTF-8 (InvalidData), after taking the
  // datagram or connection from the kernel: the datagram is lost and the
  // connection closed (the peer reads EOF). CPython delivers both. pysock
  // says so in the EINVAL (test above); only Deno can keep the data.
  ignore: true,
  async fn() {
    const ours = await withDir(notUtf8Peer);
    assert.deepEqual(ours, ["named", "unnamed", "accepted", "accepted", "['hello 0', 'hello 1']"]);
  },
});
