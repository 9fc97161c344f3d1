// An X.509 certificate as Python's SSLSocket.getpeercert() shows it: a small
// DER reader producing the dict CPython's _ssl.c builds (_decode_certificate),
// key for key. node:tls's getPeerCertificate() merges multi-valued RDNs and
// renames fields, and node:crypto's X509Certificate gives strings to re-parse,
// so the DER is read here instead: the fields are few and their encoding is fixed.

/** One `(name, value)` pair of a distinguished name. */
export type NameAttribute = [name: string, value: string];
/** A relative distinguished name: one or more attributes (`OU=A+OU=B` is two). */
export type RelativeName = NameAttribute[];
/** A distinguished name, as Python's tuple of RDN tuples. */
export type DistinguishedName = RelativeName[];
/** One subjectAltName entry: `["DNS", "localhost"]`, `["IP Address", "127.0.0.1"]`, ... */
export type AltName = [type: string, value: string] | [type: "DirName", value: DistinguishedName];

/**
 * A certificate as Python's `getpeercert()` returns it. Keys appear in
 * Python's order; optional ones only when the certificate has them.
 */
export interface PeerCertificate {
  /** The subject, e.g. `[[["commonName", "localhost"]]]`. */
  subject: DistinguishedName;
  /** The issuer, in the same form. */
  issuer: DistinguishedName;
  /** The X.509 version (3 for v3). */
  version: number;
  /** The serial number in upper-case hex, as OpenSSL prints it (`"07"`, `"2CD3964F"`). */
  serialNumber: string;
  /** Start of validity, `"Dec  2 16:10:28 2026 GMT"` (OpenSSL's format). */
  notBefore: string;
  /** End of validity, in the same format. */
  notAfter: string;
  /** The subject alternative names, when present. */
  subjectAltName?: AltName[];
  /** OCSP responder URIs (authority information access), when present. */
  OCSP?: string[];
  /** CA issuer URIs (authority information access), when present. */
  caIssuers?: string[];
  /** CRL distribution point URIs, when present. */
  crlDistributionPoints?: string[];
}

// OpenSSL's long names (OBJ_nid2ln) for the attributes certificates use;
// others print as dotted OIDs, as OpenSSL prints OIDs it does not know.
const NAMES: Record<string, string> = {
  "2.5.4.3": "commonName",
  "2.5.4.4": "surname",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "countryName",
  "2.5.4.7": "localityName",
  "2.5.4.8": "stateOrProvinceName",
  "2.5.4.9": "streetAddress",
  "2.5.4.10": "organizationName",
  "2.5.4.11": "organizationalUnitName",
  "2.5.4.12": "title",
  "2.5.4.13": "description",
  "2.5.4.15": "businessCategory",
  "2.5.4.17": "postalCode",
  "2.5.4.18": "postOfficeBox",
  "2.5.4.41": "name",
  "2.5.4.42": "givenName",
  "2.5.4.43": "initials",
  "2.5.4.44": "generationQualifier",
  "2.5.4.45": "x500UniqueIdentifier",
  "2.5.4.46": "dnQualifier",
  "2.5.4.65": "pseudonym",
  "2.5.4.97": "organizationIdentifier",
  "1.2.840.113549.1.9.1": "emailAddress",
  "0.9.2342.19200300.100.1.1": "userId",
  "0.9.2342.19200300.100.1.25": "domainComponent",
  "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionLocalityName",
  "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionStateOrProvinceName",
  "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionCountryName",
};

const OID_SAN = "2.5.29.17";
const OID_AIA = "1.3.6.1.5.5.7.1.1";
const OID_CRL_DP = "2.5.29.31";
const OID_OCSP = "1.3.6.1.5.5.7.48.1";
const OID_CA_ISSUERS = "1.3.6.1.5.5.7.48.2";
const OID_EKU = "2.5.29.37";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A DER element: its tag and where its contents lie in the buffer. */
interface Element {
  tag: number;
  start: number;
  end: number;
}

/** Reads DER elements from a buffer; every read is bounds-checked. */
class Der {
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  /** The element at `pos`, which must end by `limit`. */
  at(pos: number, limit: number): Element {
    const buf = this.buf;
    if (pos + 2 > limit) throw malformed();
    const tag = buf[pos];
    let len = buf[pos + 1];
    let start = pos + 2;
    if (len & 0x80) {
      const count = len & 0x7f;
      if (count === 0 || count > 4 || start + count > limit) throw malformed();
      len = 0;
      for (let i = 0; i < count; i++) len = len * 256 + buf[start + i];
      start += count;
    }
    if (start + len > limit) throw malformed();
    return { tag, start, end: start + len };
  }

  /** The elements inside a constructed element. */
  children(parent: Element): Element[] {
    const out: Element[] = [];
    for (let pos = parent.start; pos < parent.end;) {
      const child = this.at(pos, parent.end);
      out.push(child);
      pos = child.end;
    }
    return out;
  }

  bytes(el: Element): Uint8Array {
    return this.buf.subarray(el.start, el.end);
  }
}

function malformed(): TypeError {
  return new TypeError("Cannot decode certificate: malformed DER");
}

/**
 * Decodes a DER certificate into Python's `getpeercert()` dict.
 *
 * @param der The certificate, DER-encoded (`getpeercert(true)`).
 * @returns The dict, key for key as CPython builds it.
 * @throws {TypeError} for bytes that are not a DER certificate.
 */
export function decodeCertificate(der: Uint8Array): PeerCertificate {
  const d = new Der(der);
  const cert = d.at(0, der.length);
  const [tbs] = d.children(cert);
  if (tbs === undefined || tbs.tag !== 0x30) throw malformed();
  const fields = d.children(tbs);
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === 0xa0) {
    const [v] = d.children(fields[0]);
    version = Number(integer(d.bytes(v))) + 1;
    i++;
  }
  const serial = fields[i++];
  i++; // signature algorithm
  const issuer = fields[i++];
  const validity = fields[i++];
  const subject = fields[i++];
  if (
    serial === undefined || issuer === undefined || validity === undefined || subject === undefined
  ) {
    throw malformed();
  }
  const [notBefore, notAfter] = d.children(validity);
  const out: PeerCertificate = {
    subject: decodeName(d, subject),
    issuer: decodeName(d, issuer),
    version,
    serialNumber: serialHex(d.bytes(serial)),
    notBefore: formatTime(d, notBefore),
    notAfter: formatTime(d, notAfter),
  };
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions !== undefined) addExtensions(d, extensions, out);
  return out;
}

function addExtensions(d: Der, wrapper: Element, out: PeerCertificate): void {
  const [list] = d.children(wrapper);
  for (const ext of d.children(list)) {
    const parts = d.children(ext);
    const id = oid(d.bytes(parts[0]));
    const value = parts[parts.length - 1];
    const inner = d.at(value.start, value.end);
    if (id === OID_SAN) out.subjectAltName = d.children(inner).map((n) => altName(d, n));
    else if (id === OID_AIA) addAccess(d, inner, out);
    else if (id === OID_CRL_DP) {
      const uris: string[] = [];
      for (const point of d.children(inner)) {
        const name = d.children(point).find((p) => p.tag === 0xa0);
        if (name === undefined) continue;
        const full = d.children(name).find((p) => p.tag === 0xa0);
        if (full === undefined) continue;
        for (const g of d.children(full)) if (g.tag === 0x86) uris.push(latin1(d.bytes(g)));
      }
      if (uris.length > 0) out.crlDistributionPoints = uris;
    }
  }
}

function addAccess(d: Der, seq: Element, out: PeerCertificate): void {
  for (const desc of d.children(seq)) {
    const [method, location] = d.children(desc);
    if (location?.tag !== 0x86) continue;
    const key = oid(d.bytes(method));
    const uri = latin1(d.bytes(location));
    if (key === OID_OCSP) (out.OCSP ??= []).push(uri);
    else if (key === OID_CA_ISSUERS) (out.caIssuers ??= []).push(uri);
  }
}

/** One GeneralName, labelled as CPython labels it. */
function altName(d: Der, el: Element): AltName {
  switch (el.tag) {
    case 0x81:
      return ["email", latin1(d.bytes(el))];
    case 0x82:
      return ["DNS", latin1(d.bytes(el))];
    case 0x86:
      return ["URI", latin1(d.bytes(el))];
    case 0x87:
      return ["IP Address", formatIp(d.bytes(el))];
    case 0x88: {
      const id = oid(d.bytes(el));
      return ["Registered ID", NAMES[id] ?? id];
    }
    case 0xa4:
      return ["DirName", decodeName(d, d.children(el)[0])];
    case 0xa3:
      return ["X400Address", "<unsupported>"];
    case 0xa5:
      return ["EdiPartyName", "<unsupported>"];
    default:
      return ["othername", "<unsupported>"];
  }
}

function decodeName(d: Der, name: Element): DistinguishedName {
  return d.children(name).map((rdn) =>
    d.children(rdn).map((attr): NameAttribute => {
      const [type, value] = d.children(attr);
      const id = oid(d.bytes(type));
      return [NAMES[id] ?? id, stringValue(d.bytes(value), value.tag)];
    })
  );
}

/** An attribute value as UTF-8 text, as OpenSSL's ASN1_STRING_to_UTF8 gives it. */
function stringValue(bytes: Uint8Array, tag: number): string {
  if (tag === 0x0c) return new TextDecoder().decode(bytes);
  if (tag === 0x1e) return new TextDecoder("utf-16be").decode(bytes);
  if (tag === 0x1c) {
    let text = "";
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      text += String.fromCodePoint(
        ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0,
      );
    }
    return text;
  }
  // PrintableString, IA5String, T61String (OpenSSL reads it as Latin-1), ...
  return latin1(bytes);
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}

function oid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw malformed();
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

function integer(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

/** The serial as OpenSSL's i2a_ASN1_INTEGER prints it: magnitude bytes in hex, `-` if negative. */
function serialHex(bytes: Uint8Array): string {
  let magnitude = bytes;
  let sign = "";
  if (bytes.length > 0 && bytes[0] & 0x80) {
    sign = "-";
    const value = (1n << BigInt(bytes.length * 8)) - integer(bytes);
    const hex = value.toString(16);
    magnitude = hexBytes(hex.length % 2 ? `0${hex}` : hex);
  }
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let out = sign;
  for (let i = start; i < magnitude.length; i++) {
    out += magnitude[i].toString(16).toUpperCase().padStart(2, "0");
  }
  return out === sign ? `${sign}00` : out;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** UTCTime or GeneralizedTime as `[year, month (1-12), day, hour, minute, second]`. */
function parseTime(d: Der, el: Element | undefined): number[] {
  if (el === undefined || (el.tag !== 0x17 && el.tag !== 0x18)) throw malformed();
  const text = latin1(d.bytes(el));
  const short = el.tag === 0x17;
  const digits = short ? text.slice(0, 12) : text.slice(0, 14);
  if (!/^\d+$/.test(digits)) throw malformed();
  let year = Number(digits.slice(0, short ? 2 : 4));
  // RFC 5280: two-digit years 50-99 are 19xx.
  if (short) year += year >= 50 ? 1900 : 2000;
  const rest = digits.slice(short ? 2 : 4);
  const parts = [year];
  for (let i = 0; i < 10; i += 2) parts.push(Number(rest.slice(i, i + 2)));
  if (parts[1] < 1 || parts[1] > 12) throw malformed();
  return parts;
}

/** A time as OpenSSL's ASN1_TIME_print writes it: `Dec  2 16:10:28 2026 GMT`. */
function formatTime(d: Der, el: Element | undefined): string {
  const [year, month, day, h, m, s] = parseTime(d, el);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${MONTHS[month - 1]} ${String(day).padStart(2, " ")} ${two(h)}:${two(m)}:${
    two(s)
  } ${year} GMT`;
}

/**
 * The extended key usages (OIDs) of a DER certificate, or `null` when it
 * has no extendedKeyUsage extension (any use, for OpenSSL's purpose checks).
 */
export function extendedKeyUsage(der: Uint8Array): string[] | null {
  const d = new Der(der);
  const [tbs] = d.children(d.at(0, der.length));
  const wrapper = d.children(tbs).find((f) => f.tag === 0xa3);
  if (wrapper === undefined) return null;
  for (const ext of d.children(d.children(wrapper)[0])) {
    const parts = d.children(ext);
    if (oid(d.bytes(parts[0])) !== OID_EKU) continue;
    const value = parts[parts.length - 1];
    return d.children(d.at(value.start, value.end)).map((el) => oid(d.bytes(el)));
  }
  return null;
}

/** When a DER certificate is valid, as epoch milliseconds: `[notBefore, notAfter]`. */
export function validity(der: Uint8Array): [number, number] {
  const d = new Der(der);
  const [tbs] = d.children(d.at(0, der.length));
  const fields = d.children(tbs);
  const at = fields[0]?.tag === 0xa0 ? 4 : 3;
  const [from, to] = d.children(fields[at]).map((el) => {
    const [year, month, day, h, m, s] = parseTime(d, el);
    return Date.UTC(year, month - 1, day, h, m, s);
  });
  return [from, to];
}

/** An iPAddress entry as CPython prints it: dotted IPv4, or 8 upper-case hex groups. */
function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) return "<invalid>";
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16).toUpperCase());
  }
  return groups.join(":");
}

const PEM_HEADER = "-----BEGIN CERTIFICATE-----";
const PEM_FOOTER = "-----END CERTIFICATE-----";

/**
 * A DER certificate as PEM text (Python's `ssl.DER_cert_to_PEM_cert`).
 *
 * @param der The certificate bytes.
 * @returns The PEM text, 64 characters a line, ending in a newline.
 *
 * @example
 * ```ts
 * import { DERCertToPEMCert, PEMCertToDERCert } from "./ssl.ts";
 * import { deepEqual, ok } from "node:assert/strict";
 * const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]);
 * const pem = DERCertToPEMCert(der);
 * ok(pem.startsWith("-----BEGIN CERTIFICATE-----\n"));
 * deepEqual(PEMCertToDERCert(pem), der);
 * ```
 */
export function DERCertToPEMCert(der: Uint8Array): string {
  if (!(der instanceof Uint8Array)) {
    throw new TypeError("Cannot convert certificate: expected DER bytes (a Uint8Array)");
  }
  const b64 = der.toBase64();
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `${PEM_HEADER}\n${lines.join("\n")}\n${PEM_FOOTER}\n`;
}

/**
 * The DER bytes of a PEM certificate (Python's `ssl.PEM_cert_to_DER_cert`).
 *
 * @param pem The PEM text of one certificate.
 * @returns The DER bytes.
 * @throws {TypeError} when the text is not one PEM certificate.
 *
 * @example
 * ```ts
 * import { PEMCertToDERCert } from "./ssl.ts";
 * import { throws } from "node:assert/strict";
 * throws(() => PEMCertToDERCert("not a certificate"), TypeError);
 * ```
 */
export function PEMCertToDERCert(pem: string): Uint8Array {
  if (typeof pem !== "string" || !pem.startsWith(PEM_HEADER)) {
    throw new TypeError(`Cannot decode PEM certificate: it must start with ${PEM_HEADER}`);
  }
  const body = pem.trim();
  if (!body.endsWith(PEM_FOOTER)) {
    throw new TypeError(`Cannot decode PEM certificate: it must end with ${PEM_FOOTER}`);
  }
  const b64 = body.slice(PEM_HEADER.length, -PEM_FOOTER.length).replace(/\s+/g, "");
  return Uint8Array.fromBase64(b64);
}

/** Every PEM block of `kind` (`CERTIFICATE`, ...) in `text`, each with its markers. */
export function pemBlocks(text: string, kind = "CERTIFICATE"): string[] {
  const re = new RegExp(`-----BEGIN ${kind}-----[\\s\\S]+?-----END ${kind}-----`, "g");
  return text.match(re) ?? [];
}
