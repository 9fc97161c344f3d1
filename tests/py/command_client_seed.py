# Seed 002 ("socket网络编程"), the command client of the 粘包 (sticky packets) section,
# made runnable for tests. Re-indented with ASCII quotes. Changes: host 127.0.0.1 (was
# 'localhost'), port from argv (was 9999). Commands come from stdin; as in the seed,
# input() raises EOFError at the end of stdin: the program ends with that traceback and
# exit status 1.
import socket
import sys
client = socket.socket()
client.connect(('127.0.0.1', int(sys.argv[1])))
while True:
    cmd = input(">>>:").strip()
    if len(cmd) == 0: continue
    client.send(cmd.encode("utf-8"))
    cmd_res_size = client.recv(1024)  # 接受命令结果长度
    print("命令结果大小:", cmd_res_size)
    client.send("准备好接受了,loser可以发了".encode("utf-8"))
    received_size = 0
    received_data = b''
    while received_size < int(cmd_res_size.decode()):
        data = client.recv(1024)
        received_size += len(data)  # 每次收到的有可能小于1024,所以必须用len判断
        # print(data.decode())
        received_data += data
    else:
        print("cmd res receive done...", received_size)
        print(received_data.decode())
client.close()
