/**
 * Seed 004's UDP section (`socket(AF_INET, SOCK_DGRAM)`, `recvfrom`, `sendto`) as a
 * server: it answers every datagram with the same bytes upper-cased (ASCII letters only,
 * as Python's `bytes.upper()`, so binary data keeps its length) and prints what it got,
 * exactly as its Python twin `tests/py/udp_echo_server.py` does. UDP has no connection:
 * one socket serves every client, each datagram carrying its sender's address.
 *
 * Stops on Ctrl-C / SIGTERM, or after --count datagrams.
 *
 * Run: `deno task udp-echo-server` (then `deno task udp-client` in another terminal).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { AF_INET, OSError, SOCK_DGRAM, socket } from "../mod.ts";
import { onShutdown } from "./_cli.ts";
import { repr, upper } from "./_py.ts";

const USAGE = `Usage: deno run --allow-net=127.0.0.1 examples/udp_echo_server.ts [options]

Seed 004 UDP server: answer every datagram upper-cased, printing what arrived.

  --host HOST     address to bind (default 127.0.0.1)
  --port PORT     port to bind; 0 picks a free one (default 9999)
  --count N       stop after answering N datagrams (default: until Ctrl-C)
  -h, --help      show this help

Prints the port it bound as its first line.`;

const { host, port, count } = args();

// Create a UDP socket and bind it: from now on datagrams to host:port queue up for us.
const u = socket(AF_INET, SOCK_DGRAM);
try {
  u.bind([host, port]);
} catch (err) {
  if (!(err instanceof OSError)) throw err;
  console.error(`udp_echo_server.ts: cannot bind ${host}:${port}: ${err.message}`);
  Deno.exit(1);
}

let stopping = false;
using _signals = onShutdown(() => {
  stopping = true;
  u.close(); // a waiting recvfrom rejects with EBADF and the loop ends
});
console.log(u.getsockname()[1]);

for (let answered = 0; count === null || answered < count; answered++) {
  let received;
  try {
    received = await u.recvfrom(65535);
  } catch (err) {
    if (stopping) break;
    throw err;
  }
  const [data, addr] = received;
  console.log("received", repr(data), "from", repr(addr));
  await u.sendto(upper(data), addr);
}
u.close();

function args(): { host: string; port: number; count: number | null } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "9999" },
        count: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const count = values.count === undefined ? null : integer("count", values.count, 1, 2 ** 31);
  return { host: values.host, port: integer("port", values.port, 0, 65535), count };
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    usageError(`--${name} must be an integer ${min}-${max}, got "${text}"`);
  }
  return value;
}

function usageError(message: string): never {
  console.error(`udp_echo_server.ts: ${message} (try --help)`);
  Deno.exit(2);
}
