// Node's built-in modules that TLS needs, loaded when TLS first uses them
// rather than when the module graph loads. A static `import … from "node:…"`
// starts Deno's Node compatibility layer in every program that imports
// mod.ts, TLS or not: importing mod.ts took 47 MiB of RSS and 43 ms with the
// static imports, 40 MiB and 23 ms without them (Deno 2.9, bench/startup.ts;
// README's "Start-up"). `process.getBuiltinModule` is Node's synchronous way to load a
// built-in, and SSLContext's synchronous methods (loadCertChain, getCaCerts)
// need a synchronous one. Code that is asynchronous anyway (socketserver's
// request context, the selectors' next turn) uses `await import(…)`, which
// starts less of the layer than `process` does (about 3.5 MiB against 7.5).

import type { X509Certificate } from "node:crypto";

/** `node:buffer`, loaded on first use. */
export function nodeBuffer(): typeof import("node:buffer") {
  return process.getBuiltinModule("node:buffer");
}

/** `node:crypto`, loaded on first use. */
export function nodeCrypto(): typeof import("node:crypto") {
  return process.getBuiltinModule("node:crypto");
}

/** `node:net`, loaded on first use. */
export function nodeNet(): typeof import("node:net") {
  return process.getBuiltinModule("node:net");
}

/** `node:stream`, loaded on first use. */
export function nodeStream(): typeof import("node:stream") {
  return process.getBuiltinModule("node:stream");
}

/** `node:tls`, loaded on first use. */
export function nodeTls(): typeof import("node:tls") {
  return process.getBuiltinModule("node:tls");
}

/** `new X509Certificate(data)` of `node:crypto`, loaded on first use. */
export function x509(data: string | Uint8Array): X509Certificate {
  return new (nodeCrypto().X509Certificate)(data);
}
