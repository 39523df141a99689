/**
 * TCP echo server: every byte a client sends comes straight back.
 *
 *   node --conditions=unisock-source examples/echo-server.ts [port]
 *   deno run -A examples/echo-server.ts [port]
 *   bun --conditions=unisock-source examples/echo-server.ts [port]
 *
 * Port from argv, then $PORT, then 7007; address from $HOST (default 127.0.0.1).
 * Talk to it with `examples/echo-client.ts`, `socat - TCP:127.0.0.1:7007` or `nc 127.0.0.1 7007`.
 */
import process from "node:process";
import { listen, type Socket } from "unisock";
import { run, serverPort } from "./_cli.ts";

const hostname = process.env.HOST ?? "127.0.0.1";

// A port in use or a bad port ends in one line on stderr and exit status 1 (./_cli.ts).
await run(async () => {
  // allowHalfOpen: a client that is done sending (FIN) still receives the rest of its echo.
  const listener = await listen({ hostname, port: serverPort(process.argv[2], 7007), allowHalfOpen: true });
  if (listener.addr.transport === "unix") throw new Error("unreachable: listening on TCP");
  console.log(`echo server listening on ${listener.addr.hostname}:${listener.addr.port}`);

  for await (const socket of listener) void echo(socket);
});

async function echo(socket: Socket): Promise<void> {
  try {
    // The Web Streams way: pipeTo waits under backpressure, so a client that does not read
    // slows down its own sending instead of filling our memory. At the client's FIN the readable
    // ends, pipeTo closes the writable, and that sends our FIN.
    await socket.readable.pipeTo(socket.writable);
  } catch (err) {
    console.error("connection failed:", err instanceof Error ? err.message : err);
  } finally {
    await socket.close();
  }
}
