// TLS against real peers: CPython's ssl module on the other end, in both
// directions, and openssl s_server / s_client.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { createHash } from "node:crypto";
import { createConnection, createServer, SHUT_WR, socket, type StreamSocket } from "../socket.ts";
import { errno, OSError } from "../errors.ts";
import {
  CERT_REQUIRED,
  createDefaultContext,
  PEMCertToDERCert,
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  SSLCertVerificationError,
  SSLContext,
  SSLEOFError,
  SSLError,
  type SSLSocket,
  TLSVersion,
} from "../ssl.ts";
import { recvExactly, recvLine } from "../framing.ts";
import { kReader } from "../_buffer.ts";
import { text } from "./_helpers.ts";
import {
  type Certs,
  certs,
  Peer,
  portOf,
  pythonDecode,
  pythonErrorFields,
  sslErrorFields,
  sslOracle,
} from "./_ssl_helpers.ts";

async function clientContext(): Promise<SSLContext> {
  const c = await certs();
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations(c.ca);
  return ctx;
}

async function serverContext(cert?: string, key?: string): Promise<SSLContext> {
  const c = await certs();
  const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
  ctx.loadCertChain(cert ?? c.server, key ?? c.serverKey);
  return ctx;
}

/** A Python ssl server with the test server certificate, doing what `config` says. */
async function pythonServer(config: Record<string, unknown>): Promise<Peer> {
  const c = await certs();
  return Peer.python({ role: "server", cert: c.server, key: c.serverKey, ...config });
}

/** Connects to a Python server and wraps the connection as a client. */
async function connectTo(port: number, ctx: SSLContext, host = "localhost"): Promise<SSLSocket> {
  const sock = await createConnection(["127.0.0.1", port]);
  try {
    return await ctx.wrapSocket(sock, { serverHostname: host });
  } catch (err) {
    sock.close();
    throw err;
  }
}

Deno.test("a pysock client talks to a Python ssl server and both report the same version, cipher and ALPN protocol", async () => {
  await using peer = await pythonServer({
    alpn: ["http/1.1"],
    actions: [["echo"]],
  });
  const ctx = await clientContext();
  ctx.setAlpnProtocols(["h2", "http/1.1"]);
  await using ssock = await connectTo(await portOf(peer), ctx);
  const python = await peer.event();
  equal(python.event, "handshake");
  equal(ssock.version(), python.version);
  deepEqual(ssock.cipher(), python.cipher);
  equal(ssock.selectedAlpnProtocol(), "http/1.1");
  equal(python.alpn, "http/1.1");
  equal(ssock.engine, "node");
  await ssock.sendall("over TLS");
  equal(text(await ssock.recv(100)), "over TLS");
});

Deno.test("getpeercert on a pysock client is the dict CPython builds for the same certificate", async () => {
  const c = await certs();
  await using peer = await pythonServer({
    actions: [["echo"]],
  });
  await using ssock = await connectTo(await portOf(peer), await clientContext());
  deepEqual(ssock.getpeercert(), await pythonDecode(c.server));
  deepEqual(ssock.getpeercert(true), PEMCertToDERCert(await Deno.readTextFile(c.server)));
});

Deno.test("a Python ssl client talks to a pysock TLS server and sees the server's certificate as pysock serves it", async () => {
  const c = await certs();
  const ctx = await serverContext();
  await using listener = createServer(["127.0.0.1", 0]);
  await using server = await ctx.wrapSocket(listener, { serverSide: true });
  await using peer = Peer.python({
    role: "client",
    port: server.getsockname()[1],
    host: "localhost",
    ca: c.ca,
    actions: [["send", "ping"], ["recv", 4]],
  });
  const [conn] = await server.accept();
  await using _conn = conn;
  equal(text(await conn.recv(4)), "ping");
  await conn.sendall("pong");
  const handshake = await peer.event();
  equal(handshake.version, conn.version());
  deepEqual(handshake.cipher, conn.cipher());
  deepEqual(handshake.peercert, await pythonDecode(c.server));
  deepEqual(await peer.event(), { event: "recv", data: "pong" });
  equal(conn.getpeercert(), null); // no client certificate asked for
});

type Config = Record<string, unknown>;

interface Verdict {
  client: Config;
  server: Config;
}

/** A server config and a client config whose meeting CPython is asked about. */
type Pairing = [server: Config, client: Config];

/** A peer presenting one of the test certificates. */
function verifyPairing(c: Certs, v: typeof VERIFY_CASES[number]): Pairing {
  return [{ cert: c[v.cert], key: c[`${v.cert}Key`] }, { host: v.host, ca: c.ca }];
}

/** A server requiring a client certificate; the client offers `clientCert` or none. */
function mutualPairing(c: Certs, clientCert: "stranger" | null): Pairing {
  return [
    { cert: c.server, key: c.serverKey, ca: c.ca, verify: "required" },
    {
      host: "localhost",
      ca: c.ca,
      ...(clientCert ? { cert: c[clientCert], key: c[`${clientCert}Key`] } : {}),
      actions: [["recv", 1]],
    },
  ];
}

/** A server that is not TLS: it replies `reply` in plaintext, or closes. */
function plainPairing(c: Certs, reply: string | null): Pairing {
  return [{ role: "plain", reply }, { host: "localhost", ca: c.ca }];
}

/** A TLS 1.2 server and a client that insists on TLS 1.3. */
function versionPairing(c: Certs): Pairing {
  return [
    { cert: c.server, key: c.serverKey, maxver: "TLSv1_2" },
    { host: "localhost", ca: c.ca, minver: "TLSv1_3" },
  ];
}

let oracle: Promise<Map<string, Verdict>> | null = null;

/**
 * What CPython reports when a CPython client meets a CPython server, for
 * every pairing this file compares with: the ground truth for pysock's
 * errors, asked once, in one Python process (tests/py/ssl_oracle.py).
 */
async function pythonVerdict([server, client]: Pairing): Promise<Verdict> {
  oracle ??= (async () => {
    const c = await certs();
    const pairings = [
      ...VERIFY_CASES.map((v) => verifyPairing(c, v)),
      mutualPairing(c, null),
      mutualPairing(c, "stranger"),
      plainPairing(c, "HTTP/1.0 400 Bad Request\r\n\r\n"),
      plainPairing(c, null),
      versionPairing(c),
    ];
    const verdicts: Verdict[] = await sslOracle(pairings);
    return new Map(pairings.map((pairing, i) => [JSON.stringify(pairing), verdicts[i]]));
  })();
  const verdict = (await oracle).get(JSON.stringify([server, client]));
  if (verdict === undefined) throw new Error("a pairing missing from the oracle's list");
  return verdict;
}

const VERIFY_CASES = [
  { name: "an unknown CA", cert: "stranger", host: "localhost", code: 20 },
  { name: "an expired certificate", cert: "expired", host: "localhost", code: 10 },
  { name: "a certificate for another host name", cert: "wrong", host: "localhost", code: 62 },
  {
    name: "a certificate without the IP address asked for",
    cert: "server",
    host: "127.0.0.2",
    code: 64,
  },
  { name: "a self-signed certificate", cert: "selfSigned", host: "localhost", code: 18 },
] as const;

for (const verifyCase of VERIFY_CASES) {
  const { name, host, code } = verifyCase;
  Deno.test(`a pysock client refuses ${name} with the SSLCertVerificationError CPython raises (verify_code ${code})`, async () => {
    const c = await certs();
    const pairing = verifyPairing(c, verifyCase);
    const truth = await pythonVerdict(pairing);
    equal(truth.client.verify_code, code);
    await using peer = Peer.python({ role: "server", ...pairing[0] });
    const port = await portOf(peer);
    const sock = await createConnection(["127.0.0.1", port]);
    const err = await (await clientContext()).wrapSocket(sock, { serverHostname: host }).then(
      () => null,
      (e) => e,
    );
    ok(err instanceof SSLCertVerificationError);
    deepEqual(sslErrorFields(err), pythonErrorFields(truth.client));
    equal(sock.fileno(), -1, "the wrapped socket is closed, as Python closes it");
  });
}

Deno.test("mutual TLS: a pysock server requiring client certificates verifies a Python client's and reads it as CPython does", async () => {
  const c = await certs();
  const ctx = await serverContext();
  ctx.verifyMode = CERT_REQUIRED;
  ctx.loadVerifyLocations(c.ca);
  await using listener = createServer(["127.0.0.1", 0]);
  await using server = await ctx.wrapSocket(listener, { serverSide: true });
  await using peer = Peer.python({
    role: "client",
    port: server.getsockname()[1],
    host: "localhost",
    ca: c.ca,
    cert: c.client,
    key: c.clientKey,
    actions: [["send", "hi"]],
  });
  const [conn] = await server.accept();
  await using _conn = conn;
  deepEqual(conn.getpeercert(), await pythonDecode(c.client));
  equal(text(await conn.recv(2)), "hi");
  deepEqual((await peer.event()).peercert, await pythonDecode(c.server));
});

Deno.test("mutual TLS: a pysock client presents its certificate to a Python server that requires one", async () => {
  const c = await certs();
  await using peer = await pythonServer({
    ca: c.ca,
    verify: "required",
    actions: [["echo"]],
  });
  const ctx = await clientContext();
  ctx.loadCertChain(c.client, c.clientKey);
  await using ssock = await connectTo(await portOf(peer), ctx);
  const python = await peer.event();
  deepEqual(python.peercert, await pythonDecode(c.client));
  await ssock.sendall("mtls");
  equal(text(await ssock.recv(10)), "mtls");
});

for (
  const [name, clientCert, reason] of [
    ["no certificate", null, "PEER_DID_NOT_RETURN_A_CERTIFICATE"],
    ["a certificate from an unknown CA", "stranger", "CERTIFICATE_VERIFY_FAILED"],
  ] as const
) {
  Deno.test(`mutual TLS: a pysock server refuses a client with ${name}, with the error a CPython server raises`, async () => {
    const c = await certs();
    const pairing = mutualPairing(c, clientCert);
    const client = pairing[1];
    const truth = await pythonVerdict(pairing);
    equal(truth.server.reason, reason);
    const ctx = await serverContext();
    ctx.verifyMode = CERT_REQUIRED;
    ctx.loadVerifyLocations(c.ca);
    await using listener = createServer(["127.0.0.1", 0]);
    await using server = await ctx.wrapSocket(listener, { serverSide: true });
    await using _peer = Peer.python({ role: "client", port: server.getsockname()[1], ...client });
    const err = await server.accept().then(() => null, (e) => e);
    deepEqual(sslErrorFields(err), pythonErrorFields(truth.server));
  });
}

Deno.test("STARTTLS: a pysock client upgrades after a plaintext exchange with a Python server, reading the greeting through makefile", async () => {
  await using peer = await pythonServer({
    starttls: true,
    actions: [["echo"]],
  });
  const sock = await createConnection(["127.0.0.1", await portOf(peer)]);
  const file = sock.makefile("rb");
  equal(text(await file.readline()), "220 ready\r\n");
  await sock.sendall("STARTTLS\r\n");
  equal(text(await file.readline()), "220 go ahead\r\n");
  await using ssock = await (await clientContext()).wrapSocket(sock, {
    serverHostname: "localhost",
  });
  await ssock.sendall("secret");
  equal(text(await ssock.recv(10)), "secret");
});

Deno.test("STARTTLS: a pysock server upgrades after a plaintext exchange with a Python client", async () => {
  const c = await certs();
  await using listener = createServer(["127.0.0.1", 0]);
  await using peer = Peer.python({
    role: "client",
    port: listener.getsockname()[1],
    host: "localhost",
    ca: c.ca,
    starttls: "plain",
    actions: [["send", "after upgrade"], ["recv", 2]],
  });
  const [conn] = await listener.accept();
  await conn.sendall("220 ready\r\n");
  equal(text(await recvLine(conn)), "STARTTLS\r\n");
  await conn.sendall("220 go ahead\r\n");
  await using ssock = await (await serverContext()).wrapSocket(conn, { serverSide: true });
  equal(text(await ssock.recv(100)), "after upgrade");
  await ssock.sendall("ok");
  equal((await peer.event()).event, "handshake");
  deepEqual(await peer.event(), { event: "recv", data: "ok" });
});

Deno.test("STARTTLS: TLS bytes pipelined behind the command, already in pysock's buffer, start the session and are read once", async () => {
  const c = await certs();
  await using listener = createServer(["127.0.0.1", 0]);
  await using peer = Peer.python({
    role: "client",
    port: listener.getsockname()[1],
    host: "localhost",
    ca: c.ca,
    starttls: "pipelined",
    actions: [["send", "pipelined"]],
  });
  const [conn] = await listener.accept();
  equal(text(await recvLine(conn)), "STARTTLS\r\n");
  // Wait until the ClientHello is buffered: the upgrade must start from it.
  const buffer = conn[kReader]();
  ok((await buffer.peek(1, null)).length === 1);
  ok(buffer.buffered > 0);
  await using ssock = await (await serverContext()).wrapSocket(conn, { serverSide: true });
  equal(text(await ssock.recv(100)), "pipelined");
  equal((await peer.event()).event, "handshake");
});

Deno.test("ALPN: a pysock server picks the protocol a Python client offers, by the server's preference", async () => {
  const c = await certs();
  const ctx = await serverContext();
  ctx.setAlpnProtocols(["h2", "http/1.1"]);
  await using listener = createServer(["127.0.0.1", 0]);
  await using server = await ctx.wrapSocket(listener, { serverSide: true });
  await using peer = Peer.python({
    role: "client",
    port: server.getsockname()[1],
    host: "localhost",
    ca: c.ca,
    alpn: ["http/1.1", "h2"],
    actions: [["recv", 1]],
  });
  const [conn] = await server.accept();
  await using _conn = conn;
  await conn.sendall("x");
  const python = await peer.event();
  equal(conn.selectedAlpnProtocol(), "h2");
  equal(python.alpn, "h2");
});

Deno.test("ALPN without a common protocol: a pysock server refuses the handshake (rustls), where a CPython server would go on without ALPN", async () => {
  const c = await certs();
  const ctx = await serverContext();
  ctx.setAlpnProtocols(["h2"]);
  await using listener = createServer(["127.0.0.1", 0]);
  await using server = await ctx.wrapSocket(listener, { serverSide: true });
  await using peer = Peer.python({
    role: "client",
    port: server.getsockname()[1],
    host: "localhost",
    ca: c.ca,
    alpn: ["http/1.1"],
  });
  await rejects(
    server.accept(),
    (err: unknown) => err instanceof SSLError && err.reason === "NO_APPLICATION_PROTOCOL",
  );
  equal((await peer.event()).class, "SSLEOFError");
});

Deno.test("unwrap: after close_notify both ways the plain socket reads what a Python peer sends in plaintext, nothing lost", async () => {
  await using peer = await pythonServer({
    actions: [["recv", 3], ["unwrap"], ["send", "plain after TLS"], ["recv", 3]],
  });
  await using ssock = await connectTo(await portOf(peer), await clientContext());
  await ssock.sendall("tls");
  const plain: StreamSocket = await ssock.unwrap();
  await using _plain = plain;
  equal(ssock.fileno(), -1);
  equal(text(await recvExactly(plain, 15)), "plain after TLS");
  await plain.sendall("bye");
  equal((await peer.event()).event, "handshake");
  deepEqual(await peer.event(), { event: "recv", data: "tls" });
  deepEqual(await peer.event(), { event: "unwrapped" });
  deepEqual(await peer.event(), { event: "recv", data: "bye" });
});

for (
  const [name, reply, reason] of [
    ["replies in plaintext", "HTTP/1.0 400 Bad Request\r\n\r\n", "WRONG_VERSION_NUMBER"],
    ["closes the connection at once", null, "UNEXPECTED_EOF_WHILE_READING"],
  ] as const
) {
  Deno.test(`a handshake with a server that ${name} fails with the SSLError CPython raises (${reason})`, async () => {
    const truth = await pythonVerdict(plainPairing(await certs(), reply));
    equal(truth.client.reason, reason);
    await using peer = Peer.python({ role: "plain", reply });
    const err = await connectTo(await portOf(peer), await clientContext()).then(
      () => null,
      (e) => e,
    );
    deepEqual(sslErrorFields(err), pythonErrorFields(truth.client));
  });
}

Deno.test("maximumVersion TLSv1_2 makes the session TLS 1.2, with the TLS 1.2 cipher CPython reports", async () => {
  await using peer = await pythonServer({
    actions: [["echo"]],
  });
  const ctx = await clientContext();
  ctx.maximumVersion = TLSVersion.TLSv1_2;
  await using ssock = await connectTo(await portOf(peer), ctx);
  const python = await peer.event();
  equal(ssock.version(), "TLSv1.2");
  equal(python.version, "TLSv1.2");
  deepEqual(ssock.cipher(), python.cipher);
});

Deno.test("a client that insists on TLS 1.3 fails against a TLS 1.2 server with an SSLError, as CPython does", async () => {
  const c = await certs();
  const pairing = versionPairing(c);
  const truth = await pythonVerdict(pairing);
  equal(truth.client.class, "SSLError");
  await using peer = Peer.python({ role: "server", ...pairing[0] });
  const ctx = await clientContext();
  ctx.minimumVersion = TLSVersion.TLSv1_3;
  const err = await connectTo(await portOf(peer), ctx).then(() => null, (e) => e);
  ok(err instanceof SSLError, String(err));
  equal(err.constructor, SSLError);
});

Deno.test("a pysock server never speaks TLS 1.1: a CPython client limited to TLS 1.0-1.1 cannot connect", async () => {
  const c = await certs();
  await using listener = createServer(["127.0.0.1", 0]);
  await using server = await (await serverContext()).wrapSocket(listener, { serverSide: true });
  await using peer = Peer.python({
    role: "client",
    port: server.getsockname()[1],
    host: "localhost",
    ca: c.ca,
    minver: "TLSv1",
    maxver: "TLSv1_1",
  });
  const err = await server.accept().then(() => null, (e) => e);
  ok(err instanceof SSLError, String(err));
  const python = await peer.event();
  equal(python.event, "error");
  equal(python.class, "SSLError");
});

Deno.test("bulk data crosses TLS intact both ways between pysock and CPython (4 MiB each way, sha256 checked)", async () => {
  const size = 4 * 1024 * 1024;
  await using peer = await pythonServer({
    actions: [["recvall"], ["sendbulk", size]],
  });
  await using ssock = await connectTo(await portOf(peer), await clientContext());
  const chunk = new Uint8Array(65536).map((_, i) => i & 0xff);
  const sent = createHash("sha256");
  for (let left = size; left > 0; left -= chunk.length) {
    await ssock.sendall(chunk);
    sent.update(chunk);
  }
  ssock.shutdown(SHUT_WR); // close_notify: Python's recv sees end of stream
  const got = createHash("sha256");
  let received = 0;
  while (true) {
    const data = await ssock.recv(65536);
    if (data.length === 0) break;
    got.update(data);
    received += data.length;
  }
  equal((await peer.event()).event, "handshake");
  deepEqual(await peer.event(), { event: "recvall", size, sha256: sent.digest("hex") });
  const python = await peer.event();
  equal(received, size);
  equal(got.digest("hex"), python.sha256);
});

Deno.test("shutdown(SHUT_WR) sends close_notify and the Python peer can still answer (TLS 1.3 half-close)", async () => {
  await using peer = await pythonServer({
    actions: [["recvall"], ["send", "answer"]],
  });
  await using ssock = await connectTo(await portOf(peer), await clientContext());
  await ssock.sendall("question");
  ssock.shutdown(SHUT_WR);
  equal(text(await recvExactly(ssock, 6)), "answer");
  equal((await ssock.recv(10)).length, 0); // Python closed without close_notify
  await peer.event();
  equal((await peer.event()).size, 8);
});

Deno.test("a close without close_notify reads as end of stream, or as SSLEOFError with suppressRaggedEofs false", async () => {
  for (const suppressRaggedEofs of [true, false]) {
    await using peer = await pythonServer({
      actions: [["send", "last words"], ["close"]],
    });
    const sock = await createConnection(["127.0.0.1", await portOf(peer)]);
    await using ssock = await (await clientContext()).wrapSocket(sock, {
      serverHostname: "localhost",
      suppressRaggedEofs,
    });
    equal(text(await recvExactly(ssock, 10)), "last words");
    if (suppressRaggedEofs) equal((await ssock.recv(10)).length, 0);
    else await rejects(ssock.recv(10), SSLEOFError);
  }
});

Deno.test("a close with close_notify reads as end of stream even with suppressRaggedEofs false", async () => {
  await using peer = await pythonServer({
    actions: [["send", "last words"], ["unwrap"]],
  });
  const sock = await createConnection(["127.0.0.1", await portOf(peer)]);
  await using ssock = await (await clientContext()).wrapSocket(sock, {
    serverHostname: "localhost",
    suppressRaggedEofs: false,
  });
  equal(text(await recvExactly(ssock, 10)), "last words");
  equal((await ssock.recv(10)).length, 0);
});

Deno.test("openssl s_server as the peer: a pysock client's bytes reach it and its bytes reach the client", async () => {
  const c = await certs();
  await using server = new Peer("openssl", [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    c.server,
    "-key",
    c.serverKey,
    "-naccept",
    "1",
    "-ign_eof",
  ]);
  // Port 0: s_server prints the port it got ("ACCEPT 127.0.0.1:PORT").
  const port = Number((await server.lineWith("ACCEPT")).split(":").pop());
  await using ssock = await connectTo(port, await clientContext());
  await ssock.sendall("from pysock\n");
  await server.lineWith("from pysock");
  await server.write("from openssl\n");
  equal(text(await recvLine(ssock)), "from openssl\n");
  equal(ssock.version(), "TLSv1.3");
});

Deno.test("openssl s_client as the peer verifies a pysock server's certificate and talks to it", async () => {
  const c = await certs();
  await using listener = createServer(["127.0.0.1", 0]);
  await using server = await (await serverContext()).wrapSocket(listener, { serverSide: true });
  await using client = new Peer("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${server.getsockname()[1]}`,
    "-servername",
    "localhost",
    "-verify_hostname",
    "localhost",
    "-CAfile",
    c.ca,
    "-verify_return_error",
    "-ign_eof",
  ]);
  const [conn] = await server.accept();
  await using _conn = conn;
  const verdict = await client.lineWith("Verify return code");
  equal(verdict.trim(), "Verify return code: 0 (ok)");
  await client.write("from openssl\n");
  equal(text(await recvLine(conn)), "from openssl\n");
  await conn.sendall("from pysock\n");
  await client.lineWith("from pysock");
});

/** A client context for the "deno" engine: default roots plus the test CA, so Deno.startTls can honour it. */
async function denoContext(): Promise<SSLContext> {
  const ctx = createDefaultContext();
  ctx.loadVerifyLocations((await certs()).ca);
  ctx.engine = "deno";
  return ctx;
}

Deno.test('the "deno" engine carries a client connect() through Deno.startTls and reports what Deno.TlsConn can: the ALPN protocol', async () => {
  await using peer = await pythonServer({
    alpn: ["http/1.1"],
    actions: [["echo"]],
  });
  const port = await portOf(peer);
  const ctx = await denoContext();
  ctx.setAlpnProtocols(["h2", "http/1.1"]);
  await using ssock = await ctx.wrapSocket(socket(), { serverHostname: "localhost" });
  await ssock.connect(["127.0.0.1", port]);
  equal(ssock.engine, "deno");
  equal(ssock.selectedAlpnProtocol(), "http/1.1");
  await ssock.sendall("native");
  equal(text(await recvExactly(ssock, 6)), "native");
  const python = await peer.event();
  equal(python.version, "TLSv1.3");
  for (const call of [() => ssock.version(), () => ssock.cipher(), () => ssock.getpeercert()]) {
    throws(call, (err: unknown) => err instanceof OSError && err.errno === errno.EOPNOTSUPP);
  }
  await rejects(
    ssock.unwrap(),
    (err: unknown) => err instanceof OSError && err.errno === errno.EOPNOTSUPP,
  );
});

for (const verifyCase of VERIFY_CASES) {
  const { name, host, code } = verifyCase;
  Deno.test(`the "deno" engine refuses ${name} with the SSLCertVerificationError CPython raises (verify_code ${code})`, async () => {
    const c = await certs();
    const pairing = verifyPairing(c, verifyCase);
    const truth = await pythonVerdict(pairing);
    await using peer = Peer.python({ role: "server", ...pairing[0] });
    const port = await portOf(peer);
    const ssock = await (await denoContext()).wrapSocket(socket(), { serverHostname: host });
    const err = await ssock.connect(["127.0.0.1", port]).then(() => null, (e) => e);
    ssock.close();
    deepEqual(sslErrorFields(err), pythonErrorFields(truth.client));
  });
}

Deno.test('the "deno" engine gives way to node:tls where Deno.startTls cannot honour the context or the socket', async () => {
  const c = await certs();
  for (const setup of ["client certificate", "connected socket"] as const) {
    await using peer = await pythonServer({
      actions: [["echo"]],
    });
    const port = await portOf(peer);
    const ctx = await denoContext();
    let ssock: SSLSocket;
    if (setup === "client certificate") {
      ctx.loadCertChain(c.client, c.clientKey);
      ssock = await ctx.wrapSocket(socket(), { serverHostname: "localhost" });
      await ssock.connect(["127.0.0.1", port]);
    } else {
      ssock = await connectTo(port, ctx);
    }
    await using _ssock = ssock;
    equal(ssock.engine, "node", setup);
    equal(ssock.version(), "TLSv1.3");
  }
});
