/**
 * UDP receiver: prints each datagram and answers it with an acknowledgement.
 *
 *   node --conditions=unisock-source examples/udp-receiver.ts [port]
 *   deno run -A examples/udp-receiver.ts [port]
 *   bun --conditions=unisock-source examples/udp-receiver.ts [port]
 *
 * Port from argv, then $PORT, then 7010; address from $HOST (default 127.0.0.1).
 * Send to it with `examples/udp-sender.ts` or `echo hi | socat - UDP:127.0.0.1:7010`.
 */
import process from "node:process";
import { bind } from "unisock";
import { run, serverPort } from "./_cli.ts";

const hostname = process.env.HOST ?? "127.0.0.1";
const decoder = new TextDecoder();

await run(async () => {
  // Where UDP is not available on this runtime, bind() rejects with ERR_UNSUPPORTED (see `capabilities.udp`).
  const socket = await bind({ hostname, port: serverPort(process.argv[2], 7010) });
  console.log(`udp receiver listening on ${socket.localAddress.hostname}:${socket.localAddress.port}`);

  // Each iteration is one whole datagram: UDP keeps message boundaries, no framing needed.
  for await (const { data, remoteAddress } of socket) {
    const text = decoder.decode(data).trimEnd();
    console.log(`${remoteAddress.hostname}:${remoteAddress.port} says: ${text}`);
    // UDP may lose datagrams, so the sender waits for this and sends again if it never comes.
    await socket.send(`ack ${text}`, remoteAddress);
  }
});
