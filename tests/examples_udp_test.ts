// The UDP examples end to end, as processes: the Deno server and client with each other
// and with their CPython twins (tests/py/udp_echo_server.py, tests/py/udp_client.py).
// Each pairing must print the same lines, byte for byte, up to the port numbers.

import assert from "node:assert/strict";
import { AF_INET, SOCK_DGRAM, socket } from "../mod.ts";

const ROOT = new URL("..", import.meta.url);
const decoder = new TextDecoder();
const LINES = "hello\nwörld\n\nUDP keeps 1 datagram = 1 message\n";
const EXPECTED_REPLIES = "HELLO\nWöRLD\n\nUDP KEEPS 1 DATAGRAM = 1 MESSAGE\n";
const DATAGRAMS = 4;

type Side = "deno" | "python";

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** A started server: its port (the first line it prints) and the rest of its run. */
interface Server {
  port: number;
  finished: Promise<Finished>;
}

function command(
  side: Side,
  example: "server" | "client",
  args: string[],
  stdin: "piped" | "null" = "piped",
): Deno.Command {
  const opts = { cwd: ROOT, stdin, stdout: "piped", stderr: "piped" } as const;
  if (side === "deno") {
    const file = example === "server" ? "examples/udp_echo_server.ts" : "examples/udp_client.ts";
    return new Deno.Command(Deno.execPath(), {
      ...opts,
      args: ["run", "--allow-net=127.0.0.1", file, ...args],
      env: { NO_COLOR: "1" },
    });
  }
  const file = example === "server" ? "tests/py/udp_echo_server.py" : "tests/py/udp_client.py";
  return new Deno.Command("python3", { ...opts, args: ["-u", file, ...args] });
}

async function collect(child: Deno.ChildProcess, stdout: Promise<string>): Promise<Finished> {
  const [status, out, err] = await Promise.all([
    child.status,
    stdout,
    new Response(child.stderr).text(),
  ]);
  return { code: status.code, stdout: out, stderr: err };
}

/** Starts a server process and waits for the port it prints first. */
async function spawnServer(
  side: Side,
  args: string[],
): Promise<Server & { child: Deno.ChildProcess }> {
  const child = command(side, "server", args, "null").spawn();
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
  }
  const all = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      seen += decoder.decode(r.value, { stream: true });
    }
    return seen;
  })();
  const finished = collect(child, all);
  const port = Number(seen.slice(0, seen.indexOf("\n")));
  if (!(port > 0)) {
    const { stderr } = await finished;
    throw new Error(`the ${side} server printed no port: ${seen} ${stderr}`);
  }
  return { port, finished, child };
}

/** Starts a server that stops by itself after `count` datagrams. */
function startServer(side: Side, count: number): Promise<Server> {
  const args = side === "deno"
    ? ["--port", "0", "--count", String(count)]
    : ["127.0.0.1", "0", String(count)];
  return spawnServer(side, args);
}

/** Runs a client to the end with `input` on its stdin. */
async function runClient(side: Side, port: number, input: string, timeout = "10") {
  const args = side === "deno"
    ? ["--port", String(port), "--timeout", timeout]
    : ["127.0.0.1", String(port), timeout];
  const child = command(side, "client", args).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  return await collect(child, new Response(child.stdout).text());
}

/** Server output with the client's port blanked, so two runs compare equal. */
function normalize(serverOutput: string): string {
  return serverOutput.split("\n").slice(1).join("\n").replace(/, \d+\)$/gm, ", PORT)");
}

async function pairing(server: Side, client: Side): Promise<{ server: string; client: string }> {
  const started = await startServer(server, DATAGRAMS);
  const ran = await runClient(client, started.port, LINES);
  const done = await started.finished;
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(done.code, 0, done.stderr);
  return { server: normalize(done.stdout), client: ran.stdout };
}

const SERVER_LINES = [
  "received b'hello' from ('127.0.0.1', PORT)",
  "received b'w\\xc3\\xb6rld' from ('127.0.0.1', PORT)",
  "received b'' from ('127.0.0.1', PORT)",
  "received b'UDP keeps 1 datagram = 1 message' from ('127.0.0.1', PORT)",
  "",
].join("\n");

Deno.test("udp examples: the client prints each line's upper-cased echo from the server", async () => {
  const { server, client } = await pairing("deno", "deno");
  assert.equal(client, EXPECTED_REPLIES);
  assert.equal(server, SERVER_LINES);
});

Deno.test("udp examples: the Deno client against the Python server prints what the Python client prints", async () => {
  const python = await pairing("python", "python");
  const mixed = await pairing("python", "deno");
  assert.equal(python.client, EXPECTED_REPLIES);
  assert.equal(mixed.client, python.client);
  assert.equal(mixed.server, python.server);
});

Deno.test("udp examples: the Deno server answers the Python client as the Python server does", async () => {
  const python = await pairing("python", "python");
  const mixed = await pairing("deno", "python");
  assert.equal(mixed.client, python.client);
  assert.equal(mixed.server, python.server);
  assert.equal(mixed.server, SERVER_LINES);
});

Deno.test("udp examples: a missing reply is reported and the client exits 1, as in Python", async () => {
  // A bound socket that never answers: the datagram arrives and is ignored.
  await using silent = socket(AF_INET, SOCK_DGRAM);
  silent.bind(["127.0.0.1", 0]);
  const port = silent.getsockname()[1] as number;
  const deno = await runClient("deno", port, "anyone there?\n", "0.2");
  const python = await runClient("python", port, "anyone there?\n", "0.2");
  assert.equal(deno.code, 1);
  assert.equal(python.code, 1);
  assert.equal(deno.stdout, `timed out: no reply from ('127.0.0.1', ${port})\n`);
  assert.equal(deno.stdout, python.stdout);
  const [first] = await silent.recvfrom(100);
  assert.equal(decoder.decode(first), "anyone there?");
});

Deno.test("udp examples: --help exits 0 and a bad argument exits 2 with one line", async () => {
  for (const example of ["server", "client"] as const) {
    const help = await command("deno", example, ["--help"], "null").output();
    assert.equal(help.code, 0);
    assert.match(decoder.decode(help.stdout), /^Usage: deno run --allow-net=127\.0\.0\.1 /);
    const bad = await command("deno", example, ["--port", "70000"], "null").output();
    assert.equal(bad.code, 2);
    const stderr = decoder.decode(bad.stderr);
    assert.match(stderr, /--port must be an integer/);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

Deno.test("udp examples: the server stops cleanly on SIGINT", async () => {
  const server = await spawnServer("deno", ["--port", "0"]);
  server.child.kill("SIGINT");
  const { code, stdout, stderr } = await server.finished;
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `${server.port}\n`);
});
