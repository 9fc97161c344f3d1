/**
 * Seed 003's client over TLS: connect, wrap the connection with a context that trusts
 * the example CA and checks the server's name (`ctx.wrap_socket(s,
 * server_hostname=host)` in Python), send a message longer than the server's 16-byte
 * reads, print the echo, the TLS version and the server certificate's subject.
 *
 * Run: `deno task seed003-echo16-tls-client` (with `seed003-echo16-tls-server` running).
 *
 * @module
 */
import { AF_INET, OSError, SOCK_STREAM, socket } from "../mod.ts";
import { createDefaultContext, SSLCertVerificationError } from "../ssl.ts";
import { exampleArgs } from "./_cli.ts";
import { repr } from "./_py.ts";
import { exampleCerts } from "./_tls_example.ts";

const { host, port } = exampleArgs({
  file: "echo16_tls_client.ts",
  summary: "Seed 003 client over TLS: connect, verify the server, send a message, print the echo.",
  port: 10443,
  host: "localhost",
  role: "client",
});

// Trust the example CA only (Python: create_default_context(cafile=...)).
const context = createDefaultContext(undefined, { cafile: exampleCerts().ca });

const s = socket(AF_INET, SOCK_STREAM);
let ss;
try {
  await s.connect([host === "localhost" ? "127.0.0.1" : host, port]);
  ss = await context.wrapSocket(s, { serverHostname: host });
} catch (err) {
  s.close();
  if (err instanceof SSLCertVerificationError) {
    console.log(`Certificate check failed (${err.verifyCode}): ${err.verifyMessage}`);
    Deno.exit(1);
  }
  if (!(err instanceof OSError)) throw err;
  console.log(`Could not connect to ${host} on port ${port}: ${err.message}`);
  Deno.exit(1);
}
console.log(`Socket Connected to ${host} over ${ss.version()}`);
const subject = ss.getpeercert()?.subject.flat().map(([name, value]) => `${name}=${value}`);
console.log(`Server certificate: ${subject?.join(", ")}`);

// Send some data.
const message = new TextEncoder().encode("This is the message.  It will be repeated.");
await ss.sendall(message);

// Receive the reply: it comes back in pieces, so read until all of it is here.
const received = new Uint8Array(message.length);
let amountReceived = 0;
while (amountReceived < message.length) {
  const data = await ss.recv(Math.min(16, message.length - amountReceived));
  if (data.length === 0) break;
  received.set(data, amountReceived);
  amountReceived += data.length;
}
console.log("Received", repr(received.subarray(0, amountReceived)));
ss.close();
