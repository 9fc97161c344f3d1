// Loading what an SSLContext trusts and presents: certificate chains and
// keys (load_cert_chain), CA certificates from files, directories and data
// (load_verify_locations), as OpenSSL reads them: checked when loaded, with
// Python's errors; and the server name a client sends, as Python's idna
// codec encodes it.

import type { X509Certificate } from "node:crypto";
import { nodeBuffer, nodeCrypto, x509 } from "./_node.ts";
import { describe } from "./_address.ts";
import { pemBlocks } from "./_ssl_cert.ts";
import { SSLError } from "./_ssl_errors.ts";
import { fromDenoError } from "./errors.ts";

/** A password for an encrypted key: text, bytes, or a function returning either (Python's callable). */
export type KeyPassword = string | Uint8Array | (() => string | Uint8Array);

const SSL_ERROR_NONE = 0;

/**
 * A certificate chain and its key, from PEM files, as Python's
 * `load_cert_chain` reads them.
 * @returns The chain as PEM text, and the key as unencrypted PKCS #8 PEM.
 * @throws {SSLError} `PEM lib` for no certificate or key, one that cannot be
 *   read, or a wrong password; `KEY_VALUES_MISMATCH` for a key that is not
 *   the certificate's.
 * @throws {TypeError|RangeError} for a password Python refuses.
 */
export function loadChain(
  certfile: string,
  keyfile: string | null,
  password: KeyPassword | null,
): { chain: string; key: string } {
  // Every argument's type before any file is read, as CPython checks them.
  if (keyfile !== null && typeof keyfile !== "string") {
    throw new TypeError(`Cannot load cert chain: keyfile must be a path, got ${describe(keyfile)}`);
  }
  if (
    password !== null && typeof password !== "string" && typeof password !== "function" &&
    !(password instanceof Uint8Array)
  ) {
    throw new TypeError(
      `Cannot load cert chain: password should be a string or callable, got ${describe(password)}`,
    );
  }
  const certText = readText(certfile);
  const keyText = keyfile === null ? certText : readText(keyfile);
  const chain = pemBlocks(certText);
  if (chain.length === 0) throw pemError(`no certificate in ${certfile}`);
  const keyPem = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/.exec(
    keyText,
  );
  if (keyPem === null) throw pemError(`no private key in ${keyfile ?? certfile}`);
  const given = password;
  // As OpenSSL asks: a callback only for an encrypted key, and its errors are the caller's.
  const encrypted = /ENCRYPTED/.test(keyPem[0]);
  const secret = typeof given === "function" ? (encrypted ? given() : null) : given;
  if (secret !== null && typeof secret !== "string" && !(secret instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot load cert chain: password callback must return a string, got ${describe(secret)}`,
    );
  }
  const passphrase = typeof secret === "string" ? nodeBuffer().Buffer.from(secret) : secret;
  if (passphrase !== null && passphrase.length > 1024) {
    throw new RangeError("Cannot load cert chain: password cannot be longer than 1024 bytes");
  }
  let key;
  try {
    key = nodeCrypto().createPrivateKey({
      key: keyPem[0],
      passphrase: passphrase === null ? undefined : nodeBuffer().Buffer.from(passphrase),
    });
  } catch (err) {
    throw pemError(
      password ? "the key does not decrypt with this password" : "the key cannot be read",
      err,
    );
  }
  let leaf: X509Certificate;
  try {
    leaf = x509(chain[0]);
  } catch (err) {
    throw pemError(`the certificate in ${certfile} cannot be read`, err);
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new SSLError(116, "key values mismatch", {
      reason: "KEY_VALUES_MISMATCH",
      library: "X509",
    });
  }
  return {
    chain: chain.join("\n"),
    key: key.export({ format: "pem", type: "pkcs8" }) as string,
  };
}

/**
 * The CA certificates in `cafile`, `capath` and `cadata`, as Python's
 * `load_verify_locations` takes them, each read now (a malformed one fails
 * here, as OpenSSL's load does) and given back as PEM.
 * @throws {SSLError} for a file or data without a certificate, or with one
 *   that cannot be read; {TypeError} for arguments of the wrong type.
 */
export function trustedIn(
  cafile: string | null,
  capath: string | null,
  cadata: string | Uint8Array | null,
): string[] {
  if (capath != null && typeof capath !== "string") {
    throw new TypeError(
      `Cannot load verify locations: capath should be a valid filesystem path, got ${
        describe(capath)
      }`,
    );
  }
  if (cafile != null && typeof cafile !== "string") {
    throw new TypeError(
      `Cannot load verify locations: cafile should be a valid filesystem path, got ${
        describe(cafile)
      }`,
    );
  }
  if (cadata != null && typeof cadata !== "string" && !(cadata instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot load verify locations: cadata should be a str or bytes, got ${describe(cadata)}`,
    );
  }
  // Python's ValueError, before any file is read.
  if (cadata != null && cadata.length === 0) {
    throw new RangeError("Cannot load verify locations: empty certificate data");
  }
  // CPython loads cadata before cafile and capath: its failure comes first.
  const found = cadata == null ? [] : certsInData(cadata).map((pem) => readCert(pem).toString());
  if (cafile != null) found.push(...certsIn(readText(cafile), cafile));
  if (capath != null) {
    // OpenSSL looks in capath only when it verifies, so a file there that
    // is no certificate fails nothing: it is left out; and a capath that is
    // no directory (or none at all) fails nothing either: it trusts nothing.
    for (const entry of readDirOrNothing(capath)) {
      if (!entry.isFile) continue;
      for (const pem of pemBlocks(readText(`${capath}/${entry.name}`))) {
        if (canRead(pem)) found.push(pem);
      }
    }
  }
  return found.map((pem) => readCert(pem).toString());
}

function certsInData(cadata: string | Uint8Array): string[] {
  if (typeof cadata !== "string") return derCerts(cadata);
  const blocks = pemBlocks(cadata);
  if (blocks.length === 0) {
    // CPython raises this one with its own text only: errno 0, no reason.
    throw new SSLError(SSL_ERROR_NONE, "no start line: cadata does not contain a certificate");
  }
  return blocks;
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    throw fromDenoError(err, path);
  }
}

function readDirOrNothing(path: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(path)];
  } catch {
    return [];
  }
}

function certsIn(text: string, where: string): string[] {
  const found = pemBlocks(text);
  if (found.length === 0) {
    throw new SSLError(136, `no certificate or crl found in ${where}`, {
      reason: "NO_CERTIFICATE_OR_CRL_FOUND",
      library: "X509",
    });
  }
  return found;
}

// The certificates of DER `cadata`: one DER SEQUENCE after another.
function derCerts(der: Uint8Array): string[] {
  const certs: string[] = [];
  for (let at = 0; at < der.length;) {
    const end = at + derLength(der, at);
    try {
      certs.push(x509(der.subarray(at, end)).toString());
    } catch (err) {
      throw new SSLError(SSL_ERROR_NONE, "not enough data: cadata does not contain a certificate", {
        cause: err,
      });
    }
    at = end;
  }
  return certs;
}

// The whole length of the DER element at `at` (tag, length and contents),
// or what is left when the header is not one.
function derLength(der: Uint8Array, at: number): number {
  const first = der[at + 1];
  if (der[at] !== 0x30 || first === undefined) return der.length - at;
  if (first < 0x80) return 2 + first;
  const bytes = first & 0x7f;
  let length = 0;
  for (let i = 0; i < bytes && i < 4; i++) length = length * 256 + (der[at + 2 + i] ?? 0);
  return Math.min(2 + bytes + length, der.length - at);
}

/**
 * A host name as Python's `idna` codec (IDNA 2003) encodes it: unchanged
 * when ASCII, otherwise A-labels. UTS #46's transitional mapping is
 * IDNA 2003's for the four characters where the two differ (ß → ss,
 * ς → σ, ZWJ and ZWNJ dropped); the URL parser then gives the A-labels.
 * @throws {TypeError} for a name that cannot be encoded (Python's UnicodeError).
 */
export function idnaEncode(host: string): string {
  if (![...host].some((c) => c.codePointAt(0)! > 0x7f)) return host;
  const mapped = host.replace(/ß/g, "ss").replace(/ς/g, "σ").replace(/[\u200c\u200d]/g, "");
  try {
    return new URL(`http://${mapped}/`).hostname;
  } catch {
    throw new TypeError(
      `Cannot wrap socket: serverHostname ${JSON.stringify(host)} is no IDNA name`,
    );
  }
}

function canRead(pem: string): boolean {
  try {
    x509(pem);
    return true;
  } catch {
    return false;
  }
}

function readCert(pem: string): X509Certificate {
  try {
    return x509(pem);
  } catch (err) {
    throw pemError("a certificate cannot be read", err);
  }
}

// CPython's errno for "PEM lib": OpenSSL 3's packed ERR_R_PEM_LIB (ERR_LIB_PEM
// with the common-reason flag); OpenSSL 1.1 gave 9.
const ERR_R_PEM_LIB = 0x80009;

export function pemError(detail: string, cause?: unknown): SSLError {
  return new SSLError(ERR_R_PEM_LIB, `PEM lib (${detail})`, { library: "SSL", cause });
}
