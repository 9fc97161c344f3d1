// The differential harness of differential_module_test.ts: a batch of calls
// runs once in one python3 process (CPython's socket module) and once through
// pysock, and every outcome is compared: the value, or the error's class,
// errno and (for OSError and its subclasses) message.
//
// Arguments are JSON with tags for what JSON cannot say: `{ $bytes: hex }`
// (Python bytes, a Uint8Array here), `{ $tuple: [...] }` (a tuple, an array
// here), `{ $float: "1.5" }` (a Python float, "nan"/"inf" included) and
// `{ $int: "digits" }` (an int beyond 2**53, the nearest number here).

import assert from "node:assert/strict";

/** One argument, as both twins read it. */
export type Arg =
  | null
  | boolean
  | number
  | string
  | Arg[]
  | { $bytes: string }
  | { $tuple: Arg[] }
  | { $float: string }
  | { $int: string };

/** One call: a function of Python's socket module (or of the runner) and its arguments. */
export interface Case {
  call: string;
  args: Arg[];
}

/** What a call gave; `skip` when CPython would have to ask a DNS server to answer it. */
export type Outcome =
  | { ok: unknown }
  | { err: string; errno: number | null; msg: string; os?: boolean; value?: boolean }
  | { skip: string };

/** Python bytes. */
export const bytesArg = (hex: string): Arg => ({ $bytes: hex });
/** A Python tuple. */
export const tuple = (...items: Arg[]): Arg => ({ $tuple: items });
/** A Python float. */
export const float = (text: string): Arg => ({ $float: text });
/** A Python int of any size. */
export const bigint = (value: bigint): Arg => ({ $int: String(value) });

// The CPython twin. It reads every call first, then prints one JSON array, so
// neither side's pipe can fill while the other waits. A name lookup runs only
// when glibc answers it without DNS: the host is numeric (glibc parses it
// before any lookup) or a name /etc/hosts lists for IPv4; anything else is
// reported as `skip` and not called at all, so no test sends a DNS query.
const RUNNER = String.raw`
import json, socket, sys
from socket import *

HOSTS = set()
for line in open("/etc/hosts"):
    fields = line.split("#")[0].split()
    if len(fields) >= 2 and ":" not in fields[0]:
        HOSTS.update(name.lower() for name in fields[1:])

def dec(v):
    if isinstance(v, list): return [dec(x) for x in v]
    if isinstance(v, dict):
        if "$bytes" in v: return bytes.fromhex(v["$bytes"])
        if "$tuple" in v: return tuple(dec(x) for x in v["$tuple"])
        if "$float" in v: return float(v["$float"])
        if "$int" in v: return int(v["$int"])
    return v

def enc(v):
    if isinstance(v, (bytes, bytearray)): return {"$bytes": v.hex()}
    if isinstance(v, (tuple, list)): return [enc(x) for x in v]
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else v

def numeric(h):
    try:
        getaddrinfo(h, None, 0, 0, 0, AI_NUMERICHOST)
        return True
    except Exception:
        return False

def safe(h, family=AF_INET):
    # glibc answers without DNS: no string (refused first), a numeric host,
    # "" and "<broadcast>" (Python's own), or a name /etc/hosts has for IPv4.
    # A NUL ends the text C sees (getaddrinfo passes it on), so the part
    # before it is what must be safe.
    if not isinstance(h, str): return True
    h = h.split("\0")[0]
    if h in ("", "<broadcast>") or numeric(h): return True
    return family in (AF_INET, AF_UNSPEC) and h.lower() in HOSTS

class Skip(Exception): pass

def need(h, family=AF_INET):
    if not safe(h, family): raise Skip()

def host_of(addr):
    return addr[0] if isinstance(addr, tuple) and addr else None

def with_socket(family, type, act):
    s = socket(family, type)
    try:
        return act(s)
    finally:
        s.close()

def bind_sock(family, type, addr):
    need(host_of(addr), family)
    def act(s):
        s.bind(addr)
        name = s.getsockname()
        return [name[0], name[1] if addr[1] else 0, *name[2:]]
    return with_socket(family, type, act)

def connect_sock(family, type, addr):
    need(host_of(addr), family)
    def act(s):
        s.connect(addr)
        return list(s.getpeername())
    return with_socket(family, type, act)

def sendto_sock(family, addr):
    need(host_of(addr), family)
    return with_socket(family, SOCK_DGRAM, lambda s: s.sendto(b"x", addr))

def getaddrinfo_(host, port, family=0, type=0, proto=0, flags=0):
    if not (isinstance(flags, int) and flags & 4):  # AI_NUMERICHOST looks nothing up
        need(host, family)
    return [list(r) for r in getaddrinfo(host, port, family, type, proto, flags)]

def gethostbyname_(host):
    need(host)
    return gethostbyname(host)

def gethostbyname_ex_(host):
    # After its getaddrinfo, gethostbyname_ex looks the name up again with
    # gethostbyname_r, which reads only digits and dots as an address: a
    # hex form ("0x7f.1") would be asked of DNS.
    need(host)
    if isinstance(host, str) and "\0" not in host and numeric(host) and ":" not in host \
            and not all(c.isdigit() or c == "." for c in host):
        raise Skip()
    return gethostbyname_ex(host)

def only_127(h):
    # A reverse lookup of 127.0.0.1 is answered by /etc/hosts; of any other
    # address (every IPv6 one: this file has no ::1 line) it asks DNS.
    need(h)
    if ":" in h or h == "<broadcast>" or gethostbyname(h) != "127.0.0.1": raise Skip()

def gethostbyaddr_(host):
    if isinstance(host, str) and "\0" not in host and host != "": only_127(host)
    return gethostbyaddr(host)

def getnameinfo_(sockaddr, flags):
    if isinstance(flags, int) and not flags & NI_NUMERICHOST and isinstance(sockaddr, tuple) \
            and len(sockaddr) >= 2 and isinstance(sockaddr[0], str) and "\0" not in sockaddr[0] \
            and numeric(sockaddr[0]):
        only_127(sockaddr[0])
    return getnameinfo(sockaddr, flags)

def getfqdn_(name=""):
    h = name.strip() if isinstance(name, str) else None
    if h is not None and "\0" not in h and h not in ("", "0.0.0.0", "::"): only_127(h)
    return getfqdn(name)

def repr_sock(family, type, proto, addr, closed):
    # A Unix path is "DIR/name", DIR a fresh directory, written back as DIR.
    import tempfile
    d = tempfile.mkdtemp()
    s = socket(family, type, proto)
    try:
        if isinstance(addr, str): addr = addr.replace("DIR", d)
        if addr is not None: s.bind(addr)
        if closed: s.close()
        return general(repr(s)).replace(d, "DIR")
    finally:
        s.close()
        import shutil
        shutil.rmtree(d)

def general(text):
    import re
    return re.sub(r"(', )\d+", r"\1PORT", re.sub(r"fd=\d+", "fd=N", text))

out = []
for line in sys.stdin.read().splitlines():
    q = json.loads(line)
    f = globals().get(q["call"] + "_") or globals()[q["call"]]
    try:
        out.append({"ok": enc(f(*dec(q["args"])))})
    except Skip:
        out.append({"skip": "CPython would ask DNS"})
    except Exception as e:
        out.append({"err": type(e).__name__, "msg": str(e),
                    "errno": e.errno if isinstance(e, OSError) else None,
                    "os": isinstance(e, OSError), "value": isinstance(e, ValueError)})
print(json.dumps(out))
`;

/** Whether this process may run a command in a network namespace of its own. */
export const CAN_UNSHARE_NET: boolean = (() => {
  try {
    return new Deno.Command("unshare", {
      args: ["-n", "sh", "-c", "ip link set lo up"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
})();

/** Runs every case in one python3 process; resolves to their outcomes, in order. */
export async function cpython(cases: Case[], isolated = false): Promise<Outcome[]> {
  // Lookups run in a network namespace of their own where one can be made
  // (as root): only its loopback is up, so even a lookup the guards above
  // missed reaches no name server.
  const [command, ...prefix] = isolated && CAN_UNSHARE_NET
    ? ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec python3 -c "$0"']
    : ["python3", "-c"];
  const child = new Deno.Command(command, {
    args: [...prefix, RUNNER],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill(), 60_000);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(cases.map((c) => JSON.stringify(c)).join("\n")));
    await writer.close();
    const { success, stdout, stderr } = await child.output();
    assert.ok(success, `python3 failed: ${new TextDecoder().decode(stderr)}`);
    const outcomes = JSON.parse(new TextDecoder().decode(stdout)) as Outcome[];
    assert.equal(outcomes.length, cases.length);
    return outcomes;
  } finally {
    clearTimeout(guard);
  }
}

/** The JavaScript value of an argument. */
export function toJs(arg: Arg): unknown {
  if (Array.isArray(arg)) return arg.map(toJs);
  if (arg === null || typeof arg !== "object") return arg;
  if ("$bytes" in arg) {
    return new Uint8Array(arg.$bytes.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
  }
  if ("$tuple" in arg) return arg.$tuple.map(toJs);
  if ("$float" in arg) {
    return Number(arg.$float.replace(/^(-?)inf$/, "$1Infinity").replace(/^nan$/, "NaN"));
  }
  return Number(arg.$int);
}

function fromJs(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    return { $bytes: Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("") };
  }
  return Array.isArray(value) ? value.map(fromJs) : value;
}

/** A pysock function, called with a case's JavaScript arguments. */
export type Impl = (...args: unknown[]) => unknown;

/**
 * Runs each case through `impls[case.call]`, one at a time, except those
 * CPython skipped (which would need DNS).
 */
export async function pysock(
  cases: Case[],
  impls: Record<string, Impl>,
  theirs: Outcome[],
): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (let i = 0; i < cases.length; i++) {
    if ("skip" in theirs[i]) {
      out.push(theirs[i]);
      continue;
    }
    const impl = impls[cases[i].call];
    assert.ok(impl, `no pysock function for ${cases[i].call}`);
    try {
      out.push({ ok: fromJs(await impl(...cases[i].args.map(toJs))) });
    } catch (e) {
      const err = e as Error & { errno?: number | null };
      out.push({ err: err.constructor.name, errno: err.errno ?? null, msg: err.message });
    }
  }
  return out;
}

/** A difference README or API.md names as deliberate: not counted as a mismatch. */
export interface Deliberate {
  why: string;
  applies(c: Case, theirs: Outcome, ours: Outcome): boolean;
}

/** A call as Python would write it, for messages. */
export function show(c: Case): string {
  const arg = (a: Arg): string => {
    if (Array.isArray(a)) return `[${a.map(arg).join(", ")}]`;
    if (a === null) return "None";
    if (typeof a === "boolean") return a ? "True" : "False";
    if (typeof a !== "object") return JSON.stringify(a);
    if ("$bytes" in a) return `bytes.fromhex(${JSON.stringify(a.$bytes)})`;
    if ("$tuple" in a) {
      return `(${a.$tuple.map(arg).join(", ")}${a.$tuple.length === 1 ? "," : ""})`;
    }
    if ("$float" in a) return `float(${JSON.stringify(a.$float)})`;
    return a.$int;
  };
  return `${c.call}(${c.args.map(arg).join(", ")})`;
}

function describeOutcome(o: Outcome): string {
  if ("ok" in o) return `returned ${JSON.stringify(o.ok)}`;
  if ("skip" in o) return "skipped";
  return `raised ${o.err}(errno ${o.errno}) ${JSON.stringify(o.msg)}`;
}

/** Why `ours` differs from `theirs` under API.md's mapping of errors, or null when it does not. */
export function difference(theirs: Outcome, ours: Outcome): string | null {
  if ("skip" in theirs) return null;
  if ("ok" in theirs) {
    if ("ok" in ours) {
      try {
        assert.deepEqual(ours.ok, theirs.ok);
        return null;
      } catch {
        return "different value";
      }
    }
    return "pysock raised";
  }
  if (!("err" in ours)) return "pysock did not raise";
  if (theirs.os) {
    // OSError and its subclasses: the same class, errno and text.
    if (ours.err !== theirs.err) return "different error class";
    if (ours.errno !== theirs.errno) return "different errno";
    return ours.msg === theirs.msg ? null : "different message";
  }
  // Argument errors: Python's ValueError (and OverflowError) is a RangeError,
  // its TypeError a TypeError; their texts are pysock's own (std style).
  const mapped = theirs.value || theirs.err === "OverflowError"
    ? "RangeError"
    : theirs.err === "TypeError" || theirs.err === "AttributeError"
    ? "TypeError"
    : theirs.err;
  return ours.err === mapped ? null : "different error class";
}

function kind(o: Outcome): string {
  if ("ok" in o) return "a value";
  if ("skip" in o) return "nothing";
  return o.err;
}

/**
 * Compares both twins on every case; fails listing every mismatch not
 * covered by a deliberate difference, grouped by kind (the call, what
 * differs, both outcomes' classes), each naming its inputs and outcomes.
 * Returns how often each deliberate difference applied.
 */
export function assertSame(
  cases: Case[],
  theirs: Outcome[],
  ours: Outcome[],
  deliberate: Deliberate[] = [],
): Map<string, number> {
  const used = new Map<string, number>();
  const groups = new Map<string, string[]>();
  let count = 0;
  for (let i = 0; i < cases.length; i++) {
    const why = difference(theirs[i], ours[i]);
    if (why === null) continue;
    const excuse = deliberate.find((d) => d.applies(cases[i], theirs[i], ours[i]));
    if (excuse) {
      used.set(excuse.why, (used.get(excuse.why) ?? 0) + 1);
      continue;
    }
    count++;
    const key = `${cases[i].call}: ${why} (CPython ${kind(theirs[i])}, pysock ${kind(ours[i])})`;
    const line = `  ${show(cases[i])}: CPython ${describeOutcome(theirs[i])}; pysock ${
      describeOutcome(ours[i])
    }`;
    groups.set(key, [...(groups.get(key) ?? []), line]);
  }
  const report = [...groups].map(([key, lines]) =>
    `${key}: ${lines.length}\n${lines.slice(0, 8).join("\n")}${
      lines.length > 8 ? `\n  ... and ${lines.length - 8} more` : ""
    }`
  );
  assert.ok(
    count === 0,
    `${count} of ${cases.length} calls differ from CPython:\n${report.join("\n")}`,
  );
  return used;
}
