// Host lookups of Python's socket module: getnameinfo, gethostbyaddr,
// gethostbyname_ex and getfqdn.
//
// Python answers them through glibc's NSS: /etc/hosts first ("files"), then
// DNS. Deno has no gethostbyaddr(3), and Deno.resolveDns only asks DNS
// servers, so this module reads /etc/hosts itself, with glibc's files-backend
// rules (nss/nss_files/files-hosts.c), and hands what the file does not answer
// to the system resolver through node:dns (`lookup` is getaddrinfo(3),
// `lookupService` is getnameinfo(3) with NI_NAMEREQD), which may ask DNS, as
// Python does. Reading the file needs --allow-read=/etc/hosts (and
// /etc/host.conf for its `multi` setting); it is asked without prompting, and
// without it the system resolver answers alone: the same names, but no
// aliases.

import { type AddressInput, checkCString, checkText, describe } from "./_address.ts";
import { AF_INET, AF_INET6, AF_UNSPEC, NI_DGRAM, NI_NAMEREQD } from "./_constants.ts";
import { NI_NOFQDN, NI_NUMERICHOST, NI_NUMERICSERV } from "./_constants.ts";
import {
  formatIpv4,
  formatIpv6,
  isNumericZone,
  parseIpv4Lenient,
  parseIpv4Strict,
  parseIpv6,
  plainOSError,
  takesInterfaceZone,
} from "./_inet.ts";
import { mappedIpv4, resolve } from "./_resolve.ts";
import { getservbyport } from "./_services.ts";
import { EAI, fromDenoError, gaierror, herror, OSError, PermissionError } from "./errors.ts";

/** Where glibc reads the hosts database. */
export const HOSTS_PATH = "/etc/hosts";
/** Where glibc reads resolver settings such as `multi on`. */
export const HOST_CONF_PATH = "/etc/host.conf";

/** One line of a hosts file, its address parsed both ways glibc may read it. */
export interface HostsLine {
  v4: Uint8Array | null;
  v6: Uint8Array | null;
  name: string;
  aliases: string[];
}

/** A hosts-file answer: glibc's `struct hostent`. */
export interface HostEntry {
  name: string;
  aliases: string[];
  addresses: Uint8Array[];
}

/**
 * Parses a hosts file: `#` starts a comment, fields are separated by
 * whitespace, the address must be one `inet_pton` reads, and a line needs a
 * name after it.
 */
export function parseHosts(text: string): HostsLine[] {
  const lines: HostsLine[] = [];
  for (const raw of text.split("\n")) {
    const hash = raw.indexOf("#");
    const fields = (hash === -1 ? raw : raw.slice(0, hash)).split(/[ \t\v\f\r]+/).filter(Boolean);
    if (fields.length < 2) continue;
    const v4 = new Uint8Array(4);
    const v6 = new Uint8Array(16);
    const okV4 = parseIpv4Strict(fields[0], 0, v4, 0);
    const okV6 = !okV4 && parseIpv6(fields[0], v6);
    if (!okV4 && !okV6) continue;
    lines.push({
      v4: okV4 ? v4 : null,
      v6: okV6 ? v6 : null,
      name: fields[1],
      aliases: fields.slice(2),
    });
  }
  return lines;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function isV4Mapped(v6: Uint8Array): boolean {
  return V4_MAPPED_PREFIX.every((b, i) => v6[i] === b);
}

function isLoopback6(v6: Uint8Array): boolean {
  return v6[15] === 1 && v6.subarray(0, 15).every((b) => b === 0);
}

// The address of a line as a query of `family` reads it (glibc's LINE_PARSER):
// an IPv4 query also takes IPv4-mapped lines and reads ::1 as 127.0.0.1. An
// IPv6 query takes IPv6 lines only: glibc 2.36 (Debian 12) maps no IPv4 line
// for it, so `::ffff:127.0.0.1` does not find `127.0.0.1 localhost`.
function lineAddress(line: HostsLine, family: number): Uint8Array | null {
  if (family === AF_INET6) return line.v6;
  if (line.v4) return line.v4;
  if (line.v6 && isV4Mapped(line.v6)) return line.v6.slice(12);
  if (line.v6 && isLoopback6(line.v6)) return new Uint8Array([127, 0, 0, 1]);
  return null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// strcasecmp in the C locale: only ASCII letters fold.
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** glibc's files gethostbyaddr: the first line with this address (4 or 16 bytes). */
export function hostsByAddr(lines: HostsLine[], address: Uint8Array): HostEntry | null {
  const family = address.length === 4 ? AF_INET : AF_INET6;
  for (const line of lines) {
    const mine = lineAddress(line, family);
    if (mine && sameBytes(mine, address)) {
      return { name: line.name, aliases: [...line.aliases], addresses: [address] };
    }
  }
  return null;
}

/**
 * glibc's files gethostbyname2: the first line naming `name` (case-insensitive,
 * canonical name or alias); with `multi`, every later matching line adds its
 * address, its aliases and (when it differs) its canonical name as an alias.
 */
export function hostsByName(
  lines: HostsLine[],
  name: string,
  family: number,
  multi: boolean,
): HostEntry | null {
  const wanted = asciiLower(name);
  let entry: HostEntry | null = null;
  for (const line of lines) {
    const address = lineAddress(line, family);
    if (address === null) continue;
    if (asciiLower(line.name) !== wanted && !line.aliases.some((a) => asciiLower(a) === wanted)) {
      continue;
    }
    if (entry === null) {
      entry = { name: line.name, aliases: [...line.aliases], addresses: [address] };
      if (!multi) break;
      continue;
    }
    entry.addresses.push(address);
    entry.aliases.push(...line.aliases);
    if (line.name !== entry.name) entry.aliases.push(line.name);
  }
  return entry;
}

/** Whether host.conf text turns `multi` on (glibc's default is off). */
export function multiFromHostConf(text: string): boolean {
  let multi = false;
  for (const raw of text.split("\n")) {
    const [key, value] = raw.replace(/#.*/, "").trim().split(/\s+/);
    if (asciiLower(key ?? "") === "multi" && value !== undefined) {
      multi = asciiLower(value) === "on";
    }
  }
  return multi;
}

/** The hosts database, or null when this process may not read it. */
export interface HostsDatabase {
  lines: HostsLine[];
  multi: boolean;
}

async function readIfPermitted(path: string): Promise<string | null> {
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return null;
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    // No file answers nothing, as glibc's files backend finds nothing there.
    if (err instanceof Deno.errors.NotFound) return "";
    throw fromDenoError(err, path);
  }
}

/** Reads /etc/hosts (fresh each call, as glibc does) and host.conf's `multi`. */
export async function readHosts(): Promise<HostsDatabase | null> {
  const text = await readIfPermitted(HOSTS_PATH);
  if (text === null) return null;
  const conf = await readIfPermitted(HOST_CONF_PATH);
  return { lines: parseHosts(text), multi: conf !== null && multiFromHostConf(conf) };
}

// h_errno values and hstrerror's texts, as Python's herror carries them.
const HOST_NOT_FOUND = 1;
const TRY_AGAIN = 2;
const NO_RECOVERY = 3;
const HSTRERROR: Record<number, string> = {
  [HOST_NOT_FOUND]: "Unknown host",
  [TRY_AGAIN]: "Host name lookup failure",
  [NO_RECOVERY]: "Unknown server error",
};

function hostError(code: number, cause?: unknown): herror {
  return new herror(code, { strerror: HSTRERROR[code], cause });
}

/** What a reverse lookup found: the names, or which h_errno it failed with. */
type Reverse = { name: string; aliases: string[] } | { herrno: number; cause?: unknown };

// The host name of an address: /etc/hosts when readable, then getnameinfo(3).
async function reverseLookup(address: Uint8Array): Promise<Reverse> {
  const hosts = await readHosts();
  const hit = hosts && hostsByAddr(hosts.lines, address);
  if (hit) return { name: hit.name, aliases: hit.aliases };
  const text = address.length === 4 ? formatIpv4(bytesToUint(address)) : formatIpv6(address);
  const { lookupService } = await import("node:dns/promises");
  try {
    return { name: (await lookupService(text, 0)).hostname, aliases: [] };
  } catch (err) {
    const translated = fromDenoError(err, text);
    if (translated instanceof OSError) throw translated;
    const code = (err as { code?: string }).code;
    if (code === "EPERM" || code === "EACCES") {
      // node:dns reports Deno's refused permission as a bare EPERM.
      const target = text.includes(":") ? `[${text}]` : text;
      throw fromDenoError(new Deno.errors.NotCapable(String(err)), target);
    }
    if (code === "ENOTFOUND" || code === "ENODATA") return { herrno: HOST_NOT_FOUND, cause: err };
    if (code === "EAI_AGAIN") return { herrno: TRY_AGAIN, cause: err };
    return { herrno: NO_RECOVERY, cause: err };
  }
}

function bytesToUint(b: Uint8Array): number {
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

function uintToBytes(v: number): Uint8Array {
  return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

function formatAddress(address: Uint8Array): string {
  return address.length === 4 ? formatIpv4(bytesToUint(address)) : formatIpv6(address);
}

// An IPv6 literal with an optional zone, as getaddrinfo(AI_NUMERICHOST) takes
// it: a zone is a number, or for a link-local address an interface name.
function parseIpv6WithZone(host: string): Uint8Array | null {
  const zone = host.indexOf("%");
  const bytes = new Uint8Array(16);
  if (!parseIpv6(zone === -1 ? host : host.slice(0, zone), bytes)) return null;
  if (zone === -1) return bytes;
  const scope = host.slice(zone + 1);
  if (isNumericZone(scope)) return bytes;
  return takesInterfaceZone(bytes) && /^[\w.-]+$/.test(scope) ? bytes : null;
}

function checkInt(value: unknown, min: number, max: number, name: string, action: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${action}: ${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Cannot ${action}: ${name} must be ${min}-${max}, got ${value}`);
  }
  return value;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch (err) {
    throw fromDenoError(err, "hostname");
  }
}

let localDomain: string | null | undefined;

// glibc's nrl_domainname: the part of the host name after its first dot, else
// that of its canonical name, else that of 127.0.0.1's name; asked once, as
// glibc does. Here from /etc/hosts only: no DNS query for it.
async function domainName(): Promise<string | null> {
  if (localDomain !== undefined) return localDomain;
  const name = hostname();
  const hosts = await readHosts();
  const canonical = hosts && hostsByName(hosts.lines, name, AF_INET, false)?.name;
  const loopback = hosts && hostsByAddr(hosts.lines, new Uint8Array([127, 0, 0, 1]))?.name;
  const dotted = [name, canonical, loopback].find((n) => n?.includes("."));
  localDomain = dotted ? dotted.slice(dotted.indexOf(".") + 1) : null;
  return localDomain;
}

/** The getnameinfo flags glibc accepts: NI_* and its NI_IDN bits (32, 64, 128). */
const KNOWN_NI_FLAGS = 0xff;

/**
 * Turns an address into a host and a service name (Python's
 * `socket.getnameinfo`). The host must be a numeric address, as in Python; it
 * is looked up in /etc/hosts (with `--allow-read=/etc/hosts`), then through
 * the system resolver (getnameinfo(3), which may ask DNS; needs `--allow-net`
 * for the address), unless `NI_NUMERICHOST` is set. The service comes from
 * {@linkcode getservbyport}.
 *
 * Differences from Python: a port outside 0-65535 is a `RangeError` (Python
 * truncates it, or reports a negative one as `EAI_SERVICE`); a zone is always
 * written as a number (`fe80::1%2`; glibc names a link-local address's
 * interface, which Deno cannot look up), and an interface name in a host's
 * zone (`fe80::1%eth0`) is taken without checking that the interface exists;
 * `NI_NOFQDN` finds the local domain in the host name or /etc/hosts only.
 *
 * @param sockaddr `[host, port]`, or for IPv6 `[host, port, flowinfo, scopeId]`, as
 *   `getpeername()` returns them.
 * @param flags `NI_NUMERICHOST`, `NI_NUMERICSERV`, `NI_NAMEREQD`, `NI_NOFQDN`, `NI_DGRAM`, or'd.
 * @returns `[host, service]`.
 * @throws {gaierror} `EAI_NONAME` for a host that is no numeric address, or
 *   no name with `NI_NAMEREQD`; `EAI_BADFLAGS` for unknown flags.
 * @throws {OSError} `IPv4 sockaddr must be 2 tuple` for a longer IPv4 tuple.
 * @throws {TypeError} / {RangeError} for a malformed tuple or out-of-range numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getnameinfo, NI_NUMERICHOST, NI_NUMERICSERV } from "./mod.ts";
 *
 * assert.deepEqual(await getnameinfo(["127.0.0.1", 80], NI_NUMERICHOST), ["127.0.0.1", "http"]);
 * assert.deepEqual(
 *   await getnameinfo(["0:0:0:0:0:0:0:1", 8080], NI_NUMERICHOST | NI_NUMERICSERV),
 *   ["::1", "8080"],
 * );
 * ```
 */
export async function getnameinfo(
  sockaddr: AddressInput,
  flags: number,
): Promise<[host: string, service: string]> {
  const action = "getnameinfo";
  checkInt(flags, -(2 ** 31), 2 ** 31 - 1, "flags", action);
  if (!Array.isArray(sockaddr) || sockaddr.length < 2 || sockaddr.length > 4) {
    throw new TypeError(
      `Cannot ${action}: sockaddr must be [host, port] or [host, port, flowinfo, scopeId], got ${
        describe(sockaddr)
      }`,
    );
  }
  const host = checkCString(sockaddr[0], action, "host");
  // As CPython parses the tuple: every field's type first, then the ranges.
  const fields = ["port", "flowinfo", "scopeId"] as const;
  for (let i = 1; i < sockaddr.length; i++) {
    checkInt(sockaddr[i], -Infinity, Infinity, fields[i - 1], action);
  }
  const port = checkInt(sockaddr[1], 0, 65535, "port", action);
  if (sockaddr.length > 2) checkInt(sockaddr[2], 0, 0xfffff, "flowinfo", action);
  const scopeId = sockaddr.length > 3 ? checkInt(sockaddr[3], 0, 0xffffffff, "scopeId", action) : 0;
  const v4 = parseIpv4Lenient(host, true);
  const address = v4 >= 0 ? uintToBytes(v4) : parseIpv6WithZone(host);
  if (address === null) throw new gaierror(EAI.EAI_NONAME);
  if (address.length === 4 && sockaddr.length !== 2) {
    throw plainOSError("IPv4 sockaddr must be 2 tuple");
  }
  if ((flags & ~KNOWN_NI_FLAGS) !== 0) throw new gaierror(EAI.EAI_BADFLAGS);
  return [await nameOf(address, scopeId, flags), serviceOf(port, flags)];
}

async function nameOf(address: Uint8Array, scopeId: number, flags: number): Promise<string> {
  if (!(flags & NI_NUMERICHOST)) {
    const found = await reverseLookup(address);
    if ("name" in found) return flags & NI_NOFQDN ? await withoutDomain(found.name) : found.name;
    if (found.herrno === TRY_AGAIN) throw new gaierror(EAI.EAI_AGAIN, { cause: found.cause });
  }
  if (flags & NI_NAMEREQD) throw new gaierror(EAI.EAI_NONAME);
  const numeric = formatAddress(address);
  return address.length === 16 && scopeId !== 0 ? `${numeric}%${scopeId}` : numeric;
}

// glibc cuts the name before the first place the local domain appears after a dot.
async function withoutDomain(name: string): Promise<string> {
  const domain = await domainName();
  if (!domain) return name;
  const at = name.indexOf(domain);
  return at > 0 && name[at - 1] === "." ? name.slice(0, at - 1) : name;
}

function serviceOf(port: number, flags: number): string {
  if (flags & NI_NUMERICSERV) return String(port);
  try {
    return getservbyport(port, flags & NI_DGRAM ? "udp" : "tcp");
  } catch {
    return String(port);
  }
}

// Python's setipaddr(name, AF_UNSPEC): a literal as is, a name resolved.
async function addressOf(name: string): Promise<Uint8Array> {
  if (name === "") throw plainOSError("wildcard resolved to multiple address");
  if (name === "<broadcast>") return new Uint8Array([255, 255, 255, 255]);
  const v4 = parseIpv4Lenient(name, true);
  if (v4 >= 0) return uintToBytes(v4);
  const v6 = parseIpv6WithZone(name);
  if (v6) return v6;
  const [first] = await resolve(name, AF_UNSPEC);
  if (first.family === AF_INET6) {
    const bytes = parseIpv6WithZone(first.address);
    if (bytes === null) throw new gaierror(EAI.EAI_NONAME);
    return bytes;
  }
  const v4Resolved = parseIpv4Lenient(first.address, true);
  // What the resolver returns is an address; anything else is no address.
  if (v4Resolved < 0) throw new gaierror(EAI.EAI_NONAME);
  return uintToBytes(v4Resolved);
}

/**
 * The host name, aliases and address of an address or name (Python's
 * `socket.gethostbyaddr`), from /etc/hosts (`--allow-read=/etc/hosts`) with
 * glibc's rules, then from the system resolver (getnameinfo(3), which may ask
 * DNS; `--allow-net` for the address). Without read access to /etc/hosts the
 * resolver still finds the name, but aliases come back empty.
 *
 * @param ipAddress An IPv4 or IPv6 address, or a name (resolved first, as Python does).
 * @returns `[hostname, aliaslist, ipaddrlist]`.
 * @throws {herror} `[Errno 1] Unknown host` when the address has no name.
 * @throws {gaierror} when a name does not resolve.
 * @throws {OSError} `wildcard resolved to multiple address` for `""`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gethostbyaddr } from "./mod.ts";
 *
 * const [name, , addresses] = await gethostbyaddr("127.0.0.1");
 * assert.equal(typeof name, "string");
 * assert.deepEqual(addresses, ["127.0.0.1"]);
 * ```
 */
export async function gethostbyaddr(
  ipAddress: string,
): Promise<[hostname: string, aliaslist: string[], ipaddrlist: string[]]> {
  const address = await addressOf(checkText(ipAddress, "gethostbyaddr", "ip_address"));
  const found = await reverseLookup(address);
  if ("herrno" in found) throw hostError(found.herrno, found.cause);
  return [found.name, found.aliases, [formatAddress(address)]];
}

/**
 * The canonical name, aliases and IPv4 addresses of a host (Python's
 * `socket.gethostbyname_ex`), from /etc/hosts (`--allow-read=/etc/hosts`,
 * honouring host.conf's `multi`), then from the system resolver
 * (getaddrinfo(3); `--allow-net` for the name). A name the resolver answers
 * keeps the spelling it was given, with no aliases: Deno does not report DNS
 * canonical names.
 *
 * @param hostname A host name or IPv4 address.
 * @returns `[hostname, aliaslist, ipaddrlist]`.
 * @throws {gaierror} when the name does not resolve; `EAI_ADDRFAMILY` for an IPv6 address.
 * @throws {herror} `[Errno 3] Unknown server error` for `""`, as Python raises.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gethostbynameEx } from "./mod.ts";
 *
 * assert.deepEqual(await gethostbynameEx("127.0.0.1"), ["127.0.0.1", [], ["127.0.0.1"]]);
 * const [, , addresses] = await gethostbynameEx("localhost");
 * assert.ok(addresses.includes("127.0.0.1"));
 * ```
 */
export async function gethostbynameEx(
  hostname: string,
): Promise<[hostname: string, aliaslist: string[], ipaddrlist: string[]]> {
  const name = checkText(hostname, "gethostbyname_ex", "hostname");
  if (name === "") throw hostError(NO_RECOVERY);
  const v4 = parseIpv4Lenient(name, true);
  if (v4 >= 0) {
    // glibc answers digits and dots itself (__nss_hostname_digits_dots); a
    // hex form such as 0x7f.1 passes getaddrinfo but then is looked up as a
    // name, which no hosts file or DNS server has: Python's herror 1.
    if (/^[\d.]*\d$/.test(name)) return [name, [], [formatIpv4(v4)]];
    throw hostError(HOST_NOT_FOUND);
  }
  // CPython checks the name with getaddrinfo(AF_INET) first, which takes
  // "<broadcast>" and an IPv4-mapped address; then gethostbyname(3) finds
  // no host of that name.
  if (name === "<broadcast>" || mappedIpv4(name) !== null) throw hostError(HOST_NOT_FOUND);
  if (parseIpv6WithZone(name)) throw new gaierror(EAI.EAI_ADDRFAMILY);
  const hosts = await readHosts();
  const hit = hosts && hostsByName(hosts.lines, name, AF_INET, hosts.multi);
  if (hit) return [hit.name, hit.aliases, hit.addresses.map(formatAddress)];
  const found = await resolve(name, AF_INET);
  return [name, [], [...new Set(found.map((a) => a.address))]];
}

/**
 * The fully qualified name of a host (Python's `socket.getfqdn`): the first
 * of {@linkcode gethostbyaddr}'s name and aliases that has a dot, else its
 * name; `name` itself when the lookup fails. An empty name (or `0.0.0.0`,
 * `::`) means this host (`--allow-sys=hostname`). Unlike Python, a missing
 * permission is raised rather than taken as a failed lookup.
 *
 * @param name A host name or address; this host when empty.
 * @returns The fully qualified name.
 * @throws {PermissionError} naming the flag a lookup needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getfqdn, gethostbyaddr } from "./mod.ts";
 *
 * // The first of the name and its aliases with a dot, else the name.
 * const [name, aliases] = await gethostbyaddr("127.0.0.1");
 * const expected = [name, ...aliases].find((n) => n.includes(".")) ?? name;
 * assert.equal(await getfqdn(" 127.0.0.1 "), expected);
 * ```
 */
export async function getfqdn(name: string = ""): Promise<string> {
  let host = checkText(name, "getfqdn", "name").trim();
  if (host === "" || host === "0.0.0.0" || host === "::") host = hostname();
  let info: [string, string[], string[]];
  try {
    info = await gethostbyaddr(host);
  } catch (err) {
    if (err instanceof OSError && !(err instanceof PermissionError)) return host;
    throw err;
  }
  return [info[0], ...info[1]].find((n) => n.includes(".")) ?? info[0];
}
