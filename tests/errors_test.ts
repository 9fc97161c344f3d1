// The error hierarchy: classes, errno, messages, and translation of Deno's errors.

import assert from "node:assert/strict";
import {
  BlockingIOError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  EAI,
  errno,
  errorFromErrno,
  fromDenoError,
  gaierror,
  herror,
  IncompleteReadError,
  LimitOverrunError,
  MessageTooLargeError,
  OSError,
  PermissionError,
  strerror,
  timeout,
  TimeoutError,
} from "../errors.ts";
import { pair, python } from "./_helpers.ts";

Deno.test("every error class is an OSError with Python's errno and message", () => {
  const cases: [OSError, typeof OSError, number, string][] = [
    [new ConnectionRefusedError(), ConnectionError, 111, "[Errno 111] Connection refused"],
    [new ConnectionResetError(), ConnectionError, 104, "[Errno 104] Connection reset by peer"],
    [
      new ConnectionAbortedError(),
      ConnectionError,
      103,
      "[Errno 103] Software caused connection abort",
    ],
    [new BrokenPipeError(), ConnectionError, 32, "[Errno 32] Broken pipe"],
    [new BlockingIOError(), OSError, 11, "[Errno 11] Resource temporarily unavailable"],
    [new PermissionError(), OSError, 13, "[Errno 13] Permission denied"],
    [new gaierror(), OSError, -2, "[Errno -2] Name or service not known"],
    [new herror(1, { strerror: "Unknown host" }), OSError, 1, "[Errno 1] Unknown host"],
  ];
  for (const [err, parent, code, message] of cases) {
    assert.ok(err instanceof parent, err.name);
    assert.ok(err instanceof OSError);
    assert.ok(err instanceof Error);
    assert.equal(err.errno, code);
    assert.equal(err.message, message);
    assert.equal(err.strerror, message.replace(/^\[Errno -?\d+\] /, ""));
    assert.equal(err.name, err.constructor.name);
  }
});

Deno.test('a socket timeout is Python\'s: TimeoutError, message "timed out", errno and strerror null', async () => {
  // The CPython twin: the same timed-out recv, its error as Python shows it.
  const py = await python(`
import json, socket
a, b = socket.socketpair()
a.settimeout(0.05)
try:
    a.recv(1)
except OSError as e:
    print(json.dumps([type(e).__name__, isinstance(e, socket.timeout), e.errno, e.strerror, str(e)]))
`).output();
  assert.deepEqual(JSON.parse(py), ["TimeoutError", true, null, null, "timed out"]);
  await using p = await pair();
  p.conn.settimeout(0.05);
  const err = await p.conn.recv(1).catch((e) => e);
  assert.deepEqual(
    [err.name, err instanceof timeout, err.errno, err.strerror, err.message],
    JSON.parse(py),
  );
  assert.ok(err instanceof OSError);
  // A TimeoutError made without arguments is the same error.
  const made = new TimeoutError();
  assert.deepEqual([made.errno, made.strerror, made.message], [null, null, "timed out"]);
});

Deno.test("a timeout the kernel reports keeps its errno, as Python's OSError(110, ...) does", () => {
  const kernel = new TimeoutError(errno.ETIMEDOUT, { strerror: strerror(errno.ETIMEDOUT) });
  assert.equal(kernel.errno, 110);
  assert.equal(kernel.message, "[Errno 110] Connection timed out");
  const bare = new OSError(null, { strerror: "illegal IP address string passed to inet_pton" });
  assert.deepEqual([bare.errno, bare.strerror, bare.message], [
    null,
    null,
    "illegal IP address string passed to inet_pton",
  ]);
});

Deno.test("errno holds the Linux numbers by name", () => {
  assert.equal(errno.ECONNREFUSED, 111);
  assert.equal(errno.EADDRINUSE, 98);
  assert.equal(errno.EBADF, 9);
  assert.equal(errno.ENOTCONN, 107);
  assert.equal(errno.ENOPROTOOPT, 92);
  assert.equal(errno.EPROTONOSUPPORT, 93);
  assert.equal(errno.EAFNOSUPPORT, 97);
  assert.equal(errno.EMSGSIZE, 90);
  assert.equal(errno.EOPNOTSUPP, 95);
  assert.equal(EAI.EAI_NONAME, -2);
  assert.equal(strerror(98), "Address already in use");
  assert.equal(strerror(12345), "Unknown error 12345");
});

Deno.test("errorFromErrno picks the subclass Python's OSError constructor would", () => {
  assert.ok(errorFromErrno(111) instanceof ConnectionRefusedError);
  assert.ok(errorFromErrno(104) instanceof ConnectionResetError);
  assert.ok(errorFromErrno(103) instanceof ConnectionAbortedError);
  assert.ok(errorFromErrno(32) instanceof BrokenPipeError);
  assert.ok(errorFromErrno(11) instanceof BlockingIOError);
  assert.ok(errorFromErrno(13) instanceof PermissionError);
  const kernelTimeout = errorFromErrno(110);
  assert.ok(kernelTimeout instanceof TimeoutError);
  assert.equal(kernelTimeout.message, "[Errno 110] Connection timed out");
  const plain = errorFromErrno(98);
  assert.equal(plain.constructor, OSError);
  assert.equal(plain.message, "[Errno 98] Address already in use");
});

Deno.test("fromDenoError maps every networking Deno error to its class and errno", () => {
  const E = Deno.errors;
  const cases: [Error, typeof OSError, number][] = [
    [new E.ConnectionRefused("x"), ConnectionRefusedError, 111],
    [new E.ConnectionReset("x"), ConnectionResetError, 104],
    [new E.ConnectionAborted("x"), ConnectionAbortedError, 103],
    [new E.BrokenPipe("x"), BrokenPipeError, 32],
    [new E.TimedOut("x"), TimeoutError, 110],
    [new E.WouldBlock("x"), BlockingIOError, 11],
    [new E.NotConnected("x"), OSError, 107],
    [new E.AddrInUse("x"), OSError, 98],
    [new E.AddrNotAvailable("x"), OSError, 99],
    [new E.BadResource("x"), OSError, 9],
    [new E.Interrupted("x"), OSError, 4],
    [new E.NotFound("x"), OSError, 2],
    [new E.AlreadyExists("x"), OSError, 17],
    [new E.UnexpectedEof("x"), ConnectionResetError, 104],
    [new E.NetworkUnreachable("x"), OSError, 101],
    [new E.PermissionDenied("x"), PermissionError, 13],
    [new E.NotCapable("x"), PermissionError, 13],
  ];
  for (const [denoErr, Class, code] of cases) {
    const err = fromDenoError(denoErr) as OSError;
    assert.ok(err instanceof Class, `${denoErr.name} -> ${err.name}`);
    assert.equal(err.errno, code, denoErr.name);
    assert.equal(err.cause, denoErr);
  }
});

Deno.test("fromDenoError prefers the exact os error number in Deno's message", () => {
  const err = fromDenoError(
    new Deno.errors.ConnectionReset("Host is unreachable (os error 113)"),
  ) as OSError;
  assert.equal(err.errno, 113);
  assert.equal(err.message, "[Errno 113] No route to host");
});

Deno.test("fromDenoError leaves non-Deno errors unchanged", () => {
  const typeError = new TypeError("bad");
  assert.equal(fromDenoError(typeError), typeError);
  const already = new OSError(9);
  assert.equal(fromDenoError(already), already);
});

Deno.test("PermissionError names the exact --allow-net flag to add", () => {
  const err = fromDenoError(
    new Deno.errors.NotCapable(
      'Requires net access to "127.0.0.1:8080", run again with the --allow-net flag',
    ),
  ) as PermissionError;
  assert.ok(err instanceof PermissionError);
  assert.match(err.message, /--allow-net=127\.0\.0\.1:8080/);
  assert.match(err.message, /^\[Errno 13\] Permission denied: /);
});

Deno.test("framing errors carry what the caller needs to recover", () => {
  const tooLarge = new MessageTooLargeError(1 << 30, 1 << 24);
  assert.ok(tooLarge instanceof RangeError);
  assert.equal(tooLarge.size, 1 << 30);
  const partial = new Uint8Array([1, 2]);
  const incomplete = new IncompleteReadError(partial, 10);
  assert.equal(incomplete.partial, partial);
  assert.equal(incomplete.expected, 10);
  assert.equal(incomplete.message, "2 bytes read on a total of 10 expected bytes");
  assert.equal(new LimitOverrunError("over", 65537).consumed, 65537);
});

Deno.test("socket.error and socket.timeout are aliases of OSError and TimeoutError", async () => {
  const { error, timeout } = await import("../mod.ts");
  assert.equal(error, OSError);
  assert.equal(timeout, TimeoutError);
  assert.ok(new TimeoutError() instanceof timeout);
  assert.ok(new BrokenPipeError() instanceof error);
});

Deno.test("OSError() and herror() take no arguments, as Python's: errno and strerror null, no message", () => {
  for (const err of [new OSError(), new herror()]) {
    assert.ok(err instanceof OSError);
    assert.equal(err.errno, null);
    assert.equal(err.strerror, null);
    assert.equal(err.message, "");
  }
  assert.equal(String(new herror()), "herror");
});

Deno.test('strerror(0) is glibc\'s "Success", and strerror and errorFromErrno refuse a non-integer with TypeError (a string or an array was looked up as a key)', () => {
  assert.equal(strerror(0), "Success");
  assert.equal(strerror(111), "Connection refused");
  assert.equal(strerror(4242), "Unknown error 4242");
  for (const bad of ["5", [1], 1.5, null, undefined]) {
    assert.throws(() => strerror(bad as never), TypeError);
    assert.throws(() => errorFromErrno(bad as never), TypeError);
  }
});
