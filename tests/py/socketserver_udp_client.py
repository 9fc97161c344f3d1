# The Python docs' socketserver UDP client (Lib/socketserver, "Examples"), the twin of
# examples/socketserver_udp_client.ts, made runnable for tests. Changes: host 127.0.0.1
# (was "localhost"), port from argv (was 9999), so the data is sys.argv[2:].
# Arguments: port words... Run with `python3 -u` (unbuffered).
import socket
import sys

HOST, PORT = "127.0.0.1", int(sys.argv[1])
data = " ".join(sys.argv[2:])

# SOCK_DGRAM is the socket type to use for UDP sockets
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

# As you can see, there is no connect() call; UDP has no connections.
# Instead, data is directly sent to the recipient via sendto().
sock.sendto(bytes(data + "\n", "utf-8"), (HOST, PORT))
received = str(sock.recv(1024), "utf-8")

print("Sent:     {}".format(data))
print("Received: {}".format(received))
