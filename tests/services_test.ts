// _services.ts: getservbyname and getservbyport, from /etc/services and from
// the built-in table, compared with CPython on the same lookups.

import assert from "node:assert/strict";
import {
  builtinServices,
  getservbyname,
  getservbyport,
  parseServices,
  SERVICES_PATH,
} from "../_services.ts";
import { OSError } from "../errors.ts";
import { assertSameOutcomes, type Outcome, python, runScript } from "./_helpers.ts";

const HAS_SERVICES = (() => {
  try {
    return Deno.statSync(SERVICES_PATH).isFile;
  } catch {
    return false;
  }
})();

// Each row is [function name, first argument, protocol or null for none].
type Row = [fn: "getservbyname" | "getservbyport", arg: string | number, proto: string | null];

async function cpython(rows: Row[]): Promise<Outcome[]> {
  const code = `
import json, socket, sys
out = []
for fn, arg, proto in json.loads(sys.argv[1]):
    args = (arg,) if proto is None else (arg, proto)
    try:
        out.append({"ok": getattr(socket, fn)(*args)})
    except Exception as e:
        out.append({"err": type(e).__name__, "msg": str(e)})
print(json.dumps(out))
`;
  await using py = python(code, JSON.stringify(rows));
  return JSON.parse(await py.output());
}

// The same lookups in this process, as outcomes: a value, or the error's class and text.
function ours(rows: Row[]): Outcome[] {
  return rows.map(([fn, arg, proto]) => {
    try {
      const p = proto ?? undefined;
      return {
        ok: fn === "getservbyname"
          ? getservbyname(arg as string, p)
          : getservbyport(arg as number, p),
      };
    } catch (e) {
      return { err: (e as Error).constructor.name, msg: (e as Error).message };
    }
  });
}

// Every name, alias and port of the system's file, each with no protocol, tcp
// and udp, plus names and ports that are in no file.
function rowsFor(text: string): Row[] {
  const entries = parseServices(text);
  const names = new Set(entries.flatMap((e) => [e.name, ...e.aliases]));
  const ports = new Set(entries.map((e) => e.port));
  const rows: Row[] = [];
  for (const proto of [null, "tcp", "udp"]) {
    for (const name of [...names, "HTTP", "no-such-service", ""]) {
      rows.push(["getservbyname", name, proto]);
    }
    for (const port of [...ports, 0, 65535, 1023, 4]) rows.push(["getservbyport", port, proto]);
  }
  rows.push(["getservbyname", "http", ""], ["getservbyname", "http", "xyz"], [
    "getservbyport",
    80,
    "xyz",
  ]);
  rows.push(["getservbyport", -1, null], ["getservbyport", 65536, null], [
    "getservbyport",
    80,
    "tcp",
  ]);
  return rows;
}

Deno.test({
  name: "getservbyname and getservbyport answer every entry of /etc/services as CPython does",
  ignore: !HAS_SERVICES,
  async fn() {
    const rows = rowsFor(await Deno.readTextFile(SERVICES_PATH));
    assertSameOutcomes(ours(rows), await cpython(rows), rows);
  },
});

Deno.test({
  name:
    "without read access the built-in table answers its services as CPython's /etc/services does",
  ignore: !HAS_SERVICES,
  async fn() {
    const builtin = builtinServices();
    const rows: Row[] = [];
    for (const e of builtin) {
      for (const name of [e.name, ...e.aliases]) rows.push(["getservbyname", name, e.proto]);
      rows.push(["getservbyname", e.name, null], ["getservbyport", e.port, e.proto], [
        "getservbyport",
        e.port,
        null,
      ]);
    }
    rows.push(["getservbyname", "no-such-service", null], ["getservbyport", 0, null]);
    const source = `
import { getservbyname, getservbyport } from ${
      JSON.stringify(new URL("../_services.ts", import.meta.url).href)
    };
const rows = ${JSON.stringify(rows)};
console.log(JSON.stringify(rows.map(([fn, arg, proto]) => {
  try {
    const p = proto ?? undefined;
    return { ok: fn === "getservbyname" ? getservbyname(arg, p) : getservbyport(arg, p) };
  } catch (e) {
    return { err: e.constructor.name, msg: e.message };
  }
})));
`;
    const { code, stdout, stderr } = await runScript(source, []);
    assert.equal(code, 0, stderr);
    assertSameOutcomes(JSON.parse(stdout), await cpython(rows), rows);
  },
});

Deno.test("the built-in table has the common services with both protocols where netbase has them", () => {
  const table = builtinServices();
  const find = (name: string, proto: string) =>
    table.find((e) => e.name === name && e.proto === proto);
  assert.equal(find("http", "tcp")?.port, 80);
  assert.deepEqual(find("http", "tcp")?.aliases, ["www"]);
  assert.equal(find("domain", "udp")?.port, 53);
  assert.equal(find("ssh", "tcp")?.port, 22);
  assert.equal(find("https", "udp")?.port, 443);
  assert.equal(find("postgresql", "tcp")?.port, 5432);
  assert.ok(table.every((e) => e.proto === "tcp" || e.proto === "udp"));
  assert.ok(table.every((e) => Number.isInteger(e.port) && e.port > 0 && e.port < 65536));
});

Deno.test("parseServices reads names, ports, protocols and aliases, skipping comments and bad lines", () => {
  const text = "# comment\nhttp\t80/tcp\twww www-http # WorldWideWeb\n\nbad 80\nodd x/tcp\n" +
    "big 65617/udp\nsolo 7/tcp";
  assert.deepEqual(parseServices(text), [
    { name: "http", port: 80, proto: "tcp", aliases: ["www", "www-http"] },
    { name: "big", port: 81, proto: "udp", aliases: [] },
    { name: "solo", port: 7, proto: "tcp", aliases: [] },
  ]);
});

Deno.test("a service or port that is not there is Python's OSError text, an argument of the wrong kind a TypeError", () => {
  assert.throws(
    () => getservbyname("no-such-service"),
    (e: unknown) =>
      e instanceof OSError && e.message === "service/proto not found" && e.errno === null,
  );
  assert.throws(() => getservbyport(0), { message: "port/proto not found" });
  assert.throws(() => getservbyport(65536), {
    name: "RangeError",
    message: "Cannot getservbyport: port must be 0-65535, got 65536",
  });
  assert.throws(() => getservbyport(-1), RangeError);
  assert.throws(() => getservbyport(80.5), TypeError);
  assert.throws(() => getservbyport("80" as unknown as number), TypeError);
  assert.throws(() => getservbyname(new Uint8Array(4) as unknown as string), {
    name: "TypeError",
    message: "Cannot getservbyname: servicename must be a string, got Uint8Array(4)",
  });
  assert.throws(() => getservbyname("http", null as unknown as string), TypeError);
  // A NUL is Python's ValueError (embedded null character): a RangeError.
  assert.throws(() => getservbyname("http\0"), RangeError);
});
