/**
 * Line-based chat: each line a client sends is relayed to every other client.
 *
 *   node --conditions=unisock-source examples/chat-server.ts [port]
 *   deno run -A examples/chat-server.ts [port]
 *   bun --conditions=unisock-source examples/chat-server.ts [port]
 *
 * Port from argv, then $PORT, then 7008; address from $HOST (default 127.0.0.1).
 * Join from two terminals with `nc 127.0.0.1 7008` (or `socat - TCP:127.0.0.1:7008`) and type.
 */
import process from "node:process";
import { encodeDelimited, LineReader, listen, type Socket } from "unisock";
import { run, serverPort } from "./_cli.ts";

const hostname = process.env.HOST ?? "127.0.0.1";

const clients = new Map<Socket, string>();
let guests = 0;

await run(async () => {
  const listener = await listen({ hostname, port: serverPort(process.argv[2], 7008) });
  if (listener.addr.transport === "unix") throw new Error("unreachable: listening on TCP");
  console.log(`chat server listening on ${listener.addr.hostname}:${listener.addr.port}`);

  for await (const socket of listener) void serve(socket);
});

async function serve(socket: Socket): Promise<void> {
  const name = `guest${++guests}`;
  clients.set(socket, name);
  try {
    await socket.write(encodeDelimited(`* you are ${name}`));
    await relay(socket, `* ${name} joined`);
    // LineReader cuts the byte stream into lines, whatever the TCP segments were: a line may
    // arrive in pieces, or many lines in one read. "\r\n" from telnet-like clients is handled too.
    for await (const line of new LineReader(socket, { maxMessageBytes: 4096 })) {
      await relay(socket, `${name}: ${new TextDecoder().decode(line)}`);
    }
  } catch (err) {
    // EMSGSIZE (a line over 4 KiB), ECONNRESET (gone mid-line), ...: drop this client only.
    console.error(`${name}:`, err instanceof Error ? err.message : err);
  } finally {
    clients.delete(socket);
    await socket.close();
    await relay(socket, `* ${name} left`);
  }
}

/** Sends one line to every client but `from`. Awaiting the writes lets a slow reader slow the chat
 * down instead of making the server buffer without limit; one failed client does not stop the rest. */
async function relay(from: Socket, text: string): Promise<void> {
  const bytes = encodeDelimited(text); // text + "\n", checked to hold no "\n" of its own
  const others = [...clients.keys()].filter((c) => c !== from);
  await Promise.allSettled(others.map((c) => c.write(bytes)));
}
