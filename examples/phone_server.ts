/**
 * Seed 001, server.py (the "phone" server): accepts one call, receives one message,
 * prints it and sends it back upper-cased.
 *
 * Run: `deno task seed001-phone-server` (then `deno task seed001-phone-client`).
 *
 * @module
 */
import { AF_INET, SOCK_STREAM, socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";
import { repr, upper } from "./_py.ts";

const { host, port } = exampleArgs({
  file: "phone_server.ts",
  summary: "Seed 001 server: accept one client, print its message, send it back upper-cased.",
  port: 8080,
  role: "server",
});

// 1. Buy a phone: an IPv4 (AF_INET) stream (TCP) socket.
const phone = socket(AF_INET, SOCK_STREAM);

// 2. Put in the SIM card: bind the address.
phone.bind([host, port]);
console.log(phone.getsockname()[1]);

// 3. Listen: at most 5 callers wait in line.
phone.listen(5);

// 4. Wait for a call.
console.log("starting...");
const [conn] = await phone.accept();

// 5. Talk: receive at most 1024 bytes, send them back upper-cased.
const data = await conn.recv(1024);
console.log("客户端的数据", repr(data));

await conn.send(upper(data));

// 6. Hang up this call.
conn.close();

// 7. Switch the phone off.
phone.close();
