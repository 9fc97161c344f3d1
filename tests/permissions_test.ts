// Running without the permission a call needs: each call, made in a fresh
// `deno run --no-prompt` with no (or the wrong) permission, fails with a
// PermissionError (EACCES) whose message names the exact flag to add; and
// running again with just the flags it names makes the call succeed.

import assert from "node:assert/strict";
import { AF_INET6, AF_UNIX, createServer, errno, SOCK_DGRAM, socket } from "../mod.ts";
import { HAS_IPV6, text } from "./_helpers.ts";

const MOD = JSON.stringify(new URL("../mod.ts", import.meta.url).href);

// One program for every case: the action and its target come as arguments,
// the outcome goes to stdout as JSON.
const PROBE = `
import * as pysock from ${MOD};
const { AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, createConnection, gethostname, socket, socketpair } =
  pysock;
const [action, target] = Deno.args;
const port = Number(target);
async function run() {
  switch (action) {
    case "connect": {
      await using s = socket();
      return await s.connect(["127.0.0.1", port]);
    }
    case "connect6": {
      await using s = socket(AF_INET6);
      return await s.connect(["::1", port]);
    }
    case "createConnection": {
      await using s = await createConnection(["localhost", port]);
      return;
    }
    case "listen": {
      using s = socket();
      s.bind(["127.0.0.1", 0]);
      return s.listen();
    }
    case "sendto": {
      await using s = socket(AF_INET, SOCK_DGRAM);
      s.bind(["127.0.0.1", 0]);
      return await s.sendto("x", ["127.0.0.1", port]);
    }
    case "sendtoUnbound": {
      await using s = socket(AF_INET, SOCK_DGRAM);
      return await s.sendto("x", ["127.0.0.1", port]);
    }
    case "unix": {
      await using s = socket(AF_UNIX);
      return await s.connect(target);
    }
    case "unixListen": {
      using s = socket(AF_UNIX);
      s.bind(target);
      return s.listen();
    }
    case "hostname":
      return gethostname();
    case "addrconfig":
      return await pysock.getaddrinfo("127.0.0.1", 80, 0, 1, 0, pysock.AI_ADDRCONFIG);
    case "socketpair": {
      const [a, b] = await socketpair();
      a.close();
      b.close();
      return;
    }
  }
  throw new Error("unknown action " + action);
}
try {
  await run();
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ name: e.constructor.name, errno: e.errno, message: e.message }));
}
`;

interface Outcome {
  ok?: boolean;
  name?: string;
  errno?: number;
  message?: string;
}

/** Runs the probe in `deno run --no-prompt` with only `flags`. */
async function probe(dir: string, flags: string[], action: string, target = ""): Promise<Outcome> {
  const { stdout, stderr, success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--unstable-net", "--no-prompt", ...flags, `${dir}/probe.ts`, action, target],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  assert.ok(success, text(stderr));
  return JSON.parse(text(stdout));
}

/** The flags a PermissionError message says to run again with. */
function namedFlags(message: string): string[] {
  const advice = /run again with (.+)$/.exec(message)?.[1];
  assert.ok(advice, `no flag named in: ${message}`);
  return advice.split(" ");
}

interface Case {
  name: string;
  action: string;
  target: string;
  /** Permissions given on the first run, beside the one that is missing. */
  given: string[];
  /** The exact flags the message must name. */
  expected: string[];
}

async function withProbe(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, PROBE);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `c` without its permission, checks the error names `c.expected`, then runs it with them. */
async function checkCase(dir: string, c: Case): Promise<string[]> {
  const problems: string[] = [];
  const denied = await probe(dir, c.given, c.action, c.target);
  if (denied.name !== "PermissionError" || denied.errno !== errno.EACCES) {
    return [`${c.name}: expected PermissionError EACCES, got ${JSON.stringify(denied)}`];
  }
  const flags = namedFlags(denied.message!);
  if (JSON.stringify(flags) !== JSON.stringify(c.expected)) {
    problems.push(`${c.name}: named ${flags.join(" ")}, expected ${c.expected.join(" ")}`);
  }
  const granted = await probe(dir, [...c.given, ...flags], c.action, c.target);
  if (!granted.ok) {
    problems.push(`${c.name}: still failing with ${flags.join(" ")}: ${granted.message}`);
  }
  return problems;
}

Deno.test("without --allow-net, connect, createConnection, listen, socketpair and sendto name the exact --allow-net flag, and it suffices", async () => {
  using server = createServer(["127.0.0.1", 0]);
  const port = String(server.getsockname()[1]);
  using server6 = HAS_IPV6 ? createServer(["::1", 0], { family: AF_INET6 }) : null;
  using receiver = socket(2, SOCK_DGRAM);
  receiver.bind(["127.0.0.1", 0]);
  const udpPort = String(receiver.getsockname()[1]);
  const cases: Case[] = [
    {
      name: "connect",
      action: "connect",
      target: port,
      given: [],
      expected: [`--allow-net=127.0.0.1:${port}`],
    },
    {
      name: "connect with another port allowed",
      action: "connect",
      target: port,
      given: ["--allow-net=127.0.0.1:1"],
      expected: [`--allow-net=127.0.0.1:${port}`],
    },
    {
      name: "createConnection to localhost (both addresses it resolves to)",
      action: "createConnection",
      target: port,
      given: [],
      expected: [`--allow-net=127.0.0.1:${port},[::1]:${port}`],
    },
    {
      name: "bind and listen",
      action: "listen",
      target: "",
      given: [],
      expected: ["--allow-net=127.0.0.1:0"],
    },
    {
      // The listener is allowed, then the connect to its new port is not:
      // neither address Deno names would work the next run.
      name: "socketpair with only the listener's 127.0.0.1:0 allowed",
      action: "socketpair",
      target: "",
      given: ["--allow-net=127.0.0.1:0"],
      expected: ["--allow-net=127.0.0.1"],
    },
    {
      name: "socketpair",
      action: "socketpair",
      target: "",
      given: [],
      expected: ["--allow-net=127.0.0.1"],
    },
    {
      name: "sendto from a bound datagram socket",
      action: "sendto",
      target: udpPort,
      given: ["--allow-net=127.0.0.1:0"],
      expected: [`--allow-net=127.0.0.1:${udpPort}`],
    },
    {
      name: "sendto from an unbound datagram socket (the implicit bind and the send)",
      action: "sendtoUnbound",
      target: udpPort,
      given: [],
      expected: [`--allow-net=127.0.0.1:0,127.0.0.1:${udpPort}`],
    },
  ];
  if (server6 !== null) {
    const port6 = String(server6.getsockname()[1]);
    cases.push({
      name: "connect over IPv6",
      action: "connect6",
      target: port6,
      given: [],
      expected: [`--allow-net=[::1]:${port6}`],
    });
  }
  await withProbe(async (dir) => {
    const problems = (await Promise.all(cases.map((c) => checkCase(dir, c)))).flat();
    assert.deepEqual(problems, []);
  });
});

Deno.test("without read, write and net access, Unix socket connect and bind name all three flags the path needs", async () => {
  await withProbe(async (dir) => {
    const path = `${dir}/server.sock`;
    using server = socket(AF_UNIX);
    server.bind(path);
    server.listen(1);
    const problems = await checkCase(dir, {
      name: "Unix connect",
      action: "unix",
      target: path,
      given: [],
      expected: [`--allow-read=${path}`, `--allow-write=${path}`, `--allow-net=unix:${path}`],
    });
    const bound = `${dir}/bound.sock`;
    problems.push(
      ...await checkCase(dir, {
        name: "Unix bind and listen",
        action: "unixListen",
        target: bound,
        given: [],
        expected: [`--allow-read=${bound}`, `--allow-write=${bound}`, `--allow-net=unix:${bound}`],
      }),
    );
    assert.deepEqual(problems, []);
  });
});

Deno.test("without --allow-sys, gethostname and getaddrinfo with AI_ADDRCONFIG name the exact --allow-sys flag", async () => {
  const cases: Case[] = [
    {
      name: "gethostname",
      action: "hostname",
      target: "",
      given: [],
      expected: ["--allow-sys=hostname"],
    },
    {
      name: "getaddrinfo AI_ADDRCONFIG",
      action: "addrconfig",
      target: "",
      given: [],
      expected: ["--allow-sys=networkInterfaces"],
    },
  ];
  await withProbe(async (dir) => {
    const problems = (await Promise.all(cases.map((c) => checkCase(dir, c)))).flat();
    assert.deepEqual(problems, []);
  });
});
