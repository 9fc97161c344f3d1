// The receive side of a datagram socket: every recvfrom, recvfromInto, recv
// and recvInto ends here.
//
// One receive is in flight at a time, into one buffer large enough for any
// datagram; the datagram is then copied out, cut to the caller's size as
// Linux does. (A blocking recvfromInto with nothing kept receives straight
// into the caller's array instead: see receive.) Deno cannot cancel a
// pending `DatagramConn.receive` (denoland/deno#10181), so a call that times
// out leaves its receive running (see _kept.ts): the datagram it brings is
// returned by the next call, never lost and never returned twice.
//
// Deno has no connected UDP (denoland/deno#10519; nor connected Unix
// datagram sockets, #14214), so the kernel delivers every sender's
// datagrams: after `connect()` the ones from other senders are read here and
// dropped, as a connected Linux socket would never see them.

import { type Address, fromDenoAddr } from "./_address.ts";
import { normalizeIpv6 } from "./_inet.ts";
import { toDeadline } from "./_base.ts";
import { AF_INET, AF_UNIX, MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC } from "./_constants.ts";
import { Kept, type Referable } from "./_kept.ts";
import { READ, type Watcher, watchStarted, WRITE } from "./_ready.ts";
import { BlockingIOError, errno, fromDenoError, OSError, TimeoutError } from "./errors.ts";

/** What a receive brings: the bytes in the shared buffer, and the sender. */
type Received = [Uint8Array, Deno.Addr];
/** What a receive call returns: a fresh array (or the count written into the caller's), and the sender. */
export type Delivered = [Uint8Array | number, Address];

/** The socket a receiver serves: its family, and its timeout as of each call. */
export interface Owner {
  readonly family: number;
  gettimeout(): number | null;
}

/** Work a receive must wait for first (option calls Deno runs asynchronously, see _datagram_options.ts). */
export interface Gate {
  /** Whether anything is in flight or pending. */
  readonly busy: boolean;
  /** Waits for it; throws the error it left, once. */
  settle(): Promise<void>;
}

/** Large enough for any UDP datagram, so the kernel never truncates one we then cut again. */
const RECEIVE_BUFFER_SIZE = 65536;
/** Datagrams up to this size are copied into a shared block instead of an ArrayBuffer each. */
const SLAB_PIECE_MAX = 1024;
const SLAB_SIZE = 16384;

/** Receives datagrams on one `Deno.DatagramConn` for one socket. */
export class DatagramReceiver {
  #conn: Deno.DatagramConn;
  #owner: Owner;
  #family: number;
  #gate: Gate;
  /** The one receive buffer: every `conn.receive` lands here, then is copied out. */
  #buffer: Uint8Array | null = null;
  /** The receive in flight into `#buffer`; kept across timeouts. */
  #kept: Kept<Received>;
  // The receive a hot-path call waits for (see receive), and what that call asked for.
  #fast: Promise<Received> | null = null;
  #fastLimit = 0;
  #fastInto: Uint8Array | null = null;
  // The receive in flight into the hot-path caller's own array, not #buffer.
  #direct: Promise<Received> | null = null;
  /** The block small received datagrams are copied into (see #copy). */
  #slab: Uint8Array | null = null;
  #slabOffset = 0;
  // The connected peer (see connect), in the spelling compared with senders.
  #peer: Deno.Addr | null = null;
  #peerHost = "";
  // A Unix peer's socket file ("dev:ino"), and which sender names are it.
  #peerFile: string | null = null;
  #peerNames = new Map<string, boolean>();
  #closed = false;
  // For selectors (see ready): the kept receive once it has settled, the
  // one being watched, and who to tell when it settles.
  #landed: Promise<Received> | null = null;
  #watched: Promise<Received> | null = null;
  #watcher: Watcher | null = null;

  /**
   * @param conn The Deno socket to receive on.
   * @param owner The socket receiving: its family names senders, its timeout bounds each call.
   * @param gate What every call but the simplest waits for first.
   */
  constructor(conn: Deno.DatagramConn, owner: Owner, gate: Gate) {
    this.#conn = conn;
    this.#owner = owner;
    this.#family = owner.family;
    this.#gate = gate;
    this.#kept = new Kept(conn as Referable);
  }

  /** Whether a receive is in flight (or kept after a timeout). */
  get receiving(): boolean {
    return this.#kept.pending !== null;
  }

  /**
   * The events of `events` ready now: readable once the kept receive has
   * brought a datagram (or failed), so a recvfrom would not wait; writable
   * unless this is a Unix datagram socket with a receive in flight, which
   * Deno lets no send pass (see udp.ts). With a watcher, a receive is kept
   * in flight for it, unref'd as after a timed-out call, and the watcher is
   * told once when it settles. After connect(), a datagram from another
   * sender is dropped here and the next one awaited, so readable still
   * means a datagram recvfrom returns.
   */
  ready(events: number, watcher: Watcher | null): number {
    const pending = this.#kept.pending;
    const landed = pending !== null && this.#landed === pending;
    let ready = 0;
    if ((events & READ) !== 0 && landed) ready |= READ;
    if ((events & WRITE) !== 0 && (this.#family !== AF_UNIX || pending === null || landed)) {
      ready |= WRITE;
    }
    if (watcher !== null && ready !== events) this.#watch(watcher);
    return ready;
  }

  #watch(watcher: Watcher): void {
    this.#watcher = watcher;
    const kept = this.#kept;
    let pending = kept.pending;
    if (pending === null) {
      this.#prepare(0);
      pending = kept.start(this.#conn.receive(this.#buffer!));
      watchStarted();
      kept.release();
    }
    if (this.#watched === pending) return;
    this.#watched = pending;
    const op = pending;
    const settled = (received: Received | null) => {
      if (kept.pending === op && !this.#closed) {
        if (received !== null && this.#peer !== null && !this.#fromPeer(received[1])) {
          // Not from the connected peer: recvfrom would drop it too.
          kept.claim(op);
          this.#watch(this.#watcher ?? watcher);
          return;
        }
        this.#landed = op;
      }
      const told = this.#watcher;
      this.#watcher = null;
      told?.wake();
    };
    // Failures count as landed too (recvfrom reports them at once), and
    // this marks them handled while nobody waits.
    op.then(settled, () => settled(null));
  }

  /**
   * Delivers only datagrams from `peer` from now on. `host` is its address
   * as `normalizeIpv6` spells it (a Unix path for `AF_UNIX`).
   */
  connect(peer: Deno.Addr, host: string): void {
    this.#peer = peer;
    this.#peerHost = host;
    this.#peerNames.clear();
    this.#peerFile = peer.transport === "unixpacket" ? fileOf((peer as Deno.UnixAddr).path) : null;
  }

  /** Stops receiving: a receive in flight rejects once the conn closes, and its callers get `EBADF`. */
  close(): void {
    this.#closed = true;
    this.#kept.clear();
  }

  /**
   * Receives one datagram: at most `limit` bytes of it, as a fresh array or
   * written into `into`. Whoever claims the kept receive copies the datagram
   * out before yielding, so a later receive into the same buffer cannot
   * overwrite it unseen. The owner's timeout applies: `null` blocks, `0`
   * is non-blocking.
   */
  receive(limit: number, into: Uint8Array | null): Promise<Delivered> {
    const gate = this.#gate;
    // Not while another call waits for the kept receive: this one's
    // reaction would run first and take the datagram out of turn.
    const simple = this.#fast === null && this.#peer === null && !gate.busy &&
      this.#owner.gettimeout() === null && this.#kept.waiting === 0;
    if (!simple) {
      this.#prepare(limit);
      return this.#receiveLoop(limit, into);
    }
    // The hot path: a blocking socket, no other hot-path call waiting. No
    // async frame and no closure of its own: the call's state is in fields.
    const kept = this.#kept;
    let pending = kept.pending;
    if (pending === null && into !== null && this.#family !== AF_UNIX) {
      // Nothing kept: the datagram goes straight into the caller's array,
      // without a copy. No other call can take it: this call's reaction is
      // the first on the receive, and it claims it (see #fastReceived), and
      // without a timeout this call never leaves it behind. (Not for Unix
      // datagrams, whose receive size may grow; see #prepare.)
      pending = kept.start(this.#conn.receive(into));
      this.#direct = pending;
    } else {
      this.#prepare(limit);
      pending ??= kept.start(this.#conn.receive(this.#buffer!));
    }
    kept.enter();
    this.#fast = pending;
    this.#fastLimit = limit;
    this.#fastInto = into;
    return pending.then(this.#fastReceived, this.#fastFailed);
  }

  readonly #fastReceived = (received: Received): Delivered | Promise<Delivered> => {
    const pending = this.#fast!;
    const into = this.#fastInto;
    this.#fast = null;
    this.#fastInto = null;
    this.#kept.leave();
    if (this.#closed) throw new OSError(errno.EBADF);
    // Another call awaiting the same receive took this datagram first.
    if (!this.#kept.claim(pending)) return this.receive(this.#fastLimit, into);
    if (pending === this.#direct) {
      this.#direct = null;
      return [received[0].length, this.#addressOf(received[1])];
    }
    return this.#take(received, this.#fastLimit, into);
  };

  readonly #fastFailed = (err: unknown): never => {
    const pending = this.#fast!;
    this.#fast = null;
    this.#fastInto = null;
    if (pending === this.#direct) this.#direct = null;
    this.#kept.leave();
    throw this.#failed(err, pending);
  };

  /** The general case: timeouts, a connected peer, option calls in flight, concurrent calls. */
  async #receiveLoop(limit: number, into: Uint8Array | null): Promise<Delivered> {
    const [out, address] = await this.#next(0, undefined, limit, into);
    return [out, address];
  }

  /**
   * Receives one datagram with Python's `flags` (already checked): as
   * {@linkcode receive}, and also its `msg_flags` (`MSG_TRUNC` when it was
   * cut). `MSG_PEEK` leaves the datagram for the next call; `MSG_DONTWAIT`
   * makes this call non-blocking; `MSG_TRUNC` gives the datagram's real
   * length: as the count of `into`, or as the length of the array, whose
   * bytes past `limit` are zeros (the kernel dropped them; CPython returns
   * whatever its buffer held there). An aborted `signal` ends the wait as
   * a timeout does, and loses no datagram.
   */
  async receiveWith(
    limit: number,
    into: Uint8Array | null,
    flags: number,
    signal: AbortSignal | undefined,
  ): Promise<[Uint8Array | number, Address, number]> {
    this.#prepare(limit);
    const [out, address, length] = await this.#next(flags, signal, limit, into);
    const cut = length > limit;
    if (!(flags & MSG_TRUNC) || !cut) return [out, address, cut ? MSG_TRUNC : 0];
    if (typeof out === "number") return [length, address, MSG_TRUNC];
    const whole = new Uint8Array(length);
    whole.set(out);
    return [whole, address, MSG_TRUNC];
  }

  /**
   * The next datagram for this socket, claimed unless `MSG_PEEK` leaves it
   * for the next call, copied out as {@linkcode #take} does, with its whole
   * length. The copy is made in the same turn as the claim: once claimed,
   * another waiting call may start the next receive into the one buffer,
   * and Deno can fill it before this async function's caller resumes.
   */
  async #next(
    flags: number,
    signal: AbortSignal | undefined,
    limit: number,
    into: Uint8Array | null,
  ): Promise<[Uint8Array | number, Address, number]> {
    if (this.#gate.busy) await this.#gate.settle();
    const timeout = flags & MSG_DONTWAIT ? 0 : this.#owner.gettimeout();
    const deadline = toDeadline(timeout);
    const kept = this.#kept;
    for (;;) {
      const pending = kept.pending ?? kept.start(this.#conn.receive(this.#buffer!));
      let received: Received;
      try {
        received = await kept.wait(pending, deadline, signal);
      } catch (err) {
        const gaveUp = isTimeout(err) || (signal?.aborted && err === signal.reason);
        throw this.#closed || !gaveUp ? this.#failed(err, pending) : err;
      }
      if (this.#closed) throw new OSError(errno.EBADF);
      // Another call awaiting the same receive took this datagram first.
      if (kept.pending !== pending) continue;
      if (this.#peer !== null && !this.#fromPeer(received[1])) {
        kept.claim(pending);
        continue;
      }
      // A peeked datagram stays kept: its bytes stay in the one buffer,
      // since no receive starts until a call claims it.
      if (!(flags & MSG_PEEK)) kept.claim(pending);
      return [...this.#take(received, limit, into), received[0].length];
    }
  }

  /** Allocates the buffer on the first receive; grows it for a large Unix datagram. */
  #prepare(limit: number): void {
    if (this.#buffer === null) this.#buffer = new Uint8Array(RECEIVE_BUFFER_SIZE);
    if (limit > this.#buffer.length && this.#family === AF_UNIX && this.#kept.pending === null) {
      // Unix datagrams may exceed 64 KiB; grow while no receive is in flight.
      this.#buffer = new Uint8Array(limit);
    }
  }

  /** The error a caller sees when the receive itself failed (or the socket closed). */
  #failed(err: unknown, pending: Promise<Received>): unknown {
    if (this.#closed) return new OSError(errno.EBADF, { cause: err });
    this.#kept.claim(pending);
    return fromDenoError(err);
  }

  #fromPeer(source: Deno.Addr): boolean {
    const peer = this.#peer!;
    if (source.transport === "unixpacket") {
      const path = (source as Deno.UnixAddr).path;
      return path === (peer as Deno.UnixAddr).path || this.#isPeerFile(path);
    }
    const { hostname, port } = source as Deno.NetAddr;
    // Connected to port 0, Linux takes datagrams from any port of the host.
    const peerPort = (peer as Deno.NetAddr).port;
    if (port !== peerPort && peerPort !== 0) return false;
    return hostname === this.#peerHost || normalizeIpv6(hostname) === this.#peerHost;
  }

  /**
   * Whether a sender's name is the connected peer's socket file spelled
   * otherwise ("dir/./b", relative, through a symlink): Linux matches the
   * peer by its socket, not by the name given to connect.
   */
  #isPeerFile(path: string | null): boolean {
    if (!path || this.#peerFile === null) return false;
    let same = this.#peerNames.get(path);
    if (same === undefined) {
      same = fileOf(path) === this.#peerFile;
      if (this.#peerNames.size >= PEER_NAMES_MAX) this.#peerNames.clear();
      this.#peerNames.set(path, same);
    }
    return same;
  }

  /**
   * Copies the datagram out of the shared buffer: cut to `limit`, the rest
   * dropped. (Reading Deno's address objects is slow, so IPv4 reads only the
   * two fields it needs.)
   */
  #take(received: Received, limit: number, into: Uint8Array | null): Delivered {
    const data = received[0];
    const count = data.length < limit ? data.length : limit;
    const address = this.#addressOf(received[1]);
    if (into === null) return [this.#copy(data, count), address];
    into.set(count === data.length ? data : data.subarray(0, count));
    return [count, address];
  }

  #addressOf(source: Deno.Addr): Address {
    return this.#family === AF_INET
      ? [(source as Deno.NetAddr).hostname, (source as Deno.NetAddr).port]
      : fromDenoAddr(source, this.#family);
  }

  /**
   * A fresh copy of `data[0..count)`. Small datagrams are carved from a block
   * shared by several of them (a view is far cheaper to make than an
   * ArrayBuffer); no byte of a block is ever handed out or written twice.
   */
  #copy(data: Uint8Array, count: number): Uint8Array {
    if (count > SLAB_PIECE_MAX) return data.slice(0, count);
    let offset = this.#slabOffset;
    // (A block whose ArrayBuffer a caller transferred reads as length 0.)
    if (this.#slab === null || offset + count > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      offset = 0;
    }
    const slab = this.#slab;
    slab.set(count === data.length ? data : data.subarray(0, count), offset);
    this.#slabOffset = offset + count;
    // The constructor rather than subarray(): it skips the species lookup.
    return new Uint8Array(slab.buffer, offset, count);
  }
}

/** Whether `err` is a wait's own timeout (the receive is then kept), not the receive's failure. */
function isTimeout(err: unknown): boolean {
  return err instanceof TimeoutError || err instanceof BlockingIOError;
}

/** How many sender names a connected Unix receiver remembers as its peer or not. */
const PEER_NAMES_MAX = 256;

/**
 * A Unix socket file's identity ("dev:ino"), or null when it is gone or
 * reading it is not granted (asked without a prompt: only the exact name
 * then matches the peer).
 */
function fileOf(path: string | null): string | null {
  if (!path || Deno.permissions.querySync({ name: "read", path }).state !== "granted") return null;
  try {
    const { dev, ino } = Deno.statSync(path);
    return ino === null ? null : `${dev}:${ino}`;
  } catch {
    return null;
  }
}
