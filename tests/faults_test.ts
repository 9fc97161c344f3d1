// Faults: peers that reset mid-transfer, sockets closed under pending calls,
// peers that half-close mid-message, connects that get no answer. Every
// call must settle with the documented error; none may hang. Silence is
// simulated on loopback only (a listener whose accept queue is full drops
// new SYNs), and resets come from a CPython peer using SO_LINGER 0.

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_UNIX,
  ConnectionError,
  ConnectionResetError,
  createConnection,
  createServer,
  errno,
  IncompleteReadError,
  OSError,
  SHUT_WR,
  SOCK_DGRAM,
  socket,
  type SocketFile,
  type StreamSocket,
  TimeoutError,
} from "../mod.ts";
import { encodeMessage, recvExactly, recvLine, recvMsg, recvUntil, sendMsg } from "../framing.ts";
import {
  assertPending,
  bytes,
  FAMILIES,
  HANG_MS,
  pair,
  python,
  rejection,
  silentListener,
  sleep,
  text,
  within,
} from "./_helpers.ts";

/** How long a call may take to settle once its socket is closed (the bound). */
const SETTLE_MS = 1000;
/** A bound that only a hang reaches, for calls whose peer fails them. */

const PAYLOAD_SIZE = 64 << 20;

/** A 64 MiB payload: more than loopback socket buffers hold, so sendall must wait on the peer. */
function bigPayload(): Uint8Array {
  const data = new Uint8Array(PAYLOAD_SIZE);
  for (let i = 0; i < data.length; i += 4096) data[i] = i >> 12;
  return data;
}

/** A CPython server that reads `readFirst` bytes, then resets the connection. */
const RESETTING_PEER = `
import socket, struct, sys, os
family, where, read_first, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if family == "unix":
    l = socket.socket(socket.AF_UNIX)
    l.bind(where)
else:
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
l.listen(1)
print(where if family == "unix" else l.getsockname()[1], flush=True)
c, _ = l.accept()
got = 0
while got < read_first:
    d = c.recv(65536)
    if not d:
        break
    got += len(d)
if how == "linger0":
    # SO_LINGER with a zero timeout: close() sends RST at once.
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
# Otherwise close() with unread data pending also makes Linux send RST.
c.close()
l.close()
`;

/** Connects to the Python peer's first line: a port, or a Unix path. */
async function connectTo(family: number, first: string): Promise<StreamSocket> {
  const s = socket(family);
  try {
    await s.connect(family === AF_UNIX ? first : ["127.0.0.1", Number(first)]);
  } catch (err) {
    s.close();
    throw err;
  }
  return s;
}

for (const family of [AF_INET, AF_UNIX]) {
  const name = family === AF_UNIX ? "AF_UNIX" : "AF_INET";
  for (const how of ["linger0", "unread"]) {
    const reset = how === "linger0" ? "SO_LINGER 0" : "a close with unread data";
    Deno.test(`${name}: sendall to a CPython peer that resets mid-transfer (${reset}) rejects with a ConnectionError`, async () => {
      const dir = await Deno.makeTempDir();
      try {
        const where = family === AF_UNIX ? `${dir}/reset.sock` : "-";
        await using peer = python(
          RESETTING_PEER,
          family === AF_UNIX ? "unix" : "inet",
          where,
          String(1 << 20),
          how,
        );
        using s = await connectTo(family, await peer.firstLine());
        const err = await rejection(s.sendall(bigPayload()), "sendall", HANG_MS);
        assert.ok(err instanceof ConnectionError, String(err));
        assert.ok(
          ([errno.ECONNRESET, errno.EPIPE] as number[]).includes((err as OSError).errno as number),
          String(err),
        );
        await peer.output();
        // The connection is over but the socket is not broken: receiving ends cleanly.
        const after = await within(s.recv(10), HANG_MS);
        assert.ok(
          typeof after === "object" &&
            ("value" in after
              ? (after.value as Uint8Array).length === 0
              : after.error instanceof ConnectionError),
          `recv after the reset: ${JSON.stringify(after)}`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

Deno.test("a recv pending when the peer resets rejects with ConnectionResetError, then reads as ended", async () => {
  await using peer = python(RESETTING_PEER, "inet", "-", "2", "linger0");
  using s = await connectTo(AF_INET, await peer.firstLine());
  // The peer resets once it has read this: the connection is surely established by then.
  const pending = s.recv(100);
  await s.sendall("go");
  const err = await rejection(pending, "recv", HANG_MS);
  assert.ok(err instanceof ConnectionResetError, String(err));
  assert.equal(err.errno, errno.ECONNRESET);
  assert.equal(err.message, "[Errno 104] Connection reset by peer");
  assert.deepEqual(await s.recv(100), new Uint8Array(0));
  await peer.output();
});

// The files the makefile() reads below opened: each holds its socket open
// after close(), as in CPython, until it is closed too.
const files: SocketFile<Uint8Array>[] = [];
function fileOf(s: StreamSocket): SocketFile<Uint8Array> {
  const file = s.makefile("rb");
  files.push(file);
  return file;
}

/** Calls that wait on a connected socket, each started with nothing to receive. */
const PENDING_READS: [string, (s: StreamSocket) => Promise<unknown>][] = [
  ["recv", (s) => s.recv(10)],
  ["recvInto", (s) => s.recvInto(new Uint8Array(10))],
  ["makefile().readline()", (s) => fileOf(s).readline()],
  ["makefile().read(10)", (s) => fileOf(s).read(10)],
  ["recvMsg", (s) => recvMsg(s)],
  ["recvExactly", (s) => recvExactly(s, 10)],
  ["recvUntil", (s) => recvUntil(s, "\r\n")],
  ["recvLine", (s) => recvLine(s)],
  ["readable.getReader().read()", (s) => s.readable.getReader().read()],
];

for (const { name, family } of FAMILIES) {
  Deno.test(`${name}: closing the socket settles every pending read within 1 s with EBADF`, async () => {
    for (const [what, start] of PENDING_READS) {
      await using p = await pair(family);
      const pending = start(p.conn);
      await assertPending(pending, what);
      p.conn.close();
      if (files.length > 0) {
        // CPython's refcount: the open file keeps the connection, so its read
        // still waits; closing the file too closes the socket.
        await assertPending(pending, `${what} with its file open`);
        for (const file of files.splice(0)) await file.close();
      }
      const err = await rejection(pending, what, SETTLE_MS);
      assert.ok(err instanceof OSError && err.errno === errno.EBADF, `${what}: ${err}`);
    }
  });

  Deno.test(`${name}: closing the socket settles a recvMsg waiting mid-message within 1 s`, async () => {
    await using p = await pair(family);
    const frame = encodeMessage(new Uint8Array(100));
    await p.client.sendall(frame.subarray(0, 4 + 40));
    const pending = recvMsg(p.conn);
    await assertPending(pending, "recvMsg");
    p.conn.close();
    const err = await rejection(pending, "recvMsg", SETTLE_MS);
    assert.ok(err instanceof OSError && err.errno === errno.EBADF, String(err));
  });

  Deno.test(`${name}: closing the socket settles a sendall blocked on a peer that does not read`, async () => {
    await using p = await pair(family);
    const pending = p.client.sendall(bigPayload());
    await assertPending(pending, "sendall");
    p.client.close();
    const err = await rejection(pending, "sendall", SETTLE_MS);
    assert.ok(err instanceof OSError && err.errno === errno.EBADF, String(err));
  });

  Deno.test(`${name}: closing a listener settles its pending accept within 1 s`, async () => {
    await using p = await pair(family);
    const pending = p.server.accept();
    await assertPending(pending, "accept");
    p.server.close();
    const err = await rejection(pending, "accept", SETTLE_MS);
    assert.ok(err instanceof OSError && err.errno === errno.EBADF, String(err));
  });
}

Deno.test("closing a datagram socket settles pending recvfrom, recvfromInto and recv within 1 s", async () => {
  const calls: [string, (s: ReturnType<typeof udp>) => Promise<unknown>][] = [
    ["recvfrom", (s) => s.recvfrom(100)],
    ["recvfromInto", (s) => s.recvfromInto(new Uint8Array(100))],
    ["recv", (s) => s.recv(100)],
  ];
  for (const [what, start] of calls) {
    const s = udp();
    s.bind(["127.0.0.1", 0]);
    const pending = start(s);
    await assertPending(pending, what);
    s.close();
    const err = await rejection(pending, what, SETTLE_MS);
    assert.ok(err instanceof OSError && err.errno === errno.EBADF, `${what}: ${err}`);
  }
});

function udp() {
  return socket(AF_INET, SOCK_DGRAM);
}

Deno.test("connect to a listener that drops SYNs honours the timeout: connect, connectEx, createConnection", async () => {
  await using silent = await silentListener();
  using s = socket();
  s.settimeout(0.2);
  const err = await rejection(s.connect(silent.addr), "connect", HANG_MS);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.message, "timed out");
  assert.equal((err as TimeoutError).errno, null);
  using t = socket();
  t.settimeout(0.2);
  // Python's connect_ex reports a timeout as EWOULDBLOCK (EAGAIN), not ETIMEDOUT.
  assert.equal(await t.connectEx(silent.addr), errno.EAGAIN);
  const viaCreate = await rejection(
    createConnection(silent.addr, { timeout: 0.2 }),
    "createConnection",
    HANG_MS,
  );
  assert.ok(viaCreate instanceof TimeoutError, String(viaCreate));
});

Deno.test("closing a socket settles its connect to a silent listener within 1 s", async () => {
  await using silent = await silentListener();
  const s = socket();
  const pending = s.connect(silent.addr);
  await assertPending(pending, "connect");
  s.close();
  const err = await rejection(pending, "connect", SETTLE_MS);
  assert.ok(err instanceof OSError && err.errno === errno.EBADF, String(err));
});

Deno.test("a peer that half-closes mid-message gives IncompleteReadError with what arrived", async () => {
  await using p = await pair();
  const frame = encodeMessage(new Uint8Array(100).fill(7));
  await p.client.sendall(frame.subarray(0, 4 + 40));
  p.client.shutdown(SHUT_WR);
  const err = await rejection(recvMsg(p.conn), "recvMsg", HANG_MS);
  assert.ok(err instanceof IncompleteReadError, String(err));
  assert.equal(err.expected, 100);
  assert.deepEqual(err.partial, new Uint8Array(40).fill(7));
  // Only the peer's direction ended: the answer still goes out.
  await sendMsg(p.conn, "short by 60");
  assert.equal(text((await recvMsg(p.client))!), "short by 60");
});

Deno.test("a peer that half-closes inside the header gives IncompleteReadError with the header bytes", async () => {
  await using p = await pair();
  await p.client.sendall(new Uint8Array([0, 0]));
  p.client.shutdown(SHUT_WR);
  const err = await rejection(recvMsg(p.conn), "recvMsg", HANG_MS);
  assert.ok(err instanceof IncompleteReadError, String(err));
  assert.equal(err.expected, 4);
  assert.deepEqual(err.partial, new Uint8Array([0, 0]));
});

Deno.test("recvExactly and recvUntil at a half-close give IncompleteReadError carrying the partial bytes", async () => {
  await using p = await pair();
  await p.client.sendall("abcd");
  p.client.shutdown(SHUT_WR);
  const exact = await rejection(recvExactly(p.conn, 10), "recvExactly", HANG_MS);
  assert.ok(exact instanceof IncompleteReadError);
  assert.equal(text(exact.partial), "abcd");
  assert.equal(exact.expected, 10);
  await using q = await pair();
  await q.client.sendall("no delimiter here");
  q.client.shutdown(SHUT_WR);
  const until = await rejection(recvUntil(q.conn, "\n"), "recvUntil", HANG_MS);
  assert.ok(until instanceof IncompleteReadError);
  assert.equal(text(until.partial), "no delimiter here");
  assert.equal(until.expected, null);
});

Deno.test("a CPython peer that half-closes mid-message: IncompleteReadError, and our reply still reaches it", async () => {
  const code = `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(struct.pack(">I", 1000) + b"x" * 10)
s.shutdown(socket.SHUT_WR)
print(s.recv(100).decode(), flush=True)
s.close()
`;
  using server = socket();
  server.bind(["127.0.0.1", 0]);
  server.listen(1);
  await using peer = python(code, String(server.getsockname()[1]));
  const [conn] = await server.accept();
  using _conn = conn;
  const err = await rejection(recvMsg(conn), "recvMsg", HANG_MS);
  assert.ok(err instanceof IncompleteReadError, String(err));
  assert.equal(err.expected, 1000);
  assert.deepEqual(err.partial, bytes("x".repeat(10)));
  await conn.sendall(`got ${err.partial.length} of ${err.expected}`);
  assert.equal((await peer.output()).trim(), "got 10 of 1000");
});

Deno.test("a sendall that times out on a peer that stops reading leaves a prefix on the wire: no gap, no repeat", async () => {
  await using p = await pair();
  const data = new Uint8Array(PAYLOAD_SIZE);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 13)) & 0xff;
  p.client.settimeout(0.2);
  const err = await rejection(p.client.sendall(data), "sendall", HANG_MS);
  assert.ok(err instanceof TimeoutError, String(err));
  p.client.settimeout(null);
  // The write in flight completes; end of stream follows it, so the peer sees exactly what went out.
  p.client.shutdown(SHUT_WR);
  let got = 0;
  for (;;) {
    const chunk = await p.conn.recv(1 << 20);
    if (chunk.length === 0) break;
    assert.deepEqual(chunk, data.subarray(got, got + chunk.length), `bytes at ${got}`);
    got += chunk.length;
  }
  assert.ok(got > 0 && got < data.length, `a strict prefix arrived (${got} bytes)`);
});

Deno.test("close during a pending sendall on a half-written message leaves the peer with a clean IncompleteReadError", async () => {
  await using p = await pair();
  const sending = sendMsg(p.client, new Uint8Array(PAYLOAD_SIZE), { maxMessage: PAYLOAD_SIZE });
  await assertPending(sending, "sendMsg");
  p.client.close();
  const err = await rejection(sending, "sendMsg", SETTLE_MS);
  assert.ok(err instanceof OSError, String(err));
  const partial = await rejection(
    recvMsg(p.conn, { maxMessage: PAYLOAD_SIZE }),
    "recvMsg",
    HANG_MS,
  );
  assert.ok(
    partial instanceof IncompleteReadError || partial instanceof ConnectionResetError,
    String(partial),
  );
});

Deno.test("a connection the kept accept brings after close() is closed, so its client is not left hanging", async () => {
  const server = createServer(["127.0.0.1", 0]);
  server.settimeout(0.02);
  // A timed-out accept leaves Deno's accept in flight, kept for the next call.
  await assert.rejects(server.accept(), TimeoutError);
  await using client = await createConnection(server.getsockname() as [string, number]);
  await sleep(20);
  server.close();
  client.settimeout(5);
  assert.deepEqual(await client.recv(10), new Uint8Array(0));
});
