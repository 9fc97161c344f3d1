// A client that resets (SO_LINGER 0) before the server accepts it
// (_reset_conn.ts): accept returns the socket as CPython does, and the
// reset comes from the connection, never from accept.

import assert from "node:assert/strict";
import {
  BrokenPipeError,
  ConnectionResetError,
  createServer,
  errno,
  OSError,
  SHUT_RDWR,
  SO_ERROR,
  socket,
  SOL_SOCKET,
  type StreamSocket,
} from "../mod.ts";
import { errorOf, errorOfCall, pythonJson, resetClients, text } from "./_helpers.ts";

// The same three sequences in CPython: recv first, send first, SO_ERROR first.
const PY_TWIN = `
import struct
srv = socket.create_server(("127.0.0.1", 0))
def reset_client():
    c = socket.create_connection(srv.getsockname())
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    time.sleep(0.05)
    conn, addr = srv.accept()
    return conn
out = []
a = reset_client()
out.append([err(lambda: a.recv(10)), a.recv(10).decode(), err(lambda: a.send(b"x")),
            err(a.getpeername), err(lambda: a.shutdown(socket.SHUT_RDWR))])
b = reset_client()
out.append([err(lambda: b.send(b"x")), b.recv(10).decode(), err(lambda: b.sendall(b"x"))])
c = reset_client()
out.append([c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR),
            c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), c.recv(10).decode()])
print(json.dumps(out))
`;

Deno.test("accept returns a client that reset before accept; its recv raises ConnectionResetError, as in CPython", async () => {
  const py = await pythonJson(PY_TWIN);
  assert.deepEqual(py, [
    [["ConnectionResetError", 104], "", ["BrokenPipeError", 32], ["OSError", 107], [
      "OSError",
      107,
    ]],
    [["ConnectionResetError", 104], "", ["BrokenPipeError", 32]],
    [104, 0, ""],
  ]);
  using server = createServer(["127.0.0.1", 0]);
  const port = (server.getsockname() as [string, number])[1];
  const accept = async (): Promise<StreamSocket> => {
    await resetClients(port);
    const [conn, addr] = await server.accept();
    // Deno drops the peer's address with the connection: the unbound one stands in.
    assert.deepEqual(addr, ["0.0.0.0", 0]);
    return conn;
  };
  using a = await accept();
  const recvFirst = [
    await errorOf(a.recv(10)),
    text(await a.recv(10)),
    await errorOf(a.send("x")),
    errorOfCall(() => a.getpeername()),
    errorOfCall(() => a.shutdown(SHUT_RDWR)),
  ];
  using b = await accept();
  const sendFirst = [
    await errorOf(b.send("x")),
    text(await b.recv(10)),
    await errorOf(b.sendall("x")),
  ];
  using c = await accept();
  const errorFirst = [
    c.getsockopt(SOL_SOCKET, SO_ERROR),
    c.getsockopt(SOL_SOCKET, SO_ERROR),
    text(await c.recv(10)),
  ];
  assert.deepEqual([recvFirst, sendFirst, errorFirst], py);
  assert.deepEqual(a.getsockname(), server.getsockname());
});

Deno.test("the errors of a reset client are the usual classes: ConnectionResetError, then BrokenPipeError", async () => {
  using server = createServer(["127.0.0.1", 0]);
  await resetClients((server.getsockname() as [string, number])[1]);
  const [conn] = await server.accept();
  using _conn = conn;
  const first = await conn.recvInto(new Uint8Array(4)).catch((e) => e);
  assert.ok(first instanceof ConnectionResetError);
  assert.equal(first.message, "[Errno 104] Connection reset by peer");
  assert.equal(await conn.recvInto(new Uint8Array(4)), 0);
  const later = await conn.sendall("late").catch((e) => e);
  assert.ok(later instanceof BrokenPipeError && later.errno === errno.EPIPE);
});

Deno.test("an accept loop keeps serving after clients that reset before it accepted them", async () => {
  using server = createServer(["127.0.0.1", 0]);
  const port = (server.getsockname() as [string, number])[1];
  await resetClients(port, 3);
  // A well-behaved client, queued behind the three that reset.
  using good = socket();
  await good.connect(["127.0.0.1", port]);
  await good.sendall("hello");
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    const [conn] = await server.accept();
    using _conn = conn;
    try {
      seen.push(text(await conn.recv(10)));
    } catch (err) {
      assert.ok(err instanceof OSError);
      seen.push((err as OSError).name);
    }
  }
  assert.deepEqual(seen, [
    "ConnectionResetError",
    "ConnectionResetError",
    "ConnectionResetError",
    "hello",
  ]);
});
