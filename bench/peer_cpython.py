"""The CPython column: each workload in plain blocking `socket` code (threads where a workload
has several connections) and `asyncio` streams for the concurrency row and the scale curves, the way the seed
tutorials write it. Same protocol as bench/_peer.ts: `server|client '<spec json>'`, a server
prints `READY <port>`, a client prints `RESULT <json>`.
"""

import asyncio
import json
import socket
import struct
import sys
import threading
import time

HOST = "127.0.0.1"
DATA, ACK, END, REPORT = 0x44, 0x41, 0x45, 0x52


def ready(port):
    print(f"READY {port}", flush=True)


def result(**values):
    print("RESULT " + json.dumps(values), flush=True)


def listen(spec, backlog=511):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if spec.get("reusePort"):
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    srv.bind((HOST, spec.get("port", 0)))
    srv.listen(backlog)
    ready(srv.getsockname()[1])
    return srv


def connect(spec):
    return socket.create_connection((HOST, spec["port"]))


def recv_exactly(conn, n):
    parts = []
    while n > 0:
        part = conn.recv(n)
        if not part:
            raise EOFError("connection closed early")
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def echo(conn, bufsize):
    with conn:
        while True:
            data = conn.recv(bufsize)
            if not data:
                return
            conn.sendall(data)


def pingpong_server(spec):
    srv = listen(spec)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=echo, args=(conn, 4096), daemon=True).start()


def pingpong_client(spec):
    conns = [connect(spec) for _ in range(spec["conns"])]
    total, n = spec["rounds"], len(conns)
    request = b"x" * spec["size"]

    def run(conn, rounds):
        for _ in range(rounds):
            conn.sendall(request)
            recv_exactly(conn, len(request))

    threads = [
        threading.Thread(target=run, args=(c, total // n + (1 if i < total % n else 0)))
        for i, c in enumerate(conns)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    for c in conns:
        c.close()
    result(value=total / seconds, seconds=seconds)


def bulk_server(spec):
    srv = listen(spec)
    conn, _ = srv.accept()
    chunk = b"x" * spec["chunk"]
    left = spec["bytes"]
    while left > 0:
        conn.sendall(chunk if left >= len(chunk) else chunk[:left])
        left -= len(chunk)
    conn.close()
    srv.close()


def bulk_client(spec):
    start = time.perf_counter()
    conn = connect(spec)
    total = 0
    if spec["mode"] == "into":
        buf = bytearray(65536)
        while True:
            n = conn.recv_into(buf)
            if n == 0:
                break
            total += n
    else:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            total += len(data)
    seconds = time.perf_counter() - start
    conn.close()
    if total != spec["bytes"]:
        raise RuntimeError(f"bulk: got {total} of {spec['bytes']} bytes")
    result(value=total / 1e6 / seconds, seconds=seconds)


def encode_frames(count, size):
    body = b"x" * (size - 4)
    header = struct.pack(">I", size)
    return b"".join(header + struct.pack(">I", i) + body for i in range(count))


class FrameReader:
    """The usual CPython buffered decoder: a bytearray, struct.unpack_from, a slice per message."""

    def __init__(self, conn):
        self.conn = conn
        self.buf = bytearray()
        self.pos = 0

    def next(self):
        while True:
            avail = len(self.buf) - self.pos
            if avail >= 4:
                (n,) = struct.unpack_from(">I", self.buf, self.pos)
                if avail >= 4 + n:
                    msg = self.buf[self.pos + 4 : self.pos + 4 + n]
                    self.pos += 4 + n
                    return msg
            data = self.conn.recv(65536)
            if not data:
                if avail:
                    raise EOFError("EOF inside a message")
                return None
            del self.buf[: self.pos]
            self.pos = 0
            self.buf += data


def makefile_frames(conn):
    """The makefile reader Python tutorials write: a buffered file, struct for the header."""
    f = conn.makefile("rb")
    unpack = struct.Struct(">I").unpack
    while header := f.read(4):
        if len(header) < 4:
            raise EOFError("EOF inside a header")
        (n,) = unpack(header)
        msg = f.read(n)
        if len(msg) < n:
            raise EOFError("EOF inside a message")
        yield msg


def read_frames(conn, spec):
    got, last = 0, None
    if spec.get("makefile"):
        for msg in makefile_frames(conn):
            got += 1
            last = msg
    else:
        reader = FrameReader(conn)
        while (msg := reader.next()) is not None:
            got += 1
            last = msg
    index = struct.unpack_from(">I", last)[0] if last else -1
    if got != spec["count"] or len(last) != spec["size"] or index != got - 1:
        raise RuntimeError(f"framing: got {got} messages, last #{index}")
    return got


def framing_recv_server(spec):
    stream = encode_frames(spec["count"], spec["size"])
    srv = listen(spec)
    conn, _ = srv.accept()
    view = memoryview(stream)
    for off in range(0, len(stream), 65536):
        conn.sendall(view[off : off + 65536])
    conn.close()
    srv.close()


def framing_recv_client(spec):
    start = time.perf_counter()
    conn = connect(spec)
    got = read_frames(conn, spec)
    seconds = time.perf_counter() - start
    conn.close()
    result(value=got / seconds, seconds=seconds)


def framing_send_server(spec):
    srv = listen(spec)
    conn, _ = srv.accept()
    got = read_frames(conn, spec)
    conn.sendall(bytes([REPORT]) + struct.pack(">I", got))
    conn.close()
    srv.close()


def framing_send_client(spec):
    size = spec["size"]
    body = b"x" * (size - 4)
    start = time.perf_counter()
    conn = connect(spec)
    for i in range(spec["count"]):
        conn.sendall(struct.pack(">I", size) + struct.pack(">I", i) + body)
    conn.shutdown(socket.SHUT_WR)
    report = recv_exactly(conn, 5)
    seconds = time.perf_counter() - start
    conn.close()
    if struct.unpack_from(">I", report, 1)[0] != spec["count"]:
        raise RuntimeError("framing: the server lost messages")
    result(value=spec["count"] / seconds, seconds=seconds)


def udp_server(spec):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    ready(sock.getsockname()[1])
    every = spec["ackEvery"]
    count = 0
    buf = bytearray(2048) if spec.get("mode") == "into" else None
    while True:
        if buf is None:
            data, addr = sock.recvfrom(2048)
        else:
            addr = sock.recvfrom_into(buf)[1]
            data = buf
        if data[0] == DATA:
            count += 1
            if count % every == 0:
                sock.sendto(bytes([ACK]) + struct.pack(">I", count), addr)
        elif data[0] == END:
            sock.sendto(bytes([REPORT]) + struct.pack(">I", count), addr)


def udp_client(spec):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.2)
    server = (HOST, spec["port"])
    data = bytes([DATA]) + b"x" * (spec["size"] - 1)
    count, window = spec["count"], spec["window"]
    start = time.perf_counter()
    sent = acked = lost = 0
    while sent < count:
        while sent < count and sent - acked - lost < window:
            sock.sendto(data, server)
            sent += 1
        if sent == count:
            break
        try:
            reply, _ = sock.recvfrom(2048)
        except socket.timeout:
            lost = sent - acked
            continue
        if reply[0] == ACK:
            acked = max(acked, struct.unpack_from(">I", reply, 1)[0])
    delivered = -1
    for _ in range(50):
        sock.sendto(bytes([END]), server)
        try:
            while True:
                reply, _ = sock.recvfrom(2048)
                if reply[0] == REPORT:
                    delivered = struct.unpack_from(">I", reply, 1)[0]
                    break
        except socket.timeout:
            continue
        break
    seconds = time.perf_counter() - start
    sock.close()
    if delivered < 0:
        raise RuntimeError("udp: no report from the server")
    result(value=delivered / seconds, loss=(count - delivered) / count, seconds=seconds)


async def concurrency_server_async(spec):
    bufsize = spec["readBuf"]

    async def handle(reader, writer):
        try:
            while data := await reader.read(bufsize):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, HOST, 0, backlog=spec["backlog"])
    ready(server.sockets[0].getsockname()[1])
    await server.serve_forever()


def socketserver_server(spec):
    import socketserver

    bufsize = spec.get("readBuf", 65536)

    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            while data := self.request.recv(bufsize):
                self.request.sendall(data)

    class Lines(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(line)

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        # The default of 5 drops SYNs when 100 clients connect at once (a 1 s retransmit).
        request_queue_size = spec.get("backlog", 4096)

    handler = Lines if spec.get("server") == "stream" else Echo
    with Server((HOST, spec.get("port", 0)), handler) as server:
        ready(server.server_address[1])
        server.serve_forever()


SERVERS = {
    "bulk": bulk_server,
    "pingpong": pingpong_server,
    "udp": udp_server,
    "framing-recv": framing_recv_server,
    "framing-send": framing_send_server,
    "concurrency": lambda spec: asyncio.run(concurrency_server_async(spec)),
    "scale": lambda spec: asyncio.run(concurrency_server_async(spec)),
    "socketserver": socketserver_server,
}

CLIENTS = {
    "bulk": bulk_client,
    "pingpong": pingpong_client,
    "udp": udp_client,
    "framing-recv": framing_recv_client,
    "framing-send": framing_send_client,
}

if __name__ == "__main__":
    role, spec = sys.argv[1], json.loads(sys.argv[2])
    (SERVERS if role == "server" else CLIENTS)[spec["workload"]](spec)
