/**
 * An HTTPS GET with pysock, against a local HTTPS server (Deno.serve with the example
 * certificate; nothing leaves the machine): connect, wrap with a verifying context and
 * ALPN `http/1.1`, send the request, read the status line, headers and body through
 * `makefile`, as Python's `http.client` does over `ssl`. Exits by itself.
 *
 * Run: `deno task tls-https-get`.
 *
 * @module
 */
import { createConnection } from "../mod.ts";
import { createDefaultContext } from "../ssl.ts";
import { exampleCerts } from "./_tls_example.ts";

const { ca, cert, key } = exampleCerts();

// A local HTTPS server to talk to.
const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(cert),
    key: await Deno.readTextFile(key),
    onListen() {},
  },
  (request) => new Response(`hello from ${new URL(request.url).pathname} over HTTPS\n`),
);

try {
  const context = createDefaultContext(undefined, { cafile: ca });
  context.setAlpnProtocols(["http/1.1"]);
  const sock = await createConnection(["127.0.0.1", server.addr.port]);
  await using ssock = await context.wrapSocket(sock, { serverHostname: "localhost" });
  console.log(`connected: ${ssock.version()}, ALPN ${ssock.selectedAlpnProtocol()}`);

  await ssock.sendall(
    "GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
  );
  const response = ssock.makefile("rb");
  const decoder = new TextDecoder();
  const statusLine = decoder.decode(await response.readline()).trimEnd();
  console.log(statusLine);
  let length: number | null = null;
  for (;;) {
    const line = decoder.decode(await response.readline()).trimEnd();
    if (line === "") break;
    const [name, value] = line.split(/:\s*/, 2);
    if (name.toLowerCase() === "content-length") length = Number(value);
  }
  const body = await response.read(length ?? -1);
  console.log(decoder.decode(body).trimEnd());
} finally {
  await server.shutdown();
}
