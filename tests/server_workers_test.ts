// serveWorkers: one server in several processes sharing its port through
// SO_REUSEPORT. The pools run tests/_worker_echo.ts, whose workers answer
// each connection with their pid, so a test can see which process served.

import assert from "node:assert/strict";
import { errno, OSError } from "../errors.ts";
import { createConnection, SHUT_WR, socket } from "../socket.ts";
import {
  BaseRequestHandler,
  serveWorkers,
  type ServeWorkersOptions,
  TCPServer,
  type WorkerPool,
} from "../socketserver.ts";
import { concat } from "../_bytes.ts";
import { bytes, sleep, text } from "./_helpers.ts";

const WORKER = new URL("./_worker_echo.ts", import.meta.url);
/** Connections tried before a test gives up waiting to reach a given worker. */
const TRIES = 64;

function pool(n: number, options: ServeWorkersOptions = {}): Promise<WorkerPool> {
  return serveWorkers(n, WORKER, { flags: ["--allow-net=127.0.0.1"], ...options });
}

/** Sends `message` on a new connection; the pid that served it and the bytes echoed. */
async function talk(
  address: [string, number],
  message: Uint8Array,
): Promise<{ pid: number; echoed: Uint8Array }> {
  await using client = await createConnection(address, { timeout: 10 });
  await client.sendall(message);
  client.shutdown(SHUT_WR);
  const parts: Uint8Array[] = [];
  for (let data = await client.recv(65536); data.length > 0; data = await client.recv(65536)) {
    parts.push(data);
  }
  const reply = concat(parts);
  const newline = reply.indexOf(10);
  assert.ok(newline > 0, `no pid line in ${JSON.stringify(text(reply))}`);
  return { pid: Number(text(reply.subarray(0, newline))), echoed: reply.subarray(newline + 1) };
}

/** Talks on new connections until `pid` serves one; the tries it took. */
async function reach(address: [string, number], pid: number): Promise<number> {
  for (let i = 1; i <= TRIES; i++) {
    const message = bytes(`try ${i} `.repeat(100));
    // With one worker, the port is unserved until a restarted one has bound.
    if (await refused(address)) {
      await sleep(50);
      continue;
    }
    const reply = await talk(address, message);
    assert.deepEqual(reply.echoed, message);
    if (reply.pid === pid) return i;
    // A restarted worker may still be starting (the test suite runs in
    // parallel): give it time rather than more connections.
    await sleep(20);
  }
  throw new Error(`pid ${pid} served none of ${TRIES} connections`);
}

/** Waits, at most `ms`, for `ready()` to be true. */
async function until(
  ready: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  for (const end = performance.now() + ms; !(await ready()); await sleep(20)) {
    if (performance.now() > end) throw new Error(`${what}: not after ${ms} ms`);
  }
}

/** Whether a connection to `address` is refused: nothing listens there. */
async function refused(address: [string, number]): Promise<boolean> {
  await using probe = socket();
  return await probe.connectEx(address) === errno.ECONNREFUSED;
}

function assertPlainError(err: unknown, pattern: RegExp): boolean {
  assert.equal((err as Error).constructor, Error);
  assert.match((err as Error).message, pattern);
  return true;
}

class Hello extends BaseRequestHandler {
  override async handle() {
    await this.request.sendall("hello");
  }
}

Deno.test("two TCPServers made with allowReusePort listen on one port in one process", async () => {
  class Shared extends TCPServer {
    static override allowReusePort = true;
  }
  await using first = new Shared(["127.0.0.1", 0], Hello);
  const port = (first.serverAddress as [string, number])[1];
  await using second = new Shared(["127.0.0.1", port], Hello);
  assert.deepEqual(second.serverAddress, ["127.0.0.1", port]);
  assert.equal(second.socket.getsockopt(1, 15), 1); // SOL_SOCKET, SO_REUSEPORT
});

Deno.test("without allowReusePort a second TCPServer on the port is refused with EADDRINUSE", async () => {
  class Shared extends TCPServer {
    static override allowReusePort = true;
  }
  await using first = new Shared(["127.0.0.1", 0], Hello);
  const port = (first.serverAddress as [string, number])[1];
  assert.throws(
    () => new TCPServer(["127.0.0.1", port], Hello),
    (err) => err instanceof OSError && err.errno === errno.EADDRINUSE,
  );
});

Deno.test("two workers serve one port: each client gets its bytes back and both workers serve", async () => {
  await using workers = await pool(2);
  const address = workers.address as [string, number];
  assert.equal(workers.pids.length, 2);
  assert.equal(new Set(workers.pids).size, 2);
  assert.ok(!workers.pids.includes(Deno.pid));
  const served = new Set<number>();
  for (let i = 0; i < TRIES && served.size < 2; i++) {
    const message = bytes(`client ${i} `.repeat(500));
    const reply = await talk(address, message);
    assert.deepEqual(reply.echoed, message);
    served.add(reply.pid);
  }
  assert.deepEqual([...served].sort(), [...workers.pids].sort());
  assert.equal(workers.restarts, 0);
});

Deno.test("a worker killed with SIGKILL is restarted with a new pid and the port stays served", async () => {
  await using workers = await pool(2);
  const address = workers.address as [string, number];
  const [victim, survivor] = workers.pids;
  Deno.kill(victim, "SIGKILL");
  await until(() => workers.restarts === 1 && workers.pids[0] !== victim, "restart");
  const [replacement] = workers.pids;
  assert.deepEqual(workers.pids, [replacement, survivor]);
  // The survivor serves meanwhile; the replacement once it has bound.
  assert.equal(await refused(address), false);
  await reach(address, survivor);
  await reach(address, replacement);
});

Deno.test("a worker that dies more than maxRestarts times makes the pool give up: closed rejects", async () => {
  await using workers = await pool(1, { maxRestarts: 1 });
  const first = workers.pids[0];
  Deno.kill(first, "SIGKILL");
  await until(() => workers.pids.length === 1 && workers.pids[0] !== first, "restart");
  await reach(workers.address as [string, number], workers.pids[0]);
  Deno.kill(workers.pids[0], "SIGKILL");
  await assert.rejects(
    workers.closed,
    (err) =>
      assertPlainError(
        err,
        /^Cannot keep workers running: worker 0 was killed by SIGKILL after 1 restarts in 10 s/,
      ),
  );
  assert.deepEqual(workers.pids, []);
  assert.equal(workers.restarts, 1);
});

Deno.test("a server made without allowReusePort makes serveWorkers reject saying so", async () => {
  await assert.rejects(
    pool(2, { args: ["no-reuse"] }),
    (err) =>
      assertPlainError(
        err,
        /^Cannot serve workers: worker 0 exited with code 1 before it was ready: pysock worker 0: the server must be made with allowReusePort = true, so the workers can share its port$/,
      ),
  );
});

Deno.test("a factory that throws, or a module that throws while loading, rejects serveWorkers", async () => {
  await assert.rejects(
    pool(2, { args: ["throw"] }),
    (err) =>
      assertPlainError(
        err,
        /^Cannot serve workers: worker 0 exited with code 1 before it was ready: pysock worker 0: cannot start: Error: boom at start$/,
      ),
  );
  await assert.rejects(
    pool(1, { args: ["throw-on-load"] }),
    (err) =>
      assertPlainError(
        err,
        /^Cannot serve workers: worker 0 exited with code 1 before it was ready: error: Uncaught .*boom while loading/,
      ),
  );
});

Deno.test("a worker module that starts workers itself fails its worker instead of multiplying", async () => {
  await assert.rejects(
    pool(1, { args: ["recurse"], flags: ["--allow-net=127.0.0.1", "--allow-run"] }),
    (err) =>
      assertPlainError(
        err,
        /^Cannot serve workers: worker 0 exited with code 1 before it was ready: error: Uncaught .*Cannot serve workers from inside a worker: guard the call with if \(import\.meta\.main\)/,
      ),
  );
});

Deno.test("workers that each bind a port of their own make serveWorkers reject, stopping them", async () => {
  await assert.rejects(
    pool(2, { args: ["own-port"] }),
    (err) =>
      assertPlainError(
        err,
        /^Cannot serve workers: worker 1 serves \["127\.0\.0\.1",\d+\], worker 0 \["127\.0\.0\.1",\d+\]: the server must bind worker\.port$/,
      ),
  );
});

Deno.test("close() lets a request in flight finish, then every worker has exited and the port is closed", async () => {
  const workers = await pool(2);
  const address = workers.address as [string, number];
  await using client = await createConnection(address, { timeout: 10 });
  await client.sendall("before ");
  const first = await client.recv(64);
  assert.ok(workers.pids.includes(Number(text(first).split("\n")[0])));
  let closed = false;
  const closing = workers.close().then(() => closed = true);
  // SIGTERM has long arrived by then: a worker that died of it, or cut its
  // connections, would reset this one.
  await sleep(300);
  assert.equal(closed, false);
  await client.sendall("after close");
  client.shutdown(SHUT_WR);
  const parts = [first];
  for (let data = await client.recv(64); data.length > 0; data = await client.recv(64)) {
    parts.push(data);
  }
  assert.equal(text(concat(parts)).split("\n")[1], "before after close");
  await closing;
  await workers.closed;
  assert.deepEqual(workers.pids, []);
  assert.ok(await refused(address));
});

Deno.test("serveWorkers rejects a bad n or moduleUrl with TypeError or RangeError before starting any", async () => {
  for (const n of [0, -1, 1.5, NaN, Infinity]) {
    await assert.rejects(serveWorkers(n, WORKER), RangeError, `n = ${n}`);
  }
  await assert.rejects(serveWorkers("2" as unknown as number, WORKER), TypeError);
  await assert.rejects(
    serveWorkers(1, "worker.ts"),
    new TypeError(
      'Cannot serve workers: moduleUrl must be an absolute URL such as new URL("./worker.ts", import.meta.url), got "worker.ts"',
    ),
  );
  await assert.rejects(serveWorkers(1, 42 as unknown as string), TypeError);
});

Deno.test("serveWorkers rejects bad options, and n past 1,024, before starting any worker", async () => {
  // 2 ** 31 and 1e300 started spawning processes.
  for (const n of [1025, 2 ** 31, 1e300]) {
    await assert.rejects(serveWorkers(n, WORKER), {
      name: "RangeError",
      message: `Cannot serve workers: n must be an integer 1–1024, got ${n}`,
    });
  }
  // A startTimeout past a timer's 24.8 days fired at once ("not ready after 3000000 s").
  for (const startTimeout of [3e6, -1, NaN, Infinity]) {
    await assert.rejects(serveWorkers(1, WORKER, { startTimeout }), {
      name: "RangeError",
      message: `Cannot serve workers: startTimeout must be 0–86400 seconds, got ${startTimeout}`,
    });
  }
  const wrongTypes: [string, unknown][] = [
    ["startTimeout", "x"],
    ["killAfter", "10"],
    ["maxRestarts", "1"],
    ["flags", "--allow-net"],
    ["args", [1]],
  ];
  for (const [name, value] of wrongTypes) {
    await assert.rejects(serveWorkers(1, WORKER, { [name]: value }), TypeError, name);
  }
  await assert.rejects(serveWorkers(1, WORKER, { maxRestarts: -1 }), RangeError);
  await assert.rejects(serveWorkers(1, WORKER, { maxRestarts: 0.5 }), RangeError);
  await assert.rejects(serveWorkers(1, WORKER, null as never), TypeError);
});
