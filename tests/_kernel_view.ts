// The kernel's own view of this process's TCP sockets: a python3 child
// takes a duplicate of the descriptor Deno holds (pidfd_getfd, allowed for
// a process of the same user) and calls getsockopt on it. So a test can
// check what pysock's getsockopt reports, and what setsockopt claims to
// have done, against the socket itself, not against pysock's own record.

import { pythonJson } from "./_helpers.ts";

const PY_VIEW = `
import ctypes, os
pid = int(sys.argv[1])
wanted = json.loads(sys.argv[2])
options = json.loads(sys.argv[3])
# inode -> (local port, remote port) of every TCP socket the process's namespace has.
ports = {}
for table in ("tcp", "tcp6"):
    with open("/proc/%d/net/%s" % (pid, table)) as f:
        for line in list(f)[1:]:
            p = line.split()
            ports[int(p[9])] = (int(p[1].rsplit(":", 1)[1], 16), int(p[2].rsplit(":", 1)[1], 16))
fds = {}
for fd in os.listdir("/proc/%d/fd" % pid):
    try:
        link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
    except OSError:
        continue
    if link.startswith("socket:["):
        fds[int(link[8:-1])] = int(fd)
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(pid)
out = []
for local, remote in wanted:
    found = [fds[i] for i, lr in ports.items() if lr == (local, remote) and i in fds]
    if len(found) != 1:
        out.append(None)
        continue
    n = libc.syscall(438, pidfd, found[0], 0)  # pidfd_getfd
    if n < 0:
        raise OSError(ctypes.get_errno(), "pidfd_getfd")
    s = socket.socket(fileno=n)
    out.append([s.getsockopt(level, name) for level, name in options])
    s.close()
os.close(pidfd)
print(json.dumps(out))
`;

/** A TCP socket of this process, by its local port and its peer's port (0 for a listener). */
export type TcpEnds = [local: number, remote: number];

/**
 * The kernel's values of `options` (`[level, optname]` pairs) on each socket
 * of this process named by `sockets`; `null` for one that was not found.
 */
export async function kernelOptions(
  sockets: TcpEnds[],
  options: [number, number][],
): Promise<(number[] | null)[]> {
  return await pythonJson(
    PY_VIEW,
    String(Deno.pid),
    JSON.stringify(sockets),
    JSON.stringify(options),
  ) as (number[] | null)[];
}

/** Whether {@linkcode kernelOptions} works here (Linux, pidfd_getfd allowed); tests that need it are skipped otherwise. */
export const CAN_VIEW_KERNEL: boolean = await (async () => {
  if (Deno.build.os !== "linux") return false;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [view] = await kernelOptions([[listener.addr.port, 0]], [[1, 30]]);
    return view !== null && view[0] === 1;
  } catch {
    return false;
  } finally {
    listener.close();
  }
})();
