/** TLS: how a connection uses it, and the options of its client and server sides. */

/**
 * How a connection uses TLS: `"off"` plaintext, `"on"` TLS from the start, `"starttls"` plaintext that `startTls()` upgrades later (the WinterTC Sockets API's values).
 */
export type SecureTransport = "off" | "on" | "starttls";

/**
 * The client side of TLS: `connect(..., { secureTransport: "on", tls })` or `socket.startTls(tls)`.
 *
 * @example Trusting a private CA and asking for HTTP/2
 * ```ts
 * import { connect } from "unisock";
 * declare const caPem: string;
 * const s = connect("internal.example:443", { secureTransport: "on", tls: { ca: caPem, alpn: ["h2", "http/1.1"] } });
 * const { alpn } = await s.opened;
 * ```
 */
export interface TlsClientOptions {
  /** The name the certificate must match; default: the hostname connected to. */
  serverName?: string;
  /** PEM; default: the runtime's trusted roots. */
  ca?: string | string[];
  /** Client certificate (mutual TLS), PEM. */
  cert?: string;
  /** The private key of `cert`, PEM (mutual TLS, capability `mutualTls`). */
  key?: string;
  /** The ALPN protocols to offer, in order of preference; the chosen one is `SocketInfo.alpn`. */
  alpn?: string[];
  /** Default true. */
  rejectUnauthorized?: boolean;
}

/**
 * The server side of TLS: `listen({ tls })`, or `startTls({ server })` on an accepted socket.
 */
export interface TlsServerOptions {
  /** PEM: the certificate chain, leaf first. */
  cert: string;
  /** PEM: the private key of `cert`. */
  key: string;
  /** The protocols this server accepts, in its order of preference. */
  alpn?: string[];
  /** PEM: the CAs a client certificate must chain to; default: the runtime's trusted roots. */
  ca?: string | string[];
  /** Ask every client for a certificate and refuse the connection without a valid one. */
  requestCert?: boolean;
  /**
   * A listener's connection still in its handshake this long after it was accepted is closed
   * (default 10,000 ms, as Node's tls.Server). Ignored by `startTls({ server })`, whose caller
   * has `signal` for that.
   */
  handshakeTimeoutMs?: number;
}

/** `startTls()` taking the server's side of the handshake (SMTP, IMAP, Postgres servers). */
export interface StartTlsServerOptions {
  /** The certificate and options of the server's side. */
  server: TlsServerOptions;
}
