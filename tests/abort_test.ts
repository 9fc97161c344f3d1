// An AbortSignal ({ signal }) on connect, accept, the receives and
// createConnection: aborting rejects with the signal's reason and, like a
// timeout, loses no data: what arrives later goes to the next call.

import assert from "node:assert/strict";
import {
  createConnection,
  createServer,
  errno,
  MSG_PEEK,
  MSG_WAITALL,
  OSError,
  recvMsg,
  sendMsg,
  socket,
} from "../mod.ts";
import type { Address, StreamSocket } from "../socket.ts";
import { FAMILIES, pair, silentListener, sleep, text } from "./_helpers.ts";

/** A reason no pysock error could be mistaken for. */
class Stop extends Error {}

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: an aborted recv rejects with the signal's reason and the bytes go to the next recv`, async () => {
    await using p = await pair(family);
    const controller = new AbortController();
    const waiting = p.conn.recv(100, 0, { signal: controller.signal });
    await sleep(20);
    const reason = new Stop("enough");
    controller.abort(reason);
    await assert.rejects(waiting, (err) => err === reason);
    await p.client.sendall("after the abort");
    assert.equal(text(await p.conn.recv(100)), "after the abort");
  });
}

Deno.test("a signal already aborted rejects recv, recvInto and accept at once, consuming nothing", async () => {
  await using p = await pair();
  await p.client.sendall("buffered");
  await sleep(20);
  const reason = new Stop("before");
  const signal = AbortSignal.abort(reason);
  await assert.rejects(p.conn.recv(100, 0, { signal }), (err) => err === reason);
  await assert.rejects(
    p.conn.recvInto(new Uint8Array(8), 0, 0, { signal }),
    (err) => err === reason,
  );
  await assert.rejects(p.server.accept({ signal }), (err) => err === reason);
  await assert.rejects(p.client.connect(["127.0.0.1", 1], { signal }), (err) => err === reason);
  assert.equal(text(await p.conn.recv(100)), "buffered");
});

Deno.test("an aborted recvInto, MSG_PEEK or MSG_WAITALL receive consumes nothing", async () => {
  await using p = await pair();
  const calls: [string, (signal: AbortSignal) => Promise<unknown>][] = [
    ["recvInto", (signal) => p.conn.recvInto(new Uint8Array(8), 0, 0, { signal })],
    ["MSG_PEEK", (signal) => p.conn.recv(8, MSG_PEEK, { signal })],
    // Three bytes are there: MSG_WAITALL is still waiting for the other five.
    ["MSG_WAITALL", (signal) => p.conn.recv(8, MSG_WAITALL, { signal })],
  ];
  for (const [what, call] of calls) {
    if (what === "MSG_WAITALL") await p.client.sendall("abc");
    const controller = new AbortController();
    const waiting = call(controller.signal);
    await sleep(20);
    controller.abort();
    await assert.rejects(waiting, (err: DOMException) => err.name === "AbortError", what);
    if (what !== "MSG_WAITALL") await p.client.sendall("abc");
    assert.equal(text(await p.conn.recv(8)), "abc", what);
  }
});

Deno.test("an aborted recv waiting for its turn leaves the queue; the call before it still gets its bytes", async () => {
  await using p = await pair();
  const first = recvMsg(p.conn);
  const controller = new AbortController();
  const second = p.conn.recv(100, 0, { signal: controller.signal });
  controller.abort(new Stop("second"));
  await assert.rejects(second, Stop);
  await sendMsg(p.client, "whole");
  assert.equal(text((await first)!), "whole");
  await p.client.sendall("next");
  assert.equal(text(await p.conn.recv(100)), "next");
});

Deno.test("an aborted accept rejects with the reason and the connection goes to the next accept", async () => {
  using server = createServer(["127.0.0.1", 0]);
  const controller = new AbortController();
  const waiting = server.accept({ signal: controller.signal });
  controller.abort(new Stop("no one yet"));
  await assert.rejects(waiting, Stop);
  using c = socket();
  await c.connect(server.getsockname());
  const [conn, addr] = await server.accept();
  using _conn = conn;
  assert.deepEqual(addr, c.getsockname());
});

Deno.test("one signal for many accepts, as a serve loop passes: each takes its own connection, the abort ends only the one waiting, and the connection after it is kept", async () => {
  using server = createServer(["127.0.0.1", 0]);
  const controller = new AbortController();
  const { signal } = controller;
  const clients = [];
  try {
    for (let i = 0; i < 3; i++) {
      const c = socket();
      clients.push(c);
      await c.connect(server.getsockname());
      const [conn, addr] = await server.accept({ signal });
      conn.close();
      assert.deepEqual(addr, c.getsockname(), `accept ${i}`);
    }
    const waiting = server.accept({ signal });
    await sleep(20);
    controller.abort(new Stop("serving ends"));
    await assert.rejects(waiting, Stop);
    const late = socket();
    clients.push(late);
    await late.connect(server.getsockname());
    const [conn, addr] = await server.accept({ signal: new AbortController().signal });
    conn.close();
    assert.deepEqual(addr, late.getsockname());
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("a signal an earlier accept used, aborted later, ends no accept that did not take it", async () => {
  using server = createServer(["127.0.0.1", 0]);
  const first = new AbortController();
  const second = new AbortController();
  const take = async (waiting: Promise<[StreamSocket, Address]>) => {
    using client = socket();
    await client.connect(server.getsockname());
    const [conn, addr] = await waiting;
    conn.close();
    assert.deepEqual(addr, client.getsockname());
  };
  await take(server.accept({ signal: first.signal }));
  // Waiting with another signal: first's abort must not end it.
  const other = server.accept({ signal: second.signal });
  first.abort(new Stop("stale"));
  await sleep(10);
  await take(other);
  // Waiting with none: second's abort must not end it either.
  const plain = server.accept();
  second.abort(new Stop("stale too"));
  await sleep(10);
  await take(plain);
});

Deno.test("closing the socket ends an accept waiting with a signal with EBADF, and the signal's later abort does nothing", async () => {
  const server = createServer(["127.0.0.1", 0]);
  const controller = new AbortController();
  const waiting = server.accept({ signal: controller.signal });
  await sleep(10);
  server.close();
  await assert.rejects(
    waiting,
    (err: OSError) => err instanceof OSError && err.errno === errno.EBADF,
  );
  controller.abort(new Stop("too late"));
  await sleep(10);
});

Deno.test("an aborted connect to a listener that drops SYNs rejects with the reason, and the socket can connect again", async () => {
  await using silent = await silentListener();
  using s = socket();
  const controller = new AbortController();
  const connecting = s.connect(silent.addr, { signal: controller.signal });
  await sleep(20);
  controller.abort(new Stop("too slow"));
  await assert.rejects(connecting, Stop);
  using server = createServer(["127.0.0.1", 0]);
  await s.connect(server.getsockname());
  const [conn] = await server.accept();
  conn.close();
});

Deno.test("createConnection takes a signal: aborting ends the attempt with its reason", async () => {
  await using silent = await silentListener();
  const reason = new Stop("abandoned");
  const controller = new AbortController();
  const connecting = createConnection(silent.addr, { signal: controller.signal });
  await sleep(20);
  controller.abort(reason);
  await assert.rejects(connecting, (err) => err === reason);
  await assert.rejects(
    createConnection(silent.addr, { signal: AbortSignal.abort(reason) }),
    (err) => err === reason,
  );
});

Deno.test("a signal that is not an AbortSignal is a TypeError before any I/O", async () => {
  await using p = await pair();
  await assert.rejects(p.conn.recv(1, 0, { signal: {} as never }), TypeError);
  await assert.rejects(p.server.accept({ signal: "x" as never }), TypeError);
});
