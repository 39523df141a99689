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
  cert: string;
  key: string;
  alpn?: string[];
  ca?: string | string[];
  requestCert?: boolean;
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
  /** Only with `secureTransport: "starttls"`; the old Socket is done. */
  startTls(options?: TlsClientOptions): Socket;
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
  /** Default `"0.0.0.0"`; `"::"` or an IPv6 literal makes an IPv6 socket. */
  hostname?: string;
  /** Default 0. */
  port?: number;
  /** A connected socket: send needs no address. */
  connect?: { hostname: string; port: number };
  reuseAddress?: boolean;
  ipv6Only?: boolean;
  /** Default false, on every runtime. */
  broadcast?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Abort closes the socket. */
  signal?: AbortSignal;
}

export interface Datagram {
  data: Uint8Array;
  remoteAddress: NetAddr;
  truncated: boolean;
}

export interface OutgoingDatagram {
  data: Uint8Array;
  hostname?: string;
  port?: number;
}

export interface Multicast {
  join(group: string, iface?: string): Promise<void>;
  leave(group: string, iface?: string): Promise<void>;
  setTTL(ttl: number): void;
  setLoopback(on: boolean): void;
  setInterface(addr: string): void;
}

export interface DatagramSocket extends AsyncIterable<Datagram>, AsyncDisposable {
  readonly localAddress: NetAddr;
  readonly remoteAddress: NetAddr | null;
  /** One datagram; waits under backpressure; over the size limit: EMSGSIZE, socket stays open. */
  send(data: Uint8Array | string, to?: { hostname: string; port: number }): Promise<void>;
  receive(options?: { signal?: AbortSignal }): Promise<Datagram>;
  readonly readable: ReadableStream<Datagram>;
  readonly writable: WritableStream<OutgoingDatagram>;
  setBroadcast(on: boolean): void;
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
  readonly reusePort: boolean;
  readonly backlog: boolean;
  readonly broadcast: boolean;
  readonly multicast: boolean;
  readonly connectedDatagram: boolean;
  readonly truncationFlag: boolean;
}
