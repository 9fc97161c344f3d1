// The stream socket's options against CPython 3.11, as
// udp_differential_options_test.ts does for datagrams: the same steps of
// setsockopt/getsockopt run on a fresh, a bound, a listening, a connected,
// an accepted and a closed socket of each family, in pysock and in a
// python3 twin, and the outcomes (a value, packed bytes, or
// [errorClass, errno]) compared. Where pysock differs on purpose the test
// says so and why; where only the kernel can tell (is Nagle really off?),
// tests/_kernel_view.ts reads pysock's own descriptors.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  createServer,
  errno,
  IP_TTL,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  type OSError,
  SO_ACCEPTCONN,
  SO_BROADCAST,
  SO_DOMAIN,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_PROTOCOL,
  SO_RCVBUF,
  SO_RCVTIMEO,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SO_TYPE,
  socket,
  SOL_SOCKET,
  type StreamSocket,
  TCP_NODELAY,
} from "../mod.ts";
import { FAMILIES, loopback, pythonJson } from "./_helpers.ts";
import { hex } from "./_datagram_twin.ts";
import { CAN_VIEW_KERNEL, kernelOptions, type TcpEnds } from "./_kernel_view.ts";

/** A getsockopt (`get`, `getb` with a buflen) or setsockopt (`set` an int or bool, `setb` packed bytes as hex). */
type Step =
  | ["get", number, number]
  | ["getb", number, number, number]
  | ["set", number, number, number | boolean]
  | ["setb", number, number, string];

const [S, T] = [SOL_SOCKET, IPPROTO_TCP];
const STEPS: Step[] = [
  ["get", S, SO_TYPE],
  ["get", S, SO_DOMAIN],
  ["get", S, SO_PROTOCOL],
  ["get", S, SO_ACCEPTCONN],
  ["set", S, SO_ACCEPTCONN, 1],
  ["set", S, SO_DOMAIN, 2],
  ["getb", S, SO_DOMAIN, 4],
  ["get", S, SO_ERROR],
  ["get", S, SO_REUSEADDR],
  ["get", S, SO_KEEPALIVE],
  ["get", S, SO_REUSEPORT],
  ["get", T, TCP_NODELAY],
  ["set", S, SO_KEEPALIVE, 1],
  ["get", S, SO_KEEPALIVE],
  ["set", S, SO_KEEPALIVE, 0],
  ["get", S, SO_KEEPALIVE],
  ["set", S, SO_KEEPALIVE, 7],
  ["get", S, SO_KEEPALIVE],
  ["set", S, SO_KEEPALIVE, false],
  ["set", S, SO_KEEPALIVE, -1],
  ["get", S, SO_KEEPALIVE],
  ["set", T, TCP_NODELAY, 1],
  ["get", T, TCP_NODELAY],
  ["set", T, TCP_NODELAY, 0],
  ["get", T, TCP_NODELAY],
  ["set", T, TCP_NODELAY, true],
  ["get", T, TCP_NODELAY],
  // Packed ints: Linux takes the first 4 bytes of a longer value, and refuses a shorter one.
  ["setb", S, SO_KEEPALIVE, "00000000"],
  ["get", S, SO_KEEPALIVE],
  ["setb", S, SO_KEEPALIVE, "0100000000000000"],
  ["get", S, SO_KEEPALIVE],
  ["setb", S, SO_KEEPALIVE, "00"],
  ["setb", S, SO_KEEPALIVE, "000000"],
  ["setb", S, SO_KEEPALIVE, ""],
  ["get", S, SO_KEEPALIVE],
  // Ints outside a C int: CPython's TypeError (it tries the bytes form next).
  ["set", S, SO_KEEPALIVE, 2 ** 31],
  ["set", S, SO_KEEPALIVE, -(2 ** 31) - 1],
  ["get", S, SO_KEEPALIVE],
  ["set", S, SO_KEEPALIVE, -(2 ** 31)],
  ["get", S, SO_KEEPALIVE],
  ["set", S, SO_KEEPALIVE, 2 ** 31 - 1],
  ["set", S, SO_KEEPALIVE, 0],
  // getsockopt's buflen form: the int's first buflen bytes (at most 4), as bytes.
  ["getb", S, SO_TYPE, 4],
  ["getb", S, SO_TYPE, 1],
  ["getb", S, SO_TYPE, 2],
  ["getb", S, SO_TYPE, 8],
  ["getb", S, SO_TYPE, 1024],
  ["getb", S, SO_TYPE, 0],
  ["getb", S, SO_TYPE, 1025],
  ["getb", S, SO_TYPE, -1],
  ["getb", S, SO_ERROR, 4],
  ["getb", S, SO_KEEPALIVE, 4],
  ["getb", T, TCP_NODELAY, 4],
  ["set", S, SO_TYPE, 1],
  ["set", S, SO_ERROR, 0],
  ["set", S, SO_REUSEADDR, 1],
  ["get", S, SO_REUSEADDR],
  ["get", S, 999],
  ["set", S, 999, 1],
  ["get", T, 999],
  ["set", T, 999, 1],
  ["get", IPPROTO_IP, 999],
  ["get", 17, 1],
  ["set", 17, 1, 1],
  ["get", 255, 1],
  ["set", S, SO_REUSEPORT, 1],
  ["get", S, SO_REUSEPORT],
];

const STATES = ["fresh", "bound", "listener", "client", "accepted", "closed"] as const;
type State = typeof STATES[number];

// The twin: the same six sockets, the same steps on each, in order.
const PY_STEPS = `
import shutil, tempfile
fam = int(sys.argv[1])
steps = json.loads(sys.argv[2])
tmp = tempfile.mkdtemp()
def addr(name):
    if fam == socket.AF_UNIX:
        return tmp + "/" + name
    return ("::1", 0) if fam == socket.AF_INET6 else ("127.0.0.1", 0)
fresh = socket.socket(fam)
bound = socket.socket(fam)
bound.bind(addr("b"))
listener = socket.socket(fam)
listener.bind(addr("l"))
listener.listen()
client = socket.socket(fam)
client.connect(listener.getsockname())
accepted, _ = listener.accept()
closed = socket.socket(fam)
closed.close()
def run(s, st):
    if st[0] == "get":
        return s.getsockopt(st[1], st[2])
    if st[0] == "getb":
        return s.getsockopt(st[1], st[2], st[3])
    if st[0] == "set":
        return s.setsockopt(st[1], st[2], st[3])
    return s.setsockopt(st[1], st[2], bytes.fromhex(st[3]))
def outcome(s, st):
    try:
        value = run(s, st)
        return {"hex": value.hex()} if isinstance(value, bytes) else value
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
out = {}
for name, s in [("fresh", fresh), ("bound", bound), ("listener", listener), ("client", client), ("accepted", accepted), ("closed", closed)]:
    out[name] = [outcome(s, st) for st in steps]
    s.close()
shutil.rmtree(tmp)
print(json.dumps(out))
`;

/** The six sockets of PY_STEPS in pysock; disposing closes them and removes the temp dir. */
async function streamStates(family: number): Promise<
  AsyncDisposable & { socks: [State, StreamSocket][] }
> {
  const dir = family === AF_UNIX ? await Deno.makeTempDir() : undefined;
  const at = (name: string) => family === AF_UNIX ? `${dir}/${name}` : loopback(family);
  const fresh = socket(family);
  const bound = socket(family);
  bound.bind(at("b"));
  const listener = socket(family);
  listener.bind(at("l"));
  listener.listen();
  const client = socket(family);
  const accepting = listener.accept();
  await client.connect(listener.getsockname());
  const [accepted] = await accepting;
  const closed = socket(family);
  closed.close();
  const socks: [State, StreamSocket][] = [
    ["fresh", fresh],
    ["bound", bound],
    ["listener", listener],
    ["client", client],
    ["accepted", accepted],
    ["closed", closed],
  ];
  return {
    socks,
    async [Symbol.asyncDispose]() {
      for (const [, s] of socks) s.close();
      if (dir) await Deno.remove(dir, { recursive: true });
    },
  };
}

function run(s: StreamSocket, st: Step): unknown {
  if (st[0] === "get") return s.getsockopt(st[1], st[2]);
  if (st[0] === "getb") return s.getsockopt(st[1], st[2], st[3]);
  if (st[0] === "set") return s.setsockopt(st[1], st[2], st[3]);
  return s.setsockopt(
    st[1],
    st[2],
    Uint8Array.from(st[3].match(/../g) ?? [], (b) => parseInt(b, 16)),
  );
}

function outcome(s: StreamSocket, st: Step): unknown {
  try {
    const value = run(s, st);
    return value instanceof Uint8Array ? { hex: hex(value) } : value ?? null;
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return [e.name, (e as OSError).errno ?? null];
  }
}

/**
 * Where pysock differs from CPython on purpose, the outcome it gives instead:
 * - Deno opens every TCP listener with SO_REUSEADDR (and a bound socket holds
 *   one; the kernel copies it to the sockets it accepts), so they read 1 where
 *   CPython's plain bind reads 0;
 * - SO_REUSEPORT can only be set before bind (API.md): Deno's listener is
 *   already open, so a later one could not take effect; Linux accepts it.
 */
function deliberate(family: number, state: State, st: Step, index: number, py: unknown): unknown {
  const ip = family !== AF_UNIX;
  const [kind, level, name] = st;
  if (ip && level === S && name === SO_REUSEADDR && kind === "get") {
    if (state === "bound" || state === "listener" || state === "accepted") return 1;
  }
  const late = state !== "fresh" && state !== "closed";
  if (ip && late && level === S && name === SO_REUSEPORT) {
    if (kind === "set") return ["OSError", errno.EINVAL];
    // Only the get after the refused set (the first get happens before it).
    if (index > STEPS.findIndex((s) => s[0] === "set" && s[2] === SO_REUSEPORT)) return 0;
  }
  return py;
}

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: setsockopt/getsockopt on a fresh, bound, listening, connected, accepted and closed stream socket give CPython's values and errnos`, async () => {
    const py = await pythonJson(PY_STEPS, String(family), JSON.stringify(STEPS)) as Record<
      State,
      unknown[]
    >;
    await using states = await streamStates(family);
    for (const [state, s] of states.socks) {
      const ours = STEPS.map((st) => outcome(s, st));
      const expected = STEPS.map((st, i) => deliberate(family, state, st, i, py[state][i]));
      const rows = STEPS.map((st, i) => [JSON.stringify(st), ours[i], expected[i]]);
      assert.deepEqual(
        rows.filter((r) => JSON.stringify(r[1]) !== JSON.stringify(r[2])),
        [],
        `${name} ${state}: [step, pysock, expected]`,
      );
    }
  });
}

// Options Deno gives no way to set or read: CPython has a value, pysock says
// ENOPROTOOPT and names the option, never a made-up value or a silent no-op.
const REFUSED: [string, number, number, number | string][] = [
  ["SO_SNDBUF", S, SO_SNDBUF, 65536],
  ["SO_RCVBUF", S, SO_RCVBUF, 65536],
  ["SO_LINGER", S, SO_LINGER, "0100000000000000"],
  ["SO_RCVTIMEO", S, SO_RCVTIMEO, "0".repeat(32)],
  ["SO_BROADCAST", S, SO_BROADCAST, 1],
  ["IP_TTL", IPPROTO_IP, IP_TTL, 32],
  ["IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY, 1],
];

for (const { name, family } of FAMILIES) {
  const options = REFUSED.filter(([option]) =>
    option === "IP_TTL"
      ? family === AF_INET
      : option === "IPV6_V6ONLY"
      ? family === AF_INET6
      : option !== "SO_BROADCAST" || family !== AF_UNIX
  );
  Deno.test(`${name}: ${options.map((o) => o[0]).join(", ")}, which CPython gets and sets, are ENOPROTOOPT naming the option`, async () => {
    const steps = options.flatMap(([, level, opt, value]): Step[] => [
      ["get", level, opt],
      typeof value === "number" ? ["set", level, opt, value] : ["setb", level, opt, value],
    ]);
    const py = await pythonJson(PY_STEPS, String(family), JSON.stringify(steps)) as Record<
      State,
      unknown[]
    >;
    // CPython succeeds with every one of them on a fresh socket.
    assert.ok(py.fresh.every((o) => !Array.isArray(o)), JSON.stringify(py.fresh));
    using s = socket(family);
    for (const [option, level, opt, value] of options) {
      const set = typeof value === "number" ? value : new Uint8Array(value.length / 2);
      for (const call of [() => s.getsockopt(level, opt), () => s.setsockopt(level, opt, set)]) {
        assert.throws(call, (e: OSError) => {
          assert.equal(e.errno, errno.ENOPROTOOPT);
          assert.match(
            e.message,
            new RegExp(`^\\[Errno 92\\] Protocol not available: .*${option}`),
          );
          return true;
        });
      }
    }
  });
}

// ---- what the kernel says ----

const KERNEL: [number, number][] = [[T, TCP_NODELAY], [S, SO_KEEPALIVE], [S, SO_REUSEADDR], [
  S,
  SO_REUSEPORT,
]];

/** The local and remote ports of a TCP socket, for kernelOptions. */
function ends(s: StreamSocket): TcpEnds {
  const local = s.getsockname()[1] as number;
  try {
    return [local, s.getpeername()[1] as number];
  } catch {
    return [local, 0];
  }
}

for (const family of [AF_INET, AF_INET6]) {
  if (family === AF_INET6 && !FAMILIES.some((f) => f.family === AF_INET6)) continue;
  const where = family === AF_INET ? "AF_INET" : "AF_INET6";
  Deno.test({
    name:
      `${where}: TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR and SO_REUSEPORT read by getsockopt are the kernel's, whether set before connect, after it, or never`,
    ignore: !CAN_VIEW_KERNEL,
    async fn() {
      using server = createServer(loopback(family), { family, reusePort: true });
      const early = socket(family);
      early.setsockopt(T, TCP_NODELAY, 1);
      early.setsockopt(S, SO_KEEPALIVE, 1);
      const plain = socket(family);
      const late = socket(family);
      const socks: StreamSocket[] = [server, early, plain, late];
      try {
        for (const c of [early, plain, late]) {
          const accepting = server.accept();
          await c.connect(server.getsockname());
          socks.push((await accepting)[0]);
        }
        late.setsockopt(T, TCP_NODELAY, 1);
        late.setsockopt(S, SO_KEEPALIVE, 1);
        const accepted = socks[4];
        accepted.setsockopt(T, TCP_NODELAY, 1);
        const kernel = await kernelOptions(socks.map(ends), KERNEL);
        const ours = socks.map((s) => KERNEL.map(([level, opt]) => s.getsockopt(level, opt)));
        assert.deepEqual(ours, kernel);
      } finally {
        for (const s of socks) s.close();
      }
    },
  });
}

// ---- what a listener passes on ----

const INHERITED: [number, number][] = [[T, TCP_NODELAY], [S, SO_KEEPALIVE], [S, SO_REUSEPORT]];

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: TCP_NODELAY, SO_KEEPALIVE and SO_REUSEPORT set on a listener, before bind or after listen, hold for the sockets it accepts as in CPython`, async () => {
    // Unix: TCP_NODELAY is EOPNOTSUPP and SO_REUSEPORT too, and an accepted
    // Unix socket is new, not a clone: it has SO_KEEPALIVE off.
    const py = await pythonJson(
      `
import shutil, tempfile
fam = int(sys.argv[1])
options = json.loads(sys.argv[2])
tmp = tempfile.mkdtemp()
out = []
for early in (True, False):
    l = socket.socket(fam)
    setall = lambda: [err(lambda: l.setsockopt(level, opt, 1)) for level, opt in options]
    if early:
        out.append(setall())
    l.bind(tmp + "/l%d" % early if fam == socket.AF_UNIX else ("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
    l.listen()
    if not early:
        out.append(setall())
    c = socket.socket(fam)
    c.connect(l.getsockname())
    a, _ = l.accept()
    for s in (l, a, c):
        out.append([err(lambda: s.getsockopt(level, opt)) or s.getsockopt(level, opt) for level, opt in options])
    for s in (l, a, c):
        s.close()
shutil.rmtree(tmp)
print(json.dumps(out))
`,
      String(family),
      JSON.stringify(INHERITED),
    ) as unknown[][];
    const dir = family === AF_UNIX ? await Deno.makeTempDir() : undefined;
    const opened: StreamSocket[] = [];
    const out: unknown[][] = [];
    const views: TcpEnds[] = [];
    try {
      for (const early of [true, false]) {
        const l = socket(family);
        opened.push(l);
        const setall = () => INHERITED.map(([level, opt]) => outcome(l, ["set", level, opt, 1]));
        if (early) out.push(setall());
        l.bind(family === AF_UNIX ? `${dir}/l${early}` : loopback(family));
        l.listen();
        if (!early) out.push(setall());
        const c = socket(family);
        opened.push(c);
        const accepting = l.accept();
        await c.connect(l.getsockname());
        const [a] = await accepting;
        opened.push(a);
        for (const s of [l, a, c]) {
          out.push(INHERITED.map(([level, opt]) => outcome(s, ["get", level, opt])));
          if (family !== AF_UNIX) views.push(ends(s));
        }
      }
      // SO_REUSEPORT after listen: refused (API.md), where Linux takes it.
      const expected = py.map((row, i) =>
        i === 4 && family !== AF_UNIX ? [null, null, ["OSError", errno.EINVAL]] : row
      ).map((row, i) => i >= 5 && family !== AF_UNIX ? [row[0], row[1], 0] : row);
      assert.deepEqual(out, expected);
      if (CAN_VIEW_KERNEL && family !== AF_UNIX) {
        // And the kernel agrees with what pysock reports of the accepted and
        // client sockets. (Deno has no setter for its listener: pysock keeps
        // the listener's options and applies them to what it accepts, where
        // they matter; the listener's own descriptor has them off.)
        const kernel = await kernelOptions(views, INHERITED);
        assert.deepEqual([1, 2, 4, 5].map((i) => kernel[i]), [2, 3, 6, 7].map((i) => out[i]));
      }
    } finally {
      for (const s of opened) s.close();
      if (dir) await Deno.remove(dir, { recursive: true });
    }
  });
}
