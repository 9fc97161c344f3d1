// Helpers for the TLS tests: throwaway certificates made with openssl at test
// time (never committed), and peers (CPython's ssl, openssl s_server and
// s_client) driven over stdin/stdout.

import { equal, ok } from "node:assert/strict";
import { decoder, encoder } from "./_helpers.ts";
import {
  PROTOCOL_TLS_CLIENT,
  PROTOCOL_TLS_SERVER,
  SSLCertVerificationError,
  SSLContext,
  SSLError,
} from "../ssl.ts";
import { openssl } from "../tools/_certs.ts";

/** Paths of the certificates and keys of one test run. */
export interface Certs {
  dir: string;
  /** The throwaway CA every good certificate chains to. */
  ca: string;
  /** localhost, 127.0.0.1 and ::1, for servers. */
  server: string;
  serverKey: string;
  /** A client certificate (clientAuth), for mutual TLS. */
  client: string;
  clientKey: string;
  /** localhost, but valid only in January 2020. */
  expired: string;
  expiredKey: string;
  /** Valid, but for wrong.example only. */
  wrong: string;
  wrongKey: string;
  /** localhost, issued by another CA (unknown to the contexts). */
  stranger: string;
  strangerKey: string;
  /** The other CA. */
  otherCa: string;
  /** A self-signed localhost certificate. */
  selfSigned: string;
  selfSignedKey: string;
  /** The server's key, encrypted with the password "secret". */
  serverKeyEncrypted: string;
  /** A certificate with many name forms and extensions (not used for TLS). */
  rich: string;
}

const key = (dir: string, name: string) =>
  openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name);

async function leaf(
  dir: string,
  name: string,
  subject: string,
  ext: string,
  ca = "ca",
): Promise<void> {
  await key(dir, `${name}.key`);
  await openssl(dir, "req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`);
  await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    `0x${crypto.getRandomValues(new Uint8Array(8)).toHex()}`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  );
}

async function makeCerts(): Promise<Certs> {
  const dir = await Deno.makeTempDir({ prefix: "pysock_tls_" });
  const p = (name: string) => `${dir}/${name}`;
  await key(dir, "ca.key");
  const caExt = [
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ];
  await openssl(
    dir,
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    "/C=XX/O=pysock tests/CN=pysock test CA",
    "-days",
    "2",
    ...caExt,
    "-out",
    "ca.pem",
  );
  await key(dir, "other.key");
  await openssl(
    dir,
    "req",
    "-x509",
    "-new",
    "-key",
    "other.key",
    "-subj",
    "/CN=other CA",
    "-days",
    "2",
    ...caExt,
    "-out",
    "other.pem",
  );
  const server = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n";
  await Promise.all([
    leaf(dir, "server", "/C=XX/O=pysock tests/CN=localhost", server),
    leaf(
      dir,
      "client",
      "/C=XX/O=pysock tests/CN=client",
      "subjectAltName=DNS:client\nextendedKeyUsage=clientAuth\n",
    ),
    leaf(dir, "wrong", "/CN=wrong.example", "subjectAltName=DNS:wrong.example\n"),
    leaf(dir, "stranger", "/CN=localhost", server, "other"),
    leaf(
      dir,
      "rich",
      "/C=XX/ST=Some State/L=Town/O=pysock tests/OU=Unit A+OU=Unit B/CN=rich.example/emailAddress=rich@example.org/DC=example",
      "subjectAltName=DNS:localhost,DNS:*.example.org,IP:127.0.0.1,IP:2001:db8::42,email:me@example.org,URI:https://example.org/x,RID:1.2.3.4\n" +
        "authorityInfoAccess=OCSP;URI:http://ocsp.example.org/,caIssuers;URI:http://ca.example.org/ca.crt\n" +
        "crlDistributionPoints=URI:http://crl.example.org/ca.crl\n",
    ),
    (async () => {
      await key(dir, "self.key");
      await openssl(
        dir,
        "req",
        "-x509",
        "-new",
        "-key",
        "self.key",
        "-subj",
        "/CN=localhost",
        "-days",
        "2",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-out",
        "self.pem",
      );
    })(),
  ]);
  // openssl x509 cannot date a certificate in the past; openssl ca can.
  await Deno.mkdir(p("db"));
  await Deno.writeTextFile(p("db/index"), "");
  await Deno.writeTextFile(p("db/serial"), "01\n");
  await Deno.writeTextFile(
    p("ca.cnf"),
    "[ca]\ndefault_ca=d\n[d]\ndatabase=db/index\nserial=db/serial\nnew_certs_dir=db\n" +
      "default_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n" +
      "[x]\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  await key(dir, "expired.key");
  await openssl(
    dir,
    "req",
    "-new",
    "-key",
    "expired.key",
    "-subj",
    "/CN=localhost",
    "-out",
    "expired.csr",
  );
  await openssl(
    dir,
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-cert",
    "ca.pem",
    "-keyfile",
    "ca.key",
    "-in",
    "expired.csr",
    "-out",
    "expired.pem",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-extensions",
    "x",
    "-notext",
  );
  await openssl(
    dir,
    "pkcs8",
    "-topk8",
    "-in",
    "server.key",
    "-out",
    "server.enc.key",
    "-passout",
    "pass:secret",
    "-v2",
    "aes-256-cbc",
  );
  return {
    dir,
    ca: p("ca.pem"),
    server: p("server.pem"),
    serverKey: p("server.key"),
    client: p("client.pem"),
    clientKey: p("client.key"),
    expired: p("expired.pem"),
    expiredKey: p("expired.key"),
    wrong: p("wrong.pem"),
    wrongKey: p("wrong.key"),
    stranger: p("stranger.pem"),
    strangerKey: p("stranger.key"),
    otherCa: p("other.pem"),
    selfSigned: p("self.pem"),
    selfSignedKey: p("self.key"),
    serverKeyEncrypted: p("server.enc.key"),
    rich: p("rich.pem"),
  };
}

let made: Promise<Certs> | null = null;

/**
 * The certificates of this test process, made once on first use and
 * removed when the process exits.
 */
export function certs(): Promise<Certs> {
  if (made === null) {
    made = makeCerts();
    made.then((c) => {
      globalThis.addEventListener("unload", () => {
        try {
          Deno.removeSync(c.dir, { recursive: true });
        } catch { /* already gone */ }
      });
    }, () => {});
  }
  return made;
}

/** A child process whose stdout is read line by line and whose stdin takes lines. */
export class Peer implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #lines: string[] = [];
  #waiters: ((line: string | null) => void)[] = [];
  #ended = false;
  #reading: Promise<void>;
  #stderr: Promise<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Everything printed so far, for messages. */
  seen = "";

  constructor(
    command: string,
    args: string[],
    options: { cwd?: string; env?: Record<string, string> } = {},
  ) {
    this.#child = new Deno.Command(command, {
      args,
      cwd: options.cwd,
      env: options.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#stderr = new Response(this.#child.stderr).text();
    this.#reading = this.#read();
  }

  /** Runs tests/py/ssl_peer.py with `config`. */
  static python(config: Record<string, unknown>): Peer {
    const script = new URL("./py/ssl_peer.py", import.meta.url).pathname;
    return new Peer("python3", [script, JSON.stringify(config)]);
  }

  async #read(): Promise<void> {
    let pending = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      this.seen += chunk;
      pending += chunk;
      let at: number;
      while ((at = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, at).replace(/\r$/, "");
        pending = pending.slice(at + 1);
        const waiter = this.#waiters.shift();
        if (waiter) waiter(line);
        else this.#lines.push(line);
      }
    }
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
  }

  /** The next line printed; rejects if the process ends first. */
  async line(): Promise<string> {
    const next = this.#lines.shift() ??
      (this.#ended ? null : await new Promise<string | null>((r) => this.#waiters.push(r)));
    if (next === null) {
      throw new Error(
        `peer ended without a line; stdout: ${this.seen}; stderr: ${await this.#stderr}`,
      );
    }
    return next;
  }

  /** The next JSON event printed (tests/py/ssl_peer.py). */
  async event(): Promise<Record<string, unknown>> {
    return JSON.parse(await this.line());
  }

  /** The next line that contains `text`. */
  async lineWith(text: string): Promise<string> {
    while (true) {
      const line = await this.line();
      if (line.includes(text)) return line;
    }
  }

  /** Writes `text` to the process's stdin. */
  async write(text: string): Promise<void> {
    await this.#writer.write(encoder.encode(text));
  }

  /** Closes stdin and waits for the exit status. */
  async done(): Promise<{ code: number; stderr: string }> {
    await this.#writer.close().catch(() => {});
    const { code } = await this.#child.status;
    await this.#reading;
    return { code, stderr: await this.#stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill();
    } catch { /* already exited */ }
    await this.#writer.close().catch(() => {});
    await this.#child.status;
    await this.#reading.catch(() => {});
    await this.#stderr.catch(() => {});
  }
}

/** Python's `ssl._ssl._test_decode_cert` of a PEM file: what getpeercert() gives for it. */
export async function pythonDecode(path: string): Promise<unknown> {
  return (await pythonDecodeAll([path]))[0];
}

/** {@linkcode pythonDecode} for several files, in one Python process. */
export async function pythonDecodeAll(paths: string[]): Promise<unknown[]> {
  const code =
    "import json,ssl,sys; print(json.dumps([ssl._ssl._test_decode_cert(p) for p in sys.argv[1:]]))";
  const { stdout, success, stderr } = await new Deno.Command("python3", {
    args: ["-c", code, ...paths],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(decoder.decode(stderr));
  return JSON.parse(decoder.decode(stdout));
}

/** A tests/py/ssl_peer.py config, or an event it printed. */
export type PeerConfig = Record<string, unknown>;

/** The port a Peer.python server printed first. */
export async function portOf(peer: Peer): Promise<number> {
  const event = await peer.event();
  equal(event.event, "port", JSON.stringify(event));
  return event.port as number;
}

/**
 * What a CPython server and a CPython client report for each `[server,
 * client]` pairing of ssl_peer.py configs (tests/py/ssl_oracle.py, one
 * Python process): the first event of each side.
 */
export async function sslOracle(
  pairings: [server: PeerConfig, client: PeerConfig][],
): Promise<{ client: PeerConfig; server: PeerConfig }[]> {
  const script = new URL("./py/ssl_oracle.py", import.meta.url).pathname;
  const { success, stdout, stderr } = await new Deno.Command("python3", {
    args: [script, JSON.stringify(pairings)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`ssl_oracle.py failed: ${decoder.decode(stderr)}`);
  return JSON.parse(decoder.decode(stdout));
}

/** An SSLError's fields, named as ssl_peer.py prints CPython's. */
export function sslErrorFields(err: unknown): PeerConfig {
  ok(err instanceof SSLError, `expected an SSLError, got ${err}`);
  const verify = err instanceof SSLCertVerificationError;
  return {
    class: err.name,
    errno: err.errno,
    reason: err.reason,
    library: err.library,
    verify_code: verify ? err.verifyCode : null,
    verify_message: verify ? err.verifyMessage : null,
    str: err.message,
  };
}

/** The same fields of an ssl_peer.py error event, without the line of _ssl.c Python appends. */
export function pythonErrorFields(event: PeerConfig): PeerConfig {
  const { class: cls, errno, reason, library, verify_code, verify_message } = event;
  const str = String(event.str).replace(/ \(_ssl\.c:\d+\)$/, "");
  return { class: cls, errno, reason, library, verify_code, verify_message, str };
}

/** A server context with the test server's certificate, and a client context that trusts the test CA. */
export async function contexts(): Promise<{ client: SSLContext; server: SSLContext }> {
  const c = await certs();
  const server = new SSLContext(PROTOCOL_TLS_SERVER);
  server.loadCertChain(c.server, c.serverKey);
  const client = new SSLContext(PROTOCOL_TLS_CLIENT);
  client.loadVerifyLocations(c.ca);
  return { client, server };
}
