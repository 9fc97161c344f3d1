// The Duplex node:tls reads and writes for a pysock socket: bytes come from
// the socket's own read buffer, a whole number of TLS records at a time, and
// leave through its sendall. Feeding whole records is what lets `unwrap`
// hand the socket back with the bytes after the peer's close_notify still in
// its buffer, and lets STARTTLS start from bytes the socket had read ahead.

import type { Duplex } from "node:stream";
import { nodeStream } from "./_node.ts";
import { kReader, type ReadBuffer } from "./_buffer.ts";
import { SHUT_WR } from "./_constants.ts";
import type { StreamSocket } from "./socket.ts";

// The largest TLS record there can be (2^14 + 2048 of expansion), and the
// header of every record: type, version (3, x) and length.
const MAX_RECORD = 16384 + 2048;
const HEADER = 5;

/**
 * A Duplex over a pysock stream socket for node:tls. Reads go through the
 * socket's buffer a whole number of TLS records at a time, so bytes that
 * follow the TLS session (after `unwrap`) stay in that buffer, and bytes the
 * socket had read before the upgrade (STARTTLS) are the first ones fed.
 */
export type RawDuplex = InstanceType<ReturnType<typeof defineRawDuplex>>;

// The class is made on first use, since its base class comes from
// node:stream, which is loaded only when TLS is used (_node.ts).
let RawDuplexClass: ReturnType<typeof defineRawDuplex> | undefined;

/** A RawDuplex over `raw`, which node:tls reads and writes. */
export function rawDuplex(raw: StreamSocket): RawDuplex {
  RawDuplexClass ??= defineRawDuplex(nodeStream().Duplex);
  return new RawDuplexClass(raw);
}

// The class's type, RawDuplex above, is what this returns.
function defineRawDuplex(Base: typeof Duplex) {
  return class RawDuplex extends Base {
    readonly raw: StreamSocket;
    #buffer: ReadBuffer;
    #pumping = false;
    #lastWrite: Promise<void> | null = null;
    /** Feed one record per read and stop once the session has ended (unwrap). */
    oneRecord = false;
    /** The session is over: leave the socket and its buffer to whoever owns it. */
    detached = false;
    /** Send close_notify without ending the socket's write side, and never close it (unwrap). */
    keepOpen = false;
    /** Called at the socket's end of stream, before node:tls is told. */
    onEof: (() => void) | null = null;
    // Set while the session's decrypted bytes wait unread. node:tls goes on
    // reading this stream while its socket is paused, so without this a peer
    // that sends to a socket nobody reads grew memory without bound; held, its
    // bytes stay in the kernel and its sends wait, as over plain TCP.
    #held = false;
    /**
     * The session has ended (the peer's close_notify): what follows is
     * plaintext for whoever unwraps, as CPython's record-at-a-time reads
     * leave it in the kernel, so nothing more is fed.
     */
    peerClosed = false;
    // Bytes that are not TLS met before node:tls acted on the records fed
    // just before them: wait a turn to learn whether those ended the session.
    #unsure = false;
    #settled = false;

    constructor(raw: StreamSocket) {
      super({ allowHalfOpen: true });
      this.raw = raw;
      this.#buffer = raw[kReader]();
    }

    override _read(): void {
      if (!this.#pumping) this.#pump();
    }

    /** Stops feeding node:tls until {@linkcode release}: the socket's bytes stay in the kernel. */
    hold(): void {
      this.#held = true;
    }

    /** Feeds node:tls again after {@linkcode hold}. */
    release(): void {
      this.#held = false;
      if (!this.#pumping) this.#pump();
    }

    async #pump(): Promise<void> {
      this.#pumping = true;
      try {
        while (!this.detached && !this.#held) {
          const chunk = await this.#records();
          if (this.detached || this.peerClosed) return;
          if (chunk === null && this.#unsure) {
            this.#unsure = false;
            await new Promise((resolve) => setTimeout(resolve, 0));
            if (this.detached || this.peerClosed) return;
            this.#settled = true; // garbage inside the session: node:tls fails on it
            continue;
          }
          if (chunk === null) {
            // Let node:tls act on the records already fed first: if one was
            // close_notify the session has ended by now, otherwise the peer
            // closed without one (a "ragged" EOF).
            await new Promise((resolve) => setTimeout(resolve, 0));
            this.onEof?.();
            this.push(null);
            return;
          }
          this.#settled = false;
          if (!this.push(chunk)) return;
          if (this.oneRecord) {
            // Let node:tls act on the record (a close_notify ends the
            // session) before anything after it is read.
            await new Promise((resolve) => setTimeout(resolve, 0));
          }
        }
      } catch (err) {
        if (!this.detached) this.destroy(err as Error);
      } finally {
        this.#pumping = false;
      }
    }

    /** The next whole records from the socket's buffer; `null` at end of stream. */
    #records(): Promise<Uint8Array | null> {
      return this.#buffer.readSized(HEADER, this.#recordsSize, null);
    }

    // How much of the buffer to hand to node:tls: every whole record (one, in
    // oneRecord mode), or the first record's size to wait for, or 0 once
    // detached. Bytes that are not TLS (a plaintext reply, garbage) are handed
    // over whole, so node:tls fails the session instead of this waiting for a
    // record that never comes; after an unwrap they are plaintext for the
    // socket's owner.
    #recordsSize = (bytes: Uint8Array, at: number, avail: number): number => {
      if (this.detached || this.peerClosed) return 0;
      const size = wholeRecords(bytes, at, avail, this.oneRecord);
      if (size === -1) {
        if (this.oneRecord) return 0;
        if (this.#settled) return avail;
        this.#unsure = true;
        return 0;
      }
      if (size === 0) return HEADER + ((bytes[at + 3] << 8) | bytes[at + 4]);
      return size;
    };

    override _write(
      chunk: Uint8Array,
      _encoding: string,
      done: (err?: Error | null) => void,
    ): void {
      const writing = this.raw.sendall(chunk);
      this.#lastWrite = writing;
      writing.then(() => done(), (err) => {
        this.writeError ??= err;
        done(err);
      });
    }

    /** The first failure of a write to the socket: every later write fails with it. */
    writeError: unknown = null;

    /**
     * Settles once every write handed to the socket so far has: node:tls
     * calls a write back once it has encrypted it, before the socket has
     * sent it, so a write is the caller's only when this resolves.
     */
    written(): Promise<void> {
      if (this.writeError !== null) return Promise.reject(this.writeError);
      return this.#lastWrite ?? Promise.resolve();
    }

    override _final(done: (err?: Error | null) => void): void {
      if (!this.detached && !this.keepOpen && !this.raw.closed) {
        try {
          this.raw.shutdown(SHUT_WR);
        } catch { /* the connection is gone; the next call reports it */ }
      }
      done();
    }

    override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
      if (!this.detached && !this.keepOpen && !this.raw.closed) {
        // node:tls destroys the stream right after queueing an alert: let that
        // last write reach the kernel, so the peer learns why.
        const raw = this.raw;
        const last = this.#lastWrite;
        if (last === null) raw.close();
        else last.finally(() => raw.close()).catch(() => {});
      }
      done(err);
    }
  };
}

/**
 * How many bytes from `at` are whole TLS records (all of them, or just the
 * first when `one`); 0 when the first is incomplete, -1 when the bytes are
 * not TLS records.
 */
function wholeRecords(bytes: Uint8Array, at: number, avail: number, one: boolean): number {
  let size = 0;
  while (size + HEADER <= avail) {
    const p = at + size;
    const type = bytes[p];
    const length = (bytes[p + 3] << 8) | bytes[p + 4];
    if (type < 20 || type > 24 || bytes[p + 1] !== 3 || length > MAX_RECORD) {
      return size === 0 ? -1 : size;
    }
    if (size + HEADER + length > avail) break;
    size += HEADER + length;
    if (one) break;
  }
  return size;
}
