/**
 * The seeds' remote-command server done right (seed 002, the 粘包 "sticky packets"
 * section). The seed runs whatever text arrives with `os.popen` and patches message
 * edges with a send-the-size, wait-for-an-ack round trip. This server:
 *
 * - frames every request and reply with a length header (framing.ts: `recvMsg` /
 *   `sendMsg`, the bytes of Python's `struct.pack(">I", n) + payload`), so replies of
 *   any size arrive whole with no ack round trip;
 * - runs only commands on an allow-list: builtins written in TypeScript, and a few
 *   programs with a fixed argv started without a shell. Received text is never run,
 *   and never reaches a program's arguments;
 * - binds 127.0.0.1 unless told otherwise, caps a request at 4 KiB, and serves many
 *   clients at once.
 *
 * Run: `deno task command-server`, then `deno task command-client` and type `help`.
 *
 * @module
 */
import { type Address, socket, type StreamSocket } from "../mod.ts";
import { recvMsg, sendMsg } from "../framing.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr } from "./_py.ts";

/** The largest request accepted: a command line, not a file upload. */
export const MAX_REQUEST = 4096;

/** Most lines the `lines` builtin returns (about 1 MB). */
const MAX_LINES = 100_000;

/** One command the server agrees to run. */
export interface AllowedCommand {
  /** How to call it, for `help`. */
  usage: string;
  /** What it does, for `help`. */
  summary: string;
  /** Runs it; `args` is the text after the command name, already trimmed. */
  run(args: string): string | Promise<string>;
}

const decoder = new TextDecoder();

/**
 * A program run with a fixed argv and no shell. Whatever the client typed after the
 * command name is refused, never passed on: `uname; rm -rf /` runs nothing.
 */
function program(argv: [string, ...string[]]): AllowedCommand["run"] {
  return async (args) => {
    if (args.length > 0) return `error: ${argv[0]} takes no arguments`;
    const [name, ...rest] = argv;
    const { stdout, stderr } = await new Deno.Command(name, {
      args: rest,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return decoder.decode(stdout) + decoder.decode(stderr);
  };
}

function noArgs(name: string, run: () => string): AllowedCommand["run"] {
  return (args) => args.length > 0 ? `error: ${name} takes no arguments` : run();
}

function formatUptime(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `up ${days} days, ${hours}:${String(minutes).padStart(2, "0")}`;
}

function lines(args: string): string {
  const count = Number(args);
  if (!/^\d+$/.test(args) || count > MAX_LINES) {
    return `error: lines takes a count from 0 to ${MAX_LINES}, got ${repr(args)}`;
  }
  let out = "";
  for (let i = 1; i <= count; i++) out += `line ${i}\n`;
  return out;
}

/** The allow-list: every command this server runs, and nothing else. */
export const COMMANDS: ReadonlyMap<string, AllowedCommand> = new Map<string, AllowedCommand>([
  ["help", {
    usage: "help",
    summary: "list the commands",
    run: () => [...COMMANDS.values()].map((c) => `${c.usage.padEnd(12)} ${c.summary}`).join("\n"),
  }],
  ["echo", { usage: "echo TEXT", summary: "send TEXT back", run: (args) => args }],
  ["upper", {
    usage: "upper TEXT",
    summary: "send TEXT back upper-cased",
    run: (args) => args.toUpperCase(),
  }],
  ["date", {
    usage: "date",
    summary: "the server's date and time",
    run: noArgs("date", () => new Date().toString()),
  }],
  ["uptime", {
    usage: "uptime",
    summary: "how long the server's machine has been up",
    run: noArgs("uptime", () => formatUptime(Deno.osUptime())),
  }],
  ["hostname", {
    usage: "hostname",
    summary: "the server's host name",
    run: noArgs("hostname", () => Deno.hostname()),
  }],
  ["lines", {
    usage: "lines N",
    summary: `N numbered lines (a large reply; N up to ${MAX_LINES})`,
    run: lines,
  }],
  ["whoami", { usage: "whoami", summary: "runs whoami", run: program(["whoami"]) }],
  ["uname", { usage: "uname", summary: "runs uname -sr", run: program(["uname", "-sr"]) }],
]);

/**
 * Runs one request line if its command is on the allow-list.
 *
 * @param line What the client sent: a command name, then its text.
 * @returns The command's output (possibly empty), or a line starting with `error:`.
 */
export async function runCommand(line: string): Promise<string> {
  const trimmed = line.trim();
  const space = trimmed.search(/\s/);
  const name = space === -1 ? trimmed : trimmed.slice(0, space);
  const args = space === -1 ? "" : trimmed.slice(space + 1).trim();
  const command = COMMANDS.get(name);
  if (command === undefined) {
    return `error: ${repr(name)} is not an allowed command; try help`;
  }
  try {
    return await command.run(args);
  } catch (err) {
    // Deno's permission errors name the flag to add; pass that on.
    return `error: ${name} failed: ${(err as Error).message}`;
  }
}

async function serve(conn: StreamSocket, addr: Address, stopping: () => boolean): Promise<void> {
  try {
    while (true) {
      const request = await recvMsg(conn, { maxMessage: MAX_REQUEST });
      if (request === null) break;
      const line = decoder.decode(request);
      console.log("run:", repr(line));
      // An empty output is an empty message: framing needs no "no output" placeholder.
      await sendMsg(conn, await runCommand(line));
    }
    console.log("client left:", repr(addr));
  } catch (err) {
    // One client's bad request or reset must not stop the others.
    if (!stopping()) console.log(`dropped ${repr(addr)}: ${(err as Error).message}`);
  } finally {
    conn.close();
  }
}

async function main(): Promise<void> {
  const { host, port, maxClients } = exampleArgs({
    file: "command_server.ts",
    summary: "Remote commands done right: framed requests and replies, allow-listed commands.",
    port: 9999,
    role: "loop",
  });
  const server = socket();
  server.bind([host, port]);
  console.log(server.getsockname()[1]);
  server.listen();

  const open = new Set<StreamSocket>();
  const serving = new Set<Promise<void>>();
  let stopping = false;
  using _signals = onShutdown(() => {
    stopping = true;
    server.close();
    for (const conn of open) conn.close();
  });
  for (let served = 0; maxClients === null || served < maxClients; served++) {
    let accepted;
    try {
      accepted = await server.accept();
    } catch (err) {
      if (stopping) break;
      throw err;
    }
    const [conn, addr] = accepted;
    console.log("new conn:", repr(addr));
    open.add(conn);
    const task = serve(conn, addr, () => stopping).finally(() => {
      open.delete(conn);
      serving.delete(task);
    });
    serving.add(task);
  }
  await Promise.all(serving);
  server.close();
}

if (import.meta.main) await main();
