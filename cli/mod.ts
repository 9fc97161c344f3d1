/**
 * `pysock`, the command line: a netcat that speaks pysock.
 *
 * ```sh
 * deno run -A jsr:@pysock/socket/cli --help
 * deno run -A jsr:@pysock/socket/cli echo-server --port 9000
 * deno run -A jsr:@pysock/socket/cli connect 127.0.0.1 9000
 * ```
 *
 * Commands: `echo-server`, `connect`, `udp-listen`, `udp-send`, `send-file`,
 * `recv-file`; `--help` after any of them explains it. Exit codes follow Unix
 * tools: 0 done, 1 failed (one line on stderr saying what failed and what to
 * do), 2 bad command line. Status lines (`listening on 127.0.0.1:9000`) go
 * to stderr, so stdout carries only data and results.
 *
 * The UDP commands need Deno's `--unstable-net` outside this repository
 * (its `deno.json` sets it).
 *
 * Importing this module runs nothing; call {@linkcode main} to run a command
 * in-process.
 *
 * @module
 */

import { type Command, parse, PROG } from "./_args.ts";
import { explain, fail, UsageError } from "./_errors.ts";
import { connectCommand } from "./connect.ts";
import { echoServerCommand } from "./echo_server.ts";
import { recvFileCommand } from "./recv_file.ts";
import { sendFileCommand } from "./send_file.ts";
import { udpListenCommand } from "./udp_listen.ts";
import { udpSendCommand } from "./udp_send.ts";

/** Every command by name, in the order `--help` lists them. */
const COMMANDS: Record<string, Command> = {
  "echo-server": echoServerCommand,
  connect: connectCommand,
  "udp-listen": udpListenCommand,
  "udp-send": udpSendCommand,
  "send-file": sendFileCommand,
  "recv-file": recvFileCommand,
};

const TOP_HELP = `${PROG}: Python's socket module for Deno, from the command line

usage: ${PROG} <command> [options] [arguments]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`).join("\n")}

Run "${PROG} <command> --help" for a command's options.
Exit codes: 0 done, 1 failed (one line on stderr), 2 bad command line.`;

/**
 * Runs one `pysock` command, as the command line does with `Deno.args`.
 *
 * Output goes to the process's stdout and stderr; failures are reported as
 * one line on stderr, never thrown.
 *
 * @param args The command and its arguments, e.g. `["connect", "127.0.0.1", "9000"]`.
 * @returns The exit code: 0 done, 1 failed, 2 bad command line.
 *
 * @example
 * ```ts
 * import { main } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(await main(["--help"]), 0);
 * equal(await main(["no-such-command"]), 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    return fail(`${PROG}: missing command; run "${PROG} --help" to list them`, 2);
  }
  if (name === "--help" || name === "-h" || name === "help") {
    console.log(TOP_HELP);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    return fail(`${PROG}: unknown command "${name}"; run "${PROG} --help" to list them`, 2);
  }
  try {
    const parsed = parse(command, rest);
    if (parsed === null) {
      console.log(`usage: ${PROG} ${command.usage}\n\n${command.help}`);
      return 0;
    }
    return await command.run(parsed.values, parsed.positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      return fail(`${PROG} ${name}: ${err.message} (usage: ${PROG} ${command.usage})`, 2);
    }
    return fail(`${PROG} ${name}: ${explain(err)}`, 1);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
