// The selectors and select.select examples against their Python originals
// (tests/py/), in both directions: the Python docs' selectors echo server, the
// multiconn client/server pair in Real Python's shape, and the select.select chat
// server with its client. Examples run as subprocesses with the command and
// permissions of their deno.json task. Echoes may come back in one chunk or several,
// in any order across connections, so each side's output is read as what happened
// per connection and compared with what must happen.

import assert from "node:assert/strict";
import { example, type Proc, pythonProgram } from "./_helpers.ts";

const MESSAGES = "Message 1 from client.Message 2 from client.";

/** The text of a Python bytes literal of printable ASCII, as the examples print it. */
function unrepr(literal: string): string {
  return literal.replaceAll("\\'", "'").replaceAll("\\\\", "\\");
}

/** What a server printed, per client port: the bytes it echoed, and its events in order. */
function serverStory(stdout: string): string[] {
  const byPort = new Map<string, { events: string[]; echoed: string }>();
  const of = (port: string) => {
    let entry = byPort.get(port);
    if (entry === undefined) byPort.set(port, entry = { events: [], echoed: "" });
    return entry;
  };
  for (const line of stdout.split("\n").slice(1)) {
    const port = line.match(/(?:raddr=|from |to )\('127\.0\.0\.1', (\d+)\)/)?.[1];
    if (line.startsWith("listening on") || line === "") continue;
    assert.ok(port !== undefined, `a line naming its client: ${line}`);
    const entry = of(port);
    const echoed = line.match(/^echoing b'(.*)' to /);
    if (echoed) {
      entry.echoed += unrepr(echoed[1]);
      if (entry.events.at(-1) !== "echoing") entry.events.push("echoing");
    } else if (line.startsWith("accepted")) entry.events.push("accepted");
    else if (line.startsWith("closing")) entry.events.push("closing");
    else assert.fail(`unexpected line: ${line}`);
  }
  return [...byPort.values()].map((e) => `${e.events.join(" > ")}: ${e.echoed}`);
}

/** What the multiconn client printed, per connection id. */
function clientStory(stdout: string): string[] {
  const byId = new Map<string, { events: string[]; sent: string; received: string }>();
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const match = line.match(
      /^(starting|sending|received|closing) (?:b'(.*)' (?:to|from) )?connection (\d+)/,
    );
    assert.ok(match, `unexpected line: ${line}`);
    const [, what, data, id] = match;
    if (!byId.has(id)) byId.set(id, { events: [], sent: "", received: "" });
    const entry = byId.get(id)!;
    if (what === "sending") entry.sent += unrepr(data);
    if (what === "received") entry.received += unrepr(data);
    if (entry.events.at(-1) !== what) entry.events.push(what);
  }
  return [...byId.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([id, e]) =>
    `${id} ${e.events.filter((w) => w !== "sending" && w !== "received").join(" > ")}: ` +
    `sent ${e.sent} | received ${e.received}`
  );
}

/** The story every connection of `n` must tell, on each side. */
function expectedServer(n: number): string[] {
  return Array(n).fill(`accepted > echoing > closing: ${MESSAGES}`);
}
function expectedClient(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `${i + 1} starting > closing: sent ${MESSAGES} | received ${MESSAGES}`,
  );
}

/** How many whole lines of `out` start with `prefix`. */
function wholeLines(out: string, prefix: string): number {
  return out.split("\n").slice(0, -1).filter((line) => line.startsWith(prefix)).length;
}

/** Runs `client(port)` against `server` until the client is done; returns both outputs. */
async function run(
  server: Proc,
  client: (port: number) => Proc,
  serverStops: boolean,
  connections: number,
): Promise<{ server: string; client: string }> {
  await using serverProc = server;
  const port = await serverProc.port();
  await using clientProc = client(port);
  const done = await clientProc.finish();
  assert.deepEqual([done.code, done.stderr], [0, ""], clientProc.name);
  if (!serverStops) {
    // The Python originals serve forever: stop one once every client is closed.
    await serverProc.waitFor((out) => wholeLines(out, "closing") >= connections);
    serverProc.kill();
  }
  const finished = await serverProc.finish();
  if (serverStops) assert.deepEqual([finished.code, finished.stderr], [0, ""], serverProc.name);
  return { server: finished.stdout, client: done.stdout };
}

const N = 3;
const connectionsArgs = (port: number) => ["--port", String(port), "--connections", String(N)];
const pythonClientArgs = (port: number) => ["127.0.0.1", String(port), String(N)];

Deno.test("selectors echo server: the pysock port serves the Python multiconn client as the Python docs' original does", async () => {
  const ours = await run(
    example("selectors_echo_server.ts", ["--port", "0", "--max-clients", String(N)]),
    (port) => pythonProgram("selectors_multiconn_client.py", pythonClientArgs(port)),
    true,
    N,
  );
  const theirs = await run(
    pythonProgram("selectors_echo_server.py", ["0"]),
    (port) => pythonProgram("selectors_multiconn_client.py", pythonClientArgs(port)),
    false,
    N,
  );
  assert.deepEqual(serverStory(ours.server), expectedServer(N));
  assert.deepEqual(serverStory(ours.server), serverStory(theirs.server));
  assert.deepEqual(clientStory(ours.client), expectedClient(N));
  assert.match(ours.server, /^\d+\naccepted <socket\.socket fd=\d+, family=2, type=1, proto=0, /);
});

Deno.test("selectors echo server: the pysock multiconn client gets every echo from the Python docs' original", async () => {
  const result = await run(
    pythonProgram("selectors_echo_server.py", ["0"]),
    (port) => example("selectors_multiconn_client.ts", connectionsArgs(port)),
    false,
    N,
  );
  assert.deepEqual(clientStory(result.client), expectedClient(N));
  assert.deepEqual(serverStory(result.server), expectedServer(N));
});

Deno.test("multiconn: the pysock server serves the Python client as the Python server does", async () => {
  const ours = await run(
    example("selectors_multiconn_server.ts", ["--port", "0", "--max-clients", String(N)]),
    (port) => pythonProgram("selectors_multiconn_client.py", pythonClientArgs(port)),
    true,
    N,
  );
  const theirs = await run(
    pythonProgram("selectors_multiconn_server.py", ["127.0.0.1", "0"]),
    (port) => pythonProgram("selectors_multiconn_client.py", pythonClientArgs(port)),
    false,
    N,
  );
  assert.deepEqual(serverStory(ours.server), expectedServer(N));
  assert.deepEqual(serverStory(theirs.server), expectedServer(N));
  assert.deepEqual(clientStory(ours.client), expectedClient(N));
  assert.match(ours.server, /^\d+\nlistening on \('127\.0\.0\.1', \d+\)\n/);
});

Deno.test("multiconn: the pysock client against the Python server prints what the Python client prints", async () => {
  const ours = await run(
    pythonProgram("selectors_multiconn_server.py", ["127.0.0.1", "0"]),
    (port) => example("selectors_multiconn_client.ts", connectionsArgs(port)),
    false,
    N,
  );
  const theirs = await run(
    pythonProgram("selectors_multiconn_server.py", ["127.0.0.1", "0"]),
    (port) => pythonProgram("selectors_multiconn_client.py", pythonClientArgs(port)),
    false,
    N,
  );
  assert.deepEqual(clientStory(ours.client), expectedClient(N));
  assert.deepEqual(clientStory(ours.client), clientStory(theirs.client));
  assert.deepEqual(serverStory(ours.server), expectedServer(N));
  assert.match(ours.client, /^starting connection 1 to \('127\.0\.0\.1', \d+\)\n/);
});

/**
 * Three chat clients, connected one after the other; each sends a line (the third in
 * two pieces) and the others must print it with its sender's address, in order.
 */
async function chat(server: Proc, client: (port: number) => Proc, serverStops: boolean) {
  await using serverProc = server;
  const port = await serverProc.port();
  const clients: Proc[] = [];
  const ports: string[] = [];
  try {
    // The client ports, from the server's whole "connected" lines.
    const connected = (out: string) =>
      [...out.matchAll(/^connected \('127\.0\.0\.1', (\d+)\)$/gm)].map((m) => m[1]);
    for (let i = 0; i < 3; i++) {
      clients.push(client(port));
      await serverProc.waitFor((out) => connected(out).length > i);
      ports.push(connected(serverProc.stdout)[i]);
    }
    const said = ["hello from one", "two says hi", "partial line"];
    const heard = (from: number) => `[127.0.0.1:${ports[from]}] ${said[from]}\n`;
    const waitHeard = (from: number) =>
      Promise.all(
        clients.map((c, i) => i === from ? null : c.waitFor((out) => out.includes(heard(from)))),
      );
    await clients[0].write(`${said[0]}\n`);
    await waitHeard(0);
    await clients[1].write(`${said[1]}\n`);
    await waitHeard(1);
    await clients[2].write("partial ");
    await clients[2].write("line\n");
    await waitHeard(2);
    const outputs = await Promise.all(clients.map((c) => c.finish()));
    for (const [i, done] of outputs.entries()) {
      assert.deepEqual([done.code, done.stderr], [0, ""], `client ${i}`);
      const others = [0, 1, 2].filter((from) => from !== i).map(heard).join("");
      assert.equal(done.stdout, others, `client ${i} hears the others, in order, not itself`);
    }
    if (!serverStops) {
      await serverProc.waitFor((out) => wholeLines(out, "disconnected ") >= 3);
      serverProc.kill();
    }
    const finished = await serverProc.finish();
    if (serverStops) assert.deepEqual([finished.code, finished.stderr], [0, ""]);
    const lines = finished.stdout.split("\n").slice(1).filter((l) => l !== "");
    assert.deepEqual(
      lines.filter((l) => l.startsWith("connected")),
      ports.map((p) => `connected ('127.0.0.1', ${p})`),
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith("disconnected")).sort(),
      ports.map((p) => `disconnected ('127.0.0.1', ${p})`).sort(),
    );
  } finally {
    for (const c of clients) await c[Symbol.asyncDispose]();
  }
}

Deno.test("select.select chat: the pysock server relays each line to every other Python client", async () => {
  await chat(
    example("select_chat_server.ts", ["--port", "0", "--max-clients", "3"]),
    (port) => pythonProgram("select_chat_client.py", [String(port)], true),
    true,
  );
});

Deno.test("select.select chat: pysock clients chat through the Python server", async () => {
  await chat(
    pythonProgram("select_chat_server.py", ["0"]),
    (port) => example("select_chat_client.ts", ["--port", String(port)], true),
    false,
  );
});
