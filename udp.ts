/**
 * The datagram socket (UDP and Unix datagram). Placeholder while the UDP
 * work lands: `socket(family, SOCK_DGRAM)` fails with ENOSYS until then.
 *
 * @module
 */

import { SocketBase } from "./_base.ts";
import { errno, OSError } from "./errors.ts";

/** A UDP or Unix datagram socket (being written; see the UDP issue). */
export class DatagramSocket extends SocketBase {
  /**
   * @param family The address family.
   * @param type `SOCK_DGRAM`.
   * @param proto The protocol.
   */
  constructor(family: number, type: number, proto: number) {
    super(family, type, proto);
    throw new OSError(errno.ENOSYS, { detail: "DatagramSocket is not written yet" });
  }

  /** Nothing to release yet. */
  protected onClose(): void {}
}
