// The datagram socket against CPython 3.11, continued from
// udp_differential_test.ts (which says how the twins work): datagram sizes
// and autobind, socket options, names and repr, and what Deno's Unix
// datagram socket cannot give. Nothing is sent off loopback: the multicast
// membership is joined on the loopback interface and never sent to.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  type DatagramSocket,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IPPROTO_IP,
  multicastRequest,
  SO_BROADCAST,
  SO_ERROR,
  SO_REUSEADDR,
  SO_TYPE,
  SOCK_DGRAM,
  socket,
  SOL_SOCKET,
} from "../mod.ts";
import { HAS_IPV6 } from "./_helpers.ts";
import { failure, FAMILIES, Sockets, twin } from "./_datagram_twin.ts";

// ---- sizes ----

for (const { name, family } of FAMILIES) {
  const sizes = family === AF_INET
    ? [0, 65507, 65508, 65527]
    : family === AF_INET6
    ? [65507, 65508, 65527, 65528]
    : [65536, 212960, 212961, 300000];
  Deno.test(`${name}: sendto of ${sizes.join(", ")} bytes from an unbound socket: sent whole or EMSGSIZE as CPython, and the first sendto binds a real port`, async () => {
    const py = await twin(
      family,
      `
r, s = sock(), sock(False)
out = []
for n in json.loads(sys.argv[2]):
    e = err(lambda: s.sendto(bytes(n), r.getsockname()))
    out.append(e or len(r.recv(400000)))
name = s.getsockname()
print(json.dumps([out, name if fam == socket.AF_UNIX else name[1] > 0]))
`,
      JSON.stringify(sizes),
    );
    await using s = new Sockets(family);
    const [r, sender] = [s.open(), s.open(false)];
    const out: unknown[] = [];
    for (const n of sizes) {
      out.push(
        await failure(() => sender.sendto(new Uint8Array(n), r.getsockname())) ??
          (await r.recv(400000)).length,
      );
    }
    const local = sender.getsockname();
    // The port is the kernel's, as in CPython; the host is not: pysock binds a
    // loopback sender to loopback (so --allow-net=127.0.0.1 is enough, README),
    // where the kernel binds the wildcard address.
    assert.deepEqual([out, family === AF_UNIX ? local : (local as [string, number])[1] > 0], py);
  });
}

if (HAS_IPV6) {
  Deno.test("AF_INET6: sendto an IPv4-mapped address is limited to 65507 bytes, as CPython", async () => {
    const py = await twin(
      AF_INET,
      `
r = sock()
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
out = [err(lambda: s.sendto(bytes(n), ("::ffff:127.0.0.1", r.getsockname()[1]))) for n in (65507, 65508)]
out.append(len(r.recv(70000)))
print(json.dumps(out))
`,
    );
    await using s = new Sockets(AF_INET);
    const r = s.open();
    using sender = socket(AF_INET6, SOCK_DGRAM);
    const to = ["::ffff:127.0.0.1", r.getsockname()[1] as number] as [string, number];
    const out: unknown[] = [];
    for (const n of [65507, 65508]) {
      out.push(await failure(() => sender.sendto(new Uint8Array(n), to)));
    }
    out.push((await r.recv(70000)).length);
    assert.deepEqual(out, py);
  });
}

// ---- options ----

// [level, optname, value]: a setsockopt; [level, optname]: a getsockopt; "bind".
// Values the twin packs with struct: {pack: [group, iface]} or {bytes: hex}.
type OptionStep =
  | [number, number]
  | [number, number, number | boolean | { mreq: [string, string] } | { hex: string }]
  | "bind";
const GROUP = "239.255.10.1";
const OPTION_STEPS: OptionStep[] = [
  [SOL_SOCKET, SO_REUSEADDR],
  [SOL_SOCKET, SO_REUSEADDR, 5],
  [SOL_SOCKET, SO_REUSEADDR],
  [SOL_SOCKET, SO_REUSEADDR, true],
  [SOL_SOCKET, SO_TYPE],
  [SOL_SOCKET, SO_ERROR],
  [IPPROTO_IP, IP_MULTICAST_TTL],
  [IPPROTO_IP, IP_MULTICAST_LOOP],
  [IPPROTO_IP, IP_MULTICAST_TTL, 256],
  [IPPROTO_IP, IP_MULTICAST_TTL, -2],
  [IPPROTO_IP, IP_MULTICAST_TTL, -1],
  [IPPROTO_IP, IP_MULTICAST_TTL],
  [IPPROTO_IP, IP_MULTICAST_TTL, 1],
  [IPPROTO_IP, IP_MULTICAST_TTL, { hex: "01" }],
  [IPPROTO_IP, IP_MULTICAST_LOOP, 0],
  [IPPROTO_IP, IP_MULTICAST_LOOP],
  [IPPROTO_IP, IP_MULTICAST_LOOP, 7],
  [IPPROTO_IP, IP_MULTICAST_LOOP],
  [SOL_SOCKET, 999, 1],
  [SOL_SOCKET, 999],
  [IPPROTO_IP, 999, 1],
  "bind",
  // Joined on the loopback interface and never sent to: nothing leaves lo.
  [IPPROTO_IP, IP_ADD_MEMBERSHIP, { mreq: [GROUP, "127.0.0.1"] }],
  [IPPROTO_IP, IP_ADD_MEMBERSHIP, { mreq: [GROUP, "127.0.0.1"] }],
  [SOL_SOCKET, SO_ERROR],
  [IPPROTO_IP, IP_MULTICAST_TTL],
  [IPPROTO_IP, IP_MULTICAST_LOOP],
  [IPPROTO_IP, IP_MULTICAST_TTL, 0],
  [IPPROTO_IP, IP_MULTICAST_TTL],
  [IPPROTO_IP, IP_MULTICAST_LOOP, 1],
  [IPPROTO_IP, IP_MULTICAST_LOOP],
  [IPPROTO_IP, IP_DROP_MEMBERSHIP, { mreq: [GROUP, "127.0.0.1"] }],
  [SOL_SOCKET, SO_ERROR],
  [IPPROTO_IP, IP_DROP_MEMBERSHIP, { mreq: [GROUP, "127.0.0.1"] }],
  [IPPROTO_IP, IP_ADD_MEMBERSHIP, { mreq: ["10.1.2.3", "127.0.0.1"] }],
  [IPPROTO_IP, IP_ADD_MEMBERSHIP, { hex: "ef0102" }],
  [SOL_SOCKET, SO_ERROR],
  [SOL_SOCKET, SO_REUSEADDR],
];

Deno.test("AF_INET: setsockopt/getsockopt of SO_REUSEADDR, SO_TYPE, SO_ERROR, the multicast TTL and loop, and a membership on loopback give CPython's values and errnos", async () => {
  const py = await twin(
    AF_INET,
    `
s = sock(False)
def value(v):
    if isinstance(v, dict) and "mreq" in v:
        return socket.inet_aton(v["mreq"][0]) + socket.inet_aton(v["mreq"][1])
    if isinstance(v, dict):
        return bytes.fromhex(v["hex"])
    return v
out = []
for st in json.loads(sys.argv[2]):
    if st == "bind":
        s.bind(("127.0.0.1", 0))
    elif len(st) == 2:
        out.append(err(lambda: s.getsockopt(st[0], st[1])) or s.getsockopt(st[0], st[1]))
    else:
        out.append(err(lambda: s.setsockopt(st[0], st[1], value(st[2]))))
print(json.dumps(out))
`,
    JSON.stringify(OPTION_STEPS),
  ) as unknown[];
  using s = socket(AF_INET, SOCK_DGRAM);
  const value = (v: unknown) =>
    typeof v !== "object"
      ? v as number | boolean
      : "mreq" in (v as object)
      ? multicastRequest(...(v as { mreq: [string, string] }).mreq)
      : Uint8Array.from(
        (v as { hex: string }).hex.match(/../g)!,
        (b) => parseInt(b, 16),
      );
  const ours: unknown[] = [];
  for (const st of OPTION_STEPS) {
    if (st === "bind") {
      s.bind(["127.0.0.1", 0]);
    } else if (st.length === 2) {
      ours.push(await failure(() => s.getsockopt(st[0], st[1])) ?? s.getsockopt(st[0], st[1]));
    } else {
      ours.push(await failure(() => s.setsockopt(st[0], st[1], value(st[2]))));
    }
  }
  assert.deepEqual(ours, py);
});

Deno.test("SO_BROADCAST reads 1 where CPython reads 0: Deno turns it on for every UDP socket (a documented difference)", async () => {
  const py = await twin(
    AF_INET,
    `print(json.dumps(sock(False).getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST)))`,
  );
  assert.equal(py, 0);
  using s = socket(AF_INET, SOCK_DGRAM);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_BROADCAST), 1);
});

// ---- names and repr ----

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: getsockname, getpeername and repr of unbound, bound, connected and closed sockets are CPython's`, async () => {
    // Ports, paths and fds differ run to run: both sides print them as P/Q, D and N.
    const py = await twin(
      family,
      `
import re
def norm(value, *socks):
    text = re.sub(r"fd=[0-9]+", "fd=N", json.dumps(value) if not isinstance(value, str) else value)
    text = text.replace(tmp, "D")
    for i, s in enumerate(socks):
        name = s.getsockname()
        if fam != socket.AF_UNIX and name[1]:
            text = text.replace(str(name[1]), "PQ"[i])
    return text
a, b = sock(False), sock()
out = [norm(repr(a)), norm(a.getsockname()), norm(repr(b), b), err(lambda: b.getpeername())]
a.connect(b.getsockname())
out += [norm(repr(a), a, b), norm(a.getpeername(), a, b), norm(a.getsockname(), a, b)]
a.close()
out.append(repr(a))
print(json.dumps(out))
`,
    );
    await using s = new Sockets(family);
    const [a, b] = [s.open(false), s.open()];
    const norm = (value: unknown, ...socks: DatagramSocket[]) => {
      // Python's json.dumps separates with ", ".
      let out = typeof value === "string" ? value : JSON.stringify(value).replaceAll(",", ", ");
      out = out.replace(/fd=\d+/, "fd=N");
      if (s.dir !== null) out = out.replaceAll(s.dir, "D");
      socks.forEach((sock, i) => {
        const local = sock.getsockname();
        if (typeof local !== "string" && local[1]) out = out.replaceAll(String(local[1]), "PQ"[i]);
      });
      return out;
    };
    const out: unknown[] = [
      norm(String(a)),
      norm(a.getsockname()),
      norm(String(b), b),
      await failure(() => b.getpeername()),
    ];
    await a.connect(b.getsockname());
    out.push(norm(String(a), a, b), norm(a.getpeername(), a, b), norm(a.getsockname(), a, b));
    a.close();
    out.push(String(a));
    assert.deepEqual(out, py);
  });
}

// ---- AF_UNIX: what Deno's unconnected Unix datagram socket cannot give ----

Deno.test("AF_UNIX: sendto, and a stream connect, to a path nobody bound raise FileNotFoundError (ENOENT), as CPython", async () => {
  const py = await twin(
    AF_UNIX,
    `a = sock()
st = socket.socket(socket.AF_UNIX)
print(json.dumps([err(lambda: a.sendto(b"x", tmp + "/none")), err(lambda: st.connect(tmp + "/none"))]))
st.close()`,
  );
  await using s = new Sockets(AF_UNIX);
  const a = s.open();
  using stream = socket(AF_UNIX);
  const out = [
    await failure(() => a.sendto("x", `${s.dir}/none`)),
    await failure(() => stream.connect(`${s.dir}/none`)),
  ];
  assert.deepEqual(out, py);
});

Deno.test({
  name: "AF_UNIX: a datagram connect to a path nobody bound raises FileNotFoundError, as CPython",
  // BUG: pysock's connect() only records the path (Deno cannot connect a
  // Unix datagram socket, denoland/deno#14214), so it succeeds where Linux
  // fails with ENOENT; the first send to it fails instead.
  ignore: true,
  async fn() {
    const py = await twin(
      AF_UNIX,
      `a = sock()
print(json.dumps(err(lambda: a.connect(tmp + "/none"))))`,
    );
    await using s = new Sockets(AF_UNIX);
    assert.deepEqual(await failure(() => s.open().connect(`${s.dir}/none`)), py);
  },
});

Deno.test({
  name: "AF_UNIX: a sendto to a socket connected to someone else fails with EPERM, as on Linux",
  // BUG: Linux refuses the datagram at the sender (unix_may_send) with
  // PermissionError EPERM; pysock's receiver is not connected in the kernel
  // (Deno cannot connect it), so the sender's sendto succeeds and the
  // receiver drops the datagram.
  ignore: true,
  async fn() {
    const py = await twin(
      AF_UNIX,
      `a, b, c = sock(), sock(), sock()
a.connect(b.getsockname())
print(json.dumps(err(lambda: c.sendto(b"x", a.getsockname()))))`,
    );
    await using s = new Sockets(AF_UNIX);
    const [a, b, c] = [s.open(), s.open(), s.open()];
    await a.connect(b.getsockname());
    assert.deepEqual(await failure(() => c.sendto("x", a.getsockname())), py);
  },
});
