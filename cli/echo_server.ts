// `pysock echo-server`: echo every byte back, one task per connection.

import { type Address, type StreamSocket } from "../socket.ts";
import { ConnectionError } from "../errors.ts";
import { type Command, countArg, DEFAULT_HOST, hostArg, portArg, type Values } from "./_args.ts";
import { explain, Failure, oneLine, UsageError } from "./_errors.ts";
import { endpointOf, IO_CHUNK, listenTcp, onStopSignal } from "./_io.ts";
import { TLS_SERVER_HELP, TLS_SERVER_OPTIONS, tlsServer } from "../_ssl_cli.ts";
import { serveEchoWorkers } from "../_server_echo.ts";
import { formatEndpoint } from "../_address.ts";

/**
 * `pysock echo-server [--host HOST] [--port PORT] [--max-clients N | --workers N]`.
 *
 * @example
 * ```ts
 * import { echoServerCommand } from "./echo_server.ts";
 * import { parse } from "./_args.ts";
 * import { UsageError } from "./_errors.ts";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const { values } = parse(echoServerCommand, ["--max-clients", "2"])!;
 * equal(values.host, "127.0.0.1");
 * equal(values.port, "0");
 * await rejects(echoServerCommand.run({ ...values, "max-clients": "0" }, []), UsageError);
 * ```
 */
export const echoServerCommand: Command = {
  usage:
    "echo-server [--host HOST] [--port PORT] [--max-clients N | --workers N] [--tls --cert FILE [--key FILE]]",
  summary: "echo every byte back, serving many clients at once",
  help: `Listens on HOST:PORT and sends every byte each client sends straight back,
one task per connection. Prints "listening on HOST:PORT" on stderr first.
Stops on Ctrl-C (SIGINT) or SIGTERM, closing every connection.

Options:
  --host HOST        address to listen on (default ${DEFAULT_HOST}; 0.0.0.0 or :: for all)
  --port PORT        port to listen on (default 0: a free port, printed)
  --max-clients N    stop accepting after N clients, exit when they are done
  --workers N        serve from N processes sharing the port (SO_REUSEPORT), one
                     core each; the kernel spreads the clients, a worker that dies
                     is restarted. Prints "N workers ready (pids ...)" first;
                     connections are not logged. Needs --allow-run.
${TLS_SERVER_HELP}`,
  options: {
    host: { type: "string", default: DEFAULT_HOST },
    port: { type: "string", default: "0" },
    "max-clients": { type: "string" },
    workers: { type: "string" },
    ...TLS_SERVER_OPTIONS,
  },
  positionals: [],
  run: echoServer,
};

async function echoServer(values: Values): Promise<number> {
  const host = hostArg(values.host as string);
  const port = portArg(values.port as string, "--port");
  const maxClients = countArg(values["max-clients"] as string | undefined, "--max-clients");
  const workers = countArg(values.workers as string | undefined, "--workers");
  if (workers !== undefined) {
    if (maxClients !== undefined) {
      throw new UsageError("--max-clients cannot be used with --workers");
    }
    if (values.tls) throw new UsageError("--tls cannot be used with --workers");
    return await echoWorkers(workers, host, port);
  }
  let server: StreamSocket;
  try {
    // With --tls each connection's handshake runs on its first read, so a
    // bad client fails only its own echo.
    server = await tlsServer(listenTcp(host, port), values);
  } catch (err) {
    throw new Failure((err as Error).message);
  }
  const clients = new Set<StreamSocket>();
  const serving = new Set<Promise<void>>();
  let stopping = false;
  using _signals = onStopSignal(() => {
    stopping = true;
    server.close();
    for (const conn of clients) conn.close();
  });
  try {
    console.error(`listening on ${endpointOf(server.getsockname())}`);
    for (let accepted = 0; maxClients === undefined || accepted < maxClients; accepted++) {
      let conn: StreamSocket, addr: Address;
      try {
        [conn, addr] = await server.accept();
      } catch (err) {
        if (stopping) break;
        // With --tls, a client that reset before it was accepted fails accept()
        // (as in CPython): it ends only itself.
        if (err instanceof ConnectionError) {
          console.error(`dropped a client: ${oneLine(explain(err))}`);
          continue;
        }
        throw err;
      }
      clients.add(conn);
      const task = echo(conn, addr).finally(() => {
        clients.delete(conn);
        serving.delete(task);
      });
      serving.add(task);
    }
    server.close();
    await Promise.all(serving);
  } finally {
    server.close();
    for (const conn of clients) conn.close();
  }
  return 0;
}

/** Serves from `n` worker processes until SIGINT or SIGTERM, then stops them gracefully. */
async function echoWorkers(n: number, host: string, port: number): Promise<number> {
  let pool;
  try {
    pool = await serveEchoWorkers(n, host, port);
  } catch (err) {
    const why = (err as Error).message.replace(/^Cannot serve workers: /, "");
    throw new Failure(`cannot start ${n} workers on ${formatEndpoint(host, port)}: ${why}`);
  }
  using _signals = onStopSignal(() => pool.close());
  console.error(`${n} workers ready (pids ${pool.pids.join(", ")})`);
  console.error(`listening on ${endpointOf(pool.address)}`);
  try {
    await pool.closed;
  } catch (err) {
    throw new Failure((err as Error).message);
  } finally {
    await pool.close();
  }
  return 0;
}

/** Echoes one connection until its end of stream; a broken client ends only itself. */
async function echo(conn: StreamSocket, addr: Address): Promise<void> {
  const peer = endpointOf(addr);
  console.error(`connection from ${peer}`);
  let echoed = 0;
  try {
    for (let data = await conn.recv(IO_CHUNK); data.length > 0; data = await conn.recv(IO_CHUNK)) {
      await conn.sendall(data);
      echoed += data.length;
    }
    console.error(`closed ${peer} after ${echoed} bytes`);
  } catch (err) {
    if (conn.fileno() !== -1) console.error(`dropped ${peer}: ${oneLine(explain(err))}`);
  } finally {
    conn.close();
  }
}
