/** What every entry point exports besides its adapter's functions: the contract's types and SocketError. */
export { SocketError } from "./errors.ts";
export { type ByteSink, type ByteSource, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_BYTES, DelimitedReader, DelimiterDecoderStream, DelimiterEncoderStream, type DelimiterOptions, encodeDelimited, encodeFrame, LengthPrefixDecoderStream, LengthPrefixedReader, LengthPrefixEncoderStream, type LengthPrefixOptions, LineDecoderStream, LineEncoderStream, LineReader, readExactly, writeDelimited, writeFrame } from "./framing.ts";
export type {
  AcceptOptions,
  Addr,
  BindOptions,
  Capabilities,
  ConnectAddress,
  ConnectOptions,
  Datagram,
  DatagramSocket,
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
} from "./types.ts";
