/**
 * Seed 003, the echo server: reads each connection 16 bytes at a time (`recv(16)`) and
 * sends every piece straight back until the client closes. The seed serves one client at
 * a time; this port gives every connection its own task. Stops on Ctrl-C / SIGTERM, or
 * after --max-clients clients.
 *
 * Run: `deno task seed003-echo16-server` (then `deno task seed003-echo16-client`).
 *
 * @module
 */
import { AF_INET, SOCK_STREAM, socket, type StreamSocket } from "../mod.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";

const { host, port, maxClients } = exampleArgs({
  file: "echo16_server.ts",
  summary: "Seed 003 echo server: echo each client in 16-byte reads, many clients at once.",
  port: 10000,
  role: "loop",
});

// Create a TCP/IP socket.
const sock = socket(AF_INET, SOCK_STREAM);
// Bind the socket to the port.
const serverAddress: [string, number] = [host, port];
sock.bind(serverAddress);
console.log(sock.getsockname()[1]);
// Listen for incoming connections. The seed's listen(1) lets one connection wait while it
// serves another; this server accepts at once, but clients that connect in a burst still
// queue until accept() runs, and a full queue drops their SYN for a 1 s retry. So keep
// the default queue length.
sock.listen();

const open = new Set<StreamSocket>();
const serving = new Set<Promise<void>>();
let stopping = false;
using _signals = onShutdown(() => {
  stopping = true;
  sock.close();
  for (const connection of open) connection.close();
});

for (let served = 0; maxClients === null || served < maxClients; served++) {
  // Wait for a connection.
  let accepted;
  try {
    accepted = await sock.accept();
  } catch (err) {
    if (stopping) break;
    throw err;
  }
  const [connection] = accepted;
  const task = echo(connection).finally(() => serving.delete(task));
  serving.add(task);
}
await Promise.all(serving);
sock.close();

async function echo(connection: StreamSocket): Promise<void> {
  open.add(connection);
  try {
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
