/**
 * Seed 002, SocketClinet.py (one exchange): connects, sends b'123' and closes.
 *
 * Run: `deno task seed002-oneshot-client` (with `seed002-oneshot-server` running).
 *
 * @module
 */
import { socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";

const { host, port } = exampleArgs({
  file: "oneshot_client.ts",
  summary: "Seed 002 one-shot client: connect, send b'123', close.",
  port: 9999,
  role: "client",
});

// Create the socket and connect to the server's address.
const client = socket();
await client.connect([host, port]);
await client.send("123"); // b'123': a string goes out as UTF-8
client.close();
