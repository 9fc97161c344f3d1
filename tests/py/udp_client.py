# Seed 004's UDP section as a client, the twin of examples/udp_client.ts: send each line
# of stdin as a datagram, print each reply; a reply missing after `timeout` seconds is
# reported, and the exit status is then 1. Arguments: host port timeout. Run with -u.
import socket
import sys

host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
server = (host, port)

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(timeout)
missing = 0
for line in sys.stdin:
    u.sendto(line.rstrip('\n').encode(), server)
    try:
        data, addr = u.recvfrom(65535)
    except socket.timeout:
        print('timed out: no reply from', server)
        missing += 1
        continue
    print(data.decode())
u.close()
sys.exit(1 if missing else 0)
