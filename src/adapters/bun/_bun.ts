/**
 * The few pieces of Bun's socket API this adapter uses, written by hand so the published .d.ts
 * never depends on @types/bun (see srvx#284). Shapes follow bun-types 1.4 (`Bun.connect`,
 * `Bun.listen`, `Bun.dns.lookup`); only what is called is declared.
 */

export interface BunSocket<Data> {
  /** Bytes the kernel took (or Bun's cork buffer inside a handler); -1 once closed or shutting down. */
  write(data: Uint8Array): number;
  /**
   * TCP: sends FIN and closes the socket at once (the `close` handler runs before it returns).
   * TLS: close_notify and FIN only: the socket stays open, reading, until the peer closes, and
   * `close()` after it does nothing.
   */
  end(): void;
  /** Closes at once, on an upgraded socket the raw twin too. TLS: sends no close_notify. */
  close(): void;
  /** shutdown(2) of the write side: FIN (after close_notify for TLS), reading goes on. */
  shutdown(halfClose?: boolean): void;
  /** SO_LINGER 0 and close: the peer sees RST. */
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay?: boolean): boolean;
  /** `initialDelay` in milliseconds; 0 keeps the system's value. */
  setKeepAlive(enable?: boolean, initialDelay?: number): boolean;
  ref(): void;
  unref(): void;
  data: Data;
  /** Undefined on Unix sockets. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** TLS: the peer's certificate chained to a trusted CA and (client side) matched the name. */
  readonly authorized: boolean;
  /** TLS: the protocol ALPN agreed on; `false` or `null` when none. */
  readonly alpnProtocol: string | false | null;
  /** TLS: the peer's certificate in node:tls's shape (an empty object when there is none). */
  getPeerCertificate(): BunPeerCertificate | undefined;
  /**
   * Plaintext to TLS on the same connection: returns `[raw, tls]`, two new socket objects, the
   * old one being spent. `raw` keeps the old handlers and `data` and is still handed every
   * (encrypted) chunk read; `tls` uses `socket` and `data`. `isServer` (undocumented, in
   * Bun's node:net since 1.4) takes the server's side of the handshake.
   */
  upgradeTLS<D>(options: {
    data: D;
    tls: BunTlsOptions;
    socket: BunSocketHandler<D>;
    isServer?: boolean;
  }): [raw: BunSocket<Data>, tls: BunSocket<D>] | undefined;
}

/** The part of node:tls's PeerCertificate that `checkServerIdentity` reads. */
export interface BunPeerCertificate {
  subject?: Record<string, string | string[]>;
  subjectaltname?: string;
}

/** Bun's TLS options (bun-types `TLSOptions`), as far as they are used here. */
export interface BunTlsOptions {
  ca?: string | string[];
  cert?: string;
  key?: string;
  /** The name sent as SNI and checked against the certificate (client). */
  serverName?: string;
  /** The ALPN list in wire format: each name prefixed by its length. */
  ALPNProtocols?: Uint8Array;
  /** Client: refuse a certificate that fails the checks. Server: refuse a client without a valid one. */
  rejectUnauthorized?: boolean;
  /** Server: ask for a client certificate. */
  requestCert?: boolean;
}

export interface BunSocketHandler<Data> {
  binaryType?: "uint8array";
  open?(socket: BunSocket<Data>): void;
  data?(socket: BunSocket<Data>, data: Uint8Array): void;
  drain?(socket: BunSocket<Data>): void;
  /** The peer sent FIN. */
  end?(socket: BunSocket<Data>): void;
  close?(socket: BunSocket<Data>, error?: Error): void;
  error?(socket: BunSocket<Data>, error: Error): void;
  connectError?(socket: BunSocket<Data>, error: Error): void;
  /**
   * TLS: the handshake ended. `success` is false when it failed or when the peer's certificate
   * failed a check (even with rejectUnauthorized: false); `authorizationError` says why.
   */
  handshake?(socket: BunSocket<Data>, success: boolean, authorizationError: Error | null): void;
}

interface BunSocketOptions<Data> {
  socket: BunSocketHandler<Data>;
  data?: Data;
  allowHalfOpen?: boolean;
  /** TLS; the `handshake` handler reports its outcome. */
  tls?: BunTlsOptions;
}

export interface BunTcpConnectOptions<Data> extends BunSocketOptions<Data> {
  hostname: string;
  port: number;
}

export interface BunTcpListenOptions<Data> extends BunSocketOptions<Data> {
  hostname: string;
  port: number;
  reusePort?: boolean;
  ipv6Only?: boolean;
}

export interface BunUnixOptions<Data> extends BunSocketOptions<Data> {
  unix: string;
}

export interface BunListener {
  /** Stops accepting; with `false` (the default) live connections stay open. Removes its Unix file. */
  stop(closeActiveConnections?: boolean): void;
  ref(): void;
  unref(): void;
}

export interface BunTcpListener extends BunListener {
  readonly port: number;
  /** The hostname as given to `listen`, not resolved. */
  readonly hostname: string;
}

export interface BunNs {
  connect<Data>(options: BunTcpConnectOptions<Data> | BunUnixOptions<Data>): Promise<BunSocket<Data>>;
  listen<Data>(options: BunTcpListenOptions<Data>): BunTcpListener;
  listen<Data>(options: BunUnixOptions<Data>): BunListener;
  readonly dns: {
    lookup(hostname: string, options?: { family?: 0 | 4 | 6 }): Promise<{ address: string; family: 4 | 6 }[]>;
  };
}

/** The `Bun` global, typed by this file. Only called at run time inside Bun. */
export function bun(): BunNs {
  return (globalThis as unknown as { Bun: BunNs }).Bun;
}
