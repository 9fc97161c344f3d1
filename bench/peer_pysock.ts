/**
 * The pysock column for the stream workloads (bulk, ping-pong, concurrency, scale-out), written
 * the way a Python programmer ports the seed tutorials: `createServer`, `accept`, `sendall`,
 * `recv`, `recvInto`; and `chunks()`, the bulk idiom without fresh memory per read.
 *
 * Usage (the harness does this): `deno run -A bench/peer_pysock.ts server|client '<spec>'`.
 *
 * @module
 */

import { createConnection, createServer, type StreamSocket } from "../socket.ts";
import {
  cpuTime,
  HOST,
  payload,
  ready,
  result,
  runPeer,
  share,
  type Spec,
  type Workload,
} from "./_peer.ts";

/**
 * A listening socket on loopback, announced to the harness.
 *
 * @param spec The workload (`port`, `reusePort`).
 * @param backlog The accept queue length.
 * @returns The listening socket.
 */
export function listen(spec: Spec, backlog = 511): StreamSocket {
  const server = createServer([HOST, spec.port ?? 0], { backlog, reusePort: spec.reusePort });
  ready(server.getsockname()[1] as number);
  return server;
}

/**
 * Connects to the harness's server.
 *
 * @param spec The workload (`port`).
 * @returns The connected socket.
 */
export function connect(spec: Spec): Promise<StreamSocket> {
  return createConnection([HOST, spec.port!]);
}

async function recvExactly(sock: StreamSocket, n: number): Promise<void> {
  for (let got = 0; got < n;) {
    const data = await sock.recv(n - got);
    if (data.length === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += data.length;
  }
}

async function echo(conn: StreamSocket, bufsize: number): Promise<void> {
  try {
    for (let data = await conn.recv(bufsize); data.length > 0; data = await conn.recv(bufsize)) {
      await conn.sendall(data);
    }
  } catch {
    // A peer reset ends this connection only.
  } finally {
    conn.close();
  }
}

async function serveEcho(spec: Spec, bufsize: number, backlog?: number): Promise<void> {
  const server = listen(spec, backlog);
  for (;;) {
    const [conn] = await server.accept();
    echo(conn, bufsize);
  }
}

async function bulkServer(spec: Spec): Promise<void> {
  const server = listen(spec);
  const [conn] = await server.accept();
  const chunk = payload(spec.chunk!);
  for (let left = spec.bytes!; left > 0; left -= chunk.length) {
    await conn.sendall(left >= chunk.length ? chunk : chunk.subarray(0, left));
  }
  conn.close();
  server.close();
}

async function bulkClient(spec: Spec): Promise<void> {
  const start = performance.now();
  const cpu0 = cpuTime();
  const sock = await connect(spec);
  let total = 0;
  if (spec.mode === "into") {
    const buf = new Uint8Array(65536);
    for (let n = await sock.recvInto(buf); n > 0; n = await sock.recvInto(buf)) total += n;
  } else if (spec.mode === "chunks") {
    for await (const chunk of sock.chunks(65536)) total += chunk.length;
  } else {
    for (let data = await sock.recv(65536); data.length > 0; data = await sock.recv(65536)) {
      total += data.length;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  sock.close();
  if (total !== spec.bytes) throw new Error(`bulk: got ${total} of ${spec.bytes} bytes`);
  result({ cpu: cpuTime() - cpu0, value: total / 1e6 / seconds, seconds });
}

async function pingpongClient(spec: Spec): Promise<void> {
  const socks = await Promise.all(Array.from({ length: spec.conns! }, () => connect(spec)));
  const request = payload(spec.size!);
  const start = performance.now();
  const cpu0 = cpuTime();
  await Promise.all(socks.map(async (sock, i) => {
    for (let n = share(spec.rounds!, socks.length, i); n > 0; n--) {
      await sock.sendall(request);
      await recvExactly(sock, request.length);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  for (const sock of socks) sock.close();
  result({ cpu: cpuTime() - cpu0, value: spec.rounds! / seconds, seconds });
}

const servers: Record<string, Workload> = {
  "bulk": bulkServer,
  "pingpong": (spec) => serveEcho(spec, 4096),
  "concurrency": (spec) => serveEcho(spec, spec.readBuf!, spec.backlog),
  "scale": (spec) => serveEcho(spec, spec.readBuf!, spec.backlog),
};

const clients: Record<string, Workload> = {
  "bulk": bulkClient,
  "pingpong": pingpongClient,
};

if (import.meta.main) await runPeer(servers, clients);
