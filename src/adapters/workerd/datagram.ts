import { bindDatagram } from "../../core/datagram/bind.ts";
import type { BindOptions, DatagramSocket, NetAddr, UnixAddr, UnixBindOptions } from "../../core/types.ts";
import { context } from "./context.ts";

/** Workers have no UDP and no Unix sockets: ERR_UNSUPPORTED (EINVAL first for malformed options, as everywhere). */
export function bind(options: UnixBindOptions): Promise<DatagramSocket<UnixAddr>>;
/** Workers have no UDP: ERR_UNSUPPORTED. */
export function bind(options?: BindOptions): Promise<DatagramSocket>;
export function bind(options?: BindOptions | UnixBindOptions): Promise<DatagramSocket<NetAddr> | DatagramSocket<UnixAddr>> {
  return bindDatagram({ ...context, lookup: () => Promise.reject(new Error("unreachable: udp is false")) }, options, () => {
    throw new Error("unreachable: udp and unixDatagram are false");
  });
}
