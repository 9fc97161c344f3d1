// The connection an SSLSocket's StreamSocket half reads and writes: the TLS
// session once there is one, in Deno.Conn's shape, so the one read buffer,
// the writer and the options work over TLS as over TCP.

import type { TlsSession } from "./_ssl_session.ts";

/** The connection a StreamSocket reads and writes: the TLS session, once there is one. */
export class Channel {
  session: TlsSession | null = null;
  read(p: Uint8Array): Promise<number | null> {
    return this.session!.read(p);
  }
  write(p: Uint8Array): Promise<number> {
    return this.session!.write(p);
  }
  closeWrite(): Promise<void> {
    return this.session!.closeWrite();
  }
  close(): void {
    this.session?.close();
  }
  get localAddr(): Deno.Addr {
    return this.session!.localAddr;
  }
  get remoteAddr(): Deno.Addr {
    return this.session!.remoteAddr;
  }
  setNoDelay(flag: boolean): void {
    this.session?.setNoDelay(flag);
  }
  setKeepAlive(flag: boolean): void {
    this.session?.setKeepAlive(flag);
  }
  ref(): void {
    this.session?.ref();
  }
  unref(): void {
    this.session?.unref();
  }
}
