/**
 * TCP echo client: sends a message, says it is done (half-close), prints what comes back.
 *
 *   node --conditions=unisock-source examples/echo-client.ts [host:port] [message...]
 *   deno run -A examples/echo-client.ts [host:port] [message...]
 *   bun --conditions=unisock-source examples/echo-client.ts [host:port] [message...]
 *
 * Address from argv, then $HOST and $PORT, then 127.0.0.1:7007.
 */
import process from "node:process";
import { connect } from "unisock";
import { clientAddress, run } from "./_cli.ts";

const message = process.argv.slice(3).join(" ") || "hello, unisock";

// A refused connection or a bad address ends in one line on stderr and exit status 1 (./_cli.ts).
await run(async () => {
  const address = clientAddress(process.argv[2], 7007);
  // `await using` closes the socket however this block is left.
  await using socket = connect(address);
  const { remoteAddress } = await socket.opened; // connect() returns at once; failures land here
  // Status goes to stderr, so stdout carries only the echo.
  console.error(
    "connected to",
    remoteAddress.transport === "unix" ? remoteAddress.path : `${remoteAddress.hostname}:${remoteAddress.port}`,
  );

  await socket.write(`${message}\n`);
  // FIN: "no more from me". The server still answers; its own FIN ends our readable.
  await socket.closeWrite();

  // The Web Streams side: a ReadableStream of byte chunks, iterated until the server's FIN.
  // `stream: true` keeps a UTF-8 character split across two chunks whole.
  const decoder = new TextDecoder();
  let reply = "";
  for await (const chunk of socket.readable) reply += decoder.decode(chunk, { stream: true });
  reply += decoder.decode();
  process.stdout.write(reply);
});
