/**
 * Runs one benchmark peer as its own process: `ulimit -n` raised, pinned to a CPU with
 * `taskset` when asked, stdout read line by line for `READY`/`RESULT`, stderr kept for the error
 * message, and a hard deadline after which the process is killed.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname;

// Raise the descriptor limit to 65536, or to the hard limit where the container caps it lower:
// the concurrency row needs 10,001 descriptors per process.
const LAUNCH = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';

/** How a peer process ended. */
export interface Exit {
  /** Exit code, or `null` when killed by a signal. */
  code: number | null;
  /** The JSON after `RESULT `, when the peer printed one. */
  result: Record<string, number> | null;
  /** The last lines of stderr, for the error cell. */
  stderr: string;
  /** True when the harness killed it at the deadline. */
  timedOut: boolean;
}

/** A running peer. */
export class Peer {
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  #wake: (() => void) | null = null;
  #stderr = "";
  #timedOut = false;
  readonly #done: Promise<Exit>;
  readonly #deadline: ReturnType<typeof setTimeout>;

  /**
   * Starts `argv` from the repository root.
   *
   * @param argv Program and arguments.
   * @param cpu CPU to pin to with `taskset -c`, or `null` for none.
   * @param timeoutMs Hard deadline: the process is killed (SIGKILL) after it.
   */
  constructor(argv: string[], cpu: number | null, timeoutMs: number) {
    const pinned = cpu === null ? argv : ["taskset", "-c", String(cpu), ...argv];
    this.#child = new Deno.Command("bash", {
      args: ["-c", LAUNCH, "bench", ...pinned],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#deadline = setTimeout(() => {
      this.#timedOut = true;
      this.kill("SIGKILL");
    }, timeoutMs);
    this.#done = this.#collect();
  }

  /** The OS process id (bash `exec`s the peer, so this is the peer itself). */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Waits for the server's `READY <port>` line.
   *
   * @returns The port.
   * @throws {Error} When the process ends first (with its stderr).
   */
  async ready(): Promise<number> {
    for (;;) {
      const line = this.#lines.shift();
      if (line?.startsWith("READY ")) return Number(line.slice(6));
      if (line !== undefined) continue;
      const exited = await Promise.race([
        new Promise<false>((resolve) => this.#wake = () => resolve(false)),
        this.#done.then(() => true),
      ]);
      if (exited && this.#lines.length === 0) throw new Error(await this.#failure());
    }
  }

  /**
   * Waits for the process to end.
   *
   * @returns How it ended.
   */
  wait(): Promise<Exit> {
    return this.#done;
  }

  /**
   * Sends a signal; a process that already ended is left alone.
   *
   * @param signal The signal.
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /**
   * Stops the process: SIGTERM, then SIGKILL after a second.
   *
   * @returns How it ended.
   */
  async stop(): Promise<Exit> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), 1000);
    try {
      return await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A field of /proc/<pid>/status in MiB (`VmHWM` is the peak resident set).
   *
   * @param field `VmHWM` or `VmRSS`.
   * @returns MiB, or `NaN` when the process is gone.
   */
  memory(field: "VmHWM" | "VmRSS"): number {
    try {
      const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
      const kib = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
      return kib ? Number(kib[1]) / 1024 : NaN;
    } catch {
      return NaN;
    }
  }

  async #collect(): Promise<Exit> {
    const [status] = await Promise.all([
      this.#child.status,
      this.#readLines(),
      this.#readStderr(),
    ]);
    clearTimeout(this.#deadline);
    this.#wake?.();
    const line = this.#lines.findLast((l) => l.startsWith("RESULT "));
    return {
      code: status.signal === null ? status.code : null,
      result: line ? JSON.parse(line.slice(7)) : null,
      stderr: this.#stderr,
      timedOut: this.#timedOut,
    };
  }

  async #readLines(): Promise<void> {
    let partial = "";
    for await (const text of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + text).split("\n");
      partial = parts.pop()!;
      this.#lines.push(...parts);
      this.#wake?.();
    }
    if (partial) this.#lines.push(partial);
  }

  async #readStderr(): Promise<void> {
    for await (const text of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
      this.#stderr = (this.#stderr + text).slice(-4000);
    }
  }

  async #failure(): Promise<string> {
    const exit = await this.#done;
    return describeFailure(exit);
  }
}

/**
 * One line saying why a peer failed: `n/a (reason)` when the peer said it cannot run the
 * workload, `timeout`, or the first error line of its stderr.
 *
 * @param exit How the peer ended.
 * @returns A short message.
 */
export function describeFailure(exit: Exit): string {
  if (exit.timedOut) return "timeout";
  const na = exit.stderr.match(/^NA (.+)$/m);
  if (na) return `n/a (${na[1].slice(0, 80)})`;
  const lines = exit.stderr.split("\n").map((l) => l.trim()).filter((l) =>
    l && !l.startsWith("at ")
  );
  const error = lines.find((l) => /error/i.test(l)) ?? lines.at(-1);
  return (error ?? `exit code ${exit.code}`).slice(0, 160);
}
