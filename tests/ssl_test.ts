// SSLContext and SSLSocket with pysock on both ends: the stream-socket
// surface over TLS (timeouts, non-blocking calls, makefile, framing,
// streams, close), the handshake's facts, and bad input.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { kReader } from "../_buffer.ts";
import { errno, OSError, TimeoutError } from "../errors.ts";
import { recvExactly, recvMsg, sendMsg } from "../framing.ts";
import {
  createConnection,
  createServer,
  SHUT_WR,
  SOCK_DGRAM,
  socket,
  socketpair,
  StreamSocket,
} from "../socket.ts";
import {
  CERT_NONE,
  CERT_OPTIONAL,
  CERT_REQUIRED,
  createDefaultContext,
  PEMCertToDERCert,
  PROTOCOL_TLS,
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  Purpose,
  SSLContext,
  SSLEOFError,
  SSLError,
  SSLSocket,
  SSLWantReadError,
  SSLZeroReturnError,
  TLSVersion,
} from "../ssl.ts";
import type { SocketFile } from "../_socket_file.ts";
import { bytes, text } from "./_helpers.ts";
import { certs, contexts } from "./_ssl_helpers.ts";

/** A pysock TLS server and client, connected and handshaken; disposing closes all. */
interface TlsPair extends AsyncDisposable {
  client: SSLSocket;
  server: SSLSocket;
  listener: SSLSocket;
}

async function tlsPair(
  setup: (ctx: { client: SSLContext; server: SSLContext }) => void = () => {},
): Promise<TlsPair> {
  const ctx = await contexts();
  setup(ctx);
  const listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const accepting = listener.accept();
  const sock = await createConnection(["127.0.0.1", listener.getsockname()[1] as number]);
  const client = await ctx.client.wrapSocket(sock, { serverHostname: "localhost" });
  const [server] = await accepting;
  return {
    client,
    server,
    listener,
    [Symbol.asyncDispose]() {
      client.close();
      server.close();
      listener.close();
      return Promise.resolve();
    },
  };
}

Deno.test("an SSLSocket is a StreamSocket: recv, recvInto, send and sendall carry exact bytes over TLS", async () => {
  await using p = await tlsPair();
  ok(p.client instanceof StreamSocket && p.server instanceof SSLSocket);
  equal(await p.client.send("abc"), 3);
  await p.client.sendall(new Uint8Array([0, 1, 2, 255]));
  deepEqual(await recvExactly(p.server, 7), new Uint8Array([97, 98, 99, 0, 1, 2, 255]));
  await p.server.sendall("into");
  const buf = new Uint8Array(8);
  equal(await p.client.recvInto(buf), 4);
  equal(text(buf.subarray(0, 4)), "into");
});

Deno.test("a recv that times out loses no decrypted data: the bytes that arrive later are the next recv's", async () => {
  await using p = await tlsPair();
  p.client.settimeout(0.05);
  await rejects(p.client.recv(100), TimeoutError);
  await p.server.sendall("late but whole");
  p.client.settimeout(null);
  equal(text(await recvExactly(p.client, 14)), "late but whole");
});

Deno.test("makefile read and recvExactly that time out leave every byte for the next call", async () => {
  await using p = await tlsPair();
  await p.server.sendall("half");
  p.client.settimeout(0.05);
  const file = p.client.makefile("rb");
  await rejects(file.read(8), TimeoutError);
  await rejects(recvExactly(p.client, 8), TimeoutError);
  await p.server.sendall("+half");
  p.client.settimeout(null);
  equal(text(await file.read(9)), "half+half");
});

Deno.test("non-blocking: recv with nothing decrypted yet fails with SSLWantReadError, then returns what arrives", async () => {
  await using p = await tlsPair();
  p.client.setblocking(false);
  await rejects(p.client.recv(10), SSLWantReadError);
  await p.server.sendall("ready");
  p.client.setblocking(true);
  const first = await p.client.recv(10);
  p.client.setblocking(false);
  const rest = first.length < 5 ? await p.client.recv(10) : new Uint8Array(0);
  equal(text(first) + text(rest), "ready");
});

Deno.test("doHandshakeOnConnect false: doHandshake in non-blocking mode fails with SSLWantReadError until it is done", async () => {
  const ctx = await contexts();
  await using listener = createServer(["127.0.0.1", 0]);
  const sock = await createConnection(["127.0.0.1", listener.getsockname()[1] as number]);
  // The server end is accepted but not wrapped yet: the ClientHello goes unanswered.
  const [plain] = await listener.accept();
  await using client = await ctx.client.wrapSocket(sock, {
    serverHostname: "localhost",
    doHandshakeOnConnect: false,
  });
  equal(client.version(), null);
  client.setblocking(false);
  await rejects(client.doHandshake(), SSLWantReadError);
  await using server = await ctx.server.wrapSocket(plain, { serverSide: true });
  client.setblocking(true);
  await client.doHandshake();
  equal(client.version(), "TLSv1.3");
  equal(server.version(), "TLSv1.3");
});

Deno.test("the first read or write of a socket wrapped without a handshake runs it", async () => {
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
    doHandshakeOnConnect: false,
  });
  const accepting = listener.accept();
  const sock = await createConnection(["127.0.0.1", listener.getsockname()[1] as number]);
  await using client = await ctx.client.wrapSocket(sock, {
    serverHostname: "localhost",
    doHandshakeOnConnect: false,
  });
  const [server] = await accepting;
  await using _server = server;
  await client.sendall("implicit");
  equal(text(await recvExactly(server, 8)), "implicit");
  equal(server.version(), "TLSv1.3");
});

Deno.test("close settles a pending recv with EBADF and closes the wrapped socket", async () => {
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const accepting = listener.accept();
  const sock = await createConnection(["127.0.0.1", listener.getsockname()[1] as number]);
  const client = await ctx.client.wrapSocket(sock, { serverHostname: "localhost" });
  const [server] = await accepting;
  await using _server = server;
  const pending = client.recv(10);
  client.close();
  await rejects(pending, (err: unknown) => err instanceof OSError && err.errno === errno.EBADF);
  equal(sock.fileno(), -1);
  await rejects(
    client.sendall("x"),
    (err: unknown) => err instanceof OSError && err.errno === errno.EBADF,
  );
  equal((await server.recv(10)).length, 0);
});

Deno.test("shutdown(SHUT_WR) ends the stream for the peer (close_notify) while the other direction goes on", async () => {
  await using p = await tlsPair();
  await p.client.sendall("request");
  p.client.shutdown(SHUT_WR);
  equal(text(await recvExactly(p.server, 7)), "request");
  equal((await p.server.recv(10)).length, 0);
  await p.server.sendall("response");
  equal(text(await recvExactly(p.client, 8)), "response");
});

Deno.test("framing's sendMsg/recvMsg and makefile lines work over TLS on the socket's one buffer", async () => {
  await using p = await tlsPair();
  await sendMsg(p.client, "first message");
  await p.client.sendall("a line\nrest");
  equal(text((await recvMsg(p.server))!), "first message");
  const file = p.server.makefile("r");
  equal(await file.readline(), "a line\n");
  equal(text(await p.server.recv(10)), "rest");
});

Deno.test("readable and writable streams carry decrypted bytes, and closing writable sends end of stream", async () => {
  await using p = await tlsPair();
  await ReadableStream.from([bytes("streamed "), bytes("over TLS")]).pipeTo(p.client.writable);
  equal(await new Response(p.server.readable).text(), "streamed over TLS");
});

Deno.test("the handshake's facts: version, cipher, ALPN, the peer's certificate as a dict and as DER", async () => {
  const c = await certs();
  await using p = await tlsPair(({ client, server }) => {
    client.setAlpnProtocols(["x-pysock"]);
    server.setAlpnProtocols(["x-pysock"]);
  });
  equal(p.client.version(), "TLSv1.3");
  deepEqual(p.client.cipher(), ["TLS_AES_256_GCM_SHA384", "TLSv1.3", 256]);
  deepEqual(p.server.cipher(), p.client.cipher());
  equal(p.client.selectedAlpnProtocol(), "x-pysock");
  equal(p.server.selectedAlpnProtocol(), "x-pysock");
  deepEqual(p.client.getpeercert()?.subject, [
    [["countryName", "XX"]],
    [["organizationName", "pysock tests"]],
    [["commonName", "localhost"]],
  ]);
  deepEqual(p.client.getpeercert(true), PEMCertToDERCert(await Deno.readTextFile(c.server)));
  equal(p.server.getpeercert(), null);
  equal(p.client.serverHostname, "localhost");
  equal(p.server.serverSide, true);
  equal(p.client.pending(), 0);
});

Deno.test("a CERT_NONE client gets {} from getpeercert (not verified) and the DER with binaryForm", async () => {
  await using p = await tlsPair(({ client }) => {
    client.checkHostname = false;
    client.verifyMode = CERT_NONE;
  });
  deepEqual(p.client.getpeercert(), {});
  ok(p.client.getpeercert(true) instanceof Uint8Array);
});

Deno.test("CERT_OPTIONAL on a server accepts a client without a certificate and checks one that is sent", async () => {
  const c = await certs();
  const setup =
    (withCert: boolean) => ({ client, server }: { client: SSLContext; server: SSLContext }) => {
      server.verifyMode = CERT_OPTIONAL;
      server.loadVerifyLocations(c.ca);
      if (withCert) client.loadCertChain(c.client, c.clientKey);
    };
  {
    await using p = await tlsPair(setup(false));
    equal(p.server.getpeercert(), null);
  }
  await using p = await tlsPair(setup(true));
  deepEqual(p.server.getpeercert()?.subject.at(-1), [["commonName", "client"]]);
});

Deno.test("a key encrypted with a password loads with the password as text, bytes or a function, and not with a wrong one", async () => {
  const c = await certs();
  for (const password of ["secret", bytes("secret"), () => "secret"]) {
    new SSLContext(PROTOCOL_TLS_SERVER).loadCertChain(c.server, c.serverKeyEncrypted, password);
  }
  throws(
    () =>
      new SSLContext(PROTOCOL_TLS_SERVER).loadCertChain(c.server, c.serverKeyEncrypted, "wrong"),
    (err: unknown) =>
      err instanceof SSLError && err.library === "SSL" && /PEM lib/.test(err.message),
  );
});

Deno.test("loadCertChain refuses a key that is not the certificate's, as Python does (KEY_VALUES_MISMATCH)", async () => {
  const c = await certs();
  throws(
    () => new SSLContext(PROTOCOL_TLS_SERVER).loadCertChain(c.server, c.clientKey),
    (err: unknown) =>
      err instanceof SSLError && err.errno === 116 &&
      err.message === "[X509: KEY_VALUES_MISMATCH] key values mismatch",
  );
});

Deno.test("loadCertChain and loadVerifyLocations report a missing file as OSError ENOENT and a file without certificates as SSLError", async () => {
  const c = await certs();
  const missing = `${c.dir}/missing.pem`;
  const isEnoent = (err: unknown) => err instanceof OSError && err.errno === errno.ENOENT;
  throws(() => new SSLContext(PROTOCOL_TLS_SERVER).loadCertChain(missing), isEnoent);
  throws(() => new SSLContext(PROTOCOL_TLS_CLIENT).loadVerifyLocations(missing), isEnoent);
  throws(
    () => new SSLContext(PROTOCOL_TLS_CLIENT).loadVerifyLocations(c.serverKey),
    (err: unknown) => err instanceof SSLError && err.reason === "NO_CERTIFICATE_OR_CRL_FOUND",
  );
});

Deno.test("loadVerifyLocations takes a file, a directory, PEM text and DER bytes, and getCaCerts lists them", async () => {
  const c = await certs();
  const pem = await Deno.readTextFile(c.ca);
  const dir = `${c.dir}/capath`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(c.otherCa, `${dir}/other.pem`);
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations(c.ca);
  ctx.loadVerifyLocations({ capath: dir });
  ctx.loadVerifyLocations(null, null, pem);
  ctx.loadVerifyLocations({ cadata: PEMCertToDERCert(pem) });
  // The same CA three times is listed once, as OpenSSL's store keeps it once.
  const names = ctx.getCaCerts().map((cert) => cert.subject.at(-1)?.[0][1]);
  deepEqual(names, ["pysock test CA", "other CA"]);
  equal(ctx.getCaCerts(true).length, 2);
});

Deno.test("context settings are checked as Python checks them, before any I/O", () => {
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  throws(() => {
    ctx.verifyMode = CERT_NONE;
  }, TypeError); // checkHostname is on
  throws(() => {
    ctx.verifyMode = 7;
  }, RangeError);
  throws(() => {
    ctx.minimumVersion = TLSVersion.TLSv1_1;
  }, /TLS 1.2 and 1.3 only/);
  throws(() => {
    ctx.maximumVersion = TLSVersion.TLSv1;
  }, RangeError);
  // CPython: ValueError "Unsupported TLS/SSL version 0x3e7" for an unknown number, TypeError for a string.
  throws(() => {
    ctx.minimumVersion = 999 as TLSVersion;
  }, new RangeError("Cannot set minimumVersion: unsupported TLS/SSL version 0x3e7"));
  throws(() => {
    ctx.maximumVersion = "x" as unknown as TLSVersion;
  }, TypeError);
  throws(() => new SSLContext(3), RangeError); // PROTOCOL_TLSv1
  throws(() => ctx.setAlpnProtocols(["x".repeat(256)]), SSLError);
  throws(() => ctx.setAlpnProtocols("h2" as unknown as string[]), TypeError);
  throws(() => {
    ctx.engine = "openssl" as "node";
  }, RangeError);
  throws(
    () => ctx.setCiphers("ECDHE+AESGCM"),
    (err: unknown) => err instanceof OSError && err.errno === errno.EOPNOTSUPP,
  );
  const server = new SSLContext(PROTOCOL_TLS_SERVER);
  server.checkHostname = true; // as in Python, this turns verification on
  equal(server.verifyMode, CERT_REQUIRED);
  equal(new SSLContext(PROTOCOL_TLS).verifyMode, CERT_NONE);
  equal(createDefaultContext(Purpose.CLIENT_AUTH).protocol, PROTOCOL_TLS_SERVER);
});

Deno.test("wrapSocket refuses what Python refuses, before any I/O", async () => {
  const client = new SSLContext(PROTOCOL_TLS_CLIENT);
  const server = new SSLContext(PROTOCOL_TLS_SERVER);
  await using sock = socket();
  await using udp = socket(2, SOCK_DGRAM);
  await rejects(client.wrapSocket(udp as unknown as StreamSocket), /only stream sockets/);
  await rejects(client.wrapSocket(sock), /checkHostname requires serverHostname/);
  await rejects(client.wrapSocket(sock, { serverSide: true }), /PROTOCOL_TLS_CLIENT context/);
  await rejects(server.wrapSocket(sock), /PROTOCOL_TLS_SERVER context/);
  await rejects(
    new SSLContext(PROTOCOL_TLS).wrapSocket(sock, { serverSide: true, serverHostname: "x" }),
    /only be specified in client mode/,
  );
  throws(
    () => new SSLSocket(Symbol(), sock, client, {} as never, {}),
    /does not have a public constructor/,
  );
  const unconnected = await client.wrapSocket(sock, { serverHostname: "localhost" });
  await rejects(
    unconnected.recv(1),
    (err: unknown) => err instanceof OSError && err.errno === errno.ENOTCONN,
  );
  throws(
    () => unconnected.getpeername(),
    (err: unknown) => err instanceof OSError && err.errno === errno.ENOTCONN,
  );
  deepEqual(unconnected.getsockname(), ["0.0.0.0", 0]);
});

Deno.test("a non-blocking socket cannot be wrapped with the handshake on connect, as in Python", async () => {
  const ctx = await contexts();
  const [a, b] = await socketpair();
  await using _b = b;
  a.setblocking(false);
  await rejects(
    ctx.client.wrapSocket(a, { serverHostname: "localhost" }),
    /doHandshakeOnConnect should not be specified for non-blocking sockets/,
  );
  equal(a.fileno(), -1);
});

Deno.test("a wrapped listener's accept returns SSLSockets and reports a failed handshake as its own error", async () => {
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const port = listener.getsockname()[1] as number;
  // A client that speaks plaintext: the server's handshake fails in accept().
  await using plain = await createConnection(["127.0.0.1", port]);
  await plain.sendall("GET / HTTP/1.0\r\n\r\n");
  await rejects(listener.accept(), SSLError);
  const accepting = listener.accept();
  await using ok1 = await ctx.client.wrapSocket(await createConnection(["127.0.0.1", port]), {
    serverHostname: "localhost",
  });
  const [conn, addr] = await accepting;
  await using _conn = conn;
  ok(conn instanceof SSLSocket);
  equal(addr[0], "127.0.0.1");
  equal(ok1.version(), "TLSv1.3");
});

Deno.test("a client wrapped before connecting handshakes in connect(), as Python's docs show", async () => {
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const accepting = listener.accept();
  await using client = await ctx.client.wrapSocket(socket(), { serverHostname: "localhost" });
  equal(client.engine, null);
  await client.connect(listener.getsockname());
  const [server] = await accepting;
  await using _server = server;
  equal(client.engine, "node");
  equal(client.version(), "TLSv1.3");
  await rejects(
    client.connect(listener.getsockname()),
    (err: unknown) => err instanceof OSError && err.errno === errno.EISCONN,
  );
});

Deno.test("the wrapped socket's bytes are never read twice: after the upgrade its own buffer is left to TLS", async () => {
  const ctx = await contexts();
  const [a, b] = await socketpair();
  await b.sendall("plain\n");
  equal(text(await a.recv(6)), "plain\n");
  const wrapping = ctx.server.wrapSocket(b, { serverSide: true });
  await using client = await ctx.client.wrapSocket(a, { serverHostname: "localhost" });
  await using server = await wrapping;
  await client.sendall("tls");
  equal(text(await recvExactly(server, 3)), "tls");
  equal(server[kReader]().buffered, 0);
});

Deno.test("a client that leaves in the middle of the handshake fails the server's accept with SSLEOFError", async () => {
  const ctx = await contexts();
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const accepting = listener.accept();
  const sock = await createConnection(["127.0.0.1", listener.getsockname()[1] as number]);
  // Half a ClientHello, then gone.
  await sock.sendall(new Uint8Array([22, 3, 1, 0, 200, 1, 0, 0]));
  sock.close();
  await rejects(accepting, SSLEOFError);
});

Deno.test("unwrap after the peer left without close_notify fails with SSLEOFError", async () => {
  await using p = await tlsPair();
  p.server.close(); // as Python's close(): no close_notify
  equal((await p.client.recv(10)).length, 0);
  await rejects(p.client.unwrap(), SSLEOFError);
});

Deno.test("unwrap of a session already closed both ways fails with SSLZeroReturnError; the peer's unwrap gets its plain socket", async () => {
  await using p = await tlsPair();
  const unwrapping = p.server.unwrap();
  equal((await p.client.recv(10)).length, 0); // the server's close_notify
  p.client.shutdown(SHUT_WR); // ours: the session is closed both ways
  await using plain = await unwrapping;
  await plain.sendall("plain again");
  await rejects(p.client.unwrap(), SSLZeroReturnError);
});

Deno.test('the "deno" engine keeps the stream surface: a timed-out recv loses nothing, non-blocking recv is SSLWantReadError', async () => {
  const c = await certs();
  const ctx = await contexts();
  const client = createDefaultContext();
  client.loadVerifyLocations(c.ca);
  client.engine = "deno";
  await using listener = await ctx.server.wrapSocket(createServer(["127.0.0.1", 0]), {
    serverSide: true,
  });
  const accepting = listener.accept();
  await using ssock = await client.wrapSocket(socket(), { serverHostname: "localhost" });
  await ssock.connect(listener.getsockname());
  const [server] = await accepting;
  await using _server = server;
  equal(ssock.engine, "deno");
  ssock.settimeout(0.05);
  await rejects(ssock.recv(100), TimeoutError);
  ssock.setblocking(false);
  await rejects(ssock.recv(100), SSLWantReadError);
  await server.sendall("kept for the next call");
  ssock.settimeout(null);
  equal(text(await recvExactly(ssock, 22)), "kept for the next call");
  await sendMsg(ssock, "framed");
  equal(text((await recvMsg(server))!), "framed");
});

Deno.test("TLS makefile: an open file holds the socket after close(), and text files take newline, as CPython's", async () => {
  await using p = await tlsPair();
  await p.client.sendall("one\r\ntwo\r\n");
  // CPython's SSLSocket.makefile is socket.makefile: the same newline argument,
  // and the file's reference keeps the connection open after close().
  const make = p.server.makefile as (mode: string, options?: unknown) => SocketFile<string>;
  const file = make.call(p.server, "r", { newline: "" });
  p.server.close();
  equal(await file.readline(), "one\r\n");
  equal(await file.readline(), "two\r\n");
  await file.close();
  throws(() => p.server.getsockname(), (e) => e instanceof OSError && e.errno === errno.EBADF);
});

Deno.test('an SSLSocket\'s read that times out waiting for its turn, or past its deadline, says CPython\'s "The read operation timed out" as the one holding the turn does (it said "timed out")', async () => {
  await using p = await tlsPair();
  p.server.settimeout(0.05);
  const first = p.server.recv(10).catch((err) => err);
  const queued = recvExactly(p.server, 3).catch((err) => err);
  for (const err of [await first, await queued]) {
    ok(err instanceof TimeoutError);
    equal(err.message, "The read operation timed out");
  }
  // Nothing was lost: bytes sent now are the next read's.
  p.server.settimeout(5);
  await p.client.sendall("abc");
  equal(text(await recvExactly(p.server, 3)), "abc");
});
