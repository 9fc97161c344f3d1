/**
 * The Deno peers of the TLS benchmark (bench/tls.ts), one per implementation:
 * - `raw`: `Deno.listenTls` / `Deno.connectTls` on `Deno.TlsConn`, as a careful Deno user
 *   would write it without pysock;
 * - `pysock`: `SSLContext.wrapSocket` with the default (node:tls) engine;
 * - `pysock-deno`: a client context with `engine = "deno"` (Deno.startTls under pysock's
 *   buffer); servers always use node:tls.
 *
 * Usage (the harness does this): `deno run -A bench/peer_tls.ts server|client '<spec>'`, the
 * spec carrying `impl` and the certificate paths besides the workload.
 *
 * @module
 */

import { createConnection, createServer, socket } from "../socket.ts";
import { recvExactly } from "../framing.ts";
import {
  createDefaultContext,
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  SSLContext,
  type SSLSocket,
} from "../ssl.ts";
import { HOST, payload, ready, result, runPeer, type Spec } from "./_peer.ts";

/** The TLS fields of a spec. */
interface TlsSpec extends Spec {
  impl: "raw" | "pysock" | "pysock-deno";
  cert: string;
  key: string;
  ca: string;
}

const tlsOf = (spec: Spec) => spec as TlsSpec;

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

async function rawAccept(spec: TlsSpec): Promise<Deno.TlsConn> {
  const listener = Deno.listenTls({
    hostname: HOST,
    port: 0,
    cert: await Deno.readTextFile(spec.cert),
    key: await Deno.readTextFile(spec.key),
  });
  ready(listener.addr.port);
  const conn = await listener.accept();
  listener.close();
  await conn.handshake();
  return conn;
}

async function rawConnect(spec: TlsSpec): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname: HOST,
    port: spec.port!,
    caCerts: [await Deno.readTextFile(spec.ca)],
  });
  await conn.handshake();
  return conn;
}

async function pysockAccept(spec: TlsSpec): Promise<SSLSocket> {
  const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
  ctx.loadCertChain(spec.cert, spec.key);
  const listener = await ctx.wrapSocket(createServer([HOST, 0]), { serverSide: true });
  ready(listener.getsockname()[1] as number);
  const [conn] = await listener.accept();
  listener.close();
  return conn;
}

async function pysockConnect(spec: TlsSpec): Promise<SSLSocket> {
  if (spec.impl === "pysock-deno") {
    // The "deno" engine applies to a context trusting the default roots (plus the test CA).
    const ctx = createDefaultContext();
    ctx.loadVerifyLocations(spec.ca);
    ctx.engine = "deno";
    const ssock = await ctx.wrapSocket(socket(), { serverHostname: "localhost" });
    await ssock.connect([HOST, spec.port!]);
    if (ssock.engine !== "deno") throw new Error(`expected the deno engine, got ${ssock.engine}`);
    return ssock;
  }
  const ctx = new SSLContext(PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations(spec.ca);
  return await ctx.wrapSocket(await createConnection([HOST, spec.port!]), {
    serverHostname: "localhost",
  });
}

async function bulkServer(s: Spec): Promise<void> {
  const spec = tlsOf(s);
  const chunk = payload(spec.chunk!);
  if (spec.impl === "raw") {
    const conn = await rawAccept(spec);
    for (let left = spec.bytes!; left > 0; left -= chunk.length) {
      await writeAll(conn, left >= chunk.length ? chunk : chunk.subarray(0, left));
    }
    await conn.closeWrite();
    conn.close();
    return;
  }
  const conn = await pysockAccept(spec);
  for (let left = spec.bytes!; left > 0; left -= chunk.length) {
    await conn.sendall(left >= chunk.length ? chunk : chunk.subarray(0, left));
  }
  conn.shutdown(1);
  await conn.recv(1);
  conn.close();
}

async function bulkClient(s: Spec): Promise<void> {
  const spec = tlsOf(s);
  let total = 0;
  let start: number;
  if (spec.impl === "raw") {
    const conn = await rawConnect(spec);
    start = performance.now();
    const buf = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      total += n;
    }
    conn.close();
  } else {
    const conn = await pysockConnect(spec);
    start = performance.now();
    while (true) {
      const data = await conn.recv(65536);
      if (data.length === 0) break;
      total += data.length;
    }
    conn.close();
  }
  const seconds = (performance.now() - start) / 1000;
  if (total !== spec.bytes) throw new Error(`bulk: got ${total} of ${spec.bytes} bytes`);
  result({ value: total / 1e6 / seconds, seconds });
}

async function pingpongServer(s: Spec): Promise<void> {
  const spec = tlsOf(s);
  if (spec.impl === "raw") {
    const conn = await rawAccept(spec);
    const buf = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      await writeAll(conn, buf.subarray(0, n));
    }
    conn.close();
    return;
  }
  const conn = await pysockAccept(spec);
  while (true) {
    const data = await conn.recv(65536);
    if (data.length === 0) break;
    await conn.sendall(data);
  }
  conn.close();
}

async function pingpongClient(s: Spec): Promise<void> {
  const spec = tlsOf(s);
  const message = payload(spec.size!);
  let start: number;
  if (spec.impl === "raw") {
    const conn = await rawConnect(spec);
    const buf = new Uint8Array(spec.size!);
    start = performance.now();
    for (let i = 0; i < spec.rounds!; i++) {
      await writeAll(conn, message);
      for (let got = 0; got < buf.length;) {
        const n = await conn.read(buf.subarray(got));
        if (n === null) throw new Error("EOF in ping-pong");
        got += n;
      }
    }
    conn.close();
  } else {
    const conn = await pysockConnect(spec);
    start = performance.now();
    for (let i = 0; i < spec.rounds!; i++) {
      await conn.sendall(message);
      await recvExactly(conn, message.length);
    }
    conn.close();
  }
  const seconds = (performance.now() - start) / 1000;
  result({ value: spec.rounds! / seconds, seconds });
}

await runPeer(
  { bulk: bulkServer, pingpong: pingpongServer },
  { bulk: bulkClient, pingpong: pingpongClient },
);
