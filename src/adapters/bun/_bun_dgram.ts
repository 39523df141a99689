/**
 * The pieces of `Bun.udpSocket` the datagram adapter uses, written by hand so the published .d.ts
 * never mentions the `Bun` global or depends on @types/bun. Shapes follow bun-types 1.4 (`udp`).
 */

export interface BunUdpReceiveFlags {
  /** The datagram was longer than the receive buffer (MSG_TRUNC). */
  truncated: boolean;
  ipv6: boolean;
}

/** An error as Bun's UDP hands it over; `errqueue` marks one read from IP_RECVERR's error queue. */
export interface BunUdpError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  errqueue?: boolean;
}

export interface BunUdpHandlers {
  data?(socket: BunUdpSocket, data: Uint8Array, port: number, address: string, flags?: BunUdpReceiveFlags): void;
  /** Writable again after a `send` returned false. */
  drain?(socket: BunUdpSocket): void;
  /** Called with the error only. Without a handler, an ICMP error from the queue is thrown as uncaught. */
  error?(error: BunUdpError): void;
}

export interface BunUdpOptions {
  hostname: string;
  port: number;
  binaryType: "uint8array";
  /**
   * Not in bun-types: the listen flags Bun's own node:dgram passes (src/js/node/dgram.ts):
   * 8 = IPV6_V6ONLY, 16 = SO_REUSEADDR.
   */
  flags?: number;
  connect?: { hostname: string; port: number };
  socket: BunUdpHandlers;
}

export interface BunUdpSocket {
  readonly address: { address: string; family: "IPv4" | "IPv6"; port: number };
  readonly closed: boolean;
  /**
   * Unconnected: (data, port, address), an IP literal only. Connected: (data). Returns false when
   * the kernel's send buffer is full (the datagram was not sent: resend on `drain`); throws the
   * kernel's error (EACCES, EMSGSIZE, ...) synchronously.
   */
  send(data: Uint8Array, port?: number, address?: string): boolean;
  setBroadcast(on: boolean): boolean;
  setTTL(ttl: number): number;
  setMulticastTTL(ttl: number): number;
  setMulticastLoopback(on: boolean): boolean;
  setMulticastInterface(address: string): boolean;
  addMembership(group: string, iface?: string): boolean;
  dropMembership(group: string, iface?: string): boolean;
  ref(): void;
  unref(): void;
  close(): void;
}

export interface BunDgramNamespace {
  udpSocket(options: BunUdpOptions): Promise<BunUdpSocket>;
}

/** `Bun`, reached without naming the global in any declaration. */
export const bunDgram: BunDgramNamespace | undefined = (globalThis as unknown as { Bun?: BunDgramNamespace }).Bun;

/** Bun.udpSocket's listen flags (see BunUdpOptions.flags). */
export const BUN_UDP_IPV6_ONLY = 8;
export const BUN_UDP_REUSE_ADDR = 16;
