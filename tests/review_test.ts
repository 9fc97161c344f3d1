// Review findings: each test pins a bug found in the read buffer or its users.

import assert from "node:assert/strict";
import { bytes, pair, sleep, text } from "./_helpers.ts";
import { SHUT_RD } from "../socket.ts";
import { recvExactly } from "../framing.ts";
import { TimeoutError } from "../errors.ts";

Deno.test("two recv calls waiting at once each get bytes, neither sees a false end of stream", async () => {
  await using p = await pair();
  const first = p.conn.recv(100);
  const second = p.conn.recv(100);
  await p.client.sendall("x");
  assert.deepEqual(await first, bytes("x"));
  await p.client.sendall("y");
  assert.deepEqual(await second, bytes("y"));
});

Deno.test("two recvInto calls with a timeout waiting at once each get bytes", async () => {
  await using p = await pair();
  p.conn.settimeout(5);
  const a = new Uint8Array(10);
  const b = new Uint8Array(10);
  const first = p.conn.recvInto(a);
  const second = p.conn.recvInto(b);
  await p.client.sendall("x");
  assert.equal(await first, 1);
  await p.client.sendall("y");
  assert.equal(await second, 1);
  assert.equal(text(a.subarray(0, 1)) + text(b.subarray(0, 1)), "xy");
});

Deno.test("two recvExactly calls waiting at once each get exactly their count", async () => {
  await using p = await pair();
  const first = recvExactly(p.conn, 3);
  const second = recvExactly(p.conn, 3);
  await p.client.sendall("abc");
  assert.deepEqual(await first, bytes("abc"));
  await p.client.sendall("def");
  assert.deepEqual(await second, bytes("def"));
});

Deno.test("a makefile read(n) that times out loses no data: the next read gets every byte", async () => {
  await using p = await pair();
  p.conn.settimeout(0.05);
  const file = p.conn.makefile("rb");
  await p.client.sendall("abc");
  await assert.rejects(file.read(6), TimeoutError);
  await p.client.sendall("def");
  assert.deepEqual(await file.read(6), bytes("abcdef"));
});

Deno.test("after shutdown(SHUT_RD), bytes a kept read brings in are not returned by recv", async () => {
  await using p = await pair();
  p.conn.settimeout(0.02);
  await assert.rejects(p.conn.recv(10), TimeoutError);
  p.conn.shutdown(SHUT_RD);
  await p.client.sendall("late");
  p.conn.settimeout(null);
  await sleep(50);
  assert.deepEqual(await p.conn.recv(10), new Uint8Array(0));
});

Deno.test("a recv pending at shutdown(SHUT_RD) returns empty, not the bytes that arrive afterwards", async () => {
  await using p = await pair();
  const pending = p.conn.recv(10);
  p.conn.shutdown(SHUT_RD);
  await p.client.sendall("late");
  assert.deepEqual(await pending, new Uint8Array(0));
});

Deno.test("a text makefile shows an incomplete UTF-8 sequence at end of stream instead of dropping it", async () => {
  await using p = await pair();
  await p.client.sendall(new Uint8Array([0x61, 0xe2, 0x82])); // "a" and 2 of the 3 bytes of "€"
  p.client.close();
  const f = p.conn.makefile("r");
  assert.equal(await f.read(), "a\ufffd");
  assert.equal(await f.read(), "");
});
