# The selectors echo server from the Python docs (Lib/selectors, "Examples"), made
# runnable for tests. Changes: host 127.0.0.1 (was 'localhost'), port from argv (was
# 1234), the bound port printed first. It never exits: the test kills it. Run with
# `python3 -u` (unbuffered).
import selectors
import socket
import sys

sel = selectors.DefaultSelector()

def accept(sock, mask):
    conn, addr = sock.accept()  # Should be ready
    print('accepted', conn, 'from', addr)
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, read)

def read(conn, mask):
    data = conn.recv(1000)  # Should be ready
    if data:
        print('echoing', repr(data), 'to', conn)
        conn.send(data)  # Hope it won't block
    else:
        print('closing', conn)
        sel.unregister(conn)
        conn.close()

sock = socket.socket()
sock.bind(('127.0.0.1', int(sys.argv[1])))
print(sock.getsockname()[1])
sock.listen(100)
sock.setblocking(False)
sel.register(sock, selectors.EVENT_READ, accept)

while True:
    events = sel.select()
    for key, mask in events:
        callback = key.data
        callback(key.fileobj, mask)
