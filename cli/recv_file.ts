// `pysock recv-file`: receive one file from `pysock send-file`, checked with
// SHA-256, never writing outside --dir.

import { createHash } from "node:crypto";
import { recvMsg, sendMsg } from "../framing.ts";
import { type Address, type StreamSocket } from "../socket.ts";
import {
  type Command,
  DEFAULT_HOST,
  hostArg,
  portArg,
  PROG,
  secondsArg,
  sizeArg,
  type Values,
} from "./_args.ts";
import { explain, Failure } from "./_errors.ts";
import { encoder, endpointOf, listenTcp, onStopSignal, writeAll } from "./_io.ts";
import { Progress } from "./_progress.ts";
import {
  CONTROL_MESSAGE_MAX,
  DEFAULT_TRANSFER_TIMEOUT,
  FILE_MESSAGE_MAX,
  type FileHeader,
  parseJson,
  transferError,
} from "./_transfer.ts";

const DEFAULT_MAX_SIZE = 4 * 1024 ** 3;
const NAME_MAX_BYTES = 255;

/**
 * `pysock recv-file [--host HOST] [--port PORT] [--dir DIR] [--overwrite] [--max-size BYTES]
 * [--timeout SECONDS]`.
 *
 * @example
 * ```ts
 * import { recvFileCommand } from "./recv_file.ts";
 * import { parse } from "./_args.ts";
 * import { Failure } from "./_errors.ts";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const { values } = parse(recvFileCommand, ["--dir", "./no-such-dir"])!;
 * equal(values.host, "127.0.0.1");
 * equal(values.overwrite, false);
 * await rejects(
 *   recvFileCommand.run(values, []),
 *   (err) => err instanceof Failure && err.message.endsWith("; create it first"),
 * );
 * ```
 */
export const recvFileCommand: Command = {
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
};

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
  if (/[\x00-\x1f\x7f-\x9f]/.test(name)) return "it contains control characters";
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
  // link() fails when the name exists, so a file that appeared during the
  // transfer is not replaced; rename() would replace it. Either way the
  // sender, waiting for the last answer, is told why the file was not kept.
  try {
    await (overwrite ? Deno.rename(temp, path) : Deno.link(temp, path));
  } catch (err) {
    if (!overwrite && err instanceof Deno.errors.AlreadyExists) {
      await refuse(conn, `refused ${path}: it appeared during the transfer`);
    }
    await refuse(conn, `cannot write ${path}: ${explain(err)}`);
  }
  if (!overwrite) await Deno.remove(temp);
}
