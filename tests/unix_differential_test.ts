// Unix stream sockets against CPython 3.11: the same operation run by a
// python3 twin in its own temp dir and by pysock in another, outcomes
// compared as [className, errno]. Paths (bad ones, long ones, relative ones),
// the address forms of each kind of socket, file-system errors, data with a
// CPython peer and a full accept queue. Datagram twins, socket types and
// EACCES: unix_datagram_differential_test.ts.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  AF_UNIX,
  DatagramSocket,
  SHUT_RD,
  SHUT_WR,
  SOCK_DGRAM,
  SOCK_STREAM,
  socket,
  type StreamSocket,
} from "../mod.ts";
import {
  assertPending,
  errorOf,
  MOD,
  python,
  pythonChat,
  pythonJson,
  runScript,
  settled,
  text,
} from "./_helpers.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// Bad places to bind or connect, named relative to a fresh dir holding a
// regular file "reg" and a stale socket file "stale" (bound, then closed);
// "len:N" is a missing path of exactly N bytes.
const BAD_PATHS = ["nodir/x", "reg", ".", "reg/x", "stale", "len:107", "len:108", "len:109"];

// The stream side connects, the datagram side sends a datagram there.
const PY_PATHS = `
import os
d, kind = sys.argv[1], int(sys.argv[3])
def path(spec):
    if spec.startswith("len:"):
        n = int(spec[4:])
        return d + "/" + "x" * (n - len(d) - 1)
    return d + "/" + spec
def reach(s, p):
    return s.connect(p) if kind == socket.SOCK_STREAM else s.sendto(b"x", p)
open(d + "/reg", "w").close()
stale = socket.socket(socket.AF_UNIX, kind); stale.bind(d + "/stale"); stale.close()
out = []
for spec in json.loads(sys.argv[2]):
    p = path(spec)
    c = socket.socket(socket.AF_UNIX, kind); out.append(err(lambda: reach(c, p))); c.close()
    b = socket.socket(socket.AF_UNIX, kind); out.append(err(lambda: b.bind(p))); b.close()
    if spec == "len:107": os.unlink(p)
try:
    socket.socket(socket.AF_UNIX, kind).bind(path("len:108"))
except OSError as e:
    out.append(str(e))
print(json.dumps(out))
`;

for (const [kind, reach] of [[SOCK_STREAM, "connect"], [SOCK_DGRAM, "sendto"]] as const) {
  const name = kind === SOCK_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM";
  Deno.test(`${name}: ${reach} and bind on a missing dir, a regular file, a directory, a path through a file, a stale socket file and paths of 107-109 bytes fail as in CPython`, async () => {
    const args = [JSON.stringify(BAD_PATHS), String(kind)];
    const py = await withDirResult((dir) => pythonJson(PY_PATHS, dir, ...args));
    const ours = await withDirResult(async (dir) => {
      const path = (spec: string) =>
        spec.startsWith("len:")
          ? `${dir}/${"x".repeat(Number(spec.slice(4)) - dir.length - 1)}`
          : `${dir}/${spec}`;
      await Deno.writeTextFile(`${dir}/reg`, "");
      const stale = socket(AF_UNIX, kind);
      stale.bind(`${dir}/stale`);
      stale.close();
      const out: unknown[] = [];
      for (const spec of BAD_PATHS) {
        const p = path(spec);
        const c = socket(AF_UNIX, kind);
        out.push(await errorOf(c instanceof DatagramSocket ? c.sendto("x", p) : c.connect(p)));
        c.close();
        const b = socket(AF_UNIX, kind);
        out.push(await errorOf(Promise.resolve().then(() => b.bind(p))));
        b.close();
        if (spec === "len:107") await Deno.remove(p);
      }
      try {
        socket(AF_UNIX, kind).bind(path("len:108"));
      } catch (e) {
        out.push((e as Error).message);
      }
      return out;
    });
    assert.deepEqual(ours, py);
  });
}

async function withDirResult<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  let result: T;
  await withDir(async (dir) => {
    result = await fn(dir);
  });
  return result!;
}

// The address forms, with every path relative to the twin's dir shown as "D/...".
const PY_FORMS = `
d = sys.argv[1]
if sys.argv[2] == "relative":
    import os
    os.chdir(d)
    d = "."
def show(a):
    return a.replace(sys.argv[1], "D") if isinstance(a, str) else a
out = []
u = socket.socket(socket.AF_UNIX)
out += [u.getsockname(), err(u.getpeername), err(u.listen)]
u.close()
l = socket.socket(socket.AF_UNIX); l.bind(d + "/s.sock"); l.listen()
c = socket.socket(socket.AF_UNIX); c.connect(d + "/s.sock")
a, addr = l.accept()
out += [show(l.getsockname()), err(l.getpeername), c.getsockname(), show(c.getpeername()), addr,
        show(a.getsockname()), a.getpeername()]
for s in (a, c, l): s.close()
print(json.dumps(out))
`;

async function forms(dir: string, relative: boolean): Promise<unknown[]> {
  const cwd = Deno.cwd();
  if (relative) Deno.chdir(dir);
  const base = relative ? "." : dir;
  const show = (a: unknown) => typeof a === "string" ? a.replace(dir, "D") : a;
  try {
    const out: unknown[] = [];
    const u = socket(AF_UNIX);
    out.push(u.getsockname(), await errorOf(Promise.resolve().then(() => u.getpeername())));
    out.push(await errorOf(Promise.resolve().then(() => u.listen())));
    u.close();
    await using l = socket(AF_UNIX);
    l.bind(`${base}/s.sock`);
    l.listen();
    await using c = socket(AF_UNIX);
    await c.connect(`${base}/s.sock`);
    const [a, addr] = await l.accept();
    await using _a = a;
    out.push(
      show(l.getsockname()),
      await errorOf(Promise.resolve().then(() => l.getpeername())),
      c.getsockname(),
      show(c.getpeername()),
      addr,
      show(a.getsockname()),
      a.getpeername(),
    );
    return out;
  } finally {
    Deno.chdir(cwd);
  }
}

Deno.test("unbound, listening, connected and accepted Unix sockets name themselves as in CPython, and listen() unbound is EINVAL", async () => {
  const py = await withDirResult((dir) => pythonJson(PY_FORMS, dir, "absolute"));
  const ours = await withDirResult((dir) => forms(dir, false));
  assert.deepEqual(ours, py);
  assert.deepEqual(ours.slice(0, 3), ["", ["OSError", 107], ["OSError", 22]]);
});

Deno.test({
  name:
    "a relative path is bound, and named by getsockname and getpeername, as given, as in CPython",
  // BUG: when permissions are granted per flag (--allow-read, --allow-write,
  // as this suite runs; not under -A), Deno resolves a relative Unix path
  // against Deno.cwd() before it binds or connects, so the kernel holds the
  // absolute name: getsockname() and a peer's getpeername() give
  // "/tmp/.../s.sock" where CPython gives "./s.sock". Deno-side; pysock
  // could only fake the local half. Under -A the names match.
  ignore: true,
  async fn() {
    const py = await withDirResult((dir) => pythonJson(PY_FORMS, dir, "relative"));
    const ours = await withDirResult((dir) => forms(dir, true));
    assert.deepEqual(ours, py);
  },
});

const LONG_RELATIVE = (deep: string) => `
import { AF_UNIX, socket } from ${JSON.stringify(MOD)};
Deno.chdir(${JSON.stringify(deep)});
const out = [];
for (const [type, call] of [[1, "bind"], [1, "connect"], [2, "bind"], [2, "sendto"]]) {
  const s = socket(AF_UNIX, type);
  try {
    await (call === "sendto" ? s.sendto("x", "r.sock") : s[call]("r.sock"));
    out.push("ok");
  } catch (e) {
    out.push([e.constructor.name, e.errno ?? null, e.message.split(":")[0]]);
  }
  s.close();
}
console.log(JSON.stringify(out));
`;

// CPython binds such a path (the kernel gets the short relative name); Deno
// cannot, and the error must be an OSError that says why.
Deno.test("a relative path that Deno makes absolute and too long fails with OSError 'AF_UNIX path too long' saying why, not Deno's TypeError", async () => {
  await withDir(async (dir) => {
    const deep = `${dir}/${"d".repeat(100)}`;
    await Deno.mkdir(deep);
    const flags = ["--unstable-net", "--no-prompt", `--allow-read=${dir}`, `--allow-write=${dir}`];
    const { code, stdout, stderr } = await runScript(LONG_RELATIVE(deep), [
      ...flags,
      "--allow-net",
    ]);
    assert.equal(code, 0, stderr);
    const tooLong = ["OSError", null, "AF_UNIX path too long"];
    assert.deepEqual(JSON.parse(stdout), [tooLong, tooLong, tooLong, tooLong]);
    assert.deepEqual([...Deno.readDirSync(deep)], []);
  });
});

Deno.test("a non-ASCII path bound by pysock is the file CPython connects to, and the other way round", async () => {
  await withDir(async (dir) => {
    const ours = `${dir}/é☃ pysock.sock`;
    const theirs = `${dir}/ü€ cpython.sock`;
    await using l = socket(AF_UNIX);
    l.bind(ours);
    l.listen();
    await using peer = python(
      `import socket, sys
l = socket.socket(socket.AF_UNIX); l.bind(sys.argv[2]); l.listen()
print(sorted(n for n in __import__("os").listdir(sys.argv[3])) == sorted([sys.argv[1].rsplit("/", 1)[1], sys.argv[2].rsplit("/", 1)[1]]))
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.sendall(b"to pysock"); c.close()
a, _ = l.accept(); print(a.recv(100).decode())`,
      ours,
      theirs,
      dir,
    );
    assert.equal(await peer.firstLine(), "True");
    const [a] = await l.accept();
    await using _a = a;
    assert.equal(text(await a.recv(100)), "to pysock");
    await using c = socket(AF_UNIX);
    await c.connect(theirs);
    await c.sendall("to cpython");
    c.close();
    assert.equal((await peer.output()).split("\n")[1], "to cpython");
  });
});

// ---- data with a CPython peer ----

Deno.test("shutdown(SHUT_WR) over a Unix stream half-closes both ways with a CPython peer: EOF arrives, and the reply after it too", async () => {
  await withDir(async (dir) => {
    const ours = `${dir}/pysock.sock`;
    const theirs = `${dir}/cpython.sock`;
    await using l = socket(AF_UNIX);
    l.bind(ours);
    l.listen();
    // CPython: a client that half-closes, then a server that answers after EOF.
    await using peer = python(
      `import socket, sys
def until_eof(s):
    got = b""
    while True:
        b = s.recv(100)
        if not b: return got
        got += b
l = socket.socket(socket.AF_UNIX); l.bind(sys.argv[2]); l.listen()
print("listening", flush=True)
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])
c.sendall(b"question"); c.shutdown(socket.SHUT_WR)
print(until_eof(c).decode())
a, _ = l.accept()
a.sendall(b"answer to " + until_eof(a)); a.close()`,
      ours,
      theirs,
    );
    assert.equal(await peer.firstLine(), "listening");
    const [a] = await l.accept();
    await using _a = a;
    assert.equal(text(await recvAll(a)), "question");
    await a.sendall("answer");
    a.close();
    await using c = socket(AF_UNIX);
    await c.connect(theirs);
    await c.sendall("ours");
    c.shutdown(SHUT_WR);
    assert.equal(text(await recvAll(c)), "answer to ours");
    assert.deepEqual((await peer.output()).trim().split("\n"), ["listening", "answer"]);
  });
});

Deno.test("16 MiB sendall over a Unix stream arrives whole both ways with a CPython peer (sha256)", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/s.sock`;
    const size = 16 * 1024 * 1024;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) data[i] = (i >> 12) & 255;
    data[size - 1] = 7;
    await using l = socket(AF_UNIX);
    l.bind(path);
    l.listen();
    await using peer = python(
      `import hashlib, socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])
h, n = hashlib.sha256(), 0
while n < ${size}:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest(), flush=True)
back = bytes(range(256)) * (${size} // 256)
c.sendall(back); c.shutdown(socket.SHUT_WR)
print(hashlib.sha256(back).hexdigest())
c.recv(1)`,
      path,
    );
    const [a] = await l.accept();
    await using _a = a;
    await a.sendall(data);
    const [n, digest] = (await peer.firstLine()).split(" ");
    assert.equal(Number(n), size);
    assert.equal(digest, createHash("sha256").update(data).digest("hex"));
    const back = await recvAll(a);
    a.close();
    const out = (await peer.output()).trim().split("\n");
    assert.equal(back.length, size);
    assert.equal(createHash("sha256").update(back).digest("hex"), out[1]);
  });
});

/** Everything until end of stream (bounded by the 16 MiB the tests send). */
async function recvAll(s: StreamSocket): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < 100_000; i++) {
    const b = await s.recv(1 << 20);
    if (b.length === 0) break;
    parts.push(b);
    total += b.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("a CPython client bound to a name before connecting is named by accept() and getpeername(), as CPython names it", async () => {
  await withDir(async (dir) => {
    await using l = socket(AF_UNIX);
    l.bind(`${dir}/l`);
    l.listen();
    await using peer = python(
      `import socket, sys
c = socket.socket(socket.AF_UNIX); c.bind(sys.argv[1] + "/c"); c.connect(sys.argv[1] + "/l")
print(c.getsockname(), c.getpeername(), flush=True)
c.recv(1)`,
      dir,
    );
    const [a, addr] = await l.accept();
    await using _a = a;
    assert.equal(await peer.firstLine(), `${dir}/c ${dir}/l`);
    assert.deepEqual([addr, a.getpeername(), a.getsockname()], [
      `${dir}/c`,
      `${dir}/c`,
      `${dir}/l`,
    ]);
    await a.sendall("x");
    await peer.output();
  });
});

const PY_SHUT_RD = `
d = sys.argv[1]
l = socket.socket(socket.AF_UNIX); l.bind(d + "/l"); l.listen()
c = socket.socket(socket.AF_UNIX); c.connect(d + "/l")
a, _ = l.accept()
a.shutdown(socket.SHUT_RD)
print(json.dumps([a.recv(10).decode(), err(lambda: c.send(b"x")), a.send(b"y"), c.recv(10).decode()]))
`;

Deno.test({
  name:
    "after shutdown(SHUT_RD) on a Unix stream socket the peer's send fails with BrokenPipeError, as in CPython",
  // BUG: on a Unix stream socket Linux's SHUT_RD also shuts the peer's
  // sending side (unix_shutdown), so the peer's send is EPIPE; Deno has no
  // read-side shutdown, pysock's SHUT_RD is local (README: "shutdown(SHUT_RD)
  // wakes waiting reads"), and the peer's send succeeds, its bytes dropped.
  ignore: true,
  async fn() {
    const py = await withDirResult((dir) => pythonJson(PY_SHUT_RD, dir));
    const ours = await withDirResult(async (dir) => {
      await using l = socket(AF_UNIX);
      l.bind(`${dir}/l`);
      l.listen();
      await using c = socket(AF_UNIX);
      await c.connect(`${dir}/l`);
      const [a] = await l.accept();
      await using _a = a;
      a.shutdown(SHUT_RD);
      return [
        text(await a.recv(10)),
        await errorOf(c.send("x")),
        await a.send("y"),
        text(await c.recv(10)),
      ];
    });
    assert.deepEqual(ours, py);
  },
});

// Linux: a Unix stream socket closed with bytes unread resets its peer
// (unix_release_sock): the peer reads what was sent, then ECONNRESET once.
// So pysock must not read ahead of the caller.
const PY_RESET = `
d = sys.argv[1]
l = socket.socket(socket.AF_UNIX); l.bind(d + "/l"); l.listen()
out = []
for closer in ("client", "server"):
    c = socket.socket(socket.AF_UNIX); c.connect(d + "/l"); a, _ = l.accept()
    a.sendall(b"unread by the client"); c.sendall(b"unread by the server")
    gone, left = (c, a) if closer == "client" else (a, c)
    gone.close()
    for _ in range(2):
        try:
            out.append(left.recv(100).decode())
        except OSError as e:
            out.append([type(e).__name__, e.errno])
    out.append(err(lambda: left.send(b"x")))
    left.close()
print(json.dumps(out))
`;

Deno.test("closing a Unix stream socket with bytes unread resets the peer: it reads what was sent, then ConnectionResetError, then BrokenPipeError, as in CPython", async () => {
  const py = await withDirResult((dir) => pythonJson(PY_RESET, dir));
  const ours = await withDirResult(async (dir) => {
    await using l = socket(AF_UNIX);
    l.bind(`${dir}/l`);
    l.listen();
    const out: unknown[] = [];
    for (const closer of ["client", "server"]) {
      const c = socket(AF_UNIX);
      await c.connect(`${dir}/l`);
      const [a] = await l.accept();
      await a.sendall("unread by the client");
      await c.sendall("unread by the server");
      const [gone, left] = closer === "client" ? [c, a] : [a, c];
      gone.close();
      for (let i = 0; i < 2; i++) {
        try {
          out.push(text(await left.recv(100)));
        } catch (e) {
          out.push([(e as Error).name, (e as { errno?: unknown }).errno ?? null]);
        }
      }
      out.push(await errorOf(left.send("x")));
      left.close();
    }
    return out;
  });
  assert.deepEqual(ours, py);
  const [reset, pipe] = [["ConnectionResetError", 104], ["BrokenPipeError", 32]];
  assert.deepEqual(py, ["unread by the server", reset, pipe, "unread by the client", reset, pipe]);
});

// ---- a full accept queue ----

// listen(0): the queue holds one connection, so a second connect finds it full.
const PY_FULL_QUEUE = `
d = sys.argv[1]
l = socket.socket(socket.AF_UNIX); l.bind(d + "/l"); l.listen(0)
first = socket.socket(socket.AF_UNIX); first.connect(d + "/l")
timed = socket.socket(socket.AF_UNIX); timed.settimeout(0.5)
out = [err(lambda: timed.connect(d + "/l"))]
done = []
second = socket.socket(socket.AF_UNIX)
t = threading.Thread(target=lambda: done.append(err(lambda: second.connect(d + "/l"))))
t.start(); t.join(0.05)
out.append(list(done))
l.accept(); t.join(10)
out.append(done)
print(json.dumps(out))
`;

const PY_LISTENER = `
import json, shutil, socket, sys, tempfile
d = tempfile.mkdtemp()
l = socket.socket(socket.AF_UNIX); l.bind(d + "/l"); l.listen(0)
print(json.dumps(d + "/l"), flush=True)
kept = []
for line in sys.stdin:
    kept.append(l.accept()[0])
    print(json.dumps("accepted"), flush=True)
shutil.rmtree(d)
`;

Deno.test("a blocking connect to a Unix listener whose accept queue is full waits until it accepts, and one with a timeout fails with EAGAIN at once, as in CPython", async () => {
  const py = await withDirResult((dir) => pythonJson(PY_FULL_QUEUE, dir));
  await using chat = pythonChat(PY_LISTENER);
  const path = await chat.receive() as string;
  await using first = socket(AF_UNIX);
  await first.connect(path);
  await using timed = socket(AF_UNIX);
  timed.settimeout(0.5);
  const out: unknown[] = [await errorOf(timed.connect(path))];
  await using second = socket(AF_UNIX);
  const connecting = errorOf(second.connect(path));
  await assertPending(connecting, "a connect to a full accept queue");
  out.push([]);
  await chat.send("accept");
  assert.equal(await chat.receive(), "accepted");
  out.push([await settled(connecting, "the connect once the listener accepted")]);
  assert.deepEqual(out, py);
  assert.deepEqual(py, [["BlockingIOError", 11], [], [null]]);
});

Deno.test("a connect waiting for room in a full Unix accept queue ends with EBADF on close(), and with the reason when its signal aborts", async () => {
  await using chat = pythonChat(PY_LISTENER);
  const path = await chat.receive() as string;
  await using first = socket(AF_UNIX);
  await first.connect(path);
  const closing = socket(AF_UNIX);
  const closed = errorOf(closing.connect(path));
  await assertPending(closed, "a connect to a full accept queue");
  closing.close();
  assert.deepEqual(await settled(closed, "the connect after close()"), ["OSError", 9]);
  await using aborting = socket(AF_UNIX);
  const controller = new AbortController();
  const aborted = aborting.connect(path, { signal: controller.signal }).catch((e) => e);
  await assertPending(aborted, "a connect to a full accept queue");
  const reason = new Error("given up");
  controller.abort(reason);
  assert.equal(await settled(aborted, "the connect after abort"), reason);
  // The listener still has room for one once it accepts: nothing was left half-open.
  await chat.send("accept");
  assert.equal(await chat.receive(), "accepted");
  await using last = socket(AF_UNIX);
  await settled(last.connect(path), "a connect once there is room");
});
