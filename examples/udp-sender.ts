/**
 * UDP sender: sends each message as one datagram and waits for the receiver's acknowledgement,
 * sending again after a timeout (UDP itself never retries).
 *
 *   node --conditions=unisock-source examples/udp-sender.ts [host:port] [message...]
 *   deno run -A examples/udp-sender.ts [host:port] [message...]
 *   bun --conditions=unisock-source examples/udp-sender.ts [host:port] [message...]
 *
 * Address from argv, then $HOST and $PORT, then 127.0.0.1:7010. Messages default to three greetings.
 */
import process from "node:process";
import { bind } from "unisock";

const [host = process.env.HOST ?? "127.0.0.1", port = process.env.PORT ?? "7010"] = process.argv[2]?.split(":") ?? [];
const messages = process.argv.length > 3 ? process.argv.slice(3) : ["hello", "from", "unisock"];

// A connected socket: send() needs no address, and only the receiver's datagrams come back to us.
// Talking to loopback, stay on loopback; anything else needs a routable local address.
const local = host.startsWith("127.") || host === "localhost" ? "127.0.0.1" : "0.0.0.0";
await using socket = await bind({ hostname: local, connect: { hostname: host, port: Number(port) } });
const decoder = new TextDecoder();

for (const message of messages) console.log(`got: ${await ask(message)}`);

/** Sends `message` until its acknowledgement comes back: at most 5 tries, 500 ms apart. */
async function ask(message: string): Promise<string> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    await socket.send(message);
    // An aborted receive rejects with the signal's reason (a TimeoutError) and loses no datagram.
    const timeout = AbortSignal.timeout(500);
    try {
      for (;;) {
        const reply = decoder.decode((await socket.receive({ signal: timeout })).data);
        if (reply === `ack ${message}`) return reply; // else a late answer to an earlier message
      }
    } catch (err) {
      if ((err as Error).name !== "TimeoutError") throw err;
      console.error(`no answer to "${message}" (try ${attempt}), sending again`);
    }
  }
  throw new Error(`no answer to "${message}" after 5 tries`);
}
