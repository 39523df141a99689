import type { ErrorTable } from "../../core/errors.ts";
import type { AdapterContext } from "../../core/context.ts";
import type { Capabilities } from "../../core/types.ts";
import { nodeTlsErrors } from "../_node/tls.ts";
import { datagramCapabilities } from "./datagram.ts";
import { tlsCapabilities } from "./tls.ts";

/** Node's own error codes (beyond libc's errno names) and what they mean in the contract. */
export const nodeErrors: ErrorTable = {
  ...nodeTlsErrors,
  ERR_SOCKET_DGRAM_NOT_RUNNING: "ECLOSED",
  ERR_SERVER_NOT_RUNNING: "ECLOSED",
  ERR_SOCKET_BAD_PORT: "EINVAL",
  ERR_INVALID_ARG_VALUE: "EINVAL",
  ERR_INVALID_ARG_TYPE: "EINVAL",
  ERR_INVALID_IP_ADDRESS: "EINVAL",
  ERR_SOCKET_BAD_BUFFER_SIZE: "EINVAL",
  ERR_SOCKET_DGRAM_IS_CONNECTED: "EINVAL",
  ERR_SOCKET_DGRAM_NOT_CONNECTED: "EINVAL",
  ERR_SOCKET_CONNECTION_TIMEOUT: "ETIMEDOUT",
};

/**
 * What Node's adapter can do here. A `false` means the matching call throws `ERR_UNSUPPORTED`.
 *
 * @example
 * ```ts
 * import { capabilities, listen } from "unisock/node";
 * const l = await listen({ port: 0, reusePort: capabilities.reusePort });
 * ```
 */
export const capabilities: Capabilities = Object.freeze({
  ...datagramCapabilities,
  ...tlsCapabilities,
  listen: true,
  socketOptions: true,
  unixStream: true,
  reset: true,
  keepAliveDelay: true,
  reusePort: true,
  backlog: true,
  ipv6Only: true,
});

export const context: AdapterContext = { runtime: "node", errors: nodeErrors, capabilities };
