/**
 * Service discovery by UDP broadcast: services answer a "who is there?" datagram sent to a
 * broadcast address, so a client finds them without knowing their addresses.
 *
 *   node --conditions=unisock-source examples/udp-discovery.ts announce [port] [name]
 *   node --conditions=unisock-source examples/udp-discovery.ts find [port]
 *   (deno run -A examples/udp-discovery.ts ...; bun --conditions=unisock-source examples/udp-discovery.ts ...)
 *
 * Port from argv, then $PORT, then 7011. Start one or more announcers, then `find`.
 *
 * The demo stays on this machine: it uses the loopback network's broadcast address
 * 127.255.255.255, which reaches every socket bound to it on this host and nothing beyond.
 * On a real LAN you would use that network's broadcast address instead; never flood
 * 255.255.255.255 from a demo.
 */
import process from "node:process";
import { bind } from "unisock";
import { run, serverPort } from "./_cli.ts";

const BROADCAST = "127.255.255.255";
const QUESTION = "unisock-discovery: who is there?";

const [, , role, portArg, name = `service-${process.pid}`] = process.argv;
await run(async () => {
  const port = serverPort(portArg, 7011);
  if (role === "announce") {
    // Bound to the broadcast address itself, the socket gets exactly the datagrams sent there.
    // reuseAddress lets several announcers on this host share the port: each gets its own copy.
    const socket = await bind({ hostname: BROADCAST, port, reuseAddress: true });
    console.log(`${name} listening on ${BROADCAST}:${socket.localAddress.port}`);
    for await (const { data, remoteAddress } of socket) {
      if (new TextDecoder().decode(data) !== QUESTION) continue;
      console.log(`asked by ${remoteAddress.hostname}:${remoteAddress.port}`);
      // The answer goes straight back to the asker (unicast); the kernel picks our source address.
      await socket.send(JSON.stringify({ name, pid: process.pid }), remoteAddress);
    }
  } else if (role === "find") {
    // Sending to a broadcast address needs SO_BROADCAST: without `broadcast: true` it is EACCES.
    await using socket = await bind({ hostname: "127.0.0.1", broadcast: true });
    await socket.send(QUESTION, { hostname: BROADCAST, port });
    // Answers come from any number of services: collect them for one second.
    const deadline = AbortSignal.timeout(1000);
    const found: string[] = [];
    try {
      for (;;) {
        const { data, remoteAddress } = await socket.receive({ signal: deadline });
        const { name } = JSON.parse(new TextDecoder().decode(data)) as { name: string };
        found.push(name);
        console.log(`found ${name} at ${remoteAddress.hostname}:${remoteAddress.port}`);
      }
    } catch (err) {
      if ((err as Error).name !== "TimeoutError") throw err;
    }
    console.log(`${found.length} service(s) found`);
    if (found.length === 0) process.exitCode = 1;
  } else {
    console.error("usage: udp-discovery.ts announce [port] [name] | find [port]");
    process.exitCode = 2;
  }
});
