/**
 * Seed 003's echo server over TLS: the same loop (`recv(16)`, send it back, until the
 * client closes), with the listening socket wrapped by `SSLContext.wrapSocket`, as a
 * Python program adds TLS to it: `ctx.load_cert_chain(...)`, `ctx.wrap_socket(sock,
 * server_side=True)`. Each accepted connection is an SSLSocket, handshake done.
 *
 * Run: `deno task seed003-echo16-tls-server` (then `deno task seed003-echo16-tls-client`).
 *
 * @module
 */
import { AF_INET, ConnectionError, SOCK_STREAM, socket, type StreamSocket } from "../mod.ts";
import { PROTOCOL_TLS_SERVER, SSLContext, type SSLSocket } from "../ssl.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { exampleCerts } from "./_tls_example.ts";

const { host, port, maxClients } = exampleArgs({
  file: "echo16_tls_server.ts",
  summary: "Seed 003 echo server over TLS: echo each client in 16-byte reads.",
  port: 10443,
  role: "loop",
});

// The server's certificate and key (made with openssl on first use).
const { cert, key } = exampleCerts();
const context = new SSLContext(PROTOCOL_TLS_SERVER);
context.loadCertChain(cert, key);

// Create a TCP/IP socket, bind, listen: as in the seed.
const sock = socket(AF_INET, SOCK_STREAM);
sock.bind([host, port]);
sock.listen();
// Everything accepted from here on speaks TLS. Each handshake runs in its
// connection's task, not in accept(): a client that stalls or resets in its
// handshake then holds up no one else.
const tlsSock = await context.wrapSocket(sock, { serverSide: true, doHandshakeOnConnect: false });
/** Seconds a client has to finish its handshake. */
const HANDSHAKE_TIMEOUT = 10;
console.log(tlsSock.getsockname()[1]);

const open = new Set<StreamSocket>();
const serving = new Set<Promise<void>>();
let stopping = false;
using _signals = onShutdown(() => {
  stopping = true;
  tlsSock.close();
  for (const connection of open) connection.close();
});

for (let served = 0; maxClients === null || served < maxClients; served++) {
  // Wait for a connection.
  let accepted;
  try {
    accepted = await tlsSock.accept();
  } catch (err) {
    if (stopping) break;
    // A client that reset before it was accepted fails its TLS accept(), as in
    // CPython; it ends only itself.
    if (err instanceof ConnectionError) {
      console.error(`connection lost: ${err.message}`);
      continue;
    }
    throw err;
  }
  const [connection] = accepted;
  const task = echo(connection).finally(() => serving.delete(task));
  serving.add(task);
}
await Promise.all(serving);
tlsSock.close();

async function echo(connection: StreamSocket): Promise<void> {
  open.add(connection);
  try {
    // A client that fails the handshake (plaintext, an untrusting client, a
    // reset, silence) ends only itself.
    try {
      connection.settimeout(HANDSHAKE_TIMEOUT);
      await (connection as SSLSocket).doHandshake();
      connection.settimeout(null);
    } catch (err) {
      if (!stopping) console.error(`handshake failed: ${(err as Error).message}`);
      return;
    }
    // Receive the data in small chunks and retransmit it.
    while (true) {
      const data = await connection.recv(16);
      if (data.length > 0) {
        await connection.sendall(data);
      } else {
        break;
      }
    }
  } catch (err) {
    if (!stopping) console.error(`connection lost: ${(err as Error).message}`);
  } finally {
    // Clean up the connection.
    open.delete(connection);
    connection.close();
  }
}
