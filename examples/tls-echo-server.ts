/**
 * TLS echo server: every byte a client sends over TLS comes straight back.
 *
 *   node --conditions=unisock-source examples/tls-echo-server.ts [port]
 *   deno run -A examples/tls-echo-server.ts [port]
 *   bun --conditions=unisock-source examples/tls-echo-server.ts [port]
 *
 * Port from argv, then $PORT, then 7443; address from $HOST (default 127.0.0.1). The certificate
 * and key are PEM files from $TLS_CERT and $TLS_KEY, by default the repository's test certificate
 * for localhost, 127.0.0.1 and ::1 (test/fixtures/tls, signed by the test CA ca.pem there).
 * Try `openssl s_client -connect 127.0.0.1:7443 -CAfile test/fixtures/tls/ca.pem -quiet`,
 * or examples/tls-echo-client.ts.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { listen, type Socket } from "unisock";
import { run, serverPort } from "./_cli.ts";

const hostname = process.env.HOST ?? "127.0.0.1";
const fixture = (name: string): string => fileURLToPath(new URL(`../test/fixtures/tls/${name}`, import.meta.url));

await run(async () => {
  const cert = readFileSync(process.env.TLS_CERT ?? fixture("server.pem"), "utf8");
  const key = readFileSync(process.env.TLS_KEY ?? fixture("server-key.pem"), "utf8");
  // A client that stalls in its handshake is dropped after 10 s (handshakeTimeoutMs, the default).
  const listener = await listen({
    hostname,
    port: serverPort(process.argv[2], 7443),
    tls: { cert, key, alpn: ["echo"] },
  });
  if (listener.addr.transport === "unix") throw new Error("unreachable: listening on TCP");
  console.log(`tls echo server listening on ${listener.addr.hostname}:${listener.addr.port}`);

  for await (const socket of listener) void echo(socket);
});

async function echo(socket: Socket): Promise<void> {
  try {
    // opened resolves once the handshake is done; a client that fails it rejects here.
    const { remoteAddress, alpn } = await socket.opened;
    const who =
      remoteAddress.transport === "unix" ? remoteAddress.path : `${remoteAddress.hostname}:${remoteAddress.port}`;
    console.log(`${who} connected (ALPN ${alpn ?? "none"})`);
    // The read/write path: read() resolves null at the client's close_notify or FIN.
    const buf = new Uint8Array(16 * 1024);
    for (let n = await socket.read(buf); n !== null; n = await socket.read(buf)) await socket.write(buf.subarray(0, n));
  } catch (err) {
    console.error("connection failed:", err instanceof Error ? err.message : err);
  } finally {
    await socket.close();
  }
}
