// The socketserver examples against their Python originals (tests/py/socketserver_*.py,
// tests/py/seed_002_multiround_threading_server.py, written with Python's socketserver):
// each pysock server with the Python client, each Python server with the pysock client,
// exact output lines and exact bytes on the wire. Examples run as subprocesses with the
// command and permissions of their deno.json task; independent runs go in parallel.

import assert from "node:assert/strict";
import { AF_INET, createConnection, SOCK_DGRAM, socket } from "../mod.ts";
import { example, type Finished, type Proc, pythonProgram } from "./_helpers.ts";

/** Replaces the client port in printed addresses, which differs on every run. */
function maskPorts(text: string): string {
  return text.replaceAll(/\('127\.0\.0\.1', \d+\)/g, "('127.0.0.1', PORT)");
}

/** Output after the port line, ports masked. */
function afterPort(stdout: string): string {
  return maskPorts(stdout.slice(stdout.indexOf("\n") + 1));
}

function count(text: string, line: string): number {
  return text.split("\n").filter((l) => l === line).length;
}

/** Starts `server`, runs the client `startClient` makes on its port; both results. */
async function exchange(
  server: Proc,
  startClient: (port: number) => Proc,
): Promise<{ server: Finished; client: Finished }> {
  await using serverProc = server;
  const port = await serverProc.port();
  await using clientProc = startClient(port);
  const client = await clientProc.finish();
  return { server: await serverProc.finish(), client };
}

function assertClean(result: Finished, name: string) {
  assert.deepEqual([result.code, result.stderr], [0, ""], `${name}: ${result.stderr}`);
}

// Python's " ".join(sys.argv[1:]): the spaces inside and at the end are kept, the
// server's strip() drops the trailing one and the newline.
const WORDS = ["hello", "wörld", " spaced "];
const SENT = "hello wörld  spaced ";
const CLIENT_OUTPUT = `Sent:     ${SENT}\nReceived: HELLO WöRLD  SPACED\n`;
const SERVER_OUTPUT = "127.0.0.1 wrote:\nb'hello w\\xc3\\xb6rld  spaced'\n";

const TCP_VARIANTS = [
  { handler: "BaseRequestHandler", tsFlags: [], pyFlags: [] },
  { handler: "StreamRequestHandler", tsFlags: ["--stream"], pyFlags: ["--stream"] },
];

Deno.test("socketserver TCP example: the pysock server, with either handler, prints and replies as the Python server does, for the Python client", async () => {
  const runs = TCP_VARIANTS.flatMap((variant) => [
    { ...variant, side: "pysock", server: () => tsTcpServer(variant.tsFlags) },
    { ...variant, side: "Python", server: () => pyTcpServer(variant.pyFlags) },
  ]);
  const results = await Promise.all(runs.map((run) =>
    exchange(
      run.server(),
      (port) => pythonProgram("socketserver_tcp_client.py", [String(port), ...WORDS]),
    )
  ));
  for (const [i, result] of results.entries()) {
    const name = `${runs[i].side} server, ${runs[i].handler}`;
    assertClean(result.server, name);
    assertClean(result.client, name);
    assert.equal(afterPort(result.server.stdout), SERVER_OUTPUT, name);
    assert.equal(result.client.stdout, CLIENT_OUTPUT, name);
  }
});

Deno.test("socketserver TCP example: the pysock client prints what the Python client prints, against the Python server with either handler", async () => {
  const runs = TCP_VARIANTS.flatMap((variant) => [
    { ...variant, side: "pysock", client: "socketserver_tcp_client.ts" },
    { ...variant, side: "Python", client: "socketserver_tcp_client.py" },
  ]);
  const results = await Promise.all(
    runs.map((run) =>
      exchange(
        pyTcpServer(run.pyFlags),
        (port) =>
          run.side === "pysock"
            ? example(run.client, ["--port", String(port), ...WORDS])
            : pythonProgram(run.client, [String(port), ...WORDS]),
      )
    ),
  );
  for (const [i, result] of results.entries()) {
    const name = `${runs[i].side} client, ${runs[i].handler}`;
    assertClean(result.client, name);
    assertClean(result.server, name);
    assert.equal(result.client.stdout, CLIENT_OUTPUT, name);
    assert.equal(afterPort(result.server.stdout), SERVER_OUTPUT, name);
  }
});

Deno.test("socketserver TCP example: byte for byte, MyTCPHandler upper-cases all of one recv and the StreamRequestHandler only the first line, as in Python", async () => {
  // \v and \f are ASCII whitespace to bytes.strip(); the bytes of U+00A0 (c2 a0) are
  // not, where a decoded string's trim() would drop it.
  const sent = new Uint8Array([0x0b, 0x0c, 0x20, ...encode("ab\xa0\ncd\xa0"), 0x20, 0x0d, 0x0a]);
  const expected = {
    BaseRequestHandler: {
      reply: [...encode("AB\xa0\nCD\xa0")],
      printed: "127.0.0.1 wrote:\nb'ab\\xc2\\xa0\\ncd\\xc2\\xa0'\n",
    },
    StreamRequestHandler: {
      reply: [...encode("AB\xa0")],
      printed: "127.0.0.1 wrote:\nb'ab\\xc2\\xa0'\n",
    },
  };
  const runs = TCP_VARIANTS.flatMap((variant) => [
    { ...variant, side: "pysock", server: tsTcpServer(variant.tsFlags) },
    { ...variant, side: "Python", server: pyTcpServer(variant.pyFlags) },
  ]);
  const replies = await Promise.all(runs.map(async (run) => {
    await using server = run.server;
    await using conn = await createConnection(["127.0.0.1", await server.port()], {
      timeout: 10,
    });
    await conn.sendall(sent);
    const reply: number[] = [];
    // Until the server closes the connection after its one reply; bounded by the timeout.
    for (let chunk = await conn.recv(1024); chunk.length > 0; chunk = await conn.recv(1024)) {
      reply.push(...chunk);
    }
    return { reply, server: await server.finish() };
  }));
  for (const [i, { reply, server }] of replies.entries()) {
    const name = `${runs[i].side} server, ${runs[i].handler}`;
    const want = expected[runs[i].handler as keyof typeof expected];
    assertClean(server, name);
    assert.deepEqual(reply, want.reply, name);
    assert.equal(afterPort(server.stdout), want.printed, name);
  }
});

Deno.test("socketserver UDP example: the pysock server prints and replies as the Python server does, for the Python client", async () => {
  const [ours, theirs] = await Promise.all(
    [udpServer("pysock"), udpServer("Python")].map((server) =>
      exchange(
        server,
        (port) => pythonProgram("socketserver_udp_client.py", [String(port), ...WORDS]),
      )
    ),
  );
  for (const result of [ours, theirs]) {
    assertClean(result.server, "server");
    assertClean(result.client, "client");
    assert.equal(afterPort(result.server.stdout), SERVER_OUTPUT);
    assert.equal(result.client.stdout, CLIENT_OUTPUT);
  }
});

Deno.test("socketserver UDP example: the pysock client prints what the Python client prints, against the Python server", async () => {
  const [ours, theirs] = await Promise.all([
    exchange(
      udpServer("Python"),
      (port) => example("socketserver_udp_client.ts", ["--port", String(port), ...WORDS]),
    ),
    exchange(
      udpServer("Python"),
      (port) => pythonProgram("socketserver_udp_client.py", [String(port), ...WORDS]),
    ),
  ]);
  for (const result of [ours, theirs]) {
    assertClean(result.client, "client");
    assertClean(result.server, "server");
    assert.equal(result.client.stdout, CLIENT_OUTPUT);
    assert.equal(afterPort(result.server.stdout), SERVER_OUTPUT);
  }
});

Deno.test("socketserver UDP example: byte for byte, each datagram is stripped and upper-cased into one reply datagram, as in Python", async () => {
  const sent = new Uint8Array([0x09, 0x20, ...encode("x\x00y\xffz"), 0x0c, 0x0a]);
  const results = await Promise.all(["pysock", "Python"].map(async (side) => {
    await using server = udpServer(side as "pysock" | "Python");
    const port = await server.port();
    await using client = socket(AF_INET, SOCK_DGRAM);
    client.settimeout(10);
    await client.sendto(sent, ["127.0.0.1", port]);
    const [reply, from] = await client.recvfrom(1024);
    return { side, reply: [...reply], from, server: await server.finish(), port };
  }));
  for (const { side, reply, from, server, port } of results) {
    assertClean(server, side);
    // Only ASCII letters change; the UTF-8 bytes of ÿ (c3 bf) stay as they are.
    assert.deepEqual(reply, [...encode("X\x00Y\xffZ")], side);
    assert.deepEqual(from, ["127.0.0.1", port], side);
    assert.equal(afterPort(server.stdout), "127.0.0.1 wrote:\nb'x\\x00y\\xc3\\xbfz'\n", side);
  }
});

Deno.test("socketserver threading example: the pysock program prints what the Python program prints, a task's name where Python names the thread", async () => {
  await using ours = example("socketserver_threading.ts", []);
  await using theirs = pythonProgram("socketserver_threading.py", []);
  const [deno, python] = await Promise.all([ours.finish(), theirs.finish()]);
  assertClean(deno, "pysock");
  assertClean(python, "Python");
  assert.equal(
    python.stdout,
    "Server loop running in thread: Thread-1 (serve_forever)\n" +
      "Received: Thread-2 (process_request_thread): Hello World 1\n" +
      "Received: Thread-3 (process_request_thread): Hello World 2\n" +
      "Received: Thread-4 (process_request_thread): Hello World 3\n",
  );
  assert.equal(
    deno.stdout,
    "Server loop running in thread: Task-1 (serveForever)\n" +
      "Received: Task-2 (processRequestThread): Hello World 1\n" +
      "Received: Task-3 (processRequestThread): Hello World 2\n" +
      "Received: Task-4 (processRequestThread): Hello World 3\n",
  );
  // The same shape: a numbered worker and what ran in it, counted the same way.
  const shape = (out: string) => out.replaceAll(/\b(?:Thread|Task)-(\d+) \(\w+\)/g, "worker-$1");
  assert.equal(shape(deno.stdout), shape(python.stdout));
});

/**
 * Seed 002's multi-round exchange on a threading server, with two clients: the second
 * connects and is answered while the first is connected and idle (the seed's server
 * would leave it in the listen queue), leaves, and then the first talks again.
 */
async function twoClientsAtOnce(
  server: Proc,
  startClient: (port: number) => Proc,
): Promise<{ server: Finished; first: Finished; second: Finished }> {
  await using serverProc = server;
  const port = await serverProc.port();
  const connected = (n: number) => (out: string) =>
    count(afterPort(out), "New connect: ('127.0.0.1', PORT)") === n;
  await using first = startClient(port);
  await serverProc.waitFor(connected(1));
  await first.write("one first\n");
  await first.waitFor((out) => out.includes("from server: b'ONE FIRST'"));
  await using second = startClient(port);
  await serverProc.waitFor(connected(2));
  await second.write("two\n");
  await second.waitFor((out) => out.includes("from server: b'TWO'"));
  const secondDone = await second.finish();
  await serverProc.waitFor((out) => count(out, "Client disconnect.") === 1);
  await first.write("one again\n");
  const firstDone = await first.finish();
  return { server: await serverProc.finish(), first: firstDone, second: secondDone };
}

const MULTIROUND_SERVER_OUTPUT = [
  "Waiting for client connect.",
  "New connect: ('127.0.0.1', PORT)",
  "Accept news: b'one first'",
  "New connect: ('127.0.0.1', PORT)",
  "Accept news: b'two'",
  "Client disconnect.",
  "Accept news: b'one again'",
  "Client disconnect.",
  "",
].join("\n");

// Python's input() at end of stdin raises EOFError; the seed does not catch it.
function assertEndedWithEOFError(result: Finished) {
  assert.equal(result.code, 1);
  assert.match(result.stderr, /EOFError: EOF when reading a line\n$/);
}

Deno.test("seed 002 on ThreadingTCPServer: the pysock server answers a second Python client while the first is connected and idle, as the Python server does", async () => {
  const seedClient = (port: number) =>
    pythonProgram("seed_002_multiround_client.py", [String(port)], true);
  const [ours, theirs] = await Promise.all([
    twoClientsAtOnce(
      example("multiround_threading_server.ts", ["--port", "0", "--max-requests", "2"]),
      seedClient,
    ),
    twoClientsAtOnce(
      pythonProgram("seed_002_multiround_threading_server.py", ["0", "2"]),
      seedClient,
    ),
  ]);
  for (const result of [ours, theirs]) {
    assertClean(result.server, "server");
    assert.equal(afterPort(result.server.stdout), MULTIROUND_SERVER_OUTPUT);
    assert.equal(
      result.first.stdout,
      ">>>:from server: b'ONE FIRST'\n>>>:from server: b'ONE AGAIN'\n>>>:",
    );
    assert.equal(result.second.stdout, ">>>:from server: b'TWO'\n>>>:");
    assertEndedWithEOFError(result.first);
    assertEndedWithEOFError(result.second);
  }
});

Deno.test("seed 002 on ThreadingTCPServer: the seed's pysock client, unchanged, gets the same answers from the Python threading server", async () => {
  const { server, first, second } = await twoClientsAtOnce(
    pythonProgram("seed_002_multiround_threading_server.py", ["0", "2"]),
    (port) => example("multiround_client.ts", ["--port", String(port)], true),
  );
  assertClean(server, "Python server");
  assert.equal(afterPort(server.stdout), MULTIROUND_SERVER_OUTPUT);
  assert.deepEqual(first, {
    code: 0,
    stdout: ">>>:from server: b'ONE FIRST'\n>>>:from server: b'ONE AGAIN'\n>>>:",
    stderr: "",
  });
  assert.deepEqual(second, { code: 0, stdout: ">>>:from server: b'TWO'\n>>>:", stderr: "" });
});

Deno.test("socketserver example servers stop cleanly on SIGTERM while serve_forever waits", async () => {
  const servers = [
    { file: "socketserver_tcp_server.ts", after: "" },
    { file: "socketserver_udp_server.ts", after: "" },
    { file: "multiround_threading_server.ts", after: "Waiting for client connect.\n" },
  ];
  const results = await Promise.all(servers.map(async ({ file }) => {
    await using server = example(file, ["--port", "0"]);
    const port = await server.port();
    server.kill("SIGTERM");
    return { port, result: await server.finish() };
  }));
  for (const [i, { port, result }] of results.entries()) {
    assertClean(result, servers[i].file);
    assert.equal(result.stdout, `${port}\n${servers[i].after}`, servers[i].file);
  }
});

Deno.test("socketserver examples: --help lists their options; a bad --max-requests or an option they lack exits 2 with one line", async () => {
  await using help = example("socketserver_tcp_server.ts", ["--help"]);
  const shown = await help.finish();
  assert.equal(shown.code, 0);
  assert.match(shown.stdout, /^Usage: deno run --allow-net=127\.0\.0\.1 examples\/socketserver/);
  assert.match(shown.stdout, /\n {2}--max-requests N {3}handleRequest\(\) N times/);
  assert.match(shown.stdout, /\n {2}--stream {11}use the docs' StreamRequestHandler variant\n/);
  await using bad = example("socketserver_udp_server.ts", ["--max-requests", "0"]);
  await using lacking = example("socketserver_udp_client.ts", ["--stream"]);
  const [badDone, lackingDone] = await Promise.all([bad.finish(), lacking.finish()]);
  assert.deepEqual(badDone, {
    code: 2,
    stdout: "",
    stderr: "socketserver_udp_server.ts: --max-requests must be an integer 1-2147483648, " +
      'got "0" (try --help)\n',
  });
  assert.equal(lackingDone.code, 2);
  assert.match(lackingDone.stderr, /^socketserver_udp_client\.ts: .*--stream.* \(try --help\)\n$/);
});

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function tsTcpServer(flags: string[]): Proc {
  return example("socketserver_tcp_server.ts", ["--port", "0", "--max-requests", "1", ...flags]);
}

function pyTcpServer(flags: string[]): Proc {
  return pythonProgram("socketserver_tcp_server.py", [...flags, "0", "1"]);
}

function udpServer(side: "pysock" | "Python"): Proc {
  return side === "pysock"
    ? example("socketserver_udp_server.ts", ["--port", "0", "--max-requests", "1"])
    : pythonProgram("socketserver_udp_server.py", ["0", "1"]);
}
