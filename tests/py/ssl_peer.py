"""CPython ssl peer for tests/ssl_*_test.ts.

Run as: python3 ssl_peer.py 'JSON config'. Prints JSON lines:
  {"event": "port", "port": N}                      (server, once listening)
  {"event": "handshake", "version", "cipher", "alpn", "peercert", "der"}
  {"event": "error", "class", "errno", "reason", "library", "verify_code", "verify_message", "str"}
  {"event": "recv", "data"}  {"event": "recvall", "size", "sha256"}  {"event": "sent", "size", "sha256"}
  {"event": "done"}

Config keys: role (server|client|plain: a non-TLS server sending reply, or
closing at once), port, host (server_hostname), cert, key, ca,
verify (none|optional|required), alpn, maxver/minver (TLSv1_2...), starttls
(server: plain exchange before TLS; client: plain | pipelined), actions
(list of [name, arg]: echo, send, recv N, recvall, sendbulk N, unwrap, wait
(a line on stdin), shutwr, close).
"""

import hashlib
import json
import socket
import ssl
import sys

TIMEOUT = 15


def out(**event):
    print(json.dumps(event), flush=True)


def error_event(err, where):
    out(
        event="error",
        where=where,
        **{"class": type(err).__name__},
        errno=getattr(err, "errno", None),
        reason=getattr(err, "reason", None),
        library=getattr(err, "library", None),
        verify_code=getattr(err, "verify_code", None),
        verify_message=getattr(err, "verify_message", None),
        str=str(err),
    )


def context(cfg, server):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    if cfg.get("cert"):
        ctx.load_cert_chain(cfg["cert"], cfg.get("key"))
    if cfg.get("ca"):
        ctx.load_verify_locations(cfg["ca"])
    verify = cfg.get("verify")
    if verify == "none":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif verify == "optional":
        ctx.verify_mode = ssl.CERT_OPTIONAL
    elif verify == "required":
        ctx.verify_mode = ssl.CERT_REQUIRED
    if cfg.get("alpn"):
        ctx.set_alpn_protocols(cfg["alpn"])
    if cfg.get("maxver"):
        ctx.maximum_version = getattr(ssl.TLSVersion, cfg["maxver"])
    if cfg.get("minver"):
        ctx.minimum_version = getattr(ssl.TLSVersion, cfg["minver"])
    return ctx


def handshake_event(s):
    der = s.getpeercert(True)
    out(
        event="handshake",
        version=s.version(),
        cipher=s.cipher(),
        alpn=s.selected_alpn_protocol(),
        peercert=s.getpeercert(),
        der=der.hex() if der else None,
    )


def read_line(sock):
    line = b""
    while not line.endswith(b"\n"):
        b = sock.recv(1)
        if not b:
            break
        line += b
    return line


def run_actions(s, actions):
    for action in actions:
        name, arg = action[0], (action[1] if len(action) > 1 else None)
        if name == "echo":
            while True:
                d = s.recv(65536)
                if not d:
                    break
                s.sendall(d)
        elif name == "send":
            s.sendall(arg.encode())
        elif name == "recv":
            got = b""
            while len(got) < arg:
                d = s.recv(arg - len(got))
                if not d:
                    break
                got += d
            out(event="recv", data=got.decode("latin-1"))
        elif name == "recvall":
            h, size = hashlib.sha256(), 0
            while True:
                d = s.recv(65536)
                if not d:
                    break
                h.update(d)
                size += len(d)
            out(event="recvall", size=size, sha256=h.hexdigest())
        elif name == "sendbulk":
            chunk = bytes(range(256)) * 256
            h, left = hashlib.sha256(), arg
            while left > 0:
                piece = chunk[: min(left, len(chunk))]
                s.sendall(piece)
                h.update(piece)
                left -= len(piece)
            out(event="sent", size=arg, sha256=h.hexdigest())
        elif name == "unwrap":
            s = s.unwrap()
            out(event="unwrapped")
        elif name == "wait":
            sys.stdin.readline()
        elif name == "shutwr":
            s.shutdown(socket.SHUT_WR)
        elif name == "close":
            s.close()
    out(event="done")


def serve(cfg):
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(TIMEOUT)
    out(event="port", port=srv.getsockname()[1])
    conn, _ = srv.accept()
    conn.settimeout(TIMEOUT)
    if cfg.get("starttls"):
        conn.sendall(b"220 ready\r\n")
        if read_line(conn) != b"STARTTLS\r\n":
            out(event="error", where="starttls", str="no STARTTLS")
            return
        conn.sendall(b"220 go ahead\r\n")
    try:
        s = context(cfg, True).wrap_socket(conn, server_side=True)
    except Exception as err:
        error_event(err, "handshake")
        conn.close()
        return
    handshake_event(s)
    run_actions(s, cfg.get("actions", []))
    s.close()


def connect(cfg):
    sock = socket.create_connection(("127.0.0.1", cfg["port"]), timeout=TIMEOUT)
    mode = cfg.get("starttls")
    if mode == "plain":
        read_line(sock)
        sock.sendall(b"STARTTLS\r\n")
        read_line(sock)
    elif mode == "pipelined":
        # STARTTLS and the ClientHello leave together: the server reads both
        # into its buffer before it upgrades.
        sock.sendall(b"STARTTLS\r\n")
    try:
        s = context(cfg, False).wrap_socket(sock, server_hostname=cfg.get("host"))
    except Exception as err:
        error_event(err, "handshake")
        sock.close()
        return
    handshake_event(s)
    run_actions(s, cfg.get("actions", []))
    s.close()


def plain(cfg):
    # Not TLS: a plaintext reply (reply set) or an immediate close.
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(TIMEOUT)
    out(event="port", port=srv.getsockname()[1])
    conn, _ = srv.accept()
    conn.settimeout(TIMEOUT)
    # Read what the client sent first (its ClientHello), so closing sends a
    # FIN, not a reset.
    conn.recv(65536)
    if cfg.get("reply"):
        conn.sendall(cfg["reply"].encode())
        conn.shutdown(socket.SHUT_WR)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass
    conn.close()
    out(event="done")


def main():
    cfg = json.loads(sys.argv[1])
    if cfg["role"] == "server":
        serve(cfg)
    elif cfg["role"] == "plain":
        plain(cfg)
    else:
        connect(cfg)


if __name__ == "__main__":
    main()
