/**
 * Seed 003, the client: creates a socket, resolves the server's name with
 * `gethostbyname`, connects, then does the seed's listed-but-uncoded steps 3 and 4: sends
 * a message longer than the server's 16-byte reads and prints the echo.
 *
 * The seed connects to www.google.com port 80; this port connects to --host (default
 * `localhost`, resolved from /etc/hosts) and --port, so it never leaves the machine
 * unless told to.
 *
 * Run: `deno task seed003-echo16-client` (with `seed003-echo16-server` running).
 *
 * @module
 */
import { AF_INET, gaierror, gethostbyname, OSError, SOCK_STREAM, socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";
import { repr } from "./_py.ts";

const { host, port } = exampleArgs({
  file: "echo16_client.ts",
  summary: "Seed 003 client: resolve the host, connect, send a message, print the echo.",
  port: 10000,
  host: "localhost",
  role: "client",
});

let s;
try {
  // Create an AF_INET, STREAM socket (TCP).
  s = socket(AF_INET, SOCK_STREAM);
} catch (err) {
  if (!(err instanceof OSError)) throw err;
  console.log(
    "Failed to create socket. Error code: " + err.errno + " , Error message : " + err.strerror,
  );
  Deno.exit(1);
}
console.log("Socket Created");

let remoteIp;
try {
  remoteIp = await gethostbyname(host);
} catch (err) {
  if (!(err instanceof gaierror)) throw err;
  // Could not resolve.
  console.log("Hostname could not be resolved. Exiting");
  Deno.exit(1);
}
console.log("Ip address of " + host + " is " + remoteIp);

// Connect to the server.
await s.connect([remoteIp, port]);
console.log("Socket Connected to " + host + " on ip " + remoteIp);

// Send some data.
const message = new TextEncoder().encode("This is the message.  It will be repeated.");
await s.sendall(message);

// Receive the reply: it comes back in pieces, so read until all of it is here.
const received = new Uint8Array(message.length);
let amountReceived = 0;
while (amountReceived < message.length) {
  const data = await s.recv(Math.min(16, message.length - amountReceived));
  if (data.length === 0) break;
  received.set(data, amountReceived);
  amountReceived += data.length;
}
console.log("Received", repr(received.subarray(0, amountReceived)));
s.close();
