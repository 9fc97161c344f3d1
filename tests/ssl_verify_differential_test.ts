// Certificate verification and version ranges against CPython's ssl, both
// ways, for the cases ssl_interop_test.ts does not cover: a certificate not
// valid yet, wildcard names, IP-address SANs against DNS SANs, a common name
// without SANs, a chain through an intermediate CA, a trailing dot, a
// CERT_OPTIONAL client; a context whose minimumVersion is above its
// maximumVersion, and ranges that miss the peer's. For each, the
// error a pysock client raises is the one a CPython client raises against a
// CPython server (tests/py/ssl_oracle.py, the ground truth), a CPython client
// of a pysock server raises what it raises against a CPython server (so
// pysock serves the same chain), and neither side hangs.

import { deepEqual, equal } from "node:assert/strict";
import { createConnection, createServer, socket } from "../socket.ts";
import {
  CERT_OPTIONAL,
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  SSLContext,
  TLSVersion,
} from "../ssl.ts";
import { openssl } from "../tools/_certs.ts";
import { rejection, settled } from "./_helpers.ts";
import {
  certs,
  Peer,
  type PeerConfig,
  portOf,
  pythonDecode,
  pythonErrorFields,
  sslErrorFields,
  sslOracle,
} from "./_ssl_helpers.ts";

/** The extra certificates of this file, all issued by certs()'s CA unless said otherwise. */
interface Extra {
  /** localhost, valid from 2099 only. */
  future: string;
  /** *.wild.test only. */
  wildcard: string;
  /** Wildcards OpenSSL refuses as CPython sets it up: f*.part.test, *.test. */
  oddWildcards: string;
  /** A DNS SAN that spells 127.0.0.1 (not an IP SAN). */
  dnsIp: string;
  /** CN=localhost, an IP SAN 127.0.0.1 only. */
  ipOnly: string;
  /** CN=localhost, no SAN at all. */
  cnOnly: string;
  /** localhost, but for TLS clients only (extendedKeyUsage clientAuth). */
  clientOnly: string;
  /** localhost, issued by an intermediate CA; the file holds the leaf then the intermediate. */
  chained: string;
  /** The same leaf alone, without its intermediate. */
  chainedLeaf: string;
  /** The intermediate's chain with certs()'s root CA too, as some servers send it. */
  chainedRoot: string;
  /** localhost, expired in 2020, issued by the intermediate; the file holds it then the intermediate. */
  chainedExpired: string;
  /** localhost, valid, issued by an intermediate that expired in 2020; then that intermediate. */
  expiredIntermediate: string;
  /** A self-signed root that expired in 2020. */
  expiredRoot: string;
  /** localhost, valid, issued by that root. */
  underExpiredRoot: string;
  /** The key of every certificate above. */
  key: string;
}

let extra: Promise<Extra> | null = null;

function extraCerts(): Promise<Extra> {
  extra ??= (async () => {
    const c = await certs();
    const dir = `${c.dir}/verify_differential`;
    await Deno.mkdir(`${dir}/db`, { recursive: true });
    const ca = ["-CA", c.ca, "-CAkey", `${c.dir}/ca.key`];
    await openssl(
      dir,
      ...["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "k.pem"],
    );
    const sign = async (name: string, subject: string, ext: string, issuer = ca) => {
      await openssl(dir, "req", "-new", "-key", "k.pem", "-subj", subject, "-out", `${name}.csr`);
      await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
      await openssl(
        dir,
        ...["x509", "-req", "-in", `${name}.csr`, ...issuer, "-days", "2"],
        ...["-set_serial", `0x${crypto.getRandomValues(new Uint8Array(8)).toHex()}`],
        ...["-extfile", `${name}.ext`, "-out", `${name}.pem`],
      );
    };
    await sign("wildcard", "/CN=wild", "subjectAltName=DNS:*.wild.test\n");
    await sign("oddwild", "/CN=odd", "subjectAltName=DNS:f*.part.test,DNS:*.test\n");
    await sign("dnsip", "/CN=dnsip", "subjectAltName=DNS:127.0.0.1\n");
    await sign("iponly", "/CN=localhost", "subjectAltName=IP:127.0.0.1\n");
    await sign("cnonly", "/CN=localhost", "keyUsage=digitalSignature\n");
    await sign(
      "clientonly",
      "/CN=localhost",
      "subjectAltName=DNS:localhost\nextendedKeyUsage=clientAuth\n",
    );
    await sign(
      "inter",
      "/CN=pysock intermediate",
      "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n",
    );
    await sign("leaf", "/CN=localhost", "subjectAltName=DNS:localhost\n", [
      "-CA",
      "inter.pem",
      "-CAkey",
      "k.pem",
    ]);
    const chain = (await Deno.readTextFile(`${dir}/leaf.pem`)) +
      (await Deno.readTextFile(`${dir}/inter.pem`));
    await Deno.writeTextFile(`${dir}/chained.pem`, chain);
    await Deno.writeTextFile(`${dir}/rooted.pem`, chain + (await Deno.readTextFile(c.ca)));
    // openssl x509 cannot date a certificate in the future; openssl ca can.
    await Deno.writeTextFile(`${dir}/db/index`, "");
    await Deno.writeTextFile(`${dir}/db/serial`, "01\n");
    await Deno.writeTextFile(
      `${dir}/ca.cnf`,
      "[ca]\ndefault_ca=d\n[d]\ndatabase=db/index\nserial=db/serial\nnew_certs_dir=db\n" +
        "default_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n" +
        "[x]\nsubjectAltName=DNS:localhost\n" +
        "[cax]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n",
    );
    await openssl(dir, "req", "-new", "-key", "k.pem", "-subj", "/CN=localhost", "-out", "f.csr");
    await openssl(
      dir,
      ...["ca", "-batch", "-config", "ca.cnf", "-cert", c.ca, "-keyfile", `${c.dir}/ca.key`],
      ...["-in", "f.csr", "-out", "future.pem", "-startdate", "20990101000000Z"],
      ...["-enddate", "20990102000000Z", "-extensions", "x", "-notext"],
    );
    await openssl(
      dir,
      ...["ca", "-batch", "-config", "ca.cnf", "-cert", "inter.pem", "-keyfile", "k.pem"],
      ...["-in", "f.csr", "-out", "expired.pem", "-startdate", "20200101000000Z"],
      ...["-enddate", "20200102000000Z", "-extensions", "x", "-notext"],
    );
    await Deno.writeTextFile(
      `${dir}/chainedexpired.pem`,
      (await Deno.readTextFile(`${dir}/expired.pem`)) +
        (await Deno.readTextFile(`${dir}/inter.pem`)),
    );
    // An intermediate that expired in 2020, and a valid leaf it issued.
    await openssl(
      dir,
      "req",
      "-new",
      "-key",
      "k.pem",
      "-subj",
      "/CN=old intermediate",
      "-out",
      "o.csr",
    );
    await openssl(
      dir,
      ...["ca", "-batch", "-config", "ca.cnf", "-cert", c.ca, "-keyfile", `${c.dir}/ca.key`],
      ...["-in", "o.csr", "-out", "old.pem", "-startdate", "20200101000000Z"],
      ...["-enddate", "20200102000000Z", "-extensions", "cax", "-notext"],
    );
    await sign("underold", "/CN=localhost", "subjectAltName=DNS:localhost\n", [
      "-CA",
      "old.pem",
      "-CAkey",
      "k.pem",
    ]);
    await Deno.writeTextFile(
      `${dir}/oldchain.pem`,
      (await Deno.readTextFile(`${dir}/underold.pem`)) +
        (await Deno.readTextFile(`${dir}/old.pem`)),
    );
    // A root that expired in 2020, and a valid leaf it issued.
    await openssl(dir, "req", "-new", "-key", "k.pem", "-subj", "/CN=old root", "-out", "r.csr");
    await openssl(
      dir,
      ...["ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "k.pem", "-in", "r.csr"],
      ...["-out", "oldroot.pem", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z"],
      ...["-extensions", "cax", "-notext"],
    );
    await sign("underoldroot", "/CN=localhost", "subjectAltName=DNS:localhost\n", [
      "-CA",
      "oldroot.pem",
      "-CAkey",
      "k.pem",
    ]);
    const p = (name: string) => `${dir}/${name}.pem`;
    return {
      future: p("future"),
      wildcard: p("wildcard"),
      oddWildcards: p("oddwild"),
      dnsIp: p("dnsip"),
      ipOnly: p("iponly"),
      cnOnly: p("cnonly"),
      clientOnly: p("clientonly"),
      chained: p("chained"),
      chainedLeaf: p("leaf"),
      chainedRoot: p("rooted"),
      chainedExpired: p("chainedexpired"),
      expiredIntermediate: p("oldchain"),
      expiredRoot: p("oldroot"),
      underExpiredRoot: p("underoldroot"),
      key: p("k"),
    };
  })();
  return extra;
}

type Config = PeerConfig;
type Pairing = [server: Config, client: Config];

/** One case: the server presents `cert`, the client asks for `host`. */
interface Case {
  name: string;
  cert: keyof Omit<Extra, "key" | "expiredRoot">;
  host: string;
  /** The client's verify mode, as ssl_peer.py names it. */
  verify?: "optional";
  /** The CA the client trusts instead of certs()'s. */
  ca?: "otherCa" | "expiredRoot";
}

const CASES: Case[] = [
  { name: "a certificate not valid yet", cert: "future", host: "localhost" },
  { name: "a wildcard matching one label", cert: "wildcard", host: "a.wild.test" },
  { name: "a wildcard and the bare domain", cert: "wildcard", host: "wild.test" },
  { name: "a wildcard and two labels", cert: "wildcard", host: "a.b.wild.test" },
  { name: "a wildcard and another case", cert: "wildcard", host: "A.WILD.TEST" },
  { name: "a partial wildcard", cert: "oddWildcards", host: "foo.part.test" },
  { name: "a wildcard over a top-level domain", cert: "oddWildcards", host: "a.test" },
  { name: "a DNS SAN spelling the IP asked for", cert: "dnsIp", host: "127.0.0.1" },
  { name: "an IP SAN and the IP asked for", cert: "ipOnly", host: "127.0.0.1" },
  { name: "an IP SAN only and a name asked for", cert: "ipOnly", host: "localhost" },
  // OpenSSL reads an IPv4 address with leading zeros as that address.
  { name: "an IP SAN and the IP with leading zeros", cert: "ipOnly", host: "127.000.000.001" },
  { name: "an IP SAN and another IP with leading zeros", cert: "ipOnly", host: "127.0.0.02" },
  { name: "a common name without SANs", cert: "cnOnly", host: "localhost" },
  { name: "a certificate for clients only", cert: "clientOnly", host: "localhost" },
  { name: "a chain through an intermediate", cert: "chained", host: "localhost" },
  { name: "a leaf without its intermediate", cert: "chainedLeaf", host: "localhost" },
  { name: "a chain with its root", cert: "chainedRoot", host: "localhost" },
  { name: "an expired leaf under an intermediate", cert: "chainedExpired", host: "localhost" },
  { name: "a leaf under an expired intermediate", cert: "expiredIntermediate", host: "localhost" },
  {
    name: "a leaf under an expired root the client trusts",
    cert: "underExpiredRoot",
    host: "localhost",
    ca: "expiredRoot",
  },
  {
    name: "an intermediate under a root the client does not trust",
    cert: "chained",
    host: "localhost",
    ca: "otherCa",
  },
  {
    name: "a chain with a root the client does not trust",
    cert: "chainedRoot",
    host: "localhost",
    ca: "otherCa",
  },
  { name: "a name with a trailing dot", cert: "chained", host: "localhost." },
  {
    name: "CERT_OPTIONAL and a certificate not valid yet",
    cert: "future",
    host: "localhost",
    verify: "optional",
  },
];

async function pairing(k: Case): Promise<Pairing> {
  const [c, e] = [await certs(), await extraCerts()];
  return [
    { cert: e[k.cert], key: e.key, actions: [["send", "hi"]] },
    {
      host: k.host,
      ca: k.ca === "expiredRoot" ? e.expiredRoot : c[k.ca ?? "ca"],
      ...(k.verify ? { verify: k.verify } : {}),
      actions: [["recv", 2]],
    },
  ];
}

let verdicts: Promise<Map<string, { client: Config; server: Config }>> | null = null;

/** What a CPython client and a CPython server report for `k`, asked once for every case. */
function truth(k: Case): Promise<{ client: Config; server: Config }> {
  verdicts ??= Promise.all(CASES.map(pairing)).then(sslOracle).then((found) =>
    new Map(CASES.map((c, i) => [c.name, found[i]]))
  );
  return verdicts.then((map) => map.get(k.name)!);
}

const DENO_ENGINE_GAPS = [
  "an IP SAN only and a name asked for",
  "a common name without SANs",
  "a chain with a root the client does not trust",
  "a leaf under an expired root the client trusts",
];

for (const k of CASES) {
  Deno.test(`verification, pysock client: ${k.name} (${k.host}) gives what a CPython client gets`, async () => {
    const [server, client] = await pairing(k);
    const expected = await truth(k);
    await using peer = Peer.python({ role: "server", ...server });
    const port = await portOf(peer);
    const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
    ctx.loadVerifyLocations(client.ca as string);
    if (k.verify === "optional") ctx.verifyMode = CERT_OPTIONAL;
    const sock = await createConnection(["127.0.0.1", port]);
    const wrapped = ctx.wrapSocket(sock, { serverHostname: k.host });
    if (expected.client.event === "error") {
      const err = await rejection(wrapped, "the client's handshake");
      deepEqual(sslErrorFields(err), pythonErrorFields(expected.client));
      equal(sock.fileno(), -1, "the wrapped socket is closed, as Python closes it");
    } else {
      equal(expected.client.event, "handshake", JSON.stringify(expected.client));
      await using ssock = await settled(wrapped, "the client's handshake");
      deepEqual(ssock.getpeercert(), expected.client.peercert);
      equal(ssock.version(), expected.client.version);
      equal(new TextDecoder().decode(await ssock.recv(2)), "hi");
    }
    // The CPython server is not left waiting. Where a CPython client's refusal
    // is an alert, pysock's (node:tls checks after the handshake messages)
    // is a close: the server's handshake fails with SSLEOFError (README).
    const report = await settled(peer.event(), "the CPython server's report");
    if (expected.server.event === "error") {
      equal(report.class, "SSLEOFError", JSON.stringify(report));
      equal(report.reason, "UNEXPECTED_EOF_WHILE_READING");
    } else deepEqual(report, expected.server);
  });

  Deno.test({
    name: `verification, the "deno" engine: ${k.name} (${k.host}) gives what a CPython client gets`,
    // BUG: Deno.startTls (rustls) never falls back to the common name, where
    // CPython (hostname_checks_common_name) does for a certificate without a
    // DNS SAN, so "an IP SAN only and a name" and "a common name without
    // SANs" fail with 62 where CPython connects; and it shows no certificate,
    // so "a chain with a root the client does not trust" is 20 (unknown
    // issuer) where OpenSSL says 19; and rustls never checks a trusted root's
    // dates, so "a leaf under an expired root the client trusts" connects
    // where CPython fails with 10. The "node" engine (default) matches.
    ignore: DENO_ENGINE_GAPS.includes(k.name),
    fn: async () => {
      const [server, client] = await pairing(k);
      const expected = await truth(k);
      await using peer = Peer.python({ role: "server", ...server });
      const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
      ctx.engine = "deno"; // Deno.startTls: the default roots and these CAs
      ctx.loadDefaultCerts();
      ctx.loadVerifyLocations(client.ca as string);
      if (k.verify === "optional") ctx.verifyMode = CERT_OPTIONAL;
      await using ssock = await ctx.wrapSocket(socket(), { serverHostname: k.host });
      const connected = ssock.connect(["127.0.0.1", await portOf(peer)]);
      if (expected.client.event === "error") {
        const err = await rejection(connected, "the client's connect");
        deepEqual(sslErrorFields(err), pythonErrorFields(expected.client));
      } else {
        await settled(connected, "the client's connect");
        // Deno.startTls, or node:tls for a name Deno reads otherwise than OpenSSL.
        equal(ssock.engine, /(^|\.)0\d/.test(k.host) ? "node" : "deno");
        equal(new TextDecoder().decode(await ssock.recv(2)), "hi");
      }
      await settled(peer.event(), "the CPython server's report");
    },
  });

  Deno.test(`verification, pysock server: ${k.name} (${k.host}) gives a CPython client what a CPython server gives it`, async () => {
    const [server, client] = await pairing(k);
    const expected = await truth(k);
    const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
    ctx.loadCertChain(server.cert as string, server.key as string);
    await using listener = createServer(["127.0.0.1", 0]);
    await using tls = await ctx.wrapSocket(listener, { serverSide: true });
    await using peer = Peer.python({ role: "client", port: tls.getsockname()[1], ...client });
    const accepting = tls.accept();
    accepting.catch(() => {}); // awaited below, after the client's report
    const event = await settled(peer.event(), "the CPython client's report");
    if (expected.client.event === "error") {
      deepEqual(pythonErrorFields(event), pythonErrorFields(expected.client));
      // The server's accept fails as a CPython server's handshake fails (the client's alert).
      const err = await rejection(accepting, "the server's accept");
      deepEqual(sslErrorFields(err), pythonErrorFields(expected.server));
    } else {
      deepEqual(event.peercert, expected.client.peercert);
      const [conn] = await settled(accepting, "the server's accept");
      await using _conn = conn;
      await conn.sendall("hi");
      deepEqual(await peer.event(), { event: "recv", data: "hi" });
    }
  });
}

Deno.test("the intermediate's chain reaches the client: getpeercert is the leaf's, as CPython decodes it", async () => {
  const e = await extraCerts();
  const c = await certs();
  await using peer = Peer.python({ role: "server", cert: e.chained, key: e.key });
  const port = await portOf(peer);
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations(c.ca);
  await using sock = await createConnection(["127.0.0.1", port]);
  await using ssock = await ctx.wrapSocket(sock, { serverHostname: "localhost" });
  deepEqual(ssock.getpeercert(), await pythonDecode(e.chainedLeaf));
});

const NO_PROTOCOLS = { minver: "TLSv1_3", maxver: "TLSv1_2" };

Deno.test("a client whose minimumVersion is above its maximumVersion fails its handshake as CPython's: NO_PROTOCOLS_AVAILABLE", async () => {
  const c = await certs();
  const server = { cert: c.server, key: c.serverKey };
  const [truth] = await sslOracle([[server, { host: "localhost", ca: c.ca, ...NO_PROTOCOLS }]]);
  equal(truth.client.reason, "NO_PROTOCOLS_AVAILABLE");
  await using peer = Peer.python({ role: "server", ...server });
  const port = await portOf(peer);
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations(c.ca);
  ctx.minimumVersion = TLSVersion.TLSv1_3;
  ctx.maximumVersion = TLSVersion.TLSv1_2;
  const sock = await createConnection(["127.0.0.1", port]);
  const err = await rejection(ctx.wrapSocket(sock, { serverHostname: "localhost" }), "wrap");
  deepEqual(sslErrorFields(err), pythonErrorFields(truth.client));
  equal((await settled(peer.event(), "the CPython server")).event, "error");
});

Deno.test("a server whose minimumVersion is above its maximumVersion fails accept as CPython's: NO_PROTOCOLS_AVAILABLE", async () => {
  const c = await certs();
  const client = { host: "localhost", ca: c.ca };
  const [truth] = await sslOracle([[
    { cert: c.server, key: c.serverKey, ...NO_PROTOCOLS },
    client,
  ]]);
  equal(truth.server.reason, "NO_PROTOCOLS_AVAILABLE");
  const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
  ctx.loadCertChain(c.server, c.serverKey);
  ctx.minimumVersion = TLSVersion.TLSv1_3;
  ctx.maximumVersion = TLSVersion.TLSv1_2;
  await using listener = createServer(["127.0.0.1", 0]);
  await using tls = await ctx.wrapSocket(listener, { serverSide: true });
  await using peer = Peer.python({ role: "client", port: tls.getsockname()[1], ...client });
  const err = await rejection(tls.accept(), "accept");
  deepEqual(sslErrorFields(err), pythonErrorFields(truth.server));
  // No protocol_version alert from pysock (README): the CPython client fails, and does not hang.
  const report = await settled(peer.event(), "the CPython client");
  equal(report.event, "error", JSON.stringify(report));
});

Deno.test("a pysock client whose version range misses a CPython server's fails with the client error CPython raises", async () => {
  const c = await certs();
  const cases: [Config, Config][] = [
    [{ maxver: "TLSv1_2" }, { minver: "TLSv1_3" }],
    [{ minver: "TLSv1_3" }, { maxver: "TLSv1_2" }],
  ];
  const pairings: [Config, Config][] = cases.map(([s, cl]) => [
    { cert: c.server, key: c.serverKey, ...s },
    { host: "localhost", ca: c.ca, ...cl },
  ]);
  const truths = await sslOracle(pairings);
  for (const [i, [server, client]] of pairings.entries()) {
    await using peer = Peer.python({ role: "server", ...server });
    const port = await portOf(peer);
    const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
    ctx.loadVerifyLocations(c.ca);
    if (client.minver) ctx.minimumVersion = TLSVersion.TLSv1_3;
    if (client.maxver) ctx.maximumVersion = TLSVersion.TLSv1_2;
    const sock = await createConnection(["127.0.0.1", port]);
    const err = await rejection(ctx.wrapSocket(sock, { serverHostname: "localhost" }), "wrap");
    deepEqual(sslErrorFields(err), pythonErrorFields(truths[i].client), JSON.stringify(cases[i]));
    const report = await settled(peer.event(), "the CPython server");
    deepEqual(
      pythonErrorFields(report),
      pythonErrorFields(truths[i].server),
      JSON.stringify(cases[i]),
    );
  }
});
