/**
 * Seed 002, SocketServer.py (many exchanges): accepts one client and sends back every
 * message upper-cased until the client disconnects, then exits.
 *
 * Run: `deno task seed002-multiround-server` (then `deno task seed002-multiround-client`).
 *
 * @module
 */
import { socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";
import { repr, upper } from "./_py.ts";

const { host, port } = exampleArgs({
  file: "multiround_server.ts",
  summary: "Seed 002 multi-round server: upper-case one client's messages until it leaves.",
  port: 9999,
  role: "server",
});

const server = socket();
server.bind([host, port]);
console.log(server.getsockname()[1]);
server.listen();
console.log("Waiting for client connect.");
const [conn, addr] = await server.accept();
console.log("New connect:", repr(addr));
while (true) {
  const data = await conn.recv(1024);
  // An empty read is the client closing; without this check the loop would spin.
  if (data.length === 0) {
    console.log("Client disconnect.");
    break;
  }
  console.log("Accept news:", repr(data));
  await conn.send(upper(data));
}
conn.close();
server.close();
