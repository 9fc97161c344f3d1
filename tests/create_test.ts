// createConnection (_create.ts) as Python 3.11's create_connection: the
// last error by default, every attempt's error in an ExceptionGroup with
// allErrors, and the socket's proto.

import assert from "node:assert/strict";
import {
  ConnectionRefusedError,
  createConnection,
  createServer,
  errno,
  ExceptionGroup,
  gaierror,
  IPPROTO_TCP,
} from "../mod.ts";
import { freePort, HAS_IPV6, pythonJson } from "./_helpers.ts";

const PY_ALL_ERRORS = `
port = int(sys.argv[1])
try:
    socket.create_connection(("127.0.0.1", port), all_errors=True)
except ExceptionGroup as e:
    group = [type(e).__name__, str(e), [[type(x).__name__, x.errno] for x in e.exceptions]]
last = err(lambda: socket.create_connection(("127.0.0.1", port)))
unresolved = err(lambda: socket.create_connection(("nosuch.invalid", port), all_errors=True))
print(json.dumps([group, last, unresolved]))
`;

Deno.test("createConnection with allErrors rejects with an ExceptionGroup of every attempt, as CPython 3.11 does", async () => {
  const port = freePort();
  const py = await pythonJson(PY_ALL_ERRORS, String(port));
  assert.deepEqual(py, [
    ["ExceptionGroup", "create_connection failed (1 sub-exception)", [[
      "ConnectionRefusedError",
      111,
    ]]],
    ["ConnectionRefusedError", 111],
    ["gaierror", -2],
  ]);
  const group = await createConnection(["127.0.0.1", port], { allErrors: true }).catch((e) => e);
  assert.ok(group instanceof ExceptionGroup && group instanceof AggregateError);
  const last = await createConnection(["127.0.0.1", port]).catch((e) => e);
  const unresolved = await createConnection(["nosuch.invalid", port], { allErrors: true })
    .catch((e) => e);
  assert.ok(unresolved instanceof gaierror);
  assert.deepEqual([
    [
      group.name,
      group.message,
      group.exceptions.map((e) => [(e as OSErrorLike).name, (e as OSErrorLike).errno]),
    ],
    [last.name, last.errno],
    [unresolved.name, unresolved.errno],
  ], py);
  assert.equal(group.errors, group.exceptions);
});

interface OSErrorLike {
  name: string;
  errno: number | null;
}

Deno.test("createConnection with allErrors keeps one error per address, in the order tried", {
  ignore: !HAS_IPV6,
}, async () => {
  // localhost is 127.0.0.1 and ::1 (RFC 6761): two attempts, two errors.
  const port = freePort();
  const group = await createConnection(["localhost", port], { allErrors: true }).catch((e) => e);
  assert.ok(group instanceof ExceptionGroup);
  assert.equal(group.message, "create_connection failed (2 sub-exceptions)");
  assert.equal(group.exceptions.length, 2);
  for (const e of group.exceptions) {
    assert.ok(e instanceof ConnectionRefusedError, String(e));
    assert.equal(e.errno, errno.ECONNREFUSED);
  }
  // Without it, only the last attempt's error, as in Python.
  const last = await createConnection(["localhost", port]).catch((e) => e);
  assert.ok(last instanceof ConnectionRefusedError && !(last instanceof AggregateError));
});

Deno.test("createConnection's socket has proto IPPROTO_TCP, as Python's has", async () => {
  const py = await pythonJson(`
srv = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(srv.getsockname())
print(json.dumps([c.family, c.type, c.proto]))
`);
  using server = createServer(["127.0.0.1", 0]);
  await using client = await createConnection(server.getsockname() as [string, number]);
  assert.deepEqual([client.family, client.type, client.proto], py);
  assert.equal(client.proto, IPPROTO_TCP);
  const [conn] = await server.accept();
  conn.close();
});
