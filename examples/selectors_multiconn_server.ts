/**
 * A multi-connection echo server in the shape of Real Python's multiconn-server.py: one
 * selector; the listening socket's key has no data, each connection's key carries its
 * address and the bytes still to echo (`outb`). A readable connection's bytes go to
 * `outb`; a writable one sends what it can and keeps the rest. Unlike the original, a
 * client that sends without reading is not read from while 1 MiB waits to be echoed
 * (the key is modified to EVENT_WRITE alone), so no peer can grow the server's memory
 * without bound. Stops on Ctrl-C / SIGTERM, or after --max-clients clients.
 *
 * Run: `deno task selectors-multiconn-server`, then `deno task selectors-multiconn-client`.
 *
 * @module
 */
import {
  type Address,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  OSError,
  type SelectorKey,
  socket,
  type StreamSocket,
} from "../mod.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr } from "./_py.ts";

const { host, port, maxClients } = exampleArgs({
  file: "selectors_multiconn_server.ts",
  summary: "Real Python's multiconn server: echo many clients from one selector loop.",
  port: 65432,
  role: "loop",
});

/** The most bytes waiting to be echoed before the server stops reading a client. */
const MAX_OUTB = 1 << 20;

interface Connection {
  addr: Address;
  outb: Uint8Array;
}

const sel = new DefaultSelector<Connection | null, StreamSocket>();
let served = 0;

async function acceptWrapper(sock: StreamSocket): Promise<void> {
  const [conn, addr] = await sock.accept(); // Should be ready to read
  console.log(`accepted connection from ${repr(addr)}`);
  conn.setblocking(false);
  sel.register(conn, EVENT_READ | EVENT_WRITE, { addr, outb: new Uint8Array(0) });
}

async function serviceConnection(
  key: SelectorKey<Connection | null, StreamSocket>,
  mask: number,
): Promise<void> {
  const sock = key.fileobj;
  const data = key.data!;
  if (mask & EVENT_READ) {
    const recvData = await sock.recv(1024); // Should be ready to read
    if (recvData.length > 0) {
      data.outb = concat(data.outb, recvData);
      if (data.outb.length >= MAX_OUTB) sel.modify(sock, EVENT_WRITE, data);
    } else {
      console.log(`closing connection to ${repr(data.addr)}`);
      sel.unregister(sock);
      sock.close();
      served++;
      return;
    }
  }
  if ((mask & EVENT_WRITE) && data.outb.length > 0) {
    console.log(`echoing ${repr(data.outb)} to ${repr(data.addr)}`);
    const sent = await sock.send(data.outb); // Should be ready to write
    data.outb = data.outb.subarray(sent);
    if (key.events === EVENT_WRITE && data.outb.length < MAX_OUTB) {
      sel.modify(sock, EVENT_READ | EVENT_WRITE, data);
    }
  }
}

/** Unlike the original, a client whose connection fails (a reset) ends only itself. */
function dropConnection(key: SelectorKey<Connection | null, StreamSocket>, err: unknown): void {
  if (!(err instanceof OSError)) throw err;
  console.log(`dropping connection to ${repr(key.data!.addr)}: ${err.message}`);
  sel.unregister(key.fileobj);
  key.fileobj.close();
  served++;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const lsock = socket();
lsock.bind([host, port]);
lsock.listen();
console.log(lsock.getsockname()[1]);
console.log(`listening on ${repr([host, lsock.getsockname()[1]])}`);
lsock.setblocking(false);
sel.register(lsock, EVENT_READ, null);

using _signals = onShutdown(() => {
  console.log("caught keyboard interrupt, exiting");
  sel.close();
});
try {
  while (sel.getMap().size > 0 && (maxClients === null || served < maxClients)) {
    const events = await sel.select(null);
    for (const [key, mask] of events) {
      if (key.data === null) await acceptWrapper(key.fileobj);
      else await serviceConnection(key, mask).catch((err) => dropConnection(key, err));
    }
  }
} finally {
  for (const key of sel.getMap().values()) key.fileobj.close();
  sel.close();
  lsock.close();
}
