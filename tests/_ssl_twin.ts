// CPython twins for the SSLSocket differential tests: a CPython TLS server
// program run around a body, the same client operations in python3, and a
// pysock client for the same server.

import assert from "node:assert/strict";
import { createConnection } from "../socket.ts";
import * as ssl from "../ssl.ts";
import { pythonJson } from "./_helpers.ts";
import { certs, Peer } from "./_ssl_helpers.ts";

// A CPython TLS server for one client: prints its port as a JSON line, then
// runs `body` with `s` the wrapped connection, `out(...)` to report (a JSON
// line) and `wait()` to block until the test writes a line on stdin.
export const SERVER = `
import hashlib, json, select, socket, ssl, sys, threading
def out(*a):
    print(json.dumps(a), flush=True)
def wait():
    sys.stdin.readline()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
l = socket.create_server(("127.0.0.1", 0))
l.settimeout(20)
out(l.getsockname()[1])
c, _ = l.accept()
l.close()
c.settimeout(20)
s = ctx.wrap_socket(c, server_side=True)
`;

// The start of a CPython TLS server for one client: prints its port (a plain
// line), accepts `c` (not wrapped yet) with `ctx` the server context and
// `l` the listener. argv: cert, key.
export const ACCEPT_ONE = `
import json, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
l = socket.create_server(("127.0.0.1", 0))
l.settimeout(20)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
c.settimeout(20)
`;

// The CPython twin of a pysock client: `c` is connected to port argv[2] and
// handshaken; the program prints `result` as JSON at the end.
export const CLIENT = `
import hashlib, select, ssl, sys, threading, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(sys.argv[1])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=20)
c = ctx.wrap_socket(raw, server_hostname="localhost")
result = []
def err(fn):
    try:
        return fn()
    except Exception as e:
        return [type(e).__name__, getattr(e, "errno", None), str(e)]
`;

/** A CPython server running `body`, and the port it listens on. */
export interface Server extends AsyncDisposable {
  port: number;
  /** Its next report, parsed. */
  next(): Promise<unknown>;
  /** Lets its `wait()` return. */
  go(): Promise<void>;
  /** Waits for it to exit; fails on a non-zero status. */
  done(): Promise<void>;
}

export async function server(body: string): Promise<Server> {
  const c = await certs();
  const peer = new Peer("python3", ["-c", SERVER + body, c.server, c.serverKey]);
  const port = JSON.parse(await peer.line())[0] as number;
  return {
    port,
    next: async () => JSON.parse(await peer.line()),
    go: () => peer.write("\n"),
    async done() {
      const { code, stderr } = await peer.done();
      assert.equal(code, 0, stderr);
    },
    [Symbol.asyncDispose]: () => peer[Symbol.asyncDispose](),
  };
}

/** The twin: `code` after CLIENT, against a fresh run of `body`; its result and the server's reports. */
export async function twin(
  body: string,
  code: string,
  reports: number,
): Promise<[unknown, unknown[]]> {
  await using srv = await server(body);
  const running = pythonJson(
    CLIENT + code + "\nprint(json.dumps(result))\n",
    (await certs()).ca,
    String(srv.port),
  );
  const seen: unknown[] = [];
  for (let i = 0; i < reports; i++) seen.push(await srv.next());
  return [await running, seen];
}

export async function connect(
  port: number,
  options: ssl.WrapSocketOptions = {},
): Promise<ssl.SSLSocket> {
  const ctx = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
  ctx.loadVerifyLocations((await certs()).ca);
  const raw = await createConnection(["127.0.0.1", port]);
  return await ctx.wrapSocket(raw, { serverHostname: "localhost", ...options });
}
