# Seed 000 ("python socket函数详解"), "socket编程之客户端代码", made runnable for tests.
# Changes from the seed: host 127.0.0.1 (was 192.168.10.132), port from argv (was 8000).
#socket客户端
import socket
import sys

client = socket.socket()
client.connect(("127.0.0.1", int(sys.argv[1])))#本机IP连接

client.send("666".encode("utf8"))
client.close()
