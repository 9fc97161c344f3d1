// Tests written by the mutation audit of the module functions (_inet.ts,
// _netdb.ts, _lookup.ts, _resolve.ts, _services.ts): each one kills a mutant
// that the other test files let live, and names it ("kills: file, what the
// mutant changed").
//
// Lookups stay offline: numeric hosts, `localhost`, and names of a fixture
// hosts file bind-mounted over /etc/hosts in a private mount and network
// namespace (as root). The RFC 6761 names pysock answers itself run in a
// child allowed to reach 127.0.0.1 only, so code that wrongly asked the system
// resolver about them would get a PermissionError there, never a DNS query.

import assert from "node:assert/strict";
import * as pysock from "../mod.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  getaddrinfo,
  SOCK_DGRAM,
  SOCK_STREAM,
  socket,
} from "../mod.ts";
import { NI_NOFQDN, NI_NUMERICHOST, NI_NUMERICSERV } from "../mod.ts";
import { literalFamily } from "../_resolve.ts";
import { EAI, gaierror } from "../errors.ts";
import {
  assertSame,
  CAN_UNSHARE_NET,
  type Case,
  cpython,
  type Impl,
  type Outcome as Answer,
  pysock as runPysock,
  tuple,
} from "./_differential.ts";
import {
  assertSameOutcomes,
  bytes,
  errorOf,
  MOD,
  type Outcome,
  PY_RUN,
  pythonJson,
  text,
  withHostsFiles,
} from "./_helpers.ts";

const impls = pysock as unknown as Record<string, Impl>;

const AUDIT_CASES: Case[] = [
  // kills: _inet.ts parseIpv4Strict, a "." taken without a digit before it.
  ...["1.2..3.4", ".1.2.3.4", "1..2.3.4", "1.2.3..4", "1.2.3.4"].map((s) => ({
    call: "inet_pton",
    args: [AF_INET, s],
  })),
  ...["::1.2..3.4", "::.1.2.3.4", "::1.2.3.4"].map((s) => ({
    call: "inet_pton",
    args: [AF_INET6, s],
  })),
  // kills: _lookup.ts checkCInt, 2**31 taken as a C int.
  { call: "getaddrinfo", args: ["127.0.0.1", 80, 2 ** 31] },
  { call: "getaddrinfo", args: ["127.0.0.1", 80, 0, 2 ** 31] },
  { call: "getaddrinfo", args: ["127.0.0.1", 80, -(2 ** 31) - 1] },
  // The largest numeric zone glibc takes (the next one is below).
  { call: "getaddrinfo", args: ["::1%4294967295", 80, 0, SOCK_STREAM] },
];

const ZONE_CASES: Case[] = [
  // Fixed: glibc maps ::ffff:a.b.c.d for AF_INET and then reads the zone;
  // pysock refused any zone there with EAI_ADDRFAMILY.
  { call: "getaddrinfo", args: ["::ffff:127.0.0.1%1", 80, AF_INET, SOCK_STREAM] },
  { call: "getaddrinfo", args: ["::ffff:127.0.0.1%99", 80, AF_INET, SOCK_STREAM] },
  { call: "getaddrinfo", args: ["::ffff:127.0.0.1%1", 80, AF_UNSPEC, SOCK_STREAM] },
  { call: "gethostbyname", args: ["::ffff:127.0.0.1%1"] },
  // Fixed: interface-local multicast (ff?1) takes an interface name as
  // zone, as link-local unicast (fe80::/10) and multicast (ff?2) do.
  ...["ff01::1%lo", "ff11::1%lo", "ff02::1%lo", "ff12::1%lo", "fe90::1%lo", "febf::1%lo"].flatMap(
    (host) => [
      { call: "getaddrinfo", args: [host, 80, AF_UNSPEC, SOCK_STREAM] },
      // kills: _netdb.ts parseIpv6WithZone, link-local multicast not scoped.
      { call: "getnameinfo", args: [tuple(host, 80), NI_NUMERICHOST | NI_NUMERICSERV] },
    ],
  ),
];

// kills: _resolve.ts IPV4, a leading zero ("01.2.3.4") taken as a literal.
const LITERAL_CASES: Case[] = [
  ...[
    ...["01.2.3.4", "1.2.3.04", "00.0.0.0", "0.0.0.0", "127.0.0.1", "255.255.255.255"],
    ...["256.1.1.1", "1.2.3", "127.1", "0x7f.0.0.1", "1.2.3.4 ", "09.1.1.1"],
  ].map((s) => ({ call: "inet_pton", args: [AF_INET, s] })),
  ...["::1", "::ffff:1.2.3.4", "::ffff:01.2.3.4", "1::2::3", "fe80::1", ":::"].map((s) => ({
    call: "inet_pton",
    args: [AF_INET6, s],
  })),
];

// One python3 for the three groups; each test takes its part.
let oracle: Promise<Answer[]> | null = null;
async function theirs(cases: Case[]): Promise<Answer[]> {
  const all = [AUDIT_CASES, ZONE_CASES, LITERAL_CASES];
  oracle ??= cpython(all.flat());
  const outcomes = await oracle;
  let at = 0;
  for (const group of all) {
    if (group === cases) return outcomes.slice(at, at + group.length);
    at += group.length;
  }
  throw new Error("not a case group of this file");
}

Deno.test("inet_pton and getaddrinfo agree with CPython on the inputs the mutation audit added", async () => {
  const cpy = await theirs(AUDIT_CASES);
  assertSame(AUDIT_CASES, cpy, await runPysock(AUDIT_CASES, impls, cpy));
});

Deno.test("zones glibc takes: a numeric one on an IPv4-mapped address for AF_INET, an interface on every link-scoped address", async () => {
  const cases = ZONE_CASES;
  const cpy = await theirs(cases);
  assert.ok(cpy.every((o) => !("skip" in o)), "every case runs in CPython");
  assertSame(cases, cpy, await runPysock(cases, impls, cpy));
  // glibc reads the zone after mapping: a name there is no zone it knows
  // (CPython's guard cannot run this one, as it is no AF_UNSPEC numeric host).
  await assert.rejects(
    getaddrinfo("::ffff:127.0.0.1%lo", 80, AF_INET, SOCK_STREAM),
    (e) => e instanceof gaierror && e.errno === EAI.EAI_NONAME,
  );
});

Deno.test("an AF_INET socket sends to an IPv4-mapped address with a numeric zone, as CPython does", async () => {
  // Fixed with the zones above: checkSocketAddress reads the address through
  // mappedIpv4, which refused every zone (EAI_ADDRFAMILY).
  await using receiver = socket(AF_INET, SOCK_DGRAM);
  receiver.bind(["127.0.0.1", 0]);
  const [, port] = receiver.getsockname() as [string, number];
  const theirs = await pythonJson(
    `
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = s.sendto(b"x", ("::ffff:127.0.0.1%1", r.getsockname()[1]))
data, addr = r.recvfrom(10)
print(json.dumps([sent, data.decode(), addr[0], err(lambda: s.sendto(b"x", ("::ffff:127.0.0.1%lo", 9)))]))
`,
  );
  await using sender = socket(AF_INET, SOCK_DGRAM);
  const sent = await sender.sendto(bytes("x"), ["::ffff:127.0.0.1%1", port]);
  const [data, [from]] = await receiver.recvfrom(10) as [Uint8Array, [string, number]];
  const refused = await errorOf(sender.sendto(bytes("x"), ["::ffff:127.0.0.1%lo", 9]));
  assert.deepEqual([sent, text(data), from, refused], theirs);
});

Deno.test("literalFamily calls a host an IP literal exactly when CPython's inet_pton reads it", async () => {
  const cpy = await theirs(LITERAL_CASES);
  LITERAL_CASES.forEach((c, i) => {
    const [family, host] = c.args as [number, string];
    const expected = "ok" in cpy[i] ? family : AF_UNSPEC;
    assert.equal(literalFamily(host), expected, `literalFamily(${JSON.stringify(host)})`);
  });
});

Deno.test("getaddrinfo answers localhost for AF_INET6 and with a trailing dot, and refuses a zone over 32 bits", async () => {
  // kills: _resolve.ts specialName, AF_INET6 given both families' loopback.
  assert.deepEqual(await getaddrinfo("localhost", 80, AF_INET6, SOCK_STREAM), [
    [AF_INET6, SOCK_STREAM, 6, "", ["::1", 80, 0, 0]],
  ]);
  // kills: _resolve.ts specialName, the root's trailing dot not dropped.
  assert.deepEqual(await getaddrinfo("localhost.", 80, AF_INET, SOCK_STREAM), [
    [AF_INET, SOCK_STREAM, 6, "", ["127.0.0.1", 80]],
  ]);
  // kills: _lookup.ts splitZone, a numeric zone over 2**32-1 taken as the scope id.
  // glibc reads no such zone, so the host is no literal but a name that no
  // resolver has (CPython would ask DNS for it; pysock answers alone).
  await assert.rejects(
    getaddrinfo("::1%4294967296", 80, AF_INET6, SOCK_STREAM),
    (e) => e instanceof gaierror && e.errno === EAI.EAI_NONAME,
  );
});

// A fixture hosts file with what the mutants needed: a name that holds the
// local domain without a dot before it, a name for the broadcast address, and
// one name on several lines (host.conf: multi on).
const HOSTNAME = Deno.hostname();
const FIXTURE = [
  "127.0.0.1 localhost",
  `127.0.1.1 ${HOSTNAME}.example.test ${HOSTNAME}`,
  "10.9.9.8 boxexample.test",
  "10.9.9.7 b.example.test",
  "255.255.255.255 bcast",
  "10.0.0.5 dup a5",
  "10.0.0.6 dup b6",
  "10.0.0.7 Dup c7",
  "10.0.0.9 Zulu",
  "",
].join("\n");

// Only what the fixture answers: anything else would go on to DNS.
const QUERIES = {
  nameinfo: [[["10.9.9.8", 80], NI_NOFQDN], [["10.9.9.7", 80], NI_NOFQDN]],
  byaddr: ["<broadcast>", "255.255.255.255"],
  byname: ["dup", "a5", "Dup", "c7", "zULU"],
};

const PY_TWIN = PY_RUN + `
print(json.dumps({
    "nameinfo": [run(lambda s=s: socket.getnameinfo(tuple(s[0]), s[1])) for s in q["nameinfo"]],
    "byaddr": [run(lambda a=a: socket.gethostbyaddr(a)) for a in q["byaddr"]],
    "byname": [run(lambda n=n: socket.gethostbyname_ex(n)) for n in q["byname"]],
}))
`;

// The same, then what only pysock is asked: RFC 6761 names (answered without
// the resolver, which this child may not use) and a failed reverse lookup.
const DENO_TWIN = `
import { getaddrinfo, getfqdn, gethostbyaddr, gethostbynameEx, getnameinfo } from ${
  JSON.stringify(MOD)
};
const q = JSON.parse(Deno.args[0]);
async function run(f) {
  try {
    return { ok: await f() };
  } catch (e) {
    return { err: e.constructor.name, msg: e.message, errno: e.errno ?? null };
  }
}
const out = { nameinfo: [], byaddr: [], byname: [], special: [], fqdn: null, byaddr6: null };
for (const [s, f] of q.nameinfo) out.nameinfo.push(await run(() => getnameinfo(s, f)));
for (const a of q.byaddr) out.byaddr.push(await run(() => gethostbyaddr(a)));
for (const n of q.byname) out.byname.push(await run(() => gethostbynameEx(n)));
for (const n of q.special) out.special.push(await run(() => getaddrinfo(n, 80, 2, 1)));
out.fqdn = await run(() => getfqdn("10.99.99.99"));
out.byaddr6 = await run(() => gethostbyaddr("fe80::99"));
console.log(JSON.stringify(out));
`;

const CAN_UNSHARE = CAN_UNSHARE_NET && (() => {
  try {
    return new Deno.Command("unshare", { args: ["-m", "true"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

// Runs `command` where /etc/hosts and /etc/host.conf are the fixture's, in
// a network namespace of its own (only loopback, down): no query can leave.
// host.conf's keyword and value in any case, as glibc's res_hconf reads them.
async function inFixture(command: string[]): Promise<unknown> {
  return JSON.parse(await withHostsFiles(FIXTURE, "MULTI On\n", command, true));
}

Deno.test({
  name:
    "hosts-file lookups the mutation audit added match CPython's; RFC 6761 names need no resolver",
  ignore: !CAN_UNSHARE,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/twin.ts`, DENO_TWIN);
      const longLabel = `${"a".repeat(64)}.test`;
      const special = [
        "a.localhost",
        "x.invalid",
        "x.invalid.",
        longLabel,
        `${"a".repeat(63)}.localhost`,
      ];
      const q = JSON.stringify({ ...QUERIES, special });
      type Answers = Record<keyof typeof QUERIES, Outcome[]>;
      const [theirs, ours] = await Promise.all([
        inFixture(["python3", "-c", PY_TWIN, q]) as Promise<Answers>,
        inFixture([
          Deno.execPath(),
          "run",
          "--no-prompt",
          "--allow-read",
          "--allow-sys=hostname",
          "--allow-net=127.0.0.1",
          `${dir}/twin.ts`,
          q,
        ]) as Promise<Answers & { special: Outcome[]; fqdn: Outcome; byaddr6: Outcome }>,
      ]);
      // kills: _netdb.ts withoutDomain, the domain cut without a dot before it.
      // kills: _netdb.ts addressOf, "<broadcast>" not read as 255.255.255.255.
      // kills: _netdb.ts hostsByName, a later line's same name added as an alias.
      // kills: _netdb.ts asciiLower, Z not folded; multiFromHostConf, the keyword's case.
      for (const key of ["nameinfo", "byaddr", "byname"] as const) {
        const mine = ours[key].map((o) => "ok" in o ? o : { err: o.err, msg: o.msg });
        assertSameOutcomes(mine, theirs[key], QUERIES[key]);
      }
      // kills: _resolve.ts specialName: names under localhost, .invalid, a
      // label over 63 octets, each sent to the resolver instead.
      const loopback = { ok: [[AF_INET, SOCK_STREAM, 6, "", ["127.0.0.1", 80]]] };
      const noName = { err: "gaierror", msg: "[Errno -2] Name or service not known", errno: -2 };
      assert.deepEqual(ours.special, [loopback, noName, noName, noName, loopback]);
      // kills: _netdb.ts getfqdn, a refused permission taken as a failed lookup
      // (README: unlike Python, getfqdn raises it).
      const fqdn = ours.fqdn as { err: string; msg: string };
      assert.equal(fqdn.err, "PermissionError", JSON.stringify(fqdn));
      assert.match(fqdn.msg, /--allow-net=10\.99\.99\.99\b/);
      // kills: _netdb.ts reverseLookup, an IPv6 address named without brackets in the flag.
      const byaddr6 = ours.byaddr6 as { err: string; msg: string };
      assert.equal(byaddr6.err, "PermissionError", JSON.stringify(byaddr6));
      assert.match(byaddr6.msg, /--allow-net=\[fe80::99\]/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
