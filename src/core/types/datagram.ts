import type { NetAddr, UnixAddr } from "./common.ts";

/** Datagram sockets: `bind()`, its options, the `DatagramSocket` and its datagrams. */

/**
 * Options of `bind()` for a UDP socket.
 *
 * @example A UDP socket that may send broadcasts
 * ```ts
 * import { bind } from "unisock";
 * await using udp = await bind({ port: 0, broadcast: true });
 * await udp.send("hello", { hostname: "255.255.255.255", port: 9999 });
 * ```
 */
export interface BindOptions {
  /** Default `"0.0.0.0"`; `"::"` or an IPv6 literal makes an IPv6 socket. A name is resolved once, here. */
  hostname?: string;
  /** Default 0. */
  port?: number;
  /** A connected socket: send needs no address, and only this peer's datagrams are received. */
  connect?: { hostname: string; port: number };
  /** SO_REUSEADDR: other sockets that also ask for it may bind the same address and port. */
  reuseAddress?: boolean;
  /** On `"::"`, IPv6 only instead of both families. */
  ipv6Only?: boolean;
  /** Default false, on every runtime. */
  broadcast?: boolean;
  /** SO_RCVBUF / SO_SNDBUF, in bytes (the kernel may double or cap them). */
  recvBufferSize?: number;
  /** SO_SNDBUF, in bytes (capability `datagramBufferSizes`). */
  sendBufferSize?: number;
  /**
   * The most bytes of received datagrams held for the application (each counts its length plus
   * 64). When it is full the newest datagram is dropped and counted in `dropped`, as the kernel
   * does with its own buffer. Default 4 MiB.
   */
  receiveQueueBytes?: number;
  /** Abort closes the socket. */
  signal?: AbortSignal;
}

/** A Unix datagram socket (`capabilities.unixDatagram`): `bind({ path })`. */
export interface UnixBindOptions {
  /** Where to bind; a file that already exists there is EADDRINUSE. Abstract names start with `"\0"`. */
  path: string;
  /** A connected socket: send needs no address, and only this peer's datagrams are received. */
  connect?: { path: string };
  /** As for UDP: see `BindOptions.receiveQueueBytes`. */
  receiveQueueBytes?: number;
  /** Abort closes the socket. */
  signal?: AbortSignal;
}

/** The addresses a datagram socket can have: UDP (the default) or Unix. */
export type DatagramAddr = NetAddr | UnixAddr;

/** Where a datagram goes: `{ hostname, port }` for UDP, `{ path }` for a Unix socket. */
export type DatagramTarget<A extends DatagramAddr = NetAddr> = A extends UnixAddr
  ? { path: string }
  : { hostname: string; port: number };

/** One received datagram. */
export interface Datagram<A extends DatagramAddr = NetAddr> {
  /** The payload. */
  data: Uint8Array;
  /** Who sent it. */
  remoteAddress: A;
  /** The datagram was longer than the receive buffer and was cut (never for UDP, whose buffer fits any). */
  truncated: boolean;
}

/** What the writable takes: the data and, on an unconnected socket, where it goes. */
export type OutgoingDatagram<A extends DatagramAddr = NetAddr> = { data: Uint8Array } & Partial<DatagramTarget<A>>;

/** Multicast on a UDP socket (`socket.multicast`, capability `multicast`). */
export interface Multicast {
  /** Joins `group` on the interface with address `iface` (default: the system's choice). */
  join(group: string, iface?: string): Promise<void>;
  /** Leaves a group joined before. */
  leave(group: string, iface?: string): Promise<void>;
  /** 1 to 255. */
  setTTL(ttl: number): void;
  /** Whether this host receives its own multicast datagrams. */
  setLoopback(on: boolean): void;
  /** The interface (by its address) outgoing multicast datagrams leave from. */
  setInterface(addr: string): void;
}

/**
 * A datagram socket (UDP, or Unix with `bind({ path })`), from `bind()`. Iterate it (or call
 * `receive()`) for datagrams; `await using` closes it.
 *
 * @example Ping and pong on loopback
 * ```ts
 * import { bind } from "unisock";
 * await using a = await bind({ hostname: "127.0.0.1" });
 * await using b = await bind({ hostname: "127.0.0.1" });
 * await a.send("ping", { hostname: "127.0.0.1", port: b.localAddress.port });
 * const { data, remoteAddress } = await b.receive();
 * ```
 */
export interface DatagramSocket<A extends DatagramAddr = NetAddr> extends AsyncIterable<Datagram<A>>, AsyncDisposable {
  /** The address it is bound to, with the port the system chose for port 0. */
  readonly localAddress: A;
  /** The peer of a connected socket, else `null`. */
  readonly remoteAddress: A | null;
  /** Datagrams received while the receive queue was full, dropped (see `receiveQueueBytes`). */
  readonly dropped: number;
  /** One datagram; waits under backpressure; over the size limit: EMSGSIZE, socket stays open. */
  send(data: Uint8Array | string, to?: DatagramTarget<A>): Promise<void>;
  /**
   * The next datagram, in arrival order; several may be pending. On a connected socket an ICMP
   * error (ECONNREFUSED) rejects the next receive once, and the socket stays open.
   */
  receive(options?: { signal?: AbortSignal }): Promise<Datagram<A>>;
  /** The received datagrams as a stream; using it locks `receive()` and iteration. */
  readonly readable: ReadableStream<Datagram<A>>;
  /** Each chunk is one datagram; closing or aborting it leaves the socket open. */
  readonly writable: WritableStream<OutgoingDatagram<A>>;
  /** SO_BROADCAST (capability `broadcast`). */
  setBroadcast(on: boolean): void;
  /** 1 to 255. */
  setTTL(ttl: number): void;
  /** Multicast group membership and options. */
  readonly multicast: Multicast;
  /** Idempotent; a pending receive rejects with ECLOSED; iteration ends. */
  close(): Promise<void>;
  /** Keeps the process alive while the socket is open (the default). */
  ref(): void;
  /** Lets the process exit while the socket is open. */
  unref(): void;
}

/** `bind`'s two forms: UDP (the default) and, with `{ path }`, a Unix datagram socket. */
export interface Bind {
  /** A Unix datagram socket (capability `unixDatagram`). */
  (options: UnixBindOptions): Promise<DatagramSocket<UnixAddr>>;
  /** A UDP socket. */
  (options?: BindOptions): Promise<DatagramSocket>;
}
