import { unsupported } from "../../core/errors.ts";
import type { BindOptions, DatagramSocket } from "../../core/types.ts";

/** The datagram capabilities of this adapter (see Capabilities). */
export const datagramCapabilities = {
  udp: false,
  unixDatagram: false,
  broadcast: false,
  multicast: false,
  connectedDatagram: false,
  truncationFlag: false,
} as const;

export function bind(_options?: BindOptions): Promise<DatagramSocket> {
  return Promise.reject(unsupported("UDP", "node"));
}
