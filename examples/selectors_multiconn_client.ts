/**
 * A multi-connection client in the shape of Real Python's multiconn-client.py: opens
 * --connections non-blocking connections (`connectEx` returns EINPROGRESS at once),
 * registers each for reading and writing with the messages it still has to send, sends
 * them as the connection becomes writable, and closes each once its whole echo is back.
 * Ends when no connection is left.
 *
 * Run: `deno task selectors-multiconn-server`, then
 * `deno task selectors-multiconn-client --connections 5`.
 *
 * @module
 */
import {
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  type SelectorKey,
  socket,
  type StreamSocket,
} from "../mod.ts";
import { exampleArgs } from "./_cli.ts";
import { repr } from "./_py.ts";

const { host, port, connections } = exampleArgs({
  file: "selectors_multiconn_client.ts",
  summary: "Real Python's multiconn client: many non-blocking connections, one selector.",
  port: 65432,
  role: "client",
  connections: 2,
});

interface Connection {
  connid: number;
  msgTotal: number;
  recvTotal: number;
  messages: Uint8Array[];
  outb: Uint8Array;
}

const sel = new DefaultSelector<Connection, StreamSocket>();
const encoder = new TextEncoder();
const messages = [
  encoder.encode("Message 1 from client."),
  encoder.encode("Message 2 from client."),
];

async function startConnections(numConns: number): Promise<void> {
  const serverAddr: [string, number] = [host, port];
  for (let i = 0; i < numConns; i++) {
    const connid = i + 1;
    console.log(`starting connection ${connid} to ${repr(serverAddr)}`);
    const sock = socket();
    sock.setblocking(false);
    await sock.connectEx(serverAddr);
    sel.register(sock, EVENT_READ | EVENT_WRITE, {
      connid,
      msgTotal: messages.reduce((sum, m) => sum + m.length, 0),
      recvTotal: 0,
      messages: [...messages],
      outb: new Uint8Array(0),
    });
  }
}

async function serviceConnection(
  key: SelectorKey<Connection, StreamSocket>,
  mask: number,
): Promise<void> {
  const sock = key.fileobj;
  const data = key.data;
  if (mask & EVENT_READ) {
    const recvData = await sock.recv(1024); // Should be ready to read
    if (recvData.length > 0) {
      console.log(`received ${repr(recvData)} from connection ${data.connid}`);
      data.recvTotal += recvData.length;
    }
    if (recvData.length === 0 || data.recvTotal === data.msgTotal) {
      console.log(`closing connection ${data.connid}`);
      sel.unregister(sock);
      sock.close();
      return;
    }
  }
  if (mask & EVENT_WRITE) {
    if (data.outb.length === 0 && data.messages.length > 0) data.outb = data.messages.shift()!;
    if (data.outb.length > 0) {
      console.log(`sending ${repr(data.outb)} to connection ${data.connid}`);
      const sent = await sock.send(data.outb); // Should be ready to write
      data.outb = data.outb.subarray(sent);
    }
  }
}

await startConnections(connections);
try {
  while (true) {
    const events = await sel.select(1);
    for (const [key, mask] of events) await serviceConnection(key, mask);
    // Check for a socket being monitored to continue.
    if (sel.getMap().size === 0) break;
  }
} finally {
  for (const key of sel.getMap().values()) key.fileobj.close();
  sel.close();
}
