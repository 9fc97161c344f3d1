// The soak test's server, run as its own process so each side has its own
// descriptor limit: a pysock framed echo server on loopback. It prints its
// port, echoes every message, and answers a control message with its own
// figures (RSS, connections, messages). It exits when its stdin closes.

import { createServer, type StreamSocket } from "../mod.ts";
import { recvMsg, sendMsg } from "../framing.ts";

/** First byte of a control message; data messages start with anything else. */
export const CONTROL = 0;

const stats = { accepted: 0, live: 0, echoed: 0, errors: 0, rss: 0, heap: 0 };

async function serve(conn: StreamSocket): Promise<void> {
  try {
    for (let m = await recvMsg(conn); m !== null; m = await recvMsg(conn)) {
      if (m.length > 0 && m[0] === CONTROL) {
        (globalThis as { gc?: () => void }).gc?.();
        ({ rss: stats.rss, heapUsed: stats.heap } = Deno.memoryUsage());
        await sendMsg(conn, JSON.stringify(stats));
        continue;
      }
      await sendMsg(conn, m);
      stats.echoed++;
    }
  } catch {
    stats.errors++;
  } finally {
    conn.close();
    stats.live--;
  }
}

async function acceptLoop(server: StreamSocket): Promise<void> {
  for (;;) {
    let conn: StreamSocket;
    try {
      [conn] = await server.accept();
    } catch {
      return; // closed at exit
    }
    stats.accepted++;
    stats.live++;
    serve(conn);
  }
}

if (import.meta.main) {
  const server = createServer(["127.0.0.1", 0], { backlog: 4096 });
  console.log(server.getsockname()[1]);
  acceptLoop(server);
  // The client closes our stdin when it is done (or dies): then we go too.
  for await (const _ of Deno.stdin.readable) { /* wait for end of input */ }
  server.close();
  Deno.exit(0);
}
