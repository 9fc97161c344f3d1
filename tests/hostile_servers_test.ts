// Hostile clients, round 3, against the servers pysock ships (examples/ and the
// CLI echo-server), each run as a subprocess with its deno.json task's
// permissions: clients that reset in the middle of a burst, connect-and-reset
// floods, 200 idle connections, a chat client that never reads, a stop signal
// while select() waits; for the TLS servers, resets inside the handshake and
// before accept, plaintext, silent clients, endless lines and garbage after
// STARTTLS. Each server must keep serving a well-behaved client, log the
// hostile ones, print no stack trace, and stop cleanly on SIGTERM.
//
// Not repeated from examples_*_test.ts, hostile_test.ts, hostile2_test.ts:
// a single reset before accept against the plain servers, socketserver storms
// and slowloris against ThreadingTCPServer.

import assert from "node:assert/strict";
import { createConnection } from "../mod.ts";
import { recvExactly, recvLine } from "../framing.ts";
import {
  example,
  Proc,
  python,
  pythonProgram,
  resetWhileStopped,
  settled,
  text,
} from "./_helpers.ts";

// CPython clients that misbehave against argv[1]: argv[2] that each send a
// 20000-byte line without reading the echo and reset (SO_LINGER 0), then
// argv[3] that connect and reset at once. Prints "done".
const RESETTERS = `
import socket, struct, sys
port, bursts, floods = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
for _ in range(bursts):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"x" * 20000 + b"\\n")
    reset(s)
for _ in range(floods):
    reset(socket.create_connection(("127.0.0.1", port)))
print("done", flush=True)
`;

// CPython clients that connect to argv[1] and stay idle, argv[2] of them,
// until the program is killed (at most a minute).
const IDLERS = `
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
print("connected", len(socks), flush=True)
time.sleep(60)
`;

interface Server {
  name: string;
  start(): Proc;
  /** How many log lines say a connection ended (multiconn_server: was accepted). */
  ended(stdout: string): number;
  /** Checks that the server serves a well-behaved client now. */
  serves(port: number): Promise<void>;
}

const count = (out: string, re: RegExp) => out.split("\n").filter((l) => re.test(l)).length;

async function echoes(port: number, upper = false): Promise<void> {
  await using c = await createConnection(["127.0.0.1", port], { timeout: 10 });
  await c.sendall("still serving\n");
  const got = text(await settled(recvExactly(c, 14), "the echo"));
  assert.equal(got, upper ? "STILL SERVING\n" : "still serving\n");
}

/** Two chat clients: a line from one reaches the other, with the sender's address. */
async function chats(port: number): Promise<void> {
  await using a = await createConnection(["127.0.0.1", port], { timeout: 10 });
  await using b = await createConnection(["127.0.0.1", port], { timeout: 10 });
  // Both must be in the server's list before a line is relayed: a probe
  // line from b reaching a says so.
  await b.sendall("probe\n");
  const [, bPort] = b.getsockname() as [string, number];
  assert.equal(text(await settled(recvLine(a), "probe")), `[127.0.0.1:${bPort}] probe\n`);
  const [, aPort] = a.getsockname() as [string, number];
  await a.sendall("still serving\n");
  assert.equal(
    text(await settled(recvLine(b), "the relayed line")),
    `[127.0.0.1:${aPort}] still serving\n`,
  );
}

const SERVERS: Server[] = [
  {
    name: "selectors_echo_server",
    start: () => example("selectors_echo_server.ts", ["--port", "0"]),
    ended: (out) => count(out, /^closing /),
    serves: (port) => echoes(port),
  },
  {
    name: "selectors_multiconn_server",
    start: () => example("selectors_multiconn_server.ts", ["--port", "0"]),
    ended: (out) => count(out, /^(closing|dropping) connection to /),
    serves: (port) => echoes(port),
  },
  {
    name: "select_chat_server",
    start: () => example("select_chat_server.ts", ["--port", "0"]),
    ended: (out) => count(out, /^disconnected /),
    serves: chats,
  },
  {
    name: "multiconn_server",
    start: () => example("multiconn_server.ts", ["--port", "0"]),
    // It logs a lost connection on stderr: count the accepted ones.
    ended: (out) => count(out, /^New connect: /),
    serves: (port) => echoes(port, true),
  },
  {
    name: "echo16_server",
    start: () => example("echo16_server.ts", ["--port", "0"]),
    ended: () => 0,
    serves: (port) => echoes(port),
  },
  {
    name: "cli echo-server",
    start: () => cliEchoServer(),
    ended: (out) => count(out, /^(closed|dropped) /),
    serves: (port) => echoes(port),
  },
];

/**
 * `pysock echo-server` as `deno task cli` runs it. It logs on stderr, which
 * `sh` sends to stdout here, so that `Proc.waitFor` sees the log.
 */
function cliEchoServer(): Proc {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))).tasks;
  const [, ...args] = (tasks.cli as string).split(" ");
  const line = [Deno.execPath(), ...args, "echo-server"].map((a) => `'${a}'`).join(" ");
  return new Proc("cli echo-server", "sh", ["-c", `exec ${line} 2>&1`]);
}

/** The port a server announced: its first line, or the CLI's "listening on" line. */
async function portOf(proc: Proc): Promise<number> {
  if (!proc.name.startsWith("cli")) return await proc.port();
  const re = /listening on 127\.0\.0\.1:(\d+)/;
  await proc.waitFor((out) => re.test(out));
  return Number(proc.stdout.match(re)![1]);
}

/** Asserts the server stops on SIGTERM with status 0 and printed no stack trace. */
async function stopsCleanly(proc: Proc, what: string): Promise<string> {
  proc.kill("SIGTERM");
  const done = await settled(proc.finish(), `${what}: exit after SIGTERM`);
  assert.doesNotMatch(done.stderr, /Uncaught|^\s+at /m, `${what}: a stack trace`);
  assert.equal(done.code, 0, `${what}: exit status; stderr: ${done.stderr}`);
  return done.stdout + done.stderr;
}

for (const server of SERVERS) {
  Deno.test(`${server.name}: clients that reset mid-burst and a connect-and-reset flood end only themselves; a well-behaved client is served; SIGTERM stops it cleanly`, async () => {
    await using proc = server.start();
    const port = await portOf(proc);
    await settled(python(RESETTERS, String(port), "4", "30").output(), "the resetting clients");
    if (server.name !== "echo16_server") {
      // Every hostile connection was accepted and logged as ended.
      await settled(proc.waitFor((out) => server.ended(out) >= 34), "34 connections logged");
    }
    await server.serves(port);
    const out = await stopsCleanly(proc, server.name);
    assert.doesNotMatch(out, /Uncaught/);
  });
}

for (
  const server of SERVERS.filter((s) => /selectors_echo|chat|cli|multiconn_server/.test(s.name))
) {
  Deno.test(`${server.name}: 200 connections opened and left idle do not stop it serving client 201`, async () => {
    await using proc = server.start();
    const port = await portOf(proc);
    await using idle = python(IDLERS, String(port), "200");
    assert.equal(await settled(idle.firstLine(), "the idle clients"), "connected 200");
    await server.serves(port);
    await idle[Symbol.asyncDispose]();
    await stopsCleanly(proc, server.name);
  });
}

// A chat client that connects and never reads while another sends lines:
// the relayed lines fill its socket buffers, and a broadcast that waited
// on it for ever would stall every other client.
Deno.test("select_chat_server: a client that never reads is dropped after the send timeout; the other clients get every line", async () => {
  await using proc = example("select_chat_server.ts", ["--port", "0"]);
  const port = await proc.port();
  await using deaf = await createConnection(["127.0.0.1", port], { timeout: 10 });
  await using talker = await createConnection(["127.0.0.1", port], { timeout: 30 });
  await using listener = await createConnection(["127.0.0.1", port], { timeout: 30 });
  await talker.sendall("probe\n");
  await settled(recvLine(listener), "probe");
  const [, talkerPort] = talker.getsockname() as [string, number];
  // 256 lines of 60,000 bytes: about 15 MiB relayed to each client, more
  // than loopback buffers hold for the one that never reads.
  const line = "y".repeat(60_000) + "\n";
  const sending = (async () => {
    for (let i = 0; i < 256; i++) await talker.sendall(line);
  })();
  sending.catch(() => {}); // awaited below; a failed read first must not leave it dangling
  const expected = `[127.0.0.1:${talkerPort}] ${line}`;
  for (let i = 0; i < 256; i++) {
    const got = text(await settled(recvLine(listener, { limit: 1 << 20 }), `line ${i}`, 30_000));
    assert.equal(got.length, expected.length, `line ${i}`);
    assert.equal(got, expected, `line ${i}`);
  }
  await settled(sending, "the talker's sendall");
  await proc.waitFor((out) => /^disconnected \('127\.0\.0\.1', \d+\)$/m.test(out));
  assert.match(
    proc.stdout,
    new RegExp(`^disconnected \\('127\\.0\\.0\\.1', ${deaf.getsockname()[1]}\\)$`, "m"),
  );
  await stopsCleanly(proc, "select_chat_server");
});

Deno.test("select_chat_server: SIGTERM while select() waits with clients connected stops it with status 0 (the close wakes select)", async () => {
  await using proc = example("select_chat_server.ts", ["--port", "0"]);
  const port = await proc.port();
  await using a = await createConnection(["127.0.0.1", port], { timeout: 10 });
  await proc.waitFor((out) => out.includes("connected"));
  const out = await stopsCleanly(proc, "select_chat_server");
  assert.match(out, /^connected \('127\.0\.0\.1', \d+\)$/m);
  // The server closed a's connection on its way out.
  assert.equal((await settled(a.recv(10), "a's end of stream")).length, 0);
});

// ---------------------------------------------------------------------------
// The TLS echo server (seed 003 over TLS): clients that reset inside their
// ClientHello, connect-and-reset floods, plaintext, and a client that
// connects and stays silent, then a well-behaved CPython ssl client.

const TLS_HOSTILE = `
import socket, ssl, struct, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
A = ("127.0.0.1", port)
def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
silent = socket.create_connection(A)
for _ in range(3):
    s = socket.create_connection(A)
    s.sendall(bytes([0x16, 3, 1, 0, 0xc8, 1, 0]))
    time.sleep(0.05)
    reset(s)
for _ in range(10):
    reset(socket.create_connection(A))
p = socket.create_connection(A)
p.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection(A, timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as c:
        c.sendall(b"still serving over TLS\\n")
        got = b""
        while len(got) < 23:
            got += c.recv(100)
print(got.decode(), end="", flush=True)
silent.close()
p.close()
`;

/** The example certificates, made by the tls-example-certs task in `dir`. */
async function exampleCerts(dir: string): Promise<void> {
  await using maker = taskIn(dir, "tls-example-certs", []);
  assert.equal((await maker.finish()).code, 0);
}

/** A deno.json task run with PYSOCK_TLS_EXAMPLE_DIR=`dir`, its stderr sent to stdout. */
function taskIn(dir: string, name: string, args: string[]): Proc {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)))
    .tasks as Record<string, string>;
  const line = [Deno.execPath(), ...tasks[name].split(" ").slice(1), ...args]
    .map((a) => `'${a}'`).join(" ");
  return new Proc(name, "sh", ["-c", `PYSOCK_TLS_EXAMPLE_DIR='${dir}' exec ${line} 2>&1`]);
}

const TLS_SERVERS = [
  {
    name: "echo16_tls_server",
    start: (dir: string) => taskIn(dir, "seed003-echo16-tls-server", ["--port", "0"]),
    // The hostile ones are logged as failed handshakes or lost connections, one line each.
    logs: [
      /^handshake failed: \[Errno 104\] Connection reset by peer$/m,
      /^handshake failed: \[SSL: WRONG_VERSION_NUMBER\] wrong version number$/m,
      /^connection lost: \[Errno 104\] Connection reset by peer$/m,
    ],
  },
  {
    name: "cli echo-server --tls",
    start: (dir: string) =>
      taskIn(dir, "cli", [
        "echo-server",
        "--tls",
        "--cert",
        `${dir}/cert.pem`,
        "--key",
        `${dir}/key.pem`,
      ]),
    logs: [
      /^dropped 127\.0\.0\.1:\d+: .*reset by peer/m,
      /^dropped 127\.0\.0\.1:\d+: .*WRONG_VERSION_NUMBER/m,
      /^dropped a client: .*Connection reset by peer/m,
    ],
  },
];

for (const server of TLS_SERVERS) {
  Deno.test(`${server.name}: clients that reset in their handshake or before accept, plaintext and a silent client end only themselves; a CPython ssl client is echoed; SIGTERM stops it cleanly`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "pysock_h5_tls_" });
    try {
      await exampleCerts(dir);
      await using proc = server.start(dir);
      const port = await portOf(proc);
      // One client surely reset before the server could accept it.
      await resetWhileStopped(proc, port);
      const out = await settled(
        python(TLS_HOSTILE, String(port), `${dir}/ca.pem`).output(),
        "the CPython clients",
        30_000,
      );
      assert.equal(out, "still serving over TLS\n");
      const log = await stopsCleanly(proc, server.name);
      for (const re of server.logs) assert.match(log, re);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

// The STARTTLS server: a client that stays silent after the greeting, one
// that sends an endless line, one that sends garbage after STARTTLS, then a
// CPython client doing EHLO, STARTTLS, EHLO, QUIT; the silent one is still
// connected when SIGTERM comes (the program sleeps once it has printed).
const STARTTLS_CLIENTS = `
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
A = ("127.0.0.1", port)
def line(f):
    return f.readline().decode().rstrip()
silent = socket.create_connection(A)
silent.recv(100)
flood = socket.create_connection(A)
flood.sendall(b"x" * 2000)
garbage = socket.create_connection(A)
g = garbage.makefile("rb")
line(g)
garbage.sendall(b"STARTTLS\\r\\n")
line(g)
garbage.sendall(b"\\x16\\x03\\x01\\x00\\x05hello")
c = socket.create_connection(A, timeout=10)
f = c.makefile("rb")
out = [line(f)]
c.sendall(b"EHLO me\\r\\n")
out += [line(f), line(f)]
c.sendall(b"STARTTLS\\r\\n")
out.append(line(f))
s = ssl.create_default_context(cafile=ca).wrap_socket(c, server_hostname="localhost")
sf = s.makefile("rb")
s.sendall(b"EHLO me\\r\\n")
out.append(line(sf))
s.sendall(b"QUIT\\r\\n")
out.append(line(sf))
print("\\n".join(out), flush=True)
time.sleep(60)
`;

Deno.test("starttls_server: a silent client, an endless line and garbage after STARTTLS hold up no one: a CPython client upgrades and is served; SIGTERM with the silent client connected stops it cleanly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pysock_h5_tls_" });
  try {
    await exampleCerts(dir);
    await using proc = taskIn(dir, "tls-starttls-server", ["--port", "0"]);
    const port = await proc.port();
    await using clients = new Proc("clients", "python3", [
      "-u",
      "-c",
      STARTTLS_CLIENTS,
      String(port),
      `${dir}/ca.pem`,
    ]);
    await settled(
      clients.waitFor((out) => out.split("\n").length > 6),
      "the CPython client's session",
      30_000,
    );
    assert.deepEqual(clients.stdout.trimEnd().split("\n"), [
      "220 pysock ESMTP ready",
      "250-pysock at your service",
      "250 STARTTLS",
      "220 Ready to start TLS",
      "250 pysock at your service, securely",
      "221 Bye",
    ]);
    await settled(
      proc.waitFor((out) => count(out, /^session ended: /) >= 2),
      "the two hostile sessions' ends",
    );
    const log = await stopsCleanly(proc, "starttls_server");
    // The endless line (over recvLine's limit of 1000) and the garbage ended
    // their own sessions, one line each; the stop closed the silent one.
    assert.deepEqual(log.split("\n").slice(1).filter((l) => l !== "").sort(), [
      "session ended: Separator is not found, and chunk exceed the limit",
      "session ended: [SSL: WRONG_VERSION_NUMBER] wrong version number",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// The one-client seed servers (multiround_server, phone_server, oneshot_server,
// accumulate_server) are line-for-line ports of Python programs that serve one
// client and exit. A client that resets ends the Python seed with a traceback
// naming ConnectionResetError, exit 1; the port ends the same way (Deno's
// "Uncaught" report), rather than bend the seed's shape with a try/catch.
Deno.test("multiround_server: a client that resets mid-session ends the seed with ConnectionResetError and exit 1, as the CPython seed", async () => {
  for (
    const proc of [
      example("multiround_server.ts", ["--port", "0"]),
      pythonProgram("seed_002_multiround_server.py", ["0"]),
    ]
  ) {
    await using _proc = proc;
    const port = await proc.port();
    await settled(python(RESETTERS, String(port), "1", "0").output(), "the resetting client");
    const done = await settled(proc.finish(), "the seed's exit");
    assert.equal(done.code, 1, done.stderr);
    assert.match(done.stderr, /ConnectionResetError: \[Errno 104\] Connection reset by peer/);
  }
});

// A client of selectors_echo_server that sends without reading: the echoes
// fill its socket and then the server's send queue, and the docs' `send`
// ("Hope it won't block") raises BlockingIOError.
const DEAF_SENDER = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
try:
    s.sendall(b"z" * (64 << 20))
    print("sent all", flush=True)
except OSError as e:
    print(type(e).__name__, flush=True)
`;

Deno.test("selectors_echo_server: a client that sends 64 MiB and reads nothing is dropped when a send would block; the next client is served", async () => {
  await using proc = example("selectors_echo_server.ts", ["--port", "0"]);
  const port = await proc.port();
  // The server's close() first gives its send queue 10 s to drain (README: as
  // the kernel does after close()), then resets: the sender sees that.
  const outcome = await settled(
    python(DEAF_SENDER, String(port)).output(),
    "the deaf sender",
    30_000,
  );
  // The server closed it with its echoes unread: the sender's sendall fails.
  assert.match(outcome, /^(ConnectionResetError|BrokenPipeError)$/m);
  assert.match(
    proc.stdout,
    /^dropping <socket\.socket .*> \(\[Errno 11\] Resource temporarily unavailable\)$/m,
  );
  await echoes(port);
  await stopsCleanly(proc, "selectors_echo_server");
});
