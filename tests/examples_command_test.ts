// The remote-command examples end to end: command_server.ts with command_client.ts and
// with a CPython framed client, and command_server_ack.ts with the seed's original
// Python client (tests/py/command_client_seed.py). Examples run as subprocesses with the
// command line and permissions of their deno.json task.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { socket } from "../mod.ts";
import { recvMsg, sendMsg } from "../framing.ts";
import { COMMANDS, MAX_REQUEST, runCommand } from "../examples/command_server.ts";
import { freePort, python, resetWhileStopped, text } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url);
/** A process still running after this is killed, so a hang fails instead of stalling. */
const PROCESS_TIMEOUT_MS = 20_000;
const tasks: Record<string, string> = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", ROOT)),
).tasks;

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** A child process with its output collected; disposing kills it if it still runs. */
class Proc implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<Finished>;
  #stdout = "";
  #wake: (() => void)[] = [];
  #exited = false;

  constructor(command: string, args: string[], stdin?: string) {
    const child = new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      writer.write(new TextEncoder().encode(stdin)).then(() => writer.close()).catch(() => {});
    }
    const timer = setTimeout(() => this.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
    const stdout = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        this.#stdout += chunk;
        this.#notify();
      }
    })();
    const stderr = new Response(child.stderr).text();
    this.#done = (async () => {
      const status = await child.status;
      clearTimeout(timer);
      this.#exited = true;
      await stdout;
      this.#notify();
      return { code: status.code, stdout: this.#stdout, stderr: await stderr };
    })();
  }

  #notify(): void {
    const waiters = this.#wake;
    this.#wake = [];
    for (const wake of waiters) wake();
  }

  /** The port a server prints as its first line. */
  async port(): Promise<number> {
    while (!this.#stdout.includes("\n")) {
      if (this.#exited) {
        throw new Error(`exited before printing a port: ${(await this.#done).stderr}`);
      }
      await new Promise<void>((wake) => this.#wake.push(wake));
    }
    const line = this.#stdout.slice(0, this.#stdout.indexOf("\n"));
    match(line, /^\d+$/);
    return Number(line);
  }

  kill(signal: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch { /* exited meanwhile */ }
  }

  finish(): Promise<Finished> {
    return this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.#done;
  }
}

/** Runs examples/`file` exactly as its deno.json task does. */
function example(file: string, args: string[], stdin?: string): Proc {
  const task = Object.values(tasks).find((line) => line.endsWith(`examples/${file}`));
  ok(task, `deno.json has a task for examples/${file}`);
  const [deno, ...taskArgs] = task.split(" ");
  equal(deno, "deno");
  return new Proc(Deno.execPath(), [...taskArgs, ...args], stdin);
}

function linesReply(n: number): string {
  let out = "";
  for (let i = 1; i <= n; i++) out += `line ${i}\n`;
  return out;
}

Deno.test("runCommand runs allow-listed commands only, and never through a shell", async () => {
  equal(await runCommand("echo hi $(id); rm -rf /"), "hi $(id); rm -rf /");
  equal(await runCommand("  upper  shout  "), "SHOUT");
  equal(await runCommand("lines 2"), "line 1\nline 2\n");
  equal(await runCommand("echo"), "");
  equal(await runCommand("rm -rf /"), "error: 'rm' is not an allowed command; try help");
  equal(await runCommand("uname; id"), "error: 'uname;' is not an allowed command; try help");
  equal(await runCommand("whoami --help"), "error: whoami takes no arguments");
  equal(await runCommand("date now"), "error: date takes no arguments");
  match(await runCommand("lines 100001"), /^error: lines takes a count from 0 to 100000/);
  match(await runCommand("lines -1"), /^error: lines takes a count/);
  equal(await runCommand(""), "error: '' is not an allowed command; try help");
  const help = await runCommand("help");
  for (const name of COMMANDS.keys()) match(help, new RegExp(`^${name}\\b`, "m"));
});

Deno.test("command_server and command_client exchange framed commands of any size", async () => {
  await using server = example("command_server.ts", ["--port", "0", "--max-clients", "1"]);
  const port = await server.port();
  const input = "echo hello world\n\nupper ok\nrm -rf /\nlines 10000\nwhoami\necho\n";
  await using client = example("command_client.ts", ["--port", String(port)], input);
  const result = await client.finish();
  equal(result.code, 0, result.stderr);
  const whoami = new TextDecoder().decode(
    (await new Deno.Command("whoami", { stdout: "piped" }).output()).stdout,
  ).trim();
  equal(
    result.stdout,
    ">>>:hello world\n>>>:>>>:OK\n" +
      ">>>:error: 'rm' is not an allowed command; try help\n" +
      `>>>:${linesReply(10000)}` +
      `>>>:${whoami}\n>>>:\n>>>:`,
  );
  const served = await server.finish();
  equal(served.code, 0, served.stderr);
  const log = served.stdout.split("\n");
  deepEqual(log.filter((line) => line.startsWith("run:")), [
    "run: 'echo hello world'",
    "run: 'upper ok'",
    "run: 'rm -rf /'",
    "run: 'lines 10000'",
    "run: 'whoami'",
    "run: 'echo'",
  ]);
  ok(log.some((line) => line.startsWith("client left:")));
});

const PY_FRAMED_CLIENT = `
import socket, struct, sys
def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError(f"{len(data)} of {n}")
        data += chunk
    return data
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for command in ["echo 你好", "lines 5000", "cat /etc/passwd"]:
    body = command.encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    (n,) = struct.unpack(">I", recv_exactly(s, 4))
    reply = recv_exactly(s, n).decode()
    print(n, reply.splitlines()[0] if reply else "", reply.count("\\n"))
s.close()
`;

Deno.test("a CPython client framing with struct.pack('>I') is served by command_server", async () => {
  await using server = example("command_server.ts", ["--port", "0", "--max-clients", "1"]);
  const port = await server.port();
  await using peer = python(PY_FRAMED_CLIENT, String(port));
  equal(
    await peer.output(),
    `6 你好 0\n${linesReply(5000).length} line 1 5000\n` +
      "48 error: 'cat' is not an allowed command; try help 0\n",
  );
  equal((await server.finish()).code, 0);
});

Deno.test("command_server drops a request over its 4 KiB cap and keeps serving others", async () => {
  await using server = example("command_server.ts", ["--port", "0", "--max-clients", "2"]);
  const port = await server.port();
  {
    using greedy = socket();
    await greedy.connect(["127.0.0.1", port]);
    await sendMsg(greedy, "echo " + "x".repeat(MAX_REQUEST));
    equal(await recvMsg(greedy), null, "the server closed this connection");
  }
  {
    using polite = socket();
    await polite.connect(["127.0.0.1", port]);
    await sendMsg(polite, "upper still here");
    equal(text((await recvMsg(polite))!), "STILL HERE");
  }
  const served = await server.finish();
  equal(served.code, 0);
  match(served.stdout, /dropped \('127\.0\.0\.1', \d+\): Cannot receive a 4101-byte message/);
});

for (const file of ["command_server.ts", "command_server_ack.ts"]) {
  Deno.test(`${file} keeps serving after a client that reset before it was accepted`, async () => {
    await using server = example(file, ["--port", "0", "--max-clients", "2"]);
    const port = await server.port();
    await resetWhileStopped(server, port);
    using client = socket();
    await client.connect(["127.0.0.1", port]);
    if (file === "command_server.ts") {
      await sendMsg(client, "upper still here");
      equal(text((await recvMsg(client))!), "STILL HERE");
    } else {
      // The seed's protocol: the request, then the size of the reply, an ack, the reply.
      await client.sendall("upper still here");
      const size = Number(text(await client.recv(64)));
      await client.sendall("ok");
      let reply = "";
      while (reply.length < size) reply += text(await client.recv(1024));
      equal(reply, "STILL HERE");
    }
    client.close();
    const served = await server.finish();
    equal(served.code, 0, served.stderr);
    match(served.stdout + served.stderr, /Connection reset by peer/);
  });
}

Deno.test("command_server stops cleanly on SIGTERM with a client connected", async () => {
  await using server = example("command_server.ts", ["--port", "0"]);
  const port = await server.port();
  using client = socket();
  await client.connect(["127.0.0.1", port]);
  await sendMsg(client, "echo ready");
  equal(text((await recvMsg(client))!), "ready");
  server.kill("SIGTERM");
  const served = await server.finish();
  equal(served.code, 0, served.stderr);
  equal(await recvMsg(client), null);
});

Deno.test("command_client reports a refused connection in one line and exits 1", async () => {
  await using client = example("command_client.ts", ["--port", String(freePort())], "");
  const result = await client.finish();
  equal(result.code, 1);
  match(
    result.stderr,
    /^command_client\.ts: cannot connect to 127\.0\.0\.1:\d+: .*Connection refused.*\n$/,
  );
});

Deno.test("command_server_ack serves the seed's original Python client, size then ack then result", async () => {
  await using server = example("command_server_ack.ts", ["--port", "0", "--max-clients", "1"]);
  const port = await server.port();
  const input = "echo 你好 hello\nlines 300\nrm -rf /\necho\n";
  await using client = new Proc("python3", [
    "-u",
    "tests/py/command_client_seed.py",
    String(port),
  ], input);
  const result = await client.finish();
  // As in the seed, input() raises EOFError at the end of stdin.
  equal(result.code, 1);
  match(result.stderr, /EOFError: EOF when reading a line\n$/);
  const lines300 = linesReply(300);
  equal(
    result.stdout,
    ">>>:命令结果大小: b'12'\ncmd res receive done... 12\n你好 hello\n" +
      `>>>:命令结果大小: b'${lines300.length}'\ncmd res receive done... ${lines300.length}\n` +
      `${lines300}\n` +
      ">>>:命令结果大小: b'47'\ncmd res receive done... 47\n" +
      "error: 'rm' is not an allowed command; try help\n" +
      ">>>:命令结果大小: b'20'\ncmd res receive done... 20\ncmd has no output...\n>>>:",
  );
  const served = await server.finish();
  equal(served.code, 0, served.stderr);
  const ack = "b'\\xe5\\x87\\x86\\xe5\\xa4\\x87\\xe5\\xa5\\xbd\\xe6\\x8e\\xa5\\xe5\\x8f\\x97" +
    "\\xe4\\xba\\x86,loser\\xe5\\x8f\\xaf\\xe4\\xbb\\xa5\\xe5\\x8f\\x91\\xe4\\xba\\x86'";
  const round = (command: string, size: number) =>
    `等待新指令\n执行命令: ${command}\nbefore send ${size}\nack from client: ${ack}\nsend done\n`;
  equal(
    served.stdout.replace(/\('127\.0\.0\.1', \d+\)/, "PEER"),
    `${port}\nWaiting for client connect.\nnew conn: PEER\n` +
      round("b'echo \\xe4\\xbd\\xa0\\xe5\\xa5\\xbd hello'", 8) +
      round("b'lines 300'", lines300.length) +
      round("b'rm -rf /'", 47) +
      round("b'echo'", 0) +
      "等待新指令\n客户端已断开\n",
  );
});
