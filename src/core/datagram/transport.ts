import type { ErrorTable } from "../errors.ts";
import type { Capabilities, DatagramAddr, Runtime } from "../types.ts";

/**
 * The seam between a datagram socket and its runtime: an adapter opens the runtime's socket for a
 * checked, resolved `BindPlan` (a `DatagramOpener`), wraps it as a `DatagramTransport`, and feeds
 * the socket's `DatagramSink`.
 */

export type DatagramCapabilities = Pick<
  Capabilities,
  | "udp"
  | "unixDatagram"
  | "broadcast"
  | "multicast"
  | "connectedDatagram"
  | "truncationFlag"
  | "datagramTTL"
  | "icmpErrors"
  | "datagramBufferSizes"
>;

/** What a datagram adapter knows about its runtime. */
export interface DatagramContext {
  readonly runtime: Runtime;
  readonly errors: ErrorTable;
  readonly capabilities: DatagramCapabilities;
  /** Resolves a host name to one IP literal: of `family` 4 or 6, or of either (0). */
  lookup(hostname: string, family: 0 | 4 | 6): Promise<string>;
}

/** A UDP destination as the socket takes it: an IP literal of the socket's own family (IPv4 mapped on IPv6). */
export interface UdpTarget {
  readonly hostname: string;
  readonly port: number;
}

export interface UnixTarget {
  readonly path: string;
}

export interface UdpBindPlan {
  readonly kind: "udp";
  /** An IP literal. */
  readonly hostname: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
  readonly connect: UdpTarget | null;
  readonly reuseAddress: boolean;
  readonly ipv6Only: boolean;
  readonly broadcast: boolean;
  readonly recvBufferSize: number | undefined;
  readonly sendBufferSize: number | undefined;
}

export interface UnixBindPlan {
  readonly kind: "unix";
  readonly path: string;
  readonly connect: UnixTarget | null;
}

export type BindPlan = UdpBindPlan | UnixBindPlan;

/** What the runtime's socket tells the DatagramSocket. */
export interface DatagramSink {
  /** One datagram, whole; `data` belongs to the socket from now on. */
  message(data: Uint8Array, from: DatagramAddr, truncated: boolean): void;
  /** An error the runtime reports on its own (an ICMP error on a connected socket); the socket stays open. */
  error(err: unknown): void;
}

/**
 * The runtime's bound socket, as an adapter wraps it. Methods throw the runtime's own errors; the
 * socket maps them. Arguments arrive checked; UDP and Unix-only methods are only called on their kind.
 */
export interface DatagramTransport {
  readonly localAddress: DatagramAddr;
  /** Sends one datagram, to `to` or (null) to the connected peer; `undefined` when the runtime took it at once. */
  send(data: Uint8Array, to: UdpTarget | UnixTarget | null): Promise<void> | undefined;
  setBroadcast(on: boolean): void;
  setTTL(ttl: number): void;
  join(group: string, iface: string | undefined): void | Promise<void>;
  leave(group: string, iface: string | undefined): void | Promise<void>;
  setMulticastTTL(ttl: number): void;
  setMulticastLoopback(on: boolean): void;
  setMulticastInterface(addr: string): void;
  /**
   * Optional: told when a receive starts waiting (true) and when none waits any more (false), for
   * a runtime that must not keep a receive pending on its own (see the Deno adapter's Unix sockets).
   * Without it the transport delivers whenever the runtime has a datagram.
   */
  demand?(wanted: boolean): void;
  /** Releases the socket (and removes a Unix socket file it created). */
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

/** Opens the runtime's socket for a checked, resolved plan. */
export type DatagramOpener = (plan: BindPlan, sink: DatagramSink) => Promise<DatagramTransport>;
