/**
 * Seed 002, SocketClient.py (many exchanges): reads lines from stdin after a ">>>:"
 * prompt, sends each non-empty line and prints the server's reply; stops at end of input
 * (Ctrl-D), where the seed's `input()` would raise `EOFError`.
 *
 * Run: `deno task seed002-multiround-client` with `seed002-multiround-server` or
 * `seed002-multiconn-server` running.
 *
 * @module
 */
import { socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";
import { input, repr } from "./_py.ts";

const { host, port } = exampleArgs({
  file: "multiround_client.ts",
  summary: "Seed 002 interactive client: send each stdin line, print the reply; stop at EOF.",
  port: 9999,
  role: "client",
});

const client = socket();
await client.connect([host, port]);
while (true) {
  const line = await input(">>>:");
  if (line === null) break;
  const msg = line.trim();
  if (msg.length === 0) continue;
  await client.send(msg);
  const data = await client.recv(1024);
  console.log("from server:", repr(data));
}
client.close();
