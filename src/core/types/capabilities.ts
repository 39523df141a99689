/** What an adapter can do, and which runtime it is for. */

/** The runtime an adapter is written for. */
export type Runtime = "node" | "deno" | "bun" | "workerd";

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
