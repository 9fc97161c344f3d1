// The stream socket's properties and constructors against CPython 3.11
// (the options are in stream_options_differential_test.ts): family, type
// and proto of every kind of socket, names before and after bind, what a
// closed socket still answers, timeouts and what accept() and the module
// functions give their sockets, createServer's and createConnection's
// arguments. Each test runs the same steps in a python3 twin; Unix paths are
// written D/... on both sides before comparing.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  createConnection,
  createServer,
  getdefaulttimeout,
  hasDualstackIpv6,
  type OSError,
  setdefaulttimeout,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_STREAM,
  socket,
  SOL_SOCKET,
  type StreamSocket,
} from "../mod.ts";
import { FAMILIES, HAS_IPV6, loopback, outcome, PY_OUTCOME, pythonJson } from "./_helpers.ts";

/** `value` as JSON with the temp dir written D, for comparing paths. */
function norm(value: unknown, dir: string | undefined): unknown {
  const text = JSON.stringify(value);
  return JSON.parse(dir ? text.replaceAll(dir, "D") : text);
}

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: family, type, proto, names and timeout of a fresh, an accepted and a closed stream socket are CPython's`, async () => {
    const py = await pythonJson(
      PY_OUTCOME + `
import shutil, tempfile
fam = int(sys.argv[1])
d = tempfile.mkdtemp()
a = d + "/u" if fam == socket.AF_UNIX else ("::1", 0) if fam == socket.AF_INET6 else ("127.0.0.1", 0)
s = socket.socket(fam)
out = [s.family, s.type, s.proto, s.getsockname(), outcome(s.getpeername), s.gettimeout(), s.getblocking(), s.fileno() > 2]
s.bind(a)
s.listen()
c = socket.socket(fam)
c.connect(s.getsockname())
acc, peer = s.accept()
out += [acc.family, acc.type, acc.proto, acc.gettimeout()]
if fam == socket.AF_UNIX:
    out += [c.getsockname(), c.getpeername(), acc.getsockname(), acc.getpeername(), peer]
else:
    out += [c.getpeername() == acc.getsockname(), c.getsockname() == acc.getpeername() == peer]
fds = [s.fileno(), c.fileno(), acc.fileno()]
out.append(len(set(fds)) == 3)
c.close()
c.close()
out += [c.fileno(), outcome(c.getsockname), outcome(c.getpeername), outcome(lambda: c.settimeout(1)),
        c.gettimeout(), outcome(lambda: c.setblocking(False)), c.gettimeout(), c.getblocking(),
        c.family, c.type, c.proto, outcome(lambda: c.shutdown(socket.SHUT_WR)), outcome(c.listen),
        outcome(lambda: c.bind(a)), outcome(lambda: c.makefile("rb").read(1))]
acc.close()
s.close()
shutil.rmtree(d)
print(json.dumps(out).replace(d, "D"))
`,
      String(family),
    );
    const dir = family === AF_UNIX ? await Deno.makeTempDir() : undefined;
    const a = family === AF_UNIX ? `${dir}/u` : loopback(family);
    const s = socket(family);
    const c = socket(family);
    let acc: StreamSocket | null = null;
    try {
      const out: unknown[] = [
        s.family,
        s.type,
        s.proto,
        s.getsockname(),
        outcome(() => s.getpeername()),
        s.gettimeout(),
        s.getblocking(),
        s.fileno() > 2,
      ];
      s.bind(a);
      s.listen();
      const accepting = s.accept();
      await c.connect(s.getsockname());
      const [accepted, peer] = await accepting;
      acc = accepted;
      out.push(acc.family, acc.type, acc.proto, acc.gettimeout());
      if (family === AF_UNIX) {
        out.push(c.getsockname(), c.getpeername(), acc.getsockname(), acc.getpeername(), peer);
      } else {
        const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
        out.push(
          same(c.getpeername(), acc.getsockname()),
          same(c.getsockname(), acc.getpeername()) && same(acc.getpeername(), peer),
        );
      }
      out.push(new Set([s.fileno(), c.fileno(), acc.fileno()]).size === 3);
      c.close();
      c.close();
      out.push(
        c.fileno(),
        outcome(() => c.getsockname()),
        outcome(() => c.getpeername()),
        outcome(() => c.settimeout(1)),
        c.gettimeout(),
        outcome(() => c.setblocking(false)),
        c.gettimeout(),
        c.getblocking(),
        c.family,
        c.type,
        c.proto,
        outcome(() => c.shutdown(1)),
        outcome(() => c.listen()),
        outcome(() => c.bind(a)),
        // CPython's makefile() on a closed socket returns a file whose first
        // read fails with EBADF; pysock's makefile() fails with it at once.
        outcome(() => c.makefile("rb")),
      );
      assert.deepEqual(norm(out, dir), py);
    } finally {
      acc?.close();
      s.close();
      c.close();
      if (dir) await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("socket(family, SOCK_STREAM, proto) takes the protocols CPython takes, and keeps them in proto", async () => {
  const cases: [number, number][] = [
    [AF_INET, 6],
    [AF_INET, 0],
    [AF_UNIX, 1],
    [AF_UNIX, 6],
    [
      AF_INET,
      17,
    ],
    [AF_INET, -1],
    [AF_UNIX, 2],
  ];
  if (HAS_IPV6) cases.push([AF_INET6, 6], [AF_INET6, 1]);
  const py = await pythonJson(
    PY_OUTCOME + `
out = []
for fam, proto in json.loads(sys.argv[1]):
    s = outcome(lambda: socket.socket(fam, socket.SOCK_STREAM, proto))
    out.append([s.family, s.type, s.proto] if isinstance(s, socket.socket) else s)
    if isinstance(s, socket.socket):
        s.close()
print(json.dumps(out))
`,
    JSON.stringify(cases),
  );
  const ours = cases.map(([fam, proto]) => {
    const s = outcome(() => socket(fam, SOCK_STREAM, proto));
    if (!(s instanceof Object) || Array.isArray(s)) return s;
    const sock = s as StreamSocket;
    sock.close();
    return [sock.family, sock.type, sock.proto];
  });
  assert.deepEqual(ours, py);
});

Deno.test("settimeout, setblocking, gettimeout and getblocking move between states as in CPython", async () => {
  const py = await pythonJson(
    PY_OUTCOME + `
s = socket.socket()
out = []
for step in json.loads(sys.argv[1]):
    if step[0] == "t":
        out.append(outcome(lambda: s.settimeout(step[1])))
    else:
        out.append(outcome(lambda: s.setblocking(step[1])))
    out.append([s.gettimeout(), s.getblocking()])
s.close()
print(json.dumps(out))
`,
    JSON.stringify(TIMEOUT_STEPS),
  );
  using s = socket();
  const out: unknown[] = [];
  for (const [kind, value] of TIMEOUT_STEPS) {
    out.push(
      outcome(() => kind === "t" ? s.settimeout(value as number | null) : s.setblocking(!!value)),
    );
    out.push([s.gettimeout(), s.getblocking()]);
  }
  // Python's ValueError is a RangeError here (the house rule); ints print as floats there.
  const expected = (py as unknown[]).map((o) =>
    Array.isArray(o) && o[0] === "ValueError" ? ["RangeError", null] : o
  );
  assert.deepEqual(out, expected);
});

Deno.test("settimeout(NaN), setdefaulttimeout(NaN) and createConnection's timeout NaN are Python's ValueError (a RangeError), before any I/O", async () => {
  const py = await pythonJson(
    PY_OUTCOME + `
s = socket.socket()
nan = float("nan")
print(json.dumps([outcome(lambda: s.settimeout(nan)), outcome(lambda: socket.setdefaulttimeout(nan)),
                  outcome(lambda: socket.create_connection(("127.0.0.1", 1), timeout=nan))]))
s.close()
`,
  );
  assert.deepEqual(py, [["ValueError", null], ["ValueError", null], ["ValueError", null]]);
  using s = socket();
  assert.throws(() => s.settimeout(NaN), RangeError);
  assert.equal(s.gettimeout(), null);
  assert.throws(() => setdefaulttimeout(NaN), RangeError);
  assert.equal(getdefaulttimeout(), null);
  await assert.rejects(createConnection(["127.0.0.1", 1], { timeout: NaN }), RangeError);
});

const TIMEOUT_STEPS: ["t" | "b", number | boolean | null][] = [
  ["t", 0],
  ["t", null],
  ["t", 2.5],
  ["b", false],
  ["b", true],
  ["t", 0.000001],
  ["b", 0],
  ["b", 1],
  ["t", -1],
  ["t", -0.5],
];

// ---- what accept() and the module functions give their sockets ----

Deno.test("accept() gives getdefaulttimeout(), not the listener's timeout; createConnection its own timeout or the default, as CPython", async () => {
  const py = await pythonJson(
    `
out = []
for default in (None, 0, 2.5):
    l = socket.create_server(("127.0.0.1", 0))
    l.settimeout(7)
    c = socket.create_connection(l.getsockname())
    c2 = socket.create_connection(l.getsockname(), timeout=3)
    socket.setdefaulttimeout(default)
    l2 = socket.create_server(("127.0.0.1", 0))
    a, _ = l.accept()
    a2, _ = l.accept()
    fresh = socket.socket()
    out.append([l.gettimeout(), a.gettimeout(), a.getblocking(), a2.gettimeout(), c.gettimeout(), c2.gettimeout(), fresh.gettimeout(), l2.gettimeout(), socket.getdefaulttimeout()])
    for s in (l, c, c2, a, a2, l2, fresh):
        s.close()
    socket.setdefaulttimeout(None)
print(json.dumps(out))
`,
  );
  const out: unknown[] = [];
  try {
    for (const timeout of [null, 0, 2.5]) {
      const opened: StreamSocket[] = [];
      try {
        const l = createServer(["127.0.0.1", 0]);
        opened.push(l);
        l.settimeout(7);
        const addr = l.getsockname() as [string, number];
        const c = await createConnection(addr);
        const c2 = await createConnection(addr, { timeout: 3 });
        opened.push(c, c2);
        setdefaulttimeout(timeout);
        const l2 = createServer(["127.0.0.1", 0]);
        const [a] = await l.accept();
        const [a2] = await l.accept();
        const fresh = socket();
        opened.push(l2, a, a2, fresh);
        out.push([
          l.gettimeout(),
          a.gettimeout(),
          a.getblocking(),
          a2.gettimeout(),
          c.gettimeout(),
          c2.gettimeout(),
          fresh.gettimeout(),
          l2.gettimeout(),
          getdefaulttimeout(),
        ]);
      } finally {
        for (const s of opened) s.close();
        setdefaulttimeout(null);
      }
    }
  } finally {
    setdefaulttimeout(null);
  }
  assert.deepEqual(out, py);
});

Deno.test("createServer's sockets: family, proto, SO_REUSEADDR and SO_REUSEPORT, the wildcard name, and its argument errors are CPython's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const py = await pythonJson(
      PY_OUTCOME + `
import shutil, tempfile
d = tempfile.mkdtemp()
def info(s):
    name = s.getsockname()
    out = [s.family, s.type, s.proto, s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR),
           s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT), name if isinstance(name, str) else name[0]]
    s.close()
    return out
def made(call):
    s = outcome(call)
    return info(s) if isinstance(s, socket.socket) else s
out = [
    made(lambda: socket.create_server(("127.0.0.1", 0))),
    made(lambda: socket.create_server(("127.0.0.1", 0), backlog=0, reuse_port=True)),
    made(lambda: socket.create_server(d + "/u", family=socket.AF_UNIX)),
    made(lambda: socket.create_server(("127.0.0.1", 0), dualstack_ipv6=True)),
    made(lambda: socket.create_server(d + "/v", family=socket.AF_UNIX, dualstack_ipv6=True)),
    made(lambda: socket.create_server(("127.0.0.1", 0), backlog=-1)),
    socket.has_dualstack_ipv6(),
]
if sys.argv[1] == "1":
    out += [
        made(lambda: socket.create_server(("", 0), family=socket.AF_INET6)),
        made(lambda: socket.create_server(("::1", 0), family=socket.AF_INET6, dualstack_ipv6=True)),
    ]
shutil.rmtree(d)
print(json.dumps(out).replace(d, "D"))
`,
      HAS_IPV6 ? "1" : "0",
    );
    const info = (s: StreamSocket) => {
      const name = s.getsockname();
      const out = [
        s.family,
        s.type,
        s.proto,
        s.getsockopt(SOL_SOCKET, SO_REUSEADDR),
        s.getsockopt(SOL_SOCKET, SO_REUSEPORT),
        typeof name === "string" ? name : name[0],
      ];
      s.close();
      return out;
    };
    const made = (call: () => StreamSocket) => {
      const s = outcome(call);
      return Array.isArray(s) ? s : info(s as StreamSocket);
    };
    const out: unknown[] = [
      made(() => createServer(["127.0.0.1", 0])),
      made(() => createServer(["127.0.0.1", 0], { backlog: 0, reusePort: true })),
      made(() => createServer(`${dir}/u`, { family: AF_UNIX })),
      made(() => createServer(["127.0.0.1", 0], { dualstackIpv6: true })),
      made(() => createServer(`${dir}/v`, { family: AF_UNIX, dualstackIpv6: true })),
      made(() => createServer(["127.0.0.1", 0], { backlog: -1 })),
      hasDualstackIpv6(),
    ];
    if (HAS_IPV6) {
      out.push(
        made(() => createServer(["", 0], { family: AF_INET6 })),
        made(() => createServer(["::1", 0], { family: AF_INET6, dualstackIpv6: true })),
      );
    }
    // Python's ValueError is a RangeError here (the house rule).
    const expected = (py as unknown[]).map((o) =>
      Array.isArray(o) && o[0] === "ValueError" ? ["RangeError", null] : o
    );
    assert.deepEqual(norm(out, dir), expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createServer's bind errors are CPython's: an OSError naming the address, also for an address of the other family (EAI_ADDRFAMILY); SO_REUSEPORT on AF_UNIX is EOPNOTSUPP before it", async () => {
  using taken = createServer(["127.0.0.1", 0]);
  const port = taken.getsockname()[1] as number;
  const py = await pythonJson(
    `
def failure(call):
    try:
        call()
    except Exception as e:
        return [type(e).__name__, e.errno, e.strerror]
import shutil, tempfile
d = tempfile.mkdtemp()
out = [failure(lambda: socket.create_server(("127.0.0.1", int(sys.argv[1])))),
       failure(lambda: socket.create_server(("::1", 0), family=socket.AF_INET)),
       failure(lambda: socket.create_server(d + "/u", family=socket.AF_UNIX, reuse_port=True))]
shutil.rmtree(d)
if sys.argv[2] == "1":
    out.append(failure(lambda: socket.create_server(("127.0.0.1", 0), family=socket.AF_INET6)))
print(json.dumps(out))
`,
    String(port),
    HAS_IPV6 ? "1" : "0",
  );
  const failure = (call: () => unknown) => {
    try {
      call();
      return null;
    } catch (e) {
      const err = e as OSError;
      return [err.name, err.errno, err.strerror];
    }
  };
  const dir = await Deno.makeTempDir();
  const out = [
    failure(() => createServer(["127.0.0.1", port])),
    failure(() => createServer(["::1", 0], { family: AF_INET })),
    // SO_REUSEPORT on a Unix socket fails before the bind: no address named.
    failure(() => createServer(`${dir}/u`, { family: AF_UNIX, reusePort: true })),
  ];
  await Deno.remove(dir, { recursive: true });
  if (HAS_IPV6) out.push(failure(() => createServer(["127.0.0.1", 0], { family: AF_INET6 })));
  assert.deepEqual(out, py);
});

Deno.test(
  "createConnection's sockets: family and proto by address, the peer's name, and the empty host (gaierror EAI_NONAME) are CPython's",
  {
    ignore: !HAS_IPV6,
  },
  async () => {
    using server = createServer(["::", 0], { family: AF_INET6, dualstackIpv6: true });
    const port = server.getsockname()[1] as number;
    const hosts = ["localhost", "127.0.0.1", "::1", "::ffff:127.0.0.1", ""];
    const py = await pythonJson(
      PY_OUTCOME + `
port = int(sys.argv[1])
l = socket.socket(socket.AF_INET6)
out = []
for host in json.loads(sys.argv[2]):
    c = outcome(lambda: socket.create_connection((host, port)))
    if isinstance(c, socket.socket):
        out.append([c.family, c.type, c.proto, c.getpeername()])
        c.close()
    else:
        out.append(c)
l.close()
print(json.dumps(out))
`,
      String(port),
      JSON.stringify(hosts),
    );
    const out: unknown[] = [];
    for (const host of hosts) {
      try {
        const accepting = server.accept();
        // Settled by the connect, or by the server's close after a failed one.
        accepting.catch(() => {});
        const c = await createConnection([host, port]);
        (await accepting)[0].close();
        out.push([c.family, c.type, c.proto, c.getpeername()]);
        c.close();
      } catch (e) {
        out.push([(e as Error).name, (e as OSError).errno ?? null]);
      }
    }
    assert.deepEqual(out, py);
  },
);
