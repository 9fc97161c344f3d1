/**
 * `deno bench bench/inet_bench.ts`: the cost of normalizeIpv6, which the
 * integrator applies to every IPv6 host a socket returns (recvfrom included),
 * against the one normaliser Deno has built in, the WHATWG URL parser
 * (`new URL("http://[h]/").hostname`, which writes IPv4-mapped addresses in
 * hex, so it is a reference for speed only), and of the inet_* conversions.
 *
 * @module
 */

import { AF_INET, AF_INET6 } from "../_constants.ts";
import { inet_aton, inet_ntop, inet_pton, normalizeIpv6 } from "../_inet.ts";

const PEERS = ["::1", "fe80::1c2b:3aff:fe4d:5e6f", "2001:db8:0:0:1:0:0:1", "0:0:0:0:0:0:0:1"];
let sink = "";

Deno.bench(
  "normalizeIpv6, same peer each call (memo hit)",
  { group: "normalize", baseline: true },
  () => {
    sink = normalizeIpv6("fe80::1c2b:3aff:fe4d:5e6f");
  },
);

Deno.bench("normalizeIpv6, a different peer each call", { group: "normalize" }, () => {
  for (const p of PEERS) sink = normalizeIpv6(p);
});

Deno.bench(
  "raw Deno: new URL() hostname, a different peer each call",
  { group: "normalize" },
  () => {
    for (const p of PEERS) sink = new URL(`http://[${p}]/`).hostname;
  },
);

Deno.bench("inet_pton(AF_INET6) + inet_ntop", { group: "inet" }, () => {
  sink = inet_ntop(AF_INET6, inet_pton(AF_INET6, "2001:db8::8a2e:370:7334"));
});

Deno.bench("inet_pton(AF_INET)", { group: "inet" }, () => {
  sink = String(inet_pton(AF_INET, "192.168.100.200")[3]);
});

Deno.bench("inet_aton short form", { group: "inet" }, () => {
  sink = String(inet_aton("0x7f.1")[0]);
});

globalThis.addEventListener("unload", () => sink.length);
