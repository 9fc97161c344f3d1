// The command line's shape: what a command declares, how its arguments are
// parsed (node:util parseArgs), and the checks that turn option text into
// ports, counts, seconds and sizes, failing with a UsageError (exit 2).

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { UsageError } from "./_errors.ts";

/**
 * The program's name in usage lines and messages.
 *
 * @example
 * ```ts
 * import { PROG } from "./_args.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(`usage: ${PROG} connect`, "usage: pysock connect");
 * ```
 */
export const PROG = "pysock";

/**
 * Where servers listen unless `--host` says otherwise: loopback only.
 *
 * @example
 * ```ts
 * import { DEFAULT_HOST } from "./_args.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(DEFAULT_HOST, "127.0.0.1");
 * ```
 */
export const DEFAULT_HOST = "127.0.0.1";

/**
 * Parsed option values by long name, as `parseArgs` gives them.
 *
 * @example
 * ```ts
 * import type { Values } from "./_args.ts";
 * import { equal } from "node:assert/strict";
 *
 * const values: Values = { port: "9000", raw: true };
 * equal(values.port, "9000");
 * ```
 */
export type Values = Record<string, string | boolean | undefined>;

/**
 * One command: its help, its options and positional arguments, and what it runs.
 *
 * @example
 * ```ts
 * import { type Command, parse } from "./_args.ts";
 * import { equal } from "node:assert/strict";
 *
 * const hello: Command = {
 *   usage: "hello [--loud] NAME",
 *   summary: "greet NAME",
 *   help: "Prints a greeting.",
 *   options: { loud: { type: "boolean", default: false } },
 *   positionals: ["NAME"],
 *   run: (values, [name]) => Promise.resolve(values.loud && name === "world" ? 0 : 1),
 * };
 * const parsed = parse(hello, ["--loud", "world"])!;
 * equal(await hello.run(parsed.values, parsed.positionals), 0);
 * ```
 */
export interface Command {
  /** The synopsis after `pysock `. */
  usage: string;
  /** One line for the command list. */
  summary: string;
  /** The rest of `--help`. */
  help: string;
  /** The options, as `parseArgs` takes them (`--help`/`-h` is added). */
  options: ParseArgsOptionsConfig;
  /** Names of the positional arguments, all required. */
  positionals: string[];
  /** Runs the command; resolves to the exit code, throws UsageError or Failure. */
  run(values: Values, positionals: string[]): Promise<number>;
}

/**
 * Parses a command's arguments.
 *
 * @param command The command whose options and positionals to expect.
 * @param args The arguments after the command's name.
 * @returns The option values and positionals, or `null` when `--help` was asked for.
 * @throws {UsageError} On an unknown option, a missing value, or too few or many positionals.
 *
 * @example
 * ```ts
 * import { type Command, parse } from "./_args.ts";
 * import { UsageError } from "./_errors.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const command: Command = {
 *   usage: "greet [--times N] NAME",
 *   summary: "",
 *   help: "",
 *   options: { times: { type: "string", default: "1" } },
 *   positionals: ["NAME"],
 *   run: () => Promise.resolve(0),
 * };
 * const parsed = parse(command, ["ada"])!;
 * equal(parsed.values.times, "1");
 * equal(parsed.positionals[0], "ada");
 * equal(parse(command, ["--bogus", "--help"]), null);
 * throws(() => parse(command, []), new UsageError("missing NAME"));
 * ```
 */
export function parse(
  command: Command,
  args: string[],
): { values: Values; positionals: string[] } | null {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // --help anywhere asks for help, but after "--" it is an argument.
    const end = args.indexOf("--");
    const options = end === -1 ? args : args.slice(0, end);
    if (options.includes("--help") || options.includes("-h")) return null;
    // node's messages go on about "--" after the first sentence.
    throw new UsageError((err as Error).message.split(". ")[0].replace(/\.$/, ""));
  }
  if (parsed.values.help) return null;
  const { positionals } = parsed;
  const wanted = command.positionals;
  if (positionals.length < wanted.length) {
    throw new UsageError(`missing ${wanted.slice(positionals.length).join(" ")}`);
  }
  if (positionals.length > wanted.length) {
    throw new UsageError(`unexpected argument "${positionals[wanted.length]}"`);
  }
  return { values: parsed.values as Values, positionals };
}

/**
 * A port from the command line.
 *
 * @param text The argument.
 * @param what Its name in the message (`PORT`, `--port`).
 * @param min The lowest port allowed: 0 to listen on a free one, 1 to connect.
 * @returns The port.
 * @throws {UsageError} Unless `text` is a whole number from `min` to 65535.
 *
 * @example
 * ```ts
 * import { portArg } from "./_args.ts";
 * import { UsageError } from "./_errors.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(portArg("9000", "--port"), 9000);
 * throws(
 *   () => portArg("0", "PORT", 1),
 *   new UsageError('PORT must be a number 1-65535, got "0"'),
 * );
 * ```
 */
export function portArg(text: string, what: string, min = 0): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= min && port <= 65535)) {
    throw new UsageError(`${what} must be a number ${min}-65535, got "${text}"`);
  }
  return port;
}

/**
 * A count from the command line, such as `--count` or `--max-clients`.
 *
 * @param text The argument, or `undefined` when the option was not given.
 * @param what Its name in the message.
 * @returns The count, or `undefined` when not given.
 * @throws {UsageError} Unless `text` is a whole number above 0.
 *
 * @example
 * ```ts
 * import { countArg } from "./_args.ts";
 * import { UsageError } from "./_errors.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(countArg("3", "--count"), 3);
 * equal(countArg(undefined, "--count"), undefined);
 * throws(() => countArg("0", "--count"), UsageError);
 * ```
 */
export function countArg(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`${what} must be a whole number above 0, got "${text}"`);
  }
  return Number(text);
}

/**
 * A duration in seconds from the command line, such as `--timeout`.
 *
 * @param text The argument, or `undefined` when the option was not given.
 * @param what Its name in the message.
 * @returns The seconds, or `undefined` when not given.
 * @throws {UsageError} Unless `text` is a decimal number above 0 and at most 9223372036.
 *
 * @example
 * ```ts
 * import { secondsArg } from "./_args.ts";
 * import { UsageError } from "./_errors.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(secondsArg("0.5", "--timeout"), 0.5);
 * throws(() => secondsArg("-1", "--timeout"), UsageError);
 * throws(() => secondsArg("1e99", "--timeout"), UsageError);
 * throws(() => secondsArg("99999999999", "--timeout"), UsageError);
 * ```
 */
export function secondsArg(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(seconds > 0)) {
    throw new UsageError(`${what} must be a number of seconds above 0, got "${text}"`);
  }
  // CPython's limit, which settimeout enforces (int64 nanoseconds).
  if (seconds > 9223372036) {
    throw new UsageError(`${what} must be at most 9223372036 seconds, got "${text}"`);
  }
  return seconds;
}

/**
 * A size in bytes from the command line, with an optional K, M or G (powers of 1024).
 *
 * @param text The argument, or `undefined` when the option was not given.
 * @param what Its name in the message.
 * @returns The bytes, or `undefined` when not given.
 * @throws {UsageError} Unless `text` is digits with an optional unit.
 *
 * @example
 * ```ts
 * import { sizeArg } from "./_args.ts";
 * import { UsageError } from "./_errors.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(sizeArg("500M", "--max-size"), 500 * 1024 ** 2);
 * equal(sizeArg("2g", "--max-size"), 2 * 1024 ** 3);
 * throws(() => sizeArg("lots", "--max-size"), UsageError);
 * ```
 */
export function sizeArg(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)([KMG]?)$/i.exec(text);
  if (match === null) {
    throw new UsageError(`${what} must be bytes like 1048576, 500M or 2G, got "${text}"`);
  }
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2].toUpperCase()]!;
  return Number(match[1]) * unit;
}

/**
 * A host from the command line, accepting IPv6 in brackets (`[::1]`) as URLs write it.
 *
 * @param text The argument.
 * @returns The host as the socket wants it: an IPv6 address without its brackets.
 *
 * @example
 * ```ts
 * import { hostArg } from "./_args.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(hostArg("[::1]"), "::1");
 * equal(hostArg("127.0.0.1"), "127.0.0.1");
 * ```
 */
export function hostArg(text: string): string {
  // Python's spelling of IPv6 in URLs; the socket wants the bare address.
  return text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
}
