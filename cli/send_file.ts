// `pysock send-file`: send a file to a `pysock recv-file`, checked with SHA-256.

import { createHash } from "node:crypto";
import { formatEndpoint } from "../_address.ts";
import { recvMsg, sendMsg } from "../framing.ts";
import { createConnection, type StreamSocket } from "../socket.ts";
import { type Command, hostArg, portArg, PROG, secondsArg, type Values } from "./_args.ts";
import { connectHint, explain, Failure, UsageError } from "./_errors.ts";
import { Progress } from "./_progress.ts";
import {
  CONTROL_MESSAGE_MAX,
  DEFAULT_TRANSFER_TIMEOUT,
  FILE_CHUNK,
  type FileHeader,
  parseJson,
  type Reply,
  transferError,
} from "./_transfer.ts";

/**
 * `pysock send-file [--timeout SECONDS] HOST PORT PATH`.
 *
 * @example
 * ```ts
 * import { sendFileCommand } from "./send_file.ts";
 * import { parse } from "./_args.ts";
 * import { UsageError } from "./_errors.ts";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const { values, positionals } = parse(sendFileCommand, ["127.0.0.1", "9002", "./"])!;
 * equal(values.timeout, "30");
 * await rejects(
 *   sendFileCommand.run(values, positionals),
 *   new UsageError('PATH must name a file, got "./"'),
 * );
 * ```
 */
export const sendFileCommand: Command = {
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
};

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
    // stat first: opening a FIFO would block until something writes to it.
    if (!(await Deno.stat(path)).isFile) {
      throw new Failure(`cannot send ${path}: not a regular file`);
    }
    file = await Deno.open(path);
  } catch (err) {
    if (err instanceof Failure) throw err;
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
