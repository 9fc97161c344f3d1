# Seed 002 ("socket网络编程"), SocketServer.py (one exchange), made runnable for tests.
# The seed prints its code on one line with typographic quotes; here it is re-indented with
# ASCII quotes. Changes: host 127.0.0.1 (was 'localhost'), port from argv (was 9999), the
# bound port printed first. Run with `python3 -u` (unbuffered).
import socket
import sys
# 创建socket
server = socket.socket()
# 为socket绑定IP和端口号
server.bind(('127.0.0.1', int(sys.argv[1])))
print(server.getsockname()[1])
# 监听设置端口等待客户端的请求
server.listen()
print('Waiting for client connect.')
# 接受并建立与客户端的连接,程序在此处开始阻塞,只到有客户端连接进来...
conn, addr = server.accept()
print("New connect:", addr)
data = conn.recv(1024)
print("Accept news:", data)
server.close()
