/** The Bun adapter: the runtime's native socket API under the unisock contract. */
export * from "../../core/public.ts";
export { capabilities } from "./context.ts";
export { bind } from "./datagram.ts";
export { connect, listen } from "./stream.ts";

export const runtime: "bun" = "bun";
