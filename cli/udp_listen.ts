// `pysock udp-listen`: print each UDP datagram with its sender.

import { familyOfHost, formatEndpoint } from "../_address.ts";
import { type Address, SOCK_DGRAM, socket } from "../socket.ts";
import { type DatagramSocket, MAX_DATAGRAM_IPV6 } from "../udp.ts";
import { type Command, countArg, DEFAULT_HOST, hostArg, portArg, type Values } from "./_args.ts";
import { bindHint, explain, Failure } from "./_errors.ts";
import { encoder, endpointOf, onStopSignal, writeAll } from "./_io.ts";

/**
 * `pysock udp-listen [--host HOST] [--port PORT] [--raw] [--echo] [--count N]`.
 *
 * @example
 * ```ts
 * import { udpListenCommand } from "./udp_listen.ts";
 * import { parse } from "./_args.ts";
 * import { equal } from "node:assert/strict";
 *
 * const { values } = parse(udpListenCommand, ["--echo", "--count", "1"])!;
 * equal(values.echo, true);
 * equal(values.raw, false);
 * equal(values.count, "1");
 * ```
 */
export const udpListenCommand: Command = {
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
};

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
      try {
        await writeAll(Deno.stdout, line);
      } catch (err) {
        throw new Failure(`cannot write to stdout: ${explain(err)}`);
      }
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
