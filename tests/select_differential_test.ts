// Readiness, differentially: each socket state is built twice, once on
// pysock sockets and once by a CPython 3.11 twin on its own, over loopback,
// and select.select(..., 0), a DefaultSelector at timeout 0 and one at a
// short timeout must report the same readable/writable/exceptional sets.
// Where a state settles in the background (bytes, FIN, RST, a refused
// connect), both sides first wait for it with a bounded select.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_UNIX,
  BlockingIOError,
  type DatagramSocket,
  OSError,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SOCK_DGRAM,
  SOCK_STREAM,
  socket,
  socketpair,
  type StreamSocket,
} from "../mod.ts";
import { DefaultSelector, EVENT_READ, EVENT_WRITE, select } from "../selectors.ts";
import { freePort, python, resetClients, silentListener } from "./_helpers.ts";

// The CPython twin of the states: prints {state: {select, sel0, selT}}.
const STATES_TWIN = String.raw`
import json, os, select, selectors, socket, struct, sys, tempfile, time

def bits(r, w, x):
    return ("r" if r else "") + ("w" if w else "") + ("x" if x else "")

def ask(s):
    r, w, x = select.select([s], [s], [s], 0)
    out = {"select": bits(r, w, x)}
    for name, t in (("sel0", 0), ("selT", 0.05)):
        with selectors.DefaultSelector() as sel:
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
            ev = sum(e for _, e in sel.select(t))
            out[name] = bits(ev & 1, ev & 2, 0)
    return out

def wait_r(s):
    select.select([s], [], [], 5)

def wait_w(s):
    select.select([], [s], [], 5)

def tcp():
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
    c = socket.create_connection(l.getsockname())
    a, _ = l.accept()
    return l, c, a

res = {}
def state(name):
    def deco(f):
        res[name] = f()
        return f
    return deco

@state("fresh TCP socket")
def _():
    s = socket.socket(); o = ask(s); s.close(); return o

@state("listening, no connection")
def _():
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
    o = ask(l); l.close(); return o

def listening(n, drain):
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
    cs = [socket.create_connection(l.getsockname()) for _ in range(n)]
    wait_r(l)
    if drain:
        for _ in range(n): l.accept()[0].close()
    o = ask(l)
    for c in cs: c.close()
    l.close()
    return o

@state("listening, 1 pending")
def _(): return listening(1, False)
@state("listening, 3 pending")
def _(): return listening(3, False)
@state("listening, drained by accept")
def _(): return listening(3, True)

def conn(setup, settle):
    l, c, a = tcp()
    setup(c, a)
    settle(a)
    o = ask(a)
    for s in (l, c, a): s.close()
    return o

nothing = lambda s: None
@state("connected, no data")
def _(): return conn(lambda c, a: None, nothing)
@state("connected, data")
def _(): return conn(lambda c, a: c.sendall(b"hello"), wait_r)
@state("connected, data then FIN")
def _(): return conn(lambda c, a: (c.sendall(b"hello"), c.close()), wait_r)
@state("connected, FIN only (peer closed)")
def _(): return conn(lambda c, a: c.close(), wait_r)
@state("connected, peer half-closed (SHUT_WR)")
def _(): return conn(lambda c, a: c.shutdown(socket.SHUT_WR), wait_r)
def rst(c, a):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
@state("connected, RST from peer")
def _(): return conn(rst, wait_r)
@state("connected, after own shutdown(SHUT_RD)")
def _(): return conn(lambda c, a: a.shutdown(socket.SHUT_RD), nothing)
@state("connected, after own shutdown(SHUT_WR)")
def _(): return conn(lambda c, a: a.shutdown(socket.SHUT_WR), nothing)

def full(drain):
    l, c, a = tcp()
    a.setblocking(False)
    sent = 0
    for _ in range(10000):
        for _ in range(100000):
            try: sent += a.send(b"x" * 16384)
            except BlockingIOError: break
        if not select.select([], [a], [], 0)[1]: break
    if drain:
        got = 0
        while got < sent: got += len(c.recv(1 << 20))
        wait_w(a)
    o = ask(a)
    for s in (l, c, a): s.close()
    return o
@state("send buffer full, peer not reading")
def _(): return full(False)
@state("send buffer full, then drained by the peer")
def _(): return full(True)

@state("connected, after own shutdown(SHUT_RDWR)")
def _(): return conn(lambda c, a: a.shutdown(socket.SHUT_RDWR), nothing)
@state("connected, data then RST from peer")
def _(): return conn(lambda c, a: (c.sendall(b"hello"), rst(c, a)), wait_r)

@state("listening, pending connection reset before accept")
def _():
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
    c = socket.create_connection(l.getsockname())
    wait_r(l)
    rst(c, None)
    o = ask(l); l.close(); return o

@state("non-blocking connect in progress")
def _():
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
    fill = []
    for _ in range(8):
        f = socket.socket(); f.settimeout(0.2); fill.append(f)
        if f.connect_ex(l.getsockname()) != 0: break
    s = socket.socket(); s.setblocking(False)
    s.connect_ex(l.getsockname())
    o = ask(s)
    for f in fill + [s, l]: f.close()
    return o

def freeport():
    p = socket.socket(); p.bind(("127.0.0.1", 0)); n = p.getsockname()[1]; p.close(); return n

@state("non-blocking connect refused")
def _():
    s = socket.socket(); s.setblocking(False)
    s.connect_ex(("127.0.0.1", freeport()))
    wait_w(s)
    o = ask(s); s.close(); return o

@state("non-blocking connect succeeded")
def _():
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
    s = socket.socket(); s.setblocking(False)
    s.connect_ex(l.getsockname())
    wait_w(s)
    o = ask(s); s.close(); l.close(); return o

def udp(n, take):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(n): p.sendto(b"dgram", u.getsockname())
    if n: wait_r(u)
    for _ in range(take): u.recvfrom(100)
    o = ask(u); u.close(); p.close(); return o
@state("UDP bound, no datagram")
def _(): return udp(0, 0)
@state("UDP bound, one datagram")
def _(): return udp(1, 0)
@state("UDP bound, after recvfrom took it")
def _(): return udp(1, 1)
@state("UDP unbound")
def _():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); o = ask(u); u.close(); return o

@state("UDP connected, datagram from the peer")
def _():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); p.bind(("127.0.0.1", 0))
    u.connect(p.getsockname())
    p.sendto(b"dgram", u.getsockname())
    wait_r(u)
    o = ask(u); u.close(); p.close(); return o

d = tempfile.mkdtemp()
def unix_stream(data, listener_only):
    path = os.path.join(d, "s%d" % len(res))
    l = socket.socket(socket.AF_UNIX); l.bind(path); l.listen(8)
    c = socket.socket(socket.AF_UNIX); c.connect(path)
    if listener_only:
        wait_r(l); o = ask(l); c.close(); l.close(); return o
    a, _ = l.accept()
    if data: c.sendall(b"hi"); wait_r(a)
    o = ask(a)
    for s in (l, c, a): s.close()
    return o
@state("Unix stream listening, 1 pending")
def _(): return unix_stream(False, True)
@state("Unix stream connected, no data")
def _(): return unix_stream(False, False)
@state("Unix stream connected, data")
def _(): return unix_stream(True, False)
@state("Unix stream connected, peer closed")
def _():
    path = os.path.join(d, "f%d" % len(res))
    l = socket.socket(socket.AF_UNIX); l.bind(path); l.listen(8)
    c = socket.socket(socket.AF_UNIX); c.connect(path)
    a, _ = l.accept()
    c.close(); wait_r(a)
    o = ask(a); a.close(); l.close(); return o

def unix_dgram(n):
    path = os.path.join(d, "d%d" % len(res))
    u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); u.bind(path)
    p = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for _ in range(n): p.sendto(b"dgram", path)
    if n: wait_r(u)
    o = ask(u); u.close(); p.close(); return o
@state("Unix datagram bound, no datagram")
def _(): return unix_dgram(0)
@state("Unix datagram bound, one datagram")
def _(): return unix_dgram(1)

import shutil; shutil.rmtree(d)
print(json.dumps(res))
`;

// The CPython twin of the registration and error cases.
const API_TWIN = String.raw`
import errno as E, json, select, selectors, socket
def err(f):
    try:
        v = f(); return {"ok": repr(v) if not isinstance(v, (list, type(None), int)) else v}
    except Exception as e:
        return {"err": type(e).__name__, "errno": getattr(e, "errno", None)}
out = {}
a, b = socket.socketpair()
c = socket.socket(); c.close()
out["select with a closed socket in rlist"] = err(lambda: select.select([c], [], [], 0))
out["select with a closed socket in wlist"] = err(lambda: select.select([], [c], [], 0))
out["select with a closed socket in xlist"] = err(lambda: select.select([], [], [c], 0))
sel = selectors.DefaultSelector()
out["register a closed socket"] = err(lambda: sel.register(c, selectors.EVENT_READ))
sel.register(a, selectors.EVENT_READ)
out["register twice"] = err(lambda: sel.register(a, selectors.EVENT_READ))
out["register twice by fileno"] = err(lambda: sel.register(a.fileno(), selectors.EVENT_READ))
a.close()
out["modify a closed fileobj, same events, new data"] = err(lambda: sel.modify(a, selectors.EVENT_READ, "d") and None)
out["modify a closed fileobj, new events"] = err(lambda: sel.modify(a, selectors.EVENT_WRITE) and None)
out["registered after modify failed"] = len(sel.get_map())
out["unregister a closed fileobj after that"] = err(lambda: sel.unregister(a) and None)
sel.register(b, selectors.EVENT_READ)
b.close()
out["unregister a closed fileobj"] = err(lambda: sel.unregister(b) and None)
out["registered after unregister"] = len(sel.get_map())
g, h = socket.socketpair()
h.sendall(b"x")
select.select([g], [], [], 5)
sel.register(g, selectors.EVENT_READ | selectors.EVENT_WRITE)
g.close()
out["select(0) with a registered socket closed, bytes pending"] = err(lambda: sel.select(0))
h.close()
sel.close()
e = selectors.DefaultSelector()
out["empty select(0)"] = err(lambda: e.select(0))
out["empty select(0.05)"] = err(lambda: e.select(0.05))
d, f = socket.socketpair()
e.register(d, selectors.EVENT_READ)
m = e.get_map()
e.close()
out["after close: len(mapping)"] = len(m)
out["after close: get_map()"] = err(lambda: e.get_map())
out["after close: get_key"] = err(lambda: e.get_key(d))
out["after close: select(0)"] = err(lambda: e.select(0))
out["after close: register"] = err(lambda: e.register(f, selectors.EVENT_READ) and None)
out["after close: unregister"] = err(lambda: e.unregister(d) and None)
out["after close: modify"] = err(lambda: e.modify(d, selectors.EVENT_WRITE) and None)
out["after close: close again"] = err(lambda: e.close())
d.close(); f.close()
print(json.dumps(out))
`;

type Answers = { select: string; sel0: string; selT: string };
type Sock = StreamSocket | DatagramSocket;

const theirs = JSON.parse(await python(STATES_TWIN).output()) as Record<string, Answers>;
const theirApi = JSON.parse(await python(API_TWIN).output()) as Record<string, unknown>;

function bits(r: boolean, w: boolean, x: boolean): string {
  return (r ? "r" : "") + (w ? "w" : "") + (x ? "x" : "");
}

/** What the twin's ask() prints, asked of a pysock socket. */
async function ask(s: Sock): Promise<Answers> {
  const [r, w, x] = await select([s], [s], [s], 0);
  const out = { select: bits(r.length > 0, w.length > 0, x.length > 0) } as Answers;
  for (const [name, timeout] of [["sel0", 0], ["selT", 0.05]] as const) {
    using sel = new DefaultSelector();
    sel.register(s, EVENT_READ | EVENT_WRITE);
    let events = 0;
    for (const [, e] of await sel.select(timeout)) events |= e;
    out[name] = bits((events & EVENT_READ) !== 0, (events & EVENT_WRITE) !== 0, false);
  }
  return out;
}

// Bounded waits for a state to settle, as the twin's wait_r/wait_w.
async function waitR(s: Sock): Promise<void> {
  await select([s], [], [], 5);
}
async function waitW(s: Sock): Promise<void> {
  await select([], [s], [], 5);
}

/** A listener, a client connected to it and the accepted end. */
async function tcp(): Promise<[StreamSocket, StreamSocket, StreamSocket]> {
  const l = socket();
  l.bind(["127.0.0.1", 0]);
  l.listen(8);
  const c = socket();
  await c.connect(l.getsockname());
  const [a] = await l.accept();
  return [l, c, a];
}

/** One state: built by `build` (which returns the socket to ask and cleanup), compared with the twin's. */
function differential(
  name: string,
  build: () => Promise<[Sock, () => Promise<void> | void]>,
  opts: { ignore?: boolean } = {},
): void {
  Deno.test({
    name: `readiness as CPython's: ${name}`,
    ignore: opts.ignore,
    fn: async () => {
      assert.ok(name in theirs, `the twin built "${name}"`);
      const [s, cleanup] = await build();
      try {
        assert.deepEqual(await ask(s), theirs[name]);
      } finally {
        await cleanup();
      }
    },
  });
}

const closeAll = (...socks: Sock[]) => () => {
  for (const s of socks) s.close();
};

differential("fresh TCP socket", () => {
  const s = socket();
  return Promise.resolve([s, closeAll(s)]);
});

differential("listening, no connection", () => {
  const l = socket();
  l.bind(["127.0.0.1", 0]);
  l.listen(8);
  return Promise.resolve([l, closeAll(l)]);
});

async function listening(n: number, drain: boolean): Promise<[Sock, () => void]> {
  const l = socket();
  l.bind(["127.0.0.1", 0]);
  l.listen(8);
  const clients: StreamSocket[] = [];
  for (let i = 0; i < n; i++) {
    const c = socket();
    await c.connect(l.getsockname());
    clients.push(c);
  }
  await waitR(l);
  if (drain) { for (let i = 0; i < n; i++) (await l.accept())[0].close(); }
  return [l, closeAll(...clients, l)];
}

differential("listening, 1 pending", () => listening(1, false));
differential("listening, 3 pending", () => listening(3, false));
differential("listening, drained by accept", () => listening(3, true));

async function conn(
  setup: (c: StreamSocket, a: StreamSocket) => Promise<void> | void,
  settle: (s: Sock) => Promise<void>,
): Promise<[Sock, () => void]> {
  const [l, c, a] = await tcp();
  await setup(c, a);
  await settle(a);
  return [a, closeAll(l, c, a)];
}
const nothing = () => Promise.resolve();

differential("connected, no data", () => conn(() => {}, nothing));
differential("connected, data", () => conn((c) => c.sendall("hello"), waitR));
differential(
  "connected, data then FIN",
  () => conn(async (c) => (await c.sendall("hello"), c.close()), waitR),
);
differential("connected, FIN only (peer closed)", () => conn((c) => c.close(), waitR));
differential(
  "connected, peer half-closed (SHUT_WR)",
  () => conn((c) => c.shutdown(SHUT_WR), waitR),
);
differential(
  "connected, after own shutdown(SHUT_RD)",
  () => conn((_, a) => a.shutdown(SHUT_RD), nothing),
);
differential(
  "connected, after own shutdown(SHUT_WR)",
  () => conn((_, a) => a.shutdown(SHUT_WR), nothing),
);

// pysock cannot set SO_LINGER, so a CPython peer resets the connection,
// once it has read our byte (so that the connect has ended first), after
// sending `data`.
async function resetByPeer(data: string): Promise<[Sock, () => Promise<void>]> {
  const peer = python(
    `
import socket, struct, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
c.recv(1)
c.sendall(sys.argv[1].encode())
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`,
    data,
  );
  const s = socket();
  await s.connect(["127.0.0.1", Number(await peer.firstLine())]);
  await s.sendall("x");
  await peer.output();
  await waitR(s);
  return [s, async () => {
    s.close();
    await peer[Symbol.asyncDispose]();
  }];
}

differential("connected, RST from peer", () => resetByPeer(""));
differential("connected, data then RST from peer", () => resetByPeer("hello"));
differential(
  "connected, after own shutdown(SHUT_RDWR)",
  () => conn((_, a) => a.shutdown(SHUT_RDWR), nothing),
);

differential("listening, pending connection reset before accept", async () => {
  const l = socket();
  l.bind(["127.0.0.1", 0]);
  l.listen(8);
  await resetClients(l.getsockname()[1] as number);
  await waitR(l);
  return [l, closeAll(l)];
});

// Full means the kernel is full, as CPython's EAGAIN says. pysock's send
// queue (README) raises BlockingIOError once 64 KiB wait for the kernel,
// which takes them on the next turns of the event loop while it has room;
// so fill until a send fails and the socket then reads as not writable.
async function full(drain: boolean): Promise<[Sock, () => void]> {
  const [l, c, a] = await tcp();
  a.setblocking(false);
  const chunk = new Uint8Array(16384);
  let sent = 0;
  let filled = false;
  for (let round = 0; round < 10_000 && !filled; round++) {
    for (let i = 0; i < 100_000; i++) {
      try {
        sent += await a.send(chunk);
      } catch (err) {
        assert.ok(err instanceof BlockingIOError, String(err));
        break;
      }
    }
    filled = (await select([], [a], [], 0))[1].length === 0;
  }
  assert.ok(filled, "the kernel's buffers filled up");
  if (drain) {
    let got = 0;
    for (let i = 0; i < 1_000_000 && got < sent; i++) got += (await c.recv(1 << 20)).length;
    assert.equal(got, sent);
    await waitW(a);
  }
  return [a, closeAll(l, c, a)];
}

differential("send buffer full, peer not reading", () => full(false));
differential("send buffer full, then drained by the peer", () => full(true));

differential("non-blocking connect in progress", async () => {
  const silent = await silentListener();
  const s = socket();
  s.setblocking(false);
  await s.connectEx(silent.addr);
  return [s, async () => {
    s.close();
    await silent[Symbol.asyncDispose]();
  }];
});

differential("non-blocking connect refused", async () => {
  const s = socket();
  s.setblocking(false);
  await s.connectEx(["127.0.0.1", freePort()]);
  await waitW(s);
  return [s, closeAll(s)];
});

differential("non-blocking connect succeeded", async () => {
  const l = socket();
  l.bind(["127.0.0.1", 0]);
  l.listen(8);
  const s = socket();
  s.setblocking(false);
  await s.connectEx(l.getsockname());
  await waitW(s);
  return [s, closeAll(s, l)];
});

async function udp(n: number, take: number): Promise<[Sock, () => void]> {
  const u = socket(AF_INET, SOCK_DGRAM);
  u.bind(["127.0.0.1", 0]);
  const p = socket(AF_INET, SOCK_DGRAM);
  for (let i = 0; i < n; i++) await p.sendto("dgram", u.getsockname());
  if (n > 0) await waitR(u);
  for (let i = 0; i < take; i++) await u.recvfrom(100);
  return [u, closeAll(u, p)];
}

differential("UDP bound, no datagram", () => udp(0, 0));
differential("UDP bound, one datagram", () => udp(1, 0));
differential("UDP bound, after recvfrom took it", () => udp(1, 1));
differential("UDP connected, datagram from the peer", async () => {
  const u = socket(AF_INET, SOCK_DGRAM);
  u.bind(["127.0.0.1", 0]);
  const p = socket(AF_INET, SOCK_DGRAM);
  p.bind(["127.0.0.1", 0]);
  await u.connect(p.getsockname());
  await p.sendto("dgram", u.getsockname());
  await waitR(u);
  return [u, closeAll(u, p)];
});
differential("UDP unbound", () => {
  const u = socket(AF_INET, SOCK_DGRAM);
  return Promise.resolve([u, closeAll(u)]);
});

async function unixStream(
  data: boolean,
  listenerOnly: boolean,
): Promise<[Sock, () => Promise<void>]> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s.sock`;
  const l = socket(AF_UNIX, SOCK_STREAM);
  l.bind(path);
  l.listen(8);
  const c = socket(AF_UNIX, SOCK_STREAM);
  await c.connect(path);
  // Awaited: a listener closed with an accept pending puts its file back a
  // turn later (_unix_file.ts), which a directory removal must not race.
  const done = async (...socks: Sock[]) => {
    for (const s of socks) await s[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  };
  if (listenerOnly) {
    await waitR(l);
    return [l, () => done(c, l)];
  }
  const [a] = await l.accept();
  if (data) {
    await c.sendall("hi");
    await waitR(a);
  }
  return [a, () => done(l, c, a)];
}

differential("Unix stream listening, 1 pending", () => unixStream(false, true));
differential("Unix stream connected, no data", () => unixStream(false, false));
differential("Unix stream connected, data", () => unixStream(true, false));
differential("Unix stream connected, peer closed", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/f.sock`;
  const l = socket(AF_UNIX, SOCK_STREAM);
  l.bind(path);
  l.listen(8);
  const c = socket(AF_UNIX, SOCK_STREAM);
  await c.connect(path);
  const [a] = await l.accept();
  c.close();
  await waitR(a);
  return [a, async () => {
    a.close();
    l.close();
    await Deno.remove(dir, { recursive: true });
  }];
});

async function unixDgram(n: number): Promise<[Sock, () => Promise<void>]> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/d.sock`;
  const u = socket(AF_UNIX, SOCK_DGRAM);
  u.bind(path);
  const p = socket(AF_UNIX, SOCK_DGRAM);
  for (let i = 0; i < n; i++) await p.sendto("dgram", path);
  if (n > 0) await waitR(u);
  return [u, async () => {
    u.close();
    p.close();
    await Deno.remove(dir, { recursive: true });
  }];
}

// BUG: CPython reports an idle bound Unix datagram socket writable ("w"
// from select and both selectors); pysock reports nothing ready when it is
// asked for reading too, as README says ("a Unix datagram socket watched
// for reading has a receive in flight, which Deno lets no send pass"): a
// send then fails with BlockingIOError. Deno runs one operation at a time
// on a Unix datagram socket, so no small fix exists. Asked for writing
// alone, it is writable (the next test).
differential("Unix datagram bound, no datagram", () => unixDgram(0), { ignore: true });

Deno.test("an idle Unix datagram socket asked for writing alone is writable, as in CPython", async () => {
  const [u, cleanup] = await unixDgram(0);
  try {
    assert.deepEqual((await select([], [u], [], 0))[1], [u]);
    using sel = new DefaultSelector();
    const key = sel.register(u, EVENT_WRITE);
    assert.deepEqual(await sel.select(0), [[key, EVENT_WRITE]]);
  } finally {
    await cleanup();
  }
});
differential("Unix datagram bound, one datagram", () => unixDgram(1));

// Python's exception classes as pysock names them (API.md, STYLE.md:
// ValueError for a bad value is a RangeError here).
const CLASS: Record<string, string> = {
  ValueError: "RangeError",
  KeyError: "KeyError",
  OSError: "OSError",
  RuntimeError: "RuntimeError",
};

type ApiOutcome = { ok: unknown } | { err: string; errno: number | null } | number;

function outcome(call: () => unknown): ApiOutcome {
  try {
    const value = call();
    return { ok: Array.isArray(value) ? value : null };
  } catch (e) {
    const err = e as Error & { errno?: number | null };
    // OSError's subclasses are OSError to Python's `type(e).__name__` only when exact.
    return { err: err.name, errno: err instanceof OSError ? err.errno ?? null : null };
  }
}

async function outcomeOf(call: () => Promise<unknown>): Promise<ApiOutcome> {
  try {
    const value = await call();
    return { ok: Array.isArray(value) ? value : null };
  } catch (e) {
    const err = e as Error & { errno?: number | null };
    return { err: err.name, errno: err instanceof OSError ? err.errno ?? null : null };
  }
}

/** The API twin's cases, on pysock. */
async function ourApi(): Promise<Record<string, ApiOutcome>> {
  const out: Record<string, ApiOutcome> = {};
  const [a, b] = await socketpair();
  const c = socket();
  c.close();
  out["select with a closed socket in rlist"] = await outcomeOf(() => select([c], [], [], 0));
  out["select with a closed socket in wlist"] = await outcomeOf(() => select([], [c], [], 0));
  out["select with a closed socket in xlist"] = await outcomeOf(() => select([], [], [c], 0));
  const sel = new DefaultSelector<string | undefined>();
  out["register a closed socket"] = outcome(() => sel.register(c, EVENT_READ));
  sel.register(a, EVENT_READ);
  out["register twice"] = outcome(() => sel.register(a, EVENT_READ));
  out["register twice by fileno"] = outcome(() => sel.register(a.fileno(), EVENT_READ));
  a.close();
  out["modify a closed fileobj, same events, new data"] = outcome(() => {
    sel.modify(a, EVENT_READ, "d");
  });
  out["modify a closed fileobj, new events"] = outcome(() => {
    sel.modify(a, EVENT_WRITE);
  });
  out["registered after modify failed"] = sel.getMap().size;
  out["unregister a closed fileobj after that"] = outcome(() => {
    sel.unregister(a);
  });
  sel.register(b, EVENT_READ);
  b.close();
  out["unregister a closed fileobj"] = outcome(() => {
    sel.unregister(b);
  });
  out["registered after unregister"] = sel.getMap().size;
  const [g, h] = await socketpair();
  await h.sendall("x");
  await select([g], [], [], 5);
  sel.register(g, EVENT_READ | EVENT_WRITE);
  g.close();
  out["select(0) with a registered socket closed, bytes pending"] = await outcomeOf(() =>
    sel.select(0)
  );
  h.close();
  sel.close();
  const e = new DefaultSelector();
  out["empty select(0)"] = await outcomeOf(() => e.select(0));
  out["empty select(0.05)"] = await outcomeOf(() => e.select(0.05));
  const [d, f] = await socketpair();
  e.register(d, EVENT_READ);
  const m = e.getMap();
  e.close();
  out["after close: len(mapping)"] = m.size;
  out["after close: get_map()"] = outcome(() => {
    e.getMap();
  });
  out["after close: get_key"] = outcome(() => e.getKey(d));
  out["after close: select(0)"] = await outcomeOf(() => e.select(0));
  out["after close: register"] = outcome(() => {
    e.register(f, EVENT_READ);
  });
  out["after close: unregister"] = outcome(() => {
    e.unregister(d);
  });
  out["after close: modify"] = outcome(() => {
    e.modify(d, EVENT_WRITE);
  });
  out["after close: close again"] = outcome(() => e.close());
  d.close();
  f.close();
  return out;
}

// Where pysock differs on purpose: a closed selector raises RuntimeError
// for every call (the RuntimeError doc), where CPython's EpollSelector
// raises ValueError from its closed epoll object for select and register;
// getMap() returns the (empty) mapping rather than None.
const DIFFERENT_ON_PURPOSE: Record<string, ApiOutcome> = {
  "after close: select(0)": { err: "RuntimeError", errno: null },
  "after close: register": { err: "RuntimeError", errno: null },
  "after close: modify": { err: "RuntimeError", errno: null },
};

Deno.test("registration and errors as CPython's: closed sockets, twice, empty selector, closed selector", async () => {
  const ours = await ourApi();
  assert.deepEqual(Object.keys(ours), Object.keys(theirApi));
  const differ: string[] = [];
  for (const [name, theirsOutcome] of Object.entries(theirApi)) {
    const same = (a: unknown, b: unknown) => {
      try {
        assert.deepEqual(a, b);
      } catch {
        differ.push(`${name}: pysock ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);
      }
    };
    if (name in DIFFERENT_ON_PURPOSE) {
      same(ours[name], DIFFERENT_ON_PURPOSE[name]);
      continue;
    }
    const expected = typeof theirsOutcome === "object" && theirsOutcome !== null &&
        "err" in theirsOutcome
      ? { ...theirsOutcome, err: CLASS[(theirsOutcome as { err: string }).err] }
      : theirsOutcome;
    same(ours[name], expected);
  }
  assert.deepEqual(differ, []);
});

Deno.test("unregister, getKey and modify of a negative descriptor raise RangeError, as CPython's ValueError", async () => {
  const out = await python(`
import selectors
s = selectors.DefaultSelector()
for f in (lambda: s.unregister(-1), lambda: s.get_key(-1), lambda: s.modify(-1, 1)):
    try: f()
    except Exception as e: print(type(e).__name__)
`).output();
  const theirs = out.trim().split("\n").map((name) => CLASS[name]);
  using sel = new DefaultSelector();
  const ours = [() => sel.unregister(-1), () => sel.getKey(-1), () => sel.modify(-1, EVENT_READ)]
    .map((call) => (outcome(call) as { err?: string }).err);
  assert.deepEqual(ours, theirs);
});
