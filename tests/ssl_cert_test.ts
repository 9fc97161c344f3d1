// The certificate decoder behind getpeercert() (_ssl_cert.ts), against
// CPython's own decoder (ssl._ssl._test_decode_cert) for the same files.

import { deepEqual, equal, throws } from "node:assert/strict";
import { decodeCertificate, validity } from "../_ssl_cert.ts";
import { DERCertToPEMCert, PEMCertToDERCert } from "../ssl.ts";
import { certs, pythonDecode, pythonDecodeAll } from "./_ssl_helpers.ts";

async function der(path: string): Promise<Uint8Array> {
  return PEMCertToDERCert(await Deno.readTextFile(path));
}

Deno.test("a certificate with every name form and extension decodes to CPython's dict, key for key", async () => {
  const c = await certs();
  const python = await pythonDecode(c.rich);
  const ours = decodeCertificate(await der(c.rich));
  deepEqual(ours, python);
  // Key order too: Python's dict order, as CPython builds it.
  deepEqual(Object.keys(ours), Object.keys(python as object));
});

Deno.test("the test CA, client, expired and foreign certificates decode to CPython's dicts", async () => {
  const c = await certs();
  const paths = [c.ca, c.client, c.expired, c.stranger, c.otherCa, c.selfSigned, c.wrong];
  const python = await pythonDecodeAll(paths);
  for (const [i, path] of paths.entries()) {
    deepEqual(decodeCertificate(await der(path)), python[i], path);
  }
});

Deno.test("validity gives the certificate's dates as epoch milliseconds", async () => {
  const c = await certs();
  deepEqual(validity(await der(c.expired)), [
    Date.UTC(2020, 0, 1, 0, 0, 0),
    Date.UTC(2020, 0, 2, 0, 0, 0),
  ]);
});

Deno.test("bytes that are not a DER certificate are a TypeError, not a crash or a wrong dict", async () => {
  const c = await certs();
  const good = await der(c.server);
  for (
    const bad of [new Uint8Array(0), new Uint8Array([0x30]), good.subarray(0, good.length - 40)]
  ) {
    throws(() => decodeCertificate(bad), TypeError);
  }
  // A length that claims more than the buffer holds.
  const lying = good.slice();
  lying[1] = 0x84;
  throws(() => decodeCertificate(lying), TypeError);
});

Deno.test("DERCertToPEMCert and PEMCertToDERCert round-trip, as Python's functions do, and refuse non-PEM text", async () => {
  const c = await certs();
  const pem = await Deno.readTextFile(c.server);
  const bytes = PEMCertToDERCert(pem);
  equal(DERCertToPEMCert(bytes), pem);
  throws(() => PEMCertToDERCert("-----BEGIN CERTIFICATE-----\nAAAA\n"), TypeError);
  throws(() => PEMCertToDERCert(42 as unknown as string), TypeError);
});
