/**
 * unisock: one socket API for TCP, Unix sockets, TLS and UDP on Node, Deno and Bun.
 *
 * This entry picks the adapter of the runtime it runs on, for registries without export
 * conditions (JSR's `"."`): it checks `globalThis.Deno`, then `globalThis.Bun`, else Node, and
 * loads only that adapter, so no other runtime's globals are touched. `runtime` says which one
 * it picked. To name one explicitly, import `./node`, `./deno` or `./bun` instead.
 *
 * @example An echo server and a client
 * ```ts
 * import { connect, listen } from "@unisock/unisock";
 *
 * await using server = await listen({ hostname: "127.0.0.1", port: 0 });
 * (async () => {
 *   for await (const conn of server) conn.readable.pipeTo(conn.writable).catch(() => {});
 * })();
 *
 * const { port } = server.addr as { port: number };
 * await using socket = connect({ hostname: "127.0.0.1", port });
 * await socket.opened;
 * await socket.write("hello");
 * const buf = new Uint8Array(5);
 * await socket.read(buf);
 * ```
 *
 * @module
 */
import type {
  Bind,
  Capabilities,
  ConnectAddress,
  ConnectOptions,
  Listener,
  ListenOptions,
  Runtime,
  Socket,
} from "./core/types.ts";

export * from "./core/public.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const adapter =
  g.Deno !== undefined
    ? await import("./deno.ts")
    : g.Bun !== undefined
      ? await import("./bun.ts")
      : await import("./node.ts");

/**
 * Opens a TCP, Unix or TLS connection with the running runtime's adapter. Returns at once;
 * failures surface through `opened` as a {@linkcode SocketError}.
 *
 * @example
 * ```ts
 * import { connect } from "@unisock/unisock";
 * await using s = connect("example.com:443", { secureTransport: "on" });
 * const { alpn } = await s.opened;
 * ```
 */
export const connect: (address: ConnectAddress, options?: ConnectOptions) => Socket = adapter.connect;

/**
 * Listens for TCP, Unix or TLS connections with the running runtime's adapter.
 *
 * @example
 * ```ts
 * import { listen } from "@unisock/unisock";
 * await using l = await listen({ port: 0 });
 * for await (const conn of l) conn.readable.pipeTo(conn.writable).catch(() => {});
 * ```
 */
export const listen: (options?: ListenOptions) => Promise<Listener> = adapter.listen;

/**
 * Opens a datagram socket (UDP, or Unix with `{ path }`) with the running runtime's adapter.
 *
 * @example
 * ```ts
 * import { bind } from "@unisock/unisock";
 * await using udp = await bind({ hostname: "127.0.0.1" });
 * await udp.send("ping", { hostname: "127.0.0.1", port: 9999 });
 * ```
 */
export const bind: Bind = adapter.bind;

/** What the running runtime's adapter can do; a `false` means the matching call throws `ERR_UNSUPPORTED`. */
export const capabilities: Capabilities = adapter.capabilities;

/** The runtime whose adapter this entry picked: `"node"`, `"deno"` or `"bun"`. */
export const runtime: Runtime = adapter.runtime;
