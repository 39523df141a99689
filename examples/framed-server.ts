/**
 * Request/response over length-prefixed frames: each message is a 4-byte big-endian length and
 * that many bytes of JSON, so messages of any content (newlines, binary) keep their boundaries.
 *
 *   node --conditions=unisock-source examples/framed-server.ts [port]
 *   deno run -A examples/framed-server.ts [port]
 *   bun --conditions=unisock-source examples/framed-server.ts [port]
 *
 * Port from argv, then $PORT, then 7009; address from $HOST (default 127.0.0.1).
 * Requests are `{ id, method, params }`; methods: "add" (numbers), "upper" (a string), "echo".
 * Answers are `{ id, result }` or `{ id, error }`, in request order. See framed-client.ts.
 */
import process from "node:process";
import { listen, type Socket } from "unisock";
import { LengthPrefixedReader, writeFrame } from "unisock/framing";
import { run, serverPort } from "./_cli.ts";

const hostname = process.env.HOST ?? "127.0.0.1";

const methods: Record<string, (params: unknown[]) => unknown> = {
  add: (params) => params.reduce((sum: number, n) => sum + Number(n), 0),
  upper: ([text]) => String(text).toUpperCase(),
  echo: (params) => params,
};

await run(async () => {
  // allowHalfOpen: a client may send its requests, close its side (FIN), then read the answers.
  const listener = await listen({ hostname, port: serverPort(process.argv[2], 7009), allowHalfOpen: true });
  if (listener.addr.transport === "unix") throw new Error("unreachable: listening on TCP");
  console.log(`framed server listening on ${listener.addr.hostname}:${listener.addr.port}`);

  for await (const socket of listener) void serve(socket);
});

async function serve(socket: Socket): Promise<void> {
  try {
    // One frame in, one frame out. maxFrameBytes bounds what one peer can make us buffer:
    // a header announcing more is EMSGSIZE at once, before the payload is read.
    for await (const frame of new LengthPrefixedReader(socket, { maxFrameBytes: 1024 * 1024 })) {
      await writeFrame(socket, JSON.stringify(handle(new TextDecoder().decode(frame))));
    }
  } catch (err) {
    console.error("connection failed:", err instanceof Error ? err.message : err);
  } finally {
    await socket.close();
  }
}

function handle(text: string): { id: unknown; result?: unknown; error?: string } {
  let request: { id?: unknown; method?: string; params?: unknown[] };
  try {
    request = JSON.parse(text);
  } catch {
    return { id: null, error: "not JSON" };
  }
  const method = methods[request.method ?? ""];
  if (!method) return { id: request.id, error: `no method ${JSON.stringify(request.method)}` };
  return { id: request.id, result: method(request.params ?? []) };
}
