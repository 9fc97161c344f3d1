// `pysock udp-send`: send one UDP datagram, optionally wait for one back.

import { familyOfHost, formatEndpoint } from "../_address.ts";
import { TimeoutError } from "../errors.ts";
import { SOCK_DGRAM, socket } from "../socket.ts";
import { MAX_DATAGRAM_IPV4, MAX_DATAGRAM_IPV6 } from "../udp.ts";
import { type Command, hostArg, portArg, secondsArg, type Values } from "./_args.ts";
import { explain, Failure } from "./_errors.ts";
import { encoder, writeAll } from "./_io.ts";

/**
 * `pysock udp-send [--reply] [--timeout SECONDS] HOST PORT MESSAGE|-`.
 *
 * @example
 * ```ts
 * import { udpSendCommand } from "./udp_send.ts";
 * import { parse } from "./_args.ts";
 * import { AF_INET, SOCK_DGRAM, socket } from "../mod.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * await using listener = socket(AF_INET, SOCK_DGRAM);
 * listener.bind(["127.0.0.1", 0]);
 * const [, port] = listener.getsockname() as [string, number];
 * const { values, positionals } = parse(udpSendCommand, ["127.0.0.1", String(port), "ping"])!;
 * equal(await udpSendCommand.run(values, positionals), 0);
 * const [data] = await listener.recvfrom(1024);
 * deepEqual(data, new TextEncoder().encode("ping"));
 * ```
 */
export const udpSendCommand: Command = {
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
};

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
