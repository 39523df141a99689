import { type ErrorContext, type ErrorTable, SocketError, toSocketError } from "../../core/errors.ts";
import type { AdapterContext } from "../../core/context.ts";
import type { Capabilities, SocketErrorCode } from "../../core/types.ts";

/**
 * workerd's socket errors are plain `Error`s told apart only by their message (no code, no errno),
 * so the table is empty and `workerdError` reads the message.
 */
export const workerdErrors: ErrorTable = {};

/**
 * workerd reports a refused connection, a failed name lookup and a failed TLS handshake alike:
 * "proxy request failed, cannot connect to the specified address". stream.ts tells a TLS failure
 * apart by connecting again without TLS.
 */
export const CANNOT_CONNECT: RegExp = /cannot connect to the specified address/i;
const MESSAGES: [RegExp, SocketErrorCode][] = [
  [CANNOT_CONNECT, "ECONNREFUSED"],
  // Port 25, and addresses a deployment may not reach (Cloudflare's own ranges).
  [/prohibited|not permitted|not allowed|disallowed/i, "EACCES"],
  [/connection lost|connection reset|disconnected/i, "ECONNRESET"],
  [/has been closed|is closed|closing/i, "EPIPE"],
];

/** Maps a native workerd error by its message; unknown ones become `fallback`, with the original as cause. */
export function workerdError(
  err: unknown,
  context: ErrorContext = {},
  fallback: SocketErrorCode = "ECONNRESET",
): SocketError {
  if (err instanceof SocketError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = MESSAGES.find(([re]) => re.test(message))?.[1];
  return code === undefined
    ? toSocketError(err, workerdErrors, context, fallback)
    : new SocketError(code, message, { cause: err, ...context });
}

/**
 * What the workerd adapter can do: TCP and TLS clients (with STARTTLS), nothing else. Workers
 * cannot listen, have no UDP and no Unix sockets, cannot present a client certificate, offer no
 * ALPN, cannot reset a connection and set no socket options.
 *
 * @example
 * ```ts
 * import { capabilities, connect } from "unisock/workerd";
 * if (!capabilities.listen) console.log("a client only");
 * ```
 */
export const capabilities: Capabilities = Object.freeze({
  listen: false,
  udp: false,
  unixStream: false,
  unixDatagram: false,
  tls: true,
  startTls: true,
  serverStartTls: false,
  mutualTls: false,
  alpn: false,
  reset: false,
  socketOptions: false,
  keepAliveDelay: false,
  reusePort: false,
  backlog: false,
  ipv6Only: false,
  broadcast: false,
  multicast: false,
  connectedDatagram: false,
  truncationFlag: false,
  datagramTTL: false,
  icmpErrors: false,
  datagramBufferSizes: false,
});

export const context: AdapterContext = { runtime: "workerd", errors: workerdErrors, capabilities };
