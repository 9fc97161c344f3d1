// Kept (_kept.ts), the operation kept across timeouts, against real Deno
// datagram sockets on loopback: what a wait that gives up leaves behind,
// and when the socket is unref'd and ref'd again.

import assert from "node:assert/strict";
import { toDeadline } from "../_base.ts";
import { Kept, type Referable } from "../_kept.ts";
import { BlockingIOError, OSError, TimeoutError } from "../mod.ts";
import { bytes, runScript, sleep, text } from "./_helpers.ts";

type Received = [Uint8Array, Deno.Addr];

const KEPT = new URL("../_kept.ts", import.meta.url).href;
const BASE = new URL("../_base.ts", import.meta.url).href;

/** A receiving socket, a sender aimed at it, and a Kept for the receiver. */
function setup(): {
  conn: Deno.DatagramConn;
  kept: Kept<Received>;
  send(s: string): Promise<number>;
} & Disposable {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  return {
    conn,
    kept: new Kept<Received>(conn as Referable),
    send: (s) => sender.send(bytes(s), conn.addr),
    [Symbol.dispose]() {
      sender.close();
      try {
        conn.close();
      } catch { /* closed by the test */ }
    },
  };
}

Deno.test("a wait that times out keeps the receive, and the next wait returns its datagram once", async () => {
  using t = setup();
  const op = t.kept.start(t.conn.receive());
  await assert.rejects(t.kept.wait(op, toDeadline(0.02)), TimeoutError);
  assert.equal(t.kept.pending, op, "the receive is still the kept one");
  assert.equal(t.kept.waiting, 0);
  assert.equal(t.kept.unrefed, true, "nobody waits, so the socket is unref'd");

  const again = t.kept.wait(op, null);
  assert.equal(t.kept.unrefed, false, "a new waiter refs the socket again");
  assert.equal(t.kept.waiting, 1);
  await t.send("late");
  const [data] = await again;
  assert.equal(text(data), "late");
  assert.equal(t.kept.waiting, 0);
  assert.equal(t.kept.claim(op), true, "the first claim takes the datagram");
  assert.equal(t.kept.claim(op), false, "a second claim finds it taken");
  assert.equal(t.kept.pending, null);
});

Deno.test("a non-blocking wait raises BlockingIOError and keeps the receive", async () => {
  using t = setup();
  const op = t.kept.start(t.conn.receive());
  await assert.rejects(t.kept.wait(op, toDeadline(0)), BlockingIOError);
  assert.equal(t.kept.pending, op);
  assert.equal(t.kept.unrefed, true);
  await t.send("now");
  assert.equal(text((await t.kept.wait(op, null))[0]), "now");
  assert.equal(t.kept.unrefed, false);
});

Deno.test("a deadline already passed fails with TimeoutError and unrefs the receive nobody waits for", async () => {
  using t = setup();
  const op = t.kept.start(t.conn.receive());
  await assert.rejects(t.kept.wait(op, performance.now() - 1), TimeoutError);
  assert.equal(t.kept.waiting, 0);
  assert.equal(t.kept.unrefed, true);
});

Deno.test("a waiter that times out leaves the socket referenced while another still waits", async () => {
  using t = setup();
  const op = t.kept.start(t.conn.receive());
  const patient = t.kept.wait(op, null);
  await assert.rejects(t.kept.wait(op, toDeadline(0.01)), TimeoutError);
  assert.equal(t.kept.waiting, 1);
  assert.equal(t.kept.unrefed, false);
  await t.send("for the patient one");
  assert.equal(text((await patient)[0]), "for the patient one");
  assert.equal(t.kept.claim(op), true);
});

Deno.test("a receive that fails reaches its waiter as Deno's error, not as a timeout", async () => {
  using t = setup();
  const op = t.kept.start(t.conn.receive());
  const waiting = t.kept.wait(op, toDeadline(10));
  t.conn.close();
  const err = await waiting.then(() => null, (e) => e);
  assert.ok(err instanceof Error && !(err instanceof OSError), String(err));
  assert.equal(t.kept.waiting, 0);
  assert.equal(t.kept.unrefed, false, "a settled receive leaves nothing to unref");
  assert.equal(t.kept.pending, op, "forgetting it is the caller's to do");
  t.kept.clear();
  assert.equal(t.kept.pending, null);
});

Deno.test("a kept receive that fails while nobody waits raises no unhandled rejection", async () => {
  using t = setup();
  const op = t.kept.start(t.conn.receive());
  await assert.rejects(t.kept.wait(op, toDeadline(0.01)), TimeoutError);
  t.conn.close();
  // An unhandled rejection would fail this test once the event loop turns.
  await sleep(20);
  assert.equal(t.kept.pending, op);
});

Deno.test("release unrefs a pending receive at once, only one that is pending, and enter refs it again", async () => {
  using t = setup();
  t.kept.release();
  assert.equal(t.kept.unrefed, false, "nothing pending, nothing to unref");
  const op = t.kept.start(t.conn.receive());
  t.kept.release();
  assert.equal(t.kept.unrefed, true);
  const waiting = t.kept.wait(op, null);
  assert.equal(t.kept.unrefed, false);
  await t.send("after release");
  assert.equal(text((await waiting)[0]), "after release");
});

/** A script whose receive times out and is kept; with `waitAgain`, a second wait then blocks on it. */
function keptScript(waitAgain: boolean): string {
  return `import { Kept } from "${KEPT}";
import { toDeadline } from "${BASE}";
const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const kept = new Kept(conn);
const op = kept.start(conn.receive());
try { await kept.wait(op, toDeadline(0.01)); } catch (err) { console.log(err.constructor.name); }
// Not a top-level await: Deno keeps a process with one pending alive regardless.
(async () => {
  if (!${waitAgain}) return; // Left open on purpose: Python would exit here, and so must Deno.
  // Only this wait may keep the process alive until the unref'd timer sends.
  const timer = setTimeout(async () => {
    const t = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    await t.send(new TextEncoder().encode("hello"), conn.addr);
    t.close();
  }, 100);
  Deno.unrefTimer(timer);
  const [data] = await kept.wait(op, null);
  console.log("got", new TextDecoder().decode(data));
  conn.close();
})();
`;
}

Deno.test("a kept receive nobody waits for does not keep the process alive", async () => {
  const result = await runScript(keptScript(false), ["--unstable-net", "--allow-net=127.0.0.1"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "TimeoutError\n");
});

Deno.test("a new wait on a kept receive keeps the process alive until its datagram arrives", async () => {
  const result = await runScript(keptScript(true), ["--unstable-net", "--allow-net=127.0.0.1"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "TimeoutError\ngot hello\n");
});
