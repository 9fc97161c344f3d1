// SSLContext's configuration surface against CPython 3.11's ssl module, each
// case run in python3 in the same test: defaults, the verify_mode /
// check_hostname rule, version bounds and what a handshake across them
// gives, ALPN arguments and results, load_cert_chain / load_verify_locations
// errors, and what an SSLSocket reports before its handshake.
//
// Python's ValueError is a TypeError in ssl.ts, or a RangeError for a value
// out of range, and its UnicodeError a TypeError (README "TLS"); argument
// errors are compared by class, OSError and SSLError by class, errno,
// reason, library and text.

import { deepEqual, equal, ok } from "node:assert/strict";
import { createConnection, createServer, socket } from "../socket.ts";
import {
  CERT_NONE,
  CERT_OPTIONAL,
  createDefaultContext,
  PEMCertToDERCert,
  PROTOCOL_TLS,
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  Purpose,
  SSLContext,
  TLSVersion,
} from "../ssl.ts";
import { pythonJson } from "./_helpers.ts";
import { certs, Peer, portOf, sslOracle } from "./_ssl_helpers.ts";

type Outcome = { ok: unknown } | {
  err: string;
  errno?: unknown;
  reason?: unknown;
  library?: unknown;
  str?: string;
};

// The twin's helper: what a call gave, with an SSLError's or OSError's fields.
const PY_OUTCOME = `
import ssl, re
def outcome(call):
    try:
        return {"ok": call()}
    except Exception as e:
        out = {"err": type(e).__name__}
        if isinstance(e, OSError):
            out.update(errno=e.errno, reason=getattr(e, "reason", None),
                       library=getattr(e, "library", None),
                       str=re.sub(r" \\(_ssl\\.c:\\d+\\)$", "", str(e)))
        return out
`;

function outcome(call: () => unknown): Outcome {
  try {
    return { ok: call() ?? null };
  } catch (e) {
    const err = e as Error & { errno?: unknown; reason?: unknown; library?: unknown };
    if (!("errno" in err)) return { err: err.constructor.name };
    return {
      err: err.constructor.name,
      errno: err.errno,
      reason: err.reason ?? null,
      library: err.library ?? null,
      str: err.message,
    };
  }
}

/** Python's outcome as pysock should give it: ValueErrors are TypeErrors, PEM lib keeps a detail. */
function assertSame(ours: Outcome[], theirs: Outcome[], names: string[]): void {
  equal(ours.length, theirs.length);
  for (const [i, name] of names.entries()) {
    const [o, t] = [ours[i], theirs[i]];
    if ("ok" in t) {
      deepEqual(o, t, name);
      continue;
    }
    ok(
      "err" in o,
      `${name}: CPython raised ${JSON.stringify(t)}, pysock gave ${JSON.stringify(o)}`,
    );
    // A ValueError is a TypeError here, or a RangeError for a value out of range.
    const as = t.err === "ValueError"
      ? ["TypeError", "RangeError"]
      : t.err.startsWith("Unicode")
      ? ["TypeError"]
      : [t.err];
    ok(as.includes(o.err), `${name}: CPython raised ${t.err}, pysock ${JSON.stringify(o)}`);
    if (t.str === undefined) continue;
    deepEqual([o.errno, o.reason, o.library], [t.errno, t.reason, t.library], name);
    // pysock says which file or what failed after Python's text: "[SSL] PEM lib (no key in x)".
    ok(o.str?.startsWith(t.str), `${name}: ${JSON.stringify(o.str)} is not CPython's ${t.str}`);
  }
}

Deno.test("context defaults are CPython's: verify mode, hostname check and version bounds by protocol and purpose", async () => {
  const theirs = await pythonJson(
    PY_OUTCOME + `
import warnings
warnings.simplefilter("ignore")
def facts(c):
    return [int(c.protocol), int(c.verify_mode), c.check_hostname,
            int(c.minimum_version), int(c.maximum_version)]
print(json.dumps([facts(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)),
                  facts(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)),
                  facts(ssl.SSLContext(ssl.PROTOCOL_TLS)),
                  facts(ssl.create_default_context()),
                  facts(ssl.create_default_context(ssl.Purpose.SERVER_AUTH)),
                  facts(ssl.create_default_context(ssl.Purpose.CLIENT_AUTH))]))
`,
  );
  const facts = (
    c: SSLContext,
  ) => [c.protocol, c.verifyMode, c.checkHostname, c.minimumVersion, c.maximumVersion];
  deepEqual([
    facts(new SSLContext(PROTOCOL_TLS_CLIENT)),
    facts(new SSLContext(PROTOCOL_TLS_SERVER)),
    facts(new SSLContext(PROTOCOL_TLS)),
    facts(createDefaultContext()),
    facts(createDefaultContext(Purpose.SERVER_AUTH)),
    facts(createDefaultContext(Purpose.CLIENT_AUTH)),
  ], theirs);
});

Deno.test("verifyMode and checkHostname refuse and cascade in CPython's order, step by step", async () => {
  // Each step on one context, and the state after it (or its error).
  const steps: [string, "verify" | "check", unknown][] = [
    ["CERT_NONE while checking", "verify", CERT_NONE],
    ["check off", "check", false],
    ["CERT_NONE after", "verify", CERT_NONE],
    ["check on makes CERT_REQUIRED", "check", true],
    ["CERT_OPTIONAL while checking", "verify", CERT_OPTIONAL],
    ["check off again", "check", false],
    ["check on keeps CERT_OPTIONAL", "check", true],
    ["an unknown mode", "verify", 3],
    ["a mode of another type", "verify", "2"],
  ];
  const theirs = await pythonJson(
    PY_OUTCOME + `
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
def step(attr, value):
    setattr(c, "verify_mode" if attr == "verify" else "check_hostname", value)
    return [int(c.verify_mode), c.check_hostname]
print(json.dumps([outcome(lambda: step(a, v)) for _, a, v in json.loads(sys.argv[1])]))
`,
    JSON.stringify(steps),
  ) as Outcome[];
  const c = new SSLContext(PROTOCOL_TLS_CLIENT);
  const ours = steps.map(([, attr, value]) =>
    outcome(() => {
      if (attr === "verify") c.verifyMode = value as number;
      else c.checkHostname = value as boolean;
      return [c.verifyMode, c.checkHostname];
    })
  );
  assertSame(ours, theirs, steps.map(([name]) => name));
});

Deno.test("minimumVersion and maximumVersion read back as CPython's, sentinels resolved and min > max allowed", async () => {
  const V = TLSVersion;
  const cases: [string, number, number][] = [
    ["defaults", 0, 0],
    ["min MINIMUM_SUPPORTED", V.MINIMUM_SUPPORTED, 0],
    ["min MAXIMUM_SUPPORTED", V.MAXIMUM_SUPPORTED, 0],
    ["max MAXIMUM_SUPPORTED", 0, V.MAXIMUM_SUPPORTED],
    ["TLS 1.2 only", V.TLSv1_2, V.TLSv1_2],
    ["TLS 1.3 only", V.TLSv1_3, V.TLSv1_3],
    ["min TLS 1.3 above max TLS 1.2", V.TLSv1_3, V.TLSv1_2],
  ];
  const theirs = await pythonJson(
    PY_OUTCOME + `
out = []
for _, lo, hi in json.loads(sys.argv[1]):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if lo: c.minimum_version = ssl.TLSVersion(lo)
    if hi: c.maximum_version = ssl.TLSVersion(hi)
    out.append([int(c.minimum_version), int(c.maximum_version)])
print(json.dumps(out))
`,
    JSON.stringify(cases),
  );
  const ours = cases.map(([, lo, hi]) => {
    const c = new SSLContext(PROTOCOL_TLS_CLIENT);
    if (lo) c.minimumVersion = lo as TLSVersion;
    if (hi) c.maximumVersion = hi as TLSVersion;
    return [c.minimumVersion, c.maximumVersion];
  });
  deepEqual(ours, theirs);
});

Deno.test("setAlpnProtocols checks its names as CPython's set_alpn_protocols", async () => {
  const inputs: unknown[][] = [
    [],
    ["h2", "http/1.1"],
    [""],
    ["x".repeat(255)],
    ["x".repeat(256)],
    ["hé"],
    ["h2", ""],
    [1],
  ];
  const theirs = await pythonJson(
    PY_OUTCOME + `
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
print(json.dumps([outcome(lambda: c.set_alpn_protocols(p)) for p in json.loads(sys.argv[1])]))
`,
    JSON.stringify(inputs),
  ) as Outcome[];
  // CPython raises SSLError("ALPN ...") with one argument: errno None, str its repr.
  const alpn = theirs.find((t) => "err" in t && t.err === "SSLError");
  deepEqual(alpn, {
    err: "SSLError",
    errno: null,
    reason: null,
    library: null,
    str: "('ALPN protocols must be 1 to 255 in length',)",
  });
  const c = new SSLContext(PROTOCOL_TLS_CLIENT);
  const ours = inputs.map((p) => {
    const got = outcome(() => c.setAlpnProtocols(p as string[]));
    return "err" in got && got.err === "SSLError" ? alpn! : got;
  });
  assertSame(ours, theirs, inputs.map((p) => JSON.stringify(p)));
  equal(
    (outcome(() => c.setAlpnProtocols([""])) as { str: string }).str,
    "ALPN protocols must be 1 to 255 in length",
  );
});

Deno.test("ALPN offered by one side only, or without overlap, selects nothing on either side, as between CPython peers", async () => {
  const c = await certs();
  const cases: [string[] | null, string[] | null][] = [
    [["h2"], null],
    [null, ["h2"]],
    [["h2"], ["x-other"]],
  ];
  const truths = await sslOracle(
    cases.map(([server, client]) => [
      { cert: c.server, key: c.serverKey, alpn: server },
      { host: "localhost", ca: c.ca, alpn: client },
    ]),
  );
  for (const [i, [serverAlpn, clientAlpn]] of cases.entries()) {
    const what = JSON.stringify(cases[i]);
    equal(truths[i].client.alpn, null, what);
    // A pysock client against a CPython server.
    {
      await using peer = Peer.python({
        role: "server",
        cert: c.server,
        key: c.serverKey,
        alpn: serverAlpn,
      });
      const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
      ctx.loadVerifyLocations(c.ca);
      if (clientAlpn) ctx.setAlpnProtocols(clientAlpn);
      await using sock = await createConnection(["127.0.0.1", await portOf(peer)]);
      await using ssock = await ctx.wrapSocket(sock, { serverHostname: "localhost" });
      equal(ssock.selectedAlpnProtocol(), truths[i].client.alpn, what);
      equal((await peer.event()).alpn, truths[i].server.alpn, what);
    }
    // A pysock server against a CPython client; no overlap fails there (README, rustls).
    if (serverAlpn && clientAlpn) continue;
    const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
    ctx.loadCertChain(c.server, c.serverKey);
    if (serverAlpn) ctx.setAlpnProtocols(serverAlpn);
    await using listener = createServer(["127.0.0.1", 0]);
    await using tls = await ctx.wrapSocket(listener, { serverSide: true });
    await using peer = Peer.python({
      role: "client",
      port: tls.getsockname()[1],
      host: "localhost",
      ca: c.ca,
      alpn: clientAlpn,
    });
    const [conn] = await tls.accept();
    await using _conn = conn;
    equal(conn.selectedAlpnProtocol(), truths[i].server.alpn, what);
    equal((await peer.event()).alpn, truths[i].client.alpn, what);
  }
});

/** A file-loading call, as both twins run it: paths are names in certs()'s directory. */
type Load =
  | ["chain", string, string | null, Password | null]
  | ["verify", Path | null, Path | null, Data | null]
  | ["defaults", string];
type Path = string | { int: number };
type Password = { str: string } | { repeat: number } | { raises: string } | { returns: number } | {
  int: number;
};
type Data = { str: string } | { hex: string } | { int: number };

const LOADS: [string, Load][] = [
  ["a missing certfile", ["chain", "missing.pem", null, null]],
  ["a missing keyfile", ["chain", "server.pem", "missing.key", null]],
  ["a DER certfile", ["chain", "server.der", "server.key", null]],
  ["a DER keyfile", ["chain", "server.pem", "server.key.der", null]],
  ["a key as certfile", ["chain", "server.key", null, null]],
  ["a certfile without a key", ["chain", "server.pem", null, null]],
  ["a key that is not the certificate's", ["chain", "server.pem", "client.key", null]],
  ["a wrong password", ["chain", "server.pem", "server.enc.key", { str: "wrong" }]],
  ["the right password", ["chain", "server.pem", "server.enc.key", { str: "secret" }]],
  ["a password callback that raises", ["chain", "server.pem", "server.enc.key", { raises: "x" }]],
  ["a password callback giving an int", ["chain", "server.pem", "server.enc.key", { returns: 1 }]],
  ["a password of another type", ["chain", "server.pem", "server.enc.key", { int: 1 }]],
  ["a password over 1024 bytes", ["chain", "server.pem", "server.enc.key", { repeat: 1025 }]],
  ["a password for a plain key", ["chain", "server.pem", "server.key", { str: "unused" }]],
  ["a callback for a plain key", ["chain", "server.pem", "server.key", { raises: "x" }]],
  ["a missing cafile", ["verify", "missing.pem", null, null]],
  ["a DER cafile", ["verify", "server.der", null, null]],
  ["a key as cafile", ["verify", "server.key", null, null]],
  ["a cafile of another type", ["verify", { int: 1 }, null, null]],
  ["a missing capath", ["verify", null, "missing.d", null]],
  ["a capath that is a file", ["verify", null, "ca.pem", null]],
  ["cadata text without PEM", ["verify", null, null, { str: "garbage" }]],
  ["cadata bytes that are no DER", ["verify", null, null, { hex: "67617262616765" }]],
  ["empty cadata text", ["verify", null, null, { str: "" }]],
  ["empty cadata bytes", ["verify", null, null, { hex: "" }]],
  ["cadata of another type", ["verify", null, null, { int: 1 }]],
  ["nothing to load", ["verify", null, null, null]],
  ["bad cadata and a missing cafile (cadata is read first)", [
    "verify",
    "missing.pem",
    null,
    { str: "garbage" },
  ]],
  ["an unknown purpose", ["defaults", "x"]],
];

const PY_LOADS = `
import os
d = sys.argv[1]
class Raised(Exception):
    pass
def password(p):
    if p is None: return None
    if "str" in p: return p["str"]
    if "repeat" in p: return "x" * p["repeat"]
    if "int" in p: return p["int"]
    if "returns" in p: return lambda: p["returns"]
    def raises(): raise Raised(p["raises"])
    return raises
def path(p):
    return None if p is None else p["int"] if isinstance(p, dict) else os.path.join(d, p)
def data(p):
    if p is None or "int" in p: return None if p is None else p["int"]
    return p["str"] if "str" in p else bytes.fromhex(p["hex"])
def load(op):
    kind = op[0]
    if kind == "chain":
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(path(op[1]), path(op[2]), password(op[3]))
    elif kind == "verify":
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(path(op[1]), path(op[2]), data(op[3]))
    else:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_default_certs(op[1])
print(json.dumps([outcome(lambda: load(op)) for op in json.loads(sys.argv[2])]))
`;

class Raised extends Error {}

function load(dir: string, op: Load): void {
  const path = (p: Path | null) =>
    p === null ? null : typeof p === "string" ? `${dir}/${p}` : p.int as unknown as string;
  if (op[0] === "chain") {
    const p = op[3];
    const password = p === null
      ? null
      : "str" in p
      ? p.str
      : "repeat" in p
      ? "x".repeat(p.repeat)
      : "int" in p
      ? p.int
      : "returns" in p
      ? () => p.returns
      : () => {
        throw new Raised(p.raises);
      };
    new SSLContext(PROTOCOL_TLS_SERVER).loadCertChain(
      path(op[1])!,
      path(op[2]),
      password as string,
    );
  } else if (op[0] === "verify") {
    const d = op[3];
    const data = d === null
      ? null
      : "int" in d
      ? d.int as unknown as string
      : "str" in d
      ? d.str
      : Uint8Array.fromHex(d.hex);
    new SSLContext(PROTOCOL_TLS_CLIENT).loadVerifyLocations(path(op[1]), path(op[2]), data);
  } else new SSLContext(PROTOCOL_TLS_CLIENT).loadDefaultCerts(op[1] as Purpose);
}

Deno.test("loadCertChain, loadVerifyLocations and loadDefaultCerts fail (or not) as CPython's, error for error", async () => {
  const c = await certs();
  await Deno.writeFile(`${c.dir}/server.der`, PEMCertToDERCert(await Deno.readTextFile(c.server)));
  const { success } = await new Deno.Command("openssl", {
    args: ["pkey", "-in", c.serverKey, "-outform", "DER", "-out", `${c.dir}/server.key.der`],
    stderr: "null",
  }).output();
  ok(success);
  const theirs = await pythonJson(
    PY_OUTCOME + PY_LOADS,
    c.dir,
    JSON.stringify(LOADS.map(([, op]) => op)),
  ) as Outcome[];
  const ours = LOADS.map(([, op]) => {
    const got = outcome(() => load(c.dir, op));
    // The callback's own exception goes through, as in Python.
    return "err" in got && got.err === "Raised" ? { err: "Raised" } : got;
  });
  assertSame(ours, theirs, LOADS.map(([name]) => name));
});

Deno.test("before the handshake, and unconnected, an SSLSocket reports what CPython's does", async () => {
  const theirs = await pythonJson(
    PY_OUTCOME + `
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
a, b = tcppair()
s = c.wrap_socket(a, server_hostname="localhost", do_handshake_on_connect=False)
u = c.wrap_socket(socket.socket(), server_hostname="localhost")
facts = lambda x: [outcome(x.version), outcome(x.cipher), outcome(x.selected_alpn_protocol),
                   outcome(x.getpeercert), outcome(lambda: x.getpeercert(True))]
print(json.dumps([facts(s), facts(u)]))
s.close(); b.close(); u.close()
`,
  ) as Outcome[][];
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  await using listener = createServer(["127.0.0.1", 0]);
  await using a = await createConnection(["127.0.0.1", listener.getsockname()[1] as number]);
  const [b] = await listener.accept();
  await using _b = b;
  await using s = await ctx.wrapSocket(a, {
    serverHostname: "localhost",
    doHandshakeOnConnect: false,
  });
  await using u = await ctx.wrapSocket(socket(), { serverHostname: "localhost" });
  const facts = (x: typeof s) => [
    outcome(() => x.version()),
    outcome(() => x.cipher()),
    outcome(() => x.selectedAlpnProtocol()),
    outcome(() => x.getpeercert()),
    outcome(() => x.getpeercert(true)),
  ];
  const ours = [facts(s), facts(u)];
  for (const [i, which] of ["connected", "unconnected"].entries()) {
    assertSame(
      ours[i],
      theirs[i],
      ["version", "cipher", "alpn", "getpeercert", "DER"].map((n) => `${which} ${n}`),
    );
  }
});
