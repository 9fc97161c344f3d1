// _select.ts: select.select() and select.poll() as Python programs call
// them, on real loopback sockets.

import assert from "node:assert/strict";
import { createServer, errno, OSError, socket, socketpair } from "../mod.ts";
import { KeyError, poll, POLLIN, POLLNVAL, POLLOUT, POLLPRI, select } from "../selectors.ts";
import { text } from "./_helpers.ts";

Deno.test("select returns the readable and writable subsets in the order given, and no exceptional one", async () => {
  const [a, b] = await socketpair();
  const [c, d] = await socketpair();
  await using _a = a, _b = b, _c = c, _d = d;
  await a.sendall("to b");
  await c.sendall("to d");
  let readable: unknown[] = [];
  for (let i = 0; i < 10 && readable.length < 2; i++) {
    [readable] = await select([d, b], [], [], 5);
  }
  assert.deepEqual(readable, [d, b]);
  const [r, w, x] = await select([a], [a, c], [a, b], 5);
  assert.deepEqual(r, []);
  assert.deepEqual(w, [a, c]);
  assert.deepEqual(x, []);
  b.setblocking(false);
  assert.equal(text(await b.recv(10)), "to b");
});

Deno.test("select reports a socket given in both lists in both when it is readable and writable", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  await a.sendall("x");
  // b is writable, so select returns at once; the byte shows up within a
  // few event-loop turns.
  let result: unknown[][] = [[], [], []];
  for (let i = 0; i < 10_000 && result[0].length === 0; i++) {
    result = await select([b], [b], [], 5);
  }
  assert.deepEqual(result, [[b], [b], []]);
});

Deno.test("select with a timeout returns three empty lists when nothing becomes ready", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  assert.deepEqual(await select([b], [], [b], 0), [[], [], []]);
  assert.deepEqual(await select([b], [], [], 0.05), [[], [], []]);
  assert.deepEqual(await select([], [], [], 0.01), [[], [], []]);
});

Deno.test("select reports a listening socket readable once a connection waits", async () => {
  using server = createServer(["127.0.0.1", 0]);
  server.setblocking(false);
  assert.deepEqual(await select([server], [server], [], 0), [[], [], []]);
  using client = socket();
  await client.connect(server.getsockname());
  assert.deepEqual(await select([server], [], [], 5), [[server], [], []]);
  const [conn] = await server.accept();
  conn.close();
});

Deno.test("select checks every object before waiting: bad timeout, closed socket, no fileno(), unknown number", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  await assert.rejects(
    select([b], [], [], -1),
    new RangeError("Cannot select: timeout must be non-negative, got -1"),
  );
  const closed = socket();
  closed.close();
  await assert.rejects(select([b, closed], [], []), new RangeError("Invalid file descriptor: -1"));
  await assert.rejects(select([], [{}] as never, []), TypeError);
  await assert.rejects(select([], [], [999999]), (err: unknown) => {
    assert.ok(err instanceof OSError && err.errno === errno.EBADF);
    return true;
  });
});

Deno.test("poll reports POLLOUT for a connected socket and POLLIN once bytes arrive, by fileno", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  const p = poll();
  p.register(b);
  assert.deepEqual(await p.poll(0), [[b.fileno(), POLLOUT]]);
  p.modify(b, POLLIN | POLLPRI);
  assert.deepEqual(await p.poll(0), []);
  await a.sendall("x");
  assert.deepEqual(await p.poll(5000), [[b.fileno(), POLLIN]]);
  p.register(b.fileno(), POLLIN | POLLOUT);
  assert.deepEqual(await p.poll(5000), [[b.fileno(), POLLIN | POLLOUT]]);
  p.unregister(b);
  assert.deepEqual(await p.poll(10), []);
});

Deno.test("poll reports POLLNVAL for a registered socket that was closed", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  const p = poll();
  p.register(b, POLLIN);
  const fd = b.fileno();
  b.close();
  assert.deepEqual(await p.poll(), [[fd, POLLNVAL]]);
  p.unregister(fd);
  assert.deepEqual(await p.poll(0), []);
});

Deno.test("poll.unregister of an unknown descriptor raises KeyError, poll.modify raises ENOENT", async () => {
  const [a, b] = await socketpair();
  await using _a = a, _b = b;
  const p = poll();
  assert.throws(() => p.unregister(b), KeyError);
  assert.throws(() => p.modify(b, POLLIN), (err: unknown) => {
    assert.ok(err instanceof OSError && err.errno === errno.ENOENT);
    return true;
  });
  assert.throws(() => p.register(b, -1), RangeError);
  assert.throws(() => p.register(b, 1.5), TypeError);
});
