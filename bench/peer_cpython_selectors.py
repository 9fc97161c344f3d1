# The CPython peer of `deno task bench:selectors` (bench/selectors.ts): the selectors
# echo server as the Python docs write it (DefaultSelector, non-blocking sockets, one
# accept per ready event, recv then send), and the idle measurement (process CPU time
# over SECONDS while N idle connections are registered). Same protocol as bench/_proc.ts:
# `READY <port>` from the server, `RESULT <json>` from the idle run.
#
#   python3 peer_cpython_selectors.py server
#   python3 peer_cpython_selectors.py idle N SECONDS
import json
import resource
import selectors
import signal
import socket
import sys
import time

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def server():
    sel = selectors.DefaultSelector()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    sock.setblocking(False)
    sel.register(sock, selectors.EVENT_READ)
    print(f"READY {sock.getsockname()[1]}", flush=True)
    while True:
        for key, mask in sel.select():
            conn = key.fileobj
            if conn is sock:
                accepted, _ = sock.accept()
                accepted.setblocking(False)
                sel.register(accepted, selectors.EVENT_READ)
                continue
            data = conn.recv(65536)
            if not data:
                sel.unregister(conn)
                conn.close()
                continue
            conn.send(data)


def idle(count, seconds):
    server = socket.create_server(("127.0.0.1", 0), backlog=4096)
    clients, conns = [], []
    for _ in range(count):
        clients.append(socket.create_connection(server.getsockname()))
        conns.append(server.accept()[0])
    sel = selectors.DefaultSelector()
    for conn in conns:
        conn.setblocking(False)
        sel.register(conn, selectors.EVENT_READ)
    time.sleep(0.2)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    if sel.select(seconds) != []:
        raise RuntimeError("an idle connection was reported ready")
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print("RESULT " + json.dumps({"value": used * 1e6, "wall": time.monotonic() - start}))


if sys.argv[1] == "server":
    server()
else:
    idle(int(sys.argv[2]), float(sys.argv[3]))
