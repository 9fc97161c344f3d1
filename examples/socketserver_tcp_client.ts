/**
 * The Python docs' socketserver client (Lib/socketserver, "Examples"): connects, sends
 * its arguments joined by spaces plus a newline, reads one reply with `recv(1024)` and
 * prints what it sent and what it got.
 *
 * The docs connect to "localhost" port 9999; this port connects to 127.0.0.1 (what
 * --allow-net=127.0.0.1 covers) unless told --host.
 *
 * Run: `deno task socketserver-tcp-client hello world` with `socketserver-tcp-server`
 * running.
 *
 * @module
 */
import { AF_INET, SOCK_STREAM, socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";

const { host, port, words } = exampleArgs({
  file: "socketserver_tcp_client.ts",
  summary: "The Python docs' socketserver TCP client: send the words, print the reply.",
  port: 9999,
  role: "client",
  words: "WORDS...",
});

const [HOST, PORT] = [host, port];
const data = words.join(" ");

let received;
// Create a socket (SOCK_STREAM means a TCP socket)
{
  await using sock = socket(AF_INET, SOCK_STREAM);
  // Connect to server and send data
  await sock.connect([HOST, PORT]);
  await sock.sendall(data + "\n");

  // Receive data from the server and shut down
  received = new TextDecoder().decode(await sock.recv(1024));
}

console.log(`Sent:     ${data}`);
console.log(`Received: ${received}`);
