// _ready.ts: how selectors name sockets (fileno numbers, objects with
// fileno()) and the readiness of a stream socket in each of its states.

import assert from "node:assert/strict";
import { createServer, errno, OSError, socket, socketpair } from "../mod.ts";
import { socketByFileno } from "../_base.ts";
import { CLOSED, filenoOf, kWatch, READ, watchableOf, type Watcher, WRITE } from "../_ready.ts";
import { freePort } from "./_helpers.ts";

const BOTH = READ | WRITE;

/** A watcher that counts its wakes. */
function watcher(): Watcher & { wakes: number; woken(): Promise<void> } {
  let resolve: (() => void) | null = null;
  const w = {
    wakes: 0,
    wake() {
      w.wakes++;
      resolve?.();
    },
    /**
     * Resolves on the first wake. The reads and accepts kept for watchers
     * do not keep the process alive (a selector's select() does), so this
     * holds a timer meanwhile.
     */
    woken(): Promise<void> {
      if (w.wakes > 0) return Promise.resolve();
      const timer = setTimeout(() => {}, 30_000);
      return new Promise<void>((r) => resolve = r).finally(() => clearTimeout(timer));
    },
  };
  return w;
}

Deno.test("filenoOf takes a number or fileno(), as Python's _fileobj_to_fd", () => {
  assert.equal(filenoOf(7), 7);
  assert.equal(filenoOf({ fileno: () => 9 }), 9);
  assert.throws(() => filenoOf(-1), new RangeError("Invalid file descriptor: -1"));
  assert.throws(
    () => filenoOf({ fileno: () => -3 }),
    new RangeError("Invalid file descriptor: -3"),
  );
  assert.throws(() => filenoOf("3"), new TypeError('Invalid file object: "3"'));
  assert.throws(() => filenoOf(2.5), TypeError);
  assert.throws(() => filenoOf({ fileno: () => "4" }), TypeError);
  assert.throws(() => filenoOf(null), new TypeError("Invalid file object: null"));
});

Deno.test("a socket's fileno() number leads back to it until it is closed", () => {
  const s = socket();
  const fd = s.fileno();
  assert.equal(socketByFileno(fd), s);
  assert.equal(watchableOf(fd, fd), s);
  assert.equal(watchableOf({ fileno: () => fd }, fd), s);
  s.close();
  assert.equal(socketByFileno(fd), undefined);
  assert.throws(() => watchableOf(fd, fd), (err: unknown) => {
    assert.ok(err instanceof OSError && err.errno === errno.EBADF);
    return true;
  });
});

Deno.test("a socket neither connected nor listening is ready both ways, as Linux's poll says", () => {
  using fresh = socket();
  assert.equal(fresh[kWatch](BOTH, null), BOTH);
  using bound = socket();
  bound.bind(["127.0.0.1", 0]);
  assert.equal(bound[kWatch](BOTH, null), BOTH);
});

Deno.test("a listening socket is never writable, and readable once a connection is held for accept", async () => {
  using server = createServer(["127.0.0.1", 0]);
  const w = watcher();
  assert.equal(server[kWatch](BOTH, w), 0);
  using client = socket();
  await client.connect(server.getsockname());
  await w.woken();
  assert.equal(server[kWatch](BOTH, null), READ);
  const [conn] = await server.accept();
  conn.close();
  assert.equal(server[kWatch](BOTH, null), 0);
});

Deno.test("a connecting socket is ready for nothing until the connect ends, then wakes its watcher", async () => {
  using server = createServer(["127.0.0.1", 0]);
  using s = socket();
  s.setblocking(false);
  await s.connect(server.getsockname()).catch(() => {});
  const w = watcher();
  assert.equal(s[kWatch](BOTH, w), 0);
  await w.woken();
  assert.equal(s[kWatch](WRITE, null), WRITE);
  const [conn] = await server.accept();
  conn.close();
});

Deno.test("a failed connect leaves the socket ready both ways", async () => {
  using s = socket();
  s.setblocking(false);
  await s.connect(["127.0.0.1", freePort()]).catch(() => {});
  const w = watcher();
  if (s[kWatch](BOTH, w) === 0) await w.woken();
  assert.equal(s[kWatch](BOTH, null), BOTH);
});

Deno.test("a connected socket wakes its read watcher once per landed read, and reports CLOSED once closed", async () => {
  const [a, b] = await socketpair();
  await using _a = a;
  const w = watcher();
  assert.equal(b[kWatch](READ, w), 0);
  assert.equal(b[kWatch](READ, w), 0, "watching again starts no second read");
  await a.sendall("x");
  await w.woken();
  assert.equal(w.wakes, 1);
  assert.equal(b[kWatch](BOTH, null), BOTH);
  b.close();
  assert.equal(b[kWatch](BOTH, null), CLOSED);
});
