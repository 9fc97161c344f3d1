/**
 * The Python docs' asynchronous-mixins example (Lib/socketserver, "Asynchronous Mixins"):
 * a `ThreadedTCPServer(ThreadingMixIn, TCPServer)` serving in the background while three
 * `client()` calls talk to it, each handler answering with the name of the thread it
 * runs in; then `shutdown()`.
 *
 * Deno has no threads: `ThreadingMixIn` runs each request as a task on the event loop
 * (see socketserver.ts), and `serveForever()` runs as a task too. So where Python prints
 * `threading.current_thread().name` ("Thread-2 (process_request_thread)"), this port
 * prints a name it gives each task as it starts, counted the same way
 * ("Task-2 (processRequestThread)"): Task-1 is the serve loop, then one per request.
 *
 * The docs bind "localhost"; this port binds 127.0.0.1 (what --allow-net=127.0.0.1
 * covers), port 0 (a free one) unless told --port. It exits by itself.
 *
 * Run: `deno task socketserver-threading`.
 *
 * @module
 */
import { AF_INET, SOCK_STREAM, socket } from "../mod.ts";
import { BaseRequestHandler, TCPServer, ThreadingMixIn } from "../socketserver.ts";
import { exampleArgs } from "./_cli.ts";

const { host, port } = exampleArgs({
  file: "socketserver_threading.ts",
  summary: "The Python docs' ThreadingMixIn example: a threaded server and three clients " +
    "in one program.",
  port: 0,
  role: "self",
});

// Python numbers its threads as they are made; these names count tasks the same way.
let tasksStarted = 0;
function startTask(target: string): { name: string } {
  return { name: `Task-${++tasksStarted} (${target})` };
}

const ascii = new TextDecoder("ascii");

class ThreadedTCPRequestHandler extends BaseRequestHandler {
  // The handler is made inside its request's task, so this names that task.
  readonly curTask = startTask("processRequestThread");

  override async handle() {
    const data = ascii.decode(await this.request.recv(1024));
    const response = `${this.curTask.name}: ${data}`;
    await this.request.sendall(response);
  }
}

class ThreadedTCPServer extends ThreadingMixIn(TCPServer) {}

async function client(ip: string, port: number, message: string) {
  await using sock = socket(AF_INET, SOCK_STREAM);
  await sock.connect([ip, port]);
  await sock.sendall(message);
  const response = ascii.decode(await sock.recv(1024));
  console.log(`Received: ${response}`);
}

// Port 0 means to select an arbitrary unused port
const [HOST, PORT] = [host, port];

const server = new ThreadedTCPServer([HOST, PORT], ThreadedTCPRequestHandler);
{
  await using _ = server;
  const [ip, port] = server.serverAddress as [string, number];

  // Start a task with the server -- that task will then start one
  // more task for each request
  const serverTask = startTask("serveForever");
  const serving = server.serveForever();
  console.log("Server loop running in thread:", serverTask.name);

  await client(ip, port, "Hello World 1");
  await client(ip, port, "Hello World 2");
  await client(ip, port, "Hello World 3");

  await server.shutdown();
  await serving;
}
