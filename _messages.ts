// The iterators of recvMsgs (a message per step) and recvMsgBatches (every
// whole message buffered, per step), and how framing reaches a socket's
// read buffer.
//
// Both are hand-written rather than async generators: a generator's
// `yield` awaits the value and resumes a frame, about twice the cost of a
// small message. A step that finds its item buffered costs one settled
// promise and its result object; only a message not yet all there waits,
// through the buffer's readPrefixed, with the socket's timeout.

import { describe } from "./_address.ts";
import { kReader, type ReadBuffer } from "./_buffer.ts";
import { type Framing, type FramingOptions, resolveFraming } from "./_framing_options.ts";
import type { StreamSocket } from "./socket.ts";

/** A socket's read buffer, checked before any I/O. */
export function readerOf(sock: StreamSocket, action: string): ReadBuffer {
  return checkStream(sock, action).call(sock);
}

/**
 * Checks that `sock` is a stream socket, before any I/O; returns its reader.
 * @throws {TypeError} when it is not.
 */
export function checkStream(sock: StreamSocket, action: string): () => ReadBuffer {
  const reader = (sock as Partial<StreamSocket> | null)?.[kReader];
  if (typeof reader !== "function") {
    throw new TypeError(`Cannot ${action}: expected a stream socket, got ${describe(sock)}`);
  }
  return reader;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/** The steps over a socket's length-prefixed messages; `Item` is what one step yields. */
abstract class MessageIterator<Item> implements AsyncIterableIterator<Item, undefined> {
  #sock: StreamSocket;
  #options: FramingOptions | undefined;
  #action: string;
  #reader: ReadBuffer | null = null;
  #framing: Framing | null = null;
  #done = false;

  constructor(sock: StreamSocket, options: FramingOptions | undefined, action: string) {
    this.#sock = sock;
    this.#options = options;
    this.#action = action;
  }

  /** The item of a step whose first message is `first` (or is buffered, when undefined), or undefined. */
  protected abstract item(
    reader: ReadBuffer,
    framing: Framing,
    first?: Uint8Array,
  ): Item | undefined;

  next(): Promise<IteratorResult<Item, undefined>> {
    if (this.#done) return Promise.resolve(DONE);
    try {
      let reader = this.#reader;
      let framing = this.#framing;
      if (reader === null || framing === null) {
        // Checked on the first next(), as an async generator would.
        framing = this.#framing = resolveFraming(this.#options, this.#action);
        reader = this.#reader = readerOf(this.#sock, this.#action);
      }
      const item = this.item(reader, framing);
      if (item !== undefined) return Promise.resolve({ value: item, done: false });
      return reader.readPrefixed(framing, this.#sock.gettimeout())
        .then(this.#received, this.#failed);
    } catch (err) {
      this.#done = true;
      return Promise.reject(err);
    }
  }

  return(): Promise<IteratorResult<Item, undefined>> {
    this.#done = true;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #received = (message: Uint8Array | null): IteratorResult<Item, undefined> => {
    if (message === null) {
      this.#done = true;
      return DONE;
    }
    return { value: this.item(this.#reader!, this.#framing!, message)!, done: false };
  };

  #failed = (err: unknown): never => {
    this.#done = true;
    throw err;
  };
}

/** One message per step. */
export class Messages extends MessageIterator<Uint8Array> {
  protected item(reader: ReadBuffer, framing: Framing, first?: Uint8Array): Uint8Array | undefined {
    return first ?? reader.takeMessage(framing);
  }
}

/** Every message buffered whole, at least one, per step. */
export class MessageBatches extends MessageIterator<Uint8Array[]> {
  protected item(
    reader: ReadBuffer,
    framing: Framing,
    first?: Uint8Array,
  ): Uint8Array[] | undefined {
    // A step that waited ends with the message its read brought: by the
    // time it hears of it the read turn is free, and a read call made after
    // this step may already have taken the next message. The messages
    // after it come with the next step, taken when that step is called.
    if (first !== undefined) return [first];
    first = reader.takeMessage(framing);
    if (first === undefined) return undefined;
    const batch = [first];
    // A header over maxMessage ends the batch before it, unconsumed, and
    // the next step raises its error, so the messages before it are handed
    // out and nothing is lost if none follows. Bounded by what is buffered:
    // a read brings at most 256 KiB.
    for (let m = reader.takeMessage(framing); m !== undefined; m = reader.takeMessage(framing)) {
      batch.push(m);
    }
    return batch;
  }
}
