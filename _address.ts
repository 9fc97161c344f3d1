// Address checking and conversion between Python's tuples and Deno's
// NetAddr/UnixAddr. Every check runs before any I/O, so bad input never
// reaches the network.

import { AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC } from "./_constants.ts";
import { normalizeIpv6, plainOSError } from "./_inet.ts";
import { literalFamily, mappedIpv4, numericFamily, specialName } from "./_resolve.ts";
import { EAI, errno, gaierror, OSError } from "./errors.ts";

/** An IPv4 address: `[host, port]`. */
export type IPv4Address = [host: string, port: number];
/** An IPv6 address as returned: `[host, port, flowinfo, scopeId]`. */
export type IPv6Address = [host: string, port: number, flowinfo: number, scopeId: number];
/** Any address a socket returns: an IPv4 or IPv6 tuple, or a Unix path. */
export type Address = IPv4Address | IPv6Address | string;
/** An address accepted as input; IPv6 also takes a 2- or 3-tuple, as Python does. */
export type AddressInput =
  | readonly [host: string, port: number]
  | readonly [host: string, port: number, flowinfo: number]
  | readonly [host: string, port: number, flowinfo: number, scopeId: number]
  | string;

/** A checked IP endpoint, host already mapped from Python's spellings. */
export interface IpEndpoint {
  hostname: string;
  port: number;
}

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes, NUL included). */
const UNIX_PATH_MAX = 107;
/** Longest host name DNS allows. */
const HOST_MAX = 253;

/**
 * Checks a port number, as Python does before any system call.
 * @throws {TypeError} when not an integer; {RangeError} outside 0-65535.
 */
export function checkPort(port: unknown, action: string): number {
  if (typeof port !== "number" || !Number.isInteger(port)) {
    throw new TypeError(`Cannot ${action}: port must be an integer, got ${describe(port)}`);
  }
  if (port < 0 || port > 65535) {
    throw new RangeError(`Cannot ${action} to port ${port}: port must be 0-65535`);
  }
  return port;
}

/**
 * Checks an IP host string and maps Python's spellings: `""` is every
 * interface, `"<broadcast>"` is 255.255.255.255.
 */
export function checkHost(host: unknown, family: number, action: string): string {
  if (typeof host !== "string") {
    throw new TypeError(`Cannot ${action}: host must be a string, got ${describe(host)}`);
  }
  if (host.includes("\0")) {
    throw new TypeError(`Cannot ${action}: host contains a NUL character`);
  }
  if (host.length > HOST_MAX) {
    throw new RangeError(
      `Cannot ${action}: host name is ${host.length} characters long, at most ${HOST_MAX} allowed`,
    );
  }
  if (host === "") return family === AF_INET6 ? "::" : "0.0.0.0";
  if (host === "<broadcast>") return "255.255.255.255";
  // "[::1]" is a name, as in CPython (getaddrinfo finds no such host):
  // brackets are URL syntax, which the CLI strips itself (cli/_args.ts).
  return host;
}

/**
 * Checks an IP address tuple for `family` and returns Deno's hostname/port.
 * @throws {TypeError} for a malformed tuple; {RangeError} for out-of-range numbers.
 */
export function checkIpAddress(addr: unknown, family: number, action: string): IpEndpoint {
  const max = family === AF_INET6 ? 4 : 2;
  if (!Array.isArray(addr) || addr.length < 2 || addr.length > max) {
    const shape = family === AF_INET6
      ? "[host, port] or [host, port, flowinfo, scopeId]"
      : "[host, port]";
    throw new TypeError(`Cannot ${action}: address must be ${shape}, got ${describe(addr)}`);
  }
  const port = checkPort(addr[1], action);
  const hostname = checkHost(addr[0], family, action);
  // bind hands a name to Deno.listen, which resolves it without RFC 6761's
  // answers: a name that cannot exist (.invalid, malformed) would be sent to
  // the DNS server and fail with an untranslated error. Refuse it here.
  if (literalFamily(hostname) === AF_UNSPEC) specialName(hostname, family);
  // As CPython parses the tuple: every field's type first, then the ranges.
  for (const [i, name] of [[2, "flowinfo"], [3, "scopeId"]] as const) {
    if (addr.length > i) checkInteger(addr[i], name, action);
  }
  if (addr.length >= 3) checkUint(addr[2], 0xfffff, "flowinfo", action);
  if (addr.length === 4) checkUint(addr[3], 0xffffffff, "scopeId", action);
  if (family === AF_INET6 && literalFamily(hostname) === AF_INET6) {
    // CPython gives the socket the tuple's scope id, not a zone in the host
    // ("fe80::1%1" with scope 0 is fe80::1 with none); Deno takes it as a zone.
    const scopeId = addr.length === 4 ? addr[3] as number : 0;
    const zone = hostname.indexOf("%");
    const bare = zone === -1 ? hostname : hostname.slice(0, zone);
    return { hostname: scopeId === 0 ? bare : `${bare}%${scopeId}`, port };
  }
  return { hostname, port };
}

/**
 * A special-use name (`localhost`) as the address the resolver gives it
 * for `family` (see `specialName`), so that a bind goes where `sendto`
 * and `connect` send the name; other hosts as they are.
 */
export function specialEndpoint(endpoint: IpEndpoint, family: number): IpEndpoint {
  if (literalFamily(endpoint.hostname) !== AF_UNSPEC) return endpoint;
  const special = specialName(endpoint.hostname, family);
  return special === null ? endpoint : { hostname: special[0].address, port: endpoint.port };
}

/**
 * Checks the address of a `bind`, `connect` or `sendto` on a socket of
 * `family`: a path for `AF_UNIX`, else an IP tuple whose literal host (if it
 * is one) is of the socket's family.
 * @throws {TypeError|RangeError} as {@linkcode checkIpAddress} and
 *   {@linkcode checkUnixPath} do; {gaierror} `EAI_ADDRFAMILY` for a literal
 *   of the other IP family.
 */
export function checkSocketAddress(
  addr: unknown,
  family: number,
  action: string,
): IpEndpoint | string {
  if (family === AF_UNIX) return checkUnixPath(addr, action);
  const endpoint = checkIpAddress(addr, family, action);
  if (family === AF_INET6 && endpoint.hostname === "255.255.255.255") {
    // CPython's own check of "<broadcast>" (and its address), before any lookup.
    throw plainOSError("address family mismatched");
  }
  const literal = numericFamily(endpoint.hostname);
  if (literal === AF_INET6 && family === AF_INET) {
    // glibc reads an IPv4-mapped address as the IPv4 address for AF_INET.
    const v4 = mappedIpv4(endpoint.hostname);
    if (v4 !== null) return { hostname: v4, port: endpoint.port };
  }
  if (literal !== AF_UNSPEC && literal !== family) throw new gaierror(EAI.EAI_ADDRFAMILY);
  return endpoint;
}

/** Checks a Unix socket path. */
export function checkUnixPath(addr: unknown, action: string): string {
  if (typeof addr !== "string") {
    throw new TypeError(
      `Cannot ${action}: an AF_UNIX address must be a path string, got ${describe(addr)}`,
    );
  }
  if (addr === "" || addr.startsWith("\0")) {
    // Linux's abstract namespace: Deno's Unix sockets only take filesystem paths.
    throw new OSError(errno.EINVAL, {
      detail: "Deno supports only filesystem paths for AF_UNIX, not the abstract namespace",
    });
  }
  if (addr.includes("\0")) {
    // Deno would throw its own TypeError deep in the call; refuse it here, as a NUL in a host.
    throw new TypeError(`Cannot ${action}: an AF_UNIX path contains a NUL character`);
  }
  if (!addr.isWellFormed()) {
    // Python binds a lone surrogate (U+DC80–U+DCFF) as the byte it escapes;
    // Deno passes paths as UTF-8 and would bind U+FFFD instead, a name
    // other than the one asked for.
    throw new RangeError(
      `Cannot ${action}: an AF_UNIX path contains a lone surrogate, which Deno cannot pass as ` +
        `the byte it stands for`,
    );
  }
  if (new TextEncoder().encode(addr).length > UNIX_PATH_MAX) {
    // CPython's own check, before any system call: an OSError with no errno.
    throw plainOSError("AF_UNIX path too long");
  }
  return addr;
}

/**
 * Deno's TypeError for a Unix path longer than `sun_path`, as an OSError.
 * Only a relative path gets that far past {@linkcode checkUnixPath}: Deno
 * makes it absolute when permissions are granted per flag (not under `-A`),
 * and binds or connects to that longer name, where CPython passes the
 * relative one to the kernel. Other errors are returned as they are.
 */
export function unixPathTooLong(err: unknown, path: string): unknown {
  if (!(err instanceof TypeError) || !err.message.includes("SUN_LEN")) return err;
  return new OSError(null, {
    strerror: "AF_UNIX path too long",
    detail: `Deno made the relative path ${describe(path)} absolute, which is over ` +
      `${UNIX_PATH_MAX} bytes; use a shorter working directory, or run with -A`,
    cause: err,
  });
}

function checkInteger(value: unknown, name: string, action: string): void {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${action}: ${name} must be an integer, got ${describe(value)}`);
  }
}

function checkUint(value: unknown, max: number, name: string, action: string): void {
  checkInteger(value, name, action);
  if ((value as number) < 0 || (value as number) > max) {
    throw new RangeError(`Cannot ${action}: ${name} must be 0-${max}, got ${value}`);
  }
}

/** Converts Deno's address into Python's form for a socket of `family`. */
export function fromDenoAddr(addr: Deno.Addr, family: number): Address {
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return (addr as Deno.UnixAddr).path ?? "";
  }
  const { hostname, port } = addr as Deno.NetAddr;
  if (family === AF_INET6) {
    // A dual-stack socket sees IPv4 peers as mapped addresses, as in Python;
    // an IPv6 address is spelled as Python's inet_ntop spells it (Rust's
    // formatting differs for some, such as the IPv4-compatible ::1.2.3.4).
    const host = hostname.includes(":") ? normalizeIpv6(hostname) : `::ffff:${hostname}`;
    return [host, port, 0, 0];
  }
  return [hostname, port];
}

/** Python's `repr`-like rendering of a bad value, short enough for a message. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  }
  if (Array.isArray(value)) {
    const inner = value.slice(0, 5).map(describe).join(", ");
    return `[${inner}${value.length > 5 ? ", ..." : ""}]`;
  }
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return String(value);
}

/** The family an address string looks like: AF_INET6 when it has a colon. */
export function familyOfHost(host: string): number {
  return host.includes(":") ? AF_INET6 : AF_INET;
}

/** Renders an endpoint for messages and permission flags (`host:port`, `[::1]:80`). */
export function formatEndpoint(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Names a checked endpoint or a Deno address for an error message: a Unix
 * path as is, an IP endpoint as {@linkcode formatEndpoint} writes it.
 */
export function describeEndpoint(
  endpoint?: IpEndpoint | Deno.Addr | string | null,
): string | undefined {
  if (endpoint === undefined || endpoint === null) return undefined;
  if (typeof endpoint === "string") return endpoint;
  if ("path" in endpoint) return endpoint.path ?? undefined;
  const { hostname, port } = endpoint as IpEndpoint;
  return formatEndpoint(hostname, port);
}

/** Whether `family` is one this module knows. */
export function isKnownFamily(family: number): boolean {
  return family === AF_INET || family === AF_INET6 || family === AF_UNIX;
}

/**
 * Checks a string argument as Python's C functions do: a string without NUL
 * characters (a C string cannot carry one).
 * @throws {TypeError} for anything else.
 */
export function checkText(value: unknown, action: string, name: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot ${action}: ${name} must be a string, got ${describe(value)}`);
  }
  if (value.includes("\0")) {
    throw new TypeError(`Cannot ${action}: ${name} contains a NUL character`);
  }
  return value;
}

/**
 * Checks a string argument that CPython reads as a C string (its `s`
 * format): a NUL in it is Python's `ValueError: embedded null character`,
 * so a RangeError here.
 * @throws {TypeError} for a non-string; {RangeError} for a NUL in it.
 */
export function checkCString(value: unknown, action: string, name: string): string {
  if (typeof value === "string" && value.includes("\0")) {
    throw new RangeError(`Cannot ${action}: ${name} contains a NUL character`);
  }
  return checkText(value, action, name);
}
