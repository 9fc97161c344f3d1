# The chat client for select_chat_server.py: select.select on the socket and stdin, so
# lines typed go to the server and lines from the others are printed as they come. At
# the end of stdin it half-closes (shutdown SHUT_WR) and keeps printing until the server
# closes. Usage: select_chat_client.py PORT (connects to 127.0.0.1).
import os
import select
import socket
import sys

sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
inputs = [sock, sys.stdin]
while True:
    readable, _, _ = select.select(inputs, [], [])
    for r in readable:
        if r is sock:
            data = sock.recv(4096)
            if not data:
                sock.close()
                sys.exit(0)
            sys.stdout.write(data.decode())
            sys.stdout.flush()
        else:
            # os.read, not readline: a line left in Python's buffer would not
            # make stdin readable again.
            chunk = os.read(sys.stdin.fileno(), 4096)
            if not chunk:
                sock.shutdown(socket.SHUT_WR)
                inputs.remove(sys.stdin)
            else:
                sock.sendall(chunk)
