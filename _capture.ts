// Promises made without a closure each: the read buffer keeps a pending
// read's settle functions, and an idle server with many connections, or a
// busy one, then makes less garbage. One executor serves every promise; it
// runs synchronously in the constructor, so the settle functions it stores
// belong to the promise just made until the next one.

/** The resolve function of the promise {@linkcode promise} made last. */
export let resolver: (value: never) => void = () => {};
/** The reject function of the promise {@linkcode promise} made last. */
export let rejecter: (err: unknown) => void = () => {};

function executor(resolve: (value: never) => void, reject: (err: unknown) => void): void {
  resolver = resolve;
  rejecter = reject;
}

/** A new pending promise; take its {@linkcode resolver} and {@linkcode rejecter} at once. */
export function promise<T>(): Promise<T> {
  return new Promise<T>(executor as unknown as ConstructorParameters<typeof Promise<T>>[0]);
}

/** Marks the read of a recv waiting in the common way (see ReadBuffer.readSome); never awaited. */
export const RECV_PENDING: Promise<number> = new Promise(() => {});
