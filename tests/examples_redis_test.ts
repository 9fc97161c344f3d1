// examples/redis_ping.ts against a real redis-server, started here on a free loopback
// port with persistence off. Skipped, with the reason printed, only where redis-server is
// not installed (`.ci/run` installs it with apt).

import assert from "node:assert/strict";
import { freePort, installed, sleep } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url);
const TIMEOUT_MS = 20_000;

const HAS_REDIS = await installed("redis-server", ["--version"]);
if (!HAS_REDIS) {
  console.log(
    "examples_redis_test.ts: skipped, redis-server is not installed " +
      "(apt-get install -y redis-server)",
  );
}

/** Runs redis_ping.ts allowed to reach only 127.0.0.1:`port`; killed past the timeout. */
async function redisPing(port: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--allow-net=127.0.0.1:${port}`, "examples/redis_ping.ts", "--port", `${port}`],
      cwd: ROOT,
      stdin: "null",
      signal: abort.signal,
    }).output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Starts redis-server on a free loopback port and waits until it accepts connections. */
async function startRedis(): Promise<{ port: number } & AsyncDisposable> {
  const port = freePort();
  const server = new Deno.Command("redis-server", {
    args: ["--port", `${port}`, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      server.kill("SIGTERM");
    } catch { /* already exited */ }
    await server.status;
  };
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { port, [Symbol.asyncDispose]: stop };
    } catch {
      await sleep(25);
    }
  }
  await stop();
  throw new Error(`redis-server did not listen on 127.0.0.1:${port} within 5 s`);
}

Deno.test({
  name: "redis_ping prints the replies of a real redis-server to PING, SET, GET and INCR",
  ignore: !HAS_REDIS,
  async fn() {
    await using redis = await startRedis();
    const { code, stdout, stderr } = await redisPing(redis.port);
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(
      stdout,
      [
        "> PING",
        "PONG",
        '> SET pysock:greeting "hello from pysock"',
        "OK",
        "> GET pysock:greeting",
        '"hello from pysock"',
        "> SET pysock:counter 41",
        "OK",
        "> INCR pysock:counter",
        "(integer) 42",
        "> INCR pysock:greeting",
        "(error) ERR value is not an integer or out of range",
        "> GET pysock:missing",
        "(nil)",
        "> DEL pysock:greeting pysock:counter",
        "(integer) 2",
        "",
      ].join("\n"),
    );
  },
});

Deno.test("redis_ping says in one line that nothing listens and exits 1", async () => {
  const port = freePort();
  const { code, stdout, stderr } = await redisPing(port);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `redis_ping.ts: cannot connect to 127.0.0.1:${port}: [Errno 111] Connection refused ` +
      `(is redis-server running? start one with: redis-server --port ${port})\n`,
  );
});

Deno.test("the redis-ping task allows only the default Redis address", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.equal(tasks["redis-ping"], "deno run --allow-net=127.0.0.1:6379 examples/redis_ping.ts");
});
