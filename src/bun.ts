/**
 * unisock for Bun: one socket API for TCP, Unix sockets, TLS (with STARTTLS) and UDP, over
 * Bun.connect, Bun.listen and Bun.udpSocket.
 *
 * Every entry (`unisock`, `unisock/node`, `unisock/deno`, `unisock/bun`) exports the same names
 * with the same types: `connect`, `listen`, `bind`, `capabilities`, `runtime`, `SocketError`, the
 * framing helpers and the contract's types. `unisock` picks the adapter of the runtime it runs on;
 * this entry names Bun's explicitly.
 *
 * @example An echo server and a client
 * ```ts
 * import { connect, listen } from "unisock/bun";
 *
 * await using server = await listen({ hostname: "127.0.0.1", port: 0 });
 * (async () => {
 *   for await (const conn of server) conn.readable.pipeTo(conn.writable).catch(() => {});
 * })();
 *
 * if (server.addr.transport === "unix") throw new Error("listening on TCP");
 * await using socket = connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await socket.write("hello");
 * const reply = new Uint8Array(5);
 * await socket.read(reply);
 * ```
 *
 * @module
 */
export * from "./adapters/bun/index.ts";
