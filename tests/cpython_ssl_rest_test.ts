// CPython's own TLS tests (Lib/test/test_ssl.py, 3.11.7): what
// cpython_ssl_test.ts left, ported to pysock on loopback with certificates
// made at test time (tests/_ssl_helpers.ts). Each test names its CPython test.
//
// The gap list: every class of test_ssl.py with test methods (183 methods,
// 12 classes, none inherits a test), and where each method is. "port" means
// tests/cpython_ssl_test.ts, which lists each method it skips with the
// reason; "here" means this file.
//
//   BasicSocketTests (35): port; 16 ported there, 19 skipped there (C types,
//     RAND_*, crafted certdata, OPENSSL_VERSION, garbage collection,
//     deprecation warnings, match_hostname, channel binding, OpenSSL/Windows
//     stores, _ASN1Object, cert_time_to_seconds and its _timezone/_locale).
//   ContextTests (30): port; 12 ported, 18 skipped there (attributes pysock
//     does not have: ciphers lists, options, security level, verify flags, DH,
//     session stats, default verify paths, ECDH curve, SNI callbacks, cert
//     store stats, custom classes, num_tickets, hostname_checks_common_name,
//     _create_stdlib_context, load_default_certs_env and its _windows).
//   SSLErrorTests (4): port, all.
//   MemoryBIOTests (5), SSLObjectTests (2: test_private_init, test_unwrap):
//     skipped there, no SSLObject/MemoryBIO (README "Not provided");
//     BasicSocketTests.test_private_init is SSLSocket's twin.
//   SimpleBackgroundTests (20): port; 14 ported, 6 skipped there
//     (get_server_certificate and its _sni/_fail/_timeout; the two BIO tests).
//   NetworkedTests (2): test_timeout_connect_ex here, on a loopback listener
//     that cannot complete a connect (its queue is full) instead of a remote
//     host; test_get_server_certificate_ipv6 skipped (needs the Internet and
//     get_server_certificate, not in pysock).
//   ThreadedTests (55): port; 29 ported, 26 skipped there (CRLs, TLS < 1.2,
//     set_ciphers/shared_ciphers, compression, DH/ECDH parameters, NPN, SNI
//     callbacks, sessions, channel binding, http.server, asyncore, a
//     non-blocking send that never raises SSLWantWriteError).
//   TestPostHandshakeAuth (11): skipped, every method is about
//     post_handshake_auth / verify_client_post_handshake (README "Not
//     provided": post-handshake client authentication), and
//     test_internal_chain_client/_server about _sslobj.get_verified_chain()
//     and get_unverified_chain(), internals pysock has no twin of.
//   TestSSLDebug (6): skipped; test_keylog_defaults, test_keylog_filename,
//     test_keylog_env: keylog files not provided (README); test_msg_callback,
//     test_msg_callback_tls12, test_msg_callback_deadlock_bpo43577:
//     _msg_callback is an OpenSSL hook pysock has no attribute for.
//   TestPreHandshakeClose (3): here, all (the CVE-2023-40217 tests).
//   TestEnumerations (10): test_tlsversion, test_sslerrornumber,
//     test_verifymode, test_sslmethod here (against CPython's values, run in
//     python3); skipped: test_tlscontenttype, test_tlsalerttype,
//     test_tlsmessagetype (the private _TLSContentType, _TLSAlertType,
//     _TLSMessageType of the msg_callback, not in pysock), test_options
//     (Options / OP_*), test_alertdescription (ALERT_DESCRIPTION_*),
//     test_verifyflags (VERIFY_*): names pysock does not export.

import assert from "node:assert/strict";
import { ConnectionResetError, errno, OSError } from "../errors.ts";
import { MSG_PEEK, socket, type StreamSocket } from "../socket.ts";
import * as ssl from "../ssl.ts";
import { python, pythonJson, silentListener, text } from "./_helpers.ts";
import { certs } from "./_ssl_helpers.ts";

const HOST = "127.0.0.1";
const SHORT_TIMEOUT = 10;

// A CPython listener that prints its port, accepts one client as `c`, and stops listening.
const PY_ACCEPT_ONE = `l = socket.socket()
l.bind(("127.0.0.1", 0))
l.settimeout(${SHORT_TIMEOUT})
l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
l.close()`;

// ---------------------------------------------------------------------------
// NetworkedTests

// test_ssl.py NetworkedTests.test_timeout_connect_ex
// Issue #12065: on a timeout, connect_ex() returns the errno a plain socket's
// would (EAGAIN), instead of raising. REMOTE_HOST:443 is a loopback listener
// whose accept queue is full, so the kernel drops the SYN and the connect
// waits; CPython, run against the same listener, is the oracle.
Deno.test("NetworkedTests.test_timeout_connect_ex: connectEx past the timeout returns EAGAIN, as CPython's connect_ex", async () => {
  await using silent = await silentListener();
  const [host, port] = silent.addr;
  // test_wrap_socket(socket, cert_reqs=CERT_REQUIRED, do_handshake_on_connect=False)
  const context = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
  context.verifyMode = ssl.CERT_REQUIRED;
  await using s = await context.wrapSocket(socket(), {
    serverHostname: "localhost",
    doHandshakeOnConnect: false,
  });
  s.settimeout(0.0000001);
  const rc = await s.connectEx([host, port]);
  const theirs = await pythonJson(
    `
import ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.verify_mode = ssl.CERT_REQUIRED
s = ctx.wrap_socket(socket.socket(socket.AF_INET), server_hostname="localhost",
                    do_handshake_on_connect=False)
s.settimeout(0.0000001)
rc = s.connect_ex((sys.argv[1], int(sys.argv[2])))
s.close()
print(json.dumps(rc))
`,
    host,
    String(port),
  );
  assert.equal(theirs, errno.EAGAIN);
  assert.equal(rc, theirs);
});

// ---------------------------------------------------------------------------
// TestPreHandshakeClose (CVE-2023-40217: bytes that arrive before the
// handshake, on a connection the peer then resets, must never come out of
// the TLS socket as if they were TLS data).
//
// SingleConnectionTestServerThread's context: ONLYCERT/ONLYKEY, here the
// self-signed localhost certificate, trusted for client certificates too.
async function serverContext(): Promise<ssl.SSLContext> {
  const c = await certs();
  const ctx = ssl.createDefaultContext(ssl.Purpose.CLIENT_AUTH);
  ctx.verifyMode = ssl.CERT_REQUIRED;
  ctx.loadVerifyLocations(c.selfSigned);
  ctx.loadCertChain(c.selfSigned, c.selfSignedKey);
  return ctx;
}

// The peer's end, in CPython: set_socket_so_linger_on_with_zero_timeout()
// then close() is a reset, which pysock cannot send (no SO_LINGER).
const PY_RESET = `
import socket, struct, sys
def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
`;

/** What the server (or client) of a ported test ended with. */
interface Outcome {
  wrapError: unknown;
  receivedData: Uint8Array;
}

// SingleConnectionTestServerThread.run after call_after_accept: wrap the
// accepted connection, then recv(400) from it; an OSError from either is kept.
async function wrapAndReceive(
  conn: StreamSocket,
  wrap: () => Promise<ssl.SSLSocket>,
): Promise<Outcome> {
  let tls: ssl.SSLSocket;
  try {
    tls = await wrap();
  } catch (err) {
    if (!(err instanceof OSError)) throw err;
    conn.close();
    return { wrapError: err, receivedData: new Uint8Array() };
  }
  try {
    return { wrapError: null, receivedData: await tls.recv(400) };
  } catch (err) {
    if (!(err instanceof OSError)) throw err;
    return { wrapError: null, receivedData: new Uint8Array() };
  } finally {
    tls.close();
  }
}

// A CPython client: connects, waits for the server's "accepted" byte (the
// server accepts before the client sends, as server_accept_called.wait()
// orders it), sends an HTTP request and resets.
async function preauthDataToTlsServer(): Promise<Outcome> {
  const ctx = await serverContext();
  using listener = socket();
  listener.bind([HOST, 0]);
  listener.settimeout(SHORT_TIMEOUT);
  listener.listen(1);
  const port = (listener.getsockname() as [string, number])[1];
  await using client = python(
    PY_RESET + `
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.recv(1)  # server_accept_called
c.setblocking(False)
c.send(b"DELETE /data HTTP/1.0\\r\\n\\r\\n")
reset(c)  # RST
`,
    String(port),
  );
  const [conn] = await listener.accept();
  listener.close();
  await conn.sendall("a");
  // ready_for_server_wrap_socket: the client has sent and reset.
  await client.output();
  return await wrapAndReceive(conn, () => ctx.wrapSocket(conn, { serverSide: true }));
}

// test_ssl.py TestPreHandshakeClose.test_preauth_data_to_tls_server
// CPython on Linux raises SSLError "Closed before TLS handshake with data in
// recv buffer" (see the BUG test below); pysock hands the request's bytes to
// the TLS engine as the client's first flight, and they fail the handshake
// as WRONG_VERSION_NUMBER, which CPython's test accepts where the platform
// takes that path (non_linux_skip_if_other_okay_error). Either way the
// bytes never come out as data.
Deno.test("TestPreHandshakeClose.test_preauth_data_to_tls_server: data and a reset before the handshake fail the server's wrap, and nothing is received", async () => {
  const { wrapError, receivedData } = await preauthDataToTlsServer();
  assert.deepEqual(receivedData, new Uint8Array());
  assert.ok(wrapError instanceof OSError, String(wrapError)); // All platforms.
  assert.ok(wrapError instanceof ssl.SSLError, String(wrapError));
  assert.equal(wrapError.reason, "WRONG_VERSION_NUMBER");
  assert.notEqual(wrapError.errno, 0);
  assert.ok("library" in wrapError, "attr must exist");
});

// A CPython server: accepts, waits for the client's go (a byte: the client
// has connected; server_can_continue_with_wrap_socket), sends `response`
// and resets.
function resettingServer(response: string) {
  return python(
    PY_RESET + `
${PY_ACCEPT_ONE}
c.recv(1)
c.send(${JSON.stringify(response)}.encode())
reset(c)  # RST
`,
  );
}

async function preauthDataToTlsClient(
  response: string,
  serverHostname: string,
  timeout: number | null,
): Promise<Outcome> {
  await using server = resettingServer(response);
  const port = Number(await server.firstLine());
  const client = socket();
  client.settimeout(timeout);
  await client.connect([HOST, port]);
  await client.sendall("g");
  // client_can_continue_with_wrap_socket: the server has sent and reset.
  await server.output();
  const ctx = ssl.createDefaultContext();
  return await wrapAndReceive(client, () => ctx.wrapSocket(client, { serverHostname }));
}

// test_ssl.py TestPreHandshakeClose.test_preauth_data_to_tls_client
// CPython on Linux: SSLError "Closed before TLS handshake with data in recv
// buffer" (BUG test below). pysock sends its ClientHello on the reset
// connection and fails with ConnectionResetError, which CPython's test
// accepts where the platform shows the reset (Windows).
Deno.test("TestPreHandshakeClose.test_preauth_data_to_tls_client: an HTTP reply and a reset before the handshake fail the client's wrap, and nothing is received", async () => {
  const { wrapError, receivedData } = await preauthDataToTlsClient(
    "HTTP/1.0 307 Temporary Redirect\r\n" +
      "Location: https://example.com/someone-elses-server\r\n\r\n",
    "localhost",
    null,
  );
  assert.deepEqual(receivedData, new Uint8Array());
  assert.ok(wrapError instanceof OSError, String(wrapError)); // All platforms.
  assert.ok(wrapError instanceof ConnectionResetError, String(wrapError));
  assert.equal(wrapError.errno, errno.ECONNRESET);
});

// test_ssl.py TestPreHandshakeClose.test_https_client_non_tls_response_ignored
// http.client.HTTPSConnection's connect() is a plain connect, then
// wrap_socket(server_hostname=host) with a 2 s timeout; request() must raise
// OSError rather than read the plaintext "402" as the server's answer.
Deno.test("TestPreHandshakeClose.test_https_client_non_tls_response_ignored: a plaintext HTTP reply and a reset fail the wrap with OSError", async () => {
  const { wrapError, receivedData } = await preauthDataToTlsClient(
    "HTTP/1.0 402 Payment Required\r\n\r\n",
    HOST,
    2.0,
  );
  assert.ok(wrapError instanceof OSError, String(wrapError));
  assert.deepEqual(receivedData, new Uint8Array());
});

// Beyond CPython's tests, for pysock's one read buffer: bytes the socket has
// already read (here by MSG_PEEK) before the wrap are the handshake's input,
// as the kernel's buffer is for CPython, never plaintext from the TLS socket.
// No reset here: both sides fail on the bytes themselves.
Deno.test("TestPreHandshakeClose: bytes peeked before the wrap are fed to the handshake and fail it with SSLError, as in CPython", async () => {
  const program = `
import socket, ssl, sys
${PY_ACCEPT_ONE}
c.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\n")
c.settimeout(${SHORT_TIMEOUT})
try:
    c.recv(1)  # until the client closes
except OSError:
    pass
c.close()
`;
  // CPython's client: the twin of what pysock does below.
  await using server1 = python(program);
  const port1 = Number(await server1.firstLine());
  const theirs = await pythonJson(
    `
import ssl, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
peeked = c.recv(100, socket.MSG_PEEK)
try:
    ssl.create_default_context().wrap_socket(c, server_hostname="localhost")
    print(json.dumps(["wrapped", peeked.decode()]))
except OSError as e:
    print(json.dumps([type(e).__name__, peeked.decode()]))
c.close()
`,
    String(port1),
  );
  await server1.output();

  await using server2 = python(program);
  const port2 = Number(await server2.firstLine());
  const client = socket();
  client.settimeout(SHORT_TIMEOUT);
  await client.connect([HOST, port2]);
  let peeked = "";
  for (let i = 0; i < 100 && !peeked.endsWith("\r\n\r\n"); i++) {
    peeked = text(await client.recv(100, MSG_PEEK));
  }
  const ctx = ssl.createDefaultContext();
  const { wrapError, receivedData } = await wrapAndReceive(
    client,
    () => ctx.wrapSocket(client, { serverHostname: "localhost" }),
  );
  await server2.output();
  assert.deepEqual(receivedData, new Uint8Array());
  assert.ok(wrapError instanceof ssl.SSLError, String(wrapError));
  assert.deepEqual([wrapError.name, peeked], theirs);
});

// BUG: CPython 3.11.7 on Linux (checked on this machine, both sides) raises
// SSLError(107, "Closed before TLS handshake with data in recv buffer.")
// with reason that text and library None: wrap_socket sees the reset as
// getpeername() failing with ENOTCONN, and data still in the buffer. pysock
// never takes that path: its getpeername() fails with ENOTCONN only once a
// call has met the reset (README), and no call has before the wrap, so it
// answers from the address Deno gave at connect/accept: the server's wrap fails
// on the bytes (SSLError WRONG_VERSION_NUMBER) and the client's on its own
// ClientHello (ConnectionResetError 104). Deno shows no connection state to
// check before the handshake, so this is not a small fix.
Deno.test({
  name:
    "TestPreHandshakeClose: a wrap after data and a reset fails as CPython's on Linux, with SSLError ENOTCONN",
  ignore: true,
  fn: async () => {
    const outcomes = [
      await preauthDataToTlsServer(),
      await preauthDataToTlsClient("HTTP/1.0 307 Temporary Redirect\r\n\r\n", "localhost", null),
    ];
    for (const { wrapError } of outcomes) {
      assert.ok(wrapError instanceof ssl.SSLError, String(wrapError));
      assert.equal(wrapError.errno, errno.ENOTCONN);
      assert.equal(wrapError.reason, "Closed before TLS handshake with data in recv buffer.");
      assert.equal(wrapError.library, null);
    }
  },
});

// ---------------------------------------------------------------------------
// TestEnumerations: CPython compares each IntEnum with _ssl's constants; the
// reference here is CPython's ssl module itself, run in python3.

interface PythonEnums {
  TLSVersion: Record<string, number>;
  SSLErrorNumber: Record<string, number>;
  VerifyMode: Record<string, number>;
  _SSLMethod: Record<string, number>;
}

let enums: Promise<PythonEnums> | null = null;
function pythonEnums(): Promise<PythonEnums> {
  // PROTOCOL_SSLv23 is set on _SSLMethod by ssl.py after the enum is made,
  // so it is no member; the CPython test adds it by hand, as here.
  enums ??= pythonJson(`
import ssl
def members(e):
    return {name: int(m) for name, m in e.__members__.items()}
methods = members(ssl._SSLMethod)
methods["PROTOCOL_SSLv23"] = int(ssl._SSLMethod.PROTOCOL_SSLv23)
print(json.dumps({
    "TLSVersion": members(ssl.TLSVersion),
    "SSLErrorNumber": members(ssl.SSLErrorNumber),
    "VerifyMode": members(ssl.VerifyMode),
    "_SSLMethod": methods,
}))
`) as Promise<PythonEnums>;
  return enums;
}

/** The exports of ssl.ts whose names start with `prefix`, as a name → value record. */
function exported(prefix: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(ssl).filter(([name, value]) =>
      name.startsWith(prefix) && typeof value === "number"
    ),
  ) as Record<string, number>;
}

// test_ssl.py TestEnumerations.test_tlsversion
Deno.test("TestEnumerations.test_tlsversion: TLSVersion has CPython's members and values", async () => {
  assert.deepEqual({ ...ssl.TLSVersion }, (await pythonEnums()).TLSVersion);
  assert.ok(Object.isFrozen(ssl.TLSVersion));
});

// test_ssl.py TestEnumerations.test_sslerrornumber
// SSLErrorNumber's members are module constants in pysock, as they are in
// Python (ssl.SSL_ERROR_EOF is ssl.SSLErrorNumber.SSL_ERROR_EOF).
Deno.test("TestEnumerations.test_sslerrornumber: the SSL_ERROR_* constants are CPython's SSLErrorNumber", async () => {
  assert.deepEqual(exported("SSL_ERROR_"), (await pythonEnums()).SSLErrorNumber);
});

// test_ssl.py TestEnumerations.test_verifymode
Deno.test("TestEnumerations.test_verifymode: the CERT_* constants are CPython's VerifyMode", async () => {
  assert.deepEqual(exported("CERT_"), (await pythonEnums()).VerifyMode);
});

// test_ssl.py TestEnumerations.test_sslmethod
// pysock has three of _SSLMethod's seven names; the other four are the
// deprecated fixed-version ones, whose values SSLContext refuses (TLS 1.2
// and 1.3 only, chosen with minimumVersion/maximumVersion).
Deno.test("TestEnumerations.test_sslmethod: the PROTOCOL_* constants have CPython's values, and its other methods are refused", async () => {
  const theirs = (await pythonEnums())._SSLMethod;
  const ours = exported("PROTOCOL_");
  assert.deepEqual(Object.keys(ours).sort(), [
    "PROTOCOL_TLS",
    "PROTOCOL_TLS_CLIENT",
    "PROTOCOL_TLS_SERVER",
  ]);
  for (const [name, value] of Object.entries(ours)) assert.equal(value, theirs[name], name);
  const missing = Object.keys(theirs).filter((name) => !(name in ours)).sort();
  assert.deepEqual(missing, [
    "PROTOCOL_SSLv23",
    "PROTOCOL_TLSv1",
    "PROTOCOL_TLSv1_1",
    "PROTOCOL_TLSv1_2",
  ]);
  // PROTOCOL_SSLv23 is an alias of PROTOCOL_TLS, which pysock has.
  assert.equal(theirs.PROTOCOL_SSLv23, ssl.PROTOCOL_TLS);
  for (const name of missing.filter((n) => n !== "PROTOCOL_SSLv23")) {
    assert.throws(
      () => new ssl.SSLContext(theirs[name]),
      (e: unknown) => e instanceof RangeError && /TLS 1\.2 and 1\.3 only/.test(e.message),
      name,
    );
  }
});
