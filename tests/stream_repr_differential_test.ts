// The stream socket's repr, what a reset connection still answers, and a
// non-blocking connect in progress, against CPython 3.11 (continued from
// stream_properties_differential_test.ts, which says how the twins work).
// repr_test.ts has IPv4 and a bound Unix socket; these are the other
// families and states.

import assert from "node:assert/strict";
import {
  AF_UNIX,
  createServer,
  IPPROTO_TCP,
  type OSError,
  SO_ERROR,
  socket,
  SOL_SOCKET,
  type StreamSocket,
  TCP_NODELAY,
} from "../mod.ts";
import { FAMILIES, loopback, pythonJson, resetClients, silentListener } from "./_helpers.ts";
import { accepted } from "./_hostile_peer.ts";

/** A repr with its descriptor, ports and temp dir generalised (fd=-1 stays: it means closed). */
function general(repr: string, dir?: string): string {
  const out = repr.replace(/fd=\d+/g, "fd=N").replace(/(', )\d+/g, "$1P");
  return dir ? out.replaceAll(dir, "D") : out;
}

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: repr of a listening, connected, accepted, half-closed and closed stream socket, with a makefile open, is CPython's`, async () => {
    const py = await pythonJson(
      `
import re, shutil, tempfile
fam = int(sys.argv[1])
d = tempfile.mkdtemp()
a = d + "/s" if fam == socket.AF_UNIX else ("::1", 0) if fam == socket.AF_INET6 else ("127.0.0.1", 0)
out = []
l = socket.socket(fam)
if fam != socket.AF_UNIX:
    l.listen()
    out.append(repr(l))
    l.close()
    l = socket.socket(fam)
l.bind(a)
l.listen()
out.append(repr(l))
c = socket.socket(fam)
c.connect(l.getsockname())
acc, _ = l.accept()
out += [repr(c), repr(acc)]
f = c.makefile("rwb")
out.append(repr(c))
c.shutdown(socket.SHUT_WR)
out.append(repr(c))
c.close()
out.append(repr(c))
f.close()
out += [repr(c), repr(acc)]
acc.close()
l.close()
shutil.rmtree(d)
print(json.dumps([re.sub(r"fd=[0-9]+", "fd=N", re.sub(r"(', )[0-9]+", r"\\1P", r)).replace(d, "D") for r in out]))
`,
      String(family),
    );
    const dir = family === AF_UNIX ? await Deno.makeTempDir() : undefined;
    const opened: StreamSocket[] = [];
    const out: string[] = [];
    try {
      let l = socket(family);
      opened.push(l);
      if (family !== AF_UNIX) {
        l.listen();
        out.push(String(l));
        l.close();
        l = socket(family);
        opened.push(l);
      }
      l.bind(family === AF_UNIX ? `${dir}/s` : loopback(family));
      l.listen();
      out.push(String(l));
      const c = socket(family);
      opened.push(c);
      const accepting = l.accept();
      await c.connect(l.getsockname());
      const [acc] = await accepting;
      opened.push(acc);
      out.push(String(c), String(acc));
      const f = c.makefile("rwb");
      out.push(String(c));
      c.shutdown(1);
      out.push(String(c));
      c.close();
      out.push(String(c));
      await f.close();
      out.push(String(c), String(acc));
      assert.deepEqual(out.map((r) => general(r, dir)), py);
    } finally {
      for (const s of opened) s.close();
      if (dir) await Deno.remove(dir, { recursive: true });
    }
  });
}

// The twin of the reset tests: a connection reset before or after accept(),
// then the steps named in argv[2], each printed as a value or [class, errno].
const PY_RESET = `
import re, struct
before = sys.argv[1] == "before"
srv = socket.create_server(("127.0.0.1", 0))
srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c = socket.create_connection(srv.getsockname())
if not before:
    a, _ = srv.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
time.sleep(0.05)
if before:
    a, _ = srv.accept()
def step(name):
    try:
        if name == "recv":
            return a.recv(10).hex()
        if name == "getpeername":
            return a.getpeername()
        if name == "SO_ERROR":
            return a.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if name == "TCP_NODELAY":
            return a.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        if name == "repr":
            return re.sub(r"fd=[0-9]+", "fd=N", re.sub(r"(', )[0-9]+", r"\\1P", repr(a)))
        if name == "send":
            return a.send(b"x")
        return a.shutdown(socket.SHUT_RDWR)
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
out = [step(name) for name in json.loads(sys.argv[2])]
a.close()
srv.close()
print(json.dumps(out))
`;

type ResetStep = "recv" | "getpeername" | "SO_ERROR" | "TCP_NODELAY" | "repr" | "send" | "shutdown";

async function resetSteps(a: StreamSocket, steps: ResetStep[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const name of steps) {
    try {
      if (name === "recv") out.push(hexOf(await a.recv(10)));
      else if (name === "getpeername") out.push(a.getpeername());
      else if (name === "SO_ERROR") out.push(a.getsockopt(SOL_SOCKET, SO_ERROR));
      else if (name === "TCP_NODELAY") out.push(a.getsockopt(IPPROTO_TCP, TCP_NODELAY));
      else if (name === "repr") out.push(general(String(a)));
      else if (name === "send") out.push(await a.send("x"));
      else out.push(a.shutdown(2) ?? null);
    } catch (e) {
      out.push([(e as Error).name, (e as OSError).errno ?? null]);
    }
  }
  return out;
}

function hexOf(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

const AFTER_RESET: ResetStep[] = [
  "recv",
  "getpeername",
  "SO_ERROR",
  "repr",
  "recv",
  "send",
  "shutdown",
];

Deno.test("after the peer resets, a stream socket's recv, getpeername, SO_ERROR, repr, send and shutdown are CPython's", async () => {
  const py = await pythonJson(PY_RESET, "after", JSON.stringify(AFTER_RESET));
  // The client resets once pysock has accepted it and said so.
  await using p = await accepted([["go"], ["reset"]]);
  await p.conn.sendall("go");
  await p.result();
  assert.deepEqual(await resetSteps(p.conn, AFTER_RESET), py);
});

Deno.test("a connection reset before accept(): TCP_NODELAY (the listener's), SO_ERROR, recv, getpeername, repr, send and shutdown are CPython's", async () => {
  // TCP_NODELAY: the listener's, which even a reset connection inherits.
  const steps: ResetStep[] = [
    "TCP_NODELAY",
    "SO_ERROR",
    "SO_ERROR",
    "recv",
    "getpeername",
    "repr",
    "send",
    "shutdown",
  ];
  const py = await pythonJson(PY_RESET, "before", JSON.stringify(steps));
  using server = createServer(["127.0.0.1", 0]);
  server.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  await resetClients(server.getsockname()[1] as number);
  const [a] = await server.accept();
  using _a = a;
  assert.deepEqual(await resetSteps(a, steps), py);
});

Deno.test({
  name:
    "after the peer resets, SO_ERROR read before any recv gives ECONNRESET (and the next recv end of stream), as CPython",
  // BUG: Linux holds the reset as the socket's pending error, which SO_ERROR
  // reads (and clears). Deno has no getsockopt, and pysock learns of the
  // reset only from a read: until a recv, SO_ERROR reads 0 and the next recv
  // raises ConnectionResetError. (A reset before accept() is known at once:
  // see the test above.)
  ignore: true,
  async fn() {
    const steps: ResetStep[] = ["SO_ERROR", "recv", "SO_ERROR"];
    const py = await pythonJson(PY_RESET, "after", JSON.stringify(steps));
    await using p = await accepted([["go"], ["reset"]]);
    await p.conn.sendall("go");
    await p.result();
    assert.deepEqual(await resetSteps(p.conn, steps), py);
  },
});

// ---- a non-blocking connect still in progress ----

const PY_IN_PROGRESS = `
import re
l = socket.create_server(("127.0.0.1", 0), backlog=0)
fillers = []
for _ in range(8):
    c = socket.socket()
    c.settimeout(0.2)
    fillers.append(c)
    if c.connect_ex(l.getsockname()) != 0:
        break
s = socket.socket()
s.setblocking(False)
def step(call):
    try:
        return call()
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
out = [step(lambda: s.connect(l.getsockname())), step(s.getpeername), step(lambda: s.bind(("127.0.0.1", 0))),
       step(lambda: s.connect(l.getsockname())), s.getsockname()[0], s.getsockname()[1] > 0,
       re.sub(r"fd=[0-9]+", "fd=N", re.sub(r"(', )[0-9]+", r"\\1P", repr(s)))]
for c in fillers + [s, l]:
    c.close()
print(json.dumps(out))
`;

async function inProgress(): Promise<unknown[]> {
  await using l = await silentListener();
  using s = socket();
  s.setblocking(false);
  const step = async (call: () => unknown) => {
    try {
      return await call() ?? null;
    } catch (e) {
      return [(e as Error).name, (e as OSError).errno ?? null];
    }
  };
  const name = () => s.getsockname() as [string, number];
  return [
    await step(() => s.connect(l.addr)),
    await step(() => s.getpeername()),
    await step(() => s.bind(["127.0.0.1", 0])),
    await step(() => s.connect(l.addr)),
    name()[0],
    name()[1] > 0,
    general(String(s)),
  ];
}

Deno.test("while a non-blocking connect is in progress, connect, getpeername and bind answer as CPython's (EINPROGRESS, ENOTCONN, EINVAL, EALREADY)", async () => {
  const py = await pythonJson(PY_IN_PROGRESS) as unknown[];
  assert.deepEqual((await inProgress()).slice(0, 4), py.slice(0, 4));
});

Deno.test({
  name:
    "while a non-blocking connect is in progress, getsockname and repr show the local address the kernel bound, as CPython's",
  // BUG: Linux binds the local address when the SYN leaves, so CPython's
  // getsockname() gives ('127.0.0.1', port) at once; Deno.connect reports
  // the connection's addresses only once it is established, so pysock's
  // getsockname() and repr show the unbound ('0.0.0.0', 0) until then.
  ignore: true,
  async fn() {
    const py = await pythonJson(PY_IN_PROGRESS);
    assert.deepEqual(await inProgress(), py);
  },
});
