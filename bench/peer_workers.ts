// The processes bench/socketserver_workers.ts runs: a server host (pysock's
// serveWorkers, or the same number of raw Deno processes sharing the port
// with reusePort) and a load process. Lines on stdout: `READY <port>` and
// `RESULT <json>`, as bench/_proc.ts's Peer reads them.
//
//   peer_workers.ts serve pysock|raw K
//   peer_workers.ts raw-worker PORT
//   peer_workers.ts load '{"port":P,"conns":C,"seconds":S,"size":B}'

import { serveWorkers } from "../socketserver.ts";

const [mode, ...args] = Deno.args;
const SELF = new URL(import.meta.url).pathname;

/** Resolves on SIGTERM/SIGINT, or when stdin ends (the harness is gone). */
function stopped(): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", resolve);
  Deno.addSignalListener("SIGINT", resolve);
  return promise;
}

async function servePysock(k: number): Promise<void> {
  const pool = await serveWorkers(k, new URL("../_server_echo.ts", import.meta.url), {
    flags: ["--allow-net=127.0.0.1"],
  });
  console.log(`READY ${(pool.address as [string, number])[1]}`);
  await stopped();
  await pool.close();
  Deno.exit(0);
}

// The raw column: K processes, each Deno.listen({reusePort}) and a task per connection.
async function serveRaw(k: number): Promise<void> {
  const children: Deno.ChildProcess[] = [];
  let port = 0;
  for (let i = 0; i < k; i++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", "--unstable-net", SELF, "raw-worker", String(port)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    children.push(child);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`raw worker ${i} exited before it was ready`);
      seen += value;
    }
    port = Number(seen.split(" ")[1]);
    reader.releaseLock();
  }
  console.log(`READY ${port}`);
  await stopped();
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((child) => child.status));
  Deno.exit(0);
}

async function rawWorker(port: number): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port, reusePort: true });
  console.log(`READY ${(listener.addr as Deno.NetAddr).port}`);
  // The harness holds stdin: its end (or SIGTERM, the default action) ends us.
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
    Deno.exit(0);
  })();
  for await (const conn of listener) {
    (async () => {
      const buf = new Uint8Array(64 * 1024);
      try {
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
          for (let done = 0; done < n;) done += await conn.write(buf.subarray(done, n));
        }
      } catch { /* the client reset */ }
      try {
        conn.close();
      } catch { /* closed */ }
    })();
  }
}

// Each connection sends `size` bytes and reads their echo back, over and over;
// the round trips in `seconds` after a 0.5 s warm-up are counted.
async function load(spec: { port: number; conns: number; seconds: number; size: number }) {
  const conns = await Promise.all(
    Array.from(
      { length: spec.conns },
      () => Deno.connect({ hostname: "127.0.0.1", port: spec.port }),
    ),
  );
  let counting = false;
  let stop = false;
  let count = 0;
  let wrong = 0;
  const loops = conns.map(async (conn, i) => {
    conn.setNoDelay(true);
    const payload = new Uint8Array(spec.size).fill(i & 0xff);
    const buf = new Uint8Array(spec.size);
    try {
      while (!stop) {
        for (let done = 0; done < payload.length;) done += await conn.write(payload.subarray(done));
        for (let got = 0; got < buf.length;) {
          const n = await conn.read(buf.subarray(got));
          if (n === null) throw new Error("the server closed the connection");
          got += n;
        }
        if (buf[0] !== payload[0] || buf[buf.length - 1] !== payload[0]) wrong++;
        if (counting) count++;
      }
    } catch (err) {
      if (!stop) throw err;
    }
  });
  const failed = Promise.race(loops.map((l) => l.then(() => new Promise<never>(() => {}))));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await Promise.race([sleep(500), failed]);
  counting = true;
  const start = performance.now();
  await Promise.race([sleep(spec.seconds * 1000), failed]);
  counting = false;
  const elapsed = (performance.now() - start) / 1000;
  stop = true;
  for (const conn of conns) conn.close();
  await Promise.allSettled(loops);
  if (wrong > 0) throw new Error(`${wrong} echoes were not the bytes sent`);
  console.log(`RESULT ${JSON.stringify({ value: count / elapsed })}`);
}

if (mode === "serve") {
  const k = Number(args[1]);
  await (args[0] === "raw" ? serveRaw(k) : servePysock(k));
} else if (mode === "raw-worker") {
  await rawWorker(Number(args[0]));
} else if (mode === "load") {
  await load(JSON.parse(args[0]));
} else {
  throw new Error(`unknown mode ${mode}`);
}
