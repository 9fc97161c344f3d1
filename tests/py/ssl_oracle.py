"""CPython against CPython, for tests/ssl_interop_test.ts: what CPython reports for each
pairing of a server config and a client config (ssl_peer.py's configs), all in one process.

Run as: python3 ssl_oracle.py '[[server, client], ...]'. Prints one JSON list of
{"server": the server's first event after "port", "client": the client's first event}.
"""

import json
import sys
import threading

import ssl_peer

local = threading.local()
# ssl_peer prints its events; here each thread collects its own.
ssl_peer.out = lambda **event: local.events(event)


def run(server, client):
    server_events, listening = [], threading.Event()

    def record(event):
        server_events.append(event)
        if event.get("event") == "port":
            listening.set()

    def serve():
        local.events = record
        try:
            (ssl_peer.plain if server.get("role") == "plain" else ssl_peer.serve)(server)
        finally:
            listening.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    listening.wait(15)
    port = next(e["port"] for e in server_events if e.get("event") == "port")
    client_events = []
    local.events = client_events.append
    try:
        ssl_peer.connect({"port": port, **client})
    except (OSError, ValueError):
        # After the handshake (its event is recorded): the actions' failure is not asked for.
        pass
    thread.join(15)
    after = [e for e in server_events if e.get("event") != "port"]
    return {"client": client_events[0], "server": after[0] if after else None}


def main():
    cases = json.loads(sys.argv[1])
    print(json.dumps([run(server, client) for server, client in cases]), flush=True)


if __name__ == "__main__":
    main()
