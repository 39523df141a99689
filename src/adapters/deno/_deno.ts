/**
 * The few pieces of Deno's namespace this adapter uses, written by hand so the published .d.ts
 * never mentions the `Deno` global or depends on @types/deno (see srvx#284). Shapes follow
 * lib.deno.ns.d.ts of Deno 2.x; only what is called is declared.
 */

export interface DenoNetAddr {
  transport: "tcp" | "udp";
  hostname: string;
  port: number;
}

/** `path` is null for an unnamed socket (a Unix client's own end). */
export interface DenoUnixAddr {
  transport: "unix" | "unixpacket";
  path: string | null;
}

export type DenoAddr = DenoNetAddr | DenoUnixAddr;

export interface DenoConn {
  /** Resolves with the byte count, or null at EOF. */
  read(p: Uint8Array): Promise<number | null>;
  /** May write only part of `p`: resolves with the byte count taken. */
  write(p: Uint8Array): Promise<number>;
  /** shutdown(2) of the write side. */
  closeWrite(): Promise<void>;
  /** Closes the whole connection; pending reads reject with `Interrupted`. Throws `BadResource` if already closed. */
  close(): void;
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  ref(): void;
  unref(): void;
  /** TCP only. */
  setNoDelay?(noDelay?: boolean): void;
  /** TCP only; SO_KEEPALIVE with the system's timers (no delay argument). */
  setKeepAlive?(keepAlive?: boolean): void;
}

export interface DenoListener {
  accept(): Promise<DenoConn>;
  /** A pending accept rejects with `BadResource`. A Unix listener removes its socket file. */
  close(): void;
  readonly addr: DenoAddr;
  ref(): void;
  unref(): void;
}

export interface DenoTcpConnectOptions {
  hostname: string;
  port: number;
  transport?: "tcp";
  signal?: AbortSignal;
}

export interface DenoUnixConnectOptions {
  transport: "unix";
  path: string;
}

export interface DenoTcpListenOptions {
  hostname: string;
  port: number;
  transport?: "tcp";
  /** Since Deno 2.5 (denoland/deno#30541); older versions ignore it. */
  tcpBacklog?: number;
  /** Needs --unstable-net: without it Deno exits the process with code 70. */
  reusePort?: boolean;
}

export interface DenoUnixListenOptions {
  transport: "unix";
  path: string;
}

export interface DenoFileInfo {
  dev: number;
  ino: number | null;
}

export interface DenoNs {
  connect(options: DenoTcpConnectOptions | DenoUnixConnectOptions): Promise<DenoConn>;
  listen(options: DenoTcpListenOptions | DenoUnixListenOptions): DenoListener;
  lstat(path: string): Promise<DenoFileInfo>;
  remove(path: string): Promise<void>;
  /** Defined only with --unstable-net. */
  listenDatagram?: unknown;
  readonly version: { readonly deno: string };
}

/** The `Deno` global, typed by the declarations above; undefined outside Deno. */
export const deno: DenoNs = (globalThis as unknown as { Deno: DenoNs }).Deno;
