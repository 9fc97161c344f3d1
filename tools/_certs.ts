// One throwaway CA and a certificate it signs for localhost and 127.0.0.1,
// made with openssl: what the TLS examples (tools/tls_example_certs.ts) and
// the TLS benchmark (bench/tls.ts) both need. Keys are made at run time and
// never committed.

/** Where the files are. */
export type LocalhostCerts = {
  /** The server certificate (PEM). */
  cert: string;
  /** Its private key (PEM). */
  key: string;
  /** The CA certificate that signed it (PEM). */
  ca: string;
};

/** Runs `openssl args…` in `cwd`; throws with its stderr when it fails. */
export async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/**
 * Makes `ca.pem`, `cert.pem` and `key.pem` in `dir` (P-256 keys). The CA's
 * key and the signing request are removed afterwards, so nothing else can
 * be signed with that CA.
 *
 * @param dir An existing directory.
 * @param caName The CA's common name.
 * @param days How long both certificates are valid.
 * @returns The paths.
 */
export async function makeLocalhostCerts(
  dir: string,
  caName: string,
  days: number,
): Promise<LocalhostCerts> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const valid = ["-days", String(days)];
  await openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-subj",
    `/CN=${caName}`,
    ...valid,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  await openssl(
    dir,
    "req",
    ...ec,
    "-subj",
    "/CN=localhost",
    "-keyout",
    "key.pem",
    "-out",
    "req.pem",
  );
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
    ...valid,
    "-extfile",
    "ext",
    "-out",
    "cert.pem",
  );
  for (const name of ["ca.key", "req.pem", "ext"]) await Deno.remove(`${dir}/${name}`);
  return { cert: `${dir}/cert.pem`, key: `${dir}/key.pem`, ca: `${dir}/ca.pem` };
}
