import { datagramBind } from "../../core/datagram/bind.ts";
import type { Bind } from "../../core/types.ts";
import { context } from "./context.ts";

/** Workers have no UDP and no Unix sockets: ERR_UNSUPPORTED (EINVAL first for malformed options, as everywhere). */
export const bind: Bind = datagramBind(
  { ...context, lookup: () => Promise.reject(new Error("unreachable: udp is false")) },
  () => {
    throw new Error("unreachable: udp and unixDatagram are false");
  },
);
