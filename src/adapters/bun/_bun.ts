/**
 * The few pieces of Bun's socket API this adapter uses, written by hand so the published .d.ts
 * never depends on @types/bun (see srvx#284). Shapes follow bun-types 1.4 (`Bun.connect`,
 * `Bun.listen`, `Bun.dns.lookup`); only what is called is declared.
 */

export interface BunSocket<Data> {
  /** Bytes the kernel took (or Bun's cork buffer inside a handler); -1 once closed or shutting down. */
  write(data: Uint8Array): number;
  /** Sends FIN and closes the socket at once (the `close` handler runs before it returns). */
  end(): void;
  /** shutdown(2) of the write side: FIN, reading goes on. */
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
}

interface BunSocketOptions<Data> {
  socket: BunSocketHandler<Data>;
  data?: Data;
  allowHalfOpen?: boolean;
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
