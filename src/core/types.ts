/**
 * The public API of unisock: the contract every adapter implements the same way.
 * Declarations only; behaviour lives in the other core files and the adapters.
 */

export type * from "./types/capabilities.ts";
export type * from "./types/common.ts";
export type * from "./types/datagram.ts";
export type * from "./types/listener.ts";
export type * from "./types/stream.ts";
export type * from "./types/tls.ts";
