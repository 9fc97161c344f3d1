// The TLS examples, run as their deno.json tasks run them (same permissions),
// against each other and against CPython's ssl. Their certificates are made
// by the tls-example-certs task in a temp dir (PYSOCK_TLS_EXAMPLE_DIR),
// removed afterwards.

import { deepEqual, equal, match } from "node:assert/strict";
import { Peer } from "./_ssl_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const tasks: Record<string, string> =
  JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;

/** Starts a task with extra arguments, as `deno task NAME ARGS` would. */
function task(name: string, args: string[], dir: string): Peer {
  const [, ...rest] = tasks[name].split(" ");
  return new Peer(Deno.execPath(), [...rest, ...args], {
    cwd: ROOT,
    env: { PYSOCK_TLS_EXAMPLE_DIR: dir },
  });
}

let made: Promise<string> | null = null;

/** The example certificates, made once with the tls-example-certs task. */
function exampleDir(): Promise<string> {
  made ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "pysock_tls_example_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    await using maker = task("tls-example-certs", [], dir);
    const { code, stderr } = await maker.done();
    equal(code, 0, stderr);
    return dir;
  })();
  return made;
}

async function lines(peer: Peer): Promise<string[]> {
  const { code, stderr } = await peer.done();
  equal(code, 0, stderr);
  return peer.seen.trimEnd().split("\n");
}

Deno.test("tls-https-get fetches a page from a local HTTPS server over TLS 1.3 with ALPN http/1.1", async () => {
  const tmp = await exampleDir();
  await using get = task("tls-https-get", [], tmp);
  deepEqual(await lines(get), [
    "connected: TLSv1.3, ALPN http/1.1",
    "HTTP/1.1 200 OK",
    "hello from /index.html over HTTPS",
  ]);
});

Deno.test("the STARTTLS client and server examples talk plaintext, upgrade, and go on over TLS", async () => {
  const tmp = await exampleDir();
  await using server = task("tls-starttls-server", ["--port", "0", "--max-clients", "1"], tmp);
  const port = await server.line();
  await using client = task("tls-starttls-client", ["--port", port], tmp);
  deepEqual(await lines(client), [
    "S: 220 pysock ESMTP ready",
    "C: EHLO client.example",
    "S: 250-pysock at your service",
    "S: 250 STARTTLS",
    "C: STARTTLS",
    "S: 220 Ready to start TLS",
    "-- upgraded to TLSv1.3, server certificate for localhost",
    "C: EHLO client.example",
    "S: 250 pysock at your service, securely",
    "C: QUIT",
    "S: 221 Bye",
  ]);
  equal((await server.done()).code, 0);
});

Deno.test("the seed 003 TLS echo client gets its message back whole from the TLS echo server", async () => {
  const tmp = await exampleDir();
  await using server = task(
    "seed003-echo16-tls-server",
    ["--port", "0", "--max-clients", "1"],
    tmp,
  );
  const port = await server.line();
  await using client = task("seed003-echo16-tls-client", ["--port", port], tmp);
  deepEqual(await lines(client), [
    "Socket Connected to localhost over TLSv1.3",
    "Server certificate: commonName=localhost",
    "Received b'This is the message.  It will be repeated.'",
  ]);
  equal((await server.done()).code, 0);
});

Deno.test("the seed 003 TLS echo server echoes a CPython ssl client exactly", async () => {
  const tmp = await exampleDir();
  await using server = task(
    "seed003-echo16-tls-server",
    ["--port", "0", "--max-clients", "1"],
    tmp,
  );
  const port = Number(await server.line());
  const message = "x".repeat(100) + "the end";
  await using python = Peer.python({
    role: "client",
    port,
    host: "localhost",
    ca: `${tmp}/ca.pem`,
    actions: [["send", message], ["recv", message.length]],
  });
  match(String((await python.event()).version), /^TLSv1\.[23]$/);
  deepEqual(await python.event(), { event: "recv", data: message });
  equal((await server.done()).code, 0);
});
