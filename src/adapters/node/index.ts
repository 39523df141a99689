/** The Node adapter: node:net, node:tls and node:dgram under the unisock contract. */
export * from "../../core/public.ts";
export { capabilities } from "./context.ts";
export { bind } from "./datagram.ts";
export { connect } from "./connect.ts";
export { listen } from "./listen.ts";

/** The runtime this adapter is for: `"node"`. */
export const runtime: "node" = "node";
