# Seed 000 ("python socket函数详解"), "socket编程之服务端代码", made runnable for tests.
# Changes from the seed: the port comes from argv (was 8000), the host is 127.0.0.1 (was
# 0.0.0.0), and the bound port is printed first. Run with `python3 -u` (unbuffered).
#socket服务端
import socket
import sys

server = socket.socket()
#绑定到0.0.0.0:8000端口上
server.bind(("127.0.0.1", int(sys.argv[1])))#0.0.0.0    同局域网下的其它机器可以通过本机ip来访问服务器
print(server.getsockname()[1])
server.listen()

#阻塞等待连接
sock,addr = server.accept()
data=""
while True:
    temp_data = sock.recv(1024)
    if temp_data:
        data += temp_data.decode("utf8")
    else:
        break

print(data)
server.close()
