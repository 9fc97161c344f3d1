// What the timeout and blocking twins share: a call's outcome as both sides
// print it, and a peer's bytes read to end of stream.

import type { StreamSocket } from "../socket.ts";

/** What a call gave, as the twins print it: its error's class, errno, strerror and message. */
export type Shape = ["ok"] | [string, unknown, unknown, string];

/** The {@linkcode Shape} of what `call` settles to. */
export async function shape(call: () => Promise<unknown>): Promise<Shape> {
  try {
    await call();
    return ["ok"];
  } catch (e) {
    const x = e as { name: string; errno?: unknown; strerror?: unknown; message: string };
    return [x.name, x.errno ?? null, x.strerror ?? null, x.message];
  }
}

/** `shape(call)` in Python, for the twins (after pythonJson's prelude). */
export const PY_SHAPE = `
def shape(call):
    try:
        call()
        return ["ok"]
    except Exception as x:
        return [type(x).__name__, getattr(x, "errno", None), getattr(x, "strerror", None), str(x)]
`;

/** Every byte `sock` receives until end of stream, in one array (bounded: 100,000 reads). */
export async function drain(sock: StreamSocket): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < 100_000; i++) {
    const chunk = await sock.recv(1 << 20);
    if (chunk.length === 0) break;
    chunks.push(chunk);
    total += chunk.length;
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}
