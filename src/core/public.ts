/** What every entry point exports besides its adapter's functions: the contract's types and SocketError. */
export { type ErrorContext, SocketError, type SocketErrorOptions } from "./errors.ts";
/** Framing also has an entry of its own, `unisock/framing` (src/framing.ts, its code in src/framing/). */
export * from "../framing.ts";
export type {
  AcceptOptions,
  Addr,
  Bind,
  BindOptions,
  Capabilities,
  ConnectAddress,
  ConnectOptions,
  Datagram,
  DatagramAddr,
  DatagramSocket,
  DatagramTarget,
  Listener,
  ListenOptions,
  Multicast,
  NetAddr,
  OutgoingDatagram,
  ReadOptions,
  Runtime,
  SecureTransport,
  Socket,
  SocketErrorCode,
  SocketInfo,
  StartTlsServerOptions,
  TlsClientOptions,
  TlsServerOptions,
  UnixAddr,
  UnixBindOptions,
} from "./types.ts";
