/**
 * `deno task tls-example-certs`: makes the certificates the TLS examples use — a throwaway CA
 * and a certificate for localhost and 127.0.0.1 — with openssl, in `.tls-example/` at the
 * repository root (or `$PYSOCK_TLS_EXAMPLE_DIR`). The directory is git-ignored; its keys are
 * never committed. The examples themselves start no programs; this tool is the one that does.
 *
 * @module
 */

import { exampleCertDir } from "../examples/_tls_example.ts";

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

const dir = exampleCertDir();
await Deno.mkdir(dir, { recursive: true });
const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
await openssl(
  dir,
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
await openssl(dir, "req", ...ec, "-subj", "/CN=localhost", "-keyout", "key.pem", "-out", "req.pem");
await Deno.writeTextFile(`${dir}/ext`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
await openssl(
  dir,
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
// The CA's key signs nothing else: it goes, so no one can issue more with it.
for (const name of ["ca.key", "req.pem", "ext"]) await Deno.remove(`${dir}/${name}`);
console.log(`made ${dir}/ca.pem, cert.pem and key.pem (valid 30 days)`);
