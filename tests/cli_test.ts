// The command line, run as a subprocess the way a user runs it: exit codes,
// one-line errors, and every command against real peers on loopback.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { recvMsg, sendMsg } from "../framing.ts";
import { AF_INET, createConnection, createServer, SHUT_WR, SOCK_DGRAM, socket } from "../mod.ts";
import { concat } from "../_bytes.ts";
import { assertFailure, CLI, Cli, DEADLINE_MS, NET, ROOT, run, sha256Hex } from "./_cli.ts";
import { bytes, freePort, HAS_IPV6, installed, resetWhileStopped, text } from "./_helpers.ts";

/** Rejects when `promise` has not settled within DEADLINE_MS; clears its timer either way. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no result in ${DEADLINE_MS} ms`)),
      DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** `n` random bytes (getRandomValues gives at most 64 KiB a call). */
function randomBytes(n: number): Uint8Array {
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  return data;
}

function fileAccess(...dirs: string[]): string[] {
  return [NET, `--allow-read=${dirs.join(",")}`, `--allow-write=${dirs.join(",")}`];
}

// ---------------------------------------------------------------------------
// Help, usage and exit codes

Deno.test("pysock --help lists every command and exits 0", async () => {
  const result = await run(["--help"]);
  equal(result.code, 0);
  equal(result.stderr, "");
  const out = text(result.stdout);
  for (
    const command of ["echo-server", "connect", "udp-listen", "udp-send", "send-file", "recv-file"]
  ) {
    ok(out.includes(`  ${command} `), `lists ${command}`);
  }
});

Deno.test("every command's --help prints its usage and exits 0", async () => {
  const commands = ["echo-server", "connect", "udp-listen", "udp-send", "send-file", "recv-file"];
  const results = await Promise.all(commands.map((command) => run([command, "--help"])));
  for (const [i, result] of results.entries()) {
    equal(result.code, 0, commands[i]);
    equal(result.stderr, "");
    ok(text(result.stdout).startsWith(`usage: pysock ${commands[i]} `), commands[i]);
  }
});

Deno.test("a missing or unknown command exits 2 with one line on stderr", async () => {
  const [none, unknown] = await Promise.all([run([]), run(["teleport"])]);
  assertFailure(none, 2, /^pysock: missing command; run "pysock --help"/);
  assertFailure(unknown, 2, /^pysock: unknown command "teleport"; run "pysock --help"/);
});

Deno.test("bad arguments exit 2 with the command's usage on one line", async () => {
  const results = await Promise.all([
    run(["connect", "127.0.0.1"]),
    run(["connect", "127.0.0.1", "70000"]),
    run(["connect", "--bogus", "127.0.0.1", "80"]),
    run(["echo-server", "--max-clients", "zero"]),
    run(["udp-send", "127.0.0.1", "9", "a", "b"]),
    run(["recv-file", "--max-size", "lots"]),
  ]);
  const patterns = [
    /^pysock connect: missing PORT \(usage: pysock connect /,
    /^pysock connect: PORT must be a number 1-65535, got "70000" \(usage: /,
    /^pysock connect: Unknown option '--bogus' \(usage: /,
    /^pysock echo-server: --max-clients must be a whole number above 0, got "zero" \(usage: /,
    /^pysock udp-send: unexpected argument "b" \(usage: /,
    /^pysock recv-file: --max-size must be bytes like 1048576, 500M or 2G, got "lots" \(usage: /,
  ];
  for (const [i, result] of results.entries()) {
    assertFailure(result, 2, patterns[i]);
    equal(result.stdout.length, 0);
  }
});

Deno.test("importing cli/mod.ts runs nothing", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `const m = await import(${JSON.stringify(CLI)}); console.log(typeof m.main);`],
    cwd: ROOT,
    stdin: "null",
  }).output();
  equal(output.code, 0);
  equal(text(output.stdout), "function\n");
  equal(text(output.stderr), "");
});

// ---------------------------------------------------------------------------
// echo-server

Deno.test("echo-server echoes to several clients at once", async () => {
  const clients = 4;
  await using server = new Cli(["echo-server", "--max-clients", String(clients)]);
  const port = await server.port();
  const socks = await Promise.all(
    Array.from({ length: clients }, () => createConnection(["127.0.0.1", port], { timeout: 30 })),
  );
  try {
    // The last client to connect is served first: nobody waits in a queue
    // behind an open connection, as the seed's one-at-a-time servers would.
    for (const [i, sock] of [...socks.entries()].reverse()) {
      const message = bytes(`client ${i} `.repeat(1000));
      await sock.sendall(message.subarray(0, 100));
      await sock.sendall(message.subarray(100));
      const echoed: Uint8Array[] = [];
      for (let got = 0; got < message.length;) {
        const chunk = await sock.recv(65536);
        ok(chunk.length > 0, "echo ended early");
        echoed.push(chunk);
        got += chunk.length;
      }
      deepEqual(concat(echoed), message);
    }
    for (const sock of socks) {
      sock.shutdown(SHUT_WR);
      equal((await sock.recv(1)).length, 0, "the server closes after the client's end of stream");
    }
  } finally {
    for (const sock of socks) sock.close();
  }
  const result = await server.result();
  equal(result.code, 0, result.stderr);
  equal(result.stderr.match(/^connection from 127\.0\.0\.1:\d+$/gm)?.length, clients);
  equal(result.stdout.length, 0);
});

Deno.test("echo-server keeps serving after a client that reset before it was accepted", async () => {
  await using server = new Cli(["echo-server", "--max-clients", "2"]);
  const port = await server.port();
  await resetWhileStopped(server.child, port);
  await using client = await createConnection(["127.0.0.1", port], { timeout: 30 });
  await client.sendall("still here");
  equal(text(await client.recv(64)), "still here");
  client.shutdown(SHUT_WR);
  equal((await client.recv(1)).length, 0);
  const result = await server.result();
  equal(result.code, 0, result.stderr);
  match(result.stderr, /dropped .*Connection reset by peer/);
});

Deno.test("echo-server stops on SIGTERM, closing its clients, and exits 0", async () => {
  await using server = new Cli(["echo-server"]);
  const port = await server.port();
  await using client = await createConnection(["127.0.0.1", port], { timeout: 30 });
  await client.sendall("ping");
  equal(text(await client.recv(4)), "ping");
  server.child.kill("SIGTERM");
  equal((await client.recv(16)).length, 0, "the client sees end of stream");
  const result = await server.result();
  equal(result.code, 0, result.stderr);
});

Deno.test("echo-server on a port in use exits 1 saying to choose another", async () => {
  await using taken = createServer(["127.0.0.1", 0]);
  const port = taken.getsockname()[1] as number;
  const result = await run(["echo-server", "--port", String(port)]);
  assertFailure(
    result,
    1,
    new RegExp(
      `^pysock echo-server: cannot listen on 127\\.0\\.0\\.1:${port}: \\[Errno 98\\] Address already in use; choose another --port`,
    ),
  );
});

Deno.test({
  name: "echo-server listens on ::1 when asked",
  ignore: !HAS_IPV6,
  fn: async () => {
    await using server = new Cli(["echo-server", "--host", "::1", "--max-clients", "1"]);
    const found = await server.stderrMatch(/^listening on \[::1\]:(\d+)\n/);
    await using client = await createConnection(["::1", Number(found[1])], { timeout: 30 });
    await client.sendall("six");
    equal(text(await client.recv(3)), "six");
    client.close();
    equal((await server.result()).code, 0);
  },
});

/**
 * Which of `pids` still run, as `ps` sees them (Deno reads /proc only with
 * --allow-all). A zombie has exited: an orphan's waits for init to reap it.
 */
async function running(pids: number[]): Promise<number[]> {
  const args = ["-o", "pid=,stat=", "-p", pids.join(",")];
  const { stdout } = await new Deno.Command("ps", { args }).output();
  const rows = text(stdout).trim().split("\n").map((line) => line.trim().split(/\s+/));
  return rows.filter(([pid, stat]) => pid && !stat.startsWith("Z")).map(([pid]) => Number(pid));
}

const WORKERS_READY = /^2 workers ready \(pids (\d+), (\d+)\)\nlistening on 127\.0\.0\.1:(\d+)\n/;

Deno.test("echo-server --workers 2 serves from two processes; SIGTERM stops both and exits 0", async () => {
  await using server = new Cli(["echo-server", "--workers", "2"], { perms: [NET, "--allow-run"] });
  const [, a, b, port] = await server.stderrMatch(WORKERS_READY);
  const pids = [Number(a), Number(b)];
  deepEqual(await running(pids), pids);
  const socks = await Promise.all(
    Array.from({ length: 4 }, () => createConnection(["127.0.0.1", Number(port)], { timeout: 30 })),
  );
  try {
    for (const [i, sock] of socks.entries()) {
      const message = randomBytes(100_000 + i);
      const sending = sock.sendall(message);
      const echoed: Uint8Array[] = [];
      for (let got = 0; got < message.length;) {
        const chunk = await sock.recv(65536);
        ok(chunk.length > 0, "echo ended early");
        echoed.push(chunk);
        got += chunk.length;
      }
      await sending;
      deepEqual(concat(echoed), message);
    }
  } finally {
    for (const sock of socks) sock.close();
  }
  server.child.kill("SIGTERM");
  const result = await server.result();
  equal(result.code, 0, result.stderr);
  deepEqual(await running(pids), [], "no worker outlives the command");
});

Deno.test("echo-server --workers: a command killed with SIGKILL leaves no worker behind", async () => {
  await using server = new Cli(["echo-server", "--workers", "2"], { perms: [NET, "--allow-run"] });
  const [, a, b] = await server.stderrMatch(WORKERS_READY);
  const pids = [Number(a), Number(b)];
  server.child.kill("SIGKILL");
  await server.result();
  // Each worker sees its stdin, held by the command, end, and shuts down.
  for (let i = 0; i < 250 && (await running(pids)).length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  deepEqual(await running(pids), []);
});

Deno.test("echo-server --workers cannot be combined with --max-clients or --tls: exit 2", async () => {
  assertFailure(
    await run(["echo-server", "--workers", "2", "--max-clients", "3"]),
    2,
    /^pysock echo-server: --max-clients cannot be used with --workers \(usage: /,
  );
  assertFailure(
    await run(["echo-server", "--workers", "2", "--tls", "--cert", "c.pem"]),
    2,
    /^pysock echo-server: --tls cannot be used with --workers \(usage: /,
  );
  assertFailure(
    await run(["echo-server", "--workers", "0"]),
    2,
    /^pysock echo-server: --workers must be a whole number above 0, got "0" \(usage: /,
  );
});

// ---------------------------------------------------------------------------
// connect

Deno.test("connect sends stdin, half-closes at its end, and prints the reply that comes after", async () => {
  await using listener = createServer(["127.0.0.1", 0]);
  const port = listener.getsockname()[1] as number;
  await using cli = new Cli(["connect", "127.0.0.1", String(port)], { stdin: true });
  const [conn] = await listener.accept();
  await using _conn = conn;
  conn.settimeout(30);
  const feeding = cli.input(bytes("hello "), bytes("world\n"));
  // Read to end of stream: it comes only from connect's shutdown(SHUT_WR).
  let received = "";
  for (let chunk = await conn.recv(1024); chunk.length > 0; chunk = await conn.recv(1024)) {
    received += text(chunk);
  }
  await feeding;
  equal(received, "hello world\n");
  // The other direction is still open: the reply gets through.
  await conn.sendall(`got ${received.length} bytes: ${received.toUpperCase()}`);
  conn.close();
  const result = await cli.result();
  equal(result.code, 0, result.stderr);
  equal(text(result.stdout), "got 12 bytes: HELLO WORLD\n");
  equal(result.stderr, "");
});

Deno.test("connect copies binary bytes both ways unchanged", async () => {
  await using listener = createServer(["127.0.0.1", 0]);
  const port = listener.getsockname()[1] as number;
  await using cli = new Cli(["connect", "127.0.0.1", String(port)], { stdin: true });
  const [conn] = await listener.accept();
  await using _conn = conn;
  conn.settimeout(30);
  const payload = randomBytes(200_000);
  const feeding = cli.input(payload);
  const parts: Uint8Array[] = [];
  for (let chunk = await conn.recv(65536); chunk.length > 0; chunk = await conn.recv(65536)) {
    parts.push(chunk);
  }
  await feeding;
  const received = concat(parts);
  deepEqual(received, payload);
  await conn.sendall(received.toReversed());
  conn.close();
  const result = await cli.result();
  equal(result.code, 0, result.stderr);
  deepEqual(result.stdout, payload.toReversed());
});

Deno.test("connect to a port nobody listens on exits 1 with one line naming the address", async () => {
  const port = freePort();
  const result = await run(["connect", "127.0.0.1", String(port)]);
  assertFailure(
    result,
    1,
    new RegExp(
      `^pysock connect: cannot connect to 127\\.0\\.0\\.1:${port}: \\[Errno 111\\] Connection refused; `,
    ),
  );
});

Deno.test("connect without net permission names the --allow-net flag to add", async () => {
  const port = freePort();
  const result = await run(["connect", "127.0.0.1", String(port)], []);
  assertFailure(result, 1, new RegExp(`run again with --allow-net=127\\.0\\.0\\.1:${port}\\n$`));
});

Deno.test("connect talks to socat as the peer, half-close included", async (t) => {
  if (!await installed("socat", ["-V"])) {
    console.log("skipped: socat is not installed (apt-get install -y socat)");
    return;
  }
  const port = freePort();
  // tr upper-cases only once its input ends, so the reply exists only if
  // connect's half-close reached socat while the way back stayed open.
  const peer = new Deno.Command("socat", {
    args: ["-t", "10", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, "SYSTEM:tr a-z A-Z"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const peerErrors = new Response(peer.stderr).text();
  try {
    await waitForListener(port);
    await t.step("a line goes there and comes back upper-cased", async () => {
      await using cli = new Cli(["connect", "127.0.0.1", String(port)], { stdin: true });
      await cli.input(bytes("hello from pysock\n"));
      const result = await cli.result();
      equal(result.code, 0, result.stderr);
      equal(text(result.stdout), "HELLO FROM PYSOCK\n");
    });
  } finally {
    peer.kill("SIGTERM");
    await peer.status;
    await peerErrors;
  }
});

/** Waits until something accepts on 127.0.0.1:port (socat's forking listener takes the probe). */
async function waitForListener(port: number): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      const probe = await Deno.connect({ hostname: "127.0.0.1", port });
      probe.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`nothing listened on 127.0.0.1:${port}`);
}

// ---------------------------------------------------------------------------
// UDP

Deno.test("udp-listen prints each datagram with its sender, as Python shows bytes", async () => {
  await using listener = new Cli(["udp-listen", "--count", "2"]);
  const port = String(await listener.port());
  const first = await run(["udp-send", "127.0.0.1", port, "hello 'there'"]);
  equal(first.code, 0, first.stderr);
  await using sender = new Cli(["udp-send", "127.0.0.1", port, "-"], { stdin: true });
  await sender.input(new Uint8Array([0, 0xff, 0x5c, 0x0a, 0x41]));
  equal((await sender.result()).code, 0);
  const result = await listener.result();
  equal(result.code, 0, result.stderr);
  const lines = text(result.stdout).split("\n");
  equal(lines.length, 3);
  match(lines[0], /^127\.0\.0\.1:\d+ b"hello 'there'"$/);
  match(lines[1], /^127\.0\.0\.1:\d+ b'\\x00\\xff\\\\\\nA'$/);
  equal(lines[2], "");
});

Deno.test("udp-listen --raw --echo answers udp-send --reply with the same bytes", async () => {
  await using listener = new Cli(["udp-listen", "--raw", "--echo", "--count", "1"]);
  const port = String(await listener.port());
  const reply = await run(["udp-send", "--reply", "127.0.0.1", port, "marco"]);
  equal(reply.code, 0, reply.stderr);
  equal(text(reply.stdout), "marco");
  const result = await listener.result();
  equal(result.code, 0, result.stderr);
  equal(text(result.stdout), "marco");
});

Deno.test("udp-send --reply exits 1 with one line when no reply comes", async () => {
  await using silent = socket(AF_INET, SOCK_DGRAM);
  silent.bind(["127.0.0.1", 0]);
  const port = silent.getsockname()[1] as number;
  const result = await run([
    "udp-send",
    "--reply",
    "--timeout",
    "0.2",
    "127.0.0.1",
    String(port),
    "x",
  ]);
  assertFailure(
    result,
    1,
    new RegExp(`^pysock udp-send: no reply from 127\\.0\\.0\\.1:${port} within 0\\.2 s`),
  );
  const [data] = await silent.recvfrom(16);
  equal(text(data), "x");
});

Deno.test("udp-send refuses stdin longer than one datagram with one line", async () => {
  await using sender = new Cli(["udp-send", "127.0.0.1", "9", "-"], { stdin: true });
  // The CLI stops reading once stdin holds more than a datagram and exits, so
  // the rest of this write may meet a closed pipe: that is the behaviour tested.
  await sender.input(new Uint8Array(70_000)).catch((err) => {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  });
  assertFailure(await sender.result(), 1, /^pysock udp-send: stdin holds more than one datagram/);
});

Deno.test("udp-listen stops on SIGTERM and exits 0", async () => {
  await using listener = new Cli(["udp-listen"]);
  await listener.port();
  listener.child.kill("SIGTERM");
  const result = await listener.result();
  equal(result.code, 0, result.stderr);
});

// ---------------------------------------------------------------------------
// send-file / recv-file

/** A temp dir with `src/` and `dst/`, removed at the end. */
async function transferDirs(): Promise<
  { root: string; src: string; dst: string } & AsyncDisposable
> {
  const root = await Deno.makeTempDir({ prefix: "pysock_cli_" });
  await Deno.mkdir(`${root}/src`);
  await Deno.mkdir(`${root}/dst`);
  return {
    root,
    src: `${root}/src`,
    dst: `${root}/dst`,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** A random file of `size` bytes. */
async function randomFile(path: string, size: number): Promise<Uint8Array> {
  const data = randomBytes(size);
  await Deno.writeFile(path, data);
  return data;
}

Deno.test("send-file and recv-file move a 3 MiB random file and agree on its SHA-256", async () => {
  await using dirs = await transferDirs();
  const data = await randomFile(`${dirs.src}/random.bin`, 3 * 1024 * 1024 + 17);
  const hex = await sha256Hex(data);
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  const port = String(await receiver.port());
  const sent = await run(
    ["send-file", "127.0.0.1", port, `${dirs.src}/random.bin`],
    fileAccess(dirs.root),
  );
  equal(sent.code, 0, sent.stderr);
  equal(text(sent.stdout), `sha256 OK ${hex}\n`);
  equal(sent.stderr, "", "no progress line when stderr is not a terminal");
  const received = await receiver.result();
  equal(received.code, 0, received.stderr);
  equal(text(received.stdout), `sha256 OK ${hex} ${dirs.dst}/random.bin\n`);
  deepEqual(await Deno.readFile(`${dirs.dst}/random.bin`), data);
  deepEqual(
    [...Deno.readDirSync(dirs.dst)].map((e) => e.name),
    ["random.bin"],
    "no temp file left",
  );
});

Deno.test("send-file and recv-file move an empty file", async () => {
  await using dirs = await transferDirs();
  await Deno.writeFile(`${dirs.src}/empty`, new Uint8Array(0));
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  const port = String(await receiver.port());
  const sent = await run(
    ["send-file", "127.0.0.1", port, `${dirs.src}/empty`],
    fileAccess(dirs.root),
  );
  equal(sent.code, 0, sent.stderr);
  equal((await receiver.result()).code, 0);
  equal((await Deno.readFile(`${dirs.dst}/empty`)).length, 0);
});

/** Plays send-file's part by hand: the header, then (when accepted) `chunks` and the end. */
async function craftedSend(
  port: number,
  header: unknown,
  chunks: Uint8Array[] = [],
): Promise<{ first: Record<string, unknown>; last?: Record<string, unknown> }> {
  await using sock = await createConnection(["127.0.0.1", port], { timeout: 30 });
  await sendMsg(sock, JSON.stringify(header));
  const first = JSON.parse(text((await recvMsg(sock))!));
  if (!first.ok) return { first };
  for (const chunk of chunks) await sendMsg(sock, chunk);
  await sendMsg(sock, new Uint8Array(0));
  const last = await recvMsg(sock);
  return { first, last: last === null ? undefined : JSON.parse(text(last)) };
}

Deno.test("recv-file refuses names that would write outside its directory", async () => {
  await using dirs = await transferDirs();
  const absolute = `${dirs.root}/absolute-${crypto.randomUUID()}`;
  const names = [
    "../evil",
    absolute,
    "sub/evil",
    "..\\evil",
    "..",
    ".",
    "evil\0.txt",
    "a..b",
    "\x1b[2J",
  ];
  const hash = await sha256Hex(bytes("bad"));
  await Promise.all(names.map(async (name) => {
    await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
      perms: fileAccess(dirs.root),
    });
    const { first } = await craftedSend(await receiver.port(), { name, size: 3, sha256: hash }, [
      bytes("bad"),
    ]);
    equal(first.ok, false, `accepted ${JSON.stringify(name)}`);
    match(String(first.error), /^refused the name /);
    assertFailure(await receiver.result(), 1, /^pysock recv-file: refused the name /);
  }));
  deepEqual([...Deno.readDirSync(dirs.root)].map((e) => e.name).sort(), ["dst", "src"]);
  deepEqual([...Deno.readDirSync(dirs.dst)], []);
});

Deno.test("recv-file refuses a name that exists unless --overwrite", async () => {
  await using dirs = await transferDirs();
  await Deno.writeTextFile(`${dirs.dst}/notes.txt`, "keep me");
  const data = bytes("new notes");
  const header = { name: "notes.txt", size: data.length, sha256: await sha256Hex(data) };
  {
    await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
      perms: fileAccess(dirs.root),
    });
    const { first } = await craftedSend(await receiver.port(), header, [data]);
    equal(first.ok, false);
    assertFailure(
      await receiver.result(),
      1,
      /^pysock recv-file: refused notes\.txt: it already exists \(receive with --overwrite/,
    );
    equal(await Deno.readTextFile(`${dirs.dst}/notes.txt`), "keep me");
  }
  {
    await using receiver = new Cli(["recv-file", "--overwrite", "--dir", dirs.dst], {
      perms: fileAccess(dirs.root),
    });
    const { first, last } = await craftedSend(await receiver.port(), header, [data]);
    equal(first.ok, true);
    deepEqual(last, { ok: true, sha256: header.sha256, size: data.length });
    equal((await receiver.result()).code, 0);
    equal(await Deno.readTextFile(`${dirs.dst}/notes.txt`), "new notes");
  }
});

Deno.test("recv-file rejects data whose SHA-256 does not match and keeps nothing", async () => {
  await using dirs = await transferDirs();
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  const header = { name: "x.bin", size: 4, sha256: await sha256Hex(bytes("good")) };
  const { first, last } = await craftedSend(await receiver.port(), header, [bytes("evil")]);
  equal(first.ok, true);
  equal(last?.ok, false);
  match(String(last?.error), /^sha256 mismatch: got [0-9a-f]{64}, expected /);
  assertFailure(await receiver.result(), 1, /^pysock recv-file: sha256 mismatch: /);
  deepEqual([...Deno.readDirSync(dirs.dst)], []);
});

Deno.test("recv-file refuses more data than the header announced", async () => {
  await using dirs = await transferDirs();
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  const header = { name: "x.bin", size: 3, sha256: await sha256Hex(bytes("abc")) };
  const { last } = await craftedSend(await receiver.port(), header, [bytes("abc"), bytes("de")]);
  equal(last?.ok, false);
  assertFailure(
    await receiver.result(),
    1,
    /^pysock recv-file: the sender sent more than the 3 bytes it announced/,
  );
  deepEqual([...Deno.readDirSync(dirs.dst)], []);
});

Deno.test("recv-file refuses a file over --max-size before any data", async () => {
  await using dirs = await transferDirs();
  await using receiver = new Cli(["recv-file", "--max-size", "1K", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  const header = { name: "big.bin", size: 1025, sha256: "0".repeat(64) };
  const { first } = await craftedSend(await receiver.port(), header);
  equal(first.ok, false);
  assertFailure(
    await receiver.result(),
    1,
    /^pysock recv-file: refused big\.bin: 1025 bytes is over --max-size 1024/,
  );
});

Deno.test("recv-file drops a sender announcing an oversized message, keeping nothing", async () => {
  await using dirs = await transferDirs();
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  await using sock = await createConnection(["127.0.0.1", await receiver.port()], { timeout: 30 });
  await sendMsg(sock, JSON.stringify({ name: "x.bin", size: 1 << 30, sha256: "0".repeat(64) }));
  equal(JSON.parse(text((await recvMsg(sock))!)).ok, true);
  // A data message header announcing 2 GiB: refused before anything is allocated.
  await sock.sendall(new Uint8Array([0x80, 0, 0, 0]));
  assertFailure(
    await receiver.result(),
    1,
    /^pysock recv-file: receiving from 127\.0\.0\.1:\d+ failed: the peer announced a 2147483648-byte message, more than the 1048576 allowed; nothing was written/,
  );
  deepEqual([...Deno.readDirSync(dirs.dst)], []);
});

Deno.test("recv-file keeps nothing when the sender stops halfway", async () => {
  await using dirs = await transferDirs();
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  {
    await using sock = await createConnection(["127.0.0.1", await receiver.port()], {
      timeout: 30,
    });
    await sendMsg(sock, JSON.stringify({ name: "half.bin", size: 10, sha256: "0".repeat(64) }));
    equal(JSON.parse(text((await recvMsg(sock))!)).ok, true);
    await sendMsg(sock, bytes("12345"));
  }
  assertFailure(
    await receiver.result(),
    1,
    /^pysock recv-file: the sender closed after 5 of 10 bytes; nothing was written/,
  );
  deepEqual([...Deno.readDirSync(dirs.dst)], []);
});

Deno.test("send-file reports the receiver's refusal in one line and exits 1", async () => {
  await using dirs = await transferDirs();
  await Deno.writeTextFile(`${dirs.src}/same.txt`, "new");
  await Deno.writeTextFile(`${dirs.dst}/same.txt`, "old");
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  const port = await receiver.port();
  const sent = await run(
    ["send-file", "127.0.0.1", String(port), `${dirs.src}/same.txt`],
    fileAccess(dirs.root),
  );
  assertFailure(
    sent,
    1,
    new RegExp(
      `^pysock send-file: 127\\.0\\.0\\.1:${port} refused same\\.txt: refused same\\.txt: it already exists`,
    ),
  );
  equal((await receiver.result()).code, 1);
  equal(await Deno.readTextFile(`${dirs.dst}/same.txt`), "old");
});

Deno.test("send-file shows a receiver's words without their control characters", async () => {
  await using dirs = await transferDirs();
  await Deno.writeTextFile(`${dirs.src}/a.txt`, "a");
  await using fake = createServer(["127.0.0.1", 0]);
  const port = String(fake.getsockname()[1]);
  await using sender = new Cli(["send-file", "127.0.0.1", port, `${dirs.src}/a.txt`], {
    perms: fileAccess(dirs.root),
  });
  const [conn] = await fake.accept();
  await using _conn = conn;
  conn.settimeout(30);
  deepEqual(JSON.parse(text((await recvMsg(conn))!)).name, "a.txt");
  await sendMsg(conn, JSON.stringify({ ok: false, error: "\x1b]0;owned\x07no" }));
  const result = await sender.result();
  assertFailure(result, 1, /refused a\.txt: \\x1b\]0;owned\\x07no\n$/);
});

Deno.test("send-file of a missing file exits 1 with one line", async () => {
  await using dirs = await transferDirs();
  const sent = await run(
    ["send-file", "127.0.0.1", "9", `${dirs.src}/nope`],
    fileAccess(dirs.root),
  );
  assertFailure(sent, 1, /^pysock send-file: cannot read .*\/nope: /);
});

Deno.test("send-file without read permission names the --allow-read flag to add", async () => {
  await using dirs = await transferDirs();
  await Deno.writeTextFile(`${dirs.src}/secret`, "s");
  const sent = await run(["send-file", "127.0.0.1", "9", `${dirs.src}/secret`], [NET]);
  assertFailure(sent, 1, /run again with --allow-read=.*\/secret\n$/);
});

Deno.test("recv-file without write permission says so before listening", async () => {
  await using dirs = await transferDirs();
  const result = await run(["recv-file", "--dir", dirs.dst], [NET, `--allow-read=${dirs.root}`]);
  assertFailure(
    result,
    1,
    /^pysock recv-file: write access to .* denied; run again with --allow-write=/,
  );
  ok(!result.stderr.includes("listening on"));
});

Deno.test("recv-file stops on SIGTERM before a file arrives and exits 1", async () => {
  await using dirs = await transferDirs();
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  await receiver.port();
  receiver.child.kill("SIGTERM");
  assertFailure(await receiver.result(), 1, /^pysock recv-file: stopped before a file arrived/);
});

Deno.test("send-file draws a progress line with bytes, percent and rate when stderr is a terminal", async () => {
  if (!await installed("script", ["--version"])) {
    console.log("skipped: util-linux script (for a pseudo-terminal) is not installed");
    return;
  }
  await using dirs = await transferDirs();
  const data = await randomFile(`${dirs.src}/tty.bin`, 2 * 1024 * 1024);
  await using receiver = new Cli(["recv-file", "--dir", dirs.dst], {
    perms: fileAccess(dirs.root),
  });
  const port = await receiver.port();
  // script(1) runs the sender on a pseudo-terminal and copies what it shows to stdout.
  const command = [
    Deno.execPath(),
    "run",
    ...fileAccess(dirs.root),
    CLI,
    "send-file",
    "127.0.0.1",
    String(port),
    `${dirs.src}/tty.bin`,
  ]
    .map((arg) => `'${arg}'`).join(" ");
  const shown = await within(
    new Deno.Command("script", { args: ["-qefc", command, "/dev/null"], cwd: ROOT, stdin: "null" })
      .output(),
    "send-file under script",
  );
  equal(shown.code, 0, text(shown.stderr));
  const screen = text(shown.stdout);
  // The line ends with ESC [K (erase to the end of line) so a shorter redraw leaves no tail.
  // deno-lint-ignore no-control-regex
  match(screen, /\rtty\.bin: 2\.0 MiB \/ 2\.0 MiB {2}100% {2}[\d.]+ [KMG]?i?B\/s\x1b\[K\r?\n/);
  ok(screen.includes(`sha256 OK ${await sha256Hex(data)}`));
  equal((await receiver.result()).code, 0);
});
