// Certificates for the TLS examples: a throwaway CA and a certificate for
// localhost / 127.0.0.1, made with openssl the first time an example needs
// them, in $TMPDIR/pysock-tls-example (shared, so a server and its client
// started separately trust the same CA). The keys never leave that directory.

/** Where the example's certificate files are. */
export interface ExampleCerts {
  /** The CA a client trusts (PEM). */
  ca: string;
  /** The server's certificate (PEM). */
  cert: string;
  /** The server's private key (PEM). */
  key: string;
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  let output;
  try {
    output = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
      .output();
  } catch (err) {
    throw new Error(
      `the TLS examples make their certificates with openssl, which did not run (${err}); ` +
        "install openssl",
    );
  }
  if (!output.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/**
 * The example certificates, made on first use.
 *
 * @returns Their paths.
 */
export async function exampleCerts(): Promise<ExampleCerts> {
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/pysock-tls-example`;
  const files = { ca: `${dir}/ca.pem`, cert: `${dir}/cert.pem`, key: `${dir}/key.pem` };
  try {
    await Deno.stat(files.key);
    return files;
  } catch { /* not made yet */ }
  // Made in a scratch directory and renamed into place, so a server and a
  // client starting together never see half a set.
  const scratch = await Deno.makeTempDir({ prefix: "pysock-tls-example-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl(
    scratch,
    "req",
    "-x509",
    ...ec,
    "-subj",
    "/CN=pysock example CA",
    "-days",
    "30",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  await openssl(
    scratch,
    "req",
    ...ec,
    "-subj",
    "/CN=localhost",
    "-keyout",
    "key.pem",
    "-out",
    "req.pem",
  );
  await Deno.writeTextFile(`${scratch}/ext`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await openssl(
    scratch,
    "x509",
    "-req",
    "-in",
    "req.pem",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-set_serial",
    "1",
    "-days",
    "30",
    "-extfile",
    "ext",
    "-out",
    "cert.pem",
  );
  await Deno.remove(`${scratch}/ca.key`);
  try {
    await Deno.rename(scratch, dir);
  } catch {
    // Another example made them first.
    await Deno.remove(scratch, { recursive: true });
  }
  return files;
}
