/**
 * The demo: seed 001's upper-casing "phone" server and its client in one process, on
 * 127.0.0.1 and a free port. The client sends a few messages, the server prints each one
 * and sends it back upper-cased, the client prints the replies; then both close and the
 * program exits.
 *
 * Run: `deno task demo` (or `npx --yes deno@2.9.6 task demo`).
 *
 * @module
 */
import { AF_INET, SOCK_STREAM, socket, type StreamSocket } from "../mod.ts";
import { repr, upper } from "./_py.ts";

const MESSAGES = ["hello", "pysock speaks Python's socket API", "bye"];

// The server: bind, listen, and serve one client in the background.
const phone = socket(AF_INET, SOCK_STREAM);
phone.bind(["127.0.0.1", 0]); // port 0: the kernel picks a free port
phone.listen(5);
const [host, port] = phone.getsockname() as [string, number];
console.log(`server: listening on ${host}:${port}`);
const serving = serve(phone);

// The client: connect, then send each message and wait for its reply.
const client = socket(AF_INET, SOCK_STREAM);
await client.connect([host, port]);
for (const message of MESSAGES) {
  await client.sendall(message);
  const reply = await client.recv(1024);
  console.log("client: reply", repr(reply));
}
client.close();

await serving;
phone.close();
console.log("demo: done");

async function serve(server: StreamSocket): Promise<void> {
  const [conn, addr] = await server.accept();
  console.log("server: connection from", repr(addr));
  while (true) {
    const data = await conn.recv(1024);
    // An empty read means the client closed its end.
    if (data.length === 0) break;
    console.log("server: received", repr(data));
    await conn.send(upper(data));
  }
  console.log("server: client closed the connection");
  conn.close();
}
