/**
 * An SMTP-style server with STARTTLS: it greets in plaintext, answers EHLO with a
 * STARTTLS capability, and on STARTTLS upgrades the same connection with
 * `wrapSocket(conn, {serverSide: true})`; what the client already sent stays in the
 * socket's buffer and is the start of the TLS session. After the upgrade it answers
 * EHLO again and QUIT. Not a mail server: it only shows the upgrade. Each client is
 * served by a task of its own.
 *
 * Run: `deno task tls-starttls-server` (then `deno task tls-starttls-client`).
 *
 * @module
 */
import { createServer, type StreamSocket } from "../mod.ts";
import { recvLine } from "../framing.ts";
import { PROTOCOL_TLS_SERVER, SSLContext } from "../ssl.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { exampleCerts } from "./_tls_example.ts";

const { host, port, maxClients } = exampleArgs({
  file: "starttls_server.ts",
  summary: "SMTP-style server: plaintext greeting, EHLO, STARTTLS, then TLS.",
  port: 8025,
  role: "loop",
});

const { cert, key } = exampleCerts();
const context = new SSLContext(PROTOCOL_TLS_SERVER);
context.loadCertChain(cert, key);

const listener = createServer([host, port]);
console.log(listener.getsockname()[1]);
// Each session is a task of its own, so a client that stalls (before or
// after STARTTLS) holds up no one else.
const open = new Set<StreamSocket>();
const serving = new Set<Promise<void>>();
let stopping = false;
using _signals = onShutdown(() => {
  stopping = true;
  listener.close();
  for (const conn of open) conn.close();
});

for (let served = 0; maxClients === null || served < maxClients; served++) {
  let conn: StreamSocket;
  try {
    [conn] = await listener.accept();
  } catch (err) {
    if (stopping) break;
    throw err;
  }
  open.add(conn);
  const task = session(conn).catch((err) => {
    if (!stopping) console.error(`session ended: ${(err as Error).message}`);
  }).finally(() => {
    conn.close();
    open.delete(conn);
    serving.delete(task);
  });
  serving.add(task);
}
await Promise.all(serving);
listener.close();

async function session(plain: StreamSocket): Promise<void> {
  let sock: StreamSocket = plain;
  let secure = false;
  const reply = (line: string) => sock.sendall(`${line}\r\n`);
  await reply("220 pysock ESMTP ready");
  for (;;) {
    const line = new TextDecoder().decode(await recvLine(sock, { limit: 1000 })).trimEnd();
    const verb = line.split(" ")[0].toUpperCase();
    if (verb === "EHLO") {
      await reply(
        secure
          ? "250 pysock at your service, securely"
          : "250-pysock at your service\r\n250 STARTTLS",
      );
    } else if (verb === "STARTTLS" && !secure) {
      await reply("220 Ready to start TLS");
      sock = await context.wrapSocket(plain, { serverSide: true });
      secure = true;
    } else if (verb === "QUIT" || verb === "") {
      if (verb === "QUIT") await reply("221 Bye");
      sock.close();
      return;
    } else {
      await reply(
        secure ? "502 Command not implemented" : "530 Must issue a STARTTLS command first",
      );
    }
  }
}
