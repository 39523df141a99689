/*
 * Datagrams on Node: node:dgram (driven by ../_node/dgram.ts, which the Deno and Bun adapters share).
 */
import { bindDatagram } from "../../core/datagram/bind.ts";
import type { DatagramContext } from "../../core/datagram/transport.ts";
import type { BindOptions, DatagramSocket, NetAddr, UnixAddr, UnixBindOptions } from "../../core/types.ts";
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

const context: DatagramContext = {
  runtime: "node",
  errors: nodeDgramErrors,
  capabilities: datagramCapabilities,
  lookup: dnsLookup,
};

/** `bind({ path })` is a Unix datagram socket (not on Node: ERR_UNSUPPORTED); anything else UDP. */
export function bind(options: UnixBindOptions): Promise<DatagramSocket<UnixAddr>>;
/**
 * Opens a UDP socket with Node's adapter (node:dgram).
 * Resolves once bound; `localAddress` has the port the system chose for port 0.
 *
 * @param options Where to bind (default `0.0.0.0`, an ephemeral port), a peer to `connect` to, and socket options.
 *
 * @example
 * ```ts
 * import { bind } from "unisock/node";
 * await using udp = await bind({ hostname: "127.0.0.1" });
 * await udp.send("ping", { hostname: "127.0.0.1", port: 9999 });
 * for await (const { data, remoteAddress } of udp) console.log(data.length, remoteAddress);
 * ```
 */
export function bind(options?: BindOptions): Promise<DatagramSocket>;
export function bind(options?: BindOptions | UnixBindOptions): Promise<DatagramSocket<NetAddr> | DatagramSocket<UnixAddr>> {
  return bindDatagram(context, options, (plan, sink) => {
    if (plan.kind !== "udp") throw new Error("unreachable: unixDatagram is false");
    return openNodeDgram(plan, sink);
  });
}
