import type { ErrorTable } from "../../core/errors.ts";
import type { AdapterContext } from "../../core/context.ts";
import type { Capabilities } from "../../core/types.ts";
import { datagramCapabilities } from "./datagram.ts";
import { tlsCapabilities } from "./tls.ts";

/** Node's own error codes (beyond libc's errno names) and what they mean in the contract. */
export const nodeErrors: ErrorTable = {
  ERR_SOCKET_CLOSED: "ECLOSED",
  ERR_STREAM_DESTROYED: "ECLOSED",
  ERR_SOCKET_DGRAM_NOT_RUNNING: "ECLOSED",
  ERR_SERVER_NOT_RUNNING: "ECLOSED",
  ERR_STREAM_WRITE_AFTER_END: "EPIPE",
  ERR_STREAM_PREMATURE_CLOSE: "ECONNRESET",
  ERR_SOCKET_BAD_PORT: "EINVAL",
  ERR_INVALID_ARG_VALUE: "EINVAL",
  ERR_INVALID_ARG_TYPE: "EINVAL",
  ERR_INVALID_IP_ADDRESS: "EINVAL",
  ERR_SOCKET_BAD_BUFFER_SIZE: "EINVAL",
  ERR_SOCKET_DGRAM_IS_CONNECTED: "EINVAL",
  ERR_SOCKET_DGRAM_NOT_CONNECTED: "EINVAL",
  ERR_SOCKET_CONNECTION_TIMEOUT: "ETIMEDOUT",
  ERR_SSL_WRONG_VERSION_NUMBER: "ERR_TLS_HANDSHAKE",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: "ERR_TLS_HANDSHAKE",
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: "ERR_TLS_HANDSHAKE",
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: "ERR_TLS_HANDSHAKE",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "ERR_TLS_CERT",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "ERR_TLS_CERT",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: "ERR_TLS_CERT",
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "ERR_TLS_CERT",
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: "ERR_TLS_CERT",
  ERR_TLS_HANDSHAKE_TIMEOUT: "ERR_TLS_HANDSHAKE",
  ECONNRESET_TLS: "ERR_TLS_HANDSHAKE",
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
