/*
 * node:tls under the contract. A client connection is a node:net socket first, wrapped by
 * `tls.connect({ socket })` once TCP is up: one path for "on" and "starttls", TCP errors keep
 * their codes, handshake errors become ERR_TLS_CERT / ERR_TLS_HANDSHAKE. A server side runs in a
 * tls.Server, listening (`listen({ tls })`) or handed one socket through its 'connection' event
 * (`startTls({ server })`, in starttls.ts with the rest of STARTTLS), because only tls.Server
 * checks a client certificate.
 * Node quirks absorbed: SNI must not be an IP literal (RFC 6066), so the name is checked
 * explicitly; a TLSSocket's `resetAndDestroy()` throws (its handle is no TCP handle), so the TCP
 * socket underneath does the reset (see resetTls).
 */
import net from "node:net";
import tls from "node:tls";
import { type ErrorTable, SocketError } from "../../core/errors.ts";
import { ALL_TLS_CAPABILITIES } from "../../core/tls.ts";
import type { TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import { closedBeforeHandshake, serverIdentity, serverTlsOptions, settleHandshake } from "../_node/tls.ts";

/** The TLS capabilities of this adapter: node:tls does it all. */
export const tlsCapabilities: typeof ALL_TLS_CAPABILITIES = ALL_TLS_CAPABILITIES;

/** Parses certificates and keys now, so a bad one is EINVAL before anything is connected. */
function secureContext(options: { ca?: string | string[]; cert?: string; key?: string }): tls.SecureContext {
  try {
    return tls.createSecureContext({ ca: options.ca, cert: options.cert, key: options.key });
  } catch (err) {
    const reason = (err as Error).message;
    throw new SocketError("EINVAL", `the TLS certificate, key or CA cannot be used: ${reason}`, { cause: err });
  }
}

/** node:tls client options from checked contract options (throws EINVAL for unusable PEM). */
export function clientTlsOptions(options: TlsClientOptions): tls.ConnectionOptions {
  const out: tls.ConnectionOptions = {
    secureContext: secureContext(options),
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    ...serverIdentity(options.serverName),
  };
  if (options.alpn !== undefined) out.ALPNProtocols = options.alpn;
  return out;
}

/**
 * A tls.Server for checked server options (throws EINVAL for unusable PEM). Its sockets are not
 * half-open during the handshake: a half-open TLSSocket whose client sends FIN mid-handshake
 * waits out the handshake timeout instead of failing. `afterHandshake()` makes them half-open.
 * `handshakeTimeoutMs` replaces Node's 120 s default (a listener's sockets; see PendingHandshakes).
 */
export function createTlsServer(options: TlsServerOptions, noDelay: boolean, handshakeTimeoutMs?: number): tls.Server {
  secureContext(options);
  return tls.createServer({
    ...serverTlsOptions(options),
    noDelay,
    ...(handshakeTimeoutMs !== undefined ? { handshakeTimeout: handshakeTimeoutMs } : {}),
  });
}

/** The TCP socket under a server's TLS socket (`_parent`: node:tls's own link, see resetTls), or null. */
export function tlsParent(sock: tls.TLSSocket): net.Socket | null {
  const parent = (sock as { _parent?: unknown })._parent;
  return parent instanceof net.Socket ? parent : null;
}

/** A server's TLS socket, once secure, leaves FIN to the core like every other socket here. */
export function afterHandshake(sock: tls.TLSSocket): tls.TLSSocket {
  sock.allowHalfOpen = true;
  return sock;
}

/**
 * Resets (RST) a TLS socket. Not by resetting the TCP socket under it: closing a handle that a
 * TLSWrap still reads crashes Node 24 (SIGSEGV). Instead the TCP socket is marked the way its own
 * `resetAndDestroy()` marks it, and destroying the TLS socket then closes it with a reset.
 */
export function resetTls(sock: tls.TLSSocket, tcp: net.Socket | null): void {
  // `_parent` is node:tls's own link to the socket it wraps (undocumented, there since Node 0.11).
  const parent = tcp ?? tlsParent(sock);
  // `resetAndClosing` is the flag `resetAndDestroy()` sets for net.Socket's _destroy (Node >= 16.17).
  if (parent !== null && !parent.destroyed) (parent as { resetAndClosing?: boolean }).resetAndClosing = true;
  sock.destroy();
}

/**
 * The client's handshake over a connected TCP socket. Resolves with `onSecure(tlsSocket)`, called
 * in the tick the handshake ends (no event can go unheard), once the certificate is checked or,
 * with rejectUnauthorized: false, accepted unchecked.
 */
export function secureClient<T>(
  raw: net.Socket,
  options: tls.ConnectionOptions,
  errors: ErrorTable,
  signal: AbortSignal | undefined,
  onSecure: (sock: tls.TLSSocket) => T,
): Promise<T> {
  if (raw.destroyed || !raw.readable) return Promise.reject(closedBeforeHandshake());
  return settleHandshake(tls.connect({ ...options, socket: raw }), "secureConnect", errors, signal, onSecure);
}
