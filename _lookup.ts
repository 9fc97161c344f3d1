// The name-lookup functions of Python's socket module: getaddrinfo,
// gethostbyname, gethostname and hasDualstackIpv6, over the system
// resolver (_resolve.ts).

import { type Address, checkPort, describe } from "./_address.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
} from "./_constants.ts";
import { resolve, resolveOne } from "./_resolve.ts";
import { getservbyname } from "./_services.ts";
import { EAI, fromDenoError, gaierror } from "./errors.ts";

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
 * @param host A name or IP literal; `null` means loopback.
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
  const service = toService(port);
  if (host !== null && typeof host !== "string") {
    throw new TypeError(`Cannot getaddrinfo: host must be a string or null, got ${describe(host)}`);
  }
  if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) {
    throw new gaierror(EAI.EAI_FAMILY);
  }
  if (type !== 0 && type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_RAW) {
    throw new gaierror(EAI.EAI_SOCKTYPE);
  }
  // A service name gives the types it is listed for, each with its port,
  // as glibc does: "http" is TCP only, "domain" both; none is EAI_SERVICE.
  const types: [type: number, port: number][] = [];
  for (const t of type === 0 ? [SOCK_STREAM, SOCK_DGRAM, SOCK_RAW] : [type]) {
    if (typeof service === "number") types.push([t, service]);
    else if (t !== SOCK_RAW) {
      const found = servicePort(service, t === SOCK_STREAM ? "tcp" : "udp");
      if (found !== null) types.push([t, found]);
    }
  }
  if (types.length === 0) throw new gaierror(EAI.EAI_SERVICE);
  const name = host === null || host === "" ? (family === AF_INET6 ? "::1" : "127.0.0.1") : host;
  const found = await resolve(name, family);
  const result: AddrInfo[] = [];
  for (const { family: f, address } of found) {
    for (const [t, portNumber] of types) {
      const sockaddr: Address = f === AF_INET6
        ? [address, portNumber, 0, 0]
        : [address, portNumber];
      const proto = t === SOCK_STREAM ? IPPROTO_TCP : t === SOCK_DGRAM ? IPPROTO_UDP : 0;
      result.push([f, t, proto, "", sockaddr]);
    }
  }
  return result;
}

// The port as a number, or the service name to look up per socket type.
function toService(port: number | string | null): number | string {
  // "" is no service, as null is (glibc's port 0).
  if (port === null || port === "") return 0;
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
  if (typeof host !== "string") {
    throw new TypeError(`Cannot gethostbyname: host must be a string, got ${describe(host)}`);
  }
  return (await resolveOne(host === "" ? "0.0.0.0" : host, AF_INET)).address;
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
