/** The workerd adapter: Cloudflare Workers' `cloudflare:sockets` under the unisock contract (a client only). */
export * from "../../core/public.ts";
export { capabilities } from "./context.ts";
export { bind } from "./datagram.ts";
export { connect, listen } from "./stream.ts";

/** The runtime this adapter is for: `"workerd"`. */
export const runtime: "workerd" = "workerd";
