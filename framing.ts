/**
 * Message boundaries over a byte stream.
 *
 * TCP delivers bytes, not messages: two `sendall` calls can arrive as one
 * `recv` (the "sticky packets" of socket tutorials) and one can arrive in
 * pieces. This module gives messages back their edges with a length header,
 * without the send-the-size-then-wait-for-an-ack round trip tutorials use.
 *
 * The default header is 4 bytes, unsigned, big-endian: the bytes of Python's
 * `struct.pack(">I", len(payload)) + payload`, so a Python peer interoperates.
 *
 * - {@linkcode encodeMessage} and {@linkcode MessageDecoder}: the pure codec,
 *   for any transport.
 * - {@linkcode MessageEncoderStream}, {@linkcode MessageDecoderStream} and
 *   {@linkcode DelimiterDecoderStream}: the same as Web Streams.
 *
 * @example Encoding and decoding without a socket
 * ```ts
 * import { encodeMessage, MessageDecoder } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const wire = new Uint8Array([...encodeMessage("hi"), ...encodeMessage("there")]);
 * deepEqual(wire.subarray(0, 6), new Uint8Array([0, 0, 0, 2, 104, 105]));
 *
 * const decoder = new MessageDecoder();
 * const messages = [...decoder.push(wire.subarray(0, 3)), ...decoder.push(wire.subarray(3))];
 * deepEqual(messages.map((m) => new TextDecoder().decode(m)), ["hi", "there"]);
 * ```
 *
 * @module
 */

import { describe } from "./_address.ts";
import { toBytes } from "./_bytes.ts";
import { IncompleteReadError } from "./errors.ts";
import { checkStream, MessageBatches, Messages, readerOf } from "./_messages.ts";
import type { StreamSocket } from "./socket.ts";
import {
  checkDelimiter,
  checkLimit,
  checkPayload,
  COALESCE_LIMIT,
  type DelimiterOptions,
  frame,
  type Framing,
  type FramingOptions,
  headerBytes,
  resolveFraming,
} from "./_framing_options.ts";

export {
  DEFAULT_LIMIT,
  DEFAULT_MAX_MESSAGE,
  type DelimiterOptions,
  type DelimiterStreamOptions,
  type FramingOptions,
  type HeaderSize,
} from "./_framing_options.ts";
export { encodeMessage, MessageDecoder } from "./_codec.ts";
// The errors the calls below reject with, importable beside them.
export { IncompleteReadError, LimitOverrunError, MessageTooLargeError } from "./errors.ts";
export {
  DelimiterDecoderStream,
  MessageDecoderStream,
  MessageEncoderStream,
} from "./_codec_streams.ts";
// ---------------------------------------------------------------------------
// Over a socket: the socket's own read buffer, so bytes read ahead here are
// the next bytes recv() and makefile() see, and the other way round.

/**
 * Sends one length-prefixed message: the header, then the payload. With the
 * default options the bytes are Python's
 * `sock.sendall(struct.pack(">I", len(payload)) + payload)`.
 *
 * A small payload is copied behind its header and sent with one write (one
 * system call, one TCP segment); a large one (over 64 KiB) is sent after its
 * header without being copied. Calls made before the previous one resolved
 * wait for it, so concurrent messages never interleave on the wire.
 *
 * @param sock A connected stream socket; its timeout applies.
 * @param data The payload; a string is sent as UTF-8.
 * @param options The header size, byte order and `maxMessage`.
 * @returns Resolves once every byte is written.
 * @throws {TypeError} when `data` or an option has the wrong type.
 * @throws {RangeError} when an option is out of range or the payload exceeds
 *   `maxMessage` or the header's capacity; nothing is sent.
 * @throws {OSError} as `sendall` does (`BrokenPipeError`, `TimeoutError`, `EBADF`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvMsg, sendMsg } from "./framing.ts";
 *
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * await sendMsg(a, "first");
 * await sendMsg(a, new Uint8Array([1, 2, 3]));
 * assert.equal(new TextDecoder().decode((await recvMsg(b))!), "first");
 * assert.equal((await recvMsg(b))!.length, 3);
 * ```
 */
export function sendMsg(
  sock: StreamSocket,
  data: Uint8Array | string,
  options?: FramingOptions,
): Promise<void> {
  const action = "send a message";
  let payload: Uint8Array;
  let framing: Framing;
  try {
    framing = resolveFraming(options, action);
    payload = toBytes(data, action);
    checkPayload(payload.length, framing, action);
    // A stream socket: what a closed or unconnected one is, sendall says.
    checkStream(sock, action);
  } catch (err) {
    return Promise.reject(err);
  }
  if (payload.length <= COALESCE_LIMIT) return sock.sendall(frame(payload, framing));
  // The socket queues a sendall behind one still in progress, so the two
  // parts, and concurrent messages, go out whole and in call order.
  const first = sock.sendall(headerBytes(payload.length, framing));
  const second = sock.sendall(payload);
  return Promise.all([first, second]).then(() => {});
}

/**
 * Receives one length-prefixed message, as sent by {@linkcode sendMsg} or by
 * Python's `sock.sendall(struct.pack(">I", len(payload)) + payload)`.
 *
 * Messages already read ahead are parsed from the socket's buffer without a
 * system call, and returned as views of it, not copies; each array is the
 * caller's own and never changes.
 *
 * A call made while another read call on the socket is still waiting
 * (`recvMsg`, {@linkcode recvExactly}, {@linkcode recvUntil},
 * {@linkcode recvLine}, `recv`, `recvInto`, a `makefile` read) waits for it:
 * reads are served one at a time, whole and in call order, so two `recvMsg`
 * calls made without awaiting the first get message 1 and message 2.
 *
 * @param sock A connected stream socket; its timeout applies to the whole
 *   message, a wait for an earlier read call included. A timed-out call
 *   consumes nothing: the next `recvMsg` returns
 *   the message, and a plain `recv` in between would see it whole, header
 *   first.
 * @param options The header size, byte order and `maxMessage`.
 * @returns The payload, or `null` at a clean end of stream between messages.
 * @throws {MessageTooLargeError} when the header announces more than
 *   `maxMessage`, before anything is allocated for it. The header has been
 *   consumed, so framing is lost: close the connection.
 * @throws {IncompleteReadError} at end of stream inside a message: inside the
 *   header, `partial` is the header bytes and `expected` the header size;
 *   inside the payload, `partial` is the payload so far and `expected` its length.
 * @throws {TimeoutError} past the timeout; {BlockingIOError} when non-blocking
 *   and the message is not all there.
 * @throws {TypeError|RangeError} for bad options, before any I/O.
 *
 * @example A server that reads messages until the client closes
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvMsg, sendMsg } from "./framing.ts";
 *
 * const [client, server] = await socketpair();
 * await using _s = server;
 * await sendMsg(client, "one");
 * await sendMsg(client, "two");
 * client.close();
 * const received: string[] = [];
 * for (let m = await recvMsg(server); m !== null; m = await recvMsg(server)) {
 *   received.push(new TextDecoder().decode(m));
 * }
 * assert.equal(received.join(), "one,two");
 * ```
 */
export function recvMsg(
  sock: StreamSocket,
  options?: FramingOptions,
): Promise<Uint8Array | null> {
  try {
    const framing = resolveFraming(options, RECV_MSG);
    const reader = readerOf(sock, RECV_MSG);
    // A message already buffered (a read brings many small ones at once)
    // comes back without an async frame, as a view, not a copy.
    return reader.readPrefixed(framing, sock.gettimeout());
  } catch (err) {
    return Promise.reject(err);
  }
}

const RECV_MSG = "receive a message";

/**
 * Receives length-prefixed messages until a clean end of stream: the
 * batched form of {@linkcode recvMsg}. Every whole message a read brought is
 * handed out straight from the socket's buffer, without a wait, a turn or an
 * async frame per message (one settled promise each, which `for await`
 * needs); only a message not yet all there waits, as `recvMsg` does (with
 * the socket's timeout, losing nothing when it expires).
 *
 * Each message is a view of the socket's buffer that the caller owns and
 * that never changes, as from `recvMsg`. Other reads on the socket may run
 * between two messages; each message is still taken whole. `next()` calls
 * made without awaiting the previous one are served in call order. After an
 * error, or `return()` (a `break` out of `for await`), the iterator is done;
 * the socket stays open and a new `recvMsgs` continues where it stopped.
 *
 * @param sock A connected stream socket.
 * @param options The header size, byte order and `maxMessage`.
 * @returns An async iterator of payloads; it ends at a clean end of stream.
 * @throws {MessageTooLargeError} when a header announces more than `maxMessage`.
 * @throws {IncompleteReadError} at end of stream inside a message.
 * @throws {TypeError|RangeError} for bad options, before any I/O (on the first `next()`).
 *
 * @example A server loop over every message until the client closes
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvMsgs, sendMsg } from "./framing.ts";
 *
 * const [client, server] = await socketpair();
 * await using _s = server;
 * for (const word of ["one", "two", "three"]) await sendMsg(client, word);
 * client.close();
 * const received: string[] = [];
 * for await (const m of recvMsgs(server)) received.push(new TextDecoder().decode(m));
 * assert.deepEqual(received, ["one", "two", "three"]);
 * ```
 */
export function recvMsgs(
  sock: StreamSocket,
  options?: FramingOptions,
): AsyncIterableIterator<Uint8Array, undefined> {
  return new Messages(sock, options, RECV_MSGS);
}

const RECV_MSGS = "receive messages";

/**
 * Receives length-prefixed messages until a clean end of stream, as
 * {@linkcode recvMsgs} does, but a batch per step: every message buffered
 * whole at that moment (at least one), in order. A read of many small
 * messages then costs one step of `for await` rather than one per message,
 * for a server whose messages are small and many.
 *
 * Ownership is as with `recvMsgs`: each message is a view of the socket's
 * buffer that the caller owns and that never changes, and each batch is a
 * new array. A header over `maxMessage` met after the first message of a
 * batch ends that batch, unconsumed; the next step raises the error, so no
 * message before it is lost. After an error or `return()` the iterator is done; the
 * socket stays open and a new iterator continues where it stopped.
 *
 * @param sock A connected stream socket; its timeout applies to a step that waits.
 * @param options The header size, byte order and `maxMessage`.
 * @returns An async iterator of non-empty arrays of payloads; it ends at a clean end of stream.
 * @throws {MessageTooLargeError} when a header announces more than `maxMessage`.
 * @throws {IncompleteReadError} at end of stream inside a message.
 * @throws {TypeError|RangeError} for bad options, before any I/O (on the first `next()`).
 *
 * @example Three messages sent before the reader looks come as one batch
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvMsgBatches, sendMsg } from "./framing.ts";
 *
 * const [client, server] = await socketpair();
 * await using _s = server;
 * for (const word of ["one", "two", "three"]) await sendMsg(client, word);
 * client.close();
 * const batches: string[][] = [];
 * for await (const batch of recvMsgBatches(server)) {
 *   batches.push(batch.map((m) => new TextDecoder().decode(m)));
 * }
 * assert.deepEqual(batches.flat(), ["one", "two", "three"]);
 * assert.ok(batches.every((batch) => batch.length > 0));
 * ```
 */
export function recvMsgBatches(
  sock: StreamSocket,
  options?: FramingOptions,
): AsyncIterableIterator<Uint8Array[], undefined> {
  return new MessageBatches(sock, options, RECV_MSG_BATCHES);
}

const RECV_MSG_BATCHES = "receive message batches";

/**
 * Receives exactly `n` bytes (asyncio's `readexactly`), from the socket's
 * own buffer. Like every read call on the socket it is served whole and in
 * call order: made while another read waits, it waits for it (see
 * {@linkcode recvMsg}).
 *
 * @param sock A connected stream socket; its timeout applies. A timed-out
 *   call consumes nothing: the bytes are there for the next call.
 * @param n How many bytes. Room for up to 1 MiB of them is reserved at once,
 *   and past that it grows with what arrives (to at most 4x it); still, check a
 *   length that came from the peer against a limit before passing it here.
 * @returns `n` bytes, the caller's own.
 * @throws {IncompleteReadError} when the stream ends first; `partial` holds
 *   what arrived and `expected` is `n`.
 * @throws {TypeError} for a non-integer `n`; {RangeError} for a negative one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvExactly } from "./framing.ts";
 *
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * await a.sendall("abc");
 * await a.sendall("def");
 * assert.equal(new TextDecoder().decode(await recvExactly(b, 5)), "abcde");
 * ```
 */
export async function recvExactly(sock: StreamSocket, n: number): Promise<Uint8Array> {
  const action = "receive exactly n bytes";
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new TypeError(`Cannot ${action}: n must be an integer, got ${describe(n)}`);
  }
  if (n < 0) throw new RangeError(`Cannot ${action}: n must be non-negative, got ${n}`);
  const reader = readerOf(sock, action);
  return await reader.readExactly(n, sock.gettimeout());
}

/**
 * Receives bytes up to and including `delimiter` (asyncio's `readuntil`),
 * from the socket's own buffer. Like every read call on the socket it is
 * served whole and in call order: made while another read waits, it waits
 * for it (see {@linkcode recvMsg}).
 *
 * @param sock A connected stream socket; its timeout applies. A timed-out
 *   call consumes nothing.
 * @param delimiter The bytes to stop after; a string is UTF-8.
 * @param options `limit`: the longest segment accepted before the
 *   delimiter, {@linkcode DEFAULT_LIMIT} by default.
 * @returns The bytes, delimiter included.
 * @throws {LimitOverrunError} when no delimiter comes within `limit` bytes;
 *   nothing is consumed, so `recv` still returns the bytes.
 * @throws {IncompleteReadError} when the stream ends before a delimiter;
 *   `partial` holds the bytes (consumed) and `expected` is `null`.
 * @throws {TypeError|RangeError} for a bad delimiter or limit, before any I/O.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvUntil } from "./framing.ts";
 *
 * const [a, b] = await socketpair();
 * await using _a = a;
 * await using _b = b;
 * await a.sendall("HELO x\r\nQUIT\r\n");
 * const line = await recvUntil(b, "\r\n");
 * assert.equal(new TextDecoder().decode(line), "HELO x\r\n");
 * ```
 */
export async function recvUntil(
  sock: StreamSocket,
  delimiter: Uint8Array | string,
  options?: DelimiterOptions,
): Promise<Uint8Array> {
  const action = "receive until a delimiter";
  const delim = checkDelimiter(delimiter, action);
  const limit = checkLimit(options, action);
  const reader = readerOf(sock, action);
  return await reader.readUntil(delim, limit, sock.gettimeout());
}

/**
 * Receives one line, up to and including `\n` (asyncio's `readline`), from
 * the socket's own buffer. At end of stream the last bytes come back
 * without a newline, and then an empty array. Like every read call on the
 * socket it is served whole and in call order: made while another read
 * waits, it waits for it (see {@linkcode recvMsg}).
 *
 * Unlike asyncio's `readline`, which drops the buffered bytes when the line
 * is too long, an over-long line stays readable, as API.md asks.
 *
 * @param sock A connected stream socket; its timeout applies.
 * @param options `limit`: the longest line accepted, newline not counted;
 *   {@linkcode DEFAULT_LIMIT} by default.
 * @returns The line with its `\n`; the rest at end of stream; empty after it.
 * @throws {LimitOverrunError} when no newline comes within `limit` bytes;
 *   nothing is consumed.
 * @throws {TypeError|RangeError} for a bad limit, before any I/O.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketpair } from "./socket.ts";
 * import { recvLine } from "./framing.ts";
 *
 * const [a, b] = await socketpair();
 * await using _b = b;
 * await a.sendall("one\ntwo");
 * a.close();
 * const lines = [await recvLine(b), await recvLine(b), await recvLine(b)];
 * assert.equal(lines.map((l) => new TextDecoder().decode(l)).join("|"), "one\n|two|");
 * ```
 */
export async function recvLine(
  sock: StreamSocket,
  options?: DelimiterOptions,
): Promise<Uint8Array> {
  try {
    return await recvUntil(sock, NEWLINE, options);
  } catch (err) {
    if (err instanceof IncompleteReadError) return err.partial;
    throw err;
  }
}

const NEWLINE = new Uint8Array([10]);
