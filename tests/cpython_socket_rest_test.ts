// CPython's own socket tests (Lib/test/test_socket.py, 3.11.7): what the other
// ports (cpython_socket_{stream,dgram,msg,files,module}_test.ts) left, ported to
// pysock on loopback. Each test names its CPython test.
//
// The gap list: every class of test_socket.py that has test methods (its own
// or inherited), and where its tests are. "stream", "dgram", "msg", "files",
// "module" mean tests/cpython_socket_<that>_test.ts; "here" means this file.
//
// Ported elsewhere, every method that applies (the rest skipped there, with
// the reason in that file's header):
//   GeneralModuleTests (module: 36 of 74; skipped ones listed there, two of
//     them ported here in part: test_weakref, test_str_for_enums),
//   BasicTCPTest, BasicTCPTest2 (stream; testFromFd, testDup, testDetach skipped),
//   TCPCloserTest, BasicSocketPairTest, NonBlockingTCPTests, NetworkConnectionNoServer,
//   NetworkConnectionAttributesTest (testTimeoutValueNonamed skipped),
//   NetworkConnectionBehaviourTest, TCPTimeoutTest, BufferIOTest,
//   SendfileUsingSendTest (testNonRegularFile skipped) (stream),
//   BasicUDPTest, UDPTimeoutTest, TestLinuxAbstractNamespace (testBytearrayName
//     skipped), TestUnixDomain (testBytesAddr, testEmptyAddress skipped;
//     testUnencodableAddr skipped there, ported here) (dgram),
//   SendmsgUDPTest, SendmsgUDP6Test, SendmsgTCPTest, SendmsgUnixStreamTest,
//   RecvmsgUDPTest, RecvmsgUDP6Test, RecvmsgTCPTest, RecvmsgUnixStreamTest,
//   RecvmsgIntoUDPTest, RecvmsgIntoUDP6Test, RecvmsgIntoTCPTest,
//   RecvmsgIntoUnixStreamTest (the concrete classes of SendmsgTests ...
//   RecvmsgIntoTests), CmsgMacroTests (msg),
//   FileObjectClassTestCase, UnbufferedFileObjectClassTestCase,
//   LineBufferedFileObjectClassTestCase, SmallBufferedFileObjectClassTestCase,
//   UnicodeReadFileObjectClassTestCase, UnicodeWriteFileObjectClassTestCase,
//   UnicodeReadWriteFileObjectClassTestCase (files),
//   TestExceptions (test_setblocking_invalidfd skipped), ContextManagersTest,
//   CreateServerTest, CreateServerFunctionalTest (module).
//
// Ported here:
//   GeneralModuleTests.test_weakref (skipped in module: "needs a forced garbage
//     collection"; here a child deno runs with --v8-flags=--expose-gc).
//   GeneralModuleTests.test_str_for_enums: the str() half; the repr() half is
//     skipped (pysock's constants are plain numbers, not IntEnum: API.md
//     "Constants keep Python's names and Linux values").
//   TestUnixDomain.testUnencodableAddr (skipped in dgram): a BUG, see the test.
//
// Skipped (nothing in them applies to Deno/pysock):
//   SendfileUsingSendfileTest: SendfileUsingSendTest again with os.sendfile();
//     pysock has one sendfile (Deno has no sendfile(2)), tested by the stream port.
//   InheritanceTest (7): no get_inheritable/set_inheritable/dup in
//     mod.ts, and no OS descriptor (API.md: fileno() is not one).
//   NonblockConstantTest.test_SOCK_NONBLOCK: ported in cpython_socket_module_test.ts.
//   InterruptedRecvTimeoutTest (6), InterruptedSendTimeoutTest (3): a signal
//     handler's exception interrupting a blocked system call (EINTR); pysock's
//     calls are promises, which a Deno signal listener cannot interrupt.
//   BasicUDPLITETest, UDPLITETimeoutTest and the UDPLITE/UDPLITE6 Sendmsg/Recvmsg
//     classes: Deno has no UDP-Lite sockets.
//   SendmsgSCTPStreamTest, RecvmsgSCTPStreamTest, RecvmsgIntoSCTPStreamTest: no SCTP.
//   SCMRightsTest, RecvmsgSCMRightsStreamTest, RecvmsgIntoSCMRightsStreamTest,
//     RFC3542AncillaryTest and its UDP6 classes, SendRecvFdsTests
//     (send_fds/recv_fds): no ancillary data (API.md: "ancdata is always []").
//   BasicCANTest, CANTest, ISOTPTest, J1939Test: no AF_CAN in Deno.
//   BasicRDSTest, RDSTest: no AF_RDS.  BasicQIPCRTRTest: no AF_QIPCRTR.
//   BasicVSOCKTest, ThreadedVSOCKSocketStreamTest: no AF_VSOCK.
//   BasicBluetoothTest: no AF_BLUETOOTH.  TIPCTest, TIPCThreadableTest: no AF_TIPC.
//   LinuxKernelCryptoAPI: no AF_ALG.
//   TestSocketSharing: socket.share()/fromshare(), Windows only.
//   TestMacOSTCPFlags, TestMSWindowsTCPFlags: macOS/Windows only.

import assert from "node:assert/strict";
import { AF_INET, AF_UNIX, SOCK_STREAM, socket } from "../mod.ts";
import { MOD, runScript } from "./_helpers.ts";

// ---------------------------------------------------------------------------
// GeneralModuleTests (unittest.TestCase)

Deno.test("GeneralModuleTests.test_weakref: a weak reference works while the socket lives, then dies with it", async () => {
  // weakref.proxy(s) is a WeakRef here; p.fileno() is p.deref().fileno().
  {
    using s = socket(AF_INET, SOCK_STREAM);
    const p = new WeakRef(s);
    assert.equal(p.deref()!.fileno(), s.fileno());
  }
  // `s = None; support.gc_collect()`: Deno tests cannot force a collection, so
  // the whole test runs again in a child deno that can (--expose-gc). A
  // WeakRef's target lives until the end of the job that made it: one timer
  // turn before gc().
  const r = await runScript(
    `
import { AF_INET, SOCK_STREAM, socket } from ${JSON.stringify(MOD)};
const gc = (globalThis as unknown as { gc(): void }).gc;
function open(): WeakRef<ReturnType<typeof socket>> {
  using s = socket(AF_INET, SOCK_STREAM); // with socket.socket(...) as s:
  const p = new WeakRef(s);
  if (p.deref()!.fileno() !== s.fileno()) throw new Error("fileno differs");
  return p; // s = None
}
const p = open();
await new Promise((resolve) => setTimeout(resolve, 0));
gc();
console.log(p.deref() === undefined ? "ReferenceError" : "Socket proxy still exists");
`,
    ["--v8-flags=--expose-gc", "--no-prompt"],
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "ReferenceError");
});

Deno.test("GeneralModuleTests.test_str_for_enums: str() of family and type is str() of their values", () => {
  // CPython's repr() half (<AddressFamily.AF_INET: 2>) is not ported: pysock's
  // constants are plain numbers (API.md: "Constants keep Python's names and
  // Linux values"), which is what str() gives in CPython too.
  using s = socket(AF_INET, SOCK_STREAM);
  assert.equal(String(s.family), String(2));
  assert.equal(String(s.type), String(1));
});

// ---------------------------------------------------------------------------
// TestUnixDomain (unittest.TestCase). CPython binds os.path.abspath(TESTFN_...)
// in its working directory; here the same name in a temp dir.

Deno.test("TestUnixDomain.testUnencodableAddr: a path that is not valid UTF-8 is refused, not bound under another name", async () => {
  // CPython (checked, python3 3.11.7 on this Linux) binds the bytes
  // b"@test_<pid>_tmp-\xff" (surrogateescape) and getsockname() == path.
  // Deno passes paths as UTF-8 and cannot bind the byte 0xff: it bound
  // "@test_<pid>_tmp-\ufffd" silently. pysock refuses the path instead
  // (README, "What differs from Python"), before any I/O, and creates nothing.
  const dir = await Deno.makeTempDir();
  try {
    using sock = socket(AF_UNIX, SOCK_STREAM);
    const path = `${dir}/@test_${Deno.pid}_tmp-\udcff`; // os_helper.TESTFN_UNENCODABLE
    assert.throws(
      () => sock.bind(path),
      (e) => e instanceof RangeError && /lone surrogate/.test(e.message),
    );
    await assert.rejects(sock.connect(path), RangeError);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
