/**
 * Client of framed-server.ts: sends a few requests as length-prefixed frames, all at once
 * (pipelined), then reads the answers, which come back in order.
 *
 *   node --conditions=unisock-source examples/framed-client.ts [host:port]
 *   deno run -A examples/framed-client.ts [host:port]
 *   bun --conditions=unisock-source examples/framed-client.ts [host:port]
 *
 * Address from argv, then $HOST and $PORT, then 127.0.0.1:7009.
 */
import process from "node:process";
import { connect } from "unisock";
import { LengthPrefixedReader, writeFrame } from "unisock/framing";
import { clientAddress, run } from "./_cli.ts";

const requests = [
  { id: 1, method: "add", params: [1, 2, 39] },
  { id: 2, method: "upper", params: ["multi\nline text keeps its newline"] },
  { id: 3, method: "echo", params: ["x".repeat(100_000)] }, // far bigger than one TCP segment
  { id: 4, method: "nope" },
];

await run(async () => {
  await using socket = connect(clientAddress(process.argv[2], 7009));
  const frames = new LengthPrefixedReader(socket);

  for (const request of requests) await writeFrame(socket, JSON.stringify(request));
  // Done sending: the server sees EOF after the last frame, answers it, and closes.
  await socket.closeWrite();

  for (const request of requests) {
    const frame = await frames.read(); // one whole frame, however TCP split it; null at EOF
    if (frame === null) throw new Error(`the server closed before answering request ${request.id}`);
    const answer = JSON.parse(new TextDecoder().decode(frame)) as { id: number; result?: unknown; error?: string };
    const shown = JSON.stringify(answer.result ?? answer.error);
    console.log(
      `#${answer.id} ${request.method} -> ${shown.length > 60 ? `${shown.slice(0, 57)}... (${shown.length} chars)` : shown}`,
    );
  }
});
