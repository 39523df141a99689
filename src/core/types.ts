/**
 * The public API of unisock: the contract every adapter implements the same way.
 * Declarations only; behaviour lives in the other core files and the adapters.
 */

/** The runtime an adapter is written for. */
export type Runtime = "node" | "deno" | "bun" | "workerd";

/** An IP endpoint. IPv6 hostnames are reported without brackets (`"::1"`). */
export interface NetAddr {
  /** `"tcp"` for stream sockets, `"udp"` for datagram sockets. */
  transport: "tcp" | "udp";
  /** The IP address, IPv6 without brackets. */
  hostname: string;
  /** The port, 0 to 65535. */
  port: number;
  /** The address family of `hostname`. */
  family: "IPv4" | "IPv6";
}

/** A Unix socket endpoint. Abstract names start with `"\0"`. */
export interface UnixAddr {
  /** Always `"unix"`: tells a Unix address from a {@linkcode NetAddr}. */
  transport: "unix";
  /** The socket file's path, or an abstract name starting with `"\0"` (Linux). */
  path: string;
}

/**
 * A stream socket's address: IP ({@linkcode NetAddr}) or Unix ({@linkcode UnixAddr}); tell them apart by `transport`.
 */
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
  /** The process (or the system) is out of file descriptors. */
  | "EMFILE"
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

/**
 * How a connection uses TLS: `"off"` plaintext, `"on"` TLS from the start, `"starttls"` plaintext that `startTls()` upgrades later (the WinterTC Sockets API's values).
 */
export type SecureTransport = "off" | "on" | "starttls";

/**
 * The client side of TLS: `connect(..., { secureTransport: "on", tls })` or `socket.startTls(tls)`.
 *
 * @example Trusting a private CA and asking for HTTP/2
 * ```ts
 * import { connect } from "unisock";
 * declare const caPem: string;
 * const s = connect("internal.example:443", { secureTransport: "on", tls: { ca: caPem, alpn: ["h2", "http/1.1"] } });
 * const { alpn } = await s.opened;
 * ```
 */
export interface TlsClientOptions {
  /** The name the certificate must match; default: the hostname connected to. */
  serverName?: string;
  /** PEM; default: the runtime's trusted roots. */
  ca?: string | string[];
  /** Client certificate (mutual TLS), PEM. */
  cert?: string;
  /** The private key of `cert`, PEM (mutual TLS, capability `mutualTls`). */
  key?: string;
  /** The ALPN protocols to offer, in order of preference; the chosen one is `SocketInfo.alpn`. */
  alpn?: string[];
  /** Default true. */
  rejectUnauthorized?: boolean;
}

/**
 * The server side of TLS: `listen({ tls })`, or `startTls({ server })` on an accepted socket.
 */
export interface TlsServerOptions {
  /** PEM: the certificate chain, leaf first. */
  cert: string;
  /** PEM: the private key of `cert`. */
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
  /** The certificate and options of the server's side. */
  server: TlsServerOptions;
}

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

/** What this runtime's adapter can do. A `false` means the matching call throws ERR_UNSUPPORTED. */
export interface Capabilities {
  /** Listening for connections (`listen()`); false on Cloudflare Workers, which only connects out. */
  readonly listen: boolean;
  /** UDP sockets (`bind()`). */
  readonly udp: boolean;
  /** Unix stream sockets (`connect({ path })`, `listen({ path })`). */
  readonly unixStream: boolean;
  /** Unix datagram sockets (`bind({ path })`). */
  readonly unixDatagram: boolean;
  /** TLS clients and servers (`secureTransport: "on"`, `listen({ tls })`). */
  readonly tls: boolean;
  /**
   * A client that upgrades a plaintext connection (`secureTransport: "starttls"`, `startTls()`).
   */
  readonly startTls: boolean;
  /** A server that upgrades an accepted plaintext connection (SMTP, Postgres). */
  readonly serverStartTls: boolean;
  /** Client certificates: `requestCert` on the server, `cert`/`key` on the client. */
  readonly mutualTls: boolean;
  /** ALPN (`tls.alpn`, `SocketInfo.alpn`). */
  readonly alpn: boolean;
  /**
   * `writable.abort()` resets the connection (RST: the peer's read fails with ECONNRESET). Where
   * false the runtime cannot send a reset: abort() still closes the connection at once, dropping
   * queued writes (the peer sees EOF), and rejects with ERR_UNSUPPORTED to say so.
   */
  readonly reset: boolean;
  /** TCP socket options: `noDelay`/`keepAlive` options and `setNoDelay()`/`setKeepAlive()` (false on Cloudflare Workers). */
  readonly socketOptions: boolean;
  /** A keep-alive delay (`keepAlive: { delayMs }`, `setKeepAlive(true, delayMs)`); keep-alive itself works everywhere. */
  readonly keepAliveDelay: boolean;
  /** `listen({ reusePort })` (SO_REUSEPORT). */
  readonly reusePort: boolean;
  /** `listen({ backlog })` is honoured. */
  readonly backlog: boolean;
  /** `listen({ ipv6Only })`: a listener on `"::"` that takes no IPv4 clients. UDP `bind` honours `ipv6Only` everywhere. */
  readonly ipv6Only: boolean;
  /** UDP broadcast (`bind({ broadcast })`, `setBroadcast()`). */
  readonly broadcast: boolean;
  /** UDP multicast (`socket.multicast`). */
  readonly multicast: boolean;
  /** Connected datagram sockets (`bind({ connect })`). */
  readonly connectedDatagram: boolean;
  /** `Datagram.truncated` reports a datagram cut to the receive buffer. */
  readonly truncationFlag: boolean;
  /** `setTTL()` on a UDP socket (the unicast TTL). */
  readonly datagramTTL: boolean;
  /** A connected UDP socket reports ICMP errors (ECONNREFUSED) to its next `receive()`. */
  readonly icmpErrors: boolean;
  /** `recvBufferSize` / `sendBufferSize` in `bind` (SO_RCVBUF / SO_SNDBUF). */
  readonly datagramBufferSizes: boolean;
}
