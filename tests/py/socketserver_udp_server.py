# The Python docs' socketserver.UDPServer example (Lib/socketserver, "Examples"), the twin
# of examples/socketserver_udp_server.ts, made runnable for tests. Changes: host 127.0.0.1
# (was "localhost"), port from argv (was 9999), the bound port printed first; with a count,
# handle_request() that many times instead of serve_forever().
# Arguments: port [count]. Run with `python3 -u` (unbuffered).
import socketserver
import sys


class MyUDPHandler(socketserver.BaseRequestHandler):
    """
    This class works similar to the TCP handler class, except that
    self.request consists of a pair of data and client socket, and since
    there is no connection the client address must be given explicitly
    when sending data back via sendto().
    """

    def handle(self):
        data = self.request[0].strip()
        socket = self.request[1]
        print("{} wrote:".format(self.client_address[0]))
        print(data)
        socket.sendto(data.upper(), self.client_address)


if __name__ == "__main__":
    HOST, PORT = "127.0.0.1", int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else None
    with socketserver.UDPServer((HOST, PORT), MyUDPHandler) as server:
        print(server.server_address[1])
        if count is None:
            server.serve_forever()
        else:
            for _ in range(count):
                server.handle_request()
