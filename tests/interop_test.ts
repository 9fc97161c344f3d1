// A CPython peer on one end, pysock on the other: bytes exact both ways.

import assert from "node:assert/strict";
import { AF_INET, AF_UNIX, createServer, SHUT_WR, SOCK_STREAM, socket } from "../mod.ts";
import { python, text } from "./_helpers.ts";

const PY_CLIENT = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes(range(256)) * 1000)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
s.close()
print(len(got), got[:5].hex(), got == bytes(reversed(range(256))) * 1000)
`;

Deno.test("a CPython client and a pysock server exchange 256,000 exact bytes each way", async () => {
  using server = createServer(["127.0.0.1", 0]);
  const port = (server.getsockname() as [string, number])[1];
  await using peer = python(PY_CLIENT, String(port));
  const [conn] = await server.accept();
  using _conn = conn;
  const received = new Uint8Array(256_000);
  let n = 0;
  while (true) {
    const count = await conn.recvInto(received.subarray(n));
    if (count === 0) break;
    n += count;
  }
  assert.equal(n, 256_000);
  for (let i = 0; i < n; i++) assert.equal(received[i], i % 256);
  const reply = new Uint8Array(256_000).map((_, i) => 255 - (i % 256));
  await conn.sendall(reply);
  conn.shutdown(SHUT_WR);
  assert.equal((await peer.output()).trim(), "256000 fffefdfcfb True");
});

const PY_SERVER = `
import socket, sys
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, addr = srv.accept()
data = b""
while True:
    chunk = conn.recv(1024)
    if not chunk:
        break
    data += chunk
conn.sendall(data.upper() + b"|" + str(len(data)).encode())
conn.close()
srv.close()
print(data.decode())
`;

Deno.test("a pysock client and a CPython server exchange exact bytes and half-close", async () => {
  await using peer = python(PY_SERVER);
  const port = Number(await peer.firstLine());
  await using client = socket(AF_INET, SOCK_STREAM);
  await client.connect(["127.0.0.1", port]);
  const message = "hello from pysock, ünïcode included\n".repeat(50);
  await client.sendall(message);
  client.shutdown(SHUT_WR);
  let reply = "";
  const decoder = new TextDecoder();
  while (true) {
    const chunk = await client.recv(16);
    if (chunk.length === 0) break;
    reply += decoder.decode(chunk, { stream: true });
  }
  const byteLength = new TextEncoder().encode(message).length;
  // bytes.upper() changes ASCII letters only.
  const asciiUpper = message.replace(/[a-z]/g, (c) => c.toUpperCase());
  assert.equal(reply, `${asciiUpper}|${byteLength}`);
  assert.equal((await peer.output()).split("\n").slice(1).join("\n").trim(), message.trim());
});

Deno.test("a CPython client talks to a pysock server over a Unix socket", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using server = socket(AF_UNIX, SOCK_STREAM);
    server.bind(`${dir}/py.sock`);
    server.listen(1);
    await using peer = python(
      `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"over unix")
print(s.recv(100).decode())`,
      `${dir}/py.sock`,
    );
    const [conn] = await server.accept();
    using _conn = conn;
    assert.equal(text(await conn.recv(100)), "over unix");
    await conn.sendall("answered");
    assert.equal((await peer.output()).trim(), "answered");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
