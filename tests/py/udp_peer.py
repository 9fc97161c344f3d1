"""CPython UDP peer for tests/udp_test.ts.

  echo HOST COUNT      bind HOST:0, print the port, echo COUNT datagrams back exactly
  client HOST PORT     send bytes 0..255 to HOST:PORT, print the reply (hex) and its source port
  unix OWN PEER        bind the Unix path OWN, send bytes 0..255 to PEER, print the reply (hex)
"""

import socket
import sys

TIMEOUT = 10


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def echo(host, count):
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.bind((host, 0))
        print(sock.getsockname()[1], flush=True)
        for _ in range(int(count)):
            data, addr = sock.recvfrom(65536)
            sock.sendto(data, addr)
        print(f"echoed {count}", flush=True)


def client(host, port):
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(bytes(range(256)), (host, int(port)))
        data, addr = sock.recvfrom(65536)
        print(f"reply {data.hex()}")
        print(f"from {addr[1]}")


def unix(own, peer):
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.bind(own)
        sock.sendto(bytes(range(256)), peer)
        data, _ = sock.recvfrom(65536)
        print(f"reply {data.hex()}")


if __name__ == "__main__":
    {"echo": echo, "client": client, "unix": unix}[sys.argv[1]](*sys.argv[2:])
