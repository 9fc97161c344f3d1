// The TLS wrapping of the command line (_ssl_cli.ts): `connect --tls` and
// `echo-server --tls --cert --key` as the CLI calls them.

import { equal, ok, rejects } from "node:assert/strict";
import { createConnection, createServer } from "../socket.ts";
import { SSLError, SSLSocket } from "../ssl.ts";
import { tlsClient, tlsServer } from "../_ssl_cli.ts";
import { text } from "./_helpers.ts";
import { certs } from "./_ssl_helpers.ts";

Deno.test("echo-server --tls and connect --tls --cafile talk TLS to each other", async () => {
  const c = await certs();
  await using server = await tlsServer(createServer(["127.0.0.1", 0]), {
    tls: true,
    cert: c.server,
    key: c.serverKey,
  });
  ok(server instanceof SSLSocket);
  const port = server.getsockname()[1] as number;
  const accepting = server.accept();
  await using client = await tlsClient(await createConnection(["127.0.0.1", port]), "localhost", {
    tls: true,
    cafile: c.ca,
  });
  const [conn] = await accepting;
  await using _conn = conn;
  await client.sendall("echo me");
  await conn.sendall(await conn.recv(100));
  equal(text(await client.recv(100)), "echo me");
});

Deno.test("connect --tls says why a certificate failed and what to pass, in one line; --insecure skips the check", async () => {
  const c = await certs();
  await using server = await tlsServer(createServer(["127.0.0.1", 0]), {
    tls: true,
    cert: c.stranger,
    key: c.strangerKey,
  });
  const port = server.getsockname()[1] as number;
  const serving = (async () => {
    for (let i = 0; i < 2; i++) {
      const [conn] = await server.accept();
      await conn.sendall("hi").catch(() => {});
      conn.close();
    }
  })();
  await rejects(
    tlsClient(await createConnection(["127.0.0.1", port]), "localhost", {
      tls: true,
      cafile: c.ca,
    }),
    (err: Error) =>
      err.message ===
        "TLS handshake with localhost failed: unable to get local issuer certificate " +
          "(use --cafile with the server's CA, or --insecure to skip the check)",
  );
  await using insecure = await tlsClient(await createConnection(["127.0.0.1", port]), "localhost", {
    tls: true,
    insecure: true,
  });
  equal(text(await insecure.recv(10)), "hi");
  await serving;
});

Deno.test("echo-server --tls: a client that fails its handshake ends only its own connection", async () => {
  const c = await certs();
  await using server = await tlsServer(createServer(["127.0.0.1", 0]), {
    tls: true,
    cert: c.server,
    key: c.serverKey,
  });
  const port = server.getsockname()[1] as number;
  await using plain = await createConnection(["127.0.0.1", port]);
  await plain.sendall("not TLS\r\n\r\n");
  const [bad] = await server.accept();
  await using _bad = bad;
  await rejects(bad.recv(100), SSLError);
  const accepting = server.accept();
  await using good = await tlsClient(await createConnection(["127.0.0.1", port]), "localhost", {
    tls: true,
    cafile: c.ca,
  });
  const [conn] = await accepting;
  await using _conn = conn;
  await good.sendall("fine");
  equal(text(await conn.recv(10)), "fine");
});

Deno.test("TLS options are checked: --tls needs --cert, TLS-only options need --tls, unreadable files are named", async () => {
  const c = await certs();
  const listen = () => createServer(["127.0.0.1", 0]);
  for (
    const [values, message] of [
      [{ tls: true }, /--tls needs --cert FILE/],
      [{ cert: c.server }, /--cert and --key need --tls/],
      [
        { tls: true, cert: `${c.dir}/missing.pem` },
        /cannot load --cert\/--key: \[Errno 2\] No such file/,
      ],
    ] as const
  ) {
    const listener = listen();
    await rejects(tlsServer(listener, values), message);
    equal(listener.fileno(), -1, "the listener is closed on failure");
  }
  await using listener = listen();
  const port = listener.getsockname()[1] as number;
  for (
    const [values, message] of [
      [{ insecure: true }, /need --tls/],
      [{ tls: true, cafile: c.serverKey }, /cannot load --cafile .*no certificate or crl found/],
    ] as const
  ) {
    const sock = await createConnection(["127.0.0.1", port]);
    await rejects(tlsClient(sock, "localhost", values), message);
    equal(sock.fileno(), -1, "the connection is closed on failure");
  }
});

Deno.test("the real CLI: echo-server --tls --cert --key serves what connect --tls --cafile sends, byte for byte", async () => {
  const c = await certs();
  const cli = new URL("../cli/mod.ts", import.meta.url).pathname;
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      cli,
      "echo-server",
      "--max-clients",
      "1",
      "--tls",
      "--cert",
      c.server,
      "--key",
      c.serverKey,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  const port = seen.match(/listening on 127\.0\.0\.1:(\d+)/)?.[1];
  ok(port !== undefined, seen);
  const client = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      cli,
      "connect",
      "--tls",
      "--cafile",
      c.ca,
      "--server-hostname",
      "localhost",
      "127.0.0.1",
      port,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = client.stdin.getWriter();
  await writer.write(new TextEncoder().encode("over TLS, through the CLI\n"));
  await writer.close();
  const out = await client.output();
  equal(
    new TextDecoder().decode(out.stdout),
    "over TLS, through the CLI\n",
    new TextDecoder().decode(out.stderr),
  );
  equal(out.code, 0);
  const rest = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read());
  })();
  const status = await server.status;
  await rest;
  equal(status.code, 0);
});
