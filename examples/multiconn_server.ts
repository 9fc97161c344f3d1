/**
 * Seed 002, "Socket实现多连接处理": an upper-casing server that keeps serving after a
 * client leaves. The seed serves one client at a time while the others wait in the
 * listen queue; this port gives every connection its own task, so clients are served at
 * once. Stops on Ctrl-C / SIGTERM, or after --max-clients clients.
 *
 * Run: `deno task seed002-multiconn-server`, then `deno task seed002-multiround-client`
 * in as many terminals as you like.
 *
 * @module
 */
import { socket, type StreamSocket } from "../mod.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr, upper } from "./_py.ts";

const { host, port, maxClients } = exampleArgs({
  file: "multiconn_server.ts",
  summary: "Seed 002 multi-connection server: upper-case every client's messages, " +
    "many clients at once.",
  port: 9999,
  role: "loop",
});

const server = socket();
server.bind([host, port]);
console.log(server.getsockname()[1]);
server.listen();

const open = new Set<StreamSocket>();
const serving = new Set<Promise<void>>();
let stopping = false;
using _signals = onShutdown(() => {
  stopping = true;
  // Closing the listener makes the pending accept() reject; closing the connections
  // ends their recv() loops.
  server.close();
  for (const conn of open) conn.close();
});

for (let served = 0; maxClients === null || served < maxClients; served++) {
  console.log("Waiting for client connect.");
  let accepted;
  try {
    accepted = await server.accept();
  } catch (err) {
    if (stopping) break;
    throw err;
  }
  const [conn, addr] = accepted;
  console.log("New connect:", repr(addr));
  // Where the seed runs the loop below inline (and makes everyone else wait), start it
  // as a task and go straight back to accept().
  const task = talk(conn).finally(() => serving.delete(task));
  serving.add(task);
}
await Promise.all(serving);
server.close();

async function talk(conn: StreamSocket): Promise<void> {
  open.add(conn);
  try {
    while (true) {
      const data = await conn.recv(1024);
      if (data.length === 0) {
        console.log("Client disconnect.");
        break;
      }
      console.log("Accept news:", repr(data));
      await conn.send(upper(data));
    }
  } catch (err) {
    // One client's reset must not stop the others; a shutdown closes sockets on purpose.
    if (!stopping) console.error(`connection lost: ${(err as Error).message}`);
  } finally {
    open.delete(conn);
    conn.close();
  }
}
