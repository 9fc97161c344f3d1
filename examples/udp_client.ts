/**
 * Seed 004's UDP section as a client: reads lines from stdin until end of input, sends
 * each one as a datagram (`sendto`) and prints the reply (`recvfrom`), as its Python twin
 * `tests/py/udp_client.py` does. UDP may lose a datagram, so each reply is awaited for
 * --timeout seconds; a missing one is reported and the client goes on (and exits 1 at
 * the end). A reply that comes after its timeout is not lost: it is read as the answer
 * to the next line, exactly as in Python.
 *
 * Run: `deno task udp-client` (with `deno task udp-echo-server` running), type lines,
 * end with Ctrl-D. Or: `printf 'hello\nworld\n' | deno task udp-client`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { AF_INET, OSError, SOCK_DGRAM, socket, TimeoutError } from "../mod.ts";
import { repr } from "./_py.ts";

const USAGE = `Usage: deno run --allow-net=127.0.0.1 examples/udp_client.ts [options] < lines

Seed 004 UDP client: send each line of stdin as a datagram, print each reply.

  --host HOST       server address (default 127.0.0.1)
  --port PORT       server port (default 9999)
  --timeout SECS    how long to wait for each reply (default 2)
  -h, --help        show this help`;

const { host, port, timeout } = args();
const server: [string, number] = [host, port];

// Create a UDP socket; the first sendto gives it a free port for the replies.
const u = socket(AF_INET, SOCK_DGRAM);
u.settimeout(timeout);
let missing = 0;
try {
  for await (const line of lines(Deno.stdin.readable)) {
    await u.sendto(line, server);
    let data;
    try {
      [data] = await u.recvfrom(65535);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      console.log("timed out: no reply from", repr(server));
      missing++;
      continue;
    }
    console.log(new TextDecoder().decode(data));
  }
} catch (err) {
  if (!(err instanceof OSError)) throw err;
  console.error(`udp_client.ts: ${err.message}`);
  Deno.exit(1);
} finally {
  u.close();
}
if (missing > 0) Deno.exit(1);

/** The lines of `stream` without their newlines, as Python's `for line in sys.stdin`. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  if (pending.length > 0) yield pending;
}

function args(): { host: string; port: number; timeout: number } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "9999" },
        timeout: { type: "string", default: "2" },
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
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) {
    usageError(`--port must be an integer 1-65535, got "${values.port}"`);
  }
  const timeout = Number(values.timeout);
  if (values.timeout.trim() === "" || !(timeout > 0) || !Number.isFinite(timeout)) {
    usageError(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
  }
  return { host: values.host, port, timeout };
}

function usageError(message: string): never {
  console.error(`udp_client.ts: ${message} (try --help)`);
  Deno.exit(2);
}
