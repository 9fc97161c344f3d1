/**
 * Seed 001, client.py (the "phone" client): sends "hello" and prints the reply.
 *
 * Run: `deno task seed001-phone-client` (with `seed001-phone-server` running).
 *
 * @module
 */
import { AF_INET, SOCK_STREAM, socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";
import { repr } from "./_py.ts";

const { host, port } = exampleArgs({
  file: "phone_client.ts",
  summary: 'Seed 001 client: send "hello", print the reply.',
  port: 8080,
  role: "client",
});

// 1. Buy a phone. A client needs no bind.
const phone = socket(AF_INET, SOCK_STREAM);

// 2. Dial the server.
await phone.connect([host, port]);

// 3. Send and receive: the network carries bytes; a string is sent as UTF-8.
await phone.send("hello");
const data = await phone.recv(1024);
console.log(repr(data));

// 4. Hang up.
phone.close();
