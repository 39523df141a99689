import type { Addr } from "./common.ts";
import type { Socket } from "./stream.ts";
import type { TlsServerOptions } from "./tls.ts";

/** Listeners: `listen()`, its options, and the `Listener`. */

/**
 * Options of `listen()`: a TCP port (the default), a Unix socket (`path`), TLS (`tls`).
 *
 * @example A TLS server on an ephemeral port
 * ```ts
 * import { listen } from "unisock";
 * declare const cert: string, key: string;
 * await using l = await listen({ hostname: "127.0.0.1", port: 0, tls: { cert, key } });
 * console.log(l.addr);
 * ```
 */
export interface ListenOptions {
  /** Default `"0.0.0.0"`; `"::"` is dual-stack unless `ipv6Only`. */
  hostname?: string;
  /** Default 0: an ephemeral port, reported in `addr`. */
  port?: number;
  /** A Unix socket instead of hostname/port. */
  path?: string;
  /** Default 4096 where the runtime lets it be set. */
  backlog?: number;
  /** SO_REUSEPORT: several listeners share the port (capability `reusePort`). */
  reusePort?: boolean;
  /** On `"::"`, accept IPv6 only instead of both families. */
  ipv6Only?: boolean;
  /** For accepted sockets: see `ConnectOptions.allowHalfOpen`. Default false. */
  allowHalfOpen?: boolean;
  /** For accepted sockets: see `ConnectOptions.noDelay`. Default true. */
  noDelay?: boolean;
  /** Serve TLS: every accepted socket has finished its handshake. */
  tls?: TlsServerOptions;
  /**
   * Default `"off"`. `"starttls"`: accepted sockets are plaintext and may be upgraded with
   * `startTls({ server })` (capability `serverStartTls`). Not with `tls`.
   */
  secureTransport?: "off" | "starttls";
  /** Abort closes the listener. */
  signal?: AbortSignal;
}

/** Options of `listener.accept()`. */
export interface AcceptOptions {
  /** Aborting rejects the accept with the signal's reason; the listener stays open. */
  signal?: AbortSignal;
}

/**
 * A listening socket, from `listen()`. Iterate it (or call `accept()`) for connections;
 * `await using` closes it.
 *
 * @example An echo server
 * ```ts
 * import { listen } from "unisock";
 * await using l = await listen({ port: 7007 });
 * for await (const conn of l) conn.readable.pipeTo(conn.writable).catch(() => {});
 * ```
 */
export interface Listener extends AsyncIterable<Socket>, AsyncDisposable {
  /** The address it listens on, with the port the system chose for port 0. */
  readonly addr: Addr;
  /**
   * The next connection; several accepts may wait at once. ECLOSED once the listener is closed.
   */
  accept(options?: AcceptOptions): Promise<Socket>;
  /**
   * Idempotent; live connections stay open; pending accepts reject with ECLOSED;
   * iteration ends; a Unix socket file it created is removed.
   */
  close(): Promise<void>;
  /** Keeps the process alive while listening (the default). */
  ref(): void;
  /** Lets the process exit while listening. */
  unref(): void;
}
