/** Addresses and error codes: what every other part of the contract names. */

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
