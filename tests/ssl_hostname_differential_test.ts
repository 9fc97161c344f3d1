// serverHostname against CPython's ssl: which names are refused and when
// (a connected socket's wrap, an unconnected one's connect), and the SNI
// name a CPython server's sni_callback sees, both ways. The verification of
// names against certificates is in ssl_verify_differential_test.ts.

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { errno, type OSError } from "../errors.ts";
import { createConnection, createServer, socket } from "../socket.ts";
import { CERT_NONE, PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER, SSLContext } from "../ssl.ts";
import { python, pythonJson, settled } from "./_helpers.ts";
import { certs, Peer } from "./_ssl_helpers.ts";

type Outcome = { ok: null } | { err: string; errno?: unknown; str?: string };

function outcome(err: unknown): Outcome {
  if (err === null) return { ok: null };
  const e = err as Error & { errno?: unknown };
  return "errno" in e
    ? { err: e.constructor.name, errno: e.errno, str: e.message }
    : { err: e.constructor.name };
}

/** Python's ValueError and UnicodeError are TypeErrors in ssl.ts (README "TLS"). */
function asPysock(t: Outcome | null): Outcome {
  if (t === null || "ok" in t) return { ok: null };
  return ["ValueError", "UnicodeError"].includes(t.err) ? { err: "TypeError" } : t;
}

Deno.test("serverHostname is refused as CPython refuses it: empty (when the session is made), a leading or doubled dot", async () => {
  const names = ["", ".", "a..b", ".x", "localhost.", "LOCALHOST", "127.0.0.1", "::1"];
  // For each name: [wrap a connected socket, wrap an unconnected one, connect that one].
  const theirs = await pythonJson(
    `
import ssl
def outcome(call):
    try:
        call()
        return {"ok": None}
    except Exception as e:
        return {"err": type(e).__name__}
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
c.check_hostname = False
c.verify_mode = ssl.CERT_NONE
srv = socket.create_server(("127.0.0.1", 0))
out = []
for name in json.loads(sys.argv[1]):
    a = socket.create_connection(srv.getsockname())
    b, _ = srv.accept()
    opts = dict(server_hostname=name, do_handshake_on_connect=False)
    conn = outcome(lambda: c.wrap_socket(a, **opts).close())
    u = []
    unconn = outcome(lambda: u.append(c.wrap_socket(socket.socket(), **opts)))
    connect = outcome(lambda: u[0].connect(srv.getsockname())) if u else None
    if connect == {"ok": None}:
        srv.accept()[0].close()
    out.append([conn, unconn, connect])
    for s in [a, b] + u:
        s.close()
print(json.dumps(out))
`,
    JSON.stringify(names),
  ) as (Outcome | null)[][];
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  ctx.checkHostname = false;
  ctx.verifyMode = CERT_NONE;
  await using srv = createServer(["127.0.0.1", 0]);
  const addr = srv.getsockname() as [string, number];
  const opts = (name: string) => ({ serverHostname: name, doHandshakeOnConnect: false });
  for (const [i, name] of names.entries()) {
    await using a = await createConnection(addr);
    const [b] = await srv.accept();
    await using _b = b;
    const conn = await ctx.wrapSocket(a, opts(name)).then((s) => s.close(), (e) => e);
    // A wrap that failed closed the connected socket with it, as Python's does.
    if (conn) equal(a.fileno(), -1, `${JSON.stringify(name)}: the socket is closed`);
    await using raw = socket();
    const u = await ctx.wrapSocket(raw, opts(name)).catch((e) => e);
    let connect: unknown = null;
    if (!(u instanceof Error)) {
      connect = await u.connect(addr).then(() => null, (e: unknown) => e);
      if (connect === null) (await srv.accept())[0].close();
      // Refused before connecting, as Python refuses it before its connect.
      else throws(() => raw.getpeername(), (e: unknown) => (e as OSError).errno === errno.ENOTCONN);
      u.close();
    }
    const ours = [
      outcome(conn ?? null),
      outcome(u instanceof Error ? u : null),
      u instanceof Error ? { ok: null } : outcome(connect),
    ];
    deepEqual(ours, theirs[i].map(asPysock), JSON.stringify(name));
  }
});

// A CPython server that records the SNI name of each connection (its
// sni_callback): `count` from pysock first, then the same names from CPython
// clients of its own. Prints its port, then {"pysock": [...], "cpython": [...]}.
const PY_SNI = `
import json, socket, ssl, sys, threading
cert, key, names = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
seen = []
ctx.sni_callback = lambda s, name, c: seen.append(name)
srv = socket.create_server(("127.0.0.1", 0))
srv.settimeout(15)
print(srv.getsockname()[1], flush=True)
def serve(n):
    for _ in range(n):
        conn, _ = srv.accept()
        s = ctx.wrap_socket(conn, server_side=True)
        s.recv(1)
        s.close()
serve(len(names))
ours, seen = seen, []
client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
client.check_hostname = False
client.verify_mode = ssl.CERT_NONE
t = threading.Thread(target=serve, args=(len(names),))
t.start()
for name in names:
    s = client.wrap_socket(socket.create_connection(srv.getsockname()), server_hostname=name)
    s.sendall(b"x")
    s.recv(1)
    s.close()
t.join()
print(json.dumps({"pysock": ours, "cpython": seen}), flush=True)
`;

async function sniSeen(names: string[]): Promise<{ pysock: unknown[]; cpython: unknown[] }> {
  const c = await certs();
  await using server = python(PY_SNI, c.server, c.serverKey, JSON.stringify(names));
  const port = Number(await server.firstLine());
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  ctx.checkHostname = false;
  ctx.verifyMode = CERT_NONE;
  for (const name of names) {
    await using sock = await createConnection(["127.0.0.1", port]);
    await using ssock = await ctx.wrapSocket(sock, { serverHostname: name });
    await ssock.sendall("x");
    equal(await ssock.recv(1).then((b) => b.length), 0);
  }
  const out = (await server.output()).trim().split("\n");
  return JSON.parse(out[out.length - 1]);
}

Deno.test("SNI: a CPython server's sni_callback sees from pysock the name CPython sends (IDNA A-labels, case kept, none for an IP)", async () => {
  const names = [
    "localhost",
    "LOCALHOST",
    "könig.test",
    "straße.test",
    "127.0.0.1",
    "::1",
    "a_b.test",
  ];
  const seen = await sniSeen(names);
  deepEqual(seen.pysock, seen.cpython);
  deepEqual(seen.cpython.slice(2, 6), ["xn--knig-5qa.test", "strasse.test", null, null]);
});

Deno.test({
  // BUG: pysock sends SNI "localhost" for serverHostname "localhost." (node:tls
  // over rustls drops the trailing dot, as RFC 6066 asks), where CPython sends
  // "localhost." as given; a CPython sni_callback sees the two differently.
  // Deno's node:tls gives no way to send the name as it is.
  name: "SNI: a name with a trailing dot reaches a CPython server as CPython sends it",
  ignore: true,
  async fn() {
    const seen = await sniSeen(["localhost."]);
    deepEqual(seen.pysock, seen.cpython);
  },
});

Deno.test("SNI the other way: a pysock server completes the handshake whatever name a CPython client sends, as a CPython server does", async () => {
  const c = await certs();
  const names = ["localhost", "localhost.", "LOCALHOST", "xn--knig-5qa.test", "127.0.0.1"];
  const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
  ctx.loadCertChain(c.server, c.serverKey);
  await using listener = createServer(["127.0.0.1", 0]);
  await using tls = await ctx.wrapSocket(listener, { serverSide: true });
  for (const host of names) {
    await using peer = Peer.python({
      role: "client",
      port: tls.getsockname()[1],
      host,
      verify: "none",
      actions: [["recv", 2]],
    });
    const [conn] = await settled(tls.accept(), `accept for ${host}`);
    await using _conn = conn;
    await conn.sendall("ok");
    equal((await peer.event()).event, "handshake", host);
    deepEqual(await peer.event(), { event: "recv", data: "ok" }, host);
  }
});

Deno.test("a server-side wrap of a context with checkHostname on is refused, as CPython's: check_hostname requires server_hostname", async () => {
  const theirs = await pythonJson(
    `
import ssl
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.check_hostname = True
a, b = tcppair()
listener = socket.create_server(("127.0.0.1", 0))
out = [err(lambda: ctx.wrap_socket(a, server_side=True, do_handshake_on_connect=False)),
       err(lambda: ctx.wrap_socket(listener, server_side=True))]
print(json.dumps([out, a.fileno() != -1, listener.fileno() != -1]))
`,
  );
  deepEqual(theirs, [[["ValueError", null], ["ValueError", null]], true, true]);
  const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
  ctx.checkHostname = true;
  await using listener = createServer(["127.0.0.1", 0]);
  await using a = await createConnection(listener.getsockname() as [string, number]);
  const [b] = await listener.accept();
  await using _b = b;
  for (const sock of [b, listener]) {
    const err = await ctx.wrapSocket(sock, { serverSide: true, doHandshakeOnConnect: false })
      .then((s) => (s.close(), null), (e) => e);
    ok(err instanceof TypeError, String(err));
    equal(err.message, "Cannot wrap socket: checkHostname requires serverHostname");
    // Refused before the socket is taken: it stays open, as in Python.
    ok(sock.fileno() !== -1);
  }
  equal(a.fileno() !== -1, true);
});
