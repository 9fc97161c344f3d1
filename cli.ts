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

import { createHash } from "node:crypto";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { familyOfHost, formatEndpoint } from "./_address.ts";
import {
  ConnectionRefusedError,
  errno,
  fromDenoError,
  gaierror,
  IncompleteReadError,
  MessageTooLargeError,
  OSError,
  TimeoutError,
} from "./errors.ts";
import { recvMsg, sendMsg } from "./framing.ts";
import {
  type Address,
  createConnection,
  createServer,
  SHUT_WR,
  SOCK_DGRAM,
  socket,
  type StreamSocket,
} from "./socket.ts";
import { type DatagramSocket, MAX_DATAGRAM_IPV4, MAX_DATAGRAM_IPV6 } from "./udp.ts";

const PROG = "pysock";
const DEFAULT_HOST = "127.0.0.1";
/** Read size for stdin, sockets and files. */
const IO_CHUNK = 64 * 1024;
/** File data per framed message; the receiver accepts up to FILE_MESSAGE_MAX. */
const FILE_CHUNK = 256 * 1024;
const FILE_MESSAGE_MAX = 1024 * 1024;
/** Header and reply messages are small JSON objects. */
const CONTROL_MESSAGE_MAX = 64 * 1024;
const DEFAULT_MAX_SIZE = 4 * 1024 ** 3;
const DEFAULT_TRANSFER_TIMEOUT = 30;
const NAME_MAX_BYTES = 255;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------
// Errors: what the top level turns into one line and an exit code.

/** A bad command line: exit 2. */
class UsageError extends Error {}

/** A failure already worded for the user: exit 1. */
class Failure extends Error {}

// ---------------------------------------------------------------------------
// Commands

interface Command {
  /** The synopsis after `pysock `. */
  usage: string;
  /** One line for the command list. */
  summary: string;
  /** The rest of `--help`. */
  help: string;
  options: ParseArgsOptionsConfig;
  /** Names of the positional arguments, all required. */
  positionals: string[];
  run(values: Values, positionals: string[]): Promise<number>;
}

type Values = Record<string, string | boolean | undefined>;

const COMMANDS: Record<string, Command> = {
  "echo-server": {
    usage: "echo-server [--host HOST] [--port PORT] [--max-clients N]",
    summary: "echo every byte back, serving many clients at once",
    help: `Listens on HOST:PORT and sends every byte each client sends straight back,
one task per connection. Prints "listening on HOST:PORT" on stderr first.
Stops on Ctrl-C (SIGINT) or SIGTERM, closing every connection.

Options:
  --host HOST        address to listen on (default ${DEFAULT_HOST}; 0.0.0.0 or :: for all)
  --port PORT        port to listen on (default 0: a free port, printed)
  --max-clients N    stop accepting after N clients, exit when they are done`,
    options: {
      host: { type: "string", default: DEFAULT_HOST },
      port: { type: "string", default: "0" },
      "max-clients": { type: "string" },
    },
    positionals: [],
    run: echoServer,
  },
  connect: {
    usage: "connect [--timeout SECONDS] HOST PORT",
    summary: "stdin to a TCP peer, the peer to stdout (like nc)",
    help: `Connects to HOST:PORT, copies stdin to the connection and the connection to
stdout. At the end of stdin it half-closes (shutdown SHUT_WR), so the peer
sees end of stream, and goes on printing what arrives until the peer closes.

Options:
  --timeout SECONDS  give up connecting after this long (default: the system's)`,
    options: { timeout: { type: "string" } },
    positionals: ["HOST", "PORT"],
    run: connect,
  },
  "udp-listen": {
    usage: "udp-listen [--host HOST] [--port PORT] [--raw] [--echo] [--count N]",
    summary: "print each UDP datagram with its sender",
    help: `Binds a UDP socket and prints one line per datagram: the sender, then the
bytes as Python shows them ("127.0.0.1:40000 b'hello'"). Prints
"listening on udp HOST:PORT" on stderr first. Stops on Ctrl-C or SIGTERM.

Options:
  --host HOST  address to bind (default ${DEFAULT_HOST})
  --port PORT  port to bind (default 0: a free port, printed)
  --raw        write the datagrams' bytes to stdout as they are, nothing else
  --echo       also send each datagram back to its sender
  --count N    stop after N datagrams`,
    options: {
      host: { type: "string", default: DEFAULT_HOST },
      port: { type: "string", default: "0" },
      raw: { type: "boolean", default: false },
      echo: { type: "boolean", default: false },
      count: { type: "string" },
    },
    positionals: [],
    run: udpListen,
  },
  "udp-send": {
    usage: "udp-send [--reply] [--timeout SECONDS] HOST PORT MESSAGE|-",
    summary: "send one UDP datagram (MESSAGE, or stdin for -)",
    help: `Sends MESSAGE (UTF-8) as one datagram to HOST:PORT; "-" sends stdin instead,
which must fit in one datagram (${MAX_DATAGRAM_IPV4} bytes over IPv4).

Options:
  --reply            wait for one datagram back and write it to stdout
  --timeout SECONDS  how long --reply waits (default 5)`,
    options: {
      reply: { type: "boolean", default: false },
      timeout: { type: "string", default: "5" },
    },
    positionals: ["HOST", "PORT", "MESSAGE"],
    run: udpSend,
  },
  "send-file": {
    usage: "send-file [--timeout SECONDS] HOST PORT PATH",
    summary: "send a file to a recv-file, checked with SHA-256",
    help: `Sends the file at PATH to a "${PROG} recv-file" listening on HOST:PORT, in
length-prefixed messages (framing.ts): a JSON header (name, size, sha256),
the data, an empty end message. Prints "sha256 OK <hex>" once the receiver
has checked the digest. Shows progress on stderr when it is a terminal.

Options:
  --timeout SECONDS  give up when the receiver is silent this long (default ${DEFAULT_TRANSFER_TIMEOUT})`,
    options: { timeout: { type: "string", default: String(DEFAULT_TRANSFER_TIMEOUT) } },
    positionals: ["HOST", "PORT", "PATH"],
    run: sendFile,
  },
  "recv-file": {
    usage:
      "recv-file [--host HOST] [--port PORT] [--dir DIR] [--overwrite] [--max-size BYTES] [--timeout SECONDS]",
    summary: "receive one file from send-file into DIR, checked with SHA-256",
    help: `Listens on HOST:PORT for one "${PROG} send-file", writes the file into DIR and
prints "sha256 OK <hex> <path>" when its SHA-256 matches the sender's.
Prints "listening on HOST:PORT" on stderr first.

The sender only names the file: names with "/", "\\", "..", NUL or control
characters, absolute paths, and files that already exist (unless
--overwrite) are refused, so nothing is ever written outside DIR. The data
goes to a temporary file in DIR and takes its name only once checked.

Options:
  --host HOST        address to listen on (default ${DEFAULT_HOST})
  --port PORT        port to listen on (default 0: a free port, printed)
  --dir DIR          directory to write into (default: the current one)
  --overwrite        replace an existing file of the same name
  --max-size BYTES   largest file accepted, e.g. 500M, 2G (default 4G)
  --timeout SECONDS  give up when the sender is silent this long (default ${DEFAULT_TRANSFER_TIMEOUT})`,
    options: {
      host: { type: "string", default: DEFAULT_HOST },
      port: { type: "string", default: "0" },
      dir: { type: "string", default: "." },
      overwrite: { type: "boolean", default: false },
      "max-size": { type: "string" },
      timeout: { type: "string", default: String(DEFAULT_TRANSFER_TIMEOUT) },
    },
    positionals: [],
    run: recvFile,
  },
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
 * import { main } from "./cli.ts";
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

/** Writes one line to stderr and returns the exit code. */
function fail(line: string, code: number): number {
  console.error(oneLine(line));
  return code;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/** Parses a command's arguments; `null` means `--help` was asked for. */
function parse(command: Command, args: string[]): { values: Values; positionals: string[] } | null {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    if (args.includes("--help") || args.includes("-h")) return null;
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
 * The user-facing text of an error, without a stack. Deno's own errors are
 * worded as Python's (`[Errno 2] No such file or directory`), and permission
 * errors name the exact `--allow-...=target` flag to add.
 */
function explain(err: unknown): string {
  const translated = fromDenoError(err);
  return translated instanceof Error ? translated.message : String(translated);
}

// ---------------------------------------------------------------------------
// Argument checks

function portArg(text: string, what: string, min = 0): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= min && port <= 65535)) {
    throw new UsageError(`${what} must be a number ${min}-65535, got "${text}"`);
  }
  return port;
}

function countArg(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`${what} must be a whole number above 0, got "${text}"`);
  }
  return Number(text);
}

function secondsArg(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(seconds > 0)) {
    throw new UsageError(`${what} must be a number of seconds above 0, got "${text}"`);
  }
  return seconds;
}

function sizeArg(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)([KMG]?)$/i.exec(text);
  if (match === null) {
    throw new UsageError(`${what} must be bytes like 1048576, 500M or 2G, got "${text}"`);
  }
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2].toUpperCase()]!;
  return Number(match[1]) * unit;
}

function hostArg(text: string): string {
  // Python's spelling of IPv6 in URLs; the socket wants the bare address.
  return text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
}

function endpointOf(addr: Address): string {
  if (typeof addr === "string") return addr || "(unnamed)";
  return formatEndpoint(addr[0], addr[1]);
}

// ---------------------------------------------------------------------------
// Shared I/O

async function writeAll(out: { write(p: Uint8Array): Promise<number> }, data: Uint8Array) {
  for (let done = 0; done < data.length;) done += await out.write(data.subarray(done));
}

/** Calls `stop` on SIGINT or SIGTERM until disposed. */
function onStopSignal(stop: (signal: Deno.Signal) => void): Disposable {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => [signal, () => stop(signal)] as const);
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  return {
    [Symbol.dispose]() {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    },
  };
}

function listenTcp(host: string, port: number): StreamSocket {
  try {
    return createServer([host, port], { family: familyOfHost(host) });
  } catch (err) {
    throw new Failure(
      `cannot listen on ${formatEndpoint(host, port)}: ${explain(err)}${bindHint(err)}`,
    );
  }
}

function bindHint(err: unknown): string {
  if (!(err instanceof OSError)) return "";
  if (err.errno === errno.EADDRINUSE) return "; choose another --port, or 0 for a free one";
  if (err.errno === errno.EADDRNOTAVAIL) return "; --host must be an address of this machine";
  return "";
}

// ---------------------------------------------------------------------------
// echo-server

async function echoServer(values: Values): Promise<number> {
  const host = hostArg(values.host as string);
  const port = portArg(values.port as string, "--port");
  const maxClients = countArg(values["max-clients"] as string | undefined, "--max-clients");
  const server = listenTcp(host, port);
  const clients = new Set<StreamSocket>();
  const serving = new Set<Promise<void>>();
  let stopping = false;
  using _signals = onStopSignal(() => {
    stopping = true;
    server.close();
    for (const conn of clients) conn.close();
  });
  try {
    console.error(`listening on ${endpointOf(server.getsockname())}`);
    for (let accepted = 0; maxClients === undefined || accepted < maxClients; accepted++) {
      let conn: StreamSocket, addr: Address;
      try {
        [conn, addr] = await server.accept();
      } catch (err) {
        if (stopping) break;
        throw err;
      }
      clients.add(conn);
      const task = echo(conn, addr).finally(() => {
        clients.delete(conn);
        serving.delete(task);
      });
      serving.add(task);
    }
    server.close();
    await Promise.all(serving);
  } finally {
    server.close();
    for (const conn of clients) conn.close();
  }
  return 0;
}

/** Echoes one connection until its end of stream; a broken client ends only itself. */
async function echo(conn: StreamSocket, addr: Address): Promise<void> {
  const peer = endpointOf(addr);
  console.error(`connection from ${peer}`);
  let echoed = 0;
  try {
    for (let data = await conn.recv(IO_CHUNK); data.length > 0; data = await conn.recv(IO_CHUNK)) {
      await conn.sendall(data);
      echoed += data.length;
    }
    console.error(`closed ${peer} after ${echoed} bytes`);
  } catch (err) {
    if (conn.fileno() !== -1) console.error(`dropped ${peer}: ${oneLine(explain(err))}`);
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------------------
// connect

async function connect(values: Values, [hostText, portText]: string[]): Promise<number> {
  const host = hostArg(hostText);
  const port = portArg(portText, "PORT", 1);
  const timeout = secondsArg(values.timeout as string | undefined, "--timeout") ?? null;
  const target = formatEndpoint(host, port);
  let sock: StreamSocket;
  try {
    sock = await createConnection([host, port], { timeout });
  } catch (err) {
    throw new Failure(`cannot connect to ${target}: ${explain(err)}${connectHint(err)}`);
  }
  try {
    sock.settimeout(null);
    // Sending may stop early (the peer closed its read side); what decides
    // the exit is the receiving side reaching the peer's end of stream.
    const sending = copyStdinTo(sock);
    sending.catch(() => {});
    await copyToStdout(sock, target);
    return 0;
  } finally {
    sock.close();
  }
}

function connectHint(err: unknown): string {
  if (err instanceof ConnectionRefusedError) return "; check that a server listens there";
  if (err instanceof gaierror) return "; check the host name";
  if (err instanceof TimeoutError) return "; check the address, or raise --timeout";
  return "";
}

async function copyStdinTo(sock: StreamSocket): Promise<void> {
  const buf = new Uint8Array(IO_CHUNK);
  for (let n = await Deno.stdin.read(buf); n !== null; n = await Deno.stdin.read(buf)) {
    // sendall resolves once the bytes are written, so buf can be reused.
    await sock.sendall(buf.subarray(0, n));
  }
  sock.shutdown(SHUT_WR);
}

async function copyToStdout(sock: StreamSocket, target: string): Promise<void> {
  for (;;) {
    let data: Uint8Array;
    try {
      data = await sock.recv(IO_CHUNK);
    } catch (err) {
      throw new Failure(`connection to ${target} failed: ${explain(err)}`);
    }
    if (data.length === 0) return;
    try {
      await writeAll(Deno.stdout, data);
    } catch (err) {
      throw new Failure(`cannot write to stdout: ${explain(err)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// udp-listen / udp-send

async function udpListen(values: Values): Promise<number> {
  const host = hostArg(values.host as string);
  const port = portArg(values.port as string, "--port");
  const count = countArg(values.count as string | undefined, "--count");
  const sock = socket(familyOfHost(host), SOCK_DGRAM);
  let stopping = false;
  using _signals = onStopSignal(() => {
    stopping = true;
    sock.close();
  });
  try {
    try {
      sock.bind([host, port]);
    } catch (err) {
      throw new Failure(
        `cannot listen on udp ${formatEndpoint(host, port)}: ${explain(err)}${bindHint(err)}`,
      );
    }
    console.error(`listening on udp ${endpointOf(sock.getsockname())}`);
    for (let received = 0; count === undefined || received < count; received++) {
      let data: Uint8Array, addr: Address;
      try {
        [data, addr] = await sock.recvfrom(MAX_DATAGRAM_IPV6);
      } catch (err) {
        if (stopping) break;
        throw err;
      }
      const line = values.raw ? data : encoder.encode(`${endpointOf(addr)} ${pyBytes(data)}\n`);
      await writeAll(Deno.stdout, line);
      if (values.echo) await echoDatagram(sock, data, addr);
    }
  } finally {
    sock.close();
  }
  return 0;
}

async function echoDatagram(sock: DatagramSocket, data: Uint8Array, addr: Address) {
  try {
    await sock.sendto(data, addr);
  } catch (err) {
    throw new Failure(`cannot echo to ${endpointOf(addr)}: ${explain(err)}`);
  }
}

/** Python's `repr(bytes)`: b'...' with \\xNN escapes, as a Python UDP server prints. */
function pyBytes(data: Uint8Array): string {
  const quote = data.includes(0x27) && !data.includes(0x22) ? '"' : "'";
  let out = "";
  for (const byte of data) {
    if (byte === 0x5c) out += "\\\\";
    else if (byte === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (byte === 0x09) out += "\\t";
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `b${quote}${out}${quote}`;
}

async function udpSend(values: Values, [hostText, portText, message]: string[]): Promise<number> {
  const host = hostArg(hostText);
  const port = portArg(portText, "PORT", 1);
  const timeout = secondsArg(values.timeout as string, "--timeout")!;
  const data = message === "-" ? await readStdin(MAX_DATAGRAM_IPV6 + 1) : encoder.encode(message);
  const target = formatEndpoint(host, port);
  await using sock = socket(familyOfHost(host), SOCK_DGRAM);
  try {
    await sock.sendto(data, [host, port]);
  } catch (err) {
    throw new Failure(`cannot send ${data.length} bytes to ${target}: ${explain(err)}`);
  }
  if (!values.reply) return 0;
  sock.settimeout(timeout);
  let reply: Uint8Array;
  try {
    [reply] = await sock.recvfrom(MAX_DATAGRAM_IPV6);
  } catch (err) {
    if (err instanceof TimeoutError) {
      throw new Failure(`no reply from ${target} within ${timeout} s; is it listening?`);
    }
    throw new Failure(`no reply from ${target}: ${explain(err)}`);
  }
  await writeAll(Deno.stdout, reply);
  return 0;
}

/** All of stdin, refusing more than `limit - 1` bytes. */
async function readStdin(limit: number): Promise<Uint8Array> {
  const buf = new Uint8Array(limit);
  let length = 0;
  while (length < limit) {
    const n = await Deno.stdin.read(buf.subarray(length));
    if (n === null) return buf.slice(0, length);
    length += n;
  }
  throw new Failure(
    `stdin holds more than one datagram can carry (${MAX_DATAGRAM_IPV6} bytes); send less`,
  );
}

// ---------------------------------------------------------------------------
// send-file / recv-file
//
// The exchange, every message framed by sendMsg/recvMsg (4-byte big-endian length):
//   sender   -> {"name", "size", "sha256"}       JSON header
//   receiver -> {"ok": true} | {"ok": false, "error"}
//   sender   -> chunks of data (each 1..FILE_MESSAGE_MAX bytes), then one empty message
//   receiver -> {"ok": true, "sha256", "size"} | {"ok": false, "error"}
// The first answer spares sending a whole file to a receiver that refuses it.

interface FileHeader {
  name: string;
  size: number;
  sha256: string;
}

interface Reply {
  ok: boolean;
  error?: string;
  sha256?: string;
  size?: number;
}

async function sendFile(values: Values, [hostText, portText, path]: string[]): Promise<number> {
  const host = hostArg(hostText);
  const port = portArg(portText, "PORT", 1);
  const timeout = secondsArg(values.timeout as string, "--timeout")!;
  const target = formatEndpoint(host, port);
  const name = baseName(path);
  const { size, sha256 } = await describeFile(path);
  let sock: StreamSocket;
  try {
    sock = await createConnection([host, port], { timeout });
  } catch (err) {
    throw new Failure(`cannot connect to ${target}: ${explain(err)}${connectHint(err)}`);
  }
  await using _sock = sock;
  await using file = await Deno.open(path);
  try {
    await sendMsg(sock, JSON.stringify({ name, size, sha256 } satisfies FileHeader));
    const accepted = await readReply(sock);
    if (!accepted.ok) throw new Failure(`${target} refused ${name}: ${accepted.error}`);
    await sendChunks(sock, file, size, name);
    const done = await readReply(sock);
    if (!done.ok) throw new Failure(`${target} did not keep ${name}: ${done.error}`);
    if (done.sha256 !== sha256) {
      throw new Failure(`${target} computed sha256 ${done.sha256}, expected ${sha256}`);
    }
  } catch (err) {
    if (err instanceof Failure) throw err;
    throw new Failure(`sending ${name} to ${target} failed: ${transferError(err)}`);
  }
  console.log(`sha256 OK ${sha256}`);
  return 0;
}

function baseName(path: string): string {
  const name = path.replace(/[/\\]+$/, "").split(/[/\\]/).pop() ?? "";
  if (name === "" || name === "." || name === "..") {
    throw new UsageError(`PATH must name a file, got "${path}"`);
  }
  return name;
}

/** Size and SHA-256 of a regular file, read in chunks so any size fits in memory. */
async function describeFile(path: string): Promise<{ size: number; sha256: string }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    throw new Failure(`cannot read ${path}: ${explain(err)}`);
  }
  using _file = file;
  if (!(await file.stat()).isFile) throw new Failure(`cannot send ${path}: not a regular file`);
  // node:crypto hashes incrementally; crypto.subtle.digest takes the whole
  // input at once (no streaming digest yet: w3c/webcrypto#73).
  const hash = createHash("sha256");
  const buf = new Uint8Array(FILE_CHUNK);
  let size = 0;
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    hash.update(buf.subarray(0, n));
    size += n;
  }
  return { size, sha256: hash.digest("hex") };
}

async function sendChunks(sock: StreamSocket, file: Deno.FsFile, size: number, name: string) {
  const progress = new Progress(`${name}`, size);
  const buf = new Uint8Array(FILE_CHUNK);
  let sent = 0;
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    if (n === 0) continue;
    // sendMsg sends a chunk this size without copying it, and resolves once
    // it is written: buf can be reused.
    await sendMsg(sock, buf.subarray(0, n));
    sent += n;
    progress.update(sent);
  }
  if (sent !== size) throw new Failure(`${name} changed size while being sent; send it again`);
  await sendMsg(sock, new Uint8Array(0));
  progress.finish();
}

async function readReply(sock: StreamSocket): Promise<Reply> {
  const message = await recvMsg(sock, { maxMessage: CONTROL_MESSAGE_MAX });
  if (message === null) throw new Failure("the receiver closed the connection without an answer");
  const reply = parseJson(message) as Partial<Reply> | null;
  if (reply === null || typeof reply !== "object" || typeof reply.ok !== "boolean") {
    throw new Failure("the receiver answered something that is not a recv-file reply");
  }
  // The peer's words reach the user's terminal: no escape sequences, bounded length.
  return {
    ok: reply.ok,
    error: printable(String(reply.error ?? "")),
    sha256: reply.sha256 === undefined ? undefined : printable(String(reply.sha256)),
  };
}

/** Text from a peer made safe to print: control characters escaped, at most 300 characters. */
function printable(text: string): string {
  const short = text.length > 300 ? `${text.slice(0, 300)}...` : text;
  return short.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
}

/** Words a transfer error for the user. */
function transferError(err: unknown): string {
  if (err instanceof TimeoutError) return "the peer went silent (raise --timeout if it is slow)";
  if (err instanceof IncompleteReadError) return "the peer closed the connection mid-message";
  if (err instanceof MessageTooLargeError) {
    return `the peer announced a ${err.size}-byte message, more than the ${err.maxMessage} allowed`;
  }
  return explain(err);
}

async function recvFile(values: Values): Promise<number> {
  const host = hostArg(values.host as string);
  const port = portArg(values.port as string, "--port");
  const dir = values.dir as string;
  const maxSize = sizeArg(values["max-size"] as string | undefined, "--max-size") ??
    DEFAULT_MAX_SIZE;
  const timeout = secondsArg(values.timeout as string, "--timeout")!;
  await checkDir(dir);
  await needWrite(dir);
  const server = listenTcp(host, port);
  let conn: StreamSocket | null = null;
  let stopping = false;
  using _signals = onStopSignal(() => {
    stopping = true;
    server.close();
    conn?.close();
  });
  try {
    console.error(`listening on ${endpointOf(server.getsockname())}`);
    let addr: Address;
    try {
      [conn, addr] = await server.accept();
    } catch (err) {
      if (stopping) throw new Failure("stopped before a file arrived");
      throw err;
    }
    server.close();
    conn.settimeout(timeout);
    const peer = endpointOf(addr);
    console.error(`connection from ${peer}`);
    const options = { dir, maxSize, overwrite: values.overwrite === true };
    try {
      const { path, sha256 } = await receiveInto(conn, options);
      console.log(`sha256 OK ${sha256} ${path}`);
      return 0;
    } catch (err) {
      if (stopping) throw new Failure("stopped during the transfer; nothing was written");
      if (err instanceof Failure) throw err;
      throw new Failure(
        `receiving from ${peer} failed: ${transferError(err)}; nothing was written`,
      );
    }
  } finally {
    server.close();
    conn?.close();
  }
}

async function checkDir(dir: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (err) {
    const hint = err instanceof Deno.errors.NotFound ? "; create it first" : "";
    throw new Failure(`cannot use --dir ${dir}: ${explain(err)}${hint}`);
  }
  if (!info.isDirectory) throw new Failure(`cannot use --dir ${dir}: not a directory`);
}

/**
 * Fails now, before listening, when files cannot be written into `dir`: the
 * sender would otherwise learn it only after being told to go ahead.
 */
async function needWrite(dir: string): Promise<void> {
  const descriptor = { name: "write", path: dir } as const;
  let { state } = await Deno.permissions.query(descriptor);
  if (state === "prompt") ({ state } = await Deno.permissions.request(descriptor));
  if (state !== "granted") {
    throw new Failure(`write access to ${dir} denied; run again with --allow-write=${dir}`);
  }
}

interface ReceiveOptions {
  dir: string;
  maxSize: number;
  overwrite: boolean;
}

/** Runs the receiver's side of one transfer; the file exists under its name only when checked. */
async function receiveInto(
  conn: StreamSocket,
  options: ReceiveOptions,
): Promise<{ path: string; sha256: string }> {
  const message = await recvMsg(conn, { maxMessage: CONTROL_MESSAGE_MAX });
  if (message === null) throw new Failure("the sender closed the connection before the header");
  const header = await acceptHeader(conn, message, options);
  const path = joinPath(options.dir, header.name);
  const temp = joinPath(options.dir, `.pysock-${crypto.randomUUID()}.part`);
  let kept = false;
  try {
    const sha256 = await receiveData(conn, temp, header);
    if (sha256 !== header.sha256) {
      await refuse(conn, `sha256 mismatch: got ${sha256}, expected ${header.sha256}`);
    }
    await keep(conn, temp, path, options.overwrite);
    kept = true;
    await sendMsg(conn, JSON.stringify({ ok: true, sha256, size: header.size }));
    return { path, sha256 };
  } finally {
    if (!kept) await Deno.remove(temp).catch(() => {});
  }
}

/** Checks the header, answers it, and returns it once accepted. */
async function acceptHeader(
  conn: StreamSocket,
  message: Uint8Array,
  options: ReceiveOptions,
): Promise<FileHeader> {
  const header = parseJson(message) as Partial<FileHeader> | null;
  if (
    header === null || typeof header !== "object" || typeof header.name !== "string" ||
    !Number.isSafeInteger(header.size) || (header.size as number) < 0 ||
    typeof header.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(header.sha256)
  ) {
    await refuse(conn, "the header is not a send-file header (name, size, sha256)");
  }
  const { name, size, sha256 } = header as FileHeader;
  const unsafe = unsafeName(name);
  if (unsafe !== null) await refuse(conn, `refused the name ${JSON.stringify(name)}: ${unsafe}`);
  if (size > options.maxSize) {
    await refuse(conn, `refused ${name}: ${size} bytes is over --max-size ${options.maxSize}`);
  }
  if (!options.overwrite && await exists(joinPath(options.dir, name))) {
    await refuse(
      conn,
      `refused ${name}: it already exists (receive with --overwrite to replace it)`,
    );
  }
  await sendMsg(conn, JSON.stringify({ ok: true }));
  return { name, size, sha256 };
}

/** Why a name the peer sent cannot be written, or null when it is a plain file name. */
function unsafeName(name: string): string | null {
  if (name === "" || name === "." || name === "..") return "not a file name";
  if (name.includes("/") || name.includes("\\")) return "it contains a path separator";
  if (name.includes("..")) return 'it contains ".."';
  if (name.includes("\0")) return "it contains NUL";
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return "it contains control characters";
  if (/^[A-Za-z]:/.test(name)) return "it is a drive path";
  if (encoder.encode(name).length > NAME_MAX_BYTES) return `it is over ${NAME_MAX_BYTES} bytes`;
  return null;
}

/** Tells the sender why, then fails with the same words. */
async function refuse(conn: StreamSocket, error: string): Promise<never> {
  await sendMsg(conn, JSON.stringify({ ok: false, error })).catch(() => {});
  throw new Failure(error);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** Receives the data messages into a new file at `temp`; returns their SHA-256. */
async function receiveData(conn: StreamSocket, temp: string, header: FileHeader): Promise<string> {
  await using file = await Deno.open(temp, { write: true, createNew: true });
  const hash = createHash("sha256");
  const progress = new Progress(header.name, header.size);
  let received = 0;
  for (;;) {
    const chunk = await recvMsg(conn, { maxMessage: FILE_MESSAGE_MAX });
    if (chunk === null) {
      throw new Failure(
        `the sender closed after ${received} of ${header.size} bytes; nothing was written`,
      );
    }
    if (chunk.length === 0) break;
    received += chunk.length;
    if (received > header.size) {
      await refuse(conn, `the sender sent more than the ${header.size} bytes it announced`);
    }
    hash.update(chunk);
    await writeAll(file, chunk);
    progress.update(received);
  }
  progress.finish();
  if (received !== header.size) {
    await refuse(conn, `the sender sent ${received} of the ${header.size} bytes it announced`);
  }
  return hash.digest("hex");
}

/** Gives the checked temporary file its name, never replacing a file without --overwrite. */
async function keep(conn: StreamSocket, temp: string, path: string, overwrite: boolean) {
  if (overwrite) {
    await Deno.rename(temp, path);
    return;
  }
  // link() fails when the name exists, so a file that appeared during the
  // transfer is not replaced; rename() would replace it.
  try {
    await Deno.link(temp, path);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      await refuse(conn, `refused ${path}: it appeared during the transfer`);
    }
    throw err;
  }
  await Deno.remove(temp);
}

// ---------------------------------------------------------------------------
// Progress

/** A progress line on stderr, redrawn in place with \r; silent unless stderr is a terminal. */
class Progress {
  #label: string;
  #total: number;
  #start = performance.now();
  #drawn = -Infinity;
  #done = 0;
  #enabled = Deno.stderr.isTerminal();

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
  }

  update(done: number): void {
    this.#done = done;
    const now = performance.now();
    // Redraw at most ten times a second: a terminal write per chunk would
    // cost more than the chunk.
    if (!this.#enabled || now - this.#drawn < 100) return;
    this.#drawn = now;
    this.#draw(now);
  }

  finish(): void {
    if (!this.#enabled) return;
    this.#draw(performance.now());
    Deno.stderr.writeSync(encoder.encode("\n"));
  }

  #draw(now: number): void {
    const seconds = Math.max((now - this.#start) / 1000, 0.001);
    const percent = this.#total === 0 ? 100 : Math.floor((this.#done / this.#total) * 100);
    const line = `\r${this.#label}: ${formatBytes(this.#done)} / ${formatBytes(this.#total)}` +
      `  ${percent}%  ${formatBytes(this.#done / seconds)}/s\x1b[K`;
    Deno.stderr.writeSync(encoder.encode(line));
  }
}

function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  for (; n >= 1024 && unit < units.length - 1; unit++) n /= 1024;
  return unit === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[unit]}`;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
