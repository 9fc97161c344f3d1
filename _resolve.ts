// Name resolution through the system resolver (node:dns `lookup` calls
// getaddrinfo), so /etc/hosts and `localhost` work offline, as in Python.

import { AF_INET, AF_INET6, AF_UNSPEC } from "./_constants.ts";
import { formatIpv4, isNumericZone, normalizeIpv6, parseIpv4Lenient, parseIpv6 } from "./_inet.ts";
import { EAI, errno, fromDenoError, gaierror } from "./errors.ts";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const scratch = new Uint8Array(16);

/**
 * The family of an IP literal, or 0 when `host` is a name to resolve. A
 * malformed IPv6 literal (`::1::2`) is a name, which no resolver has: a
 * name has no `:`, so the lookup fails with EAI_NONAME, as CPython's does.
 */
export function literalFamily(host: string): number {
  if (IPV4.test(host)) return AF_INET;
  if (host.includes(":") && /^[0-9a-fA-F:.]+(%\w+)?$/.test(host)) {
    const zone = host.indexOf("%");
    if (parseIpv6(zone === -1 ? host : host.slice(0, zone), scratch)) return AF_INET6;
  }
  return AF_UNSPEC;
}

/**
 * The family of a numeric host as glibc's getaddrinfo reads one: also the
 * forms C's `inet_aton` takes (`127.1`, `0x7f.1`), which need no lookup.
 */
export function numericFamily(host: string): number {
  const literal = literalFamily(host);
  if (literal !== AF_UNSPEC || host.includes(":")) return literal;
  return parseIpv4Lenient(host, true) >= 0 ? AF_INET : AF_UNSPEC;
}

/**
 * The IPv4 address of an IPv4-mapped IPv6 literal (`::ffff:127.0.0.1`), as
 * glibc's getaddrinfo(AF_INET) reads one, or null. A zone may follow; glibc
 * maps the address first and reads the zone after, so a number (`%1`) is
 * dropped with the IPv6 form and any other zone fails.
 * @throws {gaierror} `EAI_NONAME` for a mapped address with a zone that is no number.
 */
export function mappedIpv4(host: string): string | null {
  const zone = host.indexOf("%");
  if (!parseIpv6(zone === -1 ? host : host.slice(0, zone), scratch)) return null;
  for (let i = 0; i < 12; i++) if (scratch[i] !== (i < 10 ? 0 : 0xff)) return null;
  // No IPv4-mapped address is link-scoped: only a numeric zone is one.
  if (zone !== -1 && !isNumericZone(host.slice(zone + 1))) throw new gaierror(EAI.EAI_NONAME);
  return `${scratch[12]}.${scratch[13]}.${scratch[14]}.${scratch[15]}`;
}

/** One resolved address. */
export interface Resolved {
  family: number;
  address: string;
}

// node:dns error codes and the getaddrinfo codes Python reports for them.
const EAI_BY_CODE: Record<string, number> = {
  ENOTFOUND: EAI.EAI_NONAME,
  ENODATA: EAI.EAI_NODATA,
  EAI_AGAIN: EAI.EAI_AGAIN,
  ESERVFAIL: EAI.EAI_FAIL,
  EAI_FAIL: EAI.EAI_FAIL,
  EBADFAMILY: EAI.EAI_FAMILY,
};

/**
 * Resolves `host` for `family` (AF_UNSPEC for both), IP literals without a
 * lookup. Literals of the wrong family fail as Python's do.
 * @throws {gaierror} when the name does not resolve.
 */
export async function resolve(host: string, family: number): Promise<Resolved[]> {
  const literal = numericFamily(host);
  if (literal !== AF_UNSPEC) {
    const mapped = literal === AF_INET6 && family === AF_INET ? mappedIpv4(host) : null;
    if (mapped !== null) return [{ family: AF_INET, address: mapped }];
    if (family !== AF_UNSPEC && family !== literal) {
      throw new gaierror(EAI.EAI_ADDRFAMILY);
    }
    // As Python gives it: an IPv6 literal in its compressed form, an IPv4
    // one in dotted quads (`127.1` is 127.0.0.1).
    const address = literal === AF_INET6
      ? normalizeIpv6(host)
      : formatIpv4(parseIpv4Lenient(host, true));
    return [{ family: literal, address }];
  }
  const special = specialName(host, family);
  if (special !== null) return special;
  const wanted = family === AF_INET ? 4 : family === AF_INET6 ? 6 : 0;
  let found: { address: string; family: number }[];
  try {
    // Loaded on first use: Deno's node:dns brings its Node compatibility
    // layer, which costs every program tens of milliseconds at start-up.
    const { lookup } = await import("node:dns/promises");
    found = await lookup(host, { all: true, family: wanted });
  } catch (err) {
    throw resolveError(err, host);
  }
  if (found.length === 0) throw new gaierror(EAI.EAI_NONAME);
  return found.map((a) => ({ family: a.family === 6 ? AF_INET6 : AF_INET, address: a.address }));
}

// RFC 6761 special-use names are answered here, as the RFC asks of resolver
// libraries, without asking a name server: `.invalid` never resolves and
// `localhost` (and names under it) is loopback. Malformed names fail the
// same way, since no server could know them.
const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * Answers RFC 6761 names without a lookup: loopback for `localhost`.
 * @throws {gaierror} `EAI_NONAME` for `.invalid` and malformed names.
 */
export function specialName(host: string, family: number): Resolved[] | null {
  const name = host.toLowerCase().replace(/\.$/, "");
  if (
    name === "invalid" || name.endsWith(".invalid") || !name.split(".").every((l) => LABEL.test(l))
  ) {
    throw new gaierror(EAI.EAI_NONAME);
  }
  if (name === "localhost" || name.endsWith(".localhost")) {
    const v4 = { family: AF_INET, address: "127.0.0.1" };
    const v6 = { family: AF_INET6, address: "::1" };
    if (family === AF_INET6) return [v6];
    if (family === AF_INET) return [v4];
    return [v4, v6];
  }
  return null;
}

function resolveError(err: unknown, host: string): unknown {
  const denoErr = fromDenoError(err, host);
  if (denoErr !== err) return denoErr;
  const code = (err as { code?: string }).code ?? "";
  if (code in EAI_BY_CODE) return new gaierror(EAI_BY_CODE[code], { cause: err });
  if (code === "EPERM" || code === "EACCES") {
    return fromDenoError(new Deno.errors.NotCapable(String(err)), host);
  }
  return new gaierror(EAI.EAI_FAIL, { cause: err, detail: String(err) });
}

/** Resolves to the first address, as `connect` and `sendto` use it. */
export async function resolveOne(host: string, family: number): Promise<Resolved> {
  return (await resolve(host, family))[0];
}

/** The errno a `connect` failure maps to, for connectEx. */
export function errnoOf(err: unknown): number {
  const code = (err as { errno?: unknown })?.errno;
  return typeof code === "number" ? code : errno.EIO;
}
