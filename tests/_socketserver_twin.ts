// The CPython twin of socketserver_differential_test.ts: one python3 program
// that runs a traced CPython 3.11 socketserver (the same subclass and handler
// the test writes in TypeScript) against its own client thread and prints
// the hooks each request ran, in order, and what the client got. With a
// port as its second argument it runs only the client, against pysock's
// server. Its first argument is the scenario, as JSON (see `Scenario`).

/** What one run does. */
export interface Scenario {
  /** The server class, by its Python name. */
  server: "TCPServer" | "ThreadingTCPServer" | "UDPServer" | "ThreadingUDPServer";
  /** What each request does, by index: ok, deny (verify false), setup/handle/finish (raise there). */
  plan: string[];
  /** What the client sends: one connection per string, or one datagram per string (a number: that many "x"). */
  payloads: (string | number)[];
  /** How many datagram replies the client reads. */
  replies?: number;
  /** How many times the server calls handle_request() before server_close(). */
  requests: number;
  /** The server's timeout attribute. */
  timeout?: number;
}

/** What a run printed: per request, the hooks in order; the server's own hooks; the client's view. */
export interface Trace {
  requests: unknown[][][];
  server: unknown[][];
  client: string[];
}

/** The program (`python3 -c TWIN '<scenario json>' [port]`). */
export const TWIN = String.raw`
import json, socket, socketserver, sys, threading
CFG = json.loads(sys.argv[1])
REQS, SERVER = [], []
IDS = {}
KEEP = []
def rid(request):
    key = id(request)
    if key not in IDS:
        IDS[key] = len(REQS)
        KEEP.append(request)
        REQS.append([])
    return IDS[key]
def rec(request, *event):
    REQS[rid(request)].append(list(event))
class Boom(Exception):
    pass
PLAN = CFG["plan"]
def mode(request):
    i = rid(request)
    return PLAN[i] if i < len(PLAN) else "ok"
BASES = {"TCPServer": socketserver.TCPServer, "ThreadingTCPServer": socketserver.ThreadingTCPServer,
         "UDPServer": socketserver.UDPServer, "ThreadingUDPServer": socketserver.ThreadingUDPServer}
Base = BASES[CFG["server"]]
class Server(Base):
    def verify_request(self, request, client_address):
        rec(request, "verify_request")
        return mode(request) != "deny"
    def process_request(self, request, client_address):
        rec(request, "process_request")
        super().process_request(request, client_address)
    def process_request_thread(self, request, client_address):
        rec(request, "process_request_thread")
        super().process_request_thread(request, client_address)
    def finish_request(self, request, client_address):
        rec(request, "finish_request")
        super().finish_request(request, client_address)
    def shutdown_request(self, request):
        rec(request, "shutdown_request")
        super().shutdown_request(request)
    def close_request(self, request):
        rec(request, "close_request")
        super().close_request(request)
    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        rec(request, "handle_error", type(e).__name__, str(e))
    def handle_timeout(self):
        SERVER.append(["handle_timeout"])
    def service_actions(self):
        if not SERVER or SERVER[-1] != ["service_actions"]:
            SERVER.append(["service_actions"])
for attr in ("daemon_threads", "block_on_close"):
    if attr in CFG:
        setattr(Server, attr, CFG[attr])
# The hooks both handlers record, and fail in when the request asks.
class Hooks:
    def setup(self):
        rec(self.request, "setup")
        super().setup()
        if mode(self.request) == "setup":
            raise Boom("setup failed")
    def finish(self):
        rec(self.request, "finish")
        super().finish()
        if mode(self.request) == "finish":
            raise Boom("finish failed")
class Stream(Hooks, socketserver.StreamRequestHandler):
    def handle(self):
        rec(self.request, "handle")
        line = self.rfile.readline()
        if mode(self.request) == "handle":
            self.wfile.write(b"partial ")
            raise Boom("handle failed")
        self.wfile.write(line.upper())
class Dgram(Hooks, socketserver.DatagramRequestHandler):
    def handle(self):
        data = self.rfile.read()
        rec(self.request, "handle", len(data))
        self.wfile.write(b"<")
        if mode(self.request) == "handle":
            raise Boom("handle failed")
        self.wfile.write(data[:16].upper())
        self.wfile.write(b">")

def stream_client(addr, payloads):
    out = []
    for p in payloads:
        with socket.create_connection(addr, timeout=10) as s:
            s.sendall(p.encode("latin-1"))
            got = b""
            for _ in range(100):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            out.append(got.decode("latin-1"))
    return out
def dgram_client(addr, payloads, replies):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        for p in payloads:
            s.sendto(p.encode("latin-1") if isinstance(p, str) else b"x" * p, addr)
        return [s.recv(65536).decode("latin-1") for _ in range(replies)]
def client(addr):
    if CFG["server"].endswith("UDPServer"):
        return dgram_client(addr, CFG["payloads"], CFG["replies"])
    return stream_client(addr, CFG["payloads"])

if sys.argv[2:] == []:
    server = Server(("127.0.0.1", 0), Dgram if "UDP" in CFG["server"] else Stream)
    if "timeout" in CFG:
        server.timeout = CFG["timeout"]
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("client", client(server.server_address)))
    if CFG["payloads"]:
        t.start()
    for _ in range(CFG["requests"]):
        server.handle_request()
    # A thread still running would reply on a closed socket (EBADF): CPython's
    # server_close closes first, then joins; pysock's waits, then closes.
    if hasattr(server, "_threads"):
        server._threads.join()
    server.server_close()
    if CFG["payloads"]:
        t.join()
    print(json.dumps({"requests": REQS, "server": SERVER, "client": result.get("client", [])}))
else:
    print(json.dumps(client(("127.0.0.1", int(sys.argv[2])))))
`;

/** The handler-options twin. */
// The client: two lines in one send, then it waits for the handler's first
// write before it sends the line that lets the handler write again. A wfile
// that held the first write would leave both waiting (the client's timeout
// ends that as a failure, not a hang).
export const OPTIONS_TWIN = String.raw`
import json, socket, socketserver, sys, threading
OUT = {}
class H(socketserver.StreamRequestHandler):
    timeout = 7
    disable_nagle_algorithm = True
    rbufsize = 0
    def handle(self):
        c = self.connection
        OUT["same"] = c is self.request
        OUT["timeout"] = c.gettimeout()
        OUT["nodelay"] = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        OUT["line"] = self.rfile.readline().decode()
        OUT["rest"] = self.request.recv(100).decode()
        self.wfile.write(b"first")
        OUT["go"] = self.rfile.readline().decode()
        self.wfile.write(b" second")
def client(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"one\ntwo")
        first = s.recv(5)
        s.sendall(b"go\n")
        rest = b""
        for _ in range(100):
            chunk = s.recv(100)
            if not chunk:
                break
            rest += chunk
        return [first.decode(), rest.decode()]
if len(sys.argv) > 1:
    print(json.dumps(client(int(sys.argv[1]))))
else:
    with socketserver.TCPServer(("127.0.0.1", 0), H) as server:
        got = {}
        t = threading.Thread(target=lambda: got.setdefault("c", client(server.server_address[1])))
        t.start()
        server.handle_request()
        t.join()
    print(json.dumps({"handler": OUT, "client": got["c"]}))
`;

/** The serverClose twin: argv[1] is "block" or "daemon". */
// The handler waits for "go" from its client; the client sends it once
// server_close has begun (block_on_close) or returned (daemon_threads), so
// the order shows whether server_close waited for the handler.
export const CLOSE_TWIN = String.raw`
import json, socket, socketserver, sys, threading
DAEMON = sys.argv[1] == "daemon"
EV = []
started = threading.Event()
ended = threading.Event()
class H(socketserver.BaseRequestHandler):
    def handle(self):
        EV.append("handle")
        self.request.settimeout(10)
        started.set()
        EV.append("got " + self.request.recv(10).decode())
    def finish(self):
        EV.append("finish")
class S(socketserver.ThreadingTCPServer):
    daemon_threads = DAEMON
    def server_close(self):
        EV.append("server_close")
        if not DAEMON:
            threading.Thread(target=lambda: c.sendall(b"go")).start()
        super().server_close()
        EV.append("server_close returned")
    def close_request(self, request):
        super().close_request(request)
        ended.set()
s = S(("127.0.0.1", 0), H)
c = socket.create_connection(s.server_address, timeout=10)
s.handle_request()
started.wait(10)
s.server_close()
if DAEMON:
    c.sendall(b"go")
ended.wait(10)
c.close()
# The listening socket itself, not a connect to its freed port: another
# program (a parallel test) may be given that port at once.
EV.append("socket closed" if s.socket.fileno() == -1 else "socket open")
print(json.dumps(EV))
`;
