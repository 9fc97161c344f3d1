// Python's socket constants with their Linux values. socket.ts re-exports
// them with documentation; udp.ts and the helpers import them from here so
// that no module imports socket.ts back (socket.ts imports udp.ts).

/** IPv4 address family. */
export const AF_INET = 2;
/** IPv6 address family. */
export const AF_INET6 = 10;
/** Unix domain sockets (a filesystem path as the address). */
export const AF_UNIX = 1;
/** Unspecified family, for `getaddrinfo`. */
export const AF_UNSPEC = 0;
/** A byte stream: TCP, or a Unix stream socket. */
export const SOCK_STREAM = 1;
/** Datagrams: UDP, or a Unix datagram socket. */
export const SOCK_DGRAM = 2;
/** Raw IP packets (not available in Deno). */
export const SOCK_RAW = 3;
/** Reliably delivered datagrams, in any order (not available in Deno, nor in Linux for IP). */
export const SOCK_RDM = 4;
/** Reliable, ordered datagrams (not available in Deno). */
export const SOCK_SEQPACKET = 5;
/** Or'ed into `socket()`'s type: the socket starts non-blocking (`gettimeout()` is 0). */
export const SOCK_NONBLOCK = 0o4000;
/** Or'ed into `socket()`'s type: close on exec, which every Deno socket is already. */
export const SOCK_CLOEXEC = 0o2000000;
/** `shutdown`: no more receives. */
export const SHUT_RD = 0;
/** `shutdown`: no more sends; the peer reads end of stream. */
export const SHUT_WR = 1;
/** `shutdown`: both directions. */
export const SHUT_RDWR = 2;
/** Option level of the socket itself. */
export const SOL_SOCKET = 1;
/** Reuse a local address (always on for Deno's listeners). */
export const SO_REUSEADDR = 2;
/** The socket type, read-only. */
export const SO_TYPE = 3;
/** The pending socket error, read-only. */
export const SO_ERROR = 4;
/** Allow sending to broadcast addresses. */
export const SO_BROADCAST = 6;
/** Send buffer size (Deno cannot set it). */
export const SO_SNDBUF = 7;
/** Receive buffer size (Deno cannot set it). */
export const SO_RCVBUF = 8;
/** TCP keep-alive probes. */
export const SO_KEEPALIVE = 9;
/** Linger on close (Deno cannot set it). */
export const SO_LINGER = 13;
/** Several sockets on one port, the kernel spreading connections. */
export const SO_REUSEPORT = 15;
/** Receive timeout at the OS level (use `settimeout`). */
export const SO_RCVTIMEO = 20;
/** Send timeout at the OS level (use `settimeout`). */
export const SO_SNDTIMEO = 21;
/** Whether the socket is listening, read-only. */
export const SO_ACCEPTCONN = 30;
/** The socket's protocol (`IPPROTO_TCP` for a TCP socket, even one made with proto 0), read-only. */
export const SO_PROTOCOL = 38;
/** The socket's address family, read-only. */
export const SO_DOMAIN = 39;
/** The IP protocol number 0 and option level of IPv4. */
export const IPPROTO_IP = 0;
/** TCP's protocol number and option level. */
export const IPPROTO_TCP = 6;
/** UDP's protocol number and option level. */
export const IPPROTO_UDP = 17;
/** Python's `SOL_TCP`: the option level of TCP, `IPPROTO_TCP` by another name. */
export const SOL_TCP = 6;
/** Python's `SOL_UDP`: the option level of UDP, `IPPROTO_UDP` by another name. */
export const SOL_UDP = 17;
/** IPv6 option level. */
export const IPPROTO_IPV6 = 41;
/** Disable Nagle's algorithm. */
export const TCP_NODELAY = 1;
/** Time to live of outgoing IPv4 packets (Deno cannot set it). */
export const IP_TTL = 2;
/** Time to live of outgoing IPv4 multicast packets. */
export const IP_MULTICAST_TTL = 33;
/** Whether this host receives its own IPv4 multicast. */
export const IP_MULTICAST_LOOP = 34;
/** Join an IPv4 multicast group. */
export const IP_ADD_MEMBERSHIP = 35;
/** Leave an IPv4 multicast group. */
export const IP_DROP_MEMBERSHIP = 36;
/** Restrict an IPv6 socket to IPv6 (Deno cannot set it on TCP). */
export const IPV6_V6ONLY = 26;
/** Python's `INADDR_ANY`: the empty host, all interfaces. */
export const INADDR_ANY = "";
/** Python's `SOMAXCONN` on Linux. */
export const SOMAXCONN = 4096;

/** `send`/`recv` flag: out-of-band data (Deno has none; refused with `EOPNOTSUPP`). */
export const MSG_OOB = 1;
/** `recv` flag: return the data without consuming it; the next receive returns it again. */
export const MSG_PEEK = 2;
/** `send` flag: bypass routing (Deno cannot; refused with `EOPNOTSUPP`). */
export const MSG_DONTROUTE = 4;
/** `recvmsg` result flag: ancillary data was cut (never set: pysock receives none). */
export const MSG_CTRUNC = 8;
/**
 * `recvmsg` result flag: the datagram was longer than the buffer and was cut.
 * As a `recvfrom`/`recvfromInto` flag on a datagram socket: report the
 * datagram's real length.
 */
export const MSG_TRUNC = 32;
/** `send`/`recv` flag: do not wait, for this call only (`BlockingIOError` when nothing is ready). */
export const MSG_DONTWAIT = 64;
/** `send` flag: end of record (Deno cannot pass it; refused with `EOPNOTSUPP`). */
export const MSG_EOR = 128;
/** `recv` flag: wait for all `bufsize` bytes (fewer only at end of stream). */
export const MSG_WAITALL = 256;
/** `send` flag: confirm the path (Deno cannot pass it; refused with `EOPNOTSUPP`). */
export const MSG_CONFIRM = 2048;
/** `recv` flag: read the error queue (Deno cannot; refused with `EOPNOTSUPP`). */
export const MSG_ERRQUEUE = 8192;
/** `send` flag: no `SIGPIPE` on a broken connection; Deno never raises one, so it always holds. */
export const MSG_NOSIGNAL = 16384;
/** `send` flag: more data follows (Deno cannot pass it; refused with `EOPNOTSUPP`). */
export const MSG_MORE = 32768;
/** `send` flag: TCP Fast Open (Deno cannot; refused with `EOPNOTSUPP`). */
export const MSG_FASTOPEN = 0x20000000;
/** `recvmsg` flag: close-on-exec for received descriptors (pysock receives none; refused). */
export const MSG_CMSG_CLOEXEC = 0x40000000;
/** Ancillary data type: file descriptors (Deno cannot pass them; `sendmsg` refuses it). */
export const SCM_RIGHTS = 1;
/** Ancillary data type: process credentials (Deno cannot pass them; `sendmsg` refuses it). */
export const SCM_CREDENTIALS = 2;

/** An address family this module knows. */
export type Family = typeof AF_INET | typeof AF_INET6 | typeof AF_UNIX;
/** A socket type this module can create. */
export type SocketKind = typeof SOCK_STREAM | typeof SOCK_DGRAM;

/** Python's `INADDR_LOOPBACK`: 127.0.0.1 as a number (host byte order). */
export const INADDR_LOOPBACK = 0x7f000001;
/** Python's `INADDR_BROADCAST`: 255.255.255.255 as a number. */
export const INADDR_BROADCAST = 0xffffffff;
/** Python's `INADDR_NONE`: the "no address" value C's `inet_addr` returns. */
export const INADDR_NONE = 0xffffffff;
/** Python's `INADDR_UNSPEC_GROUP`: 224.0.0.0. */
export const INADDR_UNSPEC_GROUP = 0xe0000000;
/** Python's `INADDR_ALLHOSTS_GROUP`: 224.0.0.1. */
export const INADDR_ALLHOSTS_GROUP = 0xe0000001;
/** Python's `INADDR_MAX_LOCAL_GROUP`: 224.0.0.255. */
export const INADDR_MAX_LOCAL_GROUP = 0xe00000ff;
/** `getaddrinfo`: with no host, the wildcard addresses (to bind), not loopback's. */
export const AI_PASSIVE = 1;
/** `getaddrinfo`: the first result carries the host's canonical name. */
export const AI_CANONNAME = 2;
/** `getaddrinfo`: the host must be an IP literal; no lookup (`EAI_NONAME` otherwise). */
export const AI_NUMERICHOST = 4;
/** `getaddrinfo` with `AF_INET6`: IPv4 addresses as IPv4-mapped ones when there is no IPv6 one. */
export const AI_V4MAPPED = 8;
/** `getaddrinfo` with `AI_V4MAPPED`: the IPv6 addresses and the mapped IPv4 ones. */
export const AI_ALL = 16;
/** `getaddrinfo`: only the families this host has a non-loopback address of. */
export const AI_ADDRCONFIG = 32;
/** `getaddrinfo`: the port must be numeric; no service lookup (`EAI_NONAME` otherwise). */
export const AI_NUMERICSERV = 1024;
/** `getnameinfo`: give the host as a numeric address, without a lookup. */
export const NI_NUMERICHOST = 1;
/** `getnameinfo`: give the port as a number, not a service name. */
export const NI_NUMERICSERV = 2;
/** `getnameinfo`: drop the local domain from a host name. */
export const NI_NOFQDN = 4;
/** `getnameinfo`: fail (`gaierror` `EAI_NONAME`) rather than give a numeric host. */
export const NI_NAMEREQD = 8;
/** `getnameinfo`: look the port up as a UDP service, not a TCP one. */
export const NI_DGRAM = 16;
/** Longest host name `getnameinfo` returns, with its NUL (glibc's value). */
export const NI_MAXHOST = 1025;
/** Longest service name `getnameinfo` returns, with its NUL (glibc's value). */
export const NI_MAXSERV = 32;
