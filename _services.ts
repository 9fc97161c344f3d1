// Service names and ports (Python's getservbyname and getservbyport) from
// /etc/services, read as glibc's "files" backend reads it, or from a built-in
// table of the common services when the file cannot be read.

import { checkCString, describe } from "./_address.ts";
import { plainOSError } from "./_inet.ts";

/** One line of a services file: `name port/proto aliases...`. */
export interface ServiceEntry {
  name: string;
  port: number;
  proto: string;
  aliases: string[];
}

/** Where glibc reads the services database. */
export const SERVICES_PATH = "/etc/services";

// The common services (ports below 1024 and a few well-known higher ones) as
// Debian's netbase lists them, in the file's order so that a lookup by port
// finds the same first entry. Each item is `name port/protos aliases...`,
// protos `t` (tcp), `u` (udp) or both in the file's order.
const BUILTIN = `
  tcpmux 1/t; echo 7/tu; discard 9/tu sink null; systat 11/t users; daytime 13/tu;
  netstat 15/t; qotd 17/t quote; chargen 19/tu ttytst source; ftp-data 20/t; ftp 21/t;
  fsp 21/u fspd; ssh 22/t; telnet 23/t; smtp 25/t mail; time 37/tu timserver;
  whois 43/t nicname; tacacs 49/tu; domain 53/tu; bootps 67/u; bootpc 68/u; tftp 69/u;
  gopher 70/t; finger 79/t; http 80/t www; kerberos 88/tu kerberos5 krb5 kerberos-sec;
  iso-tsap 102/t tsap; acr-nema 104/t dicom; pop3 110/t pop-3; sunrpc 111/tu portmapper;
  auth 113/t authentication tap ident; nntp 119/t readnews untp; ntp 123/u;
  epmap 135/t loc-srv; netbios-ns 137/u; netbios-dgm 138/u; netbios-ssn 139/t;
  imap2 143/t imap; snmp 161/tu; snmp-trap 162/tu snmptrap; cmip-man 163/tu; cmip-agent 164/tu;
  mailq 174/t; xdmcp 177/u; bgp 179/t; smux 199/t; qmtp 209/t; z3950 210/t wais; ipx 213/u;
  ptp-event 319/u; ptp-general 320/u; pawserv 345/t; zserv 346/t; rpc2portmap 369/tu;
  codaauth2 370/tu; clearcase 371/u Clearcase; ldap 389/tu; svrloc 427/tu; https 443/tu;
  snpp 444/t; microsoft-ds 445/t; kpasswd 464/tu; submissions 465/t ssmtp smtps urd;
  saft 487/t; isakmp 500/u; rtsp 554/tu; nqs 607/t; asf-rmcp 623/u; qmqp 628/t; ipp 631/t;
  ldp 646/tu; exec 512/t; biff 512/u comsat; login 513/t; who 513/u whod;
  shell 514/t cmd syslog; syslog 514/u; printer 515/t spooler; talk 517/u; ntalk 518/u;
  route 520/u router routed; gdomap 538/tu; uucp 540/t uucpd; klogin 543/t; kshell 544/t krcmd;
  dhcpv6-client 546/u; dhcpv6-server 547/u; afpovertcp 548/t; nntps 563/t snntp;
  submission 587/t; ldaps 636/tu; tinc 655/tu; silc 706/t; kerberos-adm 749/t; domain-s 853/tu;
  rsync 873/t; ftps-data 989/t; ftps 990/t; telnets 992/t; imaps 993/t; pop3s 995/t;
  socks 1080/t; openvpn 1194/tu; ms-sql-s 1433/t; radius 1812/tu; radius-acct 1813/tu radacct;
  nfs 2049/tu; mysql 3306/t; ms-wbt-server 3389/t; svn 3690/t subversion; iax 4569/u;
  sip 5060/tu; xmpp-client 5222/t jabber-client; xmpp-server 5269/t jabber-server; mdns 5353/u;
  postgresql 5432/t postgres; x11 6000/t x11-0; redis 6379/t; http-alt 8080/t webcache;
  puppet 8140/t; zabbix-agent 10050/t; hkp 11371/t; kerberos4 750/ut kerberos-iv kdc;
  kerberos-master 751/u kerberos_master; kerberos-master 751/t;
  passwd-server 752/u passwd_server; krb-prop 754/t krb_prop krb5_prop hprop; supfilesrv 871/t;
  poppassd 106/t; moira-db 775/t moira_db; moira-update 777/t moira_update;
  moira-ureg 779/u moira_ureg; spamd 783/t; git 9418/t;
`;

const PROTOS: Record<string, string> = { t: "tcp", u: "udp" };

/**
 * Parses a services file: `#` starts a comment, fields are separated by
 * whitespace, lines without a valid `port/proto` are skipped.
 */
export function parseServices(text: string): ServiceEntry[] {
  const entries: ServiceEntry[] = [];
  for (const raw of text.split("\n")) {
    const hash = raw.indexOf("#");
    const fields = (hash === -1 ? raw : raw.slice(0, hash)).split(/[ \t\v\f\r]+/).filter(Boolean);
    if (fields.length < 2) continue;
    const match = /^(\d+)\/(.+)$/.exec(fields[1]);
    if (match === null) continue;
    // glibc stores the number with htons, so it keeps the low 16 bits.
    const port = Number(match[1]) % 65536;
    entries.push({ name: fields[0], port, proto: match[2], aliases: fields.slice(2) });
  }
  return entries;
}

/** The built-in table, as entries. */
export function builtinServices(): ServiceEntry[] {
  const entries: ServiceEntry[] = [];
  for (const item of BUILTIN.split(";")) {
    const [name, portProtos, ...aliases] = item.trim().split(" ");
    if (!name) continue;
    const [port, protos] = portProtos.split("/");
    for (const p of protos) entries.push({ name, port: Number(port), proto: PROTOS[p], aliases });
  }
  return entries;
}

let table: ServiceEntry[] | null = null;

/**
 * The services database: /etc/services when this process may read it
 * (`--allow-read=/etc/services`; asked without prompting) and it exists,
 * otherwise the built-in table. Read once, on first use.
 */
export function services(): ServiceEntry[] {
  table ??= readServicesFile() ?? builtinServices();
  return table;
}

function readServicesFile(): ServiceEntry[] | null {
  if (Deno.permissions.querySync({ name: "read", path: SERVICES_PATH }).state !== "granted") {
    return null;
  }
  try {
    return parseServices(Deno.readTextFileSync(SERVICES_PATH));
  } catch {
    // No file (a minimal container image) or not a readable one: as glibc
    // finds no entry there, the built-in table stands in for it.
    return null;
  }
}

function checkProto(value: unknown, action: string): string | undefined {
  return value === undefined ? undefined : checkCString(value, action, "protocolname");
}

/**
 * The port of a service (Python's `socket.getservbyname`), from /etc/services
 * with `--allow-read=/etc/services`, otherwise from a built-in table of the
 * common services. Names are compared exactly (case matters), aliases count.
 *
 * @param servicename A service name or alias, e.g. `"http"` or `"www"`.
 * @param protocolname `"tcp"` or `"udp"`; any protocol when omitted.
 * @returns The port number.
 * @throws {OSError} `service/proto not found` when no entry matches (`errno`
 *   `null`, as Python's is `None`).
 * @throws {TypeError} when a name is not a string; {RangeError} when it holds a NUL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getservbyname } from "./mod.ts";
 *
 * assert.equal(getservbyname("http", "tcp"), 80);
 * assert.equal(getservbyname("domain", "udp"), 53);
 * assert.throws(() => getservbyname("no-such-service"), { message: "service/proto not found" });
 * ```
 */
export function getservbyname(servicename: string, protocolname?: string): number {
  const name = checkCString(servicename, "getservbyname", "servicename");
  const proto = checkProto(protocolname, "getservbyname");
  for (const entry of services()) {
    if (proto !== undefined && entry.proto !== proto) continue;
    if (entry.name === name || entry.aliases.includes(name)) return entry.port;
  }
  throw plainOSError("service/proto not found");
}

/**
 * The name of the service on a port (Python's `socket.getservbyport`), from
 * the same database as {@linkcode getservbyname}.
 *
 * @param port A port number 0-65535.
 * @param protocolname `"tcp"` or `"udp"`; any protocol when omitted.
 * @returns The service's official name.
 * @throws {OSError} `port/proto not found` when no entry matches.
 * @throws {RangeError} for a port outside 0-65535 (Python's `OverflowError`).
 * @throws {TypeError} for a non-integer port or a non-string protocol.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getservbyport } from "./mod.ts";
 *
 * assert.equal(getservbyport(22), "ssh");
 * assert.equal(getservbyport(53, "udp"), "domain");
 * assert.throws(() => getservbyport(65536), RangeError);
 * ```
 */
export function getservbyport(port: number, protocolname?: string): string {
  if (typeof port !== "number" || !Number.isInteger(port)) {
    throw new TypeError(`Cannot getservbyport: port must be an integer, got ${describe(port)}`);
  }
  if (port < 0 || port > 65535) {
    throw new RangeError(`Cannot getservbyport: port must be 0-65535, got ${port}`);
  }
  const proto = checkProto(protocolname, "getservbyport");
  for (const entry of services()) {
    if (entry.port === port && (proto === undefined || entry.proto === proto)) return entry.name;
  }
  throw plainOSError("port/proto not found");
}
