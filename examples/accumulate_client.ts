/**
 * Seed 000, "socket编程之客户端代码": connects, sends "666" and closes.
 *
 * Run: `deno task seed000-accumulate-client` (with `seed000-accumulate-server` running).
 *
 * @module
 */
import { socket } from "../mod.ts";
import { exampleArgs } from "./_cli.ts";

const { host, port } = exampleArgs({
  file: "accumulate_client.ts",
  summary: 'Seed 000 client: connect, send "666", close.',
  port: 8000,
  role: "client",
});

const client = socket();
await client.connect([host, port]);

await client.send("666");
client.close();
