# Seed 002 ("socket网络编程"), "Socket实现多连接处理", made runnable for tests. Serves one
# client at a time; the others wait in the listen queue. Re-indented with ASCII quotes.
# Changes: host 127.0.0.1 (was 'localhost'), port from argv (was 9999), the bound port
# printed first. It never exits: the test kills it. Run with `python3 -u` (unbuffered).
import socket
import sys
# 创建socket
server = socket.socket()
# 为socket绑定IP和端口号
server.bind(('127.0.0.1', int(sys.argv[1])))
print(server.getsockname()[1])
# 监听设置端口等待客户端的请求
server.listen()
while True:
    print('Waiting for client connect.')
    # 接受并建立与客户端的连接,程序在此处开始阻塞,只到有客户端连接进来...
    conn, addr = server.accept()
    print("New connect:", addr)
    while True:
        data = conn.recv(1024)
        # 判断服务器接到的数据是否为空(避免客户端一断开,服务器端进入死循环)
        if not data:
            print("Client disconnect.")
            break
        print("Accept news:", data)
        conn.send(data.upper())
server.close()
