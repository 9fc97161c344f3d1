// Shared test helpers: connected pairs on every family, temp dirs, Python peers,
// and the comparison of pysock's outcomes with CPython's.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  createServer,
  hasDualstackIpv6,
  SOCK_STREAM,
  socket,
  type StreamSocket,
} from "../socket.ts";

export const encoder: TextEncoder = new TextEncoder();
export const decoder: TextDecoder = new TextDecoder();

/** Bytes of a string, for exact comparisons. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Text of bytes. */
export function text(data: Uint8Array): string {
  return decoder.decode(data);
}

/** Whether this host can listen on ::1. */
export const HAS_IPV6: boolean = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return hasDualstackIpv6() || true;
  } catch {
    return false;
  }
})();

/** A listening server, a connected client and the server's end, on `family`. */
export interface Pair extends AsyncDisposable {
  server: StreamSocket;
  client: StreamSocket;
  conn: StreamSocket;
  dir?: string;
}

/** The families to run stream tests on: IPv4, IPv6 where the host has it, and Unix. */
export const FAMILIES: { name: string; family: number }[] = [
  { name: "AF_INET", family: AF_INET },
  ...(HAS_IPV6 ? [{ name: "AF_INET6", family: AF_INET6 }] : []),
  { name: "AF_UNIX", family: AF_UNIX },
];

/** A loopback address for `family`: port 0, or a socket path in `dir`. */
export function loopback(family: number, dir?: string): [string, number] | string {
  if (family === AF_UNIX) return `${dir}/s.sock`;
  return family === AF_INET6 ? ["::1", 0] : ["127.0.0.1", 0];
}

/** Opens a server, connects a client and accepts it; disposing closes all three. */
export async function pair(family: number = AF_INET): Promise<Pair> {
  const dir = family === AF_UNIX ? await Deno.makeTempDir() : undefined;
  // createServer opens its listener once; bind() then listen(1) reopens it,
  // and in that instant another test's connect can take the port (EADDRINUSE).
  const server = createServer(loopback(family, dir), { family, backlog: 1 });
  const client = socket(family, SOCK_STREAM);
  const accepting = server.accept();
  await client.connect(server.getsockname());
  const [conn] = await accepting;
  return {
    server,
    client,
    conn,
    dir,
    async [Symbol.asyncDispose]() {
      client.close();
      conn.close();
      // Awaited: a Unix listener closed with an accept pending puts its file
      // back a turn later, which the directory's removal must not race.
      await server[Symbol.asyncDispose]();
      if (dir) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port that nothing listens on (just freed). */
export function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

/** A running Python peer. */
export interface PythonPeer extends AsyncDisposable {
  /** Resolves to stdout once the process exits with status 0; rejects otherwise. */
  output(): Promise<string>;
  /** The first line the program prints (e.g. the port it bound). */
  firstLine(): Promise<string>;
}

/**
 * Starts `python3 -c code args...`. The program's stdout is collected; its
 * first line can be read early (servers print their port there).
 */
export function python(code: string, ...args: string[]): PythonPeer {
  const child = new Deno.Command("python3", {
    args: ["-c", code, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const chunks: Uint8Array[] = [];
  let lineWaiters: ((line: string) => void)[] = [];
  let seen = "";
  const reading = (async () => {
    for await (const chunk of child.stdout) {
      chunks.push(chunk);
      seen += decoder.decode(chunk, { stream: true });
      if (seen.includes("\n")) {
        const line = seen.slice(0, seen.indexOf("\n"));
        for (const waiter of lineWaiters) waiter(line);
        lineWaiters = [];
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  const done = (async () => {
    const status = await child.status;
    await reading;
    const err = await stderr;
    const out = seen;
    if (!status.success) throw new Error(`python3 exited with ${status.code}: ${err}`);
    return out;
  })();
  done.catch(() => {});
  return {
    output: () => done,
    firstLine() {
      if (seen.includes("\n")) return Promise.resolve(seen.slice(0, seen.indexOf("\n")));
      return new Promise<string>((resolve, reject) => {
        lineWaiters.push(resolve);
        done.then(() => reject(new Error(`python3 printed no line: ${seen}`)), reject);
      });
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill();
      } catch { /* already exited */ }
      await done.catch(() => {});
    },
  };
}

/** A python3 program spoken to in JSON lines, for the twins that script a peer and report on it. */
export interface PythonChat extends AsyncDisposable {
  /** Writes `value` to the program's stdin as one JSON line. */
  send(value: unknown): Promise<void>;
  /** The next line the program prints, parsed as JSON; rejects with its stderr once it has ended. */
  receive(): Promise<unknown>;
  /** Ends its stdin and waits for it to exit: whether with status 0, and its stderr. */
  finish(): Promise<{ success: boolean; stderr: string }>;
}

/**
 * Starts `python3 -c code` with its stdin and stdout piped for JSON lines.
 * Disposing it before `finish()` kills it first: a failure on the Deno side
 * must not leave the program waiting for connections.
 */
export function pythonChat(code: string): PythonChat {
  const child = new Deno.Command("python3", {
    args: ["-c", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let finishing: Promise<{ success: boolean; stderr: string }> | null = null;
  const finish = () =>
    finishing ??= (async () => {
      await writer.close().catch(() => {});
      while (!(await reader.read()).done) { /* drain */ }
      const status = await child.status;
      return { success: status.success, stderr: await stderr };
    })();
  return {
    send: (value) => writer.write(encoder.encode(JSON.stringify(value) + "\n")),
    async receive() {
      while (!seen.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`python3 ended: ${await stderr}`);
        seen += value;
      }
      const line = seen.slice(0, seen.indexOf("\n"));
      seen = seen.slice(line.length + 1);
      return JSON.parse(line);
    },
    finish,
    async [Symbol.asyncDispose]() {
      if (finishing === null) {
        try {
          child.kill();
        } catch { /* already exited */ }
      }
      await finish();
    },
  };
}

/** A listener with backlog 0 whose one queue slot is taken, so the kernel drops new SYNs. */
export async function silentListener(): Promise<AsyncDisposable & { addr: [string, number] }> {
  const server = createServer(["127.0.0.1", 0], { backlog: 0 });
  const addr = server.getsockname() as [string, number];
  const fillers: StreamSocket[] = [];
  // Fill the queue: connects complete until it is full; then one times out.
  for (let i = 0; i < 8; i++) {
    const c = socket();
    fillers.push(c);
    c.settimeout(0.2);
    if (await c.connectEx(addr) !== 0) break;
  }
  return {
    addr,
    [Symbol.asyncDispose]() {
      for (const c of fillers) c.close();
      server.close();
      return Promise.resolve();
    },
  };
}

/** The package's mod.ts, for scripts run by {@linkcode runScript}. */
/**
 * Whether `command` runs and succeeds with `args` (a version flag): false when it is
 * not installed. Spawning a missing program throws before any promise exists, so
 * this catches rather than chaining a rejection handler.
 */
export async function installed(command: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

export const MOD: string = new URL("../mod.ts", import.meta.url).href;

/** What a script run by {@linkcode runScript} did. */
export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `source` as a file with `deno run <flags>` (permissions, unstable
 * flags), as a user would run a program; killed after 20 s.
 */
export async function runScript(source: string, flags: string[]): Promise<ScriptResult> {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/script.ts`;
    await Deno.writeTextFile(script, source);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, script],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const guard = setTimeout(() => child.kill(), 20_000);
    const { code, stdout, stderr } = await child.output();
    clearTimeout(guard);
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What a call gave, in a form Python's twin prints as JSON too. */
export type Outcome = { ok: unknown } | { err: string; msg: string };

/**
 * Asserts that pysock's outcomes match CPython's for the same inputs.
 * Python's ValueError and OverflowError are RangeError here; OSError and its
 * DNS subclasses keep Python's texts verbatim, while argument errors use
 * this package's wording, so only their class is compared.
 */
export function assertSameOutcomes(ours: Outcome[], theirs: Outcome[], inputs: unknown[]): void {
  assert.equal(ours.length, theirs.length);
  for (let i = 0; i < inputs.length; i++) {
    const [o, t] = [ours[i], theirs[i]];
    const where = `input ${JSON.stringify(inputs[i])}`;
    if ("ok" in t) {
      assert.deepEqual(o, t, where);
      continue;
    }
    assert.ok(
      "err" in o,
      `${where}: Python raised ${t.err}(${t.msg}), pysock gave ${JSON.stringify(o)}`,
    );
    const mapped = t.err === "ValueError" || t.err === "OverflowError" ? "RangeError" : t.err;
    assert.equal(o.err, mapped, `${where}: ${o.msg}`);
    if (["OSError", "gaierror", "herror"].includes(t.err)) assert.equal(o.msg, t.msg, where);
  }
}

const ROOT = new URL("..", import.meta.url);
/** A process still running after this is killed, so a hang fails instead of stalling. */
const PROCESS_TIMEOUT_MS = 20_000;

/** How a process started by {@linkcode Proc} ended. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A child process run from the repository root, its output collected as it comes;
 * stdin is piped when asked for. Disposing it kills the process if it still runs.
 */
export class Proc implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #stdout = "";
  #stderr = "";
  #changed: (() => void)[] = [];
  #exited = false;
  #done: Promise<Finished>;
  readonly name: string;

  constructor(name: string, command: string, args: string[], stdin = false) {
    this.name = name;
    const child = new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    if (stdin) this.#stdin = child.stdin.getWriter();
    const timer = setTimeout(() => this.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
    const out = this.#collect(child.stdout, (text) => this.#stdout += text);
    const err = this.#collect(child.stderr, (text) => this.#stderr += text);
    this.#done = (async () => {
      const status = await child.status;
      clearTimeout(timer);
      this.#exited = true;
      await Promise.all([out, err]);
      this.#notify();
      return { code: status.code, stdout: this.#stdout, stderr: this.#stderr };
    })();
  }

  async #collect(stream: ReadableStream<Uint8Array>, add: (text: string) => void) {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      add(chunk);
      this.#notify();
    }
  }

  #notify() {
    const waiters = this.#changed;
    this.#changed = [];
    for (const wake of waiters) wake();
  }

  /** What the process printed so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Resolves once stdout satisfies `ready`; rejects if the process ends first. */
  async waitFor(ready: (stdout: string) => boolean): Promise<void> {
    while (!ready(this.#stdout)) {
      if (this.#exited) {
        const { code, stdout, stderr } = await this.#done;
        throw new Error(
          `${this.name} exited (${code}) early.\nstdout: ${stdout}\nstderr: ${stderr}`,
        );
      }
      await new Promise<void>((wake) => this.#changed.push(wake));
    }
  }

  /** The port a server prints as its first line. */
  async port(): Promise<number> {
    await this.waitFor((out) => out.includes("\n"));
    const line = this.#stdout.slice(0, this.#stdout.indexOf("\n"));
    if (!/^\d+$/.test(line)) throw new Error(`${this.name} must print its port first: ${line}`);
    return Number(line);
  }

  /** Writes to the process's stdin. */
  async write(text: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(text));
  }

  /** Closes the process's stdin (end of input). */
  async closeStdin(): Promise<void> {
    const stdin = this.#stdin;
    this.#stdin = null;
    await stdin?.close().catch(() => {});
  }

  /** Sends `signal` unless the process has exited. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch { /* exited meanwhile */ }
  }

  /** Waits for the exit (closing stdin first) and returns the status and output. */
  async finish(): Promise<Finished> {
    await this.closeStdin();
    return await this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.finish();
  }
}

let tasks: Record<string, string> | null = null;

/** Runs examples/`file` exactly as its deno.json task does. */
export function example(file: string, args: string[], stdin = false): Proc {
  // Read on first use: some tests import this module in processes without --allow-read.
  tasks ??= JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))).tasks as Record<
    string,
    string
  >;
  const task = Object.values(tasks).find((line) => line.endsWith(`examples/${file}`));
  if (task === undefined) throw new Error(`deno.json has no task for examples/${file}`);
  const [deno, ...taskArgs] = task.split(" ");
  if (deno !== "deno") throw new Error(`the task for examples/${file} does not run deno`);
  return new Proc(`examples/${file}`, Deno.execPath(), [...taskArgs, ...args], stdin);
}

/** Runs the Python program tests/py/`file`, unbuffered so its output is seen at once. */
export function pythonProgram(file: string, args: string[], stdin = false): Proc {
  return new Proc(`tests/py/${file}`, "python3", ["-u", `tests/py/${file}`, ...args], stdin);
}

/**
 * What every CPython twin can use: a connected TCP pair on loopback
 * (socket.socketpair() is AF_UNIX there), a JSON printer and the error of a
 * call, `err(call)`. pythonJson puts it in front of its program.
 */
export const PY_PRELUDE = `
import json, socket, sys, threading, time
def tcppair():
    srv = socket.create_server(("127.0.0.1", 0))
    a = socket.create_connection(srv.getsockname())
    b, _ = srv.accept()
    srv.close()
    return a, b
def err(call):
    try:
        call()
        return None
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
`;

/**
 * Runs a CPython twin: `code` after a prelude (`tcppair()`, `err(fn)`,
 * `json`, `socket`), and parses the JSON its last line prints.
 */
export async function pythonJson(code: string, ...args: string[]): Promise<unknown> {
  const out = (await python(PY_PRELUDE + code, ...args).output()).trim().split("\n");
  return JSON.parse(out[out.length - 1]);
}

/** The error `call` throws, as the twins print it: `[className, errno]`, or null when it returns. */
/** Asserts that `call` fails, by a synchronous throw or a rejection, as `check` says. */
export async function fails(call: () => unknown, check: (e: unknown) => boolean): Promise<void> {
  await assert.rejects(async () => {
    await call();
  }, check);
}

export function errorOfCall(call: () => unknown): [string, unknown] | null {
  try {
    call();
    return null;
  } catch (e) {
    return [(e as Error).name, (e as { errno?: unknown }).errno ?? null];
  }
}

/** The error of `promise` as the twins print it: `[className, errno]`, or null when it resolves. */
export async function errorOf(promise: Promise<unknown>): Promise<[string, unknown] | null> {
  try {
    await promise;
    return null;
  } catch (e) {
    return [(e as Error).name, (e as { errno?: unknown }).errno ?? null];
  }
}

/**
 * CPython clients that connect to `port` and reset the connection at once
 * (SO_LINGER 0), `count` of them, before the server accepts them.
 */
export async function resetClients(port: number, count = 1): Promise<void> {
  await python(
    `
import socket, struct, sys
for _ in range(int(sys.argv[2])):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
`,
    String(port),
    String(count),
  ).output();
  // The RST leaves with the close itself; give loopback a moment to deliver it.
  await sleep(50);
}

/**
 * Resets a client before a server in another process can accept it: the
 * process is stopped (SIGSTOP) while the client connects and resets, so
 * its pending accept sees the connection only once it runs again.
 */
export async function resetWhileStopped(
  server: { kill(signal: Deno.Signal): void },
  port: number,
): Promise<void> {
  server.kill("SIGSTOP");
  try {
    await resetClients(port);
  } finally {
    server.kill("SIGCONT");
  }
}

/** What a promise settled to within a time, or "pending" (see {@linkcode within}). */
export type Within = { value: unknown } | { error: unknown } | "pending";

/** What `promise` settled to within `ms`, or "pending". Clears its timer either way. */
export async function within(promise: Promise<unknown>, ms: number): Promise<Within> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"pending">((resolve) =>
    timer = setTimeout(() => resolve("pending"), ms)
  );
  try {
    return await Promise.race([
      promise.then((value) => ({ value }), (error) => ({ error })),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts `promise` has not settled within 30 ms: the call really is waiting. */
export async function assertPending(promise: Promise<unknown>, what: string): Promise<void> {
  assert.equal(await within(promise, 30), "pending", `${what} should wait`);
}

/** A bound only a hang reaches (for {@linkcode settled} and {@linkcode rejection}). */
export const HANG_MS = 10_000;

/** The value `promise` resolves to within `ms`; fails on a hang or a rejection. */
export async function settled<T>(promise: Promise<T>, what: string, ms = HANG_MS): Promise<T> {
  const outcome = await within(promise, ms);
  assert.notEqual(outcome, "pending", `${what} still pending after ${ms} ms`);
  if (typeof outcome === "object" && "error" in outcome) {
    assert.fail(`${what} rejected: ${outcome.error}`);
  }
  return (outcome as { value: T }).value;
}

/** The error `promise` rejects with within `ms`; fails on a hang or a resolve. */
export async function rejection(
  promise: Promise<unknown>,
  what: string,
  ms = HANG_MS,
): Promise<unknown> {
  const outcome = await within(promise, ms);
  assert.notEqual(outcome, "pending", `${what} still pending after ${ms} ms`);
  assert.ok(
    typeof outcome === "object" && "error" in outcome,
    `${what} resolved instead of failing: ${JSON.stringify(outcome)}`,
  );
  return (outcome as { error: unknown }).error;
}

/** Python's threading.Event, for the handshakes between the two halves of a ported test. */
export class Event {
  #set = false;
  #wake!: () => void;
  #promise = new Promise<void>((resolve) => this.#wake = resolve);

  /** Sets the event: every wait, now and later, resolves to true. */
  set(): void {
    this.#set = true;
    this.#wake();
  }

  /** Resolves to whether the event was set within `timeout` seconds. */
  async wait(timeout: number): Promise<boolean> {
    if (this.#set) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeout * 1000);
    });
    try {
      return await Promise.race([this.#promise.then(() => true), expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A python3 twin's prelude: `q`, the JSON in argv[1], and `run(f)`, which
 * gives f's result as `{"ok": ...}` (a tuple as a list) or its exception as
 * `{"err": class name, "msg": str(e)}`.
 */
export const PY_RUN = `
import json, socket, sys
q = json.loads(sys.argv[1])
def run(f):
    try:
        r = f()
        return {"ok": list(r) if isinstance(r, tuple) else r}
    except Exception as e:
        return {"err": type(e).__name__, "msg": str(e)}
`;

/** `[className, errno]` of a call that throws, as the twins' outcome() prints it; its value otherwise. */
export function outcome(call: () => unknown): unknown {
  try {
    return call() ?? null;
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return [e.name, (e as { errno?: number | null }).errno ?? null];
  }
}

/** The python3 side of {@linkcode outcome}: a value, or `[className, errno]`. */
export const PY_OUTCOME = `
def outcome(call):
    try:
        return call()
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None)]
`;

/**
 * Runs `command` in a private mount namespace where /etc/hosts and
 * /etc/host.conf are the given texts (root only: see `unshare -m`);
 * resolves to its stdout. With `isolated`, in a network namespace of its
 * own too (only loopback, down), so that no query can leave.
 */
export async function withHostsFiles(
  hosts: string,
  hostConf: string,
  command: string[],
  isolated = false,
): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/hosts`, hosts);
    await Deno.writeTextFile(`${dir}/host.conf`, hostConf);
    const script =
      'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/host.conf && shift 2 && exec "$@"';
    const namespaces = isolated ? ["-m", "-n"] : ["-m"];
    const child = new Deno.Command("unshare", {
      args: [
        ...namespaces,
        "sh",
        "-c",
        script,
        "sh",
        `${dir}/hosts`,
        `${dir}/host.conf`,
        ...command,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const guard = setTimeout(() => child.kill(), 20_000);
    const { success, stdout, stderr } = await child.output();
    clearTimeout(guard);
    const out = new TextDecoder().decode(stdout);
    assert.ok(success, `${command[0]} failed: ${new TextDecoder().decode(stderr)}`);
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
