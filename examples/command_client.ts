/**
 * The client of `command_server.ts`: reads command lines from stdin after the seed's
 * ">>>:" prompt, sends each as one framed message and prints the framed reply, whatever
 * its size. No size message, no ack: `recvMsg` returns the whole reply. Stops at end of
 * input (Ctrl-D).
 *
 * Run: `deno task command-client` with `deno task command-server` running.
 *
 * @module
 */
import { OSError, socket } from "../mod.ts";
import { recvMsg, sendMsg } from "../framing.ts";
import { exampleArgs } from "./_cli.ts";
import { input } from "./_py.ts";

const { host, port } = exampleArgs({
  file: "command_client.ts",
  summary: "Send each stdin line to command_server.ts as a framed request; print the reply.",
  port: 9999,
  role: "client",
});

function fail(message: string): never {
  console.error(`command_client.ts: ${message}`);
  Deno.exit(1);
}

const decoder = new TextDecoder();
const client = socket();
try {
  await client.connect([host, port]);
} catch (err) {
  if (!(err instanceof OSError)) throw err;
  fail(`cannot connect to ${host}:${port}: ${err.message}; is command_server.ts running?`);
}
while (true) {
  const line = await input(">>>:");
  if (line === null) break;
  const command = line.trim();
  if (command.length === 0) continue;
  await sendMsg(client, command);
  const reply = await recvMsg(client);
  if (reply === null) fail("the server closed the connection");
  const text = decoder.decode(reply);
  // Programs end their output with a newline; console.log adds one already.
  console.log(text.endsWith("\n") ? text.slice(0, -1) : text);
}
client.close();
