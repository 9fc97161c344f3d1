/**
 * Seed 002's remote-command server (the 粘包 "sticky packets" section), protocol and
 * all: for each command it sends the result's size as decimal text, waits for the
 * client's ack, then sends the result. It works with the seed's own Python client
 * (tests/py/command_client_seed.py). Compare `command_server.ts`, which frames messages
 * instead and needs no ack round trip.
 *
 * One change from the seed, on purpose: the seed runs any received text with
 * `os.popen`, so anyone who can connect runs any shell command. This port runs only the
 * allow-list of `command_server.ts` (`help` lists it), never a shell.
 *
 * Run: `deno task command-server-ack`, then the seed's client:
 * `python3 tests/py/command_client_seed.py 9999`.
 *
 * @module
 */
import { socket, type StreamSocket } from "../mod.ts";
import { exampleArgs, onShutdown } from "./_cli.ts";
import { repr } from "./_py.ts";
import { runCommand } from "./command_server.ts";

const { host, port, maxClients } = exampleArgs({
  file: "command_server_ack.ts",
  summary: "Seed 002 command server: size, wait for ack, then the result (allow-listed).",
  port: 9999,
  role: "loop",
});

const decoder = new TextDecoder();
const server = socket();
server.bind([host, port]);
console.log(server.getsockname()[1]);
server.listen();

let current: StreamSocket | null = null;
let stopping = false;
using _signals = onShutdown(() => {
  stopping = true;
  server.close();
  current?.close();
});

// As in the seed, one client at a time; the others wait in the listen queue.
for (let served = 0; maxClients === null || served < maxClients; served++) {
  console.log("Waiting for client connect.");
  let accepted;
  try {
    accepted = await server.accept();
  } catch (err) {
    if (stopping) break;
    throw err;
  }
  const [conn, addr] = accepted;
  current = conn;
  console.log("new conn:", repr(addr));
  try {
    await serve(conn);
  } catch (err) {
    if (!stopping) console.log(`connection lost: ${(err as Error).message}`);
  } finally {
    conn.close();
    current = null;
  }
}
server.close();

async function serve(conn: StreamSocket): Promise<void> {
  while (true) {
    console.log("等待新指令");
    const data = await conn.recv(1024);
    if (data.length === 0) {
      console.log("客户端已断开");
      break;
    }
    console.log("执行命令:", repr(data));
    let cmdRes = await runCommand(decoder.decode(data));
    // Python's len() of a str counts code points, not UTF-16 units.
    console.log("before send", [...cmdRes].length);
    if (cmdRes.length === 0) cmdRes = "cmd has no output...";
    const result = new TextEncoder().encode(cmdRes);
    await conn.send(String(result.length)); // 先发大小给客户端
    // The ack round trip is how the seed keeps the size and the result apart.
    const clientAck = await conn.recv(1024);
    console.log("ack from client:", repr(clientAck));
    // sendall, not the seed's send: one send may write only part of a large result.
    await conn.sendall(result);
    console.log("send done");
  }
}
