# The Python docs' socketserver.TCPServer example (Lib/socketserver, "Examples"), the twin
# of examples/socketserver_tcp_server.ts, made runnable for tests. Changes: host 127.0.0.1
# (was "localhost"), port from argv (was 9999), the bound port printed first; with a count,
# handle_request() that many times instead of serve_forever(). "--stream" picks the docs'
# StreamRequestHandler variant (also called MyTCPHandler there).
# Arguments: [--stream] port [count]. Run with `python3 -u` (unbuffered).
import socketserver
import sys


class MyTCPHandler(socketserver.BaseRequestHandler):
    """
    The request handler class for our server.

    It is instantiated once per connection to the server, and must
    override the handle() method to implement communication to the
    client.
    """

    def handle(self):
        # self.request is the TCP socket connected to the client
        self.data = self.request.recv(1024).strip()
        print("{} wrote:".format(self.client_address[0]))
        print(self.data)
        # just send back the same data, but upper-cased
        self.request.sendall(self.data.upper())


class MyStreamTCPHandler(socketserver.StreamRequestHandler):

    def handle(self):
        # self.rfile is a file-like object created by the handler;
        # we can now use e.g. readline() instead of raw recv() calls
        self.data = self.rfile.readline().strip()
        print("{} wrote:".format(self.client_address[0]))
        print(self.data)
        # Likewise, self.wfile is a file-like object used to write back
        # to the client
        self.wfile.write(self.data.upper())


if __name__ == "__main__":
    args = sys.argv[1:]
    stream = "--stream" in args
    args = [a for a in args if a != "--stream"]
    HOST, PORT = "127.0.0.1", int(args[0])
    count = int(args[1]) if len(args) > 1 else None

    # Create the server, binding to localhost on port 9999
    with socketserver.TCPServer((HOST, PORT), MyStreamTCPHandler if stream else MyTCPHandler) as server:
        print(server.server_address[1])
        if count is None:
            # Activate the server; this will keep running until you
            # interrupt the program with Ctrl-C
            server.serve_forever()
        else:
            for _ in range(count):
                server.handle_request()
