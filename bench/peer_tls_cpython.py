"""The CPython column of the TLS benchmark (bench/tls.ts): blocking ssl sockets, as a Python
program would write them. Same protocol as bench/_peer.ts: `server|client '<spec json>'`, a
server prints `READY <port>`, a client prints `RESULT <json>`.
"""

import json
import socket
import ssl
import sys
import time

HOST = "127.0.0.1"


def accept(spec):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(spec["cert"], spec["key"])
    srv = socket.create_server((HOST, 0))
    print(f"READY {srv.getsockname()[1]}", flush=True)
    conn, _ = srv.accept()
    srv.close()
    return ctx.wrap_socket(conn, server_side=True)


def connect(spec):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(spec["ca"])
    sock = socket.create_connection((HOST, spec["port"]))
    return ctx.wrap_socket(sock, server_hostname="localhost")


def result(**values):
    print("RESULT " + json.dumps(values), flush=True)


def bulk_server(spec):
    conn = accept(spec)
    chunk = b"x" * spec["chunk"]
    left = spec["bytes"]
    while left > 0:
        conn.sendall(chunk if left >= len(chunk) else chunk[:left])
        left -= len(chunk)
    conn.close()


def bulk_client(spec):
    conn = connect(spec)
    start = time.perf_counter()
    total = 0
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


def pingpong_server(spec):
    conn = accept(spec)
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    conn.close()


def pingpong_client(spec):
    conn = connect(spec)
    message = b"x" * spec["size"]
    start = time.perf_counter()
    for _ in range(spec["rounds"]):
        conn.sendall(message)
        got = 0
        while got < len(message):
            got += len(conn.recv(len(message) - got))
    seconds = time.perf_counter() - start
    conn.close()
    result(value=spec["rounds"] / seconds, seconds=seconds)


if __name__ == "__main__":
    role, spec = sys.argv[1], json.loads(sys.argv[2])
    servers = {"bulk": bulk_server, "pingpong": pingpong_server}
    clients = {"bulk": bulk_client, "pingpong": pingpong_client}
    (servers if role == "server" else clients)[spec["workload"]](spec)
