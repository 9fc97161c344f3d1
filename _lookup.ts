// The name-lookup functions of Python's socket module: getaddrinfo,
// gethostbyname, gethostname and hasDualstackIpv6, over the system
// resolver (_resolve.ts).

import { type Address, checkPort, checkText, describe } from "./_address.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  AI_ADDRCONFIG,
  AI_ALL,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_NUMERICSERV,
  AI_PASSIVE,
  AI_V4MAPPED,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
} from "./_constants.ts";
import { isNumericZone, parseIpv6, takesInterfaceZone } from "./_inet.ts";
import { numericFamily, resolve, resolveOne } from "./_resolve.ts";
import { getservbyname } from "./_services.ts";
import { EAI, fromDenoError, gaierror } from "./errors.ts";

/** Linux's SOCK_DCCP, IPPROTO_DCCP and IPPROTO_SCTP, which glibc's getaddrinfo knows. */
const SOCK_DCCP = 6;
const IPPROTO_DCCP = 33;
const IPPROTO_SCTP = 132;
const IPPROTO_UDPLITE = 136;

/** One `getaddrinfo` result: `[family, type, proto, canonname, sockaddr]`. */
export type AddrInfo = [
  family: number,
  type: number,
  proto: number,
  canonname: string,
  sockaddr: Address,
];

/**
 * Resolves a host and port with the system resolver, as Python's
 * `socket.getaddrinfo` (so `/etc/hosts` and `localhost` work offline).
 *
 * @param host A name or IP literal (an IPv6 one may carry a zone, given back
 *   as the scope id); `null` means loopback, `""` no host (`EAI_NONAME`).
 * @param port A port number, numeric string, service name (`"http"`,
 *   from the same database as {@linkcode getservbyname}), or `null` for 0.
 * @param family `AF_UNSPEC` (default), `AF_INET` or `AF_INET6`.
 * @param type 0 for every type, or `SOCK_STREAM`/`SOCK_DGRAM`.
 * @param proto 0 for every protocol, or one (`IPPROTO_TCP`): with it, or a
 *   type, one entry per address, the first of glibc's table that matches.
 * @param flags `AI_PASSIVE` (no host gives the wildcard addresses, to
 *   bind), `AI_CANONNAME` (the first entry names the host; the system
 *   resolver reports no canonical name, so a name comes back as given),
 *   `AI_NUMERICHOST`, `AI_NUMERICSERV` (no lookup: `EAI_NONAME` for a name),
 *   `AI_V4MAPPED` and `AI_ALL` (with `AF_INET6`), `AI_ADDRCONFIG` (needs
 *   `--allow-sys=networkInterfaces`); any other bit is `EAI_BADFLAGS`.
 * @returns One entry per address and socket type.
 * @throws {gaierror} when the name does not resolve.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, getaddrinfo, SOCK_STREAM } from "./socket.ts";
 * const [[family, type, , , addr]] = await getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM);
 * assert.ok(family === AF_INET && type === SOCK_STREAM);
 * assert.equal(JSON.stringify(addr), '["127.0.0.1",80]');
 * ```
 *
 * @example Where a server binds: the wildcard addresses, IPv4 first
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_UNSPEC, AI_PASSIVE, getaddrinfo, SOCK_STREAM } from "./socket.ts";
 * const infos = await getaddrinfo(null, 8080, AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE);
 * assert.deepEqual(infos.map((info) => info[4]), [["0.0.0.0", 8080], ["::", 8080, 0, 0]]);
 * ```
 */
export async function getaddrinfo(
  host: string | null,
  port: number | string | null,
  family: number = AF_UNSPEC,
  type = 0,
  proto = 0,
  flags = 0,
): Promise<AddrInfo[]> {
  // In CPython's order: the integer arguments, the host's type, the port's.
  checkCInt(family, "family");
  checkCInt(type, "type");
  checkCInt(proto, "proto");
  checkCInt(flags, "flags");
  if (host !== null && typeof host !== "string") {
    throw new TypeError(`Cannot getaddrinfo: host must be a string or null, got ${describe(host)}`);
  }
  const service = toService(port);
  // glibc's order: no name and no service, the flags, the family, the type.
  if (host === null && service === null) throw new gaierror(EAI.EAI_NONAME);
  if ((flags & ~AI_FLAGS) !== 0 || (flags & AI_CANONNAME && host === null)) {
    throw new gaierror(EAI.EAI_BADFLAGS);
  }
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) {
    throw new gaierror(EAI.EAI_FAMILY);
  }
  if (type !== 0 && !(type in SOCKET_TYPES)) throw new gaierror(EAI.EAI_SOCKTYPE);
  if (typeof service === "string" && flags & AI_NUMERICSERV) throw new gaierror(EAI.EAI_NONAME);
  const types = socketTypes(service, type, proto);
  if (host === "") throw new gaierror(EAI.EAI_NONAME);
  if (host !== null && flags & AI_NUMERICHOST && !isNumericHost(host)) {
    throw new gaierror(EAI.EAI_NONAME);
  }
  const found = await addressesOf(host, family, flags);
  const result: AddrInfo[] = [];
  for (const { family: f, address } of found) {
    const [hostText, scopeId] = f === AF_INET6 ? splitZone(address) : [address, 0];
    for (const [t, p, portNumber] of types) {
      const sockaddr: Address = f === AF_INET6
        ? [hostText, portNumber, 0, scopeId]
        : [hostText, portNumber];
      // glibc names the first result only: the host as given, or the name
      // its hosts line or DNS answer calls it (the system resolver's lookup
      // reports no canonical name, so a name is given back as asked).
      const canonname = flags & AI_CANONNAME && result.length === 0 ? host! : "";
      result.push([f, t, p, canonname, sockaddr]);
    }
  }
  return result;
}

// Every flag glibc's getaddrinfo takes that Python exports.
const AI_FLAGS = AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED | AI_ALL |
  AI_ADDRCONFIG | AI_NUMERICSERV;

// The [type, proto, port] triples a lookup gives each address, as glibc's
// gaih_inet picks them: with a type or a protocol asked for, the first
// entry of its table that matches (a raw socket takes any protocol); with
// neither, every type the service is listed for (a service name: "http" is
// TCP only, "domain" both), and a raw socket only for no service or a port
// number. None is EAI_SOCKTYPE for a type asked for, EAI_SERVICE otherwise.
function socketTypes(
  service: number | string | null,
  type: number,
  proto: number,
): [type: number, proto: number, port: number][] {
  if (type !== 0 || proto !== 0) {
    const entry = TYPE_TABLE.find(([t, p]) =>
      (type === 0 || t === type) && (proto === 0 || p === ANY_PROTOCOL || p === proto)
    );
    if (entry === undefined) throw new gaierror(type !== 0 ? EAI.EAI_SOCKTYPE : EAI.EAI_SERVICE);
    const [t, p, protoName] = entry;
    const chosen = p === ANY_PROTOCOL ? proto : p;
    if (service === null) return [[t, chosen, 0]];
    // A raw socket has no port: it takes no service, not even a number.
    if (protoName === null) throw new gaierror(EAI.EAI_SERVICE);
    if (typeof service === "number") return [[t, chosen, service]];
    const found = servicePort(service, protoName);
    if (found === null) throw new gaierror(EAI.EAI_SERVICE);
    return [[t, chosen, found]];
  }
  const types: [type: number, proto: number, port: number][] = [];
  for (const t of [SOCK_STREAM, SOCK_DGRAM, SOCK_RAW]) {
    const [p, protoName] = SOCKET_TYPES[t];
    if (service === null) types.push([t, p, 0]);
    else if (typeof service === "number") types.push([t, p, service]);
    else if (protoName !== null) {
      const found = servicePort(service, protoName);
      if (found !== null) types.push([t, p, found]);
    }
  }
  if (types.length === 0) throw new gaierror(EAI.EAI_SERVICE);
  return types;
}

// The addresses of `host` in `family`, as the flags ask. No host is
// loopback (both families' for AF_UNSPEC, IPv6 first, as glibc gives them),
// or with AI_PASSIVE the wildcard addresses (IPv4 first).
async function addressesOf(
  host: string | null,
  family: number,
  flags: number,
): Promise<{ family: number; address: string }[]> {
  const mapped = family === AF_INET6 && (flags & AI_V4MAPPED) !== 0;
  let found: { family: number; address: string }[];
  if (host === null) {
    const passive = (flags & AI_PASSIVE) !== 0;
    const v4 = { family: AF_INET, address: passive ? "0.0.0.0" : "127.0.0.1" };
    const v6 = { family: AF_INET6, address: passive ? "::" : "::1" };
    found = family === AF_INET ? [v4] : family === AF_INET6 ? [v6] : passive ? [v4, v6] : [v6, v4];
  } else if (mapped) {
    // IPv4 answers as IPv4-mapped IPv6 ones: all of them with AI_ALL, else
    // only when there is no IPv6 answer.
    const all = await resolve(host, AF_UNSPEC);
    const v6 = all.filter((a) => a.family === AF_INET6);
    const v4 = all.filter((a) => a.family === AF_INET)
      .map((a) => ({ family: AF_INET6, address: `::ffff:${a.address}` }));
    found = flags & AI_ALL ? [...v6, ...v4] : v6.length > 0 ? v6 : v4;
    if (found.length === 0) throw new gaierror(EAI.EAI_NONAME);
  } else {
    found = await resolve(host, family);
  }
  if (flags & AI_ADDRCONFIG) found = configured(found);
  return found;
}

// AI_ADDRCONFIG: only the families this host has an address of on an
// interface other than loopback, as glibc counts them.
function configured(
  found: { family: number; address: string }[],
): { family: number; address: string }[] {
  let interfaces: Deno.NetworkInterfaceInfo[];
  try {
    interfaces = Deno.networkInterfaces();
  } catch (err) {
    throw fromDenoError(err);
  }
  const families = new Set<number>(
    interfaces.filter((i) => !isLoopback(i.address)).map((i) =>
      i.family === "IPv4" ? AF_INET : AF_INET6
    ),
  );
  const kept = found.filter((a) => families.has(a.family));
  if (kept.length === 0) throw new gaierror(EAI.EAI_NONAME);
  return kept;
}

// glibc's check_pf compares with INADDR_LOOPBACK and ::1 exactly.
function isLoopback(address: string): boolean {
  return address === "::1" || address === "127.0.0.1";
}

// AI_NUMERICHOST: an IP literal (an IPv6 one with a zone, an IPv4 one in
// any form inet_aton reads), nothing to look up.
function isNumericHost(host: string): boolean {
  const zone = host.indexOf("%");
  return numericFamily(zone === -1 ? host : host.slice(0, zone)) !== AF_UNSPEC;
}

// A raw socket's protocol in glibc's table: any (the one asked for).
const ANY_PROTOCOL = -1;
// glibc's gaih_inet_typeproto table, in its order: [type, proto, name].
const TYPE_TABLE: [type: number, proto: number, protoName: string | null][] = [
  [SOCK_STREAM, IPPROTO_TCP, "tcp"],
  [SOCK_DGRAM, IPPROTO_UDP, "udp"],
  [SOCK_DCCP, IPPROTO_DCCP, "dccp"],
  [SOCK_DGRAM, IPPROTO_UDPLITE, "udplite"],
  [SOCK_STREAM, IPPROTO_SCTP, "sctp"],
  [SOCK_SEQPACKET, IPPROTO_SCTP, "sctp"],
  [SOCK_RAW, ANY_PROTOCOL, null],
];

// Each type's first entry in that table: its default protocol (0 for a raw
// socket) and the services protocol name (null: a raw socket takes none).
const SOCKET_TYPES: Record<number, [proto: number, protoName: string | null]> = {};
for (const [type, proto, protoName] of TYPE_TABLE) {
  SOCKET_TYPES[type] ??= [proto === ANY_PROTOCOL ? 0 : proto, protoName];
}

function checkCInt(value: unknown, name: string): void {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot getaddrinfo: ${name} must be an integer, got ${describe(value)}`);
  }
  if (value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RangeError(`Cannot getaddrinfo: ${name} ${value} does not fit a C int`);
  }
}

// An IPv6 literal's zone as the scope id glibc gives: a number, or for a
// link-scoped address (link-local, interface- or link-local multicast) the
// index of the interface it names.
function splitZone(address: string): [host: string, scopeId: number] {
  const at = address.indexOf("%");
  if (at === -1) return [address, 0];
  const [host, zone] = [address.slice(0, at), address.slice(at + 1)];
  if (isNumericZone(zone)) return [host, Number(zone)];
  const bytes = new Uint8Array(16);
  const index = parseIpv6(host, bytes) && takesInterfaceZone(bytes) ? interfaceIndex(zone) : null;
  if (index === null) throw new gaierror(EAI.EAI_NONAME);
  return [host, index];
}

// if_nametoindex(3), which Deno lacks: Linux's loopback is always index 1
// (LOOPBACK_IFINDEX); another interface's index is the scope id of its
// link-local address (--allow-sys=networkInterfaces), or is read from sysfs
// (which Deno opens only with --allow-all).
function interfaceIndex(name: string): number | null {
  if (name === "lo") return 1;
  if (Deno.permissions.querySync({ name: "sys", kind: "networkInterfaces" }).state === "granted") {
    for (const i of Deno.networkInterfaces()) {
      if (i.name === name && i.family === "IPv6" && i.scopeid) return i.scopeid;
    }
  }
  if (!/^[\w.-]+$/.test(name)) return null;
  const path = `/sys/class/net/${name}/ifindex`;
  // Only with read access granted: a lookup must not prompt for a permission.
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return null;
  try {
    return Number(Deno.readTextFileSync(path).trim());
  } catch {
    return null;
  }
}

// The port as a number, the service name to look up per socket type, or
// null for no service.
function toService(port: unknown): number | string | null {
  // "" is no service, as null is (glibc's port 0).
  if (port === null || port === "") return null;
  if (typeof port === "string") {
    // A number as glibc's strtoul reads one: leading white space and a
    // sign are allowed. A negative port is no service; trailing text makes
    // the string a service name.
    const digits = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(port);
    if (digits === null) return port;
    const value = Number(digits[2]);
    if (digits[1] === "-" && value !== 0) throw new gaierror(EAI.EAI_SERVICE);
    return checkPort(value, "getaddrinfo");
  }
  // An argument error, as API.md has them (CPython: OSError("Int or String expected")).
  return checkPort(port, "getaddrinfo");
}

function servicePort(name: string, proto: string): number | null {
  try {
    return getservbyname(name, proto);
  } catch {
    return null;
  }
}

/**
 * The IPv4 address of `host` (Python's `socket.gethostbyname`).
 *
 * @param host A name or an IPv4 literal.
 * @returns The dotted-quad address.
 * @throws {gaierror} when the name does not resolve.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gethostbyname } from "./socket.ts";
 * assert.equal(await gethostbyname("localhost"), "127.0.0.1");
 * ```
 */
export async function gethostbyname(host: string): Promise<string> {
  checkText(host, "gethostbyname", "host");
  // Python's own names: "" is INADDR_ANY, "<broadcast>" INADDR_BROADCAST.
  if (host === "") return "0.0.0.0";
  if (host === "<broadcast>") return "255.255.255.255";
  return (await resolveOne(host, AF_INET)).address;
}

/**
 * This machine's host name (needs `--allow-sys=hostname`).
 *
 * @returns The host name.
 * @throws {PermissionError} naming the flag when it is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gethostname } from "./socket.ts";
 * assert.ok(gethostname().length > 0);
 * ```
 */
export function gethostname(): string {
  try {
    return Deno.hostname();
  } catch (err) {
    throw fromDenoError(err, "hostname");
  }
}

let dualstack: boolean | null = null;

/**
 * Whether an `AF_INET6` listener here also accepts IPv4 (Python's
 * `socket.has_dualstack_ipv6`). Deno's IPv6 listeners are dual-stack when
 * the host has IPv6 at all.
 *
 * @returns `true` when IPv6 listening works.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasDualstackIpv6 } from "./socket.ts";
 * assert.equal(typeof hasDualstackIpv6(), "boolean");
 * ```
 */
export function hasDualstackIpv6(): boolean {
  if (dualstack !== null) return dualstack;
  try {
    Deno.listen({ hostname: "::", port: 0 }).close();
    dualstack = true;
  } catch {
    dualstack = false;
  }
  return dualstack;
}
