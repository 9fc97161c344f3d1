/**
 * A real protocol over pysock: a small Redis client speaking RESP (the Redis
 * serialization protocol). It sends PING, SET, GET, INCR and a few more, and prints each
 * reply the way `redis-cli` does.
 *
 * RESP replies are lines ending in `\r\n`, except bulk strings, which announce their
 * length on a line and then carry exactly that many bytes (which may hold `\r\n`).
 * framing.ts has both reads: `recvLine` for the lines, `recvExactly` for the bodies.
 *
 * Run: `deno task redis-ping` (needs a redis-server on 127.0.0.1:6379), or
 * `deno run --allow-net=127.0.0.1:PORT examples/redis_ping.ts --port PORT`.
 *
 * @module
 */
import { createConnection, OSError, type StreamSocket } from "../mod.ts";
import { recvExactly, recvLine } from "../framing.ts";
import { exampleArgs } from "./_cli.ts";

/** What the server answered: a simple string, bulk string, integer, nil, array or error. */
type Reply = string | Uint8Array | number | null | Reply[] | RedisError;

/** An error reply (`-ERR ...`): the server's answer, not a failed connection. */
class RedisError {
  constructor(readonly message: string) {}
}

/** The longest bulk string accepted: Redis's own proto-max-bulk-len default, 512 MB. */
const MAX_BULK = 512 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A command as RESP sends it: an array of bulk strings. */
function encodeCommand(args: string[]): Uint8Array {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${encoder.encode(arg).length}\r\n${arg}\r\n`;
  return encoder.encode(out);
}

/** Reads one reply; arrays read their items the same way. */
async function readReply(sock: StreamSocket): Promise<Reply> {
  const line = await recvLine(sock);
  if (line.length === 0) throw new Error("redis-server closed the connection");
  if (line.length < 3 || line[line.length - 2] !== 0x0d) {
    throw new Error(`not a RESP line: ${JSON.stringify(decoder.decode(line))}`);
  }
  const type = String.fromCharCode(line[0]);
  const rest = decoder.decode(line.subarray(1, line.length - 2));
  switch (type) {
    case "+":
      return rest;
    case "-":
      return new RedisError(rest);
    case ":":
      return Number(rest);
    case "$": {
      const length = Number(rest);
      if (length === -1) return null;
      // The server announces the length: cap it before recvExactly reserves that much.
      if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BULK) {
        throw new Error(`bulk string length ${JSON.stringify(rest)} is not 0 to ${MAX_BULK}`);
      }
      // The body may contain \r\n itself, so read by length, then drop the trailing \r\n.
      const body = await recvExactly(sock, length + 2);
      return body.subarray(0, length);
    }
    case "*": {
      const count = Number(rest);
      if (count < 0) return null;
      const items: Reply[] = [];
      for (let i = 0; i < count; i++) items.push(await readReply(sock));
      return items;
    }
  }
  throw new Error(`unknown RESP type ${JSON.stringify(type)}`);
}

/** A reply as redis-cli prints it. */
function show(reply: Reply): string {
  if (reply === null) return "(nil)";
  if (reply instanceof RedisError) return `(error) ${reply.message}`;
  if (typeof reply === "number") return `(integer) ${reply}`;
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return JSON.stringify(decoder.decode(reply));
  return reply.map((item, i) => `${i + 1}) ${show(item)}`).join("\n");
}

/** Sends one command and waits for its reply. */
async function command(sock: StreamSocket, ...args: string[]): Promise<Reply> {
  await sock.sendall(encodeCommand(args));
  return await readReply(sock);
}

const { host, port } = exampleArgs({
  file: "redis_ping.ts",
  summary: "A Redis client over pysock: PING, SET, GET, INCR, printed like redis-cli.",
  port: 6379,
  role: "client",
});

let sock: StreamSocket;
try {
  // A 5 s timeout on connect and on every read: a silent server ends the run.
  sock = await createConnection([host, port], { timeout: 5 });
} catch (err) {
  if (!(err instanceof OSError)) throw err;
  console.error(
    `redis_ping.ts: cannot connect to ${host}:${port}: ${err.message} ` +
      `(is redis-server running? start one with: redis-server --port ${port})`,
  );
  Deno.exit(1);
}

const COMMANDS = [
  ["PING"],
  ["SET", "pysock:greeting", "hello from pysock"],
  ["GET", "pysock:greeting"],
  ["SET", "pysock:counter", "41"],
  ["INCR", "pysock:counter"],
  ["INCR", "pysock:greeting"],
  ["GET", "pysock:missing"],
  ["DEL", "pysock:greeting", "pysock:counter"],
];
try {
  for (const args of COMMANDS) {
    const reply = await command(sock, ...args);
    console.log(`> ${args.map((arg) => /\s/.test(arg) ? JSON.stringify(arg) : arg).join(" ")}`);
    console.log(show(reply));
  }
} finally {
  sock.close();
}
