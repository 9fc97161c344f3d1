# Seed 003 ("Python Socket"), the echo server that reads recv(16), made runnable for tests.
# The seed shows it in fragments; here they are joined: create, bind, listen(1), then the
# accept loop as written. Changes: host 127.0.0.1 (was 'localhost'), port from argv (was
# 10000), the bound port printed first. It never exits: the test kills it. Run with `python3 -u`.
import socket
import sys

# Create a TCP/IP socket
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# Bind the socket to the port
server_address = ('127.0.0.1', int(sys.argv[1]))
sock.bind(server_address)
print(sock.getsockname()[1])
# Listen for incoming connections
sock.listen(1)
while True:
    # Wait for a connection
    connection, client_address = sock.accept()
    try:
        # Receive the data in small chunks and retransmit it
        while True:
            # recv data
            data = connection.recv(16)
            if data:
                # send data back
                connection.sendall(data)
            else:
                break
    finally:
        # Clean up the connection
        connection.close()
