/**
 * unisock for Node: one socket API for TCP, Unix sockets, TLS (with STARTTLS) and UDP, over
 * node:net, node:tls and node:dgram.
 *
 * Every entry (`unisock`, `unisock/node`, `unisock/deno`, `unisock/bun`) exports the same names
 * with the same types: `connect`, `listen`, `bind`, `capabilities`, `runtime`, `SocketError`, the
 * framing helpers and the contract's types. `unisock` picks the adapter of the runtime it runs on;
 * this entry names Node's explicitly.
 *
 * @example An echo server and a client
 * ```ts
 * import { connect, listen } from "unisock/node";
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
export * from "./adapters/node/index.ts";
