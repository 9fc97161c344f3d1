/**
 * The Python docs' socketserver UDP client (Lib/socketserver, "Examples"): sends its
 * arguments joined by spaces plus a newline as one datagram with `sendto` (no `connect`:
 * UDP has no connections), reads the reply with `recv(1024)` and prints both. Like the
 * docs' client it waits for the reply for ever: a lost datagram leaves it waiting
 * (Ctrl-C); see `udp_client.ts` for one with a timeout.
 *
 * The docs send to "localhost" port 9999; this port sends to 127.0.0.1 (what
 * --allow-net=127.0.0.1 covers) unless told --host.
 *
 * Run: `deno task socketserver-udp-client hello world` with `socketserver-udp-server`
 * running.
 *
 * @module
 */
import { AF_INET, SOCK_DGRAM, socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";

const { host, port, words } = exampleArgs({
  file: "socketserver_udp_client.ts",
  summary: "The Python docs' socketserver UDP client: send the words as a datagram, " +
    "print the reply.",
  port: 9999,
  role: "client",
  words: "WORDS...",
});

const [HOST, PORT] = [host, port];
const data = words.join(" ");

// SOCK_DGRAM is the socket type to use for UDP sockets
const sock = socket(AF_INET, SOCK_DGRAM);

// As you can see, there is no connect() call; UDP has no connections.
// Instead, data is directly sent to the recipient via sendto().
await sock.sendto(data + "\n", [HOST, PORT]);
const received = new TextDecoder().decode(await sock.recv(1024));
// The docs leave this to the end of the program.
sock.close();

console.log(`Sent:     ${data}`);
console.log(`Received: ${received}`);
