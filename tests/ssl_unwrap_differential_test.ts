// unwrap() and close_notify against CPython 3.11's ssl: the peer's
// close_notify while the TCP connection stays open, plaintext right behind
// it, unwrap past the timeout, and TLS, plaintext, TLS again on one
// connection. CPython, run in python3 (as the peer, and as the twin of the
// pysock side), is the oracle.

import assert from "node:assert/strict";
import { type OSError } from "../errors.ts";
import { createConnection, createServer } from "../socket.ts";
import * as ssl from "../ssl.ts";
import { pythonJson, rejection, text } from "./_helpers.ts";
import { certs, Peer } from "./_ssl_helpers.ts";
import { ACCEPT_ONE, CLIENT, connect, server, twin } from "./_ssl_twin.ts";

// ---------------------------------------------------------------------------
// close_notify while the TCP connection stays open

// Server: "bye", then its close_notify (a non-blocking unwrap that stops at
// SSLWantReadError), then it still reads, then unwraps for good and reads
// and writes plaintext.
const CLOSING_SERVER = `
s.sendall(b"bye")
s.setblocking(False)
try:
    s.unwrap()
    out("unwrapped at once")
except ssl.SSLWantReadError:
    out("close_notify sent")
s.setblocking(True)
s.settimeout(20)
out(s.recv(100).decode())
plain = s.unwrap()
plain.sendall(b"plain from server")
out(plain.recv(100).decode())
plain.close()
`;

// After the peer's close_notify CPython's recv returns b"" every time, send
// still works (TLS 1.3 half-close: the peer reads it), and unwrap() answers
// the close_notify and returns the plain socket, whose bytes follow.
Deno.test("after the peer's close_notify recv is empty every time, send still reaches the peer, and unwrap returns the plain socket, as CPython", async () => {
  const [theirs, theirServer] = await twin(
    CLOSING_SERVER,
    `
result.append([c.recv(10).decode(), c.recv(10).decode(), c.recv(10).decode()])
result.append(c.send(b"after close_notify"))
plain = c.unwrap()
got = b""
while len(got) < 17:
    got += plain.recv(100)
result.append(got.decode())
plain.sendall(b"plain from client")
plain.close()
`,
    3,
  );
  assert.deepEqual(theirs, [["bye", "", ""], 18, "plain from server"]);
  assert.deepEqual(theirServer, [["close_notify sent"], ["after close_notify"], [
    "plain from client",
  ]]);

  await using srv = await server(CLOSING_SERVER);
  await using c = await connect(srv.port);
  assert.deepEqual(await srv.next(), ["close_notify sent"]);
  const ours: unknown[] = [];
  ours.push([text(await c.recv(10)), text(await c.recv(10)), text(await c.recv(10))]);
  ours.push(await c.send("after close_notify"));
  await using plain = await c.unwrap();
  let got = "";
  for (let i = 0; i < 17 && got.length < 17; i++) got += text(await plain.recv(100));
  ours.push(got);
  await plain.sendall("plain from client");
  assert.deepEqual(ours, theirs);
  assert.deepEqual([await srv.next(), await srv.next()], theirServer.slice(1));
  await srv.done();
});

// ---------------------------------------------------------------------------
// Plaintext right behind the peer's close_notify

// A CPython client on a MemoryBIO, so that its close_notify and the
// plaintext after it leave in one write (one segment on loopback) and reach
// the server together: "tls", the server's "ok", then close_notify +
// plaintext; then it waits for the server's close_notify and prints the
// plaintext the server sends.
const PIPELINING_CLIENT = `
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(sys.argv[1])
sock = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=20)
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
def flush(extra=b""):
    data = outgoing.read() + extra
    if data:
        sock.sendall(data)
def until_done(step):
    while True:
        try:
            return step()
        except ssl.SSLWantReadError:
            flush()
            d = sock.recv(65536)
            if not d:
                raise SystemExit("end of stream")
            incoming.write(d)
until_done(obj.do_handshake)
flush()
obj.write(b"tls")
flush()
assert until_done(lambda: obj.read(2)) == b"ok"
try:
    obj.unwrap()
except ssl.SSLWantReadError:
    pass
flush(b"plain behind close_notify")
until_done(obj.unwrap)
plain = incoming.read()
while len(plain) < 12:
    plain += sock.recv(100)
print(json.dumps(plain.decode()))
`;

// CPython reads TLS one record at a time, so the plaintext stays in the
// kernel for the socket unwrap() returns. Before the fix pysock handed the
// bytes to node:tls (as "not TLS, let the session fail on them") after the
// session had ended, and they were lost: the plain socket's recv timed out.
Deno.test("plaintext the peer sends right behind its close_notify is the unwrapped socket's, as CPython's", async () => {
  const c = await certs();
  const program = `
import ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
l = socket.create_server(("127.0.0.1", 0))
l.settimeout(20)
print(l.getsockname()[1], flush=True)
conn = ctx.wrap_socket(l.accept()[0], server_side=True)
l.close()
got = [conn.recv(100).decode()]
conn.sendall(b"ok")
got.append(conn.recv(100).decode())
raw = conn.unwrap()
raw.settimeout(20)
got.append(raw.recv(100).decode())
raw.sendall(b"server plain")
raw.close()
print(json.dumps(got))
`;
  const twinServer = new Peer("python3", [
    "-c",
    "import json, socket\n" + program,
    c.server,
    c.serverKey,
  ]);
  await using _twinServer = twinServer;
  const twinPort = await twinServer.line();
  const theirClient = await pythonJson(PIPELINING_CLIENT, c.ca, twinPort);
  const theirs = JSON.parse(await twinServer.line());
  assert.deepEqual(theirs, ["tls", "", "plain behind close_notify"]);
  assert.equal(theirClient, "server plain");

  const ctx = new ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER);
  ctx.loadCertChain(c.server, c.serverKey);
  await using listener = await ctx.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const client = pythonJson(PIPELINING_CLIENT, c.ca, String(listener.getsockname()[1]));
  const [conn] = await listener.accept();
  const ours = [text(await conn.recv(100))];
  await conn.sendall("ok");
  ours.push(text(await conn.recv(100)));
  await using raw = await conn.unwrap();
  raw.settimeout(10);
  ours.push(text(await raw.recv(100)));
  await raw.sendall("server plain");
  assert.deepEqual(ours, theirs);
  assert.equal(await client, theirClient);
});

// Server: unwraps only once told, then plaintext both ways.
const LATE_UNWRAP = `
wait()
plain = s.unwrap()
plain.sendall(b"plain")
out(plain.recv(100).decode())
`;

// CPython: an unwrap() past the timeout is TimeoutError("The read operation
// timed out") (its close_notify is sent, the peer's has not come); a later
// unwrap() finishes once the peer answers, and plaintext follows.
Deno.test("unwrap past the timeout is TimeoutError with CPython's text, and a later unwrap finishes once the peer answers", async () => {
  const results: unknown[] = [];
  for (const side of ["cpython", "pysock"]) {
    await using srv = await server(LATE_UNWRAP);
    const ours: unknown[] = [];
    if (side === "cpython") {
      const c = await certs();
      await using client = new Peer("python3", [
        "-c",
        `import json, socket\n${CLIENT}
c.settimeout(0.1)
print(json.dumps(err(c.unwrap)), flush=True)
sys.stdin.readline()
c.settimeout(20)
plain = c.unwrap()
print(json.dumps(plain.recv(100).decode()), flush=True)
plain.sendall(b"back")
`,
        c.ca,
        String(srv.port),
      ]);
      ours.push(JSON.parse(await client.line()));
      await srv.go();
      await client.write("\n");
      ours.push(JSON.parse(await client.line()));
      ours.push(await srv.next()); // before the client is disposed (killed)
    } else {
      await using s = await connect(srv.port);
      s.settimeout(0.1);
      const err = await rejection(s.unwrap(), "unwrap");
      ours.push([(err as Error).name, (err as OSError).errno, (err as Error).message]);
      await srv.go();
      s.settimeout(20);
      await using plain = await s.unwrap();
      ours.push(text(await plain.recv(100)));
      await plain.sendall("back");
      ours.push(await srv.next());
    }
    results.push(ours);
  }
  assert.deepEqual(results[0], [
    ["TimeoutError", null, "The read operation timed out"],
    "plain",
    ["back"],
  ]);
  assert.deepEqual(results[1], results[0]);
});

// A CPython server that does TLS, then plaintext, three times over on one
// connection: wrap, a message each way, unwrap, a message each way.
const REWRAP_SERVER = ACCEPT_ONE + `
got = []
for i in range(3):
    s = ctx.wrap_socket(c, server_side=True)
    got.append(s.recv(100).decode())
    s.sendall(b"tls reply %d" % i)
    c = s.unwrap()
    got.append(c.recv(100).decode())
    c.sendall(b"plain reply %d" % i)
print(json.dumps(got), flush=True)
`;

// CPython can wrap the socket unwrap() returned again (STARTTLS after
// ENDTLS); pysock's unwrapped socket keeps its one read buffer, and each new
// session starts from it.
Deno.test("TLS, plaintext, TLS again three times on one connection with a CPython server: every byte where it belongs", async () => {
  const c = await certs();
  await using peer = new Peer("python3", ["-c", REWRAP_SERVER, c.server, c.serverKey]);
  const port = Number(await peer.line());
  const ctx = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations(c.ca);
  let plain = await createConnection(["127.0.0.1", port]);
  const replies: string[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await ctx.wrapSocket(plain, { serverHostname: "localhost" });
    await s.sendall(`tls ${i}`);
    replies.push(text(await s.recv(100)));
    plain = await s.unwrap();
    await plain.sendall(`plain ${i}`);
    replies.push(text(await plain.recv(100)));
  }
  plain.close();
  const expected = [0, 1, 2].flatMap((i) => [`tls ${i}`, `plain ${i}`]);
  assert.deepEqual(JSON.parse(await peer.line()), expected);
  assert.deepEqual(replies, expected.map((m) => m.replace(/(\d)$/, "reply $1")));
});
