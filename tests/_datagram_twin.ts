// The datagram twins' shared half: loopback sockets of each family in
// pysock (Sockets) and in a python3 twin (PY_SOCKETS), and the outcomes both
// sides print, for udp_differential_test.ts and udp_differential_options_test.ts.

import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  type DatagramSocket,
  type OSError,
  SOCK_DGRAM,
  socket,
} from "../mod.ts";
import { HAS_IPV6, pythonJson } from "./_helpers.ts";

/** The families the twins run on: IPv4, IPv6 where the host has it, and Unix. */
export const FAMILIES: { name: string; family: number }[] = [
  { name: "AF_INET", family: AF_INET },
  ...(HAS_IPV6 ? [{ name: "AF_INET6", family: AF_INET6 }] : []),
  { name: "AF_UNIX", family: AF_UNIX },
];
/** The IP families of {@linkcode FAMILIES}. */
export const IP_FAMILIES: { name: string; family: number }[] = FAMILIES.filter((f) =>
  f.family !== AF_UNIX
);

/** Datagram sockets of one family on loopback; disposing closes them and removes the temp dir. */
export class Sockets implements AsyncDisposable {
  readonly family: number;
  readonly dir: string | null;
  #open: DatagramSocket[] = [];
  #count = 0;

  constructor(family: number) {
    this.family = family;
    this.dir = family === AF_UNIX ? Deno.makeTempDirSync() : null;
  }

  /** A new socket, bound to a loopback address (port 0, or a fresh path) unless `bound` is false. */
  open(bound = true): DatagramSocket {
    const sock = socket(this.family, SOCK_DGRAM);
    this.#open.push(sock);
    if (bound) sock.bind(this.address());
    return sock;
  }

  /** A loopback address to bind: port 0, or a path not used yet. */
  address(): [string, number] | string {
    if (this.family === AF_UNIX) return `${this.dir}/s${++this.#count}`;
    return this.family === AF_INET6 ? ["::1", 0] : ["127.0.0.1", 0];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const sock of this.#open) sock.close();
    if (this.dir) await Deno.remove(this.dir, { recursive: true });
  }
}

// The twin's half of Sockets: sock(bound) and addr() on the family in argv[1].
export const PY_SOCKETS = `
import sys, tempfile, shutil, threading, time
fam = int(sys.argv[1])
tmp = tempfile.mkdtemp()
count = [0]
def addr():
    if fam == socket.AF_UNIX:
        count[0] += 1
        return "%s/s%d" % (tmp, count[0])
    return ("::1", 0) if fam == socket.AF_INET6 else ("127.0.0.1", 0)
def sock(bound=True):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if bound:
        s.bind(addr())
    return s
`;

/** Runs the twin `code` for `family` (after PY_SOCKETS) and returns what it printed last. */
export function twin(family: number, code: string, ...args: string[]): Promise<unknown> {
  return pythonJson(PY_SOCKETS + code + "\nshutil.rmtree(tmp)\n", String(family), ...args);
}

/** `[className, errno]` of a call that fails, or null when it succeeds: the twin's err(). */
export async function failure(call: () => unknown): Promise<[string, number | null] | null> {
  try {
    await call();
    return null;
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return [e.name, (e as OSError).errno ?? null];
  }
}

/** `[className, errno]` of a call that fails, as the twin's err() prints it; the value otherwise. */
export async function outcome<T>(call: () => T | Promise<T>): Promise<T | [string, number | null]> {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return [e.name, (e as OSError).errno ?? null];
  }
}

export function hex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The payload of a given length both sides send: not all one byte, so a shift shows. */
export function payload(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + length) & 255);
}
