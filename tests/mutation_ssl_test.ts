// Tests that kill mutants of the ssl files that the other TLS tests let
// live (session 12's mutation audit): each asserts one behaviour of an
// SSLSocket or SSLContext on loopback, with CPython's ssl module as the
// oracle where the behaviour is Python's (one python3 run, TWIN below).

import assert from "node:assert/strict";
import {
  BlockingIOError,
  BrokenPipeError,
  ConnectionResetError,
  errno,
  OSError,
  TimeoutError,
} from "../errors.ts";
import { select } from "../selectors.ts";
import { createConnection, createServer, SHUT_WR, socket } from "../socket.ts";
import {
  createDefaultContext,
  PEMCertToDERCert,
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  Purpose,
  SSLCertVerificationError,
  SSLContext,
  SSLEOFError,
  SSLError,
  type SSLSocket,
  SSLZeroReturnError,
  TLSVersion,
} from "../ssl.ts";
import {
  assertPending,
  python,
  pythonJson,
  rejection,
  resetClients,
  settled,
  silentListener,
  sleep,
} from "./_helpers.ts";
import { certs, contexts, pythonDecode } from "./_ssl_helpers.ts";
import { decodeCertificate } from "../_ssl_cert.ts";
import { openssl } from "../tools/_certs.ts";
import { tlsClient } from "../_ssl_cli.ts";

// CPython's answers to the questions the tests below ask pysock, in one
// process: argv is the CA, the server's certificate and key.
const TWIN = `
import ssl
ca, cert, key, enc_key, capath = sys.argv[1:6]
OVERSIZED = bytes([0x16, 3, 3, 0xFF, 0xFF, 1, 2, 3])
def fail(fn):
    try:
        return ["ok", fn()]
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None), str(e)]
def outcome(fn):
    try:
        fn()
        return ["ok"]
    except ssl.SSLCertVerificationError as e:
        return [type(e).__name__, e.errno, e.reason, e.verify_code]
    except ssl.SSLError as e:
        return [type(e).__name__, e.errno, e.reason]
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None), None]
def handshake(server_ctx, client_ctx, name):
    l = socket.create_server(("127.0.0.1", 0))
    l.settimeout(10)
    res = {}
    def serve():
        c, _ = l.accept()
        c.settimeout(10)
        res["s"] = outcome(lambda: server_ctx.wrap_socket(c, server_side=True).close())
        c.close()
    t = threading.Thread(target=serve)
    t.start()
    raw = socket.create_connection(l.getsockname())
    raw.settimeout(10)
    res["c"] = outcome(lambda: client_ctx.wrap_socket(raw, server_hostname=name).close())
    raw.close()
    t.join()
    l.close()
    return [res["c"], res["s"]]
out = {}
out["clientAuthCa"] = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).get_ca_certs()
cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
cctx.load_verify_locations(ca)
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(cert, key)
u = cctx.wrap_socket(socket.socket(), server_hostname="localhost")
out["unwrapUnconnected"] = fail(u.unwrap)[0:1] + [fail(u.unwrap)[2].startswith("No SSL wrapper around ")]
out["sendUnconnected"] = fail(lambda: u.send(b"x"))[0:2]
out["pendingUnconnected"] = u.pending()
u.close()
out["pendingClosed"] = u.pending()
l = sctx.wrap_socket(socket.create_server(("127.0.0.1", 0)), server_side=True,
                     suppress_ragged_eofs=False)
l.setblocking(False)
out["acceptNonBlocking"] = fail(l.accept)[0:2]
l.settimeout(10)
port = l.getsockname()[1]
res = {}
def client():
    res["c"] = cctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                                server_hostname="localhost")
t = threading.Thread(target=client)
t.start()
conn, _ = l.accept()
t.join()
c = res["c"]
out["acceptedSuppress"] = conn.suppress_ragged_eofs
conn.sendall(b"x" * 100)
out["pendingAfterPartial"] = [len(c.recv(10)), c.pending()]
c.recv(1000)
l.close()
conn.sendall(b"after the listener closed")
out["afterListenerClose"] = c.recv(100).decode()
c.settimeout(2.5)
conn.settimeout(2.5)
t = threading.Thread(target=lambda: res.__setitem__("s", conn.unwrap()))
t.start()
raw = c.unwrap()
t.join()
out["unwrapTimeout"] = raw.gettimeout()
raw.close()
res["s"].close()
# Handshakes OpenSSL fails by itself, and one without the hostname check.
bounds = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
bounds.load_verify_locations(ca)
bounds.minimum_version = ssl.TLSVersion.TLSv1_3
bounds.maximum_version = ssl.TLSVersion.TLSv1_2
out["noProtocols"] = handshake(sctx, bounds, "localhost")[0]
out["noServerCert"] = handshake(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), cctx, "localhost")[1]
unchecked = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
unchecked.load_verify_locations(ca)
unchecked.check_hostname = False
out["noHostnameCheck"] = handshake(sctx, unchecked, "wrong.example")
out["paddedIp255"] = handshake(sctx, cctx, "127.000.000.255")[0]
# A server whose first record header claims 65535 bytes, over TLS's limit.
l = socket.create_server(("127.0.0.1", 0))
def oversized():
    c, _ = l.accept()
    c.recv(4096)
    c.sendall(OVERSIZED)
    c.settimeout(10)
    fail(lambda: c.recv(4096))
    c.close()
t = threading.Thread(target=oversized)
t.start()
raw = socket.create_connection(l.getsockname())
raw.settimeout(10)
out["oversizedRecord"] = outcome(lambda: cctx.wrap_socket(raw, server_hostname="localhost"))
raw.close()
t.join()
l.close()
# load_cert_chain's password limit, and a capath with a directory and junk in it.
out["password1025"] = outcome(lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, enc_key, "x" * 1025))
out["password1024"] = outcome(lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, enc_key, "x" * 1024))
out["capath"] = outcome(lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(capath=capath))
# A server context whose checkHostname is turned on after the listener was
# wrapped: accept() refuses the connection, and the client sees it closed.
l = sctx.wrap_socket(socket.create_server(("127.0.0.1", 0)), server_side=True)
sctx.check_hostname = True
p = socket.create_connection(l.getsockname())
out["acceptCheckHostname"] = fail(l.accept)[0]
p.settimeout(10)
out["refusedClientReads"] = fail(lambda: p.recv(10).decode())
p.close()
l.close()
print(json.dumps(out))
`;

/**
 * A capath directory (in the certificates' directory, removed with it):
 * the CA, a file whose PEM block is no certificate, and a subdirectory.
 */
async function capathDir(): Promise<string> {
  const c = await certs();
  const dir = `${c.dir}/capath`;
  await Deno.mkdir(`${dir}/sub`, { recursive: true });
  await Deno.copyFile(c.ca, `${dir}/ca.pem`);
  await Deno.writeTextFile(
    `${dir}/junk.pem`,
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
  );
  return dir;
}

let twinFacts: Promise<Record<string, unknown>> | null = null;
function cpython(): Promise<Record<string, unknown>> {
  twinFacts ??= certs().then(async (c) => {
    const capath = await capathDir();
    return await pythonJson(
      TWIN,
      c.ca,
      c.server,
      c.serverKey,
      c.serverKeyEncrypted,
      capath,
    ) as Record<
      string,
      unknown
    >;
  });
  return twinFacts;
}

function addrOf(listener: SSLSocket): [string, number] {
  return listener.getsockname() as [string, number];
}

/** A TLS client connected to `listener` (an SSLSocket), and the connection accept() gave. */
async function connectTo(
  listener: SSLSocket,
  client: SSLContext,
): Promise<[SSLSocket, SSLSocket]> {
  const accepting = listener.accept();
  const raw = await createConnection(addrOf(listener));
  const sock = await client.wrapSocket(raw, { serverHostname: "localhost" });
  const [conn] = await accepting;
  return [sock, conn];
}

Deno.test("createDefaultContext(CLIENT_AUTH) is CERT_NONE and so loads no default roots: getCaCerts() is [], as CPython's", async () => {
  const py = await cpython();
  assert.deepEqual(createDefaultContext(Purpose.CLIENT_AUTH).getCaCerts(), py.clientAuthCa);
  assert.deepEqual(py.clientAuthCa, []);
});

Deno.test("an unconnected SSLSocket: unwrap() is 'No SSL wrapper' (Python's ValueError), send() is the plain socket's EPIPE, pending() is 0 before and after close, as CPython's", async () => {
  const py = await cpython();
  const { client } = await contexts();
  const u = await client.wrapSocket(socket(), { serverHostname: "localhost" });
  try {
    const err = await rejection(u.unwrap(), "unwrap");
    // Python's ValueError is a TypeError here (README).
    assert.ok(err instanceof TypeError, String(err));
    assert.deepEqual(py.unwrapUnconnected, ["ValueError", true]);
    assert.ok(err.message.startsWith("No SSL wrapper around "), err.message);
    const sent = await rejection(u.send(new Uint8Array([120])), "send");
    assert.ok(sent instanceof BrokenPipeError, String(sent));
    assert.deepEqual([sent.name, sent.errno], py.sendUnconnected);
    assert.equal(u.pending(), py.pendingUnconnected);
  } finally {
    u.close();
  }
  assert.equal(u.pending(), py.pendingClosed);
  assert.equal(py.pendingClosed, 0);
});

Deno.test("a TLS listener: non-blocking accept() with nobody waiting is BlockingIOError; an accepted connection inherits suppressRaggedEofs; pending() counts bytes decrypted but unread; closing the listener leaves the connection working; unwrap() gives back a socket with the SSLSocket's timeout; all as CPython", async () => {
  const py = await cpython();
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
    suppressRaggedEofs: false,
  });
  listener.setblocking(false);
  const refused = await rejection(listener.accept(), "non-blocking accept");
  assert.ok(refused instanceof BlockingIOError, String(refused));
  assert.deepEqual([refused.name, refused.errno], py.acceptNonBlocking);
  listener.setblocking(true);

  const [client, conn] = await connectTo(listener, ctx.client);
  await using _client = client;
  await using _conn = conn;
  assert.equal(conn.suppressRaggedEofs, py.acceptedSuppress);
  assert.equal(py.acceptedSuppress, false);

  await conn.sendall(new Uint8Array(100).fill(120));
  const first = await client.recv(10);
  assert.deepEqual([first.length, client.pending()], py.pendingAfterPartial);
  assert.equal((await client.recv(1000)).length, 90);

  listener.close();
  await conn.sendall("after the listener closed");
  assert.equal(new TextDecoder().decode(await client.recv(100)), py.afterListenerClose);

  client.settimeout(2.5);
  conn.settimeout(2.5);
  const [raw, serverRaw] = await settled(Promise.all([client.unwrap(), conn.unwrap()]), "unwrap");
  await using _raw = raw;
  await using _serverRaw = serverRaw;
  assert.equal(raw.gettimeout(), py.unwrapTimeout);
});

Deno.test("a connection accept() cannot wrap (checkHostname turned on for the server context after the listener was wrapped) fails accept() and is closed, as CPython's", async () => {
  const py = await cpython();
  assert.deepEqual([py.acceptCheckHostname, py.refusedClientReads], ["ValueError", ["ok", ""]]);
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  ctx.server.checkHostname = true;
  await using peer = await createConnection(addrOf(listener));
  const err = await rejection(listener.accept(), "accept");
  assert.ok(err instanceof TypeError, String(err)); // Python's ValueError (README)
  assert.equal((await settled(peer.recv(10), "the refused client's recv")).length, 0);
});

Deno.test("close() of a TLS listener while accept() is in a handshake the client never starts settles accept() with EBADF, not the handshake's failure", async () => {
  const ctx = await contexts();
  const listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const accepting = listener.accept();
  await using silent = await createConnection(addrOf(listener));
  await assertPending(accepting, "accept with a silent client");
  listener.close();
  const err = await rejection(accepting, "accept after close");
  assert.ok(err instanceof OSError && !(err instanceof SSLError), String(err));
  assert.equal(err.errno, errno.EBADF);
  assert.equal((await settled(silent.recv(10), "the silent client's recv")).length, 0);
});

Deno.test("a handshake that fails in wrapSocket closes the wrapped socket before wrapSocket rejects, as CPython's", async () => {
  const c = await certs();
  const server = new SSLContext(PROTOCOL_TLS_SERVER);
  server.loadCertChain(c.stranger, c.strangerKey);
  const { client } = await contexts();
  await using listener = await server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const accepting = listener.accept().then(([conn]) => conn.close(), () => {});
  const raw = await createConnection(addrOf(listener));
  const err = await rejection(client.wrapSocket(raw, { serverHostname: "localhost" }), "wrap");
  assert.ok(err instanceof SSLError, String(err));
  assert.equal(raw.closed, true);
  await accepting;
});

Deno.test('the "deno" engine: getsockname() is the connection\'s own address, and a second connect() is EISCONN, as with node:tls', async () => {
  await using server = createServer(["127.0.0.1", 0]);
  const ctx = createDefaultContext();
  ctx.engine = "deno";
  await using sock = await ctx.wrapSocket(socket(), {
    serverHostname: "localhost",
    doHandshakeOnConnect: false,
  });
  const accepting = server.accept();
  await sock.connect(server.getsockname());
  const [conn] = await accepting;
  await using _conn = conn;
  assert.equal(sock.engine, "deno");
  assert.deepEqual(sock.getsockname(), conn.getpeername());
  const again = await rejection(sock.connect(server.getsockname()), "second connect");
  assert.ok(again instanceof OSError && again.errno === errno.EISCONN, String(again));
});

Deno.test("a non-blocking TLS connect still under way is not writable for select(), as a plain socket's is not", async () => {
  await using silent = await silentListener();
  const { client } = await contexts();
  await using plain = socket();
  plain.setblocking(false);
  await using sock = await client.wrapSocket(socket(), {
    serverHostname: "localhost",
    doHandshakeOnConnect: false,
  });
  sock.setblocking(false);
  const codes = [await plain.connectEx(silent.addr), await sock.connectEx(silent.addr)];
  assert.deepEqual(codes, [errno.EINPROGRESS, errno.EINPROGRESS]);
  const [, plainW] = await select([], [plain], [], 0.05);
  const [, sslW] = await select([], [sock], [], 0.05);
  assert.deepEqual([plainW.length, sslW.length], [0, 0]);
});

Deno.test('the "deno" engine: close() during a connect() the peer never answers (its SYN dropped) settles it with EBADF', async () => {
  await using silent = await silentListener();
  const ctx = createDefaultContext();
  ctx.engine = "deno";
  const sock = await ctx.wrapSocket(socket(), { serverHostname: "localhost" });
  const connecting = sock.connect(silent.addr);
  await assertPending(connecting, "connect to a silent listener");
  sock.close();
  const err = await rejection(connecting, "connect after close");
  assert.ok(err instanceof OSError && err.errno === errno.EBADF, String(err));
});

Deno.test("a handshake that times out in wrapSocket closes the wrapped socket too (its session never failed by itself), as CPython's", async () => {
  const { client } = await contexts();
  await using listener = createServer(["127.0.0.1", 0]);
  const accepting = listener.accept();
  const raw = await createConnection(listener.getsockname() as [string, number]);
  const [silent] = await accepting;
  await using _silent = silent;
  raw.settimeout(0.05);
  const err = await rejection(client.wrapSocket(raw, { serverHostname: "localhost" }), "wrap");
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.message, "The handshake operation timed out");
  assert.equal(raw.closed, true);
});

// CPython's SSLSocket.pending() is 0 once closed (close() drops its SSL
// object), whatever was decrypted and left unread.
Deno.test("pending() is 0 once the SSLSocket is closed, even with decrypted bytes left unread", async () => {
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const [client, conn] = await connectTo(listener, ctx.client);
  await using _conn = conn;
  await conn.sendall(new Uint8Array(100).fill(120));
  assert.equal((await client.recv(10)).length, 10);
  assert.equal(client.pending(), 90);
  client.close();
  assert.equal(client.pending(), 0);
});

Deno.test("wrapSocket of an accepted connection its client reset before accept() fails with ConnectionResetError and closes it, as CPython's wrap of it does", async () => {
  const ctx = await contexts();
  await using listener = createServer(["127.0.0.1", 0]);
  await resetClients((listener.getsockname() as [string, number])[1]);
  const [conn] = await listener.accept();
  await using _conn = conn;
  const err = await rejection(ctx.server.wrapSocket(conn, { serverSide: true }), "wrap");
  assert.ok(err instanceof ConnectionResetError, String(err));
  assert.equal(conn.closed, true);
});

/** What a handshake gives each side, as TWIN's outcome(): ["ok"] or [class, errno, reason]. */
function outcomeOf(err: unknown): unknown[] {
  if (err === null) return ["ok"];
  if (err instanceof SSLCertVerificationError) {
    return [err.name, err.errno, err.reason, err.verifyCode];
  }
  if (err instanceof SSLError) return [err.name, err.errno, err.reason];
  return [(err as Error).name, (err as OSError).errno ?? null, null];
}

/** A pysock server and client handshake over loopback; each side's outcome. */
async function handshake(
  server: SSLContext,
  client: SSLContext,
  serverHostname: string,
): Promise<unknown[][]> {
  await using listener = createServer(["127.0.0.1", 0]);
  const serving = listener.accept().then(async ([conn]) => {
    try {
      (await server.wrapSocket(conn, { serverSide: true })).close();
      return null;
    } catch (err) {
      return err;
    } finally {
      conn.close();
    }
  });
  const raw = await createConnection(listener.getsockname() as [string, number]);
  let clientErr: unknown = null;
  try {
    (await client.wrapSocket(raw, { serverHostname })).close();
  } catch (err) {
    clientErr = err;
  } finally {
    raw.close();
  }
  return [outcomeOf(clientErr), outcomeOf(await settled(serving, "the server's handshake"))];
}

Deno.test("handshakes as CPython's: minimumVersion above maximumVersion is NO_PROTOCOLS_AVAILABLE, a server without a certificate NO_SHARED_CIPHER, and checkHostname false skips the name check, 127.000.000.255 is an IP address", async () => {
  const py = await cpython();
  const c = await certs();
  const { client, server } = await contexts();
  const bounds = new SSLContext(PROTOCOL_TLS_CLIENT);
  bounds.loadVerifyLocations(c.ca);
  bounds.minimumVersion = TLSVersion.TLSv1_3;
  bounds.maximumVersion = TLSVersion.TLSv1_2;
  assert.deepEqual((await handshake(server, bounds, "localhost"))[0], py.noProtocols);
  assert.deepEqual(py.noProtocols, ["SSLError", 1, "NO_PROTOCOLS_AVAILABLE"]);
  const bare = new SSLContext(PROTOCOL_TLS_SERVER);
  assert.deepEqual((await handshake(bare, client, "localhost"))[1], py.noServerCert);
  assert.deepEqual(py.noServerCert, ["SSLError", 1, "NO_SHARED_CIPHER"]);
  const unchecked = new SSLContext(PROTOCOL_TLS_CLIENT);
  unchecked.loadVerifyLocations(c.ca);
  unchecked.checkHostname = false;
  assert.deepEqual(await handshake(server, unchecked, "wrong.example"), py.noHostnameCheck);
  assert.deepEqual(py.noHostnameCheck, [["ok"], ["ok"]]);
  // OpenSSL reads 127.000.000.255 as an IP address (X509_V_ERR 64, not 62).
  assert.deepEqual((await handshake(server, client, "127.000.000.255"))[0], py.paddedIp255);
  assert.deepEqual(py.paddedIp255, [
    "SSLCertVerificationError",
    1,
    "CERTIFICATE_VERIFY_FAILED",
    64,
  ]);
});

Deno.test("loadCertChain refuses a password over 1024 bytes (Python's ValueError) but tries one of 1024; loadVerifyLocations takes a capath with a subdirectory and a PEM block that is no certificate, as CPython's", async () => {
  const py = await cpython();
  const c = await certs();
  const load = (password: string) => {
    try {
      new SSLContext(PROTOCOL_TLS_SERVER).loadCertChain(c.server, c.serverKeyEncrypted, password);
      return ["ok"];
    } catch (err) {
      return outcomeOf(err);
    }
  };
  assert.deepEqual(py.password1025, ["ValueError", null, null]);
  assert.deepEqual(load("x".repeat(1025)), ["RangeError", null, null]);
  assert.equal((py.password1024 as unknown[])[0], "SSLError");
  assert.equal(load("x".repeat(1024))[0], "SSLError");
  assert.deepEqual(py.capath, ["ok"]);
  new SSLContext(PROTOCOL_TLS_CLIENT).loadVerifyLocations(null, await capathDir());
});

Deno.test("loadCertChain's PEM lib errors say what was wrong: no certificate in the file, or a password the key does not decrypt with", async () => {
  const c = await certs();
  const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
  assert.throws(() => ctx.loadCertChain(c.serverKey), /PEM lib \(no certificate in /);
  assert.throws(
    () => ctx.loadCertChain(c.server, c.serverKeyEncrypted, "wrong"),
    /PEM lib \(the key does not decrypt with this password\)/,
  );
});

// pysock's shutdown(SHUT_WR) sends close_notify and keeps TLS (README), so a
// session can be over both ways with the socket open: unwrap() then has no
// session to end (SSLZeroReturnError, _ssl_node.ts).
Deno.test("unwrap() after close_notify both ways (shutdown(SHUT_WR) on each side) is SSLZeroReturnError", async () => {
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const [client, conn] = await connectTo(listener, ctx.client);
  await using _client = client;
  await using _conn = conn;
  client.shutdown(SHUT_WR);
  assert.equal((await conn.recv(10)).length, 0);
  conn.shutdown(SHUT_WR);
  assert.equal((await client.recv(10)).length, 0);
  const err = await rejection(client.unwrap(), "unwrap");
  assert.ok(err instanceof SSLZeroReturnError, String(err));
});

// A read made only after the session saw the ragged end (no read waiting
// when it came) must report it too, as CPython's does; the pause lets
// node:tls see the end first (no timing is asserted).
Deno.test("suppressRaggedEofs false: a recv made after the peer closed without close_notify is SSLEOFError, as CPython's", async () => {
  const ctx = await contexts();
  await using listener = createServer(["127.0.0.1", 0]);
  const accepting = listener.accept();
  const raw = await createConnection(listener.getsockname() as [string, number]);
  const [peerRaw] = await accepting;
  const [sock, conn] = await Promise.all([
    ctx.client.wrapSocket(raw, { serverHostname: "localhost", suppressRaggedEofs: false }),
    ctx.server.wrapSocket(peerRaw, { serverSide: true }),
  ]);
  await using _sock = sock;
  conn.close(); // no close_notify, as CPython's close()
  await sleep(100);
  const err = await rejection(sock.recv(10), "recv");
  assert.ok(err instanceof SSLEOFError, String(err));
});

Deno.test('engine "deno" is used only where Deno.startTls can honour the context: a CA of its own, a client certificate, a trailing dot or a zero-padded IPv4 name fall back to node:tls', async () => {
  const c = await certs();
  await using server = createServer(["127.0.0.1", 0]);
  const engineFor = async (ctx: SSLContext, serverHostname = "localhost") => {
    ctx.engine = "deno";
    await using sock = await ctx.wrapSocket(socket(), {
      serverHostname,
      doHandshakeOnConnect: false,
    });
    const accepting = server.accept();
    await sock.connect(server.getsockname());
    (await accepting)[0].close();
    return sock.engine;
  };
  const withClientCert = createDefaultContext();
  withClientCert.loadCertChain(c.client, c.clientKey);
  const ownCa = new SSLContext(PROTOCOL_TLS_CLIENT);
  ownCa.loadVerifyLocations(c.ca);
  const engines = [
    await engineFor(createDefaultContext()),
    await engineFor(createDefaultContext(), "localhost."),
    await engineFor(createDefaultContext(), "127.000.000.001"),
    await engineFor(withClientCert),
    await engineFor(ownCa),
  ];
  assert.deepEqual(engines, ["deno", "node", "node", "node", "node"]);
});

Deno.test('engine "deno": a connect() past the timeout (a silent listener) is TimeoutError', async () => {
  await using silent = await silentListener();
  const ctx = createDefaultContext();
  ctx.engine = "deno";
  await using sock = await ctx.wrapSocket(socket(), { serverHostname: "localhost" });
  sock.settimeout(0.05);
  const err = await rejection(sock.connect(silent.addr), "connect");
  assert.ok(err instanceof TimeoutError, String(err));
});

// A certificate with what the test certificates lack: BMPString names, an
// attribute whose OID has a first arc of 2 and a second over 39 (2.999.3),
// a negative serial number, and CRL distribution points without a URI
// (CPython then leaves the key out).
const ODD_CNF = `oid_section = new_oids
[new_oids]
bigArc = 2.999.3
[req]
distinguished_name = dn
prompt = no
string_mask = MASK:0x0800
x509_extensions = ext
[dn]
CN = bmp name
bigArc = big arc
[ext]
crlDistributionPoints = crldp
[crldp]
fullname = dirName:crl_dir
[crl_dir]
CN = crl issuer
`;

Deno.test("getpeercert's decoder reads BMPString names, a 2.999 OID, a negative serial and URI-less CRL distribution points as CPython's", async () => {
  const c = await certs();
  await Deno.writeTextFile(`${c.dir}/odd.cnf`, ODD_CNF);
  await openssl(
    c.dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "odd.key",
    "-out",
    "odd.pem",
    "-config",
    "odd.cnf",
    "-days",
    "1",
    "-set_serial",
    "-5",
  );
  const path = `${c.dir}/odd.pem`;
  const python = await pythonDecode(path) as Record<string, unknown>;
  assert.equal(python.serialNumber, "-05");
  assert.equal("crlDistributionPoints" in python, false);
  assert.deepEqual(decodeCertificate(PEMCertToDERCert(await Deno.readTextFile(path))), python);
});

// A CPython TLS 1.2 server that serves one client per cipher suite of argv[3:]
// and prints what its cipher() said for each (its port first).
const CIPHER_SERVER = `
import json, socket, ssl, sys
l = socket.create_server(("127.0.0.1", 0))
l.settimeout(10)
print(l.getsockname()[1], flush=True)
seen = []
for suite in sys.argv[3:]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(suite)
    c, _ = l.accept()
    c.settimeout(10)
    s = ctx.wrap_socket(c, server_side=True)
    seen.append(list(s.cipher()))
    s.recv(1)
    s.close()
print(json.dumps(seen))
`;

Deno.test("cipher()'s secret bits are CPython's for AES-128 and ChaCha20 suites (a CPython TLS 1.2 server picks them)", async () => {
  const c = await certs();
  const suites = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"];
  await using server = python(CIPHER_SERVER, c.server, c.serverKey, ...suites);
  const port = Number(await server.firstLine());
  const { client } = await contexts();
  const ours: unknown[] = [];
  for (const _ of suites) {
    const raw = await createConnection(["127.0.0.1", port]);
    await using sock = await client.wrapSocket(raw, { serverHostname: "localhost" });
    ours.push(sock.cipher());
    await sock.sendall("x");
  }
  const lines = (await server.output()).trim().split("\n");
  const theirs = JSON.parse(lines[lines.length - 1]);
  assert.deepEqual(theirs.map((t: unknown[]) => t[2]), [128, 256]);
  assert.deepEqual(ours, theirs);
});

Deno.test("connect --tls (tlsClient): --server-hostname is the name checked, not HOST; a plaintext server is named as one", async () => {
  const c = await certs();
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const accepting = listener.accept().then(([conn]) => conn.close(), () => {});
  const values = { tls: true, cafile: c.ca, "server-hostname": "wrong.example" };
  const mismatch = await rejection(
    tlsClient(await createConnection(addrOf(listener)), "127.0.0.1", values),
    "tlsClient",
  );
  assert.match((mismatch as Error).message, /with wrong\.example failed: Hostname mismatch/);
  await accepting;

  await using plain = createServer(["127.0.0.1", 0]);
  const replying = plain.accept().then(async ([conn]) => {
    await using _conn = conn;
    await conn.sendall("SSH-2.0-not-tls\r\n");
    await conn.recv(4096).catch(() => {});
  });
  const refused = await rejection(
    tlsClient(
      await createConnection(plain.getsockname() as [string, number]),
      "localhost",
      { tls: true, cafile: c.ca },
    ),
    "tlsClient",
  );
  assert.match((refused as Error).message, /the server does not speak TLS on this port/);
  await replying;
});

Deno.test("a record header over TLS's length limit fails the handshake at once with CPython's PACKET_LENGTH_TOO_LONG, not a wait for the record", async () => {
  const py = await cpython();
  assert.deepEqual(py.oversizedRecord, ["SSLError", 1, "PACKET_LENGTH_TOO_LONG"]);
  const { client } = await contexts();
  await using listener = createServer(["127.0.0.1", 0]);
  const serving = listener.accept().then(async ([conn]) => {
    await using _conn = conn;
    await conn.recv(4096);
    await conn.sendall(new Uint8Array([0x16, 3, 3, 0xff, 0xff, 1, 2, 3]));
    await conn.recv(4096).catch(() => {});
  });
  const raw = await createConnection(listener.getsockname() as [string, number]);
  raw.settimeout(5); // only a wait for the whole 65535-byte record would reach it
  const err = await rejection(client.wrapSocket(raw, { serverHostname: "localhost" }), "wrap");
  assert.deepEqual(outcomeOf(err), py.oversizedRecord);
  await serving;
});

Deno.test('engine "deno" (the default roots and the test CA): checkHostname false skips the name check, and a peer closing without close_notify is end of stream (suppressRaggedEofs), as CPython', async () => {
  const py = await cpython();
  const c = await certs();
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const native = (checkHostname: boolean) => {
    const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
    ctx.engine = "deno";
    ctx.loadDefaultCerts();
    ctx.loadVerifyLocations(c.ca);
    ctx.checkHostname = checkHostname;
    return ctx;
  };
  const accepting = listener.accept();
  await using unchecked = await native(false).wrapSocket(socket(), {
    serverHostname: "wrong.example",
  });
  await settled(unchecked.connect(addrOf(listener)), "connect without the name check");
  assert.equal(unchecked.engine, "deno");
  (await accepting)[0].close();
  assert.deepEqual(py.noHostnameCheck, [["ok"], ["ok"]]);

  const again = listener.accept();
  await using sock = await native(true).wrapSocket(socket(), { serverHostname: "localhost" });
  await sock.connect(addrOf(listener));
  const [conn] = await again;
  await conn.sendall("bye");
  conn.close(); // no close_notify, as CPython's close()
  assert.equal(new TextDecoder().decode(await sock.recv(10)), "bye");
  assert.equal((await settled(sock.recv(10), "recv at the ragged end")).length, 0);
});
