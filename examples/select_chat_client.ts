/**
 * The chat client for the select.select chat server: lines typed go to the server, lines
 * from the other clients are printed as they come. The Python original selects on the
 * socket and `sys.stdin` together; Deno cannot select on stdin (its descriptors are not
 * exposed), so here a task copies stdin to the socket and `select` waits on the socket
 * alone. At the end of stdin it half-closes (`shutdown(SHUT_WR)`) and keeps printing
 * until the server closes.
 *
 * Run: `deno task select-chat-server`, then `deno task select-chat-client` in a few
 * terminals.
 *
 * @module
 */
import { createConnection, select, SHUT_WR } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";

const { host, port } = exampleArgs({
  file: "select_chat_client.ts",
  summary: "A chat client: stdin to the server, the other clients' lines to stdout.",
  port: 5000,
  role: "client",
});

const sock = await createConnection([host, port]);
const typing = (async () => {
  for await (const chunk of Deno.stdin.readable) await sock.sendall(chunk);
  sock.shutdown(SHUT_WR);
})().catch(() => {/* the server went away first: the loop below sees it */});

while (true) {
  const [readable] = await select([sock], [], []);
  if (readable.length === 0) continue;
  const data = await sock.recv(4096);
  if (data.length === 0) break;
  await Deno.stdout.write(data);
}
sock.close();
// Python's sys.exit(0): stdin may still be open, and the task reading it must not keep
// the program running.
void typing;
Deno.exit(0);
