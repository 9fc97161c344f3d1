# Seed 001 ("什么是socket(套接字)"), server.py, made runnable for tests.
# Changes from the seed: the port comes from argv (was 8080) and the bound port is printed
# first. Run with `python3 -u` (unbuffered).
import socket
import sys

#1 买手机
phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # AF_INET是网络类型家族(基于网络通信),stream是流的意思,即TCP协议(流式协议)

#2 绑定手机卡(绑定IP和端口)
phone.bind(('127.0.0.1', int(sys.argv[1])))  # 以元组的形式传入 服务端IP 和 接收端口
print(phone.getsockname()[1])

#3 监听(设置最大可挂起数)
phone.listen(5)  # backlog:设置为5,最大挂起的连接数。类似电话占线,最多可以让5个人等待。这个值一般应该放在配置文件中

#4 等待呼叫(接受连接)
print('starting...')
conn, client_addr = phone.accept()  # 服务器端会在这里等待客户端访问,返回的是2各元素的元组,所以我们分别赋值给conn和client_addr

#5 收,发消息(传数据)
data = conn.recv(1024)  # recv是收,收1024字节:代表接受数据的最大1024bytes
print('客户端的数据',data)

conn.send(data.upper())  # 送回客户端数据

#6 挂电话(释放连接对象)
conn.close()  # 断开和此客户端的连接

#7 关机(关闭服务)
phone.close()  # 停止服务端的服务
