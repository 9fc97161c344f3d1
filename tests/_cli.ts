// The command line as a subprocess, for cli_test.ts and cli_adversarial_test.ts:
// a child whose stderr is watched line by line and whose stdout is
// collected, killed after a deadline so that a hung CLI fails the test
// rather than the run, and the assertion that a failure is one line.

import { equal, match, ok } from "node:assert/strict";
import { concat } from "../_bytes.ts";

export const ROOT: string = new URL("..", import.meta.url).pathname;
export const CLI: string = new URL("../cli/mod.ts", import.meta.url).pathname;
export const NET = "--allow-net=127.0.0.1,[::1]";
/** Every child is killed after this long: a hung CLI fails its test instead of the run. */
export const DEADLINE_MS = 30_000;

/** How a child ended, and what it wrote. */
export interface Result {
  code: number;
  signal: Deno.Signal | null;
  stdout: Uint8Array;
  stderr: string;
}

/** A running child (the CLI, or a shell), killed with SIGKILL after DEADLINE_MS or on disposal. */
export class Child implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #stderr = "";
  #wake: (() => void)[] = [];
  #exited = false;
  #done: Promise<Result>;

  constructor(command: string, args: string[], stdin = false) {
    const child = new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    const timer = setTimeout(() => this.signal("SIGKILL"), DEADLINE_MS);
    const out = (async () => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of child.stdout) chunks.push(chunk);
      return concat(chunks);
    })();
    const err = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.#stderr += decoder.decode(chunk, { stream: true });
        this.#notify();
      }
    })();
    this.#done = (async () => {
      const status = await child.status;
      clearTimeout(timer);
      const [stdout] = await Promise.all([out, err]);
      this.#exited = true;
      this.#notify();
      return { code: status.code, signal: status.signal, stdout, stderr: this.#stderr };
    })();
  }

  #notify(): void {
    for (const wake of this.#wake.splice(0)) wake();
  }

  /** Waits for stderr to match `pattern`; fails if the process exits first. */
  stderrMatch(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = pattern.exec(this.#stderr);
        if (found) return resolve(found);
        if (this.#exited) {
          return reject(new Error(`stderr never matched ${pattern}: ${this.#stderr}`));
        }
        this.#wake.push(check);
      };
      check();
    });
  }

  /** The port from the "listening on HOST:PORT" line every server prints first. */
  async port(): Promise<number> {
    return Number((await this.stderrMatch(/^listening on (?:udp )?\S+:(\d+)\n/))[1]);
  }

  /** Writes `parts` to stdin, then closes it (end of file). */
  async input(...parts: Uint8Array[]): Promise<void> {
    const writer = this.child.stdin.getWriter();
    for (const part of parts) await writer.write(part);
    await writer.close();
  }

  /** Sends `signal`, unless the child has exited. */
  signal(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch { /* already exited */ }
  }

  /** The exit status and output, once the child has exited. */
  result(): Promise<Result> {
    return this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.signal("SIGKILL");
    await this.#done;
  }
}

/** `deno run <perms> cli/mod.ts <args>`, with only loopback net access unless `perms` says. */
export class Cli extends Child {
  constructor(args: string[], options: { perms?: string[]; stdin?: boolean } = {}) {
    super(Deno.execPath(), ["run", ...(options.perms ?? [NET]), CLI, ...args], options.stdin);
  }
}

/** Runs the CLI to completion. */
export async function run(args: string[], perms?: string[]): Promise<Result> {
  await using cli = new Cli(args, { perms });
  return await cli.result();
}

/** The status lines servers print on stderr before any failure. */
const STATUS_LINE = /^(listening on|connection from) .*\n/gm;

/**
 * Asserts a failure: this exit code and, besides status lines, exactly one
 * line on stderr, matching `pattern`, with no stack trace in it.
 */
export function assertFailure(result: Result, code: number, pattern: RegExp, what = ""): void {
  equal(result.code, code, `${what} exit code; stderr: ${result.stderr}`);
  const failure = result.stderr.replace(STATUS_LINE, "");
  match(failure, /^[^\n]+\n$/, `${what}: exactly one line on stderr: ${JSON.stringify(failure)}`);
  match(failure, pattern, what);
  ok(!/\bat .*:\d+:\d+|file:\/\/\/|Uncaught/.test(failure), `${what}: no stack trace`);
}

/** The SHA-256 of `data`, in hex, as the transfer commands print it. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data.slice()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
