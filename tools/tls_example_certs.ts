/**
 * `deno task tls-example-certs`: makes the certificates the TLS examples use — a throwaway CA
 * and a certificate for localhost and 127.0.0.1 — with openssl, in `.tls-example/` at the
 * repository root (or `$PYSOCK_TLS_EXAMPLE_DIR`). The directory is git-ignored; its keys are
 * never committed. The examples themselves start no programs; this tool is the one that does.
 *
 * @module
 */

import { exampleCertDir } from "../examples/_tls_example.ts";
import { makeLocalhostCerts } from "./_certs.ts";

const dir = exampleCertDir();
await Deno.mkdir(dir, { recursive: true });
// The CA's key signs nothing else: makeLocalhostCerts removes it, so no one can issue more with it.
await makeLocalhostCerts(dir, "pysock example CA", 30);
console.log(`made ${dir}/ca.pem, cert.pem and key.pem (valid 30 days)`);
