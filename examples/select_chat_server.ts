/**
 * A chat server on `select.select`, as Python tutorials write it: one list of sockets to
 * read (the listener and every client), and each line a client sends goes to every
 * other client, prefixed with the sender's address. A byte buffer per client holds the
 * part of a line not yet ended; a client that sends more than 64 KiB without a newline
 * is dropped, and so is one that resets, one whose connection fails during a broadcast,
 * and one that stops reading: a broadcast waits at most SEND_TIMEOUT seconds for each
 * client, so one that never reads cannot stall the others. The sockets are blocking,
 * as in the original: select() says which recv will not wait.
 * Stops on Ctrl-C / SIGTERM, or once --max-clients clients have left.
 *
 * Run: `deno task select-chat-server`, then `deno task select-chat-client` in a few
 * terminals and type.
 *
 * @module
 */
import {
  type Address,
  select,
  SO_REUSEADDR,
  socket,
  SOL_SOCKET,
  type StreamSocket,
} from "../mod.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr } from "./_py.ts";

const { host, port, maxClients } = exampleArgs({
  file: "select_chat_server.ts",
  summary: "A select.select chat server: every line goes to every other client.",
  port: 5000,
  role: "loop",
});

const LIMIT = 65536;
/** How long a broadcast waits for one client to take a line (a client that never reads). */
const SEND_TIMEOUT = 5;
const encoder = new TextEncoder();

const server = socket();
server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
server.bind([host, port]);
server.listen();
console.log(server.getsockname()[1]);

const sockets: StreamSocket[] = [server];
const buffers = new Map<StreamSocket, Uint8Array>();
const names = new Map<StreamSocket, Address>();
let left = 0;

function drop(sock: StreamSocket): void {
  console.log("disconnected", repr(names.get(sock)));
  sockets.splice(sockets.indexOf(sock), 1);
  buffers.delete(sock);
  names.delete(sock);
  sock.close();
  left++;
}

let stopping = false;
using _signals = onShutdown(() => {
  stopping = true;
  for (const sock of sockets) sock.close();
});

while (!stopping && (maxClients === null || left < maxClients)) {
  let readable: StreamSocket[];
  try {
    [readable] = await select(sockets, [], []);
  } catch (err) {
    if (stopping) break; // the sockets were closed under select()
    throw err;
  }
  for (const sock of readable) {
    if (sock === server) {
      const [conn, addr] = await server.accept();
      conn.settimeout(SEND_TIMEOUT);
      sockets.push(conn);
      buffers.set(conn, new Uint8Array(0));
      names.set(conn, addr);
      console.log("connected", repr(addr));
      continue;
    }
    if (!buffers.has(sock)) continue; // dropped while broadcasting
    let data: Uint8Array;
    try {
      data = await sock.recv(4096);
    } catch {
      data = new Uint8Array(0); // a client that reset leaves like one that closed
    }
    if (data.length === 0) {
      drop(sock);
      continue;
    }
    let buffer = concat(buffers.get(sock)!, data);
    for (let newline = buffer.indexOf(10); newline !== -1; newline = buffer.indexOf(10)) {
      const line = buffer.subarray(0, newline);
      buffer = buffer.subarray(newline + 1);
      const [sender, senderPort] = names.get(sock) as [string, number];
      const message = concat(encoder.encode(`[${sender}:${senderPort}] `), line, [10]);
      const gone: StreamSocket[] = [];
      for (const other of sockets) {
        if (other === server || other === sock) continue;
        try {
          await other.sendall(message);
        } catch {
          gone.push(other);
        }
      }
      for (const other of gone) drop(other);
    }
    buffers.set(sock, buffer);
    if (buffer.length > LIMIT) drop(sock);
  }
}
for (const sock of sockets) sock.close();

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
