// `pysock connect`: stdin to a TCP peer, the peer to stdout (like nc).

import { formatEndpoint } from "../_address.ts";
import { createConnection, SHUT_WR, type StreamSocket } from "../socket.ts";
import { type Command, hostArg, portArg, secondsArg, type Values } from "./_args.ts";
import { connectHint, explain, Failure } from "./_errors.ts";
import { IO_CHUNK, writeAll } from "./_io.ts";
import { TLS_CLIENT_HELP, TLS_CLIENT_OPTIONS, tlsClient } from "../_ssl_cli.ts";

/**
 * `pysock connect [--timeout SECONDS] HOST PORT`.
 *
 * @example
 * ```ts
 * import { connectCommand } from "./connect.ts";
 * import { parse } from "./_args.ts";
 * import { UsageError } from "./_errors.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * const { positionals } = parse(connectCommand, ["[::1]", "9000"])!;
 * deepEqual(positionals, ["[::1]", "9000"]);
 * throws(() => parse(connectCommand, ["127.0.0.1"]), new UsageError("missing PORT"));
 * ```
 */
export const connectCommand: Command = {
  usage: "connect [--timeout SECONDS] [--tls [--cafile FILE] [--insecure]] HOST PORT",
  summary: "stdin to a TCP peer, the peer to stdout (like nc)",
  help: `Connects to HOST:PORT, copies stdin to the connection and the connection to
stdout. At the end of stdin it half-closes (shutdown SHUT_WR), so the peer
sees end of stream, and goes on printing what arrives until the peer closes.

Options:
  --timeout SECONDS  give up connecting after this long (default: the system's)
${TLS_CLIENT_HELP}`,
  options: { timeout: { type: "string" }, ...TLS_CLIENT_OPTIONS },
  positionals: ["HOST", "PORT"],
  run: connect,
};

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
    // The TLS options wrap the connection (it closes the socket on failure).
    sock = await tlsClient(sock, host, values);
  } catch (err) {
    throw new Failure((err as Error).message);
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
