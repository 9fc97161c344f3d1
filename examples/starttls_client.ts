/**
 * An SMTP-style client with STARTTLS: it reads the plaintext replies with `recvLine`
 * (on the socket's own buffer, so nothing read ahead is lost to TLS), says EHLO, sees
 * STARTTLS offered, asks for it and upgrades the same connection with `wrapSocket`,
 * checking the server's certificate, then says EHLO again and QUIT. Prints the
 * conversation.
 *
 * Run: `deno task tls-starttls-client` (with `tls-starttls-server` running).
 *
 * @module
 */
import { createConnection, type StreamSocket } from "../mod.ts";
import { recvLine } from "../framing.ts";
import { createDefaultContext } from "../ssl.ts";
import { exampleArgs } from "./_cli.ts";
import { exampleCerts } from "./_tls_example.ts";

const { host, port } = exampleArgs({
  file: "starttls_client.ts",
  summary: "SMTP-style client: EHLO, STARTTLS, upgrade, EHLO, QUIT.",
  port: 8025,
  host: "localhost",
  role: "client",
});

const context = createDefaultContext(undefined, { cafile: exampleCerts().ca });
const plain = await createConnection([host === "localhost" ? "127.0.0.1" : host, port]);
let sock: StreamSocket = plain;

const decoder = new TextDecoder();
async function reply(): Promise<string[]> {
  // A reply is lines "250-..." until one "250 ...".
  const lines: string[] = [];
  for (;;) {
    const line = decoder.decode(await recvLine(sock, { limit: 1000 })).trimEnd();
    console.log(`S: ${line}`);
    lines.push(line);
    if (line[3] !== "-") return lines;
  }
}
async function say(line: string): Promise<string[]> {
  console.log(`C: ${line}`);
  await sock.sendall(`${line}\r\n`);
  return await reply();
}

await reply();
const features = await say("EHLO client.example");
if (!features.some((line) => line.slice(4).startsWith("STARTTLS"))) {
  throw new Error("the server does not offer STARTTLS");
}
await say("STARTTLS");
sock = await context.wrapSocket(plain, { serverHostname: host });
const ssock = sock as Awaited<ReturnType<typeof context.wrapSocket>>;
console.log(
  `-- upgraded to ${ssock.version()}, server certificate for ${
    ssock.getpeercert()?.subject.flat()[0][1]
  }`,
);
await say("EHLO client.example");
await say("QUIT");
sock.close();
