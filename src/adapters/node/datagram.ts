/*
 * Datagrams on Node: node:dgram (driven by ../_node/dgram.ts, which the Deno and Bun adapters share).
 */
import { datagramBind } from "../../core/datagram/bind.ts";
import type { Bind } from "../../core/types.ts";
import { dnsLookup, nodeDgramErrors, openNodeDgram } from "../_node/dgram.ts";

/** The datagram capabilities of this adapter (see Capabilities). Node has no Unix datagram sockets. */
export const datagramCapabilities = {
  udp: true,
  unixDatagram: false,
  broadcast: true,
  multicast: true,
  connectedDatagram: true,
  // libuv receives into 64 KiB, more than any UDP payload: nothing is ever cut, and `truncated` is always false truthfully.
  truncationFlag: true,
  datagramTTL: true,
  icmpErrors: true,
  datagramBufferSizes: true,
} as const;

/**
 * Opens a UDP socket with Node's adapter (node:dgram); `bind({ path })`, a Unix datagram socket,
 * is ERR_UNSUPPORTED on Node. Resolves once bound; `localAddress` has the port the system chose
 * for port 0.
 *
 * @example
 * ```ts
 * import { bind } from "unisock/node";
 * await using udp = await bind({ hostname: "127.0.0.1" });
 * await udp.send("ping", { hostname: "127.0.0.1", port: 9999 });
 * for await (const { data, remoteAddress } of udp) console.log(data.length, remoteAddress);
 * ```
 */
export const bind: Bind = datagramBind(
  { runtime: "node", errors: nodeDgramErrors, capabilities: datagramCapabilities, lookup: dnsLookup },
  (plan, sink) => {
    if (plan.kind !== "udp") throw new Error("unreachable: unixDatagram is false");
    return openNodeDgram(plan, sink);
  },
);
