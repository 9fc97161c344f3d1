// The command line under hostile use: every option with a bad value, --help
// and -- anywhere, missing permissions, signals, peers that reset, lie or go
// silent, stdout closed early, and CPython as the peer of every command.
// Each child runs on loopback, is bounded by a deadline, killed and awaited.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { recvMsg, sendMsg } from "../framing.ts";
import { AF_INET, createConnection, createServer, SOCK_DGRAM, socket } from "../mod.ts";
import { assertFailure, Child, CLI, Cli, NET, type Result, run, sha256Hex } from "./_cli.ts";
import { bytes, freePort, python, silentListener, text } from "./_helpers.ts";

function cli(args: string[], perms: string[] = [NET], stdin = false): Cli {
  return new Cli(args, { perms, stdin });
}

/** Runs `jobs` at most two at a time (2 cores). */
async function inBatches<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < jobs.length; i += 2) {
    results.push(...await Promise.all(jobs.slice(i, i + 2).map((job) => job())));
  }
  return results;
}

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "pysock_cli_adv_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function files(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

function access(dir: string): string[] {
  return [NET, `--allow-read=${dir}`, `--allow-write=${dir}`];
}

// ---------------------------------------------------------------------------
// The command line itself

Deno.test("every option with a missing, malformed or out-of-range value exits 2 with one line", async () => {
  const cases: [string[], RegExp][] = [
    [["connect", "127.0.0.1", "abc"], /PORT must be a number 1-65535, got "abc"/],
    [["connect", "127.0.0.1", "65536"], /PORT must be a number 1-65535, got "65536"/],
    [["connect", "127.0.0.1", "1.5"], /PORT must be a number 1-65535, got "1.5"/],
    [["connect", "127.0.0.1", ""], /PORT must be a number 1-65535, got ""/],
    [["connect", "127.0.0.1", "0"], /PORT must be a number 1-65535, got "0"/],
    [["connect", "--", "127.0.0.1", "-1"], /PORT must be a number 1-65535, got "-1"/],
    [["connect", "127.0.0.1", "-1"], /Unknown option '-1'/],
    [["connect", "--timeout"], /Option '--timeout <value>' argument missing/],
    [["connect", "--timeout", "abc", "127.0.0.1", "1"], /--timeout must be a number of seconds/],
    [["connect", "--timeout", "0", "127.0.0.1", "1"], /--timeout must be .* got "0"/],
    [["connect", "--timeout=-1", "127.0.0.1", "1"], /--timeout must be .* got "-1"/],
    [["connect", "--timeout", "", "127.0.0.1", "1"], /--timeout must be .* got ""/],
    [["connect", "--tls=yes", "127.0.0.1", "1"], /Option '--tls' does not take an argument/],
    [["connect"], /missing HOST PORT/],
    [["connect", "a", "1", "b"], /unexpected argument "b"/],
    [["echo-server", "--port"], /Option '--port <value>' argument missing/],
    [["echo-server", "--port", "abc"], /--port must be a number 0-65535, got "abc"/],
    [["echo-server", "--port=-1"], /--port must be a number 0-65535, got "-1"/],
    [["echo-server", "--port", "65536"], /--port must be a number 0-65535, got "65536"/],
    [["echo-server", "--port", "1.5"], /--port must be a number 0-65535, got "1.5"/],
    [["echo-server", "--port", ""], /--port must be a number 0-65535, got ""/],
    [["echo-server", "--host"], /Option '--host <value>' argument missing/],
    [["echo-server", "--max-clients", "-1"], /argument is ambiguous/],
    [["echo-server", "--max-clients", "1.5"], /--max-clients must be a whole number above 0/],
    [["echo-server", "--workers", "0"], /--workers must be a whole number above 0, got "0"/],
    [["echo-server", "extra"], /unexpected argument "extra"/],
    [["echo-server", "--bogus"], /Unknown option '--bogus'/],
    [["udp-listen", "--port", "65536"], /--port must be a number 0-65535/],
    [["udp-listen", "--count", "0"], /--count must be a whole number above 0, got "0"/],
    [["udp-listen", "--count", ""], /--count must be a whole number above 0, got ""/],
    [["udp-listen", "--raw=yes"], /Option '--raw' does not take an argument/],
    [["udp-listen", "x"], /unexpected argument "x"/],
    [["udp-send", "127.0.0.1", "1"], /missing MESSAGE/],
    [["udp-send", "127.0.0.1", "0", "x"], /PORT must be a number 1-65535, got "0"/],
    [["udp-send", "--timeout", "1.5.2", "127.0.0.1", "1", "x"], /--timeout must be/],
    [["udp-send", "--reply=1", "127.0.0.1", "1", "x"], /'--reply' does not take an argument/],
    [["send-file", "127.0.0.1", "1"], /missing PATH/],
    [["send-file", "127.0.0.1", "x", "f"], /PORT must be a number 1-65535, got "x"/],
    [["send-file", "--timeout", "0", "127.0.0.1", "1", "f"], /--timeout must be/],
    [["send-file", "127.0.0.1", "1", "."], /PATH must name a file, got "."/],
    [["recv-file", "--port", "x"], /--port must be a number 0-65535, got "x"/],
    [["recv-file", "--dir"], /Option '--dir <value>' argument missing/],
    [["recv-file", "--max-size", "1T"], /--max-size must be bytes like/],
    [["recv-file", "--max-size", "-5"], /argument is ambiguous/],
    [["recv-file", "--timeout", "never"], /--timeout must be a number of seconds/],
    [["recv-file", "--overwrite=no"], /'--overwrite' does not take an argument/],
  ];
  const results = await inBatches(cases.map(([args]) => () => run(args)));
  for (const [i, result] of results.entries()) {
    const [args, pattern] = cases[i];
    const what = args.join(" ");
    assertFailure(
      result,
      2,
      new RegExp(`^pysock ${args[0]}: .*(?:${pattern.source}).* \\(usage: pysock ${args[0]} `),
      what,
    );
    equal(result.stdout.length, 0, what);
  }
});

Deno.test("--help or -h anywhere before -- prints the usage on stdout and exits 0", async () => {
  const cases = [
    ["connect", "127.0.0.1", "1", "-h"],
    ["connect", "127.0.0.1", "--help", "1"],
    ["connect", "--timeout", "--help"],
    ["connect", "--bogus", "-h"],
    ["echo-server", "--port", "abc", "--help"],
    ["udp-listen", "-h", "--count", "0"],
    ["udp-send", "-h"],
    ["send-file", "--help", "a", "b", "c", "d"],
    ["recv-file", "--max-size", "lots", "-h"],
  ];
  const results = await inBatches(cases.map((args) => () => run(args)));
  for (const [i, result] of results.entries()) {
    equal(result.code, 0, `${cases[i].join(" ")}: ${result.stderr}`);
    equal(result.stderr, "");
    ok(text(result.stdout).startsWith(`usage: pysock ${cases[i][0]} `), cases[i].join(" "));
  }
});

Deno.test("--help after -- is an argument, not a request for help", async () => {
  const results = await inBatches([
    () => run(["connect", "--", "-h"]),
    () => run(["connect", "--bogus", "--", "-h"]),
    () => run(["echo-server", "--port", "x", "--", "--help"]),
  ]);
  assertFailure(results[0], 2, /^pysock connect: missing PORT \(usage: /);
  assertFailure(results[1], 2, /^pysock connect: Unknown option '--bogus' \(usage: /);
  assertFailure(results[2], 2, /^pysock echo-server: unexpected argument "--help" \(usage: /);
});

Deno.test("udp-send sends a MESSAGE that starts with a dash after --", async () => {
  await using listener = socket(AF_INET, SOCK_DGRAM);
  listener.bind(["127.0.0.1", 0]);
  const port = String(listener.getsockname()[1]);
  const result = await run(["udp-send", "127.0.0.1", port, "--", "-h"]);
  equal(result.code, 0, result.stderr);
  equal(result.stderr, "");
  const [data] = await listener.recvfrom(64);
  equal(text(data), "-h");
});

// ---------------------------------------------------------------------------
// Runtime failures

Deno.test("connect and send-file --timeout give up on a listener whose backlog is full", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/f`, "abc");
  await using silent = await silentListener();
  const [host, port] = silent.addr;
  const [connected, sent] = await inBatches([
    () => run(["connect", "--timeout", "0.3", host, String(port)]),
    () =>
      run(["send-file", "--timeout", "0.3", host, String(port), `${dir.path}/f`], access(dir.path)),
  ]);
  const why =
    `cannot connect to 127\\.0\\.0\\.1:${port}: timed out; check the address, or raise --timeout`;
  assertFailure(connected, 1, new RegExp(`^pysock connect: ${why}\\n$`));
  assertFailure(sent, 1, new RegExp(`^pysock send-file: ${why}\\n$`));
});

Deno.test("udp-listen on a port in use exits 1 saying to choose another", async () => {
  await using taken = socket(AF_INET, SOCK_DGRAM);
  taken.bind(["127.0.0.1", 0]);
  const port = taken.getsockname()[1] as number;
  assertFailure(
    await run(["udp-listen", "--port", String(port)]),
    1,
    new RegExp(
      `^pysock udp-listen: cannot listen on udp 127\\.0\\.0\\.1:${port}: \\[Errno 98\\] Address already in use; choose another --port, or 0 for a free one\\n$`,
    ),
  );
});

/** A CPython TCP server on loopback for one client; prints its port first. */
const PY_SERVER = `
import socket, struct, sys
s = socket.create_server(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
mode = sys.argv[1]
if mode == "upper-after-eof":
    data = b""
    while chunk := c.recv(65536):
        data += chunk
    c.sendall(data.upper() + b"|EOF")
elif mode == "reset":
    c.sendall(b"partial")
    c.recv(1)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
elif mode == "flood":
    try:
        for _ in range(4000):
            c.sendall(b"x" * 65536)
    except OSError:
        pass
c.close()
`;

Deno.test("connect with stdin closed at once half-closes, and a CPython server's reply still arrives", async () => {
  await using server = python(PY_SERVER, "upper-after-eof");
  const port = await server.firstLine();
  const result = await run(["connect", "127.0.0.1", port]);
  equal(result.code, 0, result.stderr);
  equal(result.stderr, "");
  equal(text(result.stdout), "|EOF");
  await server.output();
});

Deno.test("connect half-closes at the end of stdin: a CPython server answers only after EOF", async () => {
  await using server = python(PY_SERVER, "upper-after-eof");
  const port = await server.firstLine();
  await using child = cli(["connect", "127.0.0.1", port], [NET], true);
  const payload = new Uint8Array(300_000).map((_, i) => 0x61 + (i % 26));
  await child.input(payload);
  const result = await child.result();
  equal(result.code, 0, result.stderr);
  equal(text(result.stdout), text(payload).toUpperCase() + "|EOF");
  await server.output();
});

Deno.test("connect to a peer that resets mid-stream exits 1 with one line", async () => {
  await using server = python(PY_SERVER, "reset");
  const port = await server.firstLine();
  await using child = cli(["connect", "127.0.0.1", port], [NET], true);
  await child.input(bytes("x"));
  const result = await child.result();
  assertFailure(
    result,
    1,
    new RegExp(
      `^pysock connect: connection to 127\\.0\\.0\\.1:${port} failed: \\[Errno 104\\] Connection reset by peer\\n$`,
    ),
  );
  equal(text(result.stdout), "partial");
  await server.output();
});

Deno.test("connect whose stdout closes early (| head -c 1) exits 1 with one line, no stack trace", async () => {
  await using server = python(PY_SERVER, "flood");
  const port = await server.firstLine();
  const command = [Deno.execPath(), "run", NET, CLI, "connect", "127.0.0.1", port]
    .map((arg) => `'${arg}'`).join(" ");
  // The shell reports connect's exit code after head has closed the pipe.
  await using sh = new Child("bash", [
    "-c",
    `${command} </dev/null | head -c 1 >/dev/null; exit "\${PIPESTATUS[0]}"`,
  ], false);
  const result = await sh.result();
  assertFailure(result, 1, /^pysock connect: cannot write to stdout: \[Errno 32\] Broken pipe\n$/);
  await server.output();
});

Deno.test("udp-listen whose stdout closes early exits 1 saying it cannot write to stdout", async () => {
  const port = freePort();
  const command = [Deno.execPath(), "run", NET, CLI, "udp-listen", "--port", String(port)]
    .map((arg) => `'${arg}'`).join(" ");
  await using sh = new Child("bash", [
    "-c",
    `${command} | head -c 1 >/dev/null; exit "\${PIPESTATUS[0]}"`,
  ], false);
  await sh.stderrMatch(/^listening on udp /);
  await using sender = socket(AF_INET, SOCK_DGRAM);
  // head exits after the first line; the datagrams after it meet the closed pipe.
  let result: Result | null = null;
  for (let i = 0; i < 200 && result === null; i++) {
    await sender.sendto(bytes("hello"), ["127.0.0.1", port]);
    result = await Promise.race([
      sh.result(),
      new Promise<null>((r) => setTimeout(() => r(null), 50)),
    ]);
  }
  result ??= await sh.result();
  assertFailure(
    result,
    1,
    /^pysock udp-listen: cannot write to stdout: \[Errno 32\] Broken pipe\n$/,
  );
});

// ---------------------------------------------------------------------------
// send-file and recv-file against hostile peers

Deno.test("send-file of a FIFO exits 1 saying it is not a regular file, without blocking on it", async () => {
  await using dir = await tempDir();
  const fifo = `${dir.path}/fifo`;
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  equal(made.code, 0);
  assertFailure(
    await run(["send-file", "127.0.0.1", "9", fifo], access(dir.path)),
    1,
    /^pysock send-file: cannot send .*\/fifo: not a regular file\n$/,
  );
});

Deno.test("send-file to a receiver that accepts and stays silent exits 1 after --timeout", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/f`, "abc");
  await using server = createServer(["127.0.0.1", 0]);
  const port = String(server.getsockname()[1]);
  const accepting = server.accept();
  const result = await run(
    ["send-file", "--timeout", "0.3", "127.0.0.1", port, `${dir.path}/f`],
    access(dir.path),
  );
  const [conn] = await accepting;
  conn.close();
  assertFailure(
    result,
    1,
    /^pysock send-file: sending f to 127\.0\.0\.1:\d+ failed: the peer went silent \(raise --timeout if it is slow\)\n$/,
  );
});

Deno.test("send-file to a receiver that resets after accepting the header exits 1 with one line", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/big`, new Uint8Array(8 * 1024 * 1024));
  await using server = python(`
import socket, struct
s = socket.create_server(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
n, = struct.unpack(">I", c.recv(4, socket.MSG_WAITALL))
c.recv(n, socket.MSG_WAITALL)
ok = b'{"ok": true}'
c.sendall(struct.pack(">I", len(ok)) + ok)
c.recv(1000)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`);
  const port = await server.firstLine();
  const result = await run(["send-file", "127.0.0.1", port, `${dir.path}/big`], access(dir.path));
  assertFailure(
    result,
    1,
    /^pysock send-file: sending big to 127\.0\.0\.1:\d+ failed: \[Errno (104|32)\] (Connection reset by peer|Broken pipe)\n$/,
  );
  await server.output();
});

/** A recv-file in `dir` and a socket to it. */
async function receiverAndSocket(dir: string, extra: string[] = []) {
  const receiver = cli(["recv-file", "--dir", dir, ...extra], access(dir));
  const sock = await createConnection(["127.0.0.1", await receiver.port()], { timeout: 30 });
  return { receiver, sock };
}

Deno.test("recv-file refuses headers that are not send-file headers, telling the sender", async () => {
  await using dir = await tempDir();
  const good = { name: "x", size: 1, sha256: "0".repeat(64) };
  const headers: (string | Uint8Array)[] = [
    "not json",
    "[]",
    "null",
    '"x"',
    JSON.stringify({ ...good, size: -1 }),
    JSON.stringify({ ...good, size: 1.5 }),
    JSON.stringify({ ...good, size: "1" }),
    JSON.stringify({ ...good, size: 2 ** 53 }),
    JSON.stringify({ ...good, sha256: "A".repeat(64) }),
    JSON.stringify({ ...good, name: 5 }),
    JSON.stringify({ name: "x", size: 1 }),
    new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]),
    "",
  ];
  await inBatches(headers.map((header) => async () => {
    const { receiver, sock } = await receiverAndSocket(dir.path);
    await using _receiver = receiver;
    await using _sock = sock;
    await sendMsg(sock, header);
    const answer = JSON.parse(text((await recvMsg(sock))!));
    deepEqual(answer, {
      ok: false,
      error: "the header is not a send-file header (name, size, sha256)",
    }, String(header));
    assertFailure(
      await receiver.result(),
      1,
      /^pysock recv-file: the header is not a send-file header \(name, size, sha256\)\n$/,
      String(header),
    );
  }));
  deepEqual(files(dir.path), []);
});

Deno.test("recv-file drops a header message announced over 64 KiB before reading it", async () => {
  await using dir = await tempDir();
  const { receiver, sock } = await receiverAndSocket(dir.path);
  await using _receiver = receiver;
  await using _sock = sock;
  await sock.sendall(new Uint8Array([0, 1, 0, 1])); // 65537 bytes announced
  assertFailure(
    await receiver.result(),
    1,
    /^pysock recv-file: receiving from 127\.0\.0\.1:\d+ failed: the peer announced a 65537-byte message, more than the 65536 allowed; nothing was written\n$/,
  );
  deepEqual(files(dir.path), []);
});

Deno.test("recv-file keeps nothing when the sender resets mid-transfer", async () => {
  await using dir = await tempDir();
  await using receiver = cli(["recv-file", "--dir", dir.path], access(dir.path));
  const port = String(await receiver.port());
  await python(
    `
import socket, struct, sys, json
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def send(p): c.sendall(struct.pack(">I", len(p)) + p)
send(json.dumps({"name": "r.bin", "size": 100000, "sha256": "0" * 64}).encode())
n, = struct.unpack(">I", c.recv(4, socket.MSG_WAITALL))
assert json.loads(c.recv(n, socket.MSG_WAITALL)) == {"ok": True}
send(b"x" * 5000)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
`,
    port,
  ).output();
  assertFailure(
    await receiver.result(),
    1,
    /^pysock recv-file: receiving from 127\.0\.0\.1:\d+ failed: \[Errno 104\] Connection reset by peer; nothing was written\n$/,
  );
  deepEqual(files(dir.path), []);
});

Deno.test("recv-file --overwrite onto a directory of that name tells the sender why, and keeps nothing", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/dst/f`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/f`, "hello");
  await using receiver = cli(
    ["recv-file", "--overwrite", "--dir", `${dir.path}/dst`],
    access(dir.path),
  );
  const port = String(await receiver.port());
  const sent = await run(["send-file", "127.0.0.1", port, `${dir.path}/f`], access(dir.path));
  const received = await receiver.result();
  assertFailure(
    received,
    1,
    /^pysock recv-file: cannot write .*\/dst\/f: \[Errno 21\] Is a directory\n$/,
  );
  assertFailure(
    sent,
    1,
    /^pysock send-file: 127\.0\.0\.1:\d+ did not keep f: cannot write .*\/dst\/f: \[Errno 21\] Is a directory\n$/,
  );
  deepEqual(files(`${dir.path}/dst`), ["f"]);
  ok(Deno.statSync(`${dir.path}/dst/f`).isDirectory);
});

Deno.test("recv-file refuses names with C1 control characters (U+0080-U+009F), as with C0", async () => {
  await using dir = await tempDir();
  for (const name of ["a\u0085b", "\u009b2J", "x\u0080"]) {
    const { receiver, sock } = await receiverAndSocket(dir.path);
    await using _receiver = receiver;
    await using _sock = sock;
    await sendMsg(sock, JSON.stringify({ name, size: 0, sha256: "0".repeat(64) }));
    const answer = JSON.parse(text((await recvMsg(sock))!));
    equal(answer.ok, false, JSON.stringify(name));
    match(answer.error, /: it contains control characters$/);
    assertFailure(await receiver.result(), 1, /^pysock recv-file: refused the name /);
  }
  deepEqual(files(dir.path), []);
});

Deno.test("a path Deno opens only with --allow-all is reported with --allow-all, not --allow-all=PATH", async () => {
  const result = await run(["recv-file", "--dir", "/proc"], [NET, "--allow-read", "--allow-write"]);
  assertFailure(
    result,
    1,
    /^pysock recv-file: cannot use --dir \/proc: .*run again with --allow-all\n$/,
  );
  ok(!result.stderr.includes("--allow-all="), result.stderr);
});

// ---------------------------------------------------------------------------
// Permissions

Deno.test("each command run without the permission it needs names the exact flag to add", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/f`, "x");
  const port = freePort();
  const cases: [string[], string[], RegExp][] = [
    [
      ["echo-server", "--port", String(port)],
      [],
      new RegExp(`run again with --allow-net=127\\.0\\.0\\.1:${port}\\n$`),
    ],
    [["udp-listen"], [], /run again with --allow-net=127\.0\.0\.1:0\n$/],
    [
      ["udp-send", "127.0.0.1", String(port), "x"],
      [],
      new RegExp(`run again with --allow-net=127\\.0\\.0\\.1:0,127\\.0\\.0\\.1:${port}\\n$`),
    ],
    [
      ["send-file", "127.0.0.1", String(port), `${dir.path}/f`],
      [`--allow-read=${dir.path}`],
      new RegExp(`run again with --allow-net=127\\.0\\.0\\.1:${port}\\n$`),
    ],
    [
      ["recv-file", "--dir", dir.path],
      [NET, `--allow-write=${dir.path}`],
      /run again with --allow-read=\S+\n$/,
    ],
    [["recv-file", "--dir", dir.path, "--port", String(port)], [
      `--allow-read=${dir.path}`,
      `--allow-write=${dir.path}`,
    ], new RegExp(`run again with --allow-net=127\\.0\\.0\\.1:${port}\\n$`)],
  ];
  const results = await inBatches(cases.map(([args, perms]) => () => run(args, perms)));
  for (const [i, result] of results.entries()) {
    assertFailure(result, 1, cases[i][2], cases[i][0].join(" "));
    ok(!result.stderr.includes("listening on"), cases[i][0].join(" "));
  }
});

// ---------------------------------------------------------------------------
// Signals

Deno.test("SIGINT stops echo-server (closing its client) and udp-listen with exit 0, recv-file with 1", async () => {
  await using dir = await tempDir();
  await using echo = cli(["echo-server"]);
  await using udp = cli(["udp-listen"]);
  await using recv = cli(["recv-file", "--dir", dir.path], access(dir.path));
  await using client = await createConnection(["127.0.0.1", await echo.port()], { timeout: 30 });
  await client.sendall(bytes("ping"));
  equal(text(await client.recv(16)), "ping");
  await udp.port();
  await recv.port();
  for (const child of [echo, udp, recv]) child.signal("SIGINT");
  const [e, u, r] = await Promise.all([echo.result(), udp.result(), recv.result()]);
  equal(e.code, 0, e.stderr);
  match(e.stderr, /^listening on 127\.0\.0\.1:\d+\nconnection from 127\.0\.0\.1:\d+\n$/);
  equal((await client.recv(16)).length, 0, "the client sees end of stream");
  equal(u.code, 0, u.stderr);
  match(u.stderr, /^listening on udp 127\.0\.0\.1:\d+\n$/);
  assertFailure(r, 1, /^pysock recv-file: stopped before a file arrived\n$/);
});

Deno.test("SIGINT and SIGTERM end a running connect by the signal, like nc, printing nothing", async () => {
  await using server = createServer(["127.0.0.1", 0]);
  const port = String(server.getsockname()[1]);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    await using child = cli(["connect", "127.0.0.1", port], [NET], true);
    const [conn] = await server.accept();
    await using _conn = conn;
    await conn.sendall(bytes("hi"));
    // Connected and copying: no handler of connect's own may turn the signal into output.
    child.signal(signal);
    const result = await child.result();
    equal(result.signal, signal, result.stderr);
    equal(result.stderr, "");
  }
});

// ---------------------------------------------------------------------------
// CPython as the peer

Deno.test("udp-listen prints CPython's datagrams as CPython prints them, and --echo answers them", async () => {
  await using listener = cli(["udp-listen", "--echo", "--count", "6"]);
  const port = String(await listener.port());
  const peer = await python(
    `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(20)
host, port = s.getsockname()
for data in [bytes(range(256)), b"it's", b'say "hi"', b"'\\"", b"", b"\\\\x00\\t\\r\\n\\x7f\\x80"]:
    s.sendto(data, ("127.0.0.1", int(sys.argv[1])))
    back, _ = s.recvfrom(65536)
    assert back == data, (back, data)
    print(f"{host}:{port} {data!r}")
`,
    port,
  ).output();
  const result = await listener.result();
  equal(result.code, 0, result.stderr);
  equal(text(result.stdout), peer);
});

Deno.test("udp-send --reply gets its answer from a CPython UDP echo server, and stdin '-' sends binary", async () => {
  await using server = python(`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
for _ in range(2):
    data, addr = s.recvfrom(65536)
    s.sendto(data[::-1], addr)
`);
  const port = await server.firstLine();
  const first = await run(["udp-send", "--reply", "127.0.0.1", port, "ping"]);
  equal(first.code, 0, first.stderr);
  equal(text(first.stdout), "gnip");
  await using binary = cli(["udp-send", "--reply", "127.0.0.1", port, "-"], [NET], true);
  const payload = new Uint8Array(1000).map((_, i) => i % 256);
  await binary.input(payload);
  const second = await binary.result();
  equal(second.code, 0, second.stderr);
  deepEqual(second.stdout, payload.toReversed());
  await server.output();
});

/** CPython playing recv-file, as README's protocol describes it; prints the hash it computed. */
const PY_RECEIVER = `
import socket, struct, json, hashlib
s = socket.create_server(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
def recv():
    n, = struct.unpack(">I", c.recv(4, socket.MSG_WAITALL))
    return c.recv(n, socket.MSG_WAITALL) if n else b""
def send(obj):
    p = json.dumps(obj).encode()
    c.sendall(struct.pack(">I", len(p)) + p)
header = json.loads(recv())
send({"ok": True})
h, size = hashlib.sha256(), 0
while chunk := recv():
    assert len(chunk) <= 1024 * 1024
    h.update(chunk)
    size += len(chunk)
assert size == header["size"] and h.hexdigest() == header["sha256"], header
send({"ok": True, "sha256": h.hexdigest(), "size": size})
print(header["name"], size, h.hexdigest())
`;

Deno.test("send-file's binary file reaches a CPython receiver speaking the documented protocol", async () => {
  await using dir = await tempDir();
  const data = new Uint8Array(2 * 1024 * 1024 + 3).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
  await Deno.writeFile(`${dir.path}/bin.dat`, data);
  const hex = await sha256Hex(data);
  await using receiver = python(PY_RECEIVER);
  const port = await receiver.firstLine();
  const sent = await run(["send-file", "127.0.0.1", port, `${dir.path}/bin.dat`], access(dir.path));
  equal(sent.code, 0, sent.stderr);
  equal(text(sent.stdout), `sha256 OK ${hex}\n`);
  equal((await receiver.output()).split("\n")[1], `bin.dat ${data.length} ${hex}`);
});

Deno.test("recv-file takes a binary file from a CPython sender and Python's hashlib agrees", async () => {
  await using dir = await tempDir();
  await using receiver = cli(["recv-file", "--dir", dir.path], access(dir.path));
  const port = String(await receiver.port());
  const out = await python(
    `
import socket, struct, json, hashlib, sys
data = bytes((i * 13 + (i >> 11)) & 0xff for i in range(1024 * 1024 * 3 + 5))
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def send(p): c.sendall(struct.pack(">I", len(p)) + p)
def recv():
    n, = struct.unpack(">I", c.recv(4, socket.MSG_WAITALL))
    return json.loads(c.recv(n, socket.MSG_WAITALL))
digest = hashlib.sha256(data).hexdigest()
send(json.dumps({"name": "py.bin", "size": len(data), "sha256": digest}).encode())
assert recv() == {"ok": True}
for i in range(0, len(data), 1024 * 1024):
    send(data[i:i + 1024 * 1024])
send(b"")
assert recv() == {"ok": True, "sha256": digest, "size": len(data)}
print(digest)
`,
    port,
  ).output();
  const hex = out.trim();
  const result = await receiver.result();
  equal(result.code, 0, result.stderr);
  equal(text(result.stdout), `sha256 OK ${hex} ${dir.path}/py.bin\n`);
  equal(await sha256Hex(await Deno.readFile(`${dir.path}/py.bin`)), hex);
  deepEqual(files(dir.path), ["py.bin"]);
});
