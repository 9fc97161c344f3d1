// Security review of examples/ and cli/, as tests: nothing executes what
// a peer sends, servers bind loopback unless told otherwise, every length a
// peer announces is capped before anything is allocated for it, and a file
// transfer cannot write outside the directory it was given.

import assert from "node:assert/strict";
import { createServer, socket } from "../mod.ts";
import { recvMsg, sendMsg } from "../framing.ts";
import { COMMANDS, runCommand } from "../examples/command_server.ts";
import { bytes, text } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The source of every file that handles peer data: the CLI, the examples and the library. */
async function sources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const dir of ["", "examples/"]) {
    for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
      if (entry.isFile && entry.name.endsWith(".ts")) {
        files.set(`${dir}${entry.name}`, await Deno.readTextFile(`${ROOT}${dir}${entry.name}`));
      }
    }
  }
  return files;
}

/** Code with comments removed, so a word in a comment is not taken for a call. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:\\])\/\/.*$/gm, "$1");
}

Deno.test("no file evaluates code; only command_server starts programs, from a fixed allow-list, and serveWorkers, only Deno", async () => {
  const found: string[] = [];
  for (const [name, source] of await sources()) {
    const body = code(source);
    for (
      const [what, pattern] of [
        ["eval", /\beval\s*\(/],
        ["new Function", /\bnew\s+Function\s*\(/],
        // A literal `node:` builtin loaded lazily is not code from anywhere.
        ["dynamic import", /\bimport\s*\((?!\s*"node:[\w/]+"\s*\))/],
        ["Deno.run", /\bDeno\.run\b/],
        ["Deno.Command", /\bDeno\.Command\b/],
        ["node:child_process", /child_process/],
      ] as const
    ) {
      if (pattern.test(body)) found.push(`${name}: ${what}`);
    }
  }
  // serveWorkers (_server_workers.ts) starts the server's worker processes:
  // Deno itself, running a main module made of two JSON-quoted module URLs
  // the program gave, never anything a peer sent.
  assert.deepEqual(found, [
    "_server_workers.ts: Deno.Command",
    "examples/command_server.ts: Deno.Command",
  ]);
  const workers = code(await Deno.readTextFile(`${ROOT}_server_workers.ts`));
  const commands = [...workers.matchAll(/\bnew Deno\.Command\(([^,]*),/g)].map((m) => m[1]);
  assert.deepEqual(commands, ["Deno.execPath()"]);
  const imports = [...workers.matchAll(/`import [^`]*`/g)].map((m) => m[0]);
  assert.deepEqual(imports, [
    "`import * as module from ${JSON.stringify(plan.moduleUrl)};`",
    "`import { runWorker } from ${JSON.stringify(ENTRY)};`",
  ]);
  // There, the program and its arguments are string literals in the allow-list.
  const server = code(await Deno.readTextFile(`${ROOT}examples/command_server.ts`));
  const calls = [...server.matchAll(/\bprogram\((\[[^\]]*\])\)/g)].map((m) => m[1]);
  assert.ok(calls.length > 0);
  for (const argv of calls) {
    assert.match(argv, /^\[\s*"[\w-]+"(\s*,\s*"[\w-]+")*\s*\]$/, `program(${argv})`);
  }
});

Deno.test("command_server runs nothing it receives: shell syntax and extra arguments run nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const marker = `${dir}/ran`;
    const attempts = [
      `uname; touch ${marker}`,
      `uname && touch ${marker}`,
      `whoami | touch ${marker}`,
      `uname $(touch ${marker})`,
      `uname \`touch ${marker}\``,
      `touch ${marker}`,
      `sh -c "touch ${marker}"`,
      `uname\ntouch ${marker}`,
      `echo $(touch ${marker})`,
      `upper \`touch ${marker}\``,
      `lines 1; touch ${marker}`,
      `../../bin/touch ${marker}`,
      `/usr/bin/touch ${marker}`,
    ];
    for (const line of attempts) {
      const reply = await runCommand(line);
      const name = line.trim().split(/\s/)[0];
      if (name === "echo" || name === "upper") {
        // Text commands hand the text back, as text: nothing is run.
        assert.ok(reply.toLowerCase().includes("touch"), `${line}: ${reply}`);
      } else {
        assert.match(reply, /^error: /, `${JSON.stringify(line)} gave ${JSON.stringify(reply)}`);
      }
    }
    await assert.rejects(Deno.stat(marker), Deno.errors.NotFound, "an attempt ran a program");
    assert.deepEqual(
      [...COMMANDS.keys()].sort(),
      ["date", "echo", "help", "hostname", "lines", "uname", "upper", "uptime", "whoami"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the command-server tasks may run only whoami and uname, and every example task only reaches loopback", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
    tasks: Record<string, string>;
  };
  for (const [name, command] of Object.entries(tasks)) {
    if (!/\bdeno run\b.*\bexamples\//.test(command)) continue;
    assert.ok(!/\s-A\b|--allow-all/.test(command), `${name} grants everything`);
    assert.match(command, /--allow-net=127\.0\.0\.1(:\d+)?(\s|$)/, `${name}: ${command}`);
    const run = /--allow-run(=\S*)?/.exec(command);
    if (run !== null) assert.equal(run[0], "--allow-run=whoami,uname", `${name}: ${command}`);
  }
});

// ---- servers bind loopback by default ----

/** Local addresses listening (TCP) or bound (UDP) on `port`, from /proc/net. */
async function boundAddresses(port: number, udp: boolean): Promise<string[]> {
  const found: string[] = [];
  for (const file of udp ? ["udp", "udp6"] : ["tcp", "tcp6"]) {
    // Deno lets only --allow-all read /proc directly; cat needs only --allow-run.
    const { stdout, success } = await new Deno.Command("cat", { args: [`/proc/net/${file}`] })
      .output();
    assert.ok(success || file.endsWith("6"), `cannot read /proc/net/${file}`);
    for (const line of text(stdout).split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4) continue;
      const [hex, portHex] = fields[1].split(":");
      const listening = udp ? fields[3] === "07" : fields[3] === "0A";
      if (parseInt(portHex, 16) === port && listening) found.push(decodeAddress(hex));
    }
  }
  // /proc/net is read a page at a time; sockets that other tests open and
  // close meanwhile can shift a line into the next page, so one socket may be
  // listed twice. The question is which addresses, not how many lines.
  return [...new Set(found)];
}

/** /proc/net's hex address (32-bit words in host order) as text. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(""));
  if (words.length === 1) return words[0].match(/../g)!.map((b) => parseInt(b, 16)).join(".");
  const groups = words.join("").match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

interface Server {
  name: string;
  args: string[];
  perms: string[];
  udp: boolean;
  /** Where the port is printed: the first line of stdout, or "listening on" on stderr. */
  portOn: "stdout" | "stderr";
}

function exampleServers(): Server[] {
  const net = "--allow-net=127.0.0.1";
  const run = ["--allow-sys=osUptime,hostname", "--allow-run=whoami,uname"];
  return [
    "accumulate_server",
    "phone_server",
    "oneshot_server",
    "multiround_server",
    "multiconn_server",
    "echo16_server",
    "command_server",
    "command_server_ack",
    "udp_echo_server",
    "socketserver_tcp_server",
    "socketserver_udp_server",
    "multiround_threading_server",
  ].map((name) => ({
    name: `examples/${name}.ts`,
    args: [`examples/${name}.ts`, "--port", "0"],
    perms: name.startsWith("command") ? [net, ...run] : [net],
    udp: name.startsWith("udp") || name === "socketserver_udp_server",
    portOn: "stdout",
  }));
}

/** Starts `server` with no --host, reads its port, and returns where it is bound. */
async function defaultBinding(server: Server, dir: string): Promise<string[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...server.perms, ...server.args],
    cwd: dir === "" ? ROOT : dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stream = server.portOn === "stdout" ? child.stdout : child.stderr;
  const other = server.portOn === "stdout" ? child.stderr : child.stdout;
  const draining = new Response(other).text();
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let seen = "";
    let port = NaN;
    while (Number.isNaN(port)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${server.name} printed no port: ${seen} ${await draining}`);
      seen += value;
      const match = server.portOn === "stdout"
        ? /^(\d+)\n/.exec(seen)
        : /listening on (?:udp )?\S+:(\d+)\n/.exec(seen);
      if (match) port = Number(match[1]);
    }
    return await boundAddresses(port, server.udp);
  } finally {
    child.kill("SIGKILL");
    await reader.cancel().catch(() => {});
    await child.status;
    await draining.catch(() => {});
  }
}

Deno.test("every example server and CLI server binds 127.0.0.1 when no --host is given", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cli = `${ROOT}cli/mod.ts`;
    const files = [`--allow-read=${dir}`, `--allow-write=${dir}`];
    const servers: Server[] = [
      ...exampleServers(),
      ...[
        ["echo-server"],
        ["udp-listen"],
        ["recv-file", "--dir", dir],
      ].map(([command, ...rest]) => ({
        name: `cli ${command}`,
        args: [cli, command, ...rest],
        perms: ["--allow-net=127.0.0.1", ...(command === "recv-file" ? files : [])],
        udp: command === "udp-listen",
        portOn: "stderr" as const,
      })),
    ];
    const bindings = await Promise.all(
      servers.map(async (s) => [s.name, await defaultBinding(s, "")] as const),
    );
    for (const [name, addresses] of bindings) {
      assert.deepEqual(addresses, ["127.0.0.1"], `${name} is bound to ${addresses.join(", ")}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- lengths a peer announces are capped ----

/** A one-connection fake server on loopback that answers the first bytes it gets with `reply`. */
function fakeServer(reply: Uint8Array, framed = false) {
  const server = createServer(["127.0.0.1", 0]);
  const serving = (async () => {
    const [conn] = await server.accept();
    using _conn = conn;
    if (framed) await recvMsg(conn);
    else await conn.recv(4096);
    await conn.sendall(reply);
    // Stay silent and open: a client that waits for the announced bytes would hang here.
    while ((await conn.recv(4096)).length > 0) { /* until the client goes */ }
  })();
  return {
    port: server.getsockname()[1] as number,
    async [Symbol.asyncDispose]() {
      server.close();
      await serving.catch(() => {});
    },
  };
}

/** Runs an example against `port` with only that port allowed; resolves to its exit and output. */
async function runClient(file: string, port: number, stdin = "") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--allow-net=127.0.0.1:${port}`, file, "--port", String(port)],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(bytes(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

Deno.test("redis_ping refuses a bulk length over Redis's 512 MB limit instead of allocating it", async () => {
  for (const announced of ["2147483647", "536870913", "1e9", "12abc", "3.5"]) {
    await using fake = fakeServer(bytes(`$${announced}\r\n`));
    const { code, stderr } = await runClient("examples/redis_ping.ts", fake.port);
    assert.notEqual(code, 0, `accepted $${announced}`);
    assert.match(stderr, /bulk/i, `$${announced}: ${stderr}`);
    assert.doesNotMatch(stderr, /timed out/, `$${announced} waited for the bytes: ${stderr}`);
  }
});

Deno.test("command_client refuses a reply announcing more than 16 MiB before allocating it", async () => {
  const header = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  await using fake = fakeServer(header, true);
  const { code, stderr } = await runClient("examples/command_client.ts", fake.port, "help\n");
  assert.notEqual(code, 0);
  assert.match(stderr, /4294967295/, stderr);
});

// ---- file transfer stays in its directory ----

/** Sends one file by the recv-file protocol with a chosen name; resolves to the first answer. */
async function offer(port: number, name: string, data: Uint8Array): Promise<{ ok: boolean }> {
  const sock = socket();
  try {
    await sock.connect(["127.0.0.1", port]);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data.slice()));
    const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    await sendMsg(sock, JSON.stringify({ name, size: data.length, sha256 }));
    const first = JSON.parse(text((await recvMsg(sock))!));
    if (!first.ok) return first;
    await sendMsg(sock, data);
    await sendMsg(sock, new Uint8Array(0));
    return JSON.parse(text((await recvMsg(sock))!));
  } finally {
    sock.close();
  }
}

/** Runs `cli/mod.ts recv-file` into `dir` and offers it one file. */
async function receiveOnce(dir: string, root: string, name: string, extra: string[] = []) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      `--allow-read=${root}`,
      `--allow-write=${root}`,
      `${ROOT}cli/mod.ts`,
      "recv-file",
      "--dir",
      dir,
      ...extra,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let port = 0;
  while (port === 0) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`recv-file printed no port: ${seen}`);
    seen += value;
    port = Number(/listening on \S+:(\d+)\n/.exec(seen)?.[1] ?? 0);
  }
  const answer = await offer(port, name, bytes("payload"));
  const draining = (async () => {
    while (!(await reader.read()).done) { /* the rest of stderr */ }
  })();
  await new Response(child.stdout).arrayBuffer();
  await draining;
  const { code } = await child.status;
  return { answer, code };
}

Deno.test("recv-file never writes through a symlink in its directory", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = `${root}/inbox`;
    const outside = `${root}/outside.txt`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(outside, "untouched");
    await Deno.symlink(outside, `${dir}/link`);
    await Deno.symlink(root, `${dir}/up`);
    // Without --overwrite, a name that exists (even as a dangling or outside link) is refused.
    assert.equal((await receiveOnce(dir, root, "link")).answer.ok, false);
    // "up" is a link to a directory: refused as existing, so nothing lands in root.
    assert.equal((await receiveOnce(dir, root, "up")).answer.ok, false);
    assert.equal(await Deno.readTextFile(outside), "untouched");
    // With --overwrite, the link itself is replaced; the file it pointed to is not written.
    const replaced = await receiveOnce(dir, root, "link", ["--overwrite"]);
    assert.equal(replaced.answer.ok, true);
    assert.equal(await Deno.readTextFile(outside), "untouched");
    assert.equal((await Deno.lstat(`${dir}/link`)).isSymlink, false);
    assert.equal(await Deno.readTextFile(`${dir}/link`), "payload");
    assert.deepEqual(
      [...Deno.readDirSync(root)].map((e) => e.name).sort(),
      ["inbox", "outside.txt"],
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
