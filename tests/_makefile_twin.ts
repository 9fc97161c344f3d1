// The twin harness of makefile_differential_test.ts. One python3 process is
// the scripted peer of every case (a listener on 127.0.0.1) and runs the
// CPython client of each case first; then the same calls run through
// pysock's makefile() against the same peer script. Each call's outcome (its
// value, or its error's class, errno and message) and the bytes the peer
// received are compared.
//
// A peer script is a list of steps: ["send", hex] (one sendall, so one TCP
// segment with TCP_NODELAY and a 5 ms pause after it), ["sleep", ms], ["await", n]
// (read n bytes the client sends, e.g. a signal to go on), ["eof"]
// (shutdown(SHUT_WR)), ["rst"] (SO_LINGER 0 and close: a reset). After its
// steps the peer reads what the client sends until end of stream, unless it
// reset. Everything the peer read, in order, is the case's `received`.
//
// A client script is a list of calls, run the same way on both sides:
// ["makefile", mode, pythonKwargs, pysockOptions?] (file 0, 1, ...; the
// pysock options default to Python's keyword arguments), ["read", f, n?],
// ["readline", f, limit?], ["readlines", f, hint?], ["iter", f] (list(f) /
// for await), ["write", f, data], ["flush", f], ["close", f], ["closed", f],
// ["recv", n], ["sendall", data], ["settimeout", t], ["shutdown", how],
// ["sock_close"]. Data is a string or { $bytes: hex }. Reads on a socket with
// no timeout only wait for what the peer script sends, so every case ends.

import assert from "node:assert/strict";
import { IPPROTO_TCP, socket, type SocketFile, type StreamSocket, TCP_NODELAY } from "../mod.ts";
import { decoder, encoder, HANG_MS, pythonChat, within } from "./_helpers.ts";

/** Bytes, as both twins write them. */
export type Hex = { $bytes: string };
/** A value in a call or an outcome. */
export type Value = null | boolean | number | string | Hex | Value[] | { [k: string]: Value };
/** One call of a client script (see the top of the file). */
export type Call = [string, ...Value[]];
/** One peer step (see the top of the file). */
export type Step = [string, ...(string | number)[]];

/** What a call gave. */
export type Outcome = { ok: Value } | { err: string; errno: number | null; msg: string };

/** One differential case. */
export interface Case {
  name: string;
  peer: Step[];
  client: Call[];
  /**
   * Calls (by index) where pysock deliberately differs from CPython: the
   * outcome each twin must give, and why (README "What differs").
   */
  differs?: Record<number, { cpython: Outcome; pysock: Outcome; why: string }>;
  /** The bytes the peer must receive from pysock, where they deliberately differ. */
  pysockReceived?: string;
}

/** Bytes of a string (UTF-8), or of hex, as the twins pass them. */
export const hex = (data: Uint8Array | number[]): Hex => ({
  $bytes: Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(""),
});
/** The UTF-8 bytes of `text`, tagged. */
export const utf8 = (text: string): Hex => hex(encoder.encode(text));
/** A peer step sending `data` (bytes or UTF-8 text) in one segment. */
export const send = (data: Uint8Array | number[] | string): Step => [
  "send",
  (typeof data === "string" ? utf8(data) : hex(data)).$bytes,
];

const TWIN = String.raw`
import json, socket, struct, sys, threading, time, signal
from socket import *
signal.alarm(120)

cases = json.loads(sys.stdin.readline())
received = {}
done = {}
lock = threading.Lock()

def dec(v):
    if isinstance(v, list): return [dec(x) for x in v]
    if isinstance(v, dict):
        if "$bytes" in v: return bytes.fromhex(v["$bytes"])
        return {k: dec(x) for k, x in v.items()}
    return v

def enc(v):
    if isinstance(v, (bytes, bytearray, memoryview)): return {"$bytes": bytes(v).hex()}
    if isinstance(v, (list, tuple)): return [enc(x) for x in v]
    return v

def peer(conn):
    conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
    head = b""
    while not head.endswith(b"\n"): head += conn.recv(1)
    who, idx = head.decode().split()
    idx = int(idx)
    got = bytearray()
    try:
        for step in cases[idx]["peer"]:
            kind = step[0]
            if kind == "send":
                conn.sendall(bytes.fromhex(step[1]))
                time.sleep(0.005)
            elif kind == "sleep": time.sleep(step[1] / 1000)
            elif kind == "await":
                want = len(got) + step[1]
                while len(got) < want:
                    chunk = conn.recv(want - len(got))
                    if not chunk: break
                    got += chunk
            elif kind == "eof": conn.shutdown(SHUT_WR)
            elif kind == "rst":
                conn.setsockopt(SOL_SOCKET, SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                conn = None
                break
        while conn is not None:
            chunk = conn.recv(65536)
            if not chunk: break
            got += chunk
    except OSError as e:
        got += ("<peer %s>" % type(e).__name__).encode()
    finally:
        if conn is not None: conn.close()
        with lock: received[(who, idx)] = bytes(got).hex()
        done[(who, idx)].set()

def serve(listener):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=peer, args=(conn,), daemon=True).start()

def outcome(call):
    try:
        return {"ok": enc(call())}
    except Exception as e:
        return {"err": type(e).__name__, "errno": e.errno if isinstance(e, OSError) else None,
                "msg": str(e)}

def client(port, idx):
    s = create_connection(("127.0.0.1", port))
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
    s.sendall(b"c %d\n" % idx)
    files = []
    def makefile(mode, kwargs, *_):
        files.append(None)
        f = s.makefile(mode, **kwargs)
        files[-1] = f
        return None
    calls = {
        "makefile": makefile,
        "read": lambda f, *n: files[f].read(*n),
        "readline": lambda f, *n: files[f].readline(*n),
        "readlines": lambda f, *n: files[f].readlines(*n),
        "iter": lambda f: list(files[f]),
        "write": lambda f, data: files[f].write(data),
        "flush": lambda f: files[f].flush(),
        "close": lambda f: files[f].close(),
        "closed": lambda f: files[f].closed,
        "recv": lambda n: s.recv(n),
        "sendall": lambda data: s.sendall(data.encode() if isinstance(data, str) else data),
        "settimeout": lambda t: s.settimeout(t),
        "shutdown": lambda how: s.shutdown(how),
        "sock_close": lambda: s.close(),
    }
    out = [outcome(lambda: calls[c[0]](*dec(c[1:]))) for c in cases[idx]["client"]]
    for f in files:
        try:
            if f is not None: f.close()
        except Exception: pass
    s.close()
    return out

listener = create_server(("127.0.0.1", 0))
port = listener.getsockname()[1]
for who in "cp":
    for i in range(len(cases)): done[(who, i)] = threading.Event()
threading.Thread(target=serve, args=(listener,), daemon=True).start()
cpython = []
for i in range(len(cases)):
    cpython.append(client(port, i))
    done[("c", i)].wait()
print(json.dumps({"port": port, "outcomes": cpython,
                  "received": [received[("c", i)] for i in range(len(cases))]}), flush=True)
sys.stdin.readline()
for i in range(len(cases)): done[("p", i)].wait()
print(json.dumps({"received": [received[("p", i)] for i in range(len(cases))]}), flush=True)
`;

type AnyFile = SocketFile<string | Uint8Array>;

function decode(v: Value): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    if ("$bytes" in v && typeof v.$bytes === "string") {
      return new Uint8Array((v.$bytes.match(/../g) ?? []).map((h) => parseInt(h, 16)));
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

function encode(v: unknown): Value {
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(encode);
  if (v === undefined) return null;
  return v as Value;
}

/** pysock's outcome of one call: its value, or its error as Python prints one. */
async function outcome(call: () => unknown): Promise<Outcome> {
  const settled = await within(Promise.resolve().then(call), HANG_MS);
  if (settled === "pending") {
    return { err: "Hang", errno: null, msg: `pending after ${HANG_MS} ms` };
  }
  if ("value" in settled) return { ok: encode(settled.value) };
  const err = settled.error as Error & { errno?: number | null };
  return { err: err.name, errno: err.errno ?? null, msg: err.message };
}

/** Runs one case's client script through pysock. */
async function runPysock(port: number, idx: number, script: Call[]): Promise<Outcome[]> {
  const s: StreamSocket = socket();
  await s.connect(["127.0.0.1", port]);
  s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  await s.sendall(`p ${idx}\n`);
  const files: (AnyFile | null)[] = [];
  const file = (f: unknown) => files[f as number] as AnyFile;
  const calls: Record<string, (...args: unknown[]) => unknown> = {
    makefile(mode, kwargs, options) {
      files.push(null);
      // Python's keyword arguments are pysock's options, unless the case gives its own.
      const opts = options ?? (Object.keys(kwargs as object).length > 0 ? kwargs : undefined);
      const make = s.makefile as (mode: unknown, options?: unknown) => AnyFile;
      files[files.length - 1] = make.call(s, mode, opts);
    },
    read: (f, ...n) => file(f).read(...(n as [number])),
    readline: (f, ...n) => file(f).readline(...(n as [number])),
    readlines: (f, ...n) => (file(f).readlines as (...a: unknown[]) => unknown)(...n),
    iter: (f) => Array.fromAsync(file(f)),
    write: (f, data) => file(f).write(data as string),
    flush: (f) => file(f).flush(),
    close: (f) => file(f).close(),
    closed: (f) => file(f).closed,
    recv: (n) => s.recv(n as number),
    sendall: (data) => s.sendall(data as string),
    settimeout: (t) => s.settimeout(t as number | null),
    shutdown: (how) => s.shutdown(how as number),
    sock_close: () => s.close(),
  };
  const out: Outcome[] = [];
  for (const [name, ...args] of script) {
    out.push(await outcome(() => calls[name](...(args.map(decode)))));
  }
  for (const f of files) await f?.close().catch(() => {});
  s.close();
  return out;
}

/** What both twins did in each case. */
export interface Results {
  cpython: Outcome[][];
  pysock: Outcome[][];
  cpythonReceived: string[];
  pysockReceived: string[];
}

/** Runs every case in CPython, then in pysock, against one python3 peer process. */
export async function runTwins(cases: Case[]): Promise<Results> {
  await using chat = pythonChat(TWIN);
  await chat.send(cases);
  const twin = await chat.receive() as {
    port: number;
    outcomes: Outcome[][];
    received: string[];
  };
  const pysock: Outcome[][] = [];
  for (let i = 0; i < cases.length; i++) {
    pysock.push(await runPysock(twin.port, i, cases[i].client));
  }
  await chat.send("done");
  const { received } = await chat.receive() as { received: string[] };
  const { success, stderr } = await chat.finish();
  assert.ok(success, `python3 failed: ${stderr}`);
  return {
    cpython: twin.outcomes,
    pysock,
    cpythonReceived: twin.received,
    pysockReceived: received,
  };
}

/** Text of the hex the peer received, for messages: runs of one character shortened. */
function shown(hexText: string): string {
  const text = decoder.decode(decode({ $bytes: hexText }) as Uint8Array);
  return JSON.stringify(text).replace(/(.)\1{7,}/g, (run, c) => `${c}{${run.length}}`);
}

/**
 * Argument errors keep Python's class (its ValueError is a RangeError here)
 * in this package's wording, so only the class is compared (README "Errors").
 */
const ARGUMENT_ERRORS: Record<string, string> = {
  TypeError: "TypeError",
  ValueError: "RangeError",
};

/**
 * Asserts every case: each call's outcome and the peer's bytes are CPython's,
 * except where a case says pysock deliberately differs (and then both twins'
 * outcomes are pinned).
 */
export function assertTwins(cases: Case[], r: Results): void {
  const failures: string[] = [];
  cases.forEach((c, i) => {
    c.client.forEach((call, k) => {
      const [py, ours] = [r.cpython[i][k], r.pysock[i][k]];
      const d = c.differs?.[k];
      const where = `${c.name}: call ${k} ${JSON.stringify(call)}`;
      try {
        if (d) {
          assert.deepEqual(py, d.cpython, `${where}: CPython`);
          assert.deepEqual(ours, d.pysock, `${where}: pysock (${d.why})`);
        } else if ("err" in py && ARGUMENT_ERRORS[py.err] !== undefined) {
          assert.equal("err" in ours && ours.err, ARGUMENT_ERRORS[py.err], where);
        } else {
          assert.deepEqual(ours, py, where);
        }
      } catch (e) {
        failures.push(
          `${where}\n  CPython: ${JSON.stringify(py)}\n  pysock:  ${JSON.stringify(ours)}${
            d ? `\n  (${(e as Error).message.split("\n")[0]})` : ""
          }`,
        );
      }
    });
    const want = c.pysockReceived !== undefined
      ? utf8(c.pysockReceived).$bytes
      : r.cpythonReceived[i];
    if (r.pysockReceived[i] !== want) {
      failures.push(
        `${c.name}: the peer received ${shown(r.pysockReceived[i])} from pysock, ${
          shown(r.cpythonReceived[i])
        } from CPython`,
      );
    }
  });
  assert.equal(failures.length, 0, `\n${failures.join("\n")}`);
}
