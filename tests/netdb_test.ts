// _netdb.ts: getnameinfo, gethostbyaddr, gethostbyname_ex and getfqdn, and
// the /etc/hosts reader under them, compared with CPython.
//
// Every lookup here is answered by a hosts file or needs none: an address or
// name missing from the file would go on to DNS, in Python as in pysock, and
// tests send nothing beyond loopback. Fixture hosts files are bind-mounted
// over /etc/hosts in a private mount namespace (`unshare -m`, as root), where
// CPython and pysock both run, so glibc itself is the reference.

import assert from "node:assert/strict";
import {
  getfqdn,
  gethostbyaddr,
  gethostbynameEx,
  getnameinfo,
  hostsByAddr,
  hostsByName,
  type HostsLine,
  multiFromHostConf,
  parseHosts,
} from "../_netdb.ts";
import {
  AF_INET,
  AF_INET6,
  NI_DGRAM,
  NI_NAMEREQD,
  NI_NOFQDN,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
} from "../_constants.ts";
import { inet_pton } from "../_inet.ts";
import { EAI, errno, gaierror, herror, OSError, PermissionError } from "../errors.ts";
import {
  assertSameOutcomes,
  type Outcome,
  PY_RUN,
  python,
  runScript,
  withHostsFiles,
} from "./_helpers.ts";

async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { err: (e as Error).constructor.name, msg: (e as Error).message };
  }
}

/** The lookups one twin run makes. */
interface Queries {
  byname: string[];
  byaddr: string[];
  nameinfo: [unknown[], number][];
  fqdn: string[];
}

const PY_TWIN = PY_RUN + `
print(json.dumps({
    "byname": [run(lambda n=n: socket.gethostbyname_ex(n)) for n in q["byname"]],
    "byaddr": [run(lambda a=a: socket.gethostbyaddr(a)) for a in q["byaddr"]],
    "nameinfo": [run(lambda s=s: socket.getnameinfo(tuple(s[0]), s[1])) for s in q["nameinfo"]],
    "fqdn": [run(lambda n=n: socket.getfqdn(n)) for n in q["fqdn"]],
}))
`;

const NETDB = new URL("../_netdb.ts", import.meta.url).href;
const DENO_TWIN = `
import { getfqdn, gethostbyaddr, gethostbynameEx, getnameinfo } from ${JSON.stringify(NETDB)};
const q = JSON.parse(Deno.args[0]);
async function run(f) {
  try {
    return { ok: await f() };
  } catch (e) {
    return { err: e.constructor.name, msg: e.message };
  }
}
const out = { byname: [], byaddr: [], nameinfo: [], fqdn: [] };
for (const n of q.byname) out.byname.push(await run(() => gethostbynameEx(n)));
for (const a of q.byaddr) out.byaddr.push(await run(() => gethostbyaddr(a)));
for (const [s, f] of q.nameinfo) out.nameinfo.push(await run(() => getnameinfo(s, f)));
for (const n of q.fqdn) out.fqdn.push(await run(() => getfqdn(n)));
console.log(JSON.stringify(out));
`;

function compareTwins(mine: Record<keyof Queries, Outcome[]>, theirs: typeof mine, q: Queries) {
  for (const key of ["byname", "byaddr", "nameinfo", "fqdn"] as const) {
    assertSameOutcomes(mine[key], theirs[key], q[key]);
  }
}

const CAN_UNSHARE = (() => {
  try {
    return new Deno.Command("unshare", { args: ["-m", "true"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

const HOSTNAME = Deno.hostname();

// Every name and address the queries below touch is in this file.
const FIXTURE = [
  "# a fixture hosts file",
  "::1 six-loop six2",
  "::ffff:10.1.2.3 mapped",
  "127.0.0.1 localhost lh",
  "10.0.0.1 multi m1 # trailing comment",
  "10.0.0.2 Multi m2",
  "10.0.0.1 other multi",
  "1.2.3 short",
  "01.2.3.4 lead",
  "fe80::1%lo zoned",
  "10.9.9.9\tbox   box.example.test",
  "fe80::abcd link-local",
  `127.0.1.1 ${HOSTNAME}.example.test ${HOSTNAME}`,
  "",
].join("\n");

const FIXTURE_QUERIES: Queries = {
  byname: [
    "multi",
    "MULTI",
    "m2",
    "other",
    "six-loop",
    "localhost",
    "lh",
    "box",
    "box.example.test",
    HOSTNAME,
    "127.0.0.1",
    "127.1",
    "::1",
  ],
  byaddr: [
    "127.0.0.1",
    "10.0.0.1",
    "10.0.0.2",
    "10.1.2.3",
    "::ffff:10.1.2.3",
    "::1",
    "0:0:0:0:0:0:0:1",
    "fe80::abcd",
    "localhost",
    "box",
    "127.1",
    "",
  ],
  nameinfo: [
    [["10.9.9.9", 80], 0],
    [["10.9.9.9", 80], NI_NOFQDN],
    [["127.0.0.1", 22], NI_DGRAM],
    [["127.0.0.1", 512], NI_DGRAM],
    [["127.0.0.1", 512], 0],
    [["::1", 80], 0],
    [["::1", 80, 0, 0], NI_NUMERICSERV],
    [["10.0.0.1", 53], NI_NAMEREQD | NI_DGRAM],
    [["0x0a.1", 80], 0],
    [["fe80::abcd", 443], 0],
    [["::ffff:10.1.2.3", 7], 0],
    [["box", 80], 0],
  ],
  fqdn: ["box", " box ", "multi", "10.9.9.9", "", "0.0.0.0", "::", HOSTNAME],
};

for (const conf of ["multi on\n", "multi off\n", "order hosts,bind\n"]) {
  Deno.test({
    name: `lookups answered by /etc/hosts match CPython's (host.conf: ${conf.trim()})`,
    ignore: !CAN_UNSHARE,
    async fn() {
      const q = JSON.stringify(FIXTURE_QUERIES);
      const theirs = JSON.parse(await withHostsFiles(FIXTURE, conf, ["python3", "-c", PY_TWIN, q]));
      const flags = ["--allow-read", "--allow-net", "--allow-sys=hostname", "--allow-env"];
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(`${dir}/twin.ts`, DENO_TWIN);
        const deno = [Deno.execPath(), "run", ...flags, `${dir}/twin.ts`, q];
        compareTwins(
          JSON.parse(await withHostsFiles(FIXTURE, conf, deno)),
          theirs,
          FIXTURE_QUERIES,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

// Lookups the real /etc/hosts answers on any Linux (localhost), and calls that
// fail or need no lookup at all.
const SYSTEM_QUERIES: Queries = {
  byname: ["localhost", "127.0.0.1", "1.2.3", "::1", "fe80::1%1"],
  byaddr: ["127.0.0.1", "localhost", ""],
  nameinfo: [
    [["127.0.0.1", 80], 0],
    [["127.0.0.1", 80], NI_NUMERICHOST],
    [["127.0.0.1", 80], NI_NUMERICSERV],
    [["127.0.0.1", 80], NI_NUMERICHOST | NI_NUMERICSERV],
    [["127.0.0.1", 53], NI_DGRAM],
    [["127.0.0.1", 0], 0],
    [["127.0.0.1", 65535], 0],
    [["::1", 80, 0, 0], NI_NUMERICHOST],
    [["0:0::1", 80], NI_NUMERICHOST],
    [["::FFFF:1.2.3.4", 1], NI_NUMERICHOST | NI_NUMERICSERV],
    [["::1.2.3.4", 1], NI_NUMERICHOST | NI_NUMERICSERV],
    [["10.255.255.1", 80], NI_NUMERICHOST],
    [["1.2.3", 80], NI_NUMERICHOST],
    [["127.1", 80], NI_NUMERICHOST],
    [["0x7f.1", 1], NI_NUMERICHOST | NI_NUMERICSERV],
    [["4294967295", 1], NI_NUMERICHOST | NI_NUMERICSERV],
    [["::1", 80, 0xfffff], NI_NUMERICHOST],
    [["::1", 80, 0, 1], NI_NUMERICHOST],
    [["::1%1", 80, 0, 5], NI_NUMERICHOST | NI_NUMERICSERV],
    [["::1%0", 80], NI_NUMERICHOST | NI_NUMERICSERV],
    [["fe80::1%1", 80], NI_NUMERICHOST | NI_NUMERICSERV],
    [["fe80::1", 80, 0, 99], NI_NUMERICHOST | NI_NUMERICSERV],
    [["fe80::1%lo", 80, 0, 0], NI_NUMERICHOST | NI_NUMERICSERV],
    [["::1", 80], NI_NUMERICSERV | NI_DGRAM | NI_NUMERICHOST],
    [["127.0.0.1", 80], NI_NUMERICHOST | NI_NAMEREQD],
    [["127.0.0.1", 80], NI_NUMERICHOST | NI_NUMERICSERV | 32],
    [["127.0.0.1", 80], NI_NUMERICHOST | NI_NUMERICSERV | 64],
    [["127.0.0.1", 80], NI_NUMERICHOST | NI_NUMERICSERV | 128],
    [["127.0.0.1", 80], NI_NUMERICHOST | NI_NUMERICSERV | 256],
    [["127.0.0.1", 80], NI_NUMERICHOST | NI_NUMERICSERV | 512],
    [["127.0.0.1", 80], -1],
    [["127.0.0.1", 80], 2 ** 31],
    [["127.0.0.1", 80], -(2 ** 31) - 1],
    [["::1", 80, 0x100000], 0],
    [["::1", 80, -1], NI_NUMERICHOST],
    [["127.0.0.1", 80, 0, 0], NI_NUMERICHOST],
    [["127.0.0.1", 80, 0], NI_NUMERICHOST],
    [["::1", 80, 0, 0, 0], NI_NUMERICHOST],
    [["127.0.0.1"], NI_NUMERICHOST],
    [[1, 80], NI_NUMERICHOST],
    [[null, 1], NI_NUMERICHOST],
    [["127.0.0.1", "80"], NI_NUMERICHOST],
    [["localhost", 80], 0],
    [["mail.python.org", 0], 0],
    [["", 80], NI_NUMERICHOST],
    [["<broadcast>", 80], NI_NUMERICHOST],
    [[" 127.0.0.1", 80], NI_NUMERICHOST],
    [["127.0.0.1 ", 80], NI_NUMERICHOST],
    [["1.2.3.4.5", 1], NI_NUMERICHOST],
    [["fe80::1%", 80], NI_NUMERICHOST],
    [["::1%lo", 80], NI_NUMERICHOST],
    [["::1%4294967296", 80], NI_NUMERICHOST],
    [["::1%1%2", 80], NI_NUMERICHOST],
    [["[::1]", 80], NI_NUMERICHOST],
    [["1.2.3.4%1", 80], NI_NUMERICHOST],
  ],
  fqdn: ["127.0.0.1", "localhost"],
};

Deno.test("lookups on this host's own /etc/hosts and numeric calls match CPython's", async () => {
  const q = SYSTEM_QUERIES;
  await using py = python(PY_TWIN, JSON.stringify(q));
  const theirs = JSON.parse(await py.output());
  const mine = {
    byname: await Promise.all(q.byname.map((n) => outcome(() => gethostbynameEx(n)))),
    byaddr: await Promise.all(q.byaddr.map((a) => outcome(() => gethostbyaddr(a)))),
    nameinfo: await Promise.all(
      q.nameinfo.map(([s, f]) => outcome(() => getnameinfo(s as [string, number], f))),
    ),
    fqdn: await Promise.all(q.fqdn.map((n) => outcome(() => getfqdn(n)))),
  };
  compareTwins(mine, theirs, q);
});

Deno.test("getnameinfo refuses ports and scope ids Python would wrap, before any lookup", async () => {
  // CPython passes a negative port on as a service name (gaierror EAI_SERVICE)
  // and keeps the low 16 bits of a larger one; pysock refuses both.
  await assert.rejects(() => getnameinfo(["127.0.0.1", -1], 0), {
    name: "RangeError",
    message: "Cannot getnameinfo: port must be 0-65535, got -1",
  });
  await assert.rejects(() => getnameinfo(["127.0.0.1", 65536], 0), RangeError);
  await assert.rejects(() => getnameinfo(["::1", 80, 0, 2 ** 32], 0), {
    name: "RangeError",
    message: "Cannot getnameinfo: scopeId must be 0-4294967295, got 4294967296",
  });
  await assert.rejects(() => getnameinfo(["::1", 80, 0, -1], 0), RangeError);
  await assert.rejects(() => getnameinfo("127.0.0.1" as unknown as [string, number], 0), {
    name: "TypeError",
    message:
      'Cannot getnameinfo: sockaddr must be [host, port] or [host, port, flowinfo, scopeId], got "127.0.0.1"',
  });
  await assert.rejects(() => getnameinfo(["127.0.0.1", 80], "x" as unknown as number), TypeError);
});

Deno.test("getnameinfo's errors carry Python's errno and class", async () => {
  await assert.rejects(
    () => getnameinfo(["localhost", 80], 0),
    (e: unknown) => e instanceof gaierror && e.errno === EAI.EAI_NONAME,
  );
  await assert.rejects(
    () => getnameinfo(["127.0.0.1", 80], NI_NUMERICHOST | 256),
    (e: unknown) =>
      e instanceof gaierror && e.errno === EAI.EAI_BADFLAGS &&
      e.message === "[Errno -1] Bad value for ai_flags",
  );
  await assert.rejects(
    () => getnameinfo(["127.0.0.1", 80, 0] as const, 0),
    (e: unknown) =>
      e instanceof OSError && !(e instanceof gaierror) &&
      e.message === "IPv4 sockaddr must be 2 tuple",
  );
});

Deno.test("gethostbyname_ex of an empty name is herror 3 and of an IPv6 address EAI_ADDRFAMILY, as in CPython", async () => {
  // CPython 3.11: herror(3, 'Unknown server error'); gaierror(-9, ...).
  await assert.rejects(
    () => gethostbynameEx(""),
    (e: unknown) =>
      e instanceof herror && e.errno === 3 && e.message === "[Errno 3] Unknown server error",
  );
  await assert.rejects(
    () => gethostbynameEx("::1"),
    (e: unknown) => e instanceof gaierror && e.errno === EAI.EAI_ADDRFAMILY,
  );
  await assert.rejects(() => gethostbynameEx(5 as unknown as string), TypeError);
  // CPython looks "0x7f.1" up as a name after getaddrinfo takes it (herror 1
  // once DNS has no answer); pysock answers the same without asking DNS.
  await assert.rejects(
    () => gethostbynameEx("0x7f.1"),
    (e: unknown) => e instanceof herror && e.message === "[Errno 1] Unknown host",
  );
  await assert.rejects(() => gethostbyaddr("127.0.0.1\0"), TypeError);
});

const PARSED: HostsLine[] = parseHosts(FIXTURE);

Deno.test("parseHosts keeps lines with an inet_pton address and a name, comments cut", () => {
  // "1.2.3", "01.2.3.4" and a zoned address are not inet_pton addresses: glibc skips them.
  assert.deepEqual(PARSED.map((l) => l.name), [
    "six-loop",
    "mapped",
    "localhost",
    "multi",
    "Multi",
    "other",
    "box",
    "link-local",
    `${HOSTNAME}.example.test`,
  ]);
  assert.deepEqual(PARSED[3].aliases, ["m1"]);
  assert.deepEqual(PARSED[6].aliases, ["box.example.test"]);
  assert.deepEqual(parseHosts("10.0.0.1\n# only a comment\n  \n"), []);
});

Deno.test("hostsByAddr takes the first matching line, reading ::1 and mapped lines for IPv4 queries", () => {
  const v4 = (text: string) => inet_pton(AF_INET, text);
  const v6 = (text: string) => inet_pton(AF_INET6, text);
  assert.equal(hostsByAddr(PARSED, v4("127.0.0.1"))?.name, "six-loop");
  assert.equal(hostsByAddr(PARSED, v4("10.1.2.3"))?.name, "mapped");
  assert.deepEqual(hostsByAddr(PARSED, v4("10.0.0.1")), {
    name: "multi",
    aliases: ["m1"],
    addresses: [v4("10.0.0.1")],
  });
  assert.equal(hostsByAddr(PARSED, v6("::1"))?.name, "six-loop");
  assert.equal(hostsByAddr(PARSED, v6("::ffff:10.1.2.3"))?.name, "mapped");
  // glibc 2.36 reads no IPv4 line for an IPv6 query.
  assert.equal(hostsByAddr(PARSED, v6("::ffff:10.0.0.1")), null);
  assert.equal(hostsByAddr(PARSED, v4("10.0.0.3")), null);
});

Deno.test("hostsByName with multi gathers every matching line as glibc does", () => {
  const addr = (text: string) => inet_pton(AF_INET, text);
  assert.deepEqual(hostsByName(PARSED, "MULTI", AF_INET, true), {
    name: "multi",
    aliases: ["m1", "m2", "Multi", "multi", "other"],
    addresses: [addr("10.0.0.1"), addr("10.0.0.2"), addr("10.0.0.1")],
  });
  assert.deepEqual(hostsByName(PARSED, "multi", AF_INET, false)?.aliases, ["m1"]);
  assert.deepEqual(hostsByName(PARSED, "six2", AF_INET, false)?.addresses, [addr("127.0.0.1")]);
  assert.equal(hostsByName(PARSED, "short", AF_INET, true), null);
  assert.equal(hostsByName(PARSED, "link-local", AF_INET, true), null);
});

Deno.test("host.conf's multi is on only when it says so, the last setting winning", () => {
  assert.equal(multiFromHostConf("multi on\n"), true);
  assert.equal(multiFromHostConf("# multi on\n"), false);
  assert.equal(multiFromHostConf("MULTI On\nmulti off\n"), false);
  assert.equal(multiFromHostConf("order hosts,bind\nmulti on # yes\n"), true);
  assert.equal(multiFromHostConf(""), false);
});

Deno.test("without read access to /etc/hosts the system resolver still names loopback", async () => {
  const source = `
import { gethostbyaddr, getnameinfo } from ${JSON.stringify(NETDB)};
console.log(JSON.stringify([await gethostbyaddr("127.0.0.1"), await getnameinfo(["127.0.0.1", 80], 0)]));
`;
  const { code, stdout, stderr } = await runScript(source, ["--allow-net=127.0.0.1"]);
  assert.equal(code, 0, stderr);
  await using py = python(
    "import json, socket; print(json.dumps([socket.gethostbyaddr('127.0.0.1'), socket.getnameinfo(('127.0.0.1', 80), 0)]))",
  );
  const [[name, , addresses], nameinfo] = JSON.parse(await py.output());
  // The same name and addresses; aliases come only from reading the file.
  assert.deepEqual(JSON.parse(stdout), [[name, [], addresses], nameinfo]);
});

Deno.test("a lookup without the permission it needs is a PermissionError naming the flag", async () => {
  const source = `
import { getfqdn, gethostbyaddr } from ${JSON.stringify(NETDB)};
for (const call of [() => gethostbyaddr("127.0.0.1"), () => getfqdn()]) {
  try {
    await call();
    console.log("resolved");
  } catch (e) {
    console.log(e.constructor.name, e.errno, e.message);
  }
}
`;
  const { code, stdout, stderr } = await runScript(source, []);
  assert.equal(code, 0, stderr);
  const [byaddr, fqdn] = stdout.trim().split("\n");
  assert.match(
    byaddr,
    new RegExp(`^PermissionError ${errno.EACCES} .*--allow-net=127\\.0\\.0\\.1`),
  );
  assert.match(fqdn, /^PermissionError 13 .*--allow-sys=hostname/);
  assert.ok(PermissionError.name === "PermissionError");
});
