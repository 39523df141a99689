/**
 * The public API of unisock: the contract every adapter implements the same way.
 * Declarations only; behaviour lives in the other core files and the adapters.
 */

/** The runtime an adapter is written for. */
export type Runtime = "node" | "deno" | "bun";

/** An IP endpoint. IPv6 hostnames are reported without brackets (`"::1"`). */
export interface NetAddr {
  transport: "tcp" | "udp";
  hostname: string;
  port: number;
  family: "IPv4" | "IPv6";
}

/** A Unix socket endpoint. Abstract names start with `"\0"`. */
export interface UnixAddr {
  transport: "unix";
  path: string;
}

export type Addr = NetAddr | UnixAddr;

/** Every failure of the library carries one of these codes, the same on every runtime. */
export type SocketErrorCode =
  | "ECONNREFUSED"
  | "ECONNRESET"
  | "EPIPE"
  | "EADDRINUSE"
  | "EADDRNOTAVAIL"
  | "ENOENT"
  | "EACCES"
  | "ETIMEDOUT"
  | "EHOSTUNREACH"
  | "ENETUNREACH"
  | "EMSGSIZE"
  | "ENOTFOUND"
  /** Used after close. */
  | "ECLOSED"
  /** A bad argument: port out of range, malformed address, path too long, ... */
  | "EINVAL"
  /** Certificate not trusted, expired, or not matching the name. */
  | "ERR_TLS_CERT"
  /** Any other handshake failure. */
  | "ERR_TLS_HANDSHAKE"
  /** This runtime cannot do it (see `capabilities`): never a silent no-op. */
  | "ERR_UNSUPPORTED";

export type SecureTransport = "off" | "on" | "starttls";

export interface TlsClientOptions {
  /** The name the certificate must match; default: the hostname connected to. */
  serverName?: string;
  /** PEM; default: the runtime's trusted roots. */
  ca?: string | string[];
  /** Client certificate (mutual TLS), PEM. */
  cert?: string;
  key?: string;
  alpn?: string[];
  /** Default true. */
  rejectUnauthorized?: boolean;
}

export interface TlsServerOptions {
  /** PEM: the certificate chain, leaf first. */
  cert: string;
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
  server: TlsServerOptions;
}

export type ConnectAddress = string | { hostname: string; port: number } | { path: string };

export interface ConnectOptions {
  /** Default `"off"`. */
  secureTransport?: SecureTransport;
  tls?: TlsClientOptions;
  /** Default false: a FIN from the peer ends both directions. */
  allowHalfOpen?: boolean;
  /** Default true on every runtime. */
  noDelay?: boolean;
  keepAlive?: boolean | { delayMs: number };
  /** Covers lookup, connect and the TLS handshake. */
  signal?: AbortSignal;
}

export interface SocketInfo {
  localAddress: Addr;
  remoteAddress: Addr;
  alpn: string | null;
  authorized?: boolean;
}

export interface ReadOptions {
  signal?: AbortSignal;
}

export interface Socket extends AsyncDisposable {
  /** Resolves after connect and, for TLS, after the certificate is verified. */
  readonly opened: Promise<SocketInfo>;
  /** Resolves on a clean close, rejects with the SocketError that closed it. */
  readonly closed: Promise<void>;
  /** A byte stream: BYOB readers work; ends at EOF. */
  readonly readable: ReadableStream<Uint8Array>;
  /** `close()` sends FIN (half-close); `abort()` resets. */
  readonly writable: WritableStream<Uint8Array>;
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
  setNoDelay(on?: boolean): void;
  setKeepAlive(on: boolean, delayMs?: number): void;
  ref(): void;
  unref(): void;
  /** Idempotent; flushes written data, then closes; settles pending reads. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Default `"0.0.0.0"`; `"::"` is dual-stack unless `ipv6Only`. */
  hostname?: string;
  /** Default 0: an ephemeral port, reported in `addr`. */
  port?: number;
  /** A Unix socket instead of hostname/port. */
  path?: string;
  /** Default 4096 where the runtime lets it be set. */
  backlog?: number;
  reusePort?: boolean;
  ipv6Only?: boolean;
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  tls?: TlsServerOptions;
  /**
   * Default `"off"`. `"starttls"`: accepted sockets are plaintext and may be upgraded with
   * `startTls({ server })` (capability `serverStartTls`). Not with `tls`.
   */
  secureTransport?: "off" | "starttls";
  /** Abort closes the listener. */
  signal?: AbortSignal;
}

export interface AcceptOptions {
  signal?: AbortSignal;
}

export interface Listener extends AsyncIterable<Socket>, AsyncDisposable {
  readonly addr: Addr;
  accept(options?: AcceptOptions): Promise<Socket>;
  /**
   * Idempotent; live connections stay open; pending accepts reject with ECLOSED;
   * iteration ends; a Unix socket file it created is removed.
   */
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

export interface BindOptions {
  /** Default `"0.0.0.0"`; `"::"` or an IPv6 literal makes an IPv6 socket. A name is resolved once, here. */
  hostname?: string;
  /** Default 0. */
  port?: number;
  /** A connected socket: send needs no address, and only this peer's datagrams are received. */
  connect?: { hostname: string; port: number };
  /** SO_REUSEADDR: other sockets that also ask for it may bind the same address and port. */
  reuseAddress?: boolean;
  ipv6Only?: boolean;
  /** Default false, on every runtime. */
  broadcast?: boolean;
  /** SO_RCVBUF / SO_SNDBUF, in bytes (the kernel may double or cap them). */
  recvBufferSize?: number;
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

export interface Datagram<A extends DatagramAddr = NetAddr> {
  data: Uint8Array;
  remoteAddress: A;
  /** The datagram was longer than the receive buffer and was cut (never for UDP, whose buffer fits any). */
  truncated: boolean;
}

/** What the writable takes: the data and, on an unconnected socket, where it goes. */
export type OutgoingDatagram<A extends DatagramAddr = NetAddr> = { data: Uint8Array } & Partial<DatagramTarget<A>>;

export interface Multicast {
  join(group: string, iface?: string): Promise<void>;
  leave(group: string, iface?: string): Promise<void>;
  /** 1 to 255. */
  setTTL(ttl: number): void;
  setLoopback(on: boolean): void;
  setInterface(addr: string): void;
}

export interface DatagramSocket<A extends DatagramAddr = NetAddr> extends AsyncIterable<Datagram<A>>, AsyncDisposable {
  readonly localAddress: A;
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
  readonly readable: ReadableStream<Datagram<A>>;
  /** Each chunk is one datagram; closing or aborting it leaves the socket open. */
  readonly writable: WritableStream<OutgoingDatagram<A>>;
  setBroadcast(on: boolean): void;
  /** 1 to 255. */
  setTTL(ttl: number): void;
  readonly multicast: Multicast;
  /** Idempotent; a pending receive rejects with ECLOSED; iteration ends. */
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

/** What this runtime's adapter can do. A `false` means the matching call throws ERR_UNSUPPORTED. */
export interface Capabilities {
  readonly udp: boolean;
  readonly unixStream: boolean;
  readonly unixDatagram: boolean;
  readonly tls: boolean;
  readonly startTls: boolean;
  /** A server that upgrades an accepted plaintext connection (SMTP, Postgres). */
  readonly serverStartTls: boolean;
  /** Client certificates: `requestCert` on the server, `cert`/`key` on the client. */
  readonly mutualTls: boolean;
  readonly alpn: boolean;
  /**
   * `writable.abort()` resets the connection (RST: the peer's read fails with ECONNRESET). Where
   * false the runtime cannot send a reset: abort() still closes the connection at once, dropping
   * queued writes (the peer sees EOF), and rejects with ERR_UNSUPPORTED to say so.
   */
  readonly reset: boolean;
  /** A keep-alive delay (`keepAlive: { delayMs }`, `setKeepAlive(true, delayMs)`); keep-alive itself works everywhere. */
  readonly keepAliveDelay: boolean;
  readonly reusePort: boolean;
  readonly backlog: boolean;
  readonly broadcast: boolean;
  readonly multicast: boolean;
  readonly connectedDatagram: boolean;
  readonly truncationFlag: boolean;
  /** `setTTL()` on a UDP socket (the unicast TTL). */
  readonly datagramTTL: boolean;
  /** A connected UDP socket reports ICMP errors (ECONNREFUSED) to its next `receive()`. */
  readonly icmpErrors: boolean;
  /** `recvBufferSize` / `sendBufferSize` in `bind` (SO_RCVBUF / SO_SNDBUF). */
  readonly datagramBufferSizes: boolean;
}
