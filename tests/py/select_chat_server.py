# A chat server on select.select: every line a client sends goes to every other client,
# prefixed with the sender's address. One list of sockets to read (the listener and the
# clients), a byte buffer per client for the part of a line not yet ended; a client that
# sends more than LIMIT bytes without a newline is dropped. Usage: select_chat_server.py
# PORT (binds 127.0.0.1; 0 picks a free port, printed first). It never exits: the test
# kills it.
import select
import socket
import sys

LIMIT = 65536

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1])))
server.listen()
print(server.getsockname()[1])

sockets = [server]
buffers = {}
names = {}


def drop(sock):
    print('disconnected', names[sock])
    sockets.remove(sock)
    del buffers[sock]
    del names[sock]
    sock.close()


while True:
    readable, _, _ = select.select(sockets, [], [])
    for sock in readable:
        if sock is server:
            conn, addr = server.accept()
            sockets.append(conn)
            buffers[conn] = b''
            names[conn] = addr
            print('connected', addr)
            continue
        if sock not in buffers:
            continue  # dropped while broadcasting
        data = sock.recv(4096)
        if not data:
            drop(sock)
            continue
        buffers[sock] += data
        while b'\n' in buffers[sock]:
            line, buffers[sock] = buffers[sock].split(b'\n', 1)
            host, port = names[sock]
            message = b'[%s:%d] %s\n' % (host.encode(), port, line)
            gone = []
            for other in sockets:
                if other is not server and other is not sock:
                    try:
                        other.sendall(message)
                    except OSError:
                        gone.append(other)
            for other in gone:
                drop(other)
        if len(buffers[sock]) > LIMIT:
            drop(sock)
