// A closed Unix listener's socket file, kept across Deno's removal of it.
//
// Deno removes a Unix listener's socket file when it lets the listener go
// (denoland/deno#31947); CPython leaves it, and programs unlink it
// themselves (a second bind to it fails with EADDRINUSE until they do). So
// a hard link holds the file's inode under a second name while Deno removes
// the path, and the path is linked back to it afterwards. The link needs
// read and write permission for a second name in the same directory;
// without it, Deno's removal stands.
//
// Deno lets a listener go inside close(), unless an accept is in flight:
// then only once that accept has settled, a turn of the event loop later,
// and its removal takes whatever is at the path by then. So what is held is
// looked at again before that turn, and whenever pysock binds a socket to
// the path meanwhile: a path the program unlinked right after close() stays
// unlinked, and a socket bound there since is the file that is put back
// (rather than Deno removing the new socket's file, and the old one coming
// back in its place, refusing every connect).

/** A socket file held under a second name while Deno removes its path. */
class HeldFile {
  readonly path: string;
  // The second name and the inode it holds, or null when nothing is held.
  #hold: string | null = null;
  #ino: number | null = null;

  constructor(path: string) {
    this.path = path;
    this.#take();
  }

  /** Holds whatever is at the path now instead: nothing, once the program unlinked it. */
  retake(): void {
    let ino: number | null;
    try {
      ino = Deno.lstatSync(this.path).ino;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) return; // no permission: keep what is held
      ino = null;
    }
    if (ino !== null && ino === this.#ino) return;
    this.#release();
    if (ino !== null) this.#take();
  }

  /** Puts the held file back at the path, unless something else is there, and drops the second name. */
  restore(): void {
    if (this.#hold === null) return;
    // A link, not a rename: a path some other program has bound meanwhile
    // stays theirs.
    try {
      Deno.linkSync(this.#hold, this.path);
    } catch { /* the path exists again, or permission was revoked */ }
    this.#release();
  }

  #take(): void {
    const hold = `${this.path}.${crypto.randomUUID().slice(0, 8)}.pysock`;
    try {
      Deno.linkSync(this.path, hold);
    } catch {
      return; // no permission for a second name: Deno's removal stands
    }
    this.#hold = hold;
    try {
      this.#ino = Deno.lstatSync(hold).ino;
    } catch { /* then the next retake takes it again */ }
  }

  #release(): void {
    const hold = this.#hold;
    this.#hold = this.#ino = null;
    if (hold === null) return;
    try {
      Deno.removeSync(hold);
    } catch { /* nothing more to do */ }
  }
}

// Paths whose closed listener Deno has not let go yet, each with its held file.
const releasing = new Map<string, HeldFile>();

/**
 * Closes a Unix listener bound to `path`, keeping its socket file.
 *
 * @param path The listener's path.
 * @param close Closes Deno's listener.
 * @param pending The accept in flight, or `null`: Deno lets the listener go
 *   once it has settled.
 * @returns A promise that resolves once the file is back in place.
 */
export function closeKeepingFile(
  path: string,
  close: () => void,
  pending: Promise<unknown> | null,
): Promise<void> {
  const held = new HeldFile(path);
  close();
  if (pending === null) {
    held.restore();
    return Promise.resolve();
  }
  releasing.set(path, held);
  // Runs after the code that called close(), before the event loop turns.
  queueMicrotask(() => held.retake());
  const done = () => {
    if (releasing.get(path) === held) releasing.delete(path);
    held.restore();
  };
  return pending.then(done, done);
}

/**
 * Opens Deno's listener at a Unix path; a listener still being let go there
 * then puts back this one's file, not its own.
 *
 * @param path The socket's path.
 * @returns The listener.
 */
export function listenUnix(path: string): Deno.Listener {
  const listener = Deno.listen({ transport: "unix", path });
  releasing.get(path)?.retake();
  return listener;
}

/**
 * Opens a Unix datagram socket, at `path` or unbound, as {@linkcode listenUnix} does a listener.
 *
 * @param path The socket's path, or `null` for an unbound socket.
 * @returns The socket.
 */
export function listenUnixDatagram(path: string | null): Deno.DatagramConn {
  const conn = Deno.listenDatagram({ transport: "unixpacket", path: path ?? undefined });
  if (path !== null) releasing.get(path)?.retake();
  return conn;
}
