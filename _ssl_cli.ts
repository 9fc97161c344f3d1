// TLS for the command line, as one call per command: `connect --tls` wraps
// the connection it made, `echo-server --tls --cert --key` wraps its
// listener. The options, their help text and the one-line failure messages
// live here so the CLI files only spread them in.

import type { StreamSocket } from "./socket.ts";
import {
  CERT_NONE,
  createDefaultContext,
  PROTOCOL_TLS_SERVER,
  SSLCertVerificationError,
  SSLContext,
  SSLError,
} from "./ssl.ts";

/** A parseArgs option, as node:util types it. */
type Option = { type: "string" | "boolean" };

/** The `connect` options: `--tls`, `--cafile FILE`, `--server-hostname NAME`, `--insecure`. */
export const TLS_CLIENT_OPTIONS: Record<string, Option> = {
  tls: { type: "boolean" },
  cafile: { type: "string" },
  "server-hostname": { type: "string" },
  insecure: { type: "boolean" },
};

/** The `connect` help lines for {@linkcode TLS_CLIENT_OPTIONS}. */
export const TLS_CLIENT_HELP =
  `  --tls              speak TLS (verifies the server against the default roots)
  --cafile FILE      trust the CA certificates in FILE instead (PEM)
  --server-hostname NAME  the name to check the certificate against (default: HOST)
  --insecure         do not verify the server's certificate`;

/** The `echo-server` options: `--tls`, `--cert FILE`, `--key FILE`. */
export const TLS_SERVER_OPTIONS: Record<string, Option> = {
  tls: { type: "boolean" },
  cert: { type: "string" },
  key: { type: "string" },
};

/** The `echo-server` help lines for {@linkcode TLS_SERVER_OPTIONS}. */
export const TLS_SERVER_HELP = `  --tls              speak TLS, with the certificate of --cert
  --cert FILE        the server's certificate chain (PEM); needed with --tls
  --key FILE         its private key (PEM); default: in --cert`;

/** The parsed values the TLS options fill in. */
export type TlsValues = Record<string, string | boolean | undefined | (string | boolean)[]>;

/**
 * Wraps a connected socket for `connect --tls`; returns it unchanged without `--tls`.
 *
 * @param sock The connected socket.
 * @param host The host given on the command line.
 * @param values The parsed options.
 * @returns The socket to copy through.
 * @throws {Error} a one-line message saying what failed and what to do; `sock` is closed then.
 *
 * @example
 * ```ts
 * import { socketpair } from "./socket.ts";
 * import { tlsClient } from "./_ssl_cli.ts";
 * import { equal } from "node:assert/strict";
 * const [a, b] = await socketpair();
 * await using _b = b;
 * await using sock = await tlsClient(a, "localhost", {}); // no --tls: unchanged
 * equal(sock, a);
 * ```
 */
export async function tlsClient(
  sock: StreamSocket,
  host: string,
  values: TlsValues,
): Promise<StreamSocket> {
  if (!values.tls) {
    if (values.cafile || values.insecure || values["server-hostname"]) {
      sock.close();
      throw new Error("--cafile, --server-hostname and --insecure need --tls");
    }
    return sock;
  }
  const cafile = values.cafile as string | undefined;
  let ctx: SSLContext;
  try {
    ctx = createDefaultContext(undefined, cafile === undefined ? {} : { cafile });
  } catch (err) {
    sock.close();
    throw new Error(`cannot load --cafile ${cafile}: ${(err as Error).message}`);
  }
  if (values.insecure) {
    ctx.checkHostname = false;
    ctx.verifyMode = CERT_NONE;
  }
  const serverHostname = (values["server-hostname"] as string | undefined) ?? host;
  try {
    return await ctx.wrapSocket(sock, { serverHostname });
  } catch (err) {
    throw new Error(`TLS handshake with ${serverHostname} failed: ${tlsHint(err)}`);
  }
}

/**
 * Wraps a listener for `echo-server --tls --cert --key`; returns it unchanged
 * without `--tls`. Each connection's handshake runs on its first read, so a
 * client that fails it ends only its own connection.
 *
 * @param listener The listening socket.
 * @param values The parsed options.
 * @returns The socket to accept from.
 * @throws {Error} a one-line message when the options are wrong or the certificate or key
 *   cannot be loaded; `listener` is closed then.
 *
 * @example
 * ```ts
 * import { createServer } from "./socket.ts";
 * import { tlsServer } from "./_ssl_cli.ts";
 * import { rejects } from "node:assert/strict";
 * await using listener = createServer(["127.0.0.1", 0]);
 * await rejects(tlsServer(listener, { tls: true }), /--tls needs --cert/);
 * ```
 */
export async function tlsServer(listener: StreamSocket, values: TlsValues): Promise<StreamSocket> {
  const refuse = (message: string): never => {
    listener.close();
    throw new Error(message);
  };
  if (!values.tls) {
    if (values.cert || values.key) refuse("--cert and --key need --tls");
    return listener;
  }
  const cert = values.cert as string | undefined;
  if (cert === undefined) return refuse("--tls needs --cert FILE (and --key FILE unless in it)");
  const ctx = new SSLContext(PROTOCOL_TLS_SERVER);
  try {
    ctx.loadCertChain(cert, values.key as string | undefined);
  } catch (err) {
    refuse(`cannot load --cert/--key: ${(err as Error).message}`);
  }
  return await ctx.wrapSocket(listener, { serverSide: true, doHandshakeOnConnect: false });
}

/** A TLS failure in a few words, with what to try. */
function tlsHint(err: unknown): string {
  if (err instanceof SSLCertVerificationError) {
    return `${err.verifyMessage} (use --cafile with the server's CA, or --insecure to skip the check)`;
  }
  if (err instanceof SSLError && err.reason === "WRONG_VERSION_NUMBER") {
    return "the server does not speak TLS on this port";
  }
  return (err as Error).message;
}
