// The command line every example shares: --host/--port (and --max-clients for servers
// that loop, --max-requests for socketserver ones), --help, and a clean stop on Ctrl-C. The seeds hard-code their address;
// the ports take it as arguments so tests can use a free port.

import { parseArgs } from "node:util";

/** What an example was asked to do. */
export interface ExampleArgs {
  /** Address to bind (servers) or connect to (clients). */
  host: string;
  /** Port to bind or connect to; 0 lets a server pick a free one. */
  port: number;
  /** Servers: stop accepting after this many clients; `null` serves until Ctrl-C. */
  maxClients: number | null;
  /** Clients that open several connections: how many (see `ExampleUsage.connections`). */
  connections: number;
  /** socketserver servers: `handleRequest()` this many times; `null` runs `serveForever()`. */
  maxRequests: number | null;
  /** The words after the options (see `ExampleUsage.words`). */
  words: string[];
  /** The example's own boolean options that were given (see `ExampleUsage.flags`). */
  flags: Set<string>;
}

/** How to describe an example in its `--help`. */
export interface ExampleUsage {
  /** The example's file name, e.g. `phone_server.ts`. */
  file: string;
  /** One line: what the example does and which seed program it ports. */
  summary: string;
  /** The seed's port, used when --port is not given. */
  port: number;
  /** The default host; `127.0.0.1` when not given. */
  host?: string;
  /**
   * `"server"` binds and prints its port first; `"loop"` also takes --max-clients;
   * `"requests"` (socketserver servers) takes --max-requests; `"self"` binds and is its
   * own client, so it prints no port.
   */
  role: "client" | "server" | "loop" | "requests" | "self";
  /** Clients only: takes --connections N, this many by default. */
  connections?: number;
  /** Takes words after the options, described by this (e.g. `"WORDS..."`), as Python's sys.argv[1:]. */
  words?: string;
  /** The example's own boolean options: name (without `--`) to its help text. */
  flags?: Record<string, string>;
}

function usageText(usage: ExampleUsage): string {
  const host = usage.host ?? "127.0.0.1";
  const action = usage.role === "client" ? "connect to" : "bind";
  const lines = [
    `Usage: deno run --allow-net=127.0.0.1 examples/${usage.file} [options]${
      usage.words === undefined ? "" : ` ${usage.words}`
    }`,
    "",
    usage.summary,
    "",
    `  --host HOST        address to ${action} (default ${host})`,
    `  --port PORT        port to ${action}${
      usage.role === "client" ? "" : "; 0 picks a free one"
    } (default ${usage.port})`,
  ];
  if (usage.role === "loop") {
    lines.push("  --max-clients N    stop after serving N clients (default: until Ctrl-C)");
  }
  if (usage.role === "requests") {
    lines.push(
      "  --max-requests N   handleRequest() N times, then stop (default: serveForever()",
      "                     until Ctrl-C)",
    );
  }
  for (const [name, help] of Object.entries(usage.flags ?? {})) {
    lines.push(`  --${name.padEnd(17)}${help}`);
  }
  if (usage.connections !== undefined) {
    lines.push(`  --connections N    open N connections (default ${usage.connections})`);
  }
  lines.push("  -h, --help         show this help");
  lines.push("", "--allow-net=127.0.0.1 covers loopback; widen it to use another host.");
  if (usage.role !== "client" && usage.role !== "self") {
    lines.push("", "Prints the port it bound as its first line.");
  }
  return lines.join("\n");
}

function fail(usage: ExampleUsage, message: string): never {
  console.error(`${usage.file}: ${message} (try --help)`);
  Deno.exit(2);
}

function toInteger(usage: ExampleUsage, name: string, text: string, min: number, max: number) {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    fail(usage, `--${name} must be an integer ${min}-${max}, got "${text}"`);
  }
  return value;
}

/**
 * Parses `Deno.args`; prints help and exits 0 on `--help`, prints one line and exits 2
 * on a bad argument.
 *
 * @param usage How to describe the example.
 * @param args The arguments to parse (defaults to `Deno.args`).
 * @returns The host, port and client limit to use.
 */
export function exampleArgs(usage: ExampleUsage, args: string[] = Deno.args): ExampleArgs {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: usage.words !== undefined,
      options: {
        host: { type: "string", default: usage.host ?? "127.0.0.1" },
        port: { type: "string", default: String(usage.port) },
        "max-clients": { type: "string" },
        connections: { type: "string" },
        "max-requests": { type: "string" },
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(
          Object.keys(usage.flags ?? {}).map((name) => [name, { type: "boolean" as const }]),
        ),
      },
    }));
  } catch (err) {
    fail(usage, (err as Error).message);
  }
  if (values.help) {
    console.log(usageText(usage));
    Deno.exit(0);
  }
  if (values["max-clients"] !== undefined && usage.role !== "loop") {
    fail(usage, "--max-clients is only for servers that loop");
  }
  if (values["max-requests"] !== undefined && usage.role !== "requests") {
    fail(usage, "--max-requests is only for socketserver servers");
  }
  const port = toInteger(usage, "port", values.port, 0, 65535);
  if (values.connections !== undefined && usage.connections === undefined) {
    fail(usage, "--connections is only for clients that open several connections");
  }
  const max = values["max-clients"];
  const maxClients = max === undefined ? null : toInteger(usage, "max-clients", max, 1, 2 ** 31);
  const connections = values.connections === undefined
    ? usage.connections ?? 1
    : toInteger(usage, "connections", values.connections, 1, 10_000);
  const requests = values["max-requests"];
  const maxRequests = requests === undefined
    ? null
    : toInteger(usage, "max-requests", requests, 1, 2 ** 31);
  const flags = new Set(
    Object.keys(usage.flags ?? {}).filter((name) =>
      (values as Record<string, unknown>)[name] === true
    ),
  );
  return {
    host: values.host,
    port,
    maxClients,
    connections,
    maxRequests,
    words: positionals,
    flags,
  };
}

/**
 * Calls `stop` on Ctrl-C (SIGINT) or SIGTERM, so an accept loop can close its
 * listener and end instead of dying mid-write.
 *
 * @param stop Called once per signal.
 * @returns Disposing it removes the listeners (a live listener keeps the process running).
 */
export function onShutdown(stop: () => void): Disposable {
  // Windows has no SIGTERM in Deno.
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  return {
    [Symbol.dispose]() {
      for (const signal of signals) Deno.removeSignalListener(signal, stop);
    },
  };
}
