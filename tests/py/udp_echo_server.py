# Seed 004's UDP section (create a UDP socket, recvfrom, sendto) as a server, the twin of
# examples/udp_echo_server.ts: answer every datagram upper-cased, print what arrived.
# Arguments: host port [count]; stops after count datagrams, or on Ctrl-C. Run with -u.
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else None

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((host, port))
print(u.getsockname()[1])
answered = 0
try:
    while count is None or answered < count:
        data, addr = u.recvfrom(65535)
        print('received', data, 'from', addr)
        u.sendto(data.upper(), addr)
        answered += 1
except KeyboardInterrupt:
    pass
u.close()
