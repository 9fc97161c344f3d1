// Client certificates against CPython's ssl, both ways: what a pysock
// server's accept gives for each certificate a CPython client presents (or
// none), by verify mode, and what a pysock client reads when a CPython
// server refuses its certificate; a pysock server without a certificate;
// what getpeercert() and getCaCerts() give for the certificates held, and
// what a context that holds no CA trusts.
// The ground truth is CPython against CPython (tests/py/ssl_oracle.py, or a
// twin of its own here).

import { deepEqual, equal, ok } from "node:assert/strict";
import { createConnection, createServer } from "../socket.ts";
import {
  CERT_NONE,
  CERT_OPTIONAL,
  CERT_REQUIRED,
  PROTOCOL_TLS,
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  SSLContext,
  SSLError,
  type SSLSocket,
} from "../ssl.ts";
import { MOD, pythonJson, rejection, settled } from "./_helpers.ts";
import {
  certs,
  Peer,
  type PeerConfig,
  portOf,
  pythonErrorFields,
  sslErrorFields,
  sslOracle,
} from "./_ssl_helpers.ts";

type Config = PeerConfig;
type Pairing = [server: Config, client: Config];

// A pysock server checking a CPython client's certificate, by verify mode.
const CLIENT_CERTS = ["none", "client", "stranger", "expired", "selfSigned", "server"] as const;
const CLIENT_CASES = (["optional", "required"] as const).flatMap((verify) =>
  CLIENT_CERTS.map((cert) => ({ verify, cert }))
);

async function clientPairing(k: typeof CLIENT_CASES[number]): Promise<Pairing> {
  const c = await certs();
  const cert = k.cert === "none" ? {} : { cert: c[k.cert], key: c[`${k.cert}Key`] };
  return [
    { cert: c.server, key: c.serverKey, ca: c.ca, verify: k.verify, actions: [["send", "hi"]] },
    { host: "localhost", ca: c.ca, ...cert, actions: [["recv", 2]] },
  ];
}

let clientVerdicts: Promise<{ client: Config; server: Config }[]> | null = null;

for (const [i, k] of CLIENT_CASES.entries()) {
  Deno.test(`client certificates, pysock server with CERT_${k.verify.toUpperCase()}: ${k.cert} gives the accept CPython's server gives`, async () => {
    clientVerdicts ??= Promise.all(CLIENT_CASES.map(clientPairing)).then(sslOracle);
    const expected = (await clientVerdicts)[i];
    const [server, client] = await clientPairing(k);
    const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
    ctx.loadCertChain(server.cert as string, server.key as string);
    ctx.loadVerifyLocations(server.ca as string);
    ctx.verifyMode = k.verify === "optional" ? CERT_OPTIONAL : CERT_REQUIRED;
    await using listener = createServer(["127.0.0.1", 0]);
    await using tls = await ctx.wrapSocket(listener, { serverSide: true });
    await using _peer = Peer.python({ role: "client", port: tls.getsockname()[1], ...client });
    const accepting = tls.accept();
    if (expected.server.event === "error") {
      const err = await rejection(accepting, "the server's accept");
      deepEqual(sslErrorFields(err), pythonErrorFields(expected.server));
    } else {
      equal(expected.server.event, "handshake", JSON.stringify(expected.server));
      const [conn] = await settled(accepting, "the server's accept");
      await using _conn = conn;
      deepEqual(conn.getpeercert(), expected.server.peercert);
      await conn.sendall("hi");
    }
  });
}

// CPython against CPython: a server requiring a client certificate, and a
// client presenting `cert` (or none): the TLS 1.3 client's handshake is
// done before the server's verdict, so the server's alert is what the
// client's first recv raises.
const PY_REFUSED_CLIENT = `
import json, re, socket, ssl, sys, threading
ca, server, server_key, cases = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
def sslErrorFields(e):
    return {"class": type(e).__name__, "errno": e.errno, "reason": e.reason,
            "str": re.sub(r" \\(_ssl\\.c:\\d+\\)$", "", str(e))}
out = []
for cert, key in cases:
    s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    s.load_cert_chain(server, server_key)
    s.load_verify_locations(ca)
    s.verify_mode = ssl.CERT_REQUIRED
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.load_verify_locations(ca)
    if cert: c.load_cert_chain(cert, key)
    l = socket.create_server(("127.0.0.1", 0))
    def serve():
        conn, _ = l.accept()
        try: s.wrap_socket(conn, server_side=True).close()
        except ssl.SSLError: conn.close()
    t = threading.Thread(target=serve)
    t.start()
    x = c.wrap_socket(socket.create_connection(l.getsockname()), server_hostname="localhost")
    try: out.append({"data": x.recv(1).hex()})
    except ssl.SSLError as e: out.append(sslErrorFields(e))
    x.close()
    t.join()
    l.close()
print(json.dumps(out))
`;

Deno.test("a pysock client whose certificate a CPython server refuses reads the alert a CPython client reads", async () => {
  const c = await certs();
  const names = [null, "stranger", "expired", "selfSigned", "server"] as const;
  const cases = names.map((n) => n === null ? [null, null] : [c[n], c[`${n}Key`]]);
  const { stdout, success, stderr } = await new Deno.Command("python3", {
    args: ["-c", PY_REFUSED_CLIENT, c.ca, c.server, c.serverKey, JSON.stringify(cases)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  ok(success, new TextDecoder().decode(stderr));
  const theirs: Config[] = JSON.parse(new TextDecoder().decode(stdout));
  for (const [i, [cert, key]] of cases.entries()) {
    await using peer = Peer.python({
      role: "server",
      cert: c.server,
      key: c.serverKey,
      ca: c.ca,
      verify: "required",
    });
    const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
    ctx.loadVerifyLocations(c.ca);
    if (cert !== null) ctx.loadCertChain(cert, key);
    await using sock = await createConnection(["127.0.0.1", await portOf(peer)]);
    await using ssock = await ctx.wrapSocket(sock, { serverHostname: "localhost" });
    const err = await rejection(ssock.recv(1), "the client's recv");
    ok(err instanceof SSLError, String(err));
    const got = { class: err.name, errno: err.errno, reason: err.reason, str: err.message };
    deepEqual(got, theirs[i], String(names[i]));
  }
});

Deno.test("a pysock server without a certificate fails accept as a CPython server does (NO_SHARED_CIPHER)", async () => {
  const c = await certs();
  const [truth] = await sslOracle([[{}, { host: "localhost", ca: c.ca }]]);
  equal(truth.server.reason, "NO_SHARED_CIPHER");
  await using listener = createServer(["127.0.0.1", 0]);
  const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
  await using tls = await ctx.wrapSocket(listener, { serverSide: true });
  await using peer = Peer.python({
    role: "client",
    port: tls.getsockname()[1],
    host: "localhost",
    ca: c.ca,
  });
  const err = await rejection(tls.accept(), "accept");
  deepEqual(sslErrorFields(err), pythonErrorFields(truth.server));
  // No handshake_failure alert from pysock (README): the CPython client's
  // handshake fails with SSLEOFError where CPython's alert gives SSLV3_ALERT_HANDSHAKE_FAILURE.
  equal(truth.client.reason, "SSLV3_ALERT_HANDSHAKE_FAILURE");
  const report = await settled(peer.event(), "the CPython client");
  equal(report.class, "SSLEOFError", JSON.stringify(report));
});

// CPython's getpeercert() asks the context for its verify mode when it is
// called: {} once it is CERT_NONE, on either side; None with no certificate.
const PY_PEERCERT_MODES = `
import ssl, warnings
warnings.simplefilter("ignore")
ca, server, server_key, client, client_key = sys.argv[1:6]
def facts(x):
    cert = x.getpeercert()
    return "dict" if cert else cert
def run(cctx, sctx, change):
    l = socket.create_server(("127.0.0.1", 0))
    out, first, done = {}, threading.Event(), threading.Event()
    def serve():
        conn, _ = l.accept()
        x = sctx.wrap_socket(conn, server_side=True)
        out["server"] = facts(x)
        first.set()
        done.wait(10)
        out["server_after"] = facts(x)
        x.recv(1)
        x.close()
    t = threading.Thread(target=serve)
    t.start()
    x = cctx.wrap_socket(socket.create_connection(l.getsockname()), server_hostname="localhost")
    out["client"] = facts(x)
    first.wait(10)
    if change:
        cctx.check_hostname = False
        cctx.verify_mode = sctx.verify_mode = ssl.CERT_NONE
    done.set()
    out["client_after"] = facts(x)
    x.send(b"x")
    t.join()
    x.close()
    l.close()
    return out
s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
s.load_cert_chain(server, server_key)
s.load_verify_locations(ca)
s.verify_mode = ssl.CERT_OPTIONAL
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
c.load_verify_locations(ca)
c.load_cert_chain(client, client_key)
p = ssl.SSLContext(ssl.PROTOCOL_TLS)
p.load_cert_chain(server, server_key)
print(json.dumps([run(c, s, True), run(ssl.SSLContext(ssl.PROTOCOL_TLS), p, False)]))
`;

Deno.test("getpeercert reads the context's verify mode when called, on both sides, and PROTOCOL_TLS gives {} and None, as CPython's", async () => {
  const c = await certs();
  const theirs = await pythonJson(
    PY_PEERCERT_MODES,
    c.ca,
    c.server,
    c.serverKey,
    c.client,
    c.clientKey,
  );
  const facts = (x: SSLSocket) => {
    const cert = x.getpeercert();
    return cert !== null && Object.keys(cert).length > 0 ? "dict" : cert;
  };
  const run = async (client: SSLContext, server: SSLContext, change: boolean) => {
    await using listener = createServer(["127.0.0.1", 0]);
    await using tls = await server.wrapSocket(listener, { serverSide: true });
    const accepting = tls.accept();
    await using sock = await createConnection(tls.getsockname() as [string, number]);
    await using x = await client.wrapSocket(sock, { serverHostname: "localhost" });
    const [conn] = await accepting;
    await using _conn = conn;
    const out: Record<string, unknown> = { server: facts(conn), client: facts(x) };
    if (change) {
      client.checkHostname = false;
      client.verifyMode = server.verifyMode = CERT_NONE;
    }
    return { ...out, server_after: facts(conn), client_after: facts(x) };
  };
  const server = new SSLContext(PROTOCOL_TLS_SERVER);
  server.loadCertChain(c.server, c.serverKey);
  server.loadVerifyLocations(c.ca);
  server.verifyMode = CERT_OPTIONAL;
  const client = new SSLContext(PROTOCOL_TLS_CLIENT);
  client.loadVerifyLocations(c.ca);
  client.loadCertChain(c.client, c.clientKey);
  const either = new SSLContext(PROTOCOL_TLS);
  either.loadCertChain(c.server, c.serverKey);
  const ours = [
    await run(client, server, true),
    await run(new SSLContext(PROTOCOL_TLS), either, false),
  ];
  deepEqual(ours, theirs);
});

Deno.test("getCaCerts lists what CPython's get_ca_certs lists, in its order: the CAs of a file that also holds a leaf, dict for dict", async () => {
  const c = await certs();
  const mixed = `${c.dir}/mixed_ca.pem`;
  await Deno.writeTextFile(
    mixed,
    (await Deno.readTextFile(c.server)) + (await Deno.readTextFile(c.ca)),
  );
  const theirs = await pythonJson(
    `
import ssl
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
c.load_verify_locations(sys.argv[1])
c.load_verify_locations(sys.argv[2])
# One call with both: cadata is loaded first.
both = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
both.load_verify_locations(cafile=sys.argv[2], cadata=open(sys.argv[1]).read())
print(json.dumps([c.get_ca_certs(), [x.hex() for x in c.get_ca_certs(True)], both.get_ca_certs()]))
`,
    mixed,
    c.otherCa,
  );
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations(mixed);
  ctx.loadVerifyLocations(c.otherCa);
  const both = new SSLContext(PROTOCOL_TLS_CLIENT);
  both.loadVerifyLocations({ cafile: c.otherCa, cadata: await Deno.readTextFile(mixed) });
  deepEqual(
    [ctx.getCaCerts(), ctx.getCaCerts(true).map((d) => d.toHex()), both.getCaCerts()],
    theirs,
  );
});

// A program run with DENO_CERT naming the test CA, so that Deno's default
// roots trust it: a context that loaded no CA must still trust nothing, as
// CPython's SSLContext() does (it loads no default roots by itself), while
// loadDefaultCerts() trusts Deno's roots. Prints one JSON line per port:
// the verify code of the failure, or "ok".
const NO_CA_PROGRAM = `
import { createConnection, createServer, ssl } from ${JSON.stringify(MOD)};
const [bare, defaults, stranger] = Deno.args.slice(0, 3).map(Number);
const server = new ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER);
server.loadCertChain(Deno.args[3], Deno.args[4]);
server.verifyMode = ssl.CERT_REQUIRED;
const listener = await server.wrapSocket(createServer(["127.0.0.1", 0]), { serverSide: true });
console.log(listener.getsockname()[1]);
const outcomes = [];
// The third server's certificate is from a CA nobody trusts: refused with
// 20, though the program may not read Deno's roots (no --allow-sys).
for (const [port, load] of [[bare, false], [defaults, true], [stranger, true]]) {
  const ctx = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
  if (load) ctx.loadDefaultCerts();
  const sock = await createConnection(["127.0.0.1", port]);
  outcomes.push(await ctx.wrapSocket(sock, { serverHostname: "localhost" })
    .then((s) => (s.close(), "ok"), (e) => e.verifyCode ?? String(e)));
}
console.log(JSON.stringify(outcomes));
const accepted = await listener.accept().then(([s]) => (s.close(), "ok"), (e) => e.verifyCode ?? String(e));
listener.close();
console.log(JSON.stringify([accepted]));
`;

Deno.test("a context that loaded no CA trusts nothing, not Deno's default roots, as CPython's SSLContext trusts nothing", async () => {
  const c = await certs();
  const [client, server] = await sslOracle([
    [{ cert: c.server, key: c.serverKey }, { host: "localhost" }],
    // The client trusts nothing either: OpenSSL would send the CA it
    // trusts with its certificate, and the server report 19 for it.
    [{ cert: c.server, key: c.serverKey, verify: "required" }, {
      host: "localhost",
      verify: "none",
      cert: c.client,
      key: c.clientKey,
    }],
  ]);
  equal(client.client.verify_code, 20);
  equal(server.server.verify_code, 20);
  await using bare = Peer.python({ role: "server", cert: c.server, key: c.serverKey });
  await using defaults = Peer.python({ role: "server", cert: c.server, key: c.serverKey });
  await using stranger = Peer.python({ role: "server", cert: c.stranger, key: c.strangerKey });
  const ports = [await portOf(bare), await portOf(defaults), await portOf(stranger)];
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/no_ca.ts`, NO_CA_PROGRAM);
  await using program = new Peer(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    "--allow-read",
    "--allow-env",
    `${dir}/no_ca.ts`,
    ...ports.map(String),
    c.server,
    c.serverKey,
  ], { env: { DENO_CERT: c.ca } });
  const clientPort = Number(await program.line());
  deepEqual(JSON.parse(await program.line()), [20, "ok", 20]);
  await using _client = Peer.python({
    role: "client",
    port: clientPort,
    host: "localhost",
    verify: "none",
    cert: c.client,
    key: c.clientKey,
  });
  deepEqual(JSON.parse(await program.line()), [20]);
  await Deno.remove(dir, { recursive: true });
});
