// Option names for messages: an option Deno cannot honour is named, as
// `Deno cannot set SO_RCVBUF on this socket`, never left as a bare number.

/** Names of options, for error messages that say which option failed. */
export const OPTION_NAMES: Record<string, string> = {
  "1:2": "SO_REUSEADDR",
  "1:3": "SO_TYPE",
  "1:4": "SO_ERROR",
  "1:6": "SO_BROADCAST",
  "1:7": "SO_SNDBUF",
  "1:8": "SO_RCVBUF",
  "1:9": "SO_KEEPALIVE",
  "1:13": "SO_LINGER",
  "1:15": "SO_REUSEPORT",
  "1:20": "SO_RCVTIMEO",
  "1:21": "SO_SNDTIMEO",
  "1:30": "SO_ACCEPTCONN",
  "1:38": "SO_PROTOCOL",
  "1:39": "SO_DOMAIN",
  "6:1": "TCP_NODELAY",
  "0:2": "IP_TTL",
  "0:33": "IP_MULTICAST_TTL",
  "0:34": "IP_MULTICAST_LOOP",
  "0:35": "IP_ADD_MEMBERSHIP",
  "0:36": "IP_DROP_MEMBERSHIP",
  "41:26": "IPV6_V6ONLY",
};

/** The name of option `(level, optname)`, e.g. `SO_RCVBUF`. */
export function optionName(level: number, optname: number): string {
  return OPTION_NAMES[`${level}:${optname}`] ?? `option ${optname} at level ${level}`;
}
