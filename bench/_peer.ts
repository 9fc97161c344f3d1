/**
 * What every Deno benchmark peer shares: the workload spec the harness passes as JSON in
 * `argv[1]`, the two lines a peer prints back (`READY <port>` from a server, `RESULT <json>`
 * from a client), and the bytes each workload sends. The CPython and Node peers speak the same
 * protocol (bench/peer_cpython.py, bench/peer_node.mjs).
 *
 * @module
 */

import process from "node:process";

/**
 * CPU seconds (user + system) this process has used: a client reports what its measured part
 * cost, which a shared machine disturbs less than the wall time.
 *
 * @returns Seconds since the process started.
 */
export function cpuTime(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Loopback only: no benchmark ever sends a packet anywhere else. */
export const HOST = "127.0.0.1";

/** One workload run, as the harness describes it to both peers. */
export interface Spec {
  /**
   * Which workload: `bulk`, `pingpong`, `udp`, `framing-recv`, `framing-send`, `concurrency`,
   * `scale`, `socketserver`.
   */
  workload: string;
  /** Server port (clients, and a second reusePort server). */
  port?: number;
  /** bulk: bytes to transfer. */
  bytes?: number;
  /** bulk: size of each `sendall`. */
  chunk?: number;
  /**
   * bulk: `recv` (a fresh array per call: raw Deno reads into a fresh `new Uint8Array(65536)`
   * each time), `into` (the caller's one buffer: raw Deno reuses one) or `chunks` (pysock's
   * `chunks()` iterator; raw Deno reuses one buffer). udp: `into` makes the receiver use
   * `recvfromInto` (CPython `recvfrom_into`) instead of `recvfrom`.
   */
  mode?: "recv" | "into" | "chunks";
  /** pingpong, concurrency, scale: connections. */
  conns?: number;
  /** pingpong, scale: round trips in total, spread evenly over the connections. */
  rounds?: number;
  /** Message, request or datagram size in bytes. */
  size?: number;
  /** udp, framing: number of messages. */
  count?: number;
  /** udp: datagrams in flight before the sender waits for an ack. */
  window?: number;
  /** udp: the receiver acks every this many datagrams. */
  ackEvery?: number;
  /** concurrency, scale: the server's read size. */
  readBuf?: number;
  /** concurrency: the server's accept queue (a full queue drops SYNs: a 1 s retransmit). */
  backlog?: number;
  /**
   * framing-recv: the raw decoder hands out views of a fresh buffer per read instead of
   * `slice()`ing each message: the fastest a hand-written decoder goes, for reference.
   */
  views?: boolean;
  /** framing-recv: pysock reads with the batched `recvMsgs` iterator instead of `recvMsg`. */
  batch?: boolean;
  /** framing-recv, with `batch`: pysock reads a batch per step with `recvMsgBatches`. */
  batches?: boolean;
  /** framing-recv: CPython reads with `makefile("rb")` and `struct` instead of a bytearray. */
  makefile?: boolean;
  /** pingpong: bind with SO_REUSEPORT (the scale-out row). */
  reusePort?: boolean;
  /**
   * socketserver: which server echoes: `threading` (ThreadingTCPServer, a BaseRequestHandler's
   * recv/sendall loop), `stream` (ThreadingTCPServer, a StreamRequestHandler's rfile → wfile),
   * `loop` (a hand-written pysock accept loop, a task per connection) or `raw` (Deno.listen).
   */
  server?: "threading" | "stream" | "loop" | "raw";
  /**
   * socketserver: what the clients do: `pingpong` (`rounds` round trips of `size` bytes over
   * `conns` connections), `churn` (`rounds` connections, `conns` at a time, one round trip
   * each) or `bulk` (every connection echoes `bytes` in `chunk`-byte writes).
   */
  echo?: "pingpong" | "churn" | "bulk";
}

/**
 * Reads the role and spec the harness passed on the command line.
 *
 * @returns `[role, spec]`, where role is `server` or `client`.
 * @throws {TypeError} When the arguments are missing.
 */
export function parseArgs(): ["server" | "client", Spec] {
  const [role, json] = Deno.args;
  if ((role !== "server" && role !== "client") || json === undefined) {
    throw new TypeError("Usage: <peer> server|client '<spec json>'");
  }
  return [role, JSON.parse(json) as Spec];
}

/**
 * Tells the harness the server is listening.
 *
 * @param port The bound port.
 */
export function ready(port: number): void {
  console.log(`READY ${port}`);
}

/**
 * Hands the client's measurement to the harness.
 *
 * @param values `value` is the row's metric; extra keys (`loss`, `seconds`) are kept in the JSON.
 */
export function result(values: Record<string, number>): void {
  console.log(`RESULT ${JSON.stringify(values)}`);
}

/**
 * A payload of `size` bytes, all `x`.
 *
 * @param size Length in bytes.
 * @returns A new array.
 */
export function payload(size: number): Uint8Array {
  return new Uint8Array(size).fill(0x78);
}

/**
 * `count` length-prefixed messages of `size` bytes back to back, the same bytes as Python's
 * `struct.pack('>I', size) + payload`; message `i` starts with `i` as a big-endian u32 so the
 * receiver can check it lost nothing.
 *
 * @param count Number of messages.
 * @param size Payload bytes per message (at least 4).
 * @returns The encoded stream.
 */
export function encodeFrames(count: number, size: number): Uint8Array {
  const frame = 4 + size;
  const out = new Uint8Array(count * frame).fill(0x78);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    view.setUint32(i * frame, size);
    view.setUint32(i * frame + 4, i);
  }
  return out;
}

/**
 * Checks what a framing receiver got, so a fast but wrong decoder cannot post a number.
 *
 * @param got Messages received.
 * @param last The last message received.
 * @param spec The workload.
 * @throws {Error} When a message is missing or malformed.
 */
export function checkFrames(got: number, last: Uint8Array | null, spec: Spec): void {
  const lastIndex = last === null ? -1 : new DataView(last.buffer, last.byteOffset).getUint32(0);
  if (got !== spec.count || last?.length !== spec.size || lastIndex !== got - 1) {
    throw new Error(`framing: got ${got} messages, last #${lastIndex}, expected ${spec.count}`);
  }
}

/**
 * UDP control datagrams: `A`+u32 ack (received so far), `E` end of test, `R`+u32 final count.
 * Data datagrams start with `D`.
 */
export const UDP = { data: 0x44, ack: 0x41, end: 0x45, report: 0x52 } as const;

/**
 * A 5-byte control datagram.
 *
 * @param kind `UDP.ack` or `UDP.report`.
 * @param count The receiver's count.
 * @returns The datagram.
 */
export function udpControl(kind: number, count: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, count);
  return out;
}

/**
 * The count in a 5-byte control datagram.
 *
 * @param data The datagram.
 * @returns The u32 after the kind byte.
 */
export function udpCount(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1);
}

/** Sentinel a {@linkcode within} race resolves to when the time runs out. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Races `promise` against a timer; the promise keeps running when the timer wins, so the
 * caller can await it again (a UDP receive must not be dropped).
 *
 * @param promise What to wait for.
 * @param ms Milliseconds.
 * @returns The value, or {@linkcode TIMED_OUT}.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a peer does for one workload. */
export type Workload = (spec: Spec) => Promise<void>;

const ENOSYS = 38;

/**
 * Parses the command line and runs the matching server or client. A column that cannot run the
 * workload (no such workload, or a pysock module still a placeholder failing with `ENOSYS`)
 * prints `NA <reason>` on stderr and exits with code 3; the harness shows `n/a (<reason>)`.
 *
 * @param servers Server side of each workload.
 * @param clients Client side of each workload.
 */
export async function runPeer(
  servers: Record<string, Workload>,
  clients: Record<string, Workload>,
): Promise<void> {
  // Servers run until the harness stops them: exit cleanly on SIGTERM so `--cpu-prof` writes
  // its profile. A signal listener does not keep the process alive.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  const [role, spec] = parseArgs();
  const run = (role === "server" ? servers : clients)[spec.workload];
  if (run === undefined) notAvailable(`no ${role} for ${spec.workload}`);
  try {
    await run(spec);
  } catch (err) {
    if ((err as { errno?: unknown }).errno === ENOSYS) {
      notAvailable(`module missing: ${(err as Error).message}`);
    }
    throw err;
  }
}

function notAvailable(reason: string): never {
  console.error(`NA ${reason}`);
  Deno.exit(3);
}

/**
 * Splits `total` round trips over `conns` connections as evenly as possible.
 *
 * @param total Round trips in all.
 * @param conns Connections.
 * @param i This connection's index.
 * @returns Round trips for connection `i`.
 */
export function share(total: number, conns: number, i: number): number {
  return Math.floor(total / conns) + (i < total % conns ? 1 : 0);
}
