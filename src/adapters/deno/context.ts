import { CERT_MESSAGES, type ErrorContext, type ErrorTable, SocketError, toSocketError } from "../../core/errors.ts";
import type { AdapterContext } from "../../core/context.ts";
import type { Capabilities, SocketErrorCode } from "../../core/types.ts";
import { nodeTlsErrors } from "../_node/tls.ts";
import { deno } from "./_deno.ts";
import { datagramCapabilities } from "./datagram.ts";
import { tlsCapabilities } from "./tls.ts";

/**
 * Deno's errors are `Deno.errors.*` classes. Those made from an OS error also carry libc's `code`
 * (ConnectionRefused has "ECONNREFUSED", Interrupted has "EINTR", ...), which the shared table
 * maps; the rest have no code (BadResource, InvalidData, NotCapable, Busy) and are found here by
 * their class name.
 */
export const denoErrors: ErrorTable = {
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNRESET",
  UnexpectedEof: "ECONNRESET",
  BrokenPipe: "EPIPE",
  NotConnected: "EPIPE",
  WriteZero: "EPIPE",
  AddrInUse: "EADDRINUSE",
  AlreadyExists: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  NotFound: "ENOENT",
  PermissionDenied: "EACCES",
  // A missing --allow-net / --allow-read / --allow-write flag.
  NotCapable: "EACCES",
  TimedOut: "ETIMEDOUT",
  NetworkUnreachable: "ENETUNREACH",
  // Use of a closed resource, and an operation cut short by close().
  BadResource: "ECLOSED",
  Interrupted: "ECLOSED",
  // Two operations of a kind at once on one resource ("already in use").
  Busy: "EINVAL",
  NotSupported: "ERR_UNSUPPORTED",
  // rustls' errors, with no code; a certificate failure says so in its message (see toSocketError).
  InvalidData: "ERR_TLS_HANDSHAKE",
  // rustls' words for a refused certificate that OpenSSL's (core's) do not cover.
  [CERT_MESSAGES]: /not valid for name|NotValidForName/i,
  // Deno's node:tls, which runs the TLS that Deno's namespace cannot (see tls.ts): Node's codes.
  ...nodeTlsErrors,
};

/** Deno reports a failed name lookup as a plain Error with no code. */
const LOOKUP_FAILED = /failed to lookup address|name or service not known|no address associated/i;

/** Maps a native Deno error; like `toSocketError`, plus the lookup failures Deno leaves unnamed. */
export function denoError(
  err: unknown,
  context: ErrorContext = {},
  fallback: SocketErrorCode = "ECONNRESET",
): SocketError {
  if (err instanceof Error && err.name === "Error" && LOOKUP_FAILED.test(err.message)) {
    return new SocketError("ENOTFOUND", err.message, { cause: err, syscall: "getaddrinfo", address: context.address });
  }
  return toSocketError(err, denoErrors, context, fallback);
}

/**
 * `Deno.listen({ reusePort: true })` without --unstable-net prints a warning and exits the process
 * with code 70, which no try/catch sees; `Deno.listenDatagram` exists exactly when that flag is on.
 */
const unstableNet = typeof deno?.listenDatagram === "function";

/** `tcpBacklog` arrived in Deno 2.5 (denoland/deno#30541); before, Deno.listen ignored it silently. */
function hasTcpBacklog(): boolean {
  const [major = 0, minor = 0] = (deno?.version.deno ?? "0.0").split(".").map(Number);
  return major > 2 || (major === 2 && minor >= 5);
}

/**
 * What Deno's adapter can do here. A `false` means the matching call throws `ERR_UNSUPPORTED`.
 *
 * @example
 * ```ts
 * import { capabilities, listen } from "unisock/deno";
 * const l = await listen({ port: 0, reusePort: capabilities.reusePort });
 * ```
 */
export const capabilities: Capabilities = Object.freeze({
  ...datagramCapabilities,
  ...tlsCapabilities,
  listen: true,
  socketOptions: true,
  unixStream: true,
  // Deno.Conn has no SO_LINGER, and its close() sends FIN before any RST could follow: a
  // connection can only be closed, never reset (docs/runtimes.md has the probe and the cost of
  // Deno's node:net, which can).
  reset: false,
  // Deno's TcpConn.setKeepAlive takes no delay: the kernel's tcp_keepalive_time applies.
  keepAliveDelay: false,
  reusePort: unstableNet,
  // TCP only: a Unix listener's queue is fixed by Deno (see listen.ts).
  backlog: hasTcpBacklog(),
  // Deno.listen has no ipv6Only: "::" is always dual-stack (and Deno's node:net ignores the option).
  ipv6Only: false,
});

export const context: AdapterContext = { runtime: "deno", errors: denoErrors, capabilities };
