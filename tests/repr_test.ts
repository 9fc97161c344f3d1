// A socket says what it is (_repr.ts): String(sock), console.log and
// node:util's inspect give CPython's repr, case by case beside its twin.
// Descriptors and ports differ between the two runs, so both are written
// as fd=N and PORT before comparing.

import assert from "node:assert/strict";
import { inspect } from "node:util";
import { AF_INET6, AF_UNIX, createConnection, createServer, SOCK_DGRAM, socket } from "../mod.ts";
import { HAS_IPV6, pythonJson } from "./_helpers.ts";

/** A repr with its descriptor and ports generalised (fd=-1 stays: it means closed). */
function general(repr: string): string {
  return repr.replace(/fd=\d+/g, "fd=N").replace(/(', )\d+/g, "$1PORT");
}

const PY_STREAM = `
import tempfile
d = tempfile.mkdtemp()
out = []
s = socket.socket()
out.append(repr(s))
s.bind(("127.0.0.1", 0))
s.listen()
out.append(repr(s))
c = socket.create_connection(s.getsockname())
a, _ = s.accept()
out += [repr(c), repr(a)]
f = a.makefile("rb")
a.close()
out.append(repr(a))
f.close()
out.append(repr(a))
c.close()
out.append(str(c))
u = socket.socket(socket.AF_UNIX)
out.append(repr(u))
u.bind(d + "/s.sock")
out.append(repr(u).replace(d, "DIR"))
u.close()
print(json.dumps(out))
`;

Deno.test("String(sock) is CPython's repr of a stream socket: fresh, listening, connected, accepted, closed, Unix", async () => {
  const py = (await pythonJson(PY_STREAM) as string[]).map(general);
  assert.deepEqual(py, [
    "<socket.socket fd=N, family=2, type=1, proto=0, laddr=('0.0.0.0', PORT)>",
    "<socket.socket fd=N, family=2, type=1, proto=0, laddr=('127.0.0.1', PORT)>",
    "<socket.socket fd=N, family=2, type=1, proto=6, laddr=('127.0.0.1', PORT), raddr=('127.0.0.1', PORT)>",
    "<socket.socket fd=N, family=2, type=1, proto=0, laddr=('127.0.0.1', PORT), raddr=('127.0.0.1', PORT)>",
    "<socket.socket [closed] fd=N, family=2, type=1, proto=0>",
    "<socket.socket [closed] fd=-1, family=2, type=1, proto=0>",
    "<socket.socket [closed] fd=-1, family=2, type=1, proto=6>",
    "<socket.socket fd=N, family=1, type=1, proto=0>",
    "<socket.socket fd=N, family=1, type=1, proto=0, laddr=DIR/s.sock>",
  ]);
  const dir = await Deno.makeTempDir();
  try {
    const out: string[] = [];
    const s = socket();
    out.push(String(s));
    s.bind(["127.0.0.1", 0]);
    s.listen();
    out.push(String(s));
    const c = await createConnection(s.getsockname() as [string, number]);
    const [a] = await s.accept();
    out.push(String(c), String(a));
    const f = a.makefile("rb");
    a.close();
    out.push(String(a));
    await f.close();
    out.push(String(a));
    c.close();
    out.push(`${c}`);
    const u = socket(AF_UNIX);
    out.push(String(u));
    u.bind(`${dir}/s.sock`);
    out.push(String(u).replace(dir, "DIR"));
    u.close();
    s.close();
    assert.deepEqual(out.map(general), py);
    // The descriptor shown is the socket's own fileno().
    using t = socket();
    assert.ok(String(t).startsWith(`<socket.socket fd=${t.fileno()}, `));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const PY_DATAGRAM = `
out = []
d = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
out.append(repr(d))
d.bind(("::1", 0))
out.append(repr(d))
d.connect(("0::1", d.getsockname()[1]))
out.append(repr(d))
d.close()
out.append(repr(d))
print(json.dumps(out))
`;

Deno.test(
  "String(sock) is CPython's repr of a datagram socket: unbound, bound, connected, closed",
  {
    ignore: !HAS_IPV6,
  },
  async () => {
    const py = (await pythonJson(PY_DATAGRAM) as string[]).map(general);
    assert.deepEqual(py, [
      "<socket.socket fd=N, family=10, type=2, proto=0, laddr=('::', PORT, 0, 0)>",
      "<socket.socket fd=N, family=10, type=2, proto=0, laddr=('::1', PORT, 0, 0)>",
      "<socket.socket fd=N, family=10, type=2, proto=0, laddr=('::1', PORT, 0, 0), raddr=('::1', PORT, 0, 0)>",
      "<socket.socket [closed] fd=-1, family=10, type=2, proto=0>",
    ]);
    const out: string[] = [];
    const d = socket(AF_INET6, SOCK_DGRAM);
    out.push(String(d));
    d.bind(["::1", 0]);
    out.push(String(d));
    await d.connect(["0::1", d.getsockname()[1] as number]);
    out.push(String(d));
    d.close();
    out.push(String(d));
    assert.deepEqual(out.map(general), py);
  },
);

Deno.test("console.log, Deno.inspect and node:util's inspect show the repr, also inside arrays", () => {
  using server = createServer(["127.0.0.1", 0]);
  const repr = String(server);
  assert.match(
    repr,
    /^<socket\.socket fd=\d+, family=2, type=1, proto=0, laddr=\('127\.0\.0\.1', \d+\)>$/,
  );
  assert.equal(Deno.inspect(server), repr);
  assert.equal(inspect(server), repr);
  assert.equal(Deno.inspect([server], { breakLength: Infinity }), `[ ${repr} ]`);
});
