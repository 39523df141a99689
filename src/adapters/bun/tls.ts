/*
 * Bun's TLS under the contract: the options Bun.connect / Bun.listen / upgradeTLS take, and the
 * verdict on a finished handshake. connect.ts and listen.ts wait for that verdict before a TLS socket opens.
 * Bun's TLS quirks absorbed here (checked on Bun 1.4.5):
 * - `Bun.connect` resolves, and `open` runs, before the handshake: only the `handshake` handler
 *   tells how it ended. Its `success` is false for a failed handshake and also for a certificate
 *   that failed a check, even with rejectUnauthorized: false (then the connection goes on): the
 *   error's code tells the two apart.
 * - a peer that resets mid-handshake gives no `handshake` call, only `close` with ECONNRESET.
 * - ALPNProtocols takes the wire format (length-prefixed names), not a list.
 * - a server's `handshake` has `success` true and an authorizationError when no client
 *   certificate was asked for: only `authorized` with requestCert means anything.
 * - Bun checks the certificate's name itself (ERR_TLS_CERT_ALTNAME_INVALID), IP literals
 *   included; oven-sh/bun#32359 proposed removing that check, so it is made here again.
 */
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { type ErrorTable, SocketError, TLS_CERT_ERRORS, tlsHandshakeError } from "../../core/errors.ts";
import { ALL_TLS_CAPABILITIES } from "../../core/tls.ts";
import type { SocketInfo, TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import type { BunSocket, BunTlsOptions } from "./_bun.ts";

/**
 * The TLS capabilities of this adapter: all of them. Server STARTTLS is upgradeTLS({ isServer: true })
 * (what Bun's own node:tls uses for new TLSSocket(s, { isServer })); for mutual TLS,
 * Bun.listen({ requestCert, rejectUnauthorized }) refuses a client without a trusted certificate.
 */
export const tlsCapabilities: typeof ALL_TLS_CAPABILITIES = ALL_TLS_CAPABILITIES;

/** What a finished handshake adds to a socket's SocketInfo. */
export type TlsInfo = Pick<SocketInfo, "alpn" | "authorized">;

/** The verdict on a finished handshake: the TLS part of the SocketInfo, or the error to fail with. */
export type HandshakeCheck = (sock: BunSocket<unknown>, success: boolean, error: Error | null) => TlsInfo | SocketError;

const encoder = new TextEncoder();

/** ALPN names in the wire format Bun takes: each one prefixed by its length (checked: 1-255 bytes). */
function alpnWire(protocols: string[]): Uint8Array {
  const names = protocols.map((p) => encoder.encode(p));
  const out = new Uint8Array(names.reduce((n, b) => n + 1 + b.byteLength, 0));
  let at = 0;
  for (const b of names) {
    out[at++] = b.byteLength;
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

export function alpnOf(sock: BunSocket<unknown>): string | null {
  const p = sock.alpnProtocol;
  return typeof p === "string" && p !== "" ? p : null;
}

/** Bun's client options for checked contract options. rejectUnauthorized is always given. */
export function bunClientTls(options: TlsClientOptions): BunTlsOptions {
  const out: BunTlsOptions = { rejectUnauthorized: options.rejectUnauthorized ?? true };
  if (options.serverName !== undefined) out.serverName = options.serverName;
  if (options.ca !== undefined) out.ca = options.ca;
  if (options.cert !== undefined) {
    out.cert = options.cert;
    out.key = options.key;
  }
  if (options.alpn !== undefined) out.ALPNProtocols = alpnWire(options.alpn);
  return out;
}

/** Bun's server options: requestCert refuses a client without a valid certificate. */
export function bunServerTls(options: TlsServerOptions): BunTlsOptions {
  const requestCert = options.requestCert ?? false;
  const out: BunTlsOptions = { cert: options.cert, key: options.key, requestCert, rejectUnauthorized: requestCert };
  if (options.ca !== undefined) out.ca = options.ca;
  if (options.alpn !== undefined) out.ALPNProtocols = alpnWire(options.alpn);
  return out;
}

/**
 * Certificates, keys or CAs Bun could not load (ERR_OSSL_*, ERR_BORINGSSL "Invalid CA"), thrown
 * by Bun.connect / Bun.listen / upgradeTLS before anything is sent: EINVAL. Else null.
 */
export function tlsOptionsError(err: unknown): SocketError | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !(code.startsWith("ERR_OSSL") || code === "ERR_BORINGSSL")) return null;
  const reason = (err as { message?: unknown }).message;
  return new SocketError("EINVAL", `the TLS certificate, key or CA cannot be used: ${String(reason)}`, { cause: err });
}

export function closedDuringHandshake(): SocketError {
  return new SocketError("ERR_TLS_HANDSHAKE", "the peer closed the connection during the TLS handshake");
}

/** A verification failure Bun reports with an OpenSSL code (not a failed handshake). */
function isCertError(err: Error | null): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code in TLS_CERT_ERRORS;
}

/** The name check, made by us as well as by Bun: null when the certificate matches `name`. */
function identityError(sock: BunSocket<unknown>, name: string | undefined): Error | null {
  if (name === undefined) return null;
  const cert = sock.getPeerCertificate() ?? {};
  return checkServerIdentity(name, cert as PeerCertificate) ?? null;
}

/**
 * The client's verdict: the certificate must chain to a trusted CA and match `serverName`, unless
 * rejectUnauthorized is false, which accepts it and says so (`authorized: false`). Used for
 * Bun.connect and for upgradeTLS, so nothing relies on the latter honouring rejectUnauthorized
 * (it did not before 1.4, oven-sh/bun#34798).
 */
export function checkClientHandshake(options: TlsClientOptions, errors: ErrorTable): HandshakeCheck {
  const lenient = options.rejectUnauthorized === false;
  return (sock, success, error) => {
    if (!success && !isCertError(error)) return tlsHandshakeError(error ?? "the TLS handshake failed", errors);
    const nameError = sock.authorized ? identityError(sock, options.serverName) : null;
    const authorized = success && sock.authorized && error === null && nameError === null;
    if (authorized || lenient) return { alpn: alpnOf(sock), authorized };
    if (error !== null) return tlsHandshakeError(error, errors);
    const why = nameError?.message ?? "the server's certificate was not accepted";
    return new SocketError("ERR_TLS_CERT", why, nameError ? { cause: nameError } : {});
  };
}

/**
 * The server's verdict. With requestCert, the client's certificate must chain to `ca`: Bun closes
 * the connection itself when it does not, and the socket is never delivered. Without it, the
 * SocketInfo has no `authorized` (Bun's authorizationError then only says none was sent).
 */
export function checkServerHandshake(options: TlsServerOptions, errors: ErrorTable): HandshakeCheck {
  const requestCert = options.requestCert ?? false;
  return (sock, success, error) => {
    if (!success) return tlsHandshakeError(error ?? "the TLS handshake failed", errors);
    if (!requestCert) return { alpn: alpnOf(sock) };
    if (!sock.authorized) {
      const why = error?.message ?? "it sent none";
      return new SocketError(
        "ERR_TLS_CERT",
        `the client's certificate was refused: ${why}`,
        error ? { cause: error } : {},
      );
    }
    return { alpn: alpnOf(sock), authorized: true };
  };
}
