import type { SocketErrorCode } from "./types.ts";

/** Positive Linux errno values, for codes whose native error carries none. */
const ERRNO: Partial<Record<SocketErrorCode, number>> = {
  ECONNREFUSED: 111,
  ECONNRESET: 104,
  EPIPE: 32,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENOENT: 2,
  EACCES: 13,
  ETIMEDOUT: 110,
  EHOSTUNREACH: 113,
  ENETUNREACH: 101,
  EMSGSIZE: 90,
  EMFILE: 24,
  EINVAL: 22,
};

/** Where an error happened; copied onto the SocketError. */
export interface ErrorContext {
  /**
   * The operation that failed, as Node names it (`"connect"`, `"listen"`, `"bind"`, `"send"`, ...).
   */
  syscall?: string;
  /** The address involved: a hostname, an IP or a Unix socket path. */
  address?: string;
  /** The port involved. */
  port?: number;
}

/** The third argument of `new SocketError(code, message, options)`. */
export interface SocketErrorOptions extends ErrorContext {
  /**
   * The system's error number; stored positive. Default: Linux's number for `code`, where it has one.
   */
  errno?: number;
  /** The runtime's own error, kept as `cause`. */
  cause?: unknown;
}

/**
 * The one error type of unisock: `code` is the contract's, the same on every runtime.
 *
 * Every failure of the library is a `SocketError`: refused connections, resets, bad arguments
 * (`EINVAL`, thrown synchronously where the call is synchronous), TLS failures, and calls this
 * runtime cannot do (`ERR_UNSUPPORTED`, see `capabilities`). An abort rejects with the signal's
 * reason instead.
 *
 * @example Telling failures apart
 * ```ts
 * import { connect, SocketError } from "unisock";
 * try {
 *   await connect("127.0.0.1:1").opened;
 * } catch (err) {
 *   if (err instanceof SocketError && err.code === "ECONNREFUSED") console.log("nobody there");
 *   else throw err;
 * }
 * ```
 */
export class SocketError extends Error {
  /** Always `"SocketError"`. */
  override name = "SocketError";
  /** What went wrong, the same code on every runtime. */
  readonly code: SocketErrorCode;
  /** The operation that failed, where known. */
  syscall?: string;
  /** The address involved, where known. */
  address?: string;
  /** The port involved, where known. */
  port?: number;
  /** The system's error number (positive), where there is one. */
  errno?: number;

  /**
   * A SocketError with the contract's `code`.
   *
   * @param code The contract's code; the message becomes `"<code>: <message>"`.
   * @param message What happened, for people.
   * @param options Where it happened, the errno, and the runtime's own error as `cause`.
   */
  constructor(code: SocketErrorCode, message: string, options: SocketErrorOptions = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    const errno = options.errno ?? ERRNO[code];
    if (errno !== undefined) this.errno = Math.abs(errno);
    if (options.syscall !== undefined) this.syscall = options.syscall;
    if (options.address !== undefined) this.address = options.address;
    if (options.port !== undefined) this.port = options.port;
  }
}

/**
 * The key, in a runtime's error table, of the messages that mean a certificate was refused, for a
 * TLS library whose errors carry no code (Deno's rustls): an error mapped to ERR_TLS_HANDSHAKE
 * whose message matches becomes ERR_TLS_CERT. Core itself knows only OpenSSL's wording.
 */
export const CERT_MESSAGES: unique symbol = Symbol("certMessages");

/** A table from a runtime's native error codes (or error class names) to the contract's codes. */
export type ErrorTable = Readonly<Record<string, SocketErrorCode>> & { readonly [CERT_MESSAGES]?: RegExp };

/** System error codes every runtime reports with the same name (libc's names). */
export const SYSTEM_ERRORS: ErrorTable = {
  ECONNREFUSED: "ECONNREFUSED",
  ECONNRESET: "ECONNRESET",
  ECONNABORTED: "ECONNRESET",
  EPIPE: "EPIPE",
  ENOTCONN: "EPIPE",
  ESHUTDOWN: "EPIPE",
  EADDRINUSE: "EADDRINUSE",
  EADDRNOTAVAIL: "EADDRNOTAVAIL",
  ENOENT: "ENOENT",
  ENOTSOCK: "ENOENT",
  EACCES: "EACCES",
  EPERM: "EACCES",
  ETIMEDOUT: "ETIMEDOUT",
  EHOSTUNREACH: "EHOSTUNREACH",
  EHOSTDOWN: "EHOSTUNREACH",
  ENETUNREACH: "ENETUNREACH",
  ENETDOWN: "ENETUNREACH",
  EMSGSIZE: "EMSGSIZE",
  EMFILE: "EMFILE",
  ENFILE: "EMFILE",
  ENOTFOUND: "ENOTFOUND",
  EAI_NONAME: "ENOTFOUND",
  EAI_AGAIN: "ENOTFOUND",
  EAI_FAIL: "ENOTFOUND",
  EAI_NODATA: "ENOTFOUND",
  EINVAL: "EINVAL",
  ENAMETOOLONG: "EINVAL",
  EAFNOSUPPORT: "EINVAL",
  EBADF: "ECLOSED",
};

/** OpenSSL's verification failures, as Node and Bun name them: all mean "certificate not accepted". */
export const TLS_CERT_ERRORS: ErrorTable = Object.fromEntries(
  [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
    "CERT_REVOKED",
    "CERT_UNTRUSTED",
    "CERT_REJECTED",
    "CERT_SIGNATURE_FAILURE",
    "INVALID_CA",
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "HOSTNAME_MISMATCH",
    "ERR_TLS_CERT_ALTNAME_FORMAT",
  ].map((code) => [code, "ERR_TLS_CERT" as const]),
);

/** A refused certificate, in OpenSSL's words (Node's, Bun's and Deno's node:tls). */
const CERT_MESSAGE = /certificate|self[- ]signed|issuer|expired|altname/i;

function isCertMessage(message: string, table: ErrorTable): boolean {
  return CERT_MESSAGE.test(message) || table[CERT_MESSAGES]?.test(message) === true;
}

function field(err: unknown, key: string): unknown {
  return typeof err === "object" && err !== null ? (err as Record<string, unknown>)[key] : undefined;
}

/**
 * Turns a runtime's native error into a SocketError. `table` is the runtime's own table (its
 * native codes and error class names); system errno names are shared. An unknown error keeps its
 * message and becomes `fallback`, with the original as `cause`: never swallowed.
 */
export function toSocketError(
  err: unknown,
  table: ErrorTable,
  context: ErrorContext = {},
  fallback: SocketErrorCode = "ECONNRESET",
): SocketError {
  if (err instanceof SocketError) return err;
  const nativeCode = field(err, "code");
  const name = field(err, "name");
  const message = String(field(err, "message") ?? err);
  let code: SocketErrorCode | undefined;
  if (typeof nativeCode === "string") {
    code = table[nativeCode] ?? SYSTEM_ERRORS[nativeCode] ?? TLS_CERT_ERRORS[nativeCode];
  }
  if (code === undefined && typeof name === "string") code = table[name];
  if (code === "ERR_TLS_HANDSHAKE" && isCertMessage(message, table)) code = "ERR_TLS_CERT";
  const errno = field(err, "errno");
  const syscall = field(err, "syscall");
  return new SocketError(code ?? fallback, message, {
    cause: err,
    errno:
      typeof errno === "number" && errno !== 0 && code !== undefined && !code.startsWith("ERR_") ? errno : undefined,
    syscall: context.syscall ?? (typeof syscall === "string" ? syscall : undefined),
    address: context.address,
    port: context.port,
  });
}

/**
 * A failure between the TCP connect and the end of the TLS handshake: a certificate the client
 * refused (or the peer refused ours) is ERR_TLS_CERT, anything else (a peer that speaks no TLS,
 * closes or resets mid-handshake, shares no protocol) ERR_TLS_HANDSHAKE, with the native error as
 * `cause`. Never the ECONNRESET a runtime reports for a peer that hung up mid-handshake.
 */
export function tlsHandshakeError(err: unknown, table: ErrorTable): SocketError {
  const e = toSocketError(err, table, {}, "ERR_TLS_HANDSHAKE");
  if (e.code === "ERR_TLS_CERT") return e;
  const message = String(field(err, "message") ?? err);
  const code = isCertMessage(message, table) ? "ERR_TLS_CERT" : "ERR_TLS_HANDSHAKE";
  return code === e.code ? e : new SocketError(code, message, { cause: err });
}

/** The error for any use of a socket after `close()`. */
export function closedError(what = "the socket is closed"): SocketError {
  return new SocketError("ECLOSED", what);
}

/** The error for a feature this runtime's adapter cannot provide (see `capabilities`). */
export function unsupported(what: string, runtime: string): SocketError {
  return new SocketError("ERR_UNSUPPORTED", `${what} is not supported on ${runtime}`);
}

export function invalid(message: string): SocketError {
  return new SocketError("EINVAL", message);
}
