// sendfile: Deno has no zero-copy sendfile(2) for sockets, so the file is
// read in chunks and each is written with the socket's own sendall, which
// keeps it in order with the socket's other writes.

import { describe } from "./_address.ts";
import { checkSize } from "./_base.ts";
import { errorFromErrno, fromDenoError, OSError, PermissionError } from "./errors.ts";
import { pythonAddress } from "./_repr.ts";

/**
 * Checks sendfile's arguments before any I/O, as Python's
 * `_check_sendfile_params` does: a file or path, an offset >= 0 and a count
 * that is a positive integer or null/undefined (to end of file).
 * @throws {TypeError} for the wrong types; {RangeError} for a negative
 *   offset or a count <= 0 (Python's ValueError).
 */
export function checkSendfile(file: unknown, offset: unknown, count: unknown): void {
  if (typeof file !== "string" && !(file instanceof Deno.FsFile)) {
    throw new TypeError(`Cannot sendfile: expected a Deno.FsFile or a path, got ${describe(file)}`);
  }
  checkSize(offset, "sendfile", "offset");
  if (count === undefined || count === null) return;
  if (typeof count !== "number" || !Number.isInteger(count)) {
    throw new TypeError(
      `Cannot sendfile: count must be a positive integer, got ${describe(count)}`,
    );
  }
  if (count <= 0) {
    throw new RangeError(`Cannot sendfile: count must be a positive integer, got ${count}`);
  }
}

/** Chunk size for `sendfile`. */
const SENDFILE_CHUNK = 65536;

/**
 * Sends `count` bytes (all to end of file when `undefined`) of `file` from
 * `offset` through `sock.sendall`; resolves to the bytes sent.
 */
export async function sendFile(
  sock: { sendall(data: Uint8Array): Promise<void> },
  file: Deno.FsFile | string,
  offset: number,
  count: number | undefined,
): Promise<number> {
  const owned = typeof file === "string";
  const handle = owned ? await openFile(file) : file;
  try {
    if (offset > 0 || owned) await handle.seek(offset, Deno.SeekMode.Start);
    const chunk = new Uint8Array(SENDFILE_CHUNK);
    let sent = 0;
    while (count === undefined || sent < count) {
      const want = count === undefined ? chunk.length : Math.min(chunk.length, count - sent);
      const n = await handle.read(chunk.subarray(0, want));
      if (n === null) break;
      await sock.sendall(chunk.subarray(0, n));
      sent += n;
    }
    return sent;
  } catch (err) {
    // File errors (a directory, EIO) become OSErrors; socket errors already are.
    throw owned ? fileError(err, file) : fromDenoError(err);
  } finally {
    if (owned) handle.close();
  }
}

/** Opens a file for `sendfile`; a missing file is an `OSError` (`ENOENT`), as every failure is. */
async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (err) {
    throw fileError(err, path);
  }
}

// A failure of the file a path named carries the path, as Python's open()
// and read() of it say `[Errno 21] Is a directory: '/tmp'`.
function fileError(err: unknown, path: string): unknown {
  const translated = fromDenoError(err, path);
  if (!(translated instanceof OSError) || translated instanceof PermissionError) return translated;
  if (translated.errno === null || err === translated) return translated;
  return errorFromErrno(translated.errno, { cause: err, detail: pythonAddress(path) });
}
