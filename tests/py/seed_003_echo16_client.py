# Seed 003 ("Python Socket"), the client that creates a socket, resolves a host and
# connects, made runnable for tests. The seed is Python 2 (`except socket.error, msg`,
# `print 'Socket Created'`); this is the same code in Python 3. Changes: the host and port
# come from argv (were 'www.google.com' and 80: tests never leave loopback), and the
# seed's steps 3 and 4 ("Send some data", "Receive a reply"), listed but not coded, are
# added at the end: send a message longer than the server's recv(16), read the echo.
import socket
import sys
try:
    # create an AF_INET, STREAM socket (TCP)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
except socket.error as msg:
    print('Failed to create socket. Error code: ' + str(msg.errno) + ' , Error message : ' + msg.strerror)
    sys.exit();
print('Socket Created')
host = sys.argv[1]
port = int(sys.argv[2])
try:
    remote_ip = socket.gethostbyname( host )
except socket.gaierror:
    # could not resolve
    print('Hostname could not be resolved. Exiting')
    sys.exit()
print('Ip address of ' + host + ' is ' + remote_ip)
#Connect to remote server
s.connect((remote_ip , port))
print('Socket Connected to ' + host + ' on ip ' + remote_ip)
# Send some data
message = b'This is the message.  It will be repeated.'
s.sendall(message)
# Receive a reply
received = b''
while len(received) < len(message):
    data = s.recv(16)
    if not data:
        break
    received += data
print('Received', received)
s.close()
