// Every seed program against its Python original: the seed's code (tests/py/seed_*.py,
// made runnable) on one end and the pysock port (examples/) on the other, in both
// directions, comparing exact output. Examples run as subprocesses with the command and
// permissions of their deno.json task.

import assert from "node:assert/strict";
import { createConnection, type StreamSocket } from "../mod.ts";
import { recvExactly } from "../framing.ts";
import { example, type Finished, type Proc, pythonProgram, resetWhileStopped } from "./_helpers.ts";

const decoder = new TextDecoder();

/** Runs the seed's Python program tests/py/`file`, unbuffered so output is seen at once. */
const seed = pythonProgram;

/** Replaces the client port in printed addresses, which differs on every run. */
function maskPorts(text: string): string {
  return text.replaceAll(/\('127\.0\.0\.1', \d+\)/g, "('127.0.0.1', PORT)");
}

/** Output after the port line, ports masked. */
function afterPort(stdout: string): string {
  return maskPorts(stdout.slice(stdout.indexOf("\n") + 1));
}

function sortedLines(text: string): string[] {
  return text.split("\n").filter((line) => line.length > 0).sort();
}

function count(text: string, line: string): number {
  return text.split("\n").filter((l) => l === line).length;
}

// Python's input() at end of stdin raises EOFError; the seed does not catch it.
function assertEndedWithEOFError(result: Finished) {
  assert.equal(result.code, 1);
  assert.match(result.stderr, /EOFError: EOF when reading a line\n$/);
}

/** A seed program with two ends, and what each end prints. */
interface SeedPair {
  seed: string;
  name: string;
  server: { ts: string; py: string; output: string; loops?: boolean };
  client: {
    ts: string;
    py: string;
    output: string;
    stdin?: string;
    tsArgs?: (port: number) => string[];
    pyArgs?: (port: number) => string[];
    pythonEndsWithEOFError?: boolean;
  };
}

const PAIRS: SeedPair[] = [
  {
    seed: "000",
    name: "accumulate",
    server: {
      ts: "accumulate_server.ts",
      py: "seed_000_accumulate_server.py",
      output: "666\n",
    },
    client: { ts: "accumulate_client.ts", py: "seed_000_accumulate_client.py", output: "" },
  },
  {
    seed: "001",
    name: "phone",
    server: {
      ts: "phone_server.ts",
      py: "seed_001_phone_server.py",
      output: "starting...\n客户端的数据 b'hello'\n",
    },
    client: { ts: "phone_client.ts", py: "seed_001_phone_client.py", output: "b'HELLO'\n" },
  },
  {
    seed: "002",
    name: "one-shot",
    server: {
      ts: "oneshot_server.ts",
      py: "seed_002_oneshot_server.py",
      output: "Waiting for client connect.\nNew connect: ('127.0.0.1', PORT)\n" +
        "Accept news: b'123'\n",
    },
    client: { ts: "oneshot_client.ts", py: "seed_002_oneshot_client.py", output: "" },
  },
  {
    seed: "002",
    name: "multi-round",
    server: {
      ts: "multiround_server.ts",
      py: "seed_002_multiround_server.py",
      output: "Waiting for client connect.\nNew connect: ('127.0.0.1', PORT)\n" +
        "Accept news: b'hello'\nAccept news: b'second message'\nAccept news: b'bye'\n" +
        "Client disconnect.\n",
    },
    client: {
      ts: "multiround_client.ts",
      py: "seed_002_multiround_client.py",
      // The empty line is skipped after its prompt, as in the seed.
      stdin: "hello\n\n  second message  \nbye\n",
      output: ">>>:from server: b'HELLO'\n>>>:>>>:from server: b'SECOND MESSAGE'\n" +
        ">>>:from server: b'BYE'\n>>>:",
      pythonEndsWithEOFError: true,
    },
  },
  {
    seed: "003",
    name: "echo16",
    server: { ts: "echo16_server.ts", py: "seed_003_echo16_server.py", output: "", loops: true },
    client: {
      ts: "echo16_client.ts",
      py: "seed_003_echo16_client.py",
      tsArgs: (port) => ["--host", "localhost", "--port", String(port)],
      pyArgs: (port) => ["localhost", String(port)],
      output: "Socket Created\nIp address of localhost is 127.0.0.1\n" +
        "Socket Connected to localhost on ip 127.0.0.1\n" +
        "Received b'This is the message.  It will be repeated.'\n",
    },
  },
];

/** Starts `server`, then `client` on its port; returns both results once both are done. */
async function exchange(
  pair: SeedPair,
  server: Proc,
  startClient: (port: number) => Proc,
  serverRunsForever: boolean,
): Promise<{ server: Finished; client: Finished }> {
  await using serverProc = server;
  const port = await serverProc.port();
  await using clientProc = startClient(port);
  if (pair.client.stdin !== undefined) {
    await clientProc.write(pair.client.stdin);
    await clientProc.closeStdin();
  }
  const client = await clientProc.finish();
  if (serverRunsForever) {
    // The Python original loops forever: stop it once it has printed all it will print.
    await serverProc.waitFor((out) => afterPort(out) === pair.server.output);
    serverProc.kill();
  }
  return { server: await serverProc.finish(), client };
}

for (const pair of PAIRS) {
  const label = `seed ${pair.seed} ${pair.name}`;
  const tsClientArgs = pair.client.tsArgs ?? ((port: number) => ["--port", String(port)]);
  const pyClientArgs = pair.client.pyArgs ?? ((port: number) => [String(port)]);
  const stdin = pair.client.stdin !== undefined;

  Deno.test(`${label}: the pysock server prints what the Python server prints, for the Python client`, async () => {
    const serverArgs = ["--port", "0", ...(pair.server.loops ? ["--max-clients", "1"] : [])];
    const result = await exchange(
      pair,
      example(pair.server.ts, serverArgs),
      (port) => seed(pair.client.py, pyClientArgs(port), stdin),
      false,
    );
    assert.equal(result.server.stderr, "");
    assert.equal(result.server.code, 0);
    assert.equal(afterPort(result.server.stdout), pair.server.output);
    assert.equal(result.client.stdout, pair.client.output);
    if (pair.client.pythonEndsWithEOFError) assertEndedWithEOFError(result.client);
    else assert.deepEqual([result.client.code, result.client.stderr], [0, ""]);
  });

  Deno.test(`${label}: the pysock client prints what the Python client prints, against the Python server`, async () => {
    const result = await exchange(
      pair,
      seed(pair.server.py, ["0"]),
      (port) => example(pair.client.ts, tsClientArgs(port), stdin),
      pair.server.loops ?? false,
    );
    assert.deepEqual([result.client.code, result.client.stderr], [0, ""]);
    assert.equal(result.client.stdout, pair.client.output);
    assert.equal(afterPort(result.server.stdout), pair.server.output);
    if (!pair.server.loops) assert.deepEqual([result.server.code, result.server.stderr], [0, ""]);
  });
}

Deno.test("seed 002 multi-connection: the pysock server talks to three Python clients at the same time", async () => {
  await using server = example("multiconn_server.ts", ["--port", "0", "--max-clients", "3"]);
  const port = await server.port();
  await using c1 = seed("seed_002_multiround_client.py", [String(port)], true);
  await using c2 = seed("seed_002_multiround_client.py", [String(port)], true);
  await using c3 = seed("seed_002_multiround_client.py", [String(port)], true);
  const clients = [c1, c2, c3];
  // Each client gets its reply while the others are still connected: the seed's server
  // would leave clients 2 and 3 waiting until client 1 quits.
  for (const [i, client] of clients.entries()) {
    await client.write(`client ${i + 1} first\n`);
    await client.waitFor((out) => out.includes(`b'CLIENT ${i + 1} FIRST'`));
  }
  for (const [i, client] of clients.entries()) await client.write(`client ${i + 1} second\n`);
  const results = await Promise.all(clients.map((client) => client.finish()));
  for (const [i, result] of results.entries()) {
    assert.equal(
      result.stdout,
      `>>>:from server: b'CLIENT ${i + 1} FIRST'\n>>>:from server: b'CLIENT ${i + 1} SECOND'\n>>>:`,
    );
    assertEndedWithEOFError(result);
  }
  const { code, stdout, stderr } = await server.finish();
  assert.deepEqual([code, stderr], [0, ""]);
  const expected = [1, 2, 3].flatMap((i) => [
    "Waiting for client connect.",
    "New connect: ('127.0.0.1', PORT)",
    `Accept news: b'client ${i} first'`,
    `Accept news: b'client ${i} second'`,
    "Client disconnect.",
  ]);
  assert.deepEqual(sortedLines(afterPort(stdout)), expected.sort());
});

Deno.test("seed 002 multi-connection: the Python server queues three pysock clients and serves each in turn", async () => {
  await using server = seed("seed_002_multiconn_server.py", ["0"]);
  const port = await server.port();
  const clients = [1, 2, 3].map(() =>
    example("multiround_client.ts", ["--port", String(port)], true)
  );
  try {
    await Promise.all(clients.map((client, i) => client.write(`client ${i + 1}\n`)));
    const results = await Promise.all(clients.map((client) => client.finish()));
    for (const [i, result] of results.entries()) {
      assert.deepEqual(result, {
        code: 0,
        stdout: `>>>:from server: b'CLIENT ${i + 1}'\n>>>:`,
        stderr: "",
      });
    }
  } finally {
    for (const client of clients) await client[Symbol.asyncDispose]();
  }
  await server.waitFor((out) => count(out, "Waiting for client connect.") === 4);
  server.kill();
  const expected = [
    "Waiting for client connect.",
    ...[1, 2, 3].flatMap((i) => [
      "Waiting for client connect.",
      "New connect: ('127.0.0.1', PORT)",
      `Accept news: b'client ${i}'`,
      "Client disconnect.",
    ]),
  ];
  assert.deepEqual(sortedLines(afterPort((await server.finish()).stdout)), expected.sort());
});

Deno.test("seed 002 multi-connection: the pysock server stops cleanly on SIGTERM with a client connected", async () => {
  await using server = example("multiconn_server.ts", ["--port", "0"]);
  const port = await server.port();
  await using client = await createConnection(["127.0.0.1", port], { timeout: 10 });
  await client.sendall("ping");
  assert.equal(decoder.decode(await recvExactly(client, 4)), "PING");
  server.kill("SIGTERM");
  const { code, stdout, stderr } = await server.finish();
  assert.deepEqual([code, stderr], [0, ""]);
  assert.equal(
    afterPort(stdout),
    "Waiting for client connect.\nNew connect: ('127.0.0.1', PORT)\n" +
      "Waiting for client connect.\nAccept news: b'ping'\n",
  );
  // The server closed our connection on its way out.
  assert.equal((await client.recv(16)).length, 0);
});

Deno.test("seed 003 echo16: the pysock server echoes three clients that are connected at the same time", async () => {
  await using server = example("echo16_server.ts", ["--port", "0", "--max-clients", "3"]);
  const port = await server.port();
  const clients: StreamSocket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      clients.push(await createConnection(["127.0.0.1", port], { timeout: 10 }));
    }
    // Last connected first: a server serving one client at a time would never answer.
    for (const i of [2, 1, 0]) {
      const message = `client ${i}: more than sixteen bytes, echoed in pieces`;
      await clients[i].sendall(message);
      const echoed = await recvExactly(clients[i], message.length);
      assert.equal(decoder.decode(echoed), message);
    }
  } finally {
    for (const client of clients) client.close();
  }
  const { code, stdout, stderr } = await server.finish();
  assert.deepEqual([code, afterPort(stdout), stderr], [0, "", ""]);
});

Deno.test("seed 003 echo16: three Python clients at once get their echo from the pysock server", async () => {
  await using server = example("echo16_server.ts", ["--port", "0", "--max-clients", "3"]);
  const port = await server.port();
  const clients = [1, 2, 3].map(() =>
    seed("seed_003_echo16_client.py", ["localhost", String(port)])
  );
  const results = await Promise.all(clients.map((client) => client.finish()));
  for (const result of results) {
    assert.deepEqual(result, { code: 0, stdout: PAIRS[4].client.output, stderr: "" });
  }
  assert.equal((await server.finish()).code, 0);
});

for (const file of ["echo16_server.ts", "multiconn_server.ts"]) {
  Deno.test(`${file} keeps serving after a client that reset before it was accepted`, async () => {
    await using server = example(file, ["--port", "0", "--max-clients", "2"]);
    const port = await server.port();
    await resetWhileStopped(server, port);
    await using client = await createConnection(["127.0.0.1", port], { timeout: 10 });
    await client.sendall("still serving");
    const reply = await recvExactly(client, "still serving".length);
    assert.match(decoder.decode(reply), /^still serving$/i);
    client.close();
    const { code, stdout, stderr } = await server.finish();
    assert.equal(code, 0, stderr);
    // The reset client's connection ended in its handler, not in the accept loop.
    assert.match(stdout + stderr, /Connection reset by peer/);
  });
}

Deno.test("demo prints the upper-casing exchange and exits 0 by itself", async () => {
  await using demo = example("demo.ts", []);
  const { code, stdout, stderr } = await demo.finish();
  assert.deepEqual([code, stderr], [0, ""]);
  assert.equal(
    maskPorts(stdout.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:PORT")),
    [
      "server: listening on 127.0.0.1:PORT",
      "server: connection from ('127.0.0.1', PORT)",
      "server: received b'hello'",
      "client: reply b'HELLO'",
      `server: received b"pysock speaks Python's socket API"`,
      `client: reply b"PYSOCK SPEAKS PYTHON'S SOCKET API"`,
      "server: received b'bye'",
      "client: reply b'BYE'",
      "server: client closed the connection",
      "demo: done",
      "",
    ].join("\n"),
  );
});

Deno.test("examples answer --help with their usage and reject a bad port with exit status 2", async () => {
  await using help = example("phone_server.ts", ["--help"]);
  const shown = await help.finish();
  assert.equal(shown.code, 0);
  assert.match(
    shown.stdout,
    /^Usage: deno run --allow-net=127\.0\.0\.1 examples\/phone_server\.ts/,
  );
  await using bad = example("phone_client.ts", ["--port", "70000"]);
  assert.deepEqual(await bad.finish(), {
    code: 2,
    stdout: "",
    stderr: 'phone_client.ts: --port must be an integer 0-65535, got "70000" (try --help)\n',
  });
});
