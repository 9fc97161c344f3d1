# Seed 002 ("socket网络编程"), SocketClinet.py (one exchange), made runnable for tests.
# Re-indented with ASCII quotes. Changes: host 127.0.0.1 (was 'localhost'), port from argv
# (was 9999).
import socket
import sys
# 创建socket
client = socket.socket()
# 根据服务器IP地址和端口号试图连接服务器socket
client.connect(('127.0.0.1', int(sys.argv[1])))
client.send(b'123')
client.close()
