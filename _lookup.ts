// The name-lookup functions of Python's socket module: getaddrinfo,
// gethostbyname, gethostname and hasDualstackIpv6, over the system
// resolver (_resolve.ts).

import { type Address, checkPort, checkText, describe } from "./_address.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
} from "./_constants.ts";
import { isNumericZone, parseIpv6, takesInterfaceZone } from "./_inet.ts";
import { resolve, resolveOne } from "./_resolve.ts";
import { getservbyname } from "./_services.ts";
import { EAI, fromDenoError, gaierror } from "./errors.ts";

/** Linux's SOCK_DCCP, IPPROTO_DCCP and IPPROTO_SCTP, which glibc's getaddrinfo knows. */
const SOCK_DCCP = 6;
const IPPROTO_DCCP = 33;
const IPPROTO_SCTP = 132;

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
 */
export async function getaddrinfo(
  host: string | null,
  port: number | string | null,
  family: number = AF_UNSPEC,
  type = 0,
): Promise<AddrInfo[]> {
  // In CPython's order: the integer arguments, the host's type, the port's.
  checkCInt(family, "family");
  checkCInt(type, "type");
  if (host !== null && typeof host !== "string") {
    throw new TypeError(`Cannot getaddrinfo: host must be a string or null, got ${describe(host)}`);
  }
  const service = toService(port);
  if (host === null && service === null) throw new gaierror(EAI.EAI_NONAME);
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) {
    throw new gaierror(EAI.EAI_FAMILY);
  }
  if (type !== 0 && !(type in SOCKET_TYPES)) throw new gaierror(EAI.EAI_SOCKTYPE);
  // A service name gives the types it is listed for, each with its port,
  // as glibc does: "http" is TCP only, "domain" both; none is EAI_SERVICE.
  // A raw socket has no port: asked for by type, it takes no service.
  const types: [type: number, proto: number, port: number][] = [];
  for (const t of type === 0 ? [SOCK_STREAM, SOCK_DGRAM, SOCK_RAW] : [type]) {
    const [proto, protoName] = SOCKET_TYPES[t];
    if (service === null) types.push([t, proto, 0]);
    else if (typeof service === "number") {
      if (protoName !== null || type === 0) types.push([t, proto, service]);
    } else if (protoName !== null) {
      const found = servicePort(service, protoName);
      if (found !== null) types.push([t, proto, found]);
    }
  }
  if (types.length === 0) throw new gaierror(EAI.EAI_SERVICE);
  if (host === "") throw new gaierror(EAI.EAI_NONAME);
  // No host is loopback: both families' for AF_UNSPEC, IPv6 first, as glibc gives them.
  const found = host !== null ? await resolve(host, family) : [
    ...(family !== AF_INET ? [{ family: AF_INET6, address: "::1" }] : []),
    ...(family !== AF_INET6 ? [{ family: AF_INET, address: "127.0.0.1" }] : []),
  ];
  const result: AddrInfo[] = [];
  for (const { family: f, address } of found) {
    const [hostText, scopeId] = f === AF_INET6 ? splitZone(address) : [address, 0];
    for (const [t, proto, portNumber] of types) {
      const sockaddr: Address = f === AF_INET6
        ? [hostText, portNumber, 0, scopeId]
        : [hostText, portNumber];
      result.push([f, t, proto, "", sockaddr]);
    }
  }
  return result;
}

// glibc's socket types and protocols: [protocol, services protocol name];
// a raw socket's name is null (no service).
const SOCKET_TYPES: Record<number, [proto: number, protoName: string | null]> = {
  [SOCK_STREAM]: [IPPROTO_TCP, "tcp"],
  [SOCK_DGRAM]: [IPPROTO_UDP, "udp"],
  [SOCK_SEQPACKET]: [IPPROTO_SCTP, "sctp"],
  [SOCK_DCCP]: [IPPROTO_DCCP, "dccp"],
  [SOCK_RAW]: [0, null],
};

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
