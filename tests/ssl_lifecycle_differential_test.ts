// The SSLSocket's lifecycle against CPython 3.11's ssl: what each call does
// on a socket that is not connected, is listening, or is closed; repr; the
// handshake run twice; close() while a call waits. CPython, run in python3
// on the same machine, is the oracle; Python's ValueError is a TypeError in
// pysock (README "What differs from Python's ssl").

import assert from "node:assert/strict";
import { errno, OSError } from "../errors.ts";
import { createConnection, createServer, socket } from "../socket.ts";
import * as ssl from "../ssl.ts";
import { assertPending, pythonJson, rejection, silentListener, text } from "./_helpers.ts";
import { certs, Peer } from "./_ssl_helpers.ts";
import { ACCEPT_ONE, server } from "./_ssl_twin.ts";

async function clientContext(): Promise<ssl.SSLContext> {
  const ctx = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations((await certs()).ca);
  return ctx;
}

/** What a call gave, as the twin prints it: its value, or [class, errno, message]. */
async function outcome(call: () => unknown): Promise<unknown> {
  try {
    const value = await call();
    return value === undefined ? null : value;
  } catch (e) {
    const name = (e as Error).name === "TypeError" ? "ValueError" : (e as Error).name;
    return [name, (e as { errno?: unknown }).errno ?? null, (e as Error).message];
  }
}

// The calls compared, in CPython's names and pysock's.
const CALLS = [
  "getpeercert",
  "cipher",
  "version",
  "selected_alpn_protocol",
  "pending",
  "do_handshake",
  "unwrap",
  "getpeername",
  "sendall",
  "send",
  "sendfile",
] as const;

function ours(s: ssl.SSLSocket): (() => unknown)[] {
  return [
    () => s.getpeercert(),
    () => s.cipher(),
    () => s.version(),
    () => s.selectedAlpnProtocol(),
    () => s.pending(),
    () => s.doHandshake(),
    () => s.unwrap(),
    () => s.getpeername(),
    () => s.sendall("x"),
    () => s.send(""),
    async () => s.sendfile((await certs()).ca),
  ];
}

// Fd numbers and ports differ between the two processes; nothing else may.
const noFd = (value: unknown) =>
  JSON.parse(JSON.stringify(value).replace(/fd=\d+/g, "fd=N").replace(/, \d+\)/g, ", PORT)"));

Deno.test("an SSLSocket that is not connected, one that is closed and a wrapped listener answer each call as CPython's does", async () => {
  const c = await certs();
  const theirs = await pythonJson(
    `
import ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(sys.argv[1])
def outcome(fn):
    try:
        return fn()
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None), str(e)]
def run(s):
    calls = [s.getpeercert, s.cipher, s.version, s.selected_alpn_protocol, s.pending,
             s.do_handshake, s.unwrap, s.getpeername, lambda: s.sendall(b"x"), lambda: s.send(b""),
             lambda: s.sendfile(open(sys.argv[1], "rb"))]
    return [outcome(f) for f in calls]
s = ctx.wrap_socket(socket.socket(), server_hostname="localhost")
unconnected = [repr(s), run(s)]
s.close()
closed = [repr(s), run(s)]
server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain(sys.argv[2], sys.argv[3])
l = server.wrap_socket(socket.create_server(("127.0.0.1", 0)), server_side=True)
listening = [repr(l), run(l)]
l.close()
print(json.dumps([unconnected, closed, listening]))
`,
    c.ca,
    c.server,
    c.serverKey,
  ) as [string, unknown[]][];
  const ctx = await clientContext();
  const s = await ctx.wrapSocket(socket(), { serverHostname: "localhost" });
  const mine: [string, unknown[]][] = [];
  for (let round = 0; round < 2; round++) {
    const results = [];
    for (const call of ours(s)) results.push(await outcome(call));
    mine.push([String(s), results]);
    s.close();
  }
  const server = new ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER);
  server.loadCertChain(c.server, c.serverKey);
  const l = await server.wrapSocket(createServer(["127.0.0.1", 0]), { serverSide: true });
  const results = [];
  for (const call of ours(l)) results.push(await outcome(call));
  mine.push([String(l), results]);
  l.close();
  for (const [i, state] of ["unconnected", "closed", "listening"].entries()) {
    assert.equal(noFd(mine[i][0]), noFd(theirs[i][0]), `${state}: repr`);
    for (const [j, name] of CALLS.entries()) {
      if (state === "closed" && name === "sendfile") {
        // CPython: ValueError "Invalid file descriptor: -1"; API.md: EBADF after close.
        assert.deepEqual(theirs[i][1][j], ["ValueError", null, "Invalid file descriptor: -1"]);
        assert.equal((mine[i][1][j] as unknown[])[1], errno.EBADF);
        continue;
      }
      assert.deepEqual(noFd(mine[i][1][j]), noFd(theirs[i][1][j]), `${state}: ${name}`);
    }
  }
});

// A CPython TLS server for one client: prints its port, handshakes, reports
// what it read until the client closes, and exits.
const READING = ACCEPT_ONE + `
l.close()
s = ctx.wrap_socket(c, server_side=True, do_handshake_on_connect=False)
try:
    s.do_handshake()
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    print(json.dumps(got.decode()), flush=True)
except OSError as e:
    print(json.dumps(type(e).__name__), flush=True)
`;

async function readingServer(): Promise<Peer & { port: number }> {
  const c = await certs();
  const peer = new Peer("python3", ["-c", READING, c.server, c.serverKey]);
  return Object.assign(peer, { port: Number(await peer.line()) });
}

// CPython's repr of an SSLSocket is socket.socket's with its own class name.
Deno.test("String(sslSocket) is CPython's repr: <ssl.SSLSocket fd=..., family, type, proto, laddr, raddr>, [closed] once closed", async () => {
  await using srv = await readingServer();
  const ctx = await clientContext();
  const raw = await createConnection(["127.0.0.1", srv.port]);
  const s = await ctx.wrapSocket(raw, { serverHostname: "localhost" });
  const [host, port] = s.getsockname() as [string, number];
  assert.equal(
    String(s),
    `<ssl.SSLSocket fd=${s.fileno()}, family=2, type=1, proto=6, laddr=('${host}', ${port}), ` +
      `raddr=('127.0.0.1', ${srv.port})>`,
  );
  assert.equal(Deno.inspect(s), String(s));
  s.close();
  assert.equal(String(s), "<ssl.SSLSocket [closed] fd=-1, family=2, type=1, proto=6>");
  assert.equal(await srv.line(), '""');
  // A listener wrapped server-side, before and after close.
  const sctx = new ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER);
  const c = await certs();
  sctx.loadCertChain(c.server, c.serverKey);
  const listener = await sctx.wrapSocket(createServer(["127.0.0.1", 0]), { serverSide: true });
  const lport = listener.getsockname()[1];
  assert.equal(
    String(listener),
    `<ssl.SSLSocket fd=${listener.fileno()}, family=2, type=1, proto=0, laddr=('127.0.0.1', ${lport})>`,
  );
  listener.close();
});

// CPython: do_handshake() on a socket whose handshake is done returns None
// at once, and does nothing on the wire; the session goes on.
Deno.test("doHandshake twice with doHandshakeOnConnect false: the second returns at once and the session goes on, as CPython's", async () => {
  await using srv = await readingServer();
  const ctx = await clientContext();
  const raw = await createConnection(["127.0.0.1", srv.port]);
  const s = await ctx.wrapSocket(raw, { serverHostname: "localhost", doHandshakeOnConnect: false });
  assert.equal(s.version(), null);
  await s.doHandshake();
  assert.equal(s.version(), "TLSv1.3");
  assert.equal(await s.doHandshake(), undefined);
  await s.sendall("after two handshakes");
  s.close();
  assert.equal(await srv.line(), '"after two handshakes"');
});

// CPython's wrap_socket detaches the socket it wraps, so wrapping it again
// fails with EBADF, as wrapping a closed one does. pysock cannot detach
// (README), so it refuses the second wrap itself: before the fix it made a
// second TLS session over the same connection.
Deno.test("wrapSocket of a closed socket, or of one already wrapped, fails with EBADF, as CPython's", async () => {
  const theirs = await pythonJson(`
import ssl
ctx = ssl.create_default_context()
def wrap(s):
    try:
        ctx.wrap_socket(s, server_hostname="localhost", do_handshake_on_connect=False)
        return None
    except OSError as e:
        return [type(e).__name__, e.errno]
closed = socket.socket()
closed.close()
wrapped = socket.socket()
first = ctx.wrap_socket(wrapped, server_hostname="localhost", do_handshake_on_connect=False)
print(json.dumps([wrap(closed), wrap(wrapped)]))
first.close()
`);
  assert.deepEqual(theirs, [["OSError", errno.EBADF], ["OSError", errno.EBADF]]);
  const ctx = await clientContext();
  const closed = socket();
  closed.close();
  const wrapped = socket();
  await using first = await ctx.wrapSocket(wrapped, { serverHostname: "localhost" });
  const ours = [];
  for (const s of [closed, wrapped]) {
    const err = await rejection(ctx.wrapSocket(s, { serverHostname: "localhost" }), "wrapSocket");
    ours.push([(err as Error).name, (err as OSError).errno]);
  }
  assert.deepEqual(ours, theirs);
  assert.equal(first.closed, false);
});

// ---------------------------------------------------------------------------
// close() while a call waits (API.md: close settles pending calls). CPython
// has no twin (its calls block a thread); the outcome must be an OSError,
// at once, with no unhandled rejection.

// A CPython TLS server that handshakes, then neither reads nor writes until
// a line arrives on its stdin.
const HOLD = `
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.set_alpn_protocols(["x"])
l = socket.create_server(("127.0.0.1", 0))
l.settimeout(20)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s = ctx.wrap_socket(c, server_side=True)
print("ready", flush=True)
sys.stdin.readline()
`;

async function holding(): Promise<[Peer, ssl.SSLSocket]> {
  const c = await certs();
  const peer = new Peer("python3", ["-c", HOLD, c.server, c.serverKey]);
  const port = Number(await peer.line());
  const raw = await createConnection(["127.0.0.1", port]);
  const s = await (await clientContext()).wrapSocket(raw, { serverHostname: "localhost" });
  assert.equal(await peer.line(), "ready");
  return [peer, s];
}

const isOSError = (err: unknown) => err instanceof OSError;

Deno.test("close() while a sendall waits on a peer that does not read settles it with an OSError", async () => {
  const [peer, s] = await holding();
  await using _peer = peer;
  const sending = s.sendall(new Uint8Array(32 << 20));
  await assertPending(sending, "sendall to a peer that does not read");
  s.close();
  const err = await rejection(sending, "sendall after close");
  assert.ok(isOSError(err), String(err));
});

Deno.test("close() while a makefile().read waits settles it with an OSError", async () => {
  const [peer, s] = await holding();
  await using _peer = peer;
  const file = s.makefile("rb");
  const reading = file.read(10);
  await assertPending(reading, "makefile read");
  file.close();
  s.close();
  const err = await rejection(reading, "makefile read after close");
  assert.ok(isOSError(err), String(err));
});

Deno.test("close() while unwrap waits for the peer's close_notify settles it with an OSError", async () => {
  const [peer, s] = await holding();
  await using _peer = peer;
  const unwrapping = s.unwrap();
  await assertPending(unwrapping, "unwrap with a peer that never answers");
  s.close();
  const err = await rejection(unwrapping, "unwrap after close");
  assert.ok(isOSError(err), String(err));
});

// A listener that never accepts: the kernel completes the TCP handshake and
// nobody ever answers the ClientHello.
// Before the fix the handshake, and the recv and sendall queued behind it,
// waited for ever on node:tls: close() did not end a handshake in progress;
// on the "deno" engine the handshake failed with EINTR instead of EBADF.
Deno.test("close() while doHandshake, and a recv and sendall queued behind it, wait on a silent server settles all three with EBADF, on both engines", async () => {
  for (const engine of ["node", "deno"] as const) {
    await using silent = socket();
    silent.bind(["127.0.0.1", 0]);
    silent.listen(1);
    // The "deno" engine needs a context it can honour: default roots plus the CA.
    const ctx = ssl.createDefaultContext();
    ctx.loadVerifyLocations((await certs()).ca);
    ctx.engine = engine;
    const s = await ctx.wrapSocket(socket(), {
      serverHostname: "localhost",
      doHandshakeOnConnect: false,
    });
    await s.connect(silent.getsockname() as [string, number]);
    assert.equal(s.engine, engine);
    const calls = [s.doHandshake(), s.recv(10), s.sendall("queued")];
    await assertPending(Promise.race(calls), `${engine}: calls with a silent server`);
    s.close();
    for (const [i, call] of calls.entries()) {
      const err = await rejection(call, `${engine}: call ${i} after close`);
      assert.ok(isOSError(err), String(err));
      assert.equal((err as OSError).errno, errno.EBADF, `${engine}: call ${i}: ${err}`);
    }
  }
});

// StreamSocket.accept takes a `signal` (API.md); the SSLSocket override
// dropped it, so an aborted accept on a wrapped listener waited on.
Deno.test("accept on a wrapped listener honours an abort signal, and the connection it would have brought goes to the next accept", async () => {
  const c = await certs();
  const ctx = new ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER);
  ctx.loadCertChain(c.server, c.serverKey);
  await using listener = await ctx.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const abort = new AbortController();
  const accepting = listener.accept({ signal: abort.signal });
  await assertPending(accepting, "accept");
  abort.abort(new Error("stop"));
  const err = await rejection(accepting, "aborted accept");
  assert.equal((err as Error).message, "stop");
  const raw = await createConnection(listener.getsockname() as [string, number]);
  const connecting = (await clientContext()).wrapSocket(raw, { serverHostname: "localhost" });
  const [conn] = await listener.accept();
  await using client = await connecting;
  await using _conn = conn;
  await client.sendall("after the abort");
  assert.equal(text(await conn.recv(100)), "after the abort");
});

// CPython: makefile() on an SSLSocket that is not connected yet is allowed
// (its reads fail with ENOTCONN until it is), as for pysock's plain sockets.
Deno.test("makefile on an SSLSocket not connected yet is allowed, its read fails with ENOTCONN, then it reads the decrypted stream once connected, as CPython's", async () => {
  const theirs = await pythonJson(`
import ssl
s = ssl.create_default_context().wrap_socket(socket.socket(), server_hostname="localhost")
f = s.makefile("rb")
print(json.dumps(err(lambda: f.read(1))))
`);
  assert.deepEqual(theirs, ["OSError", errno.ENOTCONN]);
  await using srv = await server(`s.sendall(b"line one\\n")\nout(s.recv(10).decode())\n`);
  await using s = await (await clientContext()).wrapSocket(socket(), {
    serverHostname: "localhost",
  });
  const file = s.makefile("rb");
  const err = await rejection(file.read(1), "read before connect");
  assert.deepEqual([(err as Error).name, (err as OSError).errno], theirs);
  await s.connect(["127.0.0.1", srv.port]);
  assert.equal(text(await file.readline()), "line one\n");
  await s.sendall("done");
  assert.deepEqual(await srv.next(), ["done"]);
  await file.close();
});

// Before the fix, the "deno" engine's own dial (Deno.connect) did not end on
// close(): connect() to a listener whose queue is full waited for ever.
Deno.test("close() while connect() waits, in the TCP connect or in the handshake, settles it with EBADF, on both engines", async () => {
  for (const engine of ["node", "deno"] as const) {
    for (const phase of ["tcp", "handshake"] as const) {
      // tcp: a listener whose accept queue is full (the connect never completes);
      // handshake: a listener that never accepts (nobody answers the ClientHello).
      await using full = await silentListener();
      await using quiet = socket();
      quiet.bind(["127.0.0.1", 0]);
      quiet.listen(1);
      const ctx = ssl.createDefaultContext();
      ctx.loadVerifyLocations((await certs()).ca);
      ctx.engine = engine;
      const s = await ctx.wrapSocket(socket(), { serverHostname: "localhost" });
      const target = phase === "tcp" ? full.addr : quiet.getsockname() as [string, number];
      const connecting = s.connect(target);
      await assertPending(connecting, `${engine} ${phase}: connect`);
      s.close();
      const err = await rejection(connecting, `${engine} ${phase}: connect after close`);
      assert.ok(isOSError(err), String(err));
      assert.equal((err as OSError).errno, errno.EBADF, `${engine} ${phase}: ${err}`);
    }
  }
});
