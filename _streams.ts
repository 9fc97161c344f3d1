// Web Streams over a stream socket, built on its own read buffer and write
// path rather than on `Deno.Conn.readable`/`writable`: Deno's readable
// closes the whole connection at end of stream (denoland/deno#27510,
// #22258), so reading to EOF would also end writing and half-close would be
// lost.

import type { ReadBuffer } from "./_buffer.ts";
import { SHUT_WR } from "./_constants.ts";

/** The size of each chunk the readable pulls. */
const CHUNK = 65536;

/**
 * A `ReadableStream` of what `buffer` receives; bytes already buffered come
 * first. Cancelling it (a `pipeTo` aborted, `reader.cancel()`) ends the read
 * waiting under it as an aborted call does, losing nothing: what arrives
 * next stays in the buffer for the socket's other readers.
 */
export function readableOf(buffer: ReadBuffer, onCancel?: () => void): ReadableStream<Uint8Array> {
  const stop = new AbortController();
  return new ReadableStream<Uint8Array>({
    // The chunk is enqueued in the turn that takes it: a cancel() that came
    // between the read and the enqueue lost the bytes (enqueue then throws).
    pull: async (controller) => {
      try {
        const more = await buffer.readSomeTo(CHUNK, stop.signal, (chunk) => {
          controller.enqueue(chunk);
        });
        if (!more) controller.close();
      } catch (err) {
        if (stop.signal.aborted) return;
        throw err;
      }
    },
    cancel: () => {
      stop.abort();
      onCancel?.();
    },
  }, { highWaterMark: 0 });
}

/** What `writableOf` needs of a socket. */
interface Writable {
  readonly closed: boolean;
  sendall(data: Uint8Array): Promise<void>;
  shutdown(how: number): void;
  close(): void;
}

/** A `WritableStream` over `sock.sendall`; closing it sends end of stream, aborting closes. */
export function writableOf(sock: Writable): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    // The sink's abort() runs only once the write in flight settles, which a
    // sendall to a peer that reads nothing never does: abort() (or an aborted
    // pipeTo) would hang and the socket stay open. The controller's signal
    // fires at once, and closing ends that write with EBADF.
    start: (controller) => {
      controller.signal.addEventListener("abort", () => sock.close(), { once: true });
    },
    write: (chunk) => sock.sendall(chunk),
    close: () => {
      if (!sock.closed) sock.shutdown(SHUT_WR);
    },
    abort: () => sock.close(),
  });
}
