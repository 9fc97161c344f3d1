// serveWorkers: one server in several processes sharing its port through
// SO_REUSEPORT, the way a Python server outgrows one core (allow_reuse_port
// and a pre-fork script). The kernel spreads the connections; this file
// only starts the processes, restarts one that dies and stops them all.

import type { Address } from "./_address.ts";
import { describe } from "./_address.ts";
import { READY, type WorkerInfo } from "./_server_worker_entry.ts";
import type { BaseServer } from "./socketserver.ts";

export type { WorkerInfo } from "./_server_worker_entry.ts";

/** What a worker module's default export is: it makes the server a worker runs. */
// deno-lint-ignore no-explicit-any
export type WorkerFactory = (worker: WorkerInfo) => BaseServer<any> | Promise<BaseServer<any>>;

/** Seconds in which at most `maxRestarts` restarts are allowed. */
export const RESTART_WINDOW = 10;

// The most workers one pool starts.
const MAX_WORKERS = 1024;

/** Options for {@linkcode serveWorkers}. */
export interface ServeWorkersOptions {
  /** The port worker 0 is told to bind (`WorkerInfo.port`); default 0, a free one. */
  port?: number;
  /**
   * Deno flags for each worker, before its module: permissions and the
   * like. Default `["--allow-net"]`; `--unstable-net` is always added
   * (Deno's `reusePort` needs it).
   */
  flags?: string[];
  /** Arguments each worker sees as `Deno.args`; default none. */
  args?: string[];
  /** Restarts allowed within {@linkcode RESTART_WINDOW} seconds before the pool gives up; default `n`. */
  maxRestarts?: number;
  /** Seconds to wait for every worker's ready line; default 30. */
  startTimeout?: number;
  /** Seconds `close()` waits for a worker after SIGTERM before it sends SIGKILL; default 10. */
  killAfter?: number;
}

/** The running workers {@linkcode serveWorkers} returns. */
export interface WorkerPool extends AsyncDisposable {
  /** The address every worker serves. */
  readonly address: Address;
  /** The process ids of the workers started and not yet exited, in worker order. */
  readonly pids: number[];
  /** How many times a worker has been restarted. */
  readonly restarts: number;
  /**
   * Resolves once every worker has ended (after `close()`, or each exited
   * 0 by itself); rejects when a worker died more than `maxRestarts` times
   * in {@linkcode RESTART_WINDOW} seconds (the others are then stopped).
   */
  readonly closed: Promise<void>;
  /**
   * Stops every worker: SIGTERM, so each shuts down gracefully, then SIGKILL
   * for one still running after `killAfter` seconds.
   *
   * @returns A promise that resolves once every worker has exited.
   */
  close(): Promise<void>;
}

// The package's module a worker's generated main imports; resolved here so
// it works from a local checkout and from jsr alike.
const ENTRY = new URL("./_server_worker_entry.ts", import.meta.url).href;
const NOTHING = "(nothing on stderr)";

interface Plan {
  n: number;
  moduleUrl: string;
  flags: string[];
  args: string[];
  maxRestarts: number;
  startMs: number;
  killMs: number;
}

/**
 * Runs a server in `n` processes (Deno subprocesses) that share its port
 * with `SO_REUSEPORT`, so it uses `n` cores; the kernel balances the
 * connections among them. This is what a Python user does with
 * `allow_reuse_port = True` and a pre-fork script; Deno cannot fork.
 *
 * The module at `moduleUrl` default-exports a factory
 * `(worker: {id, count, port}) => server`, called in each worker; the
 * server must be made with `allowReusePort = true` and bind `worker.port`.
 * Each worker serves it with `serveForever()` and, on SIGTERM, SIGINT or
 * the parent's end, calls `shutdown()` (graceful) and `serverClose()`.
 * A worker that dies (non-zero exit or signal) is restarted; a worker's
 * stdout and stderr are copied to the parent's, and its stdin is the
 * pipe whose end tells it the parent is gone. A worker module that also
 * starts the pool (one file for both) must guard that with
 * `if (import.meta.main)`: inside a worker `serveWorkers` throws rather
 * than start workers of its own.
 *
 * A worker module:
 * ```ts ignore
 * import { StreamRequestHandler, ThreadingTCPServer, type WorkerInfo } from "@pysock/socket/socketserver";
 *
 * class Echo extends StreamRequestHandler {
 *   override async handle() {
 *     for await (const line of this.rfile) await this.wfile.write(line);
 *   }
 * }
 * class Server extends ThreadingTCPServer {
 *   static override allowReusePort = true;
 * }
 * export default (worker: WorkerInfo) => new Server(["127.0.0.1", worker.port], Echo);
 * ```
 *
 * @param n How many workers: an integer, 1–1024.
 * @param moduleUrl The worker module's absolute URL (`new URL("./worker.ts", import.meta.url)`).
 * @param options The port, the workers' Deno flags and arguments, the restart budget.
 * @returns The running pool, once every worker has printed that it serves.
 * @throws {TypeError} when `n` is not a number, `moduleUrl` not an absolute URL, or an option
 *   of the wrong type.
 * @throws {RangeError} when `n` is not an integer 1–1024, `maxRestarts` not one of 0 or more,
 *   or `startTimeout`/`killAfter` not 0–86400 seconds.
 * @throws {Error} when called inside a worker; when a worker exits before it serves (naming its exit
 *   and the last line of its stderr), or is not ready in `startTimeout`; the
 *   other workers are stopped first.
 *
 * @example Two processes serve one port (the package's echo worker)
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConnection } from "./socket.ts";
 * import { serveWorkers } from "./socketserver.ts";
 *
 * await using pool = await serveWorkers(2, new URL("./_server_echo.ts", import.meta.url));
 * assert.equal(pool.pids.length, 2);
 * await using client = await createConnection(pool.address as [string, number]);
 * await client.sendall("ping");
 * assert.equal(new TextDecoder().decode(await client.recv(4)), "ping");
 * ```
 */
export async function serveWorkers(
  n: number,
  moduleUrl: string | URL,
  options: ServeWorkersOptions = {},
): Promise<WorkerPool> {
  const plan = checkPlan(n, moduleUrl, options);
  if (inWorker()) {
    throw new Error(
      "Cannot serve workers from inside a worker: guard the call with if (import.meta.main)",
    );
  }
  const pool = new Pool(plan);
  await pool.start(options.port ?? 0);
  return pool;
}

function checkPlan(n: unknown, moduleUrl: unknown, options: ServeWorkersOptions): Plan {
  if (typeof n !== "number") {
    throw new TypeError(`Cannot serve workers: n must be a number, got ${describe(n)}`);
  }
  // A bound, so that a typo (1e4 for 1e1) is an error, not a fork bomb:
  // more workers than this would not share one port usefully anyway.
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new RangeError(`Cannot serve workers: n must be an integer 1–${MAX_WORKERS}, got ${n}`);
  }
  let url: string;
  try {
    url = new URL(moduleUrl instanceof URL ? moduleUrl.href : moduleUrl as string).href;
  } catch {
    throw new TypeError(
      `Cannot serve workers: moduleUrl must be an absolute URL such as new URL("./worker.ts", import.meta.url), got ${
        describe(moduleUrl)
      }`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot serve workers: options must be an object, got ${describe(options)}`,
    );
  }
  return {
    n,
    moduleUrl: url,
    flags: strings(options.flags, "flags") ?? ["--allow-net"],
    args: strings(options.args, "args") ?? [],
    maxRestarts: count(options.maxRestarts, "maxRestarts") ?? n,
    startMs: seconds(options.startTimeout, "startTimeout", 30) * 1000,
    killMs: seconds(options.killAfter, "killAfter", 10) * 1000,
  };
}

// The options are checked before any process starts, as n is.

function strings(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new TypeError(
      `Cannot serve workers: ${name} must be an array of strings, got ${describe(value)}`,
    );
  }
  return value;
}

function count(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") {
    throw new TypeError(`Cannot serve workers: ${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot serve workers: ${name} must be an integer of 0 or more, got ${value}`,
    );
  }
  return value;
}

// At most a day: a timer holds 24.8 days at most, and a worker that takes
// longer than a day to start is not starting.
function seconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot serve workers: ${name} must be a number of seconds, got ${describe(value)}`,
    );
  }
  if (!(value >= 0 && value <= 86400)) {
    throw new RangeError(`Cannot serve workers: ${name} must be 0–86400 seconds, got ${value}`);
  }
  return value;
}

/** One worker process and what became of it. */
class Worker {
  readonly id: number;
  readonly process: Deno.ChildProcess;
  /** Resolves to the address once the worker serves; rejects if it exits first. */
  readonly ready: Promise<Address>;
  /** Resolves to the exit status once the process and its output have ended. */
  readonly exited: Promise<Deno.CommandStatus>;
  isReady = false;
  #stderr = "";

  constructor(info: WorkerInfo, plan: Plan) {
    this.id = info.id;
    // The main module is generated so that it imports the user's module
    // statically: a dynamic import would need --allow-read for every file
    // of it. Both URLs are JSON-quoted string literals, nothing else varies.
    const main = [
      `import * as module from ${JSON.stringify(plan.moduleUrl)};`,
      `import { runWorker } from ${JSON.stringify(ENTRY)};`,
      `await runWorker(module, ${JSON.stringify(info)});`,
    ].join("\n");
    this.process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-net",
        ...plan.flags,
        `data:application/typescript;base64,${btoa(main)}`,
        ...plan.args,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const { promise, resolve, reject } = Promise.withResolvers<Address>();
    this.ready = promise;
    this.ready.catch(noop);
    const output = Promise.all([
      this.#readStdout((address) => {
        this.isReady = true;
        resolve(address);
      }),
      this.#copyStderr(),
    ]);
    const child = this.process;
    this.exited = (async () => {
      const status = await child.status;
      await output;
      await child.stdin.close().catch(noop);
      reject(
        new Error(
          `worker ${info.id} ${describeStatus(status)} before it was ready: ${this.lastError()}`,
        ),
      );
      return status;
    })();
  }

  // Copies the worker's stdout line by line, all but the ready line.
  async #readStdout(onReady: (address: Address) => void): Promise<void> {
    let pending = "";
    for await (const chunk of this.process.stdout.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n")) {
        const line = pending.slice(0, end + 1);
        pending = pending.slice(end + 1);
        const ready = !this.isReady && line.startsWith(`${READY} `);
        if (ready) onReady(JSON.parse(line.split(" ").slice(3).join(" ")));
        else await writeAll(Deno.stdout, line);
      }
    }
    if (pending) await writeAll(Deno.stdout, pending);
  }

  async #copyStderr(): Promise<void> {
    for await (const chunk of this.process.stderr.pipeThrough(new TextDecoderStream())) {
      await writeAll(Deno.stderr, chunk);
      this.#stderr = (this.#stderr + chunk).slice(-8192);
    }
  }

  /** The line of stderr that says why it failed: the last `error:` or `pysock worker` line. */
  lastError(): string {
    // deno-lint-ignore no-control-regex
    const lines = this.#stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").filter((l) => l.trim());
    const said = lines.findLast((l) => /^(error: |pysock worker \d+: )/.test(l));
    return said ?? lines.at(-1) ?? NOTHING;
  }

  kill(signal: Deno.Signal): void {
    try {
      this.process.kill(signal);
    } catch { /* exited meanwhile */ }
  }
}

class Pool implements WorkerPool {
  #plan: Plan;
  #workers: (Worker | null)[] = [];
  #address: Address = "";
  #port = 0;
  #started = false;
  #restarts = 0;
  #deaths: number[] = [];
  #stopping: Promise<void> | null = null;
  #closed = Promise.withResolvers<void>();

  constructor(plan: Plan) {
    this.#plan = plan;
    this.#closed.promise.catch(noop);
  }

  get address(): Address {
    return this.#address;
  }

  get pids(): number[] {
    return this.#workers.flatMap((w) => w === null ? [] : [w.process.pid]);
  }

  get restarts(): number {
    return this.#restarts;
  }

  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  // Worker 0 first, to learn the port (0 picks one); then the others on it.
  async start(port: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const late = this.#workers.findIndex((w) => w !== null && !w.isReady);
        reject(new Error(`worker ${late} was not ready after ${this.#plan.startMs / 1000} s`));
      }, this.#plan.startMs);
    });
    try {
      this.#address = await Promise.race([this.#spawn(0, port).ready, expired]);
      this.#port = typeof this.#address === "string" ? port : this.#address[1];
      const rest = Array.from({ length: this.#plan.n - 1 }, (_, i) => this.#spawn(i + 1).ready);
      const addresses = await Promise.race([Promise.all(rest), expired]);
      addresses.forEach((address, i) => this.#checkAddress(i + 1, address));
      this.#started = true;
    } catch (err) {
      await this.#stop();
      throw new Error(`Cannot serve workers: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  #spawn(id: number, port = this.#port): Worker {
    const worker = new Worker({ id, count: this.#plan.n, port }, this.#plan);
    this.#workers[id] = worker;
    worker.exited.then((status) => this.#onExit(worker, status));
    return worker;
  }

  #checkAddress(id: number, address: Address): void {
    if (JSON.stringify(address) === JSON.stringify(this.#address)) return;
    throw new Error(
      `worker ${id} serves ${JSON.stringify(address)}, worker 0 ${
        JSON.stringify(this.#address)
      }: the server must bind worker.port`,
    );
  }

  #onExit(worker: Worker, status: Deno.CommandStatus): void {
    if (this.#stopping !== null || this.#workers[worker.id] !== worker) return;
    // Before start() is done, a worker that never served is start()'s failure.
    if (!this.#started && !worker.isReady) return;
    if (status.success) {
      this.#workers[worker.id] = null;
      if (this.#workers.every((w) => w === null)) this.#closed.resolve();
      return;
    }
    const now = performance.now();
    this.#deaths = this.#deaths.filter((t) => now - t < RESTART_WINDOW * 1000);
    if (this.#deaths.length >= this.#plan.maxRestarts) {
      const why = worker.lastError();
      const error = new Error(
        `Cannot keep workers running: worker ${worker.id} ${
          describeStatus(status)
        } after ${this.#deaths.length} restarts in ${RESTART_WINDOW} s${
          why === NOTHING ? "" : ` (${why})`
        }`,
      );
      console.error(`pysock: ${error.message}; stopping the other workers`);
      this.#stop().then(() => this.#closed.reject(error));
      return;
    }
    this.#deaths.push(now);
    this.#restarts++;
    const next = this.#spawn(worker.id);
    console.error(
      `pysock: worker ${worker.id} (pid ${worker.process.pid}) ${
        describeStatus(status)
      }; restarted as pid ${next.process.pid}`,
    );
    next.ready.then((address) => this.#checkAddress(worker.id, address)).catch((err) => {
      // A restart that exits before it serves is handled as a death above.
      if (next.isReady) {
        console.error(`pysock: ${(err as Error).message}; stopping the workers`);
        this.#stop().then(() => this.#closed.reject(err));
      }
    });
  }

  // SIGTERM every worker; SIGKILL one that outlives killAfter.
  #stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const running = this.#workers.filter((w): w is Worker => w !== null);
      for (const worker of running) worker.kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const all = Promise.all(running.map((w) => w.exited));
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#plan.killMs);
      });
      if (await Promise.race([all.then(() => false), late])) {
        for (const worker of running) worker.kill("SIGKILL");
      }
      clearTimeout(timer);
      await all;
      this.#workers.fill(null);
    })();
    return this.#stopping;
  }

  async close(): Promise<void> {
    await this.#stop();
    this.#closed.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

// Whether this process is a worker serveWorkers started: its main module
// is the generated one, which imports ENTRY.
function inWorker(): boolean {
  const prefix = "data:application/typescript;base64,";
  if (!Deno.mainModule.startsWith(prefix)) return false;
  try {
    return atob(Deno.mainModule.slice(prefix.length)).includes(JSON.stringify(ENTRY));
  } catch {
    return false;
  }
}

function describeStatus(status: Deno.CommandStatus): string {
  return status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
}

async function writeAll(out: typeof Deno.stdout, text: string): Promise<void> {
  const data = new TextEncoder().encode(text);
  try {
    for (let done = 0; done < data.length;) done += await out.write(data.subarray(done));
  } catch {
    // The parent's own output is gone (EPIPE): the worker's goes with it,
    // and the worker is not to be taken for dead because of that.
  }
}

function noop(): void {}
