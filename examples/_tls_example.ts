// Where the TLS examples find their certificates: `.tls-example/` at the
// repository root (or $PYSOCK_TLS_EXAMPLE_DIR), made by
// `deno task tls-example-certs` (tools/tls_example_certs.ts). The examples
// only read them.

/** The example's certificate files. */
export interface ExampleCerts {
  /** The CA a client trusts (PEM). */
  ca: string;
  /** The server's certificate (PEM). */
  cert: string;
  /** The server's private key (PEM). */
  key: string;
}

/** The directory of the example certificates. */
export function exampleCertDir(): string {
  return Deno.env.get("PYSOCK_TLS_EXAMPLE_DIR") ??
    new URL("../.tls-example", import.meta.url).pathname;
}

/**
 * The example certificates.
 *
 * @returns Their paths.
 * @throws {Error} when they have not been made yet, saying how to make them.
 */
export function exampleCerts(): ExampleCerts {
  const dir = exampleCertDir();
  const files = { ca: `${dir}/ca.pem`, cert: `${dir}/cert.pem`, key: `${dir}/key.pem` };
  try {
    Deno.statSync(files.key);
  } catch {
    console.error(`no example certificates in ${dir}: run \`deno task tls-example-certs\` first`);
    Deno.exit(1);
  }
  return files;
}
