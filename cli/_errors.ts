// How a command fails: the two errors the top level turns into one line on
// stderr and an exit code (0 done, 1 failed, 2 bad command line), and the
// wording of any other error for the user.

import {
  ConnectionRefusedError,
  errno,
  fromDenoError,
  gaierror,
  OSError,
  TimeoutError,
} from "../errors.ts";

/**
 * A bad command line: `main` prints it with the command's usage and exits 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./_errors.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const err = new UsageError("missing PORT");
 * ok(err instanceof Error);
 * equal(String(err), "UsageError: missing PORT");
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * A failure already worded for the user: `main` prints it and exits 1.
 *
 * @example
 * ```ts
 * import { Failure, UsageError } from "./_errors.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const err = new Failure("cannot read x");
 * ok(!(err instanceof UsageError));
 * equal(String(err), "Failure: cannot read x");
 * ```
 */
export class Failure extends Error {
  override name = "Failure";
}

/**
 * Writes `line` to stderr as one line and returns `code`, the exit code.
 *
 * @param line What failed and what to do; line breaks are folded into spaces.
 * @param code The exit code to return.
 * @returns `code`.
 *
 * @example
 * ```ts
 * import { fail } from "./_errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(fail("pysock: missing command", 2), 2);
 * ```
 */
export function fail(line: string, code: number): number {
  console.error(oneLine(line));
  return code;
}

/**
 * `text` on one line: each line break, with the blanks around it, becomes one space.
 *
 * @param text Any text, such as an error message.
 * @returns The text without line breaks, trimmed.
 *
 * @example
 * ```ts
 * import { oneLine } from "./_errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(oneLine("first\n  second\r\n"), "first second");
 * ```
 */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/**
 * The user-facing text of an error, without a stack. Deno's own errors are
 * worded as Python's (`[Errno 2] No such file or directory`), and permission
 * errors name the exact `--allow-...=target` flag to add.
 *
 * @param err Anything thrown.
 * @returns Its message.
 *
 * @example
 * ```ts
 * import { explain } from "./_errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * const refused = new Deno.errors.ConnectionRefused("Connection refused (os error 111)");
 * equal(explain(refused), "[Errno 111] Connection refused");
 * equal(explain("plain"), "plain");
 * ```
 */
export function explain(err: unknown): string {
  const translated = fromDenoError(err);
  return translated instanceof Error ? translated.message : String(translated);
}

/**
 * What to do after a failed bind, as a clause to append to the message.
 *
 * @param err The error the bind threw.
 * @returns `"; ..."`, or `""` when there is nothing to suggest.
 *
 * @example
 * ```ts
 * import { bindHint } from "./_errors.ts";
 * import { OSError, errno } from "../errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * const inUse = new OSError(errno.EADDRINUSE);
 * equal(bindHint(inUse), "; choose another --port, or 0 for a free one");
 * equal(bindHint(new OSError(errno.EADDRNOTAVAIL)), "; --host must be an address of this machine");
 * equal(bindHint(new Error("other")), "");
 * ```
 */
export function bindHint(err: unknown): string {
  if (!(err instanceof OSError)) return "";
  if (err.errno === errno.EADDRINUSE) return "; choose another --port, or 0 for a free one";
  if (err.errno === errno.EADDRNOTAVAIL) return "; --host must be an address of this machine";
  return "";
}

/**
 * What to do after a failed connect, as a clause to append to the message.
 *
 * @param err The error the connect threw.
 * @returns `"; ..."`, or `""` when there is nothing to suggest.
 *
 * @example
 * ```ts
 * import { connectHint } from "./_errors.ts";
 * import { TimeoutError } from "../errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(connectHint(new TimeoutError()), "; check the address, or raise --timeout");
 * equal(connectHint(new Error("other")), "");
 * ```
 */
export function connectHint(err: unknown): string {
  if (err instanceof ConnectionRefusedError) return "; check that a server listens there";
  if (err instanceof gaierror) return "; check the host name";
  if (err instanceof TimeoutError) return "; check the address, or raise --timeout";
  return "";
}
