/**
 * UDP sender: sends each message as one datagram and waits for an answer (udp-receiver.ts's
 * "ack <message>", or the message itself from a plain UDP echo server), sending again after a
 * timeout (UDP itself never retries). Every datagram that comes back is printed.
 *
 *   node --conditions=unisock-source examples/udp-sender.ts [host:port] [message...]
 *   deno run -A examples/udp-sender.ts [host:port] [message...]
 *   bun --conditions=unisock-source examples/udp-sender.ts [host:port] [message...]
 *
 * Address (`host:port`, `[::1]:port`) from argv, then $HOST and $PORT, then 127.0.0.1:7010. Messages default to three greetings.
 */
import process from "node:process";
import { bind } from "unisock";
import { clientAddress, localFor, run } from "./_cli.ts";

const messages = process.argv.length > 3 ? process.argv.slice(3) : ["hello", "from", "unisock"];
const decoder = new TextDecoder();

await run(async () => {
  const peer = clientAddress(process.argv[2], 7010);
  // A connected socket: send() needs no address, and only the peer's datagrams come back to us.
  // Talking to loopback, stay on loopback; anything else needs a routable local address.
  await using socket = await bind({ hostname: localFor(peer.hostname), connect: peer });
  for (const message of messages) await ask(socket, message);
});

/**
 * Sends `message` until an answer comes back: at most 5 tries, 500 ms apart. Every datagram that
 * comes back is printed; the answer is the receiver's "ack <message>" or, from a plain UDP echo
 * server, the message itself.
 */
async function ask(socket: Awaited<ReturnType<typeof bind>>, message: string): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    await socket.send(message);
    // An aborted receive rejects with the signal's reason (a TimeoutError) and loses no datagram.
    const timeout = AbortSignal.timeout(500);
    try {
      for (;;) {
        const reply = decoder.decode((await socket.receive({ signal: timeout })).data);
        console.log(`got: ${reply}`);
        if (reply === `ack ${message}` || reply === message) return;
        // else a late answer to an earlier message: printed, and we keep waiting for ours
      }
    } catch (err) {
      if ((err as Error).name !== "TimeoutError") throw err;
      console.error(`no answer to "${message}" (try ${attempt}), sending again`);
    }
  }
  throw new Error(`no answer to "${message}" after 5 tries`);
}
