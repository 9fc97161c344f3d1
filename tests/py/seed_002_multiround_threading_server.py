# Seed 002 ("socket网络编程"), SocketServer.py (many exchanges), written on
# socketserver.ThreadingTCPServer: the twin of examples/multiround_threading_server.ts.
# The seed's loop is the handler, one thread per client, so clients are served at once.
# Host 127.0.0.1, port from argv, the bound port printed first; with a count,
# handle_request() that many times, then server_close() (the `with`) joins the threads
# of the clients still connected. Arguments: port [count]. Run with `python3 -u`.
import socketserver
import sys


class MultiRoundHandler(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        print("New connect:", self.client_address)
        while True:
            data = conn.recv(1024)
            # 判断服务器接到的数据是否为空(避免客户端一断开,服务器端进入死循环)
            if not data:
                print("Client disconnect.")
                break
            print("Accept news:", data)
            conn.send(data.upper())


count = int(sys.argv[2]) if len(sys.argv) > 2 else None
with socketserver.ThreadingTCPServer(('127.0.0.1', int(sys.argv[1])), MultiRoundHandler) as server:
    print(server.server_address[1])
    print('Waiting for client connect.')
    if count is None:
        server.serve_forever()
    else:
        for _ in range(count):
            server.handle_request()
