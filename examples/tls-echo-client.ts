/**
 * TLS echo client: connects with TLS, checks the server's certificate against a CA, sends a line
 * and prints the echo.
 *
 *   node --conditions=unisock-source examples/tls-echo-client.ts [host:port] [message...]
 *   deno run -A examples/tls-echo-client.ts [host:port] [message...]
 *   bun --conditions=unisock-source examples/tls-echo-client.ts [host:port] [message...]
 *
 * Address from argv, then $HOST and $PORT, then 127.0.0.1:7443. The server's certificate must
 * chain to the PEM CA in $TLS_CA, by default the repository's test CA (test/fixtures/tls/ca.pem),
 * and match the name connected to (or $TLS_SERVERNAME).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { connect } from "unisock";
import { clientAddress, run } from "./_cli.ts";

const message = process.argv.slice(3).join(" ") || "hello over TLS";
const caFile = process.env.TLS_CA ?? fileURLToPath(new URL("../test/fixtures/tls/ca.pem", import.meta.url));

await run(async () => {
  const ca = readFileSync(caFile, "utf8");
  const tls = { ca, alpn: ["echo"], ...(process.env.TLS_SERVERNAME ? { serverName: process.env.TLS_SERVERNAME } : {}) };
  await using socket = connect(clientAddress(process.argv[2], 7443), { secureTransport: "on", tls });
  // opened resolves after the handshake and the certificate check: ERR_TLS_CERT if it fails.
  const { remoteAddress, alpn } = await socket.opened;
  if (remoteAddress.transport !== "unix")
    console.error(`connected to ${remoteAddress.hostname}:${remoteAddress.port} over TLS (ALPN ${alpn ?? "none"})`);

  const out = new TextEncoder().encode(`${message}\n`);
  await socket.write(out);
  // An echo is exactly as long as what we sent: read that many bytes, then close (close_notify).
  const back = new Uint8Array(out.byteLength);
  for (let got = 0; got < back.byteLength; ) {
    const n = await socket.read(back.subarray(got));
    if (n === null) throw new Error(`the server closed after ${got} of ${back.byteLength} bytes`);
    got += n;
  }
  process.stdout.write(back);
});
