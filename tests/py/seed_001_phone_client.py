# Seed 001 ("什么是socket(套接字)"), client.py, made runnable for tests.
# Changes from the seed: the port comes from argv (was 8080).
import socket
import sys

#1 买手机
phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # AF_INET是网络类型家族(基于网络通信),stream是流的意思,即TCP协议(流式协议)

# 客户端不需要绑定IP和端口

#2 拨号(发送请求)
phone.connect(('127.0.0.1', int(sys.argv[1])))  # 连接服务器的IP和端口

#3 发,收消息
phone.send('hello'.encode('utf-8'))  # 以前我们讲过,网络传输需要用bytes类型来传输
data = phone.recv(1024)
print(data)

#4 关闭
phone.close()
