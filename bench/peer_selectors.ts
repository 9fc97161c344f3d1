/**
 * The Deno peers of `deno task bench:selectors` (bench/selectors.ts):
 *
 * - `server selectors`: a selectors echo server as the Python docs write it (pysock
 *   DefaultSelector, non-blocking sockets, one accept per ready event, recv then send);
 * - `server tasks`: the same echo as a pysock task per connection (recv, sendall);
 * - `server raw`: the same as a raw `Deno.Conn` task per connection (the reference);
 * - `client '<json>'`: the load, always raw Deno: `conns` connections, each sending
 *   `size` bytes and waiting for their echo, `rounds` round trips in all;
 * - `idle selectors|tasks N S`: N idle connections, registered with a selector (or each
 *   with a pending recv), and the process CPU time spent over S seconds of waiting.
 *
 * Servers print `READY <port>`, clients and idle runs `RESULT <json>` (bench/_proc.ts).
 *
 * @module
 */

import process from "node:process";
import { createServer, DefaultSelector, EVENT_READ, socket, type StreamSocket } from "../mod.ts";
import { HOST, payload, ready, result, share } from "./_peer.ts";

const [role, kind, arg, seconds] = Deno.args;
// SIGTERM from the harness: exit cleanly.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

if (role === "server" && kind === "selectors") await selectorsServer();
else if (role === "server" && kind === "tasks") await tasksServer();
else if (role === "server" && kind === "raw") await rawServer();
else if (role === "client") await client(JSON.parse(kind));
else if (role === "idle") await idle(Number(arg ?? 1000), kind, Number(seconds ?? 2));
else throw new TypeError("Usage: peer_selectors.ts server selectors|tasks|raw | client JSON");

async function selectorsServer(): Promise<void> {
  const sel = new DefaultSelector<null, StreamSocket>();
  const sock = createServer([HOST, 0], { backlog: 4096 });
  sock.setblocking(false);
  sel.register(sock, EVENT_READ, null);
  ready(sock.getsockname()[1] as number);
  while (true) {
    for (const [key] of await sel.select()) {
      const conn = key.fileobj;
      if (conn === sock) {
        const [accepted] = await sock.accept();
        accepted.setblocking(false);
        sel.register(accepted, EVENT_READ, null);
        continue;
      }
      const data = await conn.recv(65536);
      if (data.length === 0) {
        sel.unregister(conn);
        conn.close();
        continue;
      }
      // Non-blocking: the send queue takes it all (a client waits for each echo).
      const sent = await conn.send(data);
      if (sent !== data.length) throw new Error(`send took ${sent} of ${data.length}`);
    }
  }
}

async function tasksServer(): Promise<void> {
  const sock = createServer([HOST, 0], { backlog: 4096 });
  ready(sock.getsockname()[1] as number);
  while (true) {
    const [conn] = await sock.accept();
    (async () => {
      while (true) {
        const data = await conn.recv(65536);
        if (data.length === 0) break;
        await conn.sendall(data);
      }
      conn.close();
    })().catch(() => conn.close());
  }
}

async function rawServer(): Promise<void> {
  const listener = Deno.listen({ hostname: HOST, port: 0, tcpBacklog: 4096 });
  ready((listener.addr as Deno.NetAddr).port);
  for await (const conn of listener) {
    (async () => {
      const buf = new Uint8Array(65536);
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        let sent = 0;
        while (sent < n) sent += await conn.write(buf.subarray(sent, n));
      }
      conn.close();
    })().catch(() => conn.close());
  }
}

interface Load {
  port: number;
  conns: number;
  rounds: number;
  size: number;
}

async function client({ port, conns, rounds, size }: Load): Promise<void> {
  const all: Deno.Conn[] = [];
  const started = performance.now();
  // Connect in batches, so the server's accept queue never overflows (a dropped SYN
  // costs a one-second retransmit).
  for (let i = 0; i < conns; i += 200) {
    const batch = Math.min(200, conns - i);
    all.push(
      ...await Promise.all(
        Array.from({ length: batch }, () => Deno.connect({ hostname: HOST, port })),
      ),
    );
  }
  const message = payload(size);
  const echo = async (conn: Deno.Conn, count: number) => {
    const buf = new Uint8Array(65536);
    for (let round = count; round > 0; round--) {
      await conn.write(message);
      for (let got = 0; got < size;) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("the server closed a connection");
        got += n;
      }
    }
  };
  // One untimed round trip per connection first: the server has accepted them all.
  await Promise.all(all.map((conn) => echo(conn, 1)));
  const connectSeconds = (performance.now() - started) / 1000;
  const begin = performance.now();
  await Promise.all(all.map((conn, i) => echo(conn, share(rounds, conns, i))));
  const seconds = (performance.now() - begin) / 1000;
  for (const conn of all) conn.close();
  result({ value: rounds / seconds, seconds, connectSeconds });
}

/** CPU time (µs) this process spends over `seconds` while `count` idle connections wait. */
async function idle(count: number, how: string, seconds: number): Promise<void> {
  const server = createServer([HOST, 0], { backlog: 4096 });
  const clients: StreamSocket[] = [];
  const conns: StreamSocket[] = [];
  for (let i = 0; i < count; i++) {
    const c = socket();
    const accepting = server.accept();
    await c.connect(server.getsockname());
    clients.push(c);
    conns.push((await accepting)[0]);
  }
  const sel = new DefaultSelector();
  const pending: Promise<unknown>[] = [];
  if (how === "selectors") { for (const conn of conns) sel.register(conn, EVENT_READ); }
  else for (const conn of conns) pending.push(conn.recv(10).catch(() => null));
  // Let registration's kept reads and everything else settle before measuring.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = process.cpuUsage();
  const wallStart = performance.now();
  if (how === "selectors") {
    const ready = await sel.select(seconds);
    if (ready.length !== 0) throw new Error("an idle connection was reported ready");
  } else {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
  const used = process.cpuUsage(before);
  const wall = (performance.now() - wallStart) / 1000;
  result({ value: used.user + used.system, wall });
  sel.close();
  for (const s of [...clients, ...conns, server]) s.close();
  await Promise.all(pending);
}
