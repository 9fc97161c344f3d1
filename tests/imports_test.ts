// What importing the package loads. A static `import … from "node:…"`
// anywhere in mod.ts's module graph starts Deno's Node compatibility layer
// in every program that imports mod.ts, whether it uses TLS or not: about
// 10 MiB of RSS and 25 ms of start-up (see _node.ts). So the graph imports
// node: built-ins only for their types, or when first used: through
// _node.ts or an `import()` inside a function.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = new URL("../", import.meta.url);

interface Dependency {
  specifier: string;
}
interface Module {
  specifier: string;
  dependencies?: Dependency[];
}

// The package's own modules that importing `entry` loads, as Deno resolves them.
async function graph(entry: string): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: fileURLToPath(ROOT),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as { modules: Module[] };
  return info.modules.map((m) => m.specifier).filter((s) => s.startsWith(ROOT.href))
    .map((s) => s.slice(ROOT.href.length));
}

// Lines of `source` that load a node: built-in when the module loads: a
// value import or re-export, or an import() at the top level. Doc comments
// (whose examples import node:assert/strict) are skipped.
function eagerNodeImports(source: string): string[] {
  return source.split("\n").filter((line) => {
    if (/^\s*(\*|\/\/)/.test(line)) return false;
    if (/^(import|export)\s(?!type\s)[^"']*\bfrom\s*["']node:/.test(line)) return true;
    if (/^import\s*["']node:/.test(line)) return true;
    return /^\S.*(?<!typeof )\bimport\(\s*["']node:/.test(line);
  });
}

Deno.test("eagerNodeImports finds what loads the Node layer and passes what does not", () => {
  assert.deepEqual(
    eagerNodeImports([
      'import tls from "node:tls";',
      'import { X509Certificate } from "node:crypto";',
      'export { Duplex } from "node:stream";',
      'import "node:timers";',
      'const timers = await import("node:timers");',
      'import type { X509Certificate } from "node:crypto";',
      'import type * as tls from "node:tls";',
      ' * import assert from "node:assert/strict";',
      '  immediate ??= (await import("node:timers")).setImmediate;',
      'export function nodeTls(): typeof import("node:tls") {',
      'import { describe } from "./_address.ts";',
    ].join("\n")),
    [
      'import tls from "node:tls";',
      'import { X509Certificate } from "node:crypto";',
      'export { Duplex } from "node:stream";',
      'import "node:timers";',
      'const timers = await import("node:timers");',
    ],
  );
});

for (
  const entry of [
    "mod.ts",
    "socket.ts",
    "udp.ts",
    "framing.ts",
    "selectors.ts",
    "socketserver.ts",
    "ssl.ts",
  ]
) {
  Deno.test(`importing ${entry} loads no node: built-in until it is used`, async () => {
    const modules = await graph(entry);
    assert.ok(modules.includes(entry), `${entry} is not in its own graph: ${modules}`);
    const eager: string[] = [];
    for (const path of modules) {
      const source = await Deno.readTextFile(new URL(path, ROOT));
      for (const line of eagerNodeImports(source)) eager.push(`${path}: ${line.trim()}`);
    }
    assert.deepEqual(eager, []);
  });
}

Deno.test("mod.ts's graph holds TLS and socketserver, so the test above covers their node: uses", async () => {
  const modules = await graph("mod.ts");
  for (
    const path of ["_node.ts", "_ssl_node.ts", "_ssl_duplex.ts", "_base_server.ts", "_selector.ts"]
  ) {
    assert.ok(modules.includes(path), `${path} is not in mod.ts's graph`);
  }
});
