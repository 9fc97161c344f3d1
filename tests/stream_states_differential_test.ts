// What a stream socket answers in each state, against CPython 3.11 (the
// twins work as in stream_options_differential_test.ts): the same calls, in
// the same order, on a fresh, a bound, a listening, a connected and an
// accepted socket, non-blocking, and the outcomes compared. Where pysock
// cannot do what Linux does, KNOWN says so; those that are bugs have an
// ignored test of their own below.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_UNIX,
  type OSError,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_ACCEPTCONN,
  socket,
  SOL_SOCKET,
  type StreamSocket,
} from "../mod.ts";
import { FAMILIES, loopback, pair, pythonJson } from "./_helpers.ts";

const CALLS = [
  "listen",
  "bind",
  "accept",
  "shutdown",
  "send",
  "recv",
  "connect",
  "getpeername",
] as const;
type Call = typeof CALLS[number];
const STATES = ["fresh", "bound", "listener", "client", "accepted"] as const;
type State = typeof STATES[number];

const PY_STATES = `
import shutil, tempfile
fam = int(sys.argv[1])
d = tempfile.mkdtemp()
def at(name):
    if fam == socket.AF_UNIX:
        return d + "/" + name
    return ("::1", 0) if fam == socket.AF_INET6 else ("127.0.0.1", 0)
target = socket.socket(fam)
target.bind(at("t"))
target.listen()
fresh = socket.socket(fam)
bound = socket.socket(fam)
bound.bind(at("b"))
listener = socket.socket(fam)
listener.bind(at("l"))
listener.listen()
client = socket.socket(fam)
client.connect(target.getsockname())
accepted, _ = target.accept()
def step(call):
    try:
        r = call()
        if isinstance(r, bytes):
            return "bytes"
        return "accepted" if isinstance(r, tuple) else r
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
out = {}
extra = []
for name, s in [("fresh", fresh), ("bound", bound), ("listener", listener), ("client", client), ("accepted", accepted)]:
    s.setblocking(False)
    row = []
    for call in json.loads(sys.argv[2]):
        if call == "listen":
            row.append(step(lambda: s.listen()))
        elif call == "bind":
            row.append(step(lambda: s.bind(at("x" + name))))
        elif call == "accept":
            row.append(step(lambda: extra.append(s.accept()[0]) or ("accepted",)))
        elif call == "shutdown":
            row.append(step(lambda: s.shutdown(socket.SHUT_WR)))
        elif call == "send":
            row.append(step(lambda: s.send(b"x")))
        elif call == "recv":
            row.append(step(lambda: s.recv(1)))
        elif call == "connect":
            row.append(step(lambda: s.connect(target.getsockname())))
        else:
            row.append(step(lambda: s.getpeername() and "named" or "unnamed"))
    out[name] = row
for s in extra + [fresh, bound, listener, client, accepted, target]:
    s.close()
shutil.rmtree(d)
print(json.dumps(out))
`;

async function ours(family: number): Promise<Record<State, unknown[]>> {
  const dir = family === AF_UNIX ? await Deno.makeTempDir() : undefined;
  const at = (name: string) => family === AF_UNIX ? `${dir}/${name}` : loopback(family);
  const opened: StreamSocket[] = [];
  const open = () => {
    const s = socket(family);
    opened.push(s);
    return s;
  };
  try {
    const target = open();
    target.bind(at("t"));
    target.listen();
    const fresh = open();
    const bound = open();
    bound.bind(at("b"));
    const listener = open();
    listener.bind(at("l"));
    listener.listen();
    const client = open();
    const accepting = target.accept();
    await client.connect(target.getsockname());
    const [accepted] = await accepting;
    opened.push(accepted);
    const step = async (call: () => unknown) => {
      try {
        const r = await call();
        return r instanceof Uint8Array ? "bytes" : r ?? null;
      } catch (e) {
        return [(e as Error).name, (e as OSError).errno ?? null];
      }
    };
    const out = {} as Record<State, unknown[]>;
    const states: [State, StreamSocket][] = [
      ["fresh", fresh],
      ["bound", bound],
      ["listener", listener],
      ["client", client],
      ["accepted", accepted],
    ];
    for (const [name, s] of states) {
      s.setblocking(false);
      const row: unknown[] = [];
      for (const call of CALLS) {
        row.push(
          await step((): unknown => {
            switch (call) {
              case "listen":
                return s.listen();
              case "bind":
                return s.bind(at(`x${name}`));
              case "accept":
                return s.accept().then(([conn]) => {
                  opened.push(conn);
                  return "accepted";
                });
              case "shutdown":
                return s.shutdown(SHUT_WR);
              case "send":
                return s.send("x");
              case "recv":
                return s.recv(1);
              case "connect":
                return s.connect(target.getsockname());
              case "getpeername":
                return s.getpeername() ? "named" : "unnamed";
            }
          }),
        );
      }
      out[name] = row;
    }
    return out;
  } finally {
    // Awaited: the non-blocking accepts that failed with EAGAIN keep an
    // accept pending, so those listeners put their files back a turn after
    // close() (_unix_file.ts), which the directory's removal must not race.
    for (const s of opened) await s[Symbol.asyncDispose]();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}

/** Where pysock's outcome differs from CPython's, and why: [kind of socket, state, call, pysock's outcome, why]. */
const KNOWN: ["tcp" | "unix", State, Call, unknown, string][] = [
  [
    "tcp",
    "accepted",
    "getpeername",
    "named",
    "BUG (ignored test below): both ends have shut down, so Linux has closed the connection",
  ],
  [
    "unix",
    "fresh",
    "shutdown",
    ["OSError", 107],
    "BUG (ignored test below): a bound Unix socket's shutdown needs no connection either",
  ],
  ["unix", "fresh", "connect", ["OSError", 95], "API.md: Deno cannot connect a bound socket"],
  ["unix", "fresh", "getpeername", ["OSError", 107], "so it is not connected"],
  [
    "unix",
    "client",
    "bind",
    ["OSError", 22],
    "Linux names an unnamed connected Unix socket; Deno cannot bind a connection",
  ],
  ["unix", "accepted", "getpeername", "unnamed", "so its peer has no name"],
];

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: listen, bind, accept, shutdown, send, recv, connect and getpeername, in turn on a fresh, bound, listening, connected and accepted non-blocking socket, answer as CPython's`, async () => {
    const py = await pythonJson(PY_STATES, String(family), JSON.stringify(CALLS)) as Record<
      State,
      unknown[]
    >;
    const mine = await ours(family);
    for (const state of STATES) {
      const expected = CALLS.map((call, i) => {
        const kind = family === AF_UNIX ? "unix" : "tcp";
        const known = KNOWN.find(([k, st, c]) => k === kind && st === state && c === call);
        return known ? known[3] : py[state][i];
      });
      assert.deepEqual(
        CALLS.map((call, i) => [call, mine[state][i]]),
        CALLS.map((call, i) => [call, expected[i]]),
        state,
      );
    }
  });
}

// ---- shutdown of a listening or unconnected socket ----

Deno.test("shutdown(SHUT_WR) on a listening socket succeeds and it goes on accepting, as CPython's", async () => {
  for (const { family } of FAMILIES) {
    const dir = family === AF_UNIX ? await Deno.makeTempDir() : undefined;
    try {
      using l = socket(family);
      l.bind(family === AF_UNIX ? `${dir}/l` : loopback(family));
      l.listen();
      l.shutdown(SHUT_WR);
      using c = socket(family);
      const accepting = l.accept();
      await c.connect(l.getsockname());
      using _a = (await accepting)[0];
    } finally {
      if (dir) await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("shutdown(SHUT_RD) or shutdown(SHUT_RDWR) stops a listening TCP socket as CPython's: a pending accept fails with EINVAL, so do accept and connect, and listen() opens it again", async () => {
  // Linux disconnects a TCP listener on SHUT_RD (tcp_disconnect): accept()
  // waiting in another thread wakes with EINVAL, a Python idiom to end an
  // accept loop.
  const py = await pythonJson(`
import threading
def step(call):
    try:
        call()
        return None
    except OSError as e:
        return [type(e).__name__, e.errno]
out = []
for how in (socket.SHUT_RD, socket.SHUT_RDWR):
    l = socket.create_server(("127.0.0.1", 0))
    got = []
    t = threading.Thread(target=lambda: got.append(step(l.accept)))
    t.start()
    time.sleep(0.1)
    out.append(step(lambda: l.shutdown(how)))
    t.join()
    out += [got[0], step(l.accept), step(lambda: l.connect(("127.0.0.1", 1))),
            step(lambda: l.shutdown(how)), l.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)]
    l.listen()
    c = socket.create_connection(l.getsockname())
    a, _ = l.accept()
    out.append(l.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    for s in (a, c, l):
        s.close()
print(json.dumps(out))
`);
  const step = async (call: () => unknown) => {
    try {
      await call();
      return null;
    } catch (e) {
      return [(e as Error).name, (e as OSError).errno];
    }
  };
  const out: unknown[] = [];
  for (const how of [SHUT_RD, SHUT_RDWR]) {
    using l = socket(AF_INET);
    l.bind(["127.0.0.1", 0]);
    l.listen();
    const pending = step(() => l.accept());
    out.push(await step(() => l.shutdown(how)));
    out.push(
      await pending,
      await step(() => l.accept()),
      await step(() => l.connect(["127.0.0.1", 1])),
      await step(() => l.shutdown(how)),
      l.getsockopt(SOL_SOCKET, SO_ACCEPTCONN),
    );
    l.listen();
    using c = socket(AF_INET);
    const accepting = l.accept();
    await c.connect(l.getsockname());
    using _a = (await accepting)[0];
    out.push(l.getsockopt(SOL_SOCKET, SO_ACCEPTCONN));
  }
  assert.deepEqual(out, py);
});

Deno.test("shutdown on an unconnected AF_UNIX socket succeeds, as CPython's, and holds for the connection it makes later: recv reads the end of stream, send is EPIPE", async () => {
  // Linux's unix_shutdown needs no peer: it records the directions.
  const py = await pythonJson(`
import os, shutil, tempfile
d = tempfile.mkdtemp()
def step(call):
    try:
        r = call()
        return r.hex() if isinstance(r, bytes) else r
    except OSError as e:
        return [type(e).__name__, e.errno]
srv = socket.socket(socket.AF_UNIX)
srv.bind(d + "/s")
srv.listen()
rd, wr = socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)
out = [step(lambda: rd.shutdown(socket.SHUT_RD)), step(lambda: wr.shutdown(socket.SHUT_WR)),
       step(lambda: rd.shutdown(socket.SHUT_RD)), step(lambda: wr.send(b"x"))]
rd.connect(d + "/s")
a, _ = srv.accept()
wr.connect(d + "/s")
b, _ = srv.accept()
out += [step(lambda: rd.recv(1)), step(lambda: rd.send(b"y")), step(lambda: a.recv(1)),
        step(lambda: wr.send(b"z")), step(lambda: b.send(b"w")), step(lambda: wr.recv(1))]
for s in (rd, wr, a, b, srv):
    s.close()
shutil.rmtree(d)
print(json.dumps(out))
`);
  const dir = await Deno.makeTempDir();
  const step = async (call: () => unknown) => {
    try {
      const r = await call();
      return r instanceof Uint8Array
        ? Array.from(r, (x) => x.toString(16).padStart(2, "0")).join("")
        : r ?? null;
    } catch (e) {
      return [(e as Error).name, (e as OSError).errno];
    }
  };
  try {
    using srv = socket(AF_UNIX);
    srv.bind(`${dir}/s`);
    srv.listen();
    using rd = socket(AF_UNIX);
    using wr = socket(AF_UNIX);
    const out = [
      await step(() => rd.shutdown(SHUT_RD)),
      await step(() => wr.shutdown(SHUT_WR)),
      await step(() => rd.shutdown(SHUT_RD)),
      await step(() => wr.send("x")),
    ];
    let accepting = srv.accept();
    await rd.connect(`${dir}/s`);
    using a = (await accepting)[0];
    accepting = srv.accept();
    await wr.connect(`${dir}/s`);
    using b = (await accepting)[0];
    out.push(
      await step(() => rd.recv(1)),
      await step(() => rd.send("y")),
      await step(() => a.recv(1)),
      await step(() => wr.send("z")),
      await step(() => b.send("w")),
      await step(() => wr.recv(1)),
    );
    assert.deepEqual(out, py);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "shutdown(SHUT_RD) on a bound AF_UNIX socket succeeds, and its listener then refuses connections, as CPython's",
  // BUG: Linux records SHUT_RD on a bound Unix socket too, and its listener
  // then refuses connections (unix_stream_connect: ECONNREFUSED) while
  // accept() waits. Deno's listener cannot refuse them, so pysock's
  // shutdown() on a bound Unix socket stays ENOTCONN.
  ignore: true,
  async fn() {
    const py = await pythonJson(PY_OUTCOME_UNIX_LISTENER);
    const dir = await Deno.makeTempDir();
    try {
      using l = socket(AF_UNIX);
      l.bind(`${dir}/l`);
      const out: unknown[] = [outcomeOf(() => l.shutdown(SHUT_RD))];
      l.listen();
      using c = socket(AF_UNIX);
      out.push(await outcomeOfAsync(() => c.connect(`${dir}/l`)));
      assert.deepEqual(out, py);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const PY_OUTCOME_UNIX_LISTENER = `
import shutil, tempfile
d = tempfile.mkdtemp()
l = socket.socket(socket.AF_UNIX)
l.bind(d + "/l")
out = [err(lambda: l.shutdown(socket.SHUT_RD))]
l.listen()
c = socket.socket(socket.AF_UNIX)
out.append(err(lambda: c.connect(d + "/l")))
c.close()
l.close()
shutil.rmtree(d)
print(json.dumps(out))
`;

function outcomeOf(call: () => unknown): unknown {
  try {
    call();
    return null;
  } catch (e) {
    return [(e as Error).name, (e as OSError).errno ?? null];
  }
}

async function outcomeOfAsync(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return null;
  } catch (e) {
    return [(e as Error).name, (e as OSError).errno ?? null];
  }
}

Deno.test({
  name:
    "getpeername once both ends have shut down and read the end of stream is ENOTCONN on both, as CPython's",
  // BUG: after a FIN each way (and its ACK) Linux has closed the connection
  // (TIME_WAIT on one end, CLOSE on the other): getpeername raises
  // ENOTCONN. pysock still returns the address Deno reported.
  ignore: true,
  async fn() {
    const py = await pythonJson(`
a, b = tcppair()
a.shutdown(socket.SHUT_WR)
b.recv(1)
b.shutdown(socket.SHUT_WR)
a.recv(1)
time.sleep(0.05)
print(json.dumps([err(a.getpeername), err(b.getpeername)]))
a.close()
b.close()
`);
    await using p = await pair();
    p.client.shutdown(SHUT_WR);
    await p.conn.recv(1);
    p.conn.shutdown(SHUT_WR);
    await p.client.recv(1);
    const out = [p.client, p.conn].map((s) => {
      try {
        s.getpeername();
        return null;
      } catch (e) {
        return [(e as Error).name, (e as OSError).errno];
      }
    });
    assert.deepEqual(out, py);
  },
});
