/**
 * unisock for Cloudflare Workers (workerd): the unisock socket API over `connect()` of
 * `cloudflare:sockets`. A client only: TCP and TLS connections (with STARTTLS); `listen` and
 * `bind` throw ERR_UNSUPPORTED, as `capabilities` says. Sockets must be opened while a request (or
 * another event) is handled, and live no longer than it.
 *
 * @example A request and its reply, from a Worker
 * ```ts
 * import { connect } from "unisock/workerd";
 *
 * export default {
 *   async fetch(): Promise<Response> {
 *     await using socket = connect({ hostname: "tcpbin.example", port: 4242 });
 *     await socket.write("hello\n");
 *     const reply = new Uint8Array(64);
 *     const n = await socket.read(reply);
 *     return new Response(reply.subarray(0, n ?? 0));
 *   },
 * };
 * ```
 *
 * @module
 */
export * from "./adapters/workerd/index.ts";
