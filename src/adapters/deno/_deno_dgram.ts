/**
 * The pieces of Deno's namespace the datagram adapter uses, written by hand so the published .d.ts
 * never mentions the `Deno` global or depends on @types/deno. Shapes follow lib.deno.unstable.d.ts
 * of Deno 2.x (DatagramConn is unstable: it exists only with --unstable-net).
 */

export interface DenoUdpAddr {
  transport: "udp";
  hostname: string;
  port: number;
}

/** `path` is null for a peer that sent from an unbound socket. */
export interface DenoUnixPacketAddr {
  transport: "unixpacket";
  path: string | null;
}

export type DenoDatagramAddr = DenoUdpAddr | DenoUnixPacketAddr;

export interface DenoDatagramConn {
  readonly addr: DenoDatagramAddr;
  /**
   * Receives into `p` (default: a new 65,507-byte buffer, which silently cuts a larger IPv6 or
   * Unix datagram). Resolves with a view of `p` and the sender. A pending receive rejects with
   * `Interrupted` on close, any later call with `BadResource`.
   */
  receive(p?: Uint8Array): Promise<[Uint8Array, DenoDatagramAddr]>;
  /** Resolves with the byte count sent. */
  send(p: Uint8Array, addr: DenoDatagramAddr): Promise<number>;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface DenoListenDatagramOptions {
  transport: "udp";
  hostname: string;
  port: number;
  /** SO_REUSEADDR only, as libuv does on Linux (never SO_REUSEPORT). */
  reuseAddress?: boolean;
}

export interface DenoListenUnixPacketOptions {
  transport: "unixpacket";
  path: string;
}

export interface DenoNetworkInterface {
  family: "IPv4" | "IPv6";
  address: string;
  netmask: string;
}

/** The part of `Deno` the datagram adapter calls. */
export interface DenoDgramNamespace {
  /** Present only with --unstable-net. */
  listenDatagram?: (options: DenoListenDatagramOptions | DenoListenUnixPacketOptions) => DenoDatagramConn;
  networkInterfaces(): DenoNetworkInterface[];
  remove(path: string): Promise<void>;
}

/** `Deno`, reached without naming the global in any declaration. */
export const denoDgram: DenoDgramNamespace | undefined = (globalThis as unknown as { Deno?: DenoDgramNamespace }).Deno;
