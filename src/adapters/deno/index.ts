/** The Deno adapter: the runtime's native socket API under the unisock contract. */
export * from "../../core/public.ts";
export { capabilities } from "./context.ts";
export { bind } from "./datagram.ts";
export { connect } from "./connect.ts";
export { listen } from "./listen.ts";

/** The runtime this adapter is for: `"deno"`. */
export const runtime: "deno" = "deno";
