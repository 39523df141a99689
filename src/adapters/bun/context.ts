import { closeSync, openSync } from "node:fs";
import { type ErrorContext, type ErrorTable, SocketError, toSocketError } from "../../core/errors.ts";
import type { AdapterContext } from "../../core/context.ts";
import type { Capabilities, SocketErrorCode } from "../../core/types.ts";
import { datagramCapabilities } from "./datagram.ts";
import { tlsCapabilities } from "./tls.ts";

/** Bun's own error codes (beyond libc's errno names) and what they mean in the contract. */
export const bunErrors: ErrorTable = {
  DNS_ENOTFOUND: "ENOTFOUND",
  DNS_ENODATA: "ENOTFOUND",
  DNS_ESERVFAIL: "ENOTFOUND",
  DNS_ETIMEOUT: "ETIMEDOUT",
  DNS_ECONNREFUSED: "ENOTFOUND",
  DNS_EBADNAME: "EINVAL",
  ERR_SOCKET_CLOSED: "ECLOSED",
  ERR_INVALID_ARG_VALUE: "EINVAL",
  ERR_INVALID_ARG_TYPE: "EINVAL",
  ERR_SOCKET_BAD_PORT: "EINVAL",
  // BoringSSL's failures on a TLS socket (an alert, a record that is not TLS): the message says
  // which; one about a certificate becomes ERR_TLS_CERT (see toSocketError).
  EPROTO: "ERR_TLS_HANDSHAKE",
};

/**
 * Bun loses the errno of a connect or listen that failed for want of a file descriptor: connect
 * says ECONNREFUSED ("Failed to connect"), listen has no code ("Failed to listen"). Whether the
 * process is out of descriptors is asked of the kernel by opening one, on failures only.
 */
function outOfDescriptors(): boolean {
  try {
    closeSync(openSync("/dev/null", "r"));
    return false;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    return code === "EMFILE" || code === "ENFILE";
  }
}

/** Maps a failed Bun.connect or Bun.listen; EMFILE when the process is out of descriptors (see above). */
export function bunSocketError(err: unknown, context: ErrorContext, fallback: SocketErrorCode): SocketError {
  const e = toSocketError(err, bunErrors, context, fallback);
  if (e.code !== "ECONNREFUSED" && e.code !== fallback) return e;
  if (!outOfDescriptors()) return e;
  return new SocketError("EMFILE", `out of file descriptors (${e.message})`, { cause: err, ...context });
}

/**
 * What Bun's adapter can do here. A `false` means the matching call throws `ERR_UNSUPPORTED`.
 *
 * @example
 * ```ts
 * import { capabilities, listen } from "unisock/bun";
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
  // Bun.listen({ reusePort }) sets SO_REUSEPORT: two listeners share a port (checked on 1.4.5).
  reusePort: true,
  // Bun.listen has no backlog option: the queue is always 512.
  backlog: false,
  // Bun.listen and Bun.udpSocket pass it on as IPV6_V6ONLY (checked on 1.4.5).
  ipv6Only: true,
});

export const context: AdapterContext = { runtime: "bun", errors: bunErrors, capabilities };
