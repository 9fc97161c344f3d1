/**
 * Seed 000, "socket编程之服务端代码": accepts one client, reads until the client closes,
 * then prints everything it sent as one string.
 *
 * Run: `deno task seed000-accumulate-server` (then `deno task seed000-accumulate-client`).
 *
 * @module
 */
import { socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";

const { host, port } = exampleArgs({
  file: "accumulate_server.ts",
  summary: "Seed 000 server: accept one client, read until it closes, print what it sent.",
  port: 8000,
  role: "server",
});

const server = socket();
// The seed binds 0.0.0.0 so other machines can reach it; pass --host 0.0.0.0 (and widen
// --allow-net) for that.
server.bind([host, port]);
console.log(server.getsockname()[1]);
server.listen();

// Wait for a connection.
const [sock] = await server.accept();
// The seed decodes each chunk on its own, which fails when a recv() ends inside a
// multi-byte character; a streaming decoder carries the partial character over.
const decoder = new TextDecoder("utf-8");
let data = "";
while (true) {
  const tempData = await sock.recv(1024);
  if (tempData.length > 0) {
    data += decoder.decode(tempData, { stream: true });
  } else {
    break;
  }
}
data += decoder.decode();

console.log(data);
sock.close();
server.close();
