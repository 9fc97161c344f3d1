// The scripted CPython peer of the hostile tests (hostile_test.ts,
// hostile2_test.ts): a client that connects to a pysock listener on
// loopback and runs a list of actions (send, split, pause, reset, flood...).

import { createServer, type StreamSocket } from "../mod.ts";
import { bytes, HANG_MS, python, type PythonPeer } from "./_helpers.ts";

/** Hex of bytes or UTF-8 text, for the Python driver's arguments. */
export function hex(data: Uint8Array | string): string {
  const b = typeof data === "string" ? bytes(data) : data;
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// A CPython client that runs a script of actions against a port:
//   ["send", hex]            sendall
//   ["trickle", hex, secs]   one byte per sendall, TCP_NODELAY, a pause between
//   ["parts", [hex...], secs] each part its own segment, a pause between
//   ["go"]                   wait until pysock sends 2 bytes (not recorded)
//   ["expect", n]            read until n bytes came (or EOF), record them as text
//   ["sleep", secs]
//   ["shut_wr"]              shutdown(SHUT_WR)
//   ["reset"]                SO_LINGER 0, then close(): an RST at once
//   ["close"]
//   ["flood", n, hex]        sendall n bytes of the repeated pattern, 64 KiB at a time
//   ["frames", n]            n length-prefixed messages of one byte each, in one go
//   ["drain"]                read until EOF, record the count
// It prints, as JSON, what it recorded and the name of an error that ended it.
export const DRIVER = `
import json, socket, struct, sys, time
target, actions = sys.argv[1], json.loads(sys.argv[2])
s = socket.create_connection(("127.0.0.1", int(target)))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
out = []
try:
    for a in actions:
        op = a[0]
        if op == "send":
            s.sendall(bytes.fromhex(a[1]))
        elif op == "trickle":
            for b in bytes.fromhex(a[1]):
                s.sendall(bytes([b]))
                time.sleep(a[2])
        elif op == "expect":
            got = b""
            while len(got) < a[1]:
                d = s.recv(a[1] - len(got))
                if not d:
                    break
                got += d
            out.append(got.decode("utf-8", "replace"))
        elif op == "parts":
            for i, p in enumerate(a[1]):
                if i:
                    time.sleep(a[2])
                s.sendall(bytes.fromhex(p))
        elif op == "go":
            got = b""
            while len(got) < 2:
                d = s.recv(2 - len(got))
                if not d:
                    break
                got += d
        elif op == "sleep":
            time.sleep(a[1])
        elif op == "shut_wr":
            s.shutdown(socket.SHUT_WR)
        elif op == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        elif op == "close":
            s.close()
        elif op == "flood":
            pattern = bytes.fromhex(a[2])
            chunk = pattern * (65536 // len(pattern))
            left = a[1]
            while left > 0:
                s.sendall(chunk[:left])
                left -= min(left, len(chunk))
        elif op == "frames":
            s.sendall(b"\\x00\\x00\\x00\\x01\\x2a" * a[1])
        elif op == "drain":
            n = 0
            while True:
                d = s.recv(65536)
                if not d:
                    break
                n += len(d)
            out.append(n)
except OSError as e:
    out.append(type(e).__name__)
print(json.dumps(out), flush=True)
`;

export type Action =
  | ["send", string]
  | ["trickle", string, number]
  | ["parts", string[], number]
  | ["go"]
  | ["expect", number]
  | ["sleep", number]
  | ["shut_wr"]
  | ["reset"]
  | ["close"]
  | ["flood", number, string]
  | ["frames", number]
  | ["drain"];

/** A CPython client running `actions` against `port`. */
export function client(port: number, actions: Action[]): PythonPeer {
  return python(DRIVER, String(port), JSON.stringify(actions));
}

/** A pysock listener, one CPython client running `actions`, and the accepted connection. */
export interface Accepted extends AsyncDisposable {
  conn: StreamSocket;
  peer: PythonPeer;
  /** What the driver recorded, once it exits. */
  result(): Promise<unknown[]>;
}

export async function accepted(actions: Action[]): Promise<Accepted> {
  const server = createServer(["127.0.0.1", 0]);
  const port = (server.getsockname() as [string, number])[1];
  const peer = client(port, actions);
  let conn: StreamSocket;
  try {
    server.settimeout(HANG_MS / 1000);
    [conn] = await server.accept();
  } catch (err) {
    await peer[Symbol.asyncDispose]();
    throw err;
  } finally {
    server.close();
  }
  return {
    conn,
    peer,
    result: async () => JSON.parse((await peer.output()).trim().split("\n").pop()!),
    async [Symbol.asyncDispose]() {
      conn.close();
      await peer[Symbol.asyncDispose]();
    },
  };
}
