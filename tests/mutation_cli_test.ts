// Tests written by the mutation audit of the command line (cli/*.ts): each
// one kills a mutant that cli_test.ts and cli_adversarial_test.ts let live,
// and names it ("kills: file, what the mutant changed"). Most run the
// commands in-process (their status lines captured, not printed) against a
// peer this test plays on 127.0.0.1; one runs the real CLI. Loopback only.

import { deepEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { recvMsg, sendMsg } from "../framing.ts";
import { ConnectionRefusedError, createConnection, createServer, SHUT_WR } from "../mod.ts";
import type { StreamSocket } from "../socket.ts";
import { type Command, parse, portArg, secondsArg } from "../cli/_args.ts";
import { Failure, UsageError } from "../cli/_errors.ts";
import { main } from "../cli/mod.ts";
import { connectCommand } from "../cli/connect.ts";
import { echoServerCommand } from "../cli/echo_server.ts";
import { recvFileCommand } from "../cli/recv_file.ts";
import { sendFileCommand } from "../cli/send_file.ts";
import { formatBytes } from "../cli/_progress.ts";
import { MAX_DATAGRAM_IPV6 } from "../udp.ts";
import { AF_INET, SOCK_DGRAM, socket } from "../mod.ts";
import { assertFailure, Cli, sha256Hex } from "./_cli.ts";
import { bytes, resetWhileStopped, sleep, text } from "./_helpers.ts";
import { certs } from "./_ssl_helpers.ts";

/** Lines the commands print, captured while a test runs them in-process. */
class Captured implements Disposable {
  lines: string[] = [];
  #wake: (() => void)[] = [];
  #saved = [console.log, console.error];

  constructor() {
    console.log = console.error = (...args: unknown[]) => {
      this.lines.push(args.join(" "));
      for (const wake of this.#wake.splice(0)) wake();
    };
  }

  /** The first line matching `pattern`, waiting for it. */
  async line(pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      for (const line of this.lines) {
        const found = pattern.exec(line);
        if (found) return found;
      }
      await new Promise<void>((wake) => this.#wake.push(wake));
    }
  }

  [Symbol.dispose](): void {
    [console.log, console.error] = this.#saved;
  }
}

/** Runs `command` in-process as `pysock <command> <args>` would. */
function start(command: Command, args: string[]): Promise<number> {
  const parsed = parse(command, args)!;
  return command.run(parsed.values, parsed.positionals);
}

/** Resolves to whether connecting to `port` is refused (the listener is closed). */
async function refused(port: number): Promise<boolean> {
  try {
    (await createConnection(["127.0.0.1", port])).close();
    return false;
  } catch (err) {
    if (err instanceof ConnectionRefusedError) return true;
    throw err;
  }
}

Deno.test("the largest port and --timeout the command line takes are accepted", () => {
  // kills: cli/_args.ts portArg, 65535 refused.
  equal(portArg("65535", "PORT", 1), 65535);
  equal(portArg("65535", "--port"), 65535);
  // kills: cli/_args.ts secondsArg, CPython's limit itself refused.
  equal(secondsArg("9223372036", "--timeout"), 9223372036);
  // kills: cli/_args.ts secondsArg, any text Number() reads taken (its doc: a decimal number).
  for (const text of ["1e3", "0x10", " 5", "5 ", ".5", "5."]) {
    throws(() => secondsArg(text, "--timeout"), UsageError, text);
  }
});

Deno.test("a command named like an Object property is an unknown command: exit 2, one line", async () => {
  // kills: cli/mod.ts, COMMANDS looked up with `in` (Object.prototype's names).
  using out = new Captured();
  for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
    equal(await main([name]), 2, name);
  }
  deepEqual(
    out.lines,
    ["toString", "constructor", "__proto__", "hasOwnProperty"].map((name) =>
      `pysock: unknown command "${name}"; run "pysock --help" to list them`
    ),
  );
  // kills: cli/mod.ts, "help" not taken as --help.
  out.lines.length = 0;
  equal(await main(["help"]), 0);
  match(out.lines.join("\n"), /^pysock: Python's socket module for Deno, from the command line\n/);
});

Deno.test("connect to a name that cannot exist says to check the host name", async () => {
  // kills: cli/_errors.ts connectHint, no hint for a gaierror. `.invalid` is
  // answered without any lookup (RFC 6761).
  await rejects(
    start(connectCommand, ["no-such-host.invalid", "80"]),
    (err) =>
      err instanceof Failure &&
      err.message ===
        "cannot connect to no-such-host.invalid:80: [Errno -2] Name or service not known; " +
          "check the host name",
  );
});

Deno.test("connect --timeout bounds only the connecting: a reply that comes later is printed", async () => {
  // kills: cli/connect.ts, the connect timeout left on the connection's reads.
  await using server = createServer(["127.0.0.1", 0]);
  const [, port] = server.getsockname() as [string, number];
  await using cli = new Cli(["connect", "--timeout", "0.2", "127.0.0.1", String(port)]);
  const [conn] = await server.accept();
  try {
    // Silent for longer than --timeout, then an answer and end of stream.
    await sleep(600);
    await conn.sendall(bytes("late"));
  } catch {
    /* a CLI that already gave up */
  } finally {
    conn.close();
  }
  const result = await cli.result();
  equal(result.stderr, "");
  equal(text(result.stdout), "late");
  equal(result.code, 0);
});

Deno.test("echo-server --max-clients stops listening once its last client is accepted", async () => {
  // kills: cli/echo_server.ts, the listener kept open while the clients are served.
  using out = new Captured();
  const running = start(echoServerCommand, ["--max-clients", "1"]);
  const port = Number((await out.line(/^listening on 127\.0\.0\.1:(\d+)$/))[1]);
  const client = await createConnection(["127.0.0.1", port]);
  const [, clientPort] = client.getsockname() as [string, number];
  try {
    await client.sendall(bytes("x"));
    equal(text(await client.recv(1)), "x");
    ok(await refused(port), "a second client is refused while the first is served");
    await client.sendall(bytes("yz"));
    equal(text(await client.recv(2)), "yz");
    client.shutdown(SHUT_WR);
    equal((await client.recv(1)).length, 0);
  } finally {
    client.close();
  }
  equal(await running, 0);
  // kills: cli/echo_server.ts echo, the bytes echoed not counted.
  ok(out.lines.includes(`closed 127.0.0.1:${clientPort} after 3 bytes`), out.lines.join("\n"));
});

// ---------------------------------------------------------------------------
// recv-file and send-file against a peer that speaks the protocol by hand

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "pysock_mut_cli_" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** A recv-file running in-process into `dir`; `sender` is connected to it. */
async function receiver(dir: string, out: Captured) {
  const running = start(recvFileCommand, ["--dir", dir, "--timeout", "10"]);
  running.catch(() => {});
  const port = Number((await out.line(/^listening on 127\.0\.0\.1:(\d+)$/))[1]);
  const sender = await createConnection(["127.0.0.1", port]);
  return { running, port, sender };
}

async function reply(sock: StreamSocket): Promise<unknown> {
  const message = await recvMsg(sock);
  return message === null ? null : JSON.parse(text(message));
}

/** Sends a header; asserts recv-file refuses it with `error`, telling the sender, keeping nothing. */
async function assertHeaderRefused(header: object, error: string): Promise<void> {
  await using dir = await tempDir();
  using out = new Captured();
  const { running, sender } = await receiver(dir.path, out);
  try {
    await sendMsg(sender, JSON.stringify(header));
    deepEqual(await reply(sender), { ok: false, error });
    await rejects(running, (err) => err instanceof Failure && err.message === error);
  } finally {
    sender.close();
  }
  deepEqual([...Deno.readDirSync(dir.path)], []);
}

Deno.test("recv-file refuses a drive path and names over 255 bytes, counted in UTF-8", async () => {
  const sha256 = "0".repeat(64);
  // kills: cli/recv_file.ts unsafeName, the drive-path check dropped.
  await assertHeaderRefused(
    { name: "C:notes.txt", size: 1, sha256 },
    'refused the name "C:notes.txt": it is a drive path',
  );
  // kills: cli/recv_file.ts unsafeName, the length counted in UTF-16 units (128 of them).
  const wide = "é".repeat(128);
  await assertHeaderRefused(
    { name: wide, size: 1, sha256 },
    `refused the name ${JSON.stringify(wide)}: it is over 255 bytes`,
  );
  // kills: cli/recv_file.ts NAME_MAX_BYTES over Linux's 255.
  const long = "a".repeat(256);
  await assertHeaderRefused(
    { name: long, size: 1, sha256 },
    `refused the name "${long}": it is over 255 bytes`,
  );
});

/** Sends a header, then `chunks` and the end message; resolves to the last reply and the failure. */
async function transfer(dir: string, size: number, data: Uint8Array, chunks: Uint8Array[]) {
  using out = new Captured();
  const { running, sender } = await receiver(dir, out);
  try {
    await sendMsg(sender, JSON.stringify({ name: "x.bin", size, sha256: await sha256Hex(data) }));
    deepEqual(await reply(sender), { ok: true });
    for (const chunk of chunks) await sendMsg(sender, chunk);
    await sendMsg(sender, new Uint8Array(0)).catch(() => {});
    const last = await reply(sender);
    const failure = await running.then(() => null, (err) => (err as Error).message);
    return { last, failure };
  } finally {
    sender.close();
  }
}

Deno.test("recv-file refuses fewer bytes than announced, even with their SHA-256, and one byte more", async () => {
  await using dir = await tempDir();
  // kills: cli/recv_file.ts receiveData, a short transfer whose digest matches kept.
  const short = await transfer(dir.path, 5, bytes("abc"), [bytes("abc")]);
  const fewer = "the sender sent 3 of the 5 bytes it announced";
  deepEqual(short, { last: { ok: false, error: fewer }, failure: fewer });
  // kills: cli/recv_file.ts receiveData, one byte over the size let through.
  const over = await transfer(dir.path, 3, bytes("abcd"), [bytes("abcd")]);
  const more = "the sender sent more than the 3 bytes it announced";
  deepEqual(over, { last: { ok: false, error: more }, failure: more });
  deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("recv-file stops listening once its one sender is accepted", async () => {
  // kills: cli/recv_file.ts, the listener kept open during the transfer.
  await using dir = await tempDir();
  using out = new Captured();
  const { running, port, sender } = await receiver(dir.path, out);
  try {
    await out.line(/^connection from /);
    ok(await refused(port), "a second sender is refused during the transfer");
  } finally {
    sender.close();
  }
  await rejects(running, Failure);
});

Deno.test("send-file fails when the receiver reports another SHA-256 than its own", async () => {
  // kills: cli/send_file.ts, the receiver's digest not compared.
  await using dir = await tempDir();
  const path = `${dir.path}/data.bin`;
  await Deno.writeFile(path, bytes("hello"));
  const digest = await sha256Hex(bytes("hello"));
  await using server = createServer(["127.0.0.1", 0]);
  const [, port] = server.getsockname() as [string, number];
  using _out = new Captured();
  const sending = start(sendFileCommand, ["127.0.0.1", String(port), path]);
  sending.catch(() => {});
  const [conn] = await server.accept();
  try {
    deepEqual(await reply(conn), { name: "data.bin", size: 5, sha256: digest });
    await sendMsg(conn, JSON.stringify({ ok: true }));
    equal(text((await recvMsg(conn))!), "hello");
    equal((await recvMsg(conn))!.length, 0);
    await sendMsg(conn, JSON.stringify({ ok: true, sha256: "f".repeat(64), size: 5 }));
    await rejects(
      sending,
      (err) =>
        err instanceof Failure &&
        err.message === `127.0.0.1:${port} computed sha256 ${"f".repeat(64)}, expected ${digest}`,
    );
  } finally {
    conn.close();
  }
  match(digest, /^[0-9a-f]{64}$/);
});

/** A send-file of `data` running in-process to a receiver this test plays; `conn` is its connection. */
async function sendingTo(dir: string, data: Uint8Array, extra: string[] = []) {
  const path = `${dir}/data.bin`;
  await Deno.writeFile(path, data);
  const server = createServer(["127.0.0.1", 0]);
  const [, port] = server.getsockname() as [string, number];
  const sending = start(sendFileCommand, [...extra, "127.0.0.1", String(port), path]);
  sending.catch(() => {});
  const [conn] = await server.accept();
  server.close();
  return { path, port, sending, conn };
}

Deno.test("send-file shows at most 300 characters of a receiver's refusal", async () => {
  // kills: cli/send_file.ts printable, a peer's text of any length printed.
  await using dir = await tempDir();
  using _out = new Captured();
  const { port, sending, conn } = await sendingTo(dir.path, bytes("hi"));
  try {
    await recvMsg(conn);
    await sendMsg(conn, JSON.stringify({ ok: false, error: "e".repeat(1000) }));
    await rejects(
      sending,
      (err) =>
        err instanceof Failure &&
        err.message === `127.0.0.1:${port} refused data.bin: ${"e".repeat(300)}...`,
    );
  } finally {
    conn.close();
  }
});

Deno.test("send-file of a file that grows after its header was sent fails saying to send it again", async () => {
  // kills: cli/send_file.ts sendChunks, a size change not noticed.
  await using dir = await tempDir();
  using _out = new Captured();
  const { path, sending, conn } = await sendingTo(dir.path, bytes("hello"), ["--timeout", "5"]);
  try {
    deepEqual(JSON.parse(text((await recvMsg(conn))!)).size, 5);
    await Deno.writeFile(path, bytes("!"), { append: true });
    await sendMsg(conn, JSON.stringify({ ok: true }));
    await rejects(
      sending,
      (err) =>
        err instanceof Failure &&
        err.message === "data.bin changed size while being sent; send it again",
    );
  } finally {
    conn.close();
  }
});

Deno.test("send-file of a directory named with a trailing slash says it is not a regular file", async () => {
  // kills: cli/send_file.ts baseName, trailing separators not dropped first.
  // Nothing is sent: the file is checked before connecting.
  await using dir = await tempDir();
  await rejects(
    start(sendFileCommand, ["127.0.0.1", "9", `${dir.path}/`]),
    (err) =>
      err instanceof Failure && err.message === `cannot send ${dir.path}/: not a regular file`,
  );
});

Deno.test("recv-file says the sender closed mid-message when a data message is cut short", async () => {
  // kills: cli/_transfer.ts transferError, IncompleteReadError not worded.
  await using dir = await tempDir();
  using out = new Captured();
  const { running, sender } = await receiver(dir.path, out);
  try {
    const header = { name: "x.bin", size: 10, sha256: await sha256Hex(bytes("0123456789")) };
    await sendMsg(sender, JSON.stringify(header));
    deepEqual(await reply(sender), { ok: true });
    // A 10-byte message announced, 3 bytes of it sent.
    await sender.sendall(new Uint8Array([0, 0, 0, 10, 0x30, 0x31, 0x32]));
  } finally {
    sender.close();
  }
  await rejects(
    running,
    (err) =>
      err instanceof Failure &&
      /^receiving from 127\.0\.0\.1:\d+ failed: the peer closed the connection mid-message; nothing was written$/
        .test(err.message),
  );
  deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("formatBytes switches unit at exactly 1024", () => {
  // kills: cli/_progress.ts formatBytes, 1024 left in bytes.
  equal(formatBytes(1023), "1023 B");
  equal(formatBytes(1024), "1.0 KiB");
  equal(formatBytes(1024 ** 2), "1.0 MiB");
});

Deno.test("udp-send - refuses stdin one byte over the largest datagram, sending nothing", async () => {
  // kills: cli/udp_send.ts readStdin, one byte over the limit read as a datagram.
  await using listener = socket(AF_INET, SOCK_DGRAM);
  listener.bind(["127.0.0.1", 0]);
  const [, port] = listener.getsockname() as [string, number];
  await using cli = new Cli(["udp-send", "127.0.0.1", String(port), "-"], { stdin: true });
  await cli.input(new Uint8Array(MAX_DATAGRAM_IPV6 + 1));
  assertFailure(
    await cli.result(),
    1,
    /^pysock udp-send: stdin holds more than one datagram can carry \(65527 bytes\); send less\n$/,
  );
});

Deno.test("echo-server --tls drops a client that reset before it was accepted and goes on", async () => {
  // kills: cli/echo_server.ts, a failed TLS accept ending the whole server.
  const c = await certs();
  await using server = new Cli(["echo-server", "--tls", "--cert", c.server, "--key", c.serverKey], {
    perms: ["--allow-net=127.0.0.1", "--allow-read"],
  });
  const port = await server.port();
  await resetWhileStopped(server.child, port);
  await server.stderrMatch(/^dropped a client: .*reset/m);
  server.signal("SIGTERM");
  const result = await server.result();
  equal(result.code, 0, result.stderr);
});

Deno.test("recv-file --dir naming a file fails before listening", async () => {
  // kills: cli/recv_file.ts checkDir, a file taken for a directory.
  await using dir = await tempDir();
  const file = `${dir.path}/plain`;
  await Deno.writeTextFile(file, "");
  using out = new Captured();
  const running = start(recvFileCommand, ["--dir", file]);
  running.catch(() => {});
  // Bounded: a recv-file that listened anyway is given a sender that leaves.
  const listening = out.line(/^listening on 127\.0\.0\.1:(\d+)$/).then(async (found) => {
    (await createConnection(["127.0.0.1", Number(found[1])])).close();
  });
  await rejects(
    running,
    (err) => err instanceof Failure && err.message === `cannot use --dir ${file}: not a directory`,
  );
  ok(!out.lines.some((line) => line.startsWith("listening on")), out.lines.join("\n"));
  listening.catch(() => {});
});

Deno.test("recv-file --timeout gives up on a sender that connects and stays silent", async () => {
  // kills: cli/recv_file.ts, --timeout not set on the connection.
  await using dir = await tempDir();
  using out = new Captured();
  const running = start(recvFileCommand, ["--dir", dir.path, "--timeout", "0.2"]);
  running.catch(() => {});
  const port = Number((await out.line(/^listening on 127\.0\.0\.1:(\d+)$/))[1]);
  const sender = await createConnection(["127.0.0.1", port]);
  // Bounded: a recv-file that never times out sees the sender leave after 5 s.
  const guard = setTimeout(() => sender.close(), 5000);
  try {
    await rejects(
      running,
      (err) =>
        err instanceof Failure &&
        /^receiving from 127\.0\.0\.1:\d+ failed: the peer went silent \(raise --timeout if it is slow\); nothing was written$/
          .test(err.message),
    );
  } finally {
    clearTimeout(guard);
    sender.close();
  }
});

Deno.test("recv-file without --overwrite keeps a file that appeared during the transfer, and says so", async () => {
  // kills: cli/recv_file.ts keep, AlreadyExists worded as any other write failure.
  await using dir = await tempDir();
  using out = new Captured();
  // kills: cli/recv_file.ts joinPath, "DIR/" joined as "DIR//x.bin".
  const { running, sender } = await receiver(`${dir.path}/`, out);
  const refusal = `refused ${dir.path}/x.bin: it appeared during the transfer`;
  try {
    await sendMsg(
      sender,
      JSON.stringify({ name: "x.bin", size: 3, sha256: await sha256Hex(bytes("new")) }),
    );
    deepEqual(await reply(sender), { ok: true });
    await Deno.writeTextFile(`${dir.path}/x.bin`, "old");
    await sendMsg(sender, bytes("new"));
    await sendMsg(sender, new Uint8Array(0));
    deepEqual(await reply(sender), { ok: false, error: refusal });
  } finally {
    sender.close();
  }
  await rejects(running, (err) => err instanceof Failure && err.message === refusal);
  deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["x.bin"]);
  equal(await Deno.readTextFile(`${dir.path}/x.bin`), "old");
});

Deno.test("send-file refuses a reply whose ok is not a boolean", async () => {
  // kills: cli/send_file.ts readReply, {"ok": "yes"} taken as a go-ahead.
  await using dir = await tempDir();
  using _out = new Captured();
  const { sending, conn } = await sendingTo(dir.path, bytes("hi"), ["--timeout", "5"]);
  try {
    await recvMsg(conn);
    await sendMsg(conn, JSON.stringify({ ok: "yes" }));
    await rejects(
      sending,
      (err) =>
        err instanceof Failure &&
        err.message === "the receiver answered something that is not a recv-file reply",
    );
  } finally {
    conn.close();
  }
});

Deno.test("recv-file stopped by SIGTERM during a transfer exits 1 saying nothing was written", async () => {
  // kills: cli/recv_file.ts, a stop during the transfer worded as a failed receive.
  await using dir = await tempDir();
  await using cli = new Cli(["recv-file", "--dir", dir.path], {
    perms: ["--allow-net=127.0.0.1", `--allow-read=${dir.path}`, `--allow-write=${dir.path}`],
  });
  const port = await cli.port();
  await using sender = await createConnection(["127.0.0.1", port]);
  await sendMsg(sender, JSON.stringify({ name: "x.bin", size: 10, sha256: "0".repeat(64) }));
  deepEqual(await reply(sender), { ok: true });
  cli.signal("SIGTERM");
  assertFailure(
    await cli.result(),
    1,
    /^pysock recv-file: stopped during the transfer; nothing was written\n$/,
  );
  deepEqual([...Deno.readDirSync(dir.path)], []);
});
