# The Python docs' socketserver client (Lib/socketserver, "Examples"), the twin of
# examples/socketserver_tcp_client.ts, made runnable for tests. Changes: host 127.0.0.1
# (was "localhost"), port from argv (was 9999), so the data is sys.argv[2:].
# Arguments: port words... Run with `python3 -u` (unbuffered).
import socket
import sys

HOST, PORT = "127.0.0.1", int(sys.argv[1])
data = " ".join(sys.argv[2:])

# Create a socket (SOCK_STREAM means a TCP socket)
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
    # Connect to server and send data
    sock.connect((HOST, PORT))
    sock.sendall(bytes(data + "\n", "utf-8"))

    # Receive data from the server and shut down
    received = str(sock.recv(1024), "utf-8")

print("Sent:     {}".format(data))
print("Received: {}".format(received))
