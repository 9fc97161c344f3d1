// What send-file and recv-file agree on. The exchange, every message framed
// by sendMsg/recvMsg (4-byte big-endian length):
//   sender   -> {"name", "size", "sha256"}       JSON header
//   receiver -> {"ok": true} | {"ok": false, "error"}
//   sender   -> chunks of data (each 1..FILE_MESSAGE_MAX bytes), then one empty message
//   receiver -> {"ok": true, "sha256", "size"} | {"ok": false, "error"}
// The first answer spares sending a whole file to a receiver that refuses it.

import { IncompleteReadError, MessageTooLargeError, TimeoutError } from "../errors.ts";
import { explain } from "./_errors.ts";

/**
 * File data per framed message; the receiver accepts up to {@linkcode FILE_MESSAGE_MAX}.
 *
 * @example
 * ```ts
 * import { FILE_CHUNK, FILE_MESSAGE_MAX } from "./_transfer.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(FILE_CHUNK <= FILE_MESSAGE_MAX);
 * ```
 */
export const FILE_CHUNK = 256 * 1024;

/**
 * The largest data message a receiver accepts.
 *
 * @example
 * ```ts
 * import { FILE_MESSAGE_MAX } from "./_transfer.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(FILE_MESSAGE_MAX, 1024 * 1024);
 * ```
 */
export const FILE_MESSAGE_MAX = 1024 * 1024;

/**
 * The largest header or reply: they are small JSON objects.
 *
 * @example
 * ```ts
 * import { CONTROL_MESSAGE_MAX } from "./_transfer.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(CONTROL_MESSAGE_MAX, 64 * 1024);
 * ```
 */
export const CONTROL_MESSAGE_MAX = 64 * 1024;

/**
 * Seconds either side waits for a silent peer unless `--timeout` says otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_TRANSFER_TIMEOUT } from "./_transfer.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(DEFAULT_TRANSFER_TIMEOUT, 30);
 * ```
 */
export const DEFAULT_TRANSFER_TIMEOUT = 30;

/**
 * The sender's first message: what the file is called, its size and its SHA-256 (hex).
 *
 * @example
 * ```ts
 * import type { FileHeader } from "./_transfer.ts";
 * import { createHash } from "node:crypto";
 * import { equal } from "node:assert/strict";
 *
 * const header: FileHeader = { name: "empty.txt", size: 0, sha256: "" };
 * header.sha256 = createHash("sha256").update(new Uint8Array(header.size)).digest("hex");
 * equal(header.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 */
export interface FileHeader {
  /** A plain file name, no directories. */
  name: string;
  /** The bytes that follow. */
  size: number;
  /** The SHA-256 of those bytes, 64 lowercase hex digits. */
  sha256: string;
}

/**
 * The receiver's answer, to the header and after the data.
 *
 * @example
 * ```ts
 * import type { Reply } from "./_transfer.ts";
 * import { equal } from "node:assert/strict";
 *
 * const refused: Reply = { ok: false, error: "refused x: it already exists" };
 * equal(refused.ok, false);
 * ```
 */
export interface Reply {
  /** Whether the receiver goes on (after the header) or kept the file (after the data). */
  ok: boolean;
  /** Why not, when `ok` is false. */
  error?: string;
  /** The SHA-256 the receiver computed, in the final reply. */
  sha256?: string;
  /** The bytes the receiver kept, in the final reply. */
  size?: number;
}

const decoder = new TextDecoder();

/**
 * A message parsed as JSON.
 *
 * @param bytes The message, UTF-8 JSON.
 * @returns The value, or `null` when it is not JSON.
 *
 * @example
 * ```ts
 * import { parseJson } from "./_transfer.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * deepEqual(parseJson(new TextEncoder().encode('{"ok":true}')), { ok: true });
 * equal(parseJson(new TextEncoder().encode("{")), null);
 * ```
 */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
}

/**
 * Words a transfer error for the user.
 *
 * @param err What the send or receive threw.
 * @returns Its explanation, with what to do where that is known.
 *
 * @example
 * ```ts
 * import { transferError } from "./_transfer.ts";
 * import { TimeoutError } from "../errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(
 *   transferError(new TimeoutError()),
 *   "the peer went silent (raise --timeout if it is slow)",
 * );
 * ```
 */
export function transferError(err: unknown): string {
  if (err instanceof TimeoutError) return "the peer went silent (raise --timeout if it is slow)";
  if (err instanceof IncompleteReadError) return "the peer closed the connection mid-message";
  if (err instanceof MessageTooLargeError) {
    return `the peer announced a ${err.size}-byte message, more than the ${err.maxMessage} allowed`;
  }
  return explain(err);
}
