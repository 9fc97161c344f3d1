# Seed 002 ("socket网络编程"), SocketClient.py (many exchanges), made runnable for tests.
# Re-indented with ASCII quotes. Changes: host 127.0.0.1 (was 'localhost'), port from argv
# (was 9999). As in the seed, input() raises EOFError at the end of stdin: the program
# ends with that traceback and exit status 1.
import socket
import sys
# 创建socket
client = socket.socket()
# 根据服务器IP地址和端口号试图连接服务器socket
client.connect(('127.0.0.1', int(sys.argv[1])))
while True:
    msg = input(">>>:").strip()
    if len(msg) == 0:continue
    client.send(msg.encode('utf-8'))
    data = client.recv(1024)
    print("from server:",data)
client.close()
