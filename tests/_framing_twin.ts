// The asyncio twin of framing_differential_test.ts. One python3 process per
// batch is the peer: it listens on 127.0.0.1, and each connection names its
// case (two bytes) and is sent that case's wire bytes in the case's segments,
// with a pause after each, then end of stream, a reset or nothing (the peer
// holds the connection open until the client closes). The same process runs
// every case's read sequence through asyncio's StreamReader
// (`asyncio.open_connection(..., limit=limit)`); then pysock runs it over its
// own connection to the same peer, and the two outcome lists are compared.

import { deepEqual } from "node:assert/strict";
import { IncompleteReadError, LimitOverrunError, MessageTooLargeError } from "../framing.ts";
import { recvExactly, recvLine, recvMsg, recvUntil } from "../framing.ts";
import { AF_INET, SOCK_STREAM, socket, type StreamSocket } from "../mod.ts";
import { concat } from "./_fuzz_framing.ts";
import { hex } from "./_hostile_peer.ts";
import { pythonChat } from "./_helpers.ts";

/** A piece of the wire: raw bytes (hex), or Python's `struct.pack(fmt, n)`. */
export type Part = string | { pack: string; n: number | string };

/** One read call, run by both twins. */
export type Op =
  | { op: "exactly"; n: number }
  | { op: "until"; sep: string }
  | { op: "line" }
  | { op: "read"; n: number }
  | { op: "rest" }
  | { op: "msg"; header: 1 | 2 | 4 | 8; little?: boolean; max?: number };

/** One connection: what the peer sends, how it ends, and the reads made. */
export interface Case {
  name: string;
  wire: Part[];
  /** Offsets into the wire where a segment ends (the peer pauses there). */
  cuts?: number[];
  end?: "eof" | "reset" | "hold";
  /** The StreamReader's `limit=`, and the `limit` of recvUntil/recvLine. */
  limit?: number;
  ops: Op[];
}

/** What one read gave: its bytes (hex; null for recvMsg's end), or its error. */
export type Outcome =
  | { ok: string | null }
  | {
    err: string;
    partial?: string;
    expected?: number | null;
    consumed?: number;
    msg?: string;
    size?: number;
  };

const TWIN = String.raw`
import asyncio, json, socket, struct, sys, threading, time
cases = json.loads(sys.stdin.readline())
PAUSE = 0.04

def build(c):
    out = b""
    for p in c["wire"]:
        out += bytes.fromhex(p) if isinstance(p, str) else struct.pack(p["pack"], int(p["n"]))
    return out

WIRES = [build(c) for c in cases]

def recvall(conn, n):
    data = b""
    while len(data) < n:
        more = conn.recv(n - len(data))
        if not more: raise EOFError
        data += more
    return data

def serve(conn):
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = cases[struct.unpack(">H", recvall(conn, 2))[0]]
        data = WIRES[cases.index(c)]
        bounds = [0] + sorted(set(c.get("cuts", []))) + [len(data)]
        for a, b in zip(bounds, bounds[1:]):
            if b > a: conn.sendall(data[a:b])
            time.sleep(PAUSE)
        end = c.get("end", "eof")
        if end == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if end == "eof": conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096): pass

srv = socket.create_server(("127.0.0.1", 0))
def accept_loop():
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
threading.Thread(target=accept_loop, daemon=True).start()
port = srv.getsockname()[1]

class MessageTooLargeError(Exception): pass
FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}

async def msg(r, op):
    # Python's struct framing over readexactly: what recvMsg must match.
    size = op["header"]
    try:
        head = await r.readexactly(size)
    except asyncio.IncompleteReadError as e:
        if not e.partial: return None
        raise
    n = struct.unpack(("<" if op.get("little") else ">") + FMT[size], head)[0]
    if n > op.get("max", 16 * 1024 * 1024): raise MessageTooLargeError(n)
    return await r.readexactly(n)

async def run(r, op):
    kind = op["op"]
    if kind == "exactly": return await r.readexactly(op["n"])
    if kind == "until": return await r.readuntil(bytes.fromhex(op["sep"]))
    if kind == "line": return await r.readline()
    if kind == "read": return await r.read(op["n"])
    if kind == "rest": return await r.read(-1)
    return await msg(r, op)

def failed(e):
    d = {"err": type(e).__name__}
    if isinstance(e, asyncio.IncompleteReadError):
        d.update(partial=e.partial.hex(), expected=e.expected)
    elif isinstance(e, asyncio.LimitOverrunError):
        d.update(consumed=e.consumed, msg=e.args[0])
    elif isinstance(e, MessageTooLargeError):
        d.update(size=e.args[0])
    elif isinstance(e, ValueError):
        d.update(msg=str(e))
    return d

async def one(i, c):
    kw = {"limit": c["limit"]} if "limit" in c else {}
    r, w = await asyncio.open_connection("127.0.0.1", port, **kw)
    w.write(struct.pack(">H", i))
    await w.drain()
    outs = []
    for op in c["ops"]:
        try:
            v = await run(r, op)
            outs.append({"ok": None if v is None else v.hex()})
        except Exception as e:
            outs.append(failed(e))
    w.close()
    try: await w.wait_closed()
    except OSError: pass
    return outs

async def main():
    print(json.dumps({"port": port}), flush=True)
    results = []
    for start in range(0, len(cases), 8):
        batch = cases[start:start + 8]
        results += await asyncio.gather(*(one(start + k, c) for k, c in enumerate(batch)))
    print(json.dumps({"results": results, "wires": [w.hex() for w in WIRES]}), flush=True)
    sys.stdin.readline()

asyncio.run(main())
`;

function unhex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (b) => parseInt(b, 16));
}

// recv until end of stream, as asyncio's read(-1); bounded.
async function rest(sock: StreamSocket): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 10_000; i++) {
    const chunk = await sock.recv(65536);
    if (chunk.length === 0) break;
    parts.push(chunk);
  }
  return concat(parts);
}

function call(sock: StreamSocket, op: Op, limit: number | undefined): Promise<Uint8Array | null> {
  const options = limit === undefined ? undefined : { limit };
  switch (op.op) {
    case "exactly":
      return recvExactly(sock, op.n);
    case "until":
      return recvUntil(sock, unhex(op.sep), options);
    case "line":
      return recvLine(sock, options);
    case "read":
      return sock.recv(op.n);
    case "rest":
      return rest(sock);
    case "msg":
      return recvMsg(sock, {
        header: op.header,
        littleEndian: op.little ?? false,
        maxMessage: op.max ?? 16 * 1024 * 1024,
      });
  }
}

// pysock's error in asyncio's terms. Argument errors: Python's ValueError
// is a RangeError here (STYLE.md rule 4), with pysock's own message.
function failed(err: unknown): Outcome {
  if (err instanceof IncompleteReadError) {
    return { err: "IncompleteReadError", partial: hex(err.partial), expected: err.expected };
  }
  if (err instanceof LimitOverrunError) {
    return { err: "LimitOverrunError", consumed: err.consumed, msg: err.message };
  }
  if (err instanceof MessageTooLargeError) return { err: "MessageTooLargeError", size: err.size };
  if (err instanceof RangeError) return { err: "ValueError" };
  return { err: (err as Error).name };
}

async function ours(port: number, index: number, c: Case): Promise<Outcome[]> {
  await using sock = socket(AF_INET, SOCK_STREAM) as StreamSocket;
  await sock.connect(["127.0.0.1", port]);
  await sock.sendall(new Uint8Array([index >> 8, index & 0xff]));
  const outs: Outcome[] = [];
  for (const op of c.ops) {
    try {
      const value = await call(sock, op, c.limit);
      outs.push({ ok: value === null ? null : hex(value) });
    } catch (err) {
      outs.push(failed(err));
    }
  }
  return outs;
}

/** Both twins' outcomes of every case, and the wire bytes the peer built. */
export interface Twins {
  python: Outcome[][];
  pysock: Outcome[][];
  wires: Uint8Array[];
}

/** Runs `cases` through asyncio and through pysock against one python3 peer. */
export async function twins(cases: Case[]): Promise<Twins> {
  await using chat = pythonChat(TWIN);
  await chat.send(cases);
  const { port } = await chat.receive() as { port: number };
  const { results, wires } = await chat.receive() as { results: Outcome[][]; wires: string[] };
  const pysock: Outcome[][] = [];
  for (let start = 0; start < cases.length; start += 8) {
    const batch = cases.slice(start, start + 8);
    pysock.push(...await Promise.all(batch.map((c, k) => ours(port, start + k, c))));
  }
  await chat.finish();
  return { python: results, pysock, wires: wires.map(unhex) };
}

/** Asserts that every case came out the same in both twins, naming the case that did not. */
export function assertSameAsAsyncio(cases: Case[], result: Twins): void {
  cases.forEach((c, i) => {
    // An argument's ValueError is a RangeError in pysock, with its own message.
    const python = result.python[i].map((o) =>
      "err" in o && o.err === "ValueError" ? { err: "ValueError" } : o
    );
    deepEqual(result.pysock[i], python, `${c.name}: pysock differs from asyncio`);
  });
}

/** Hex of a string, for wires and separators. */
export function h(text: string): string {
  return hex(new TextEncoder().encode(text));
}
