import type { Addr } from "./common.ts";
import type { SecureTransport, StartTlsServerOptions, TlsClientOptions } from "./tls.ts";

/** Stream sockets: `connect()`, its options, and the `Socket`. */

/**
 * Where `connect()` goes: `"host:port"` (`"[::1]:80"` for IPv6), `{ hostname, port }`, or `{ path }` for a Unix socket.
 */
export type ConnectAddress = string | { hostname: string; port: number } | { path: string };

/**
 * Options of `connect()`.
 *
 * @example A TLS connection that gives up after 5 seconds
 * ```ts
 * import { connect } from "unisock";
 * const s = connect({ hostname: "example.com", port: 443 }, {
 *   secureTransport: "on",
 *   signal: AbortSignal.timeout(5000),
 * });
 * await s.opened;
 * ```
 */
export interface ConnectOptions {
  /** Default `"off"`. */
  secureTransport?: SecureTransport;
  /** TLS options, for `secureTransport` `"on"` (and the defaults of a later `startTls()`). */
  tls?: TlsClientOptions;
  /** Default false: a FIN from the peer ends both directions. */
  allowHalfOpen?: boolean;
  /** Default true on every runtime. */
  noDelay?: boolean;
  /**
   * TCP keep-alive; `{ delayMs }` also sets the idle time before the first probe (capability `keepAliveDelay`).
   */
  keepAlive?: boolean | { delayMs: number };
  /** Covers lookup, connect and the TLS handshake. */
  signal?: AbortSignal;
}

/** What `socket.opened` resolves with, once connected (and, with TLS, verified). */
export interface SocketInfo {
  /** This side's address. */
  localAddress: Addr;
  /** The peer's address. */
  remoteAddress: Addr;
  /** The ALPN protocol the TLS handshake chose; `null` without TLS or without agreement. */
  alpn: string | null;
  /**
   * With TLS: whether the peer's certificate was verified (a server sees it for client certificates).
   */
  authorized?: boolean;
}

/** Options of `read()` and `write()`. */
export interface ReadOptions {
  /** Aborting rejects the call with the signal's reason; an aborted read loses no bytes. */
  signal?: AbortSignal;
}

/**
 * A stream connection (TCP, Unix or TLS), from `connect()` or a listener. Read and write it with
 * `read()`/`write()` (the fast path) or with `readable`/`writable` (Web Streams); using one path
 * locks the other. `await using` closes it.
 *
 * @example Request and response
 * ```ts
 * import { connect } from "unisock";
 * await using s = connect("example.com:80");
 * await s.write("HEAD / HTTP/1.0\r\nHost: example.com\r\n\r\n");
 * const text = await new Response(s.readable).text();
 * ```
 */
export interface Socket extends AsyncDisposable {
  /** Resolves after connect and, for TLS, after the certificate is verified. */
  readonly opened: Promise<SocketInfo>;
  /** Resolves on a clean close, rejects with the SocketError that closed it. */
  readonly closed: Promise<void>;
  /** A byte stream: BYOB readers work; ends at EOF. */
  readonly readable: ReadableStream<Uint8Array>;
  /** `close()` sends FIN (half-close); `abort()` resets. */
  readonly writable: WritableStream<Uint8Array>;
  /** The `secureTransport` it was opened with; `"on"` for the socket `startTls()` returns. */
  readonly secureTransport: SecureTransport;
  /** Reads into `into`; resolves with the byte count, or `null` at EOF. */
  read(into: Uint8Array, options?: ReadOptions): Promise<number | null>;
  /** Resolves when the runtime has taken all of it; waits under backpressure; never drops bytes. */
  write(data: Uint8Array | string, options?: ReadOptions): Promise<void>;
  /** Sends FIN; reading goes on. */
  closeWrite(): Promise<void>;
  /**
   * Only with `secureTransport: "starttls"`; the old Socket is done. Takes the client's side of the
   * handshake, or the server's with `{ server }` (capability `serverStartTls`).
   */
  startTls(options?: TlsClientOptions | StartTlsServerOptions): Socket;
  /** Turns Nagle's algorithm off (`true`, the default) or on. */
  setNoDelay(on?: boolean): void;
  /** TCP keep-alive; `delayMs` needs capability `keepAliveDelay`. */
  setKeepAlive(on: boolean, delayMs?: number): void;
  /** Keeps the process alive while the socket is open (the default). */
  ref(): void;
  /** Lets the process exit while the socket is open. */
  unref(): void;
  /** Idempotent; flushes written data, then closes; settles pending reads. */
  close(): Promise<void>;
}
