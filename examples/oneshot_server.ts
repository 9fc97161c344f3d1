/**
 * Seed 002, SocketServer.py (one exchange): accepts one client and prints the first
 * message it sends.
 *
 * Run: `deno task seed002-oneshot-server` (then `deno task seed002-oneshot-client`).
 *
 * @module
 */
import { socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";
import { repr } from "./_py.ts";

const { host, port } = exampleArgs({
  file: "oneshot_server.ts",
  summary: "Seed 002 one-shot server: accept one client, print one message, exit.",
  port: 9999,
  role: "server",
});

// Create the socket and bind it.
const server = socket();
server.bind([host, port]);
console.log(server.getsockname()[1]);
// Listen on the port for clients.
server.listen();
console.log("Waiting for client connect.");
// accept() waits here until a client connects.
const [conn, addr] = await server.accept();
console.log("New connect:", repr(addr));
const data = await conn.recv(1024);
console.log("Accept news:", repr(data));
conn.close();
server.close();
