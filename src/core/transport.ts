import type { Flow } from "./inbox.ts";
import type { SocketInfo, TlsClientOptions, TlsServerOptions } from "./types.ts";

/**
 * The seam between a stream socket and its runtime: an adapter supplies a `Transport` (the
 * runtime's connection) through an `Opener`, and feeds the socket's `SocketSink`.
 */

/** What the runtime's connection tells the socket. */
export interface SocketSink {
  /** Bytes from the peer. The socket owns `chunk` from then on: it may keep it, or transfer its buffer to a reader. */
  data(chunk: Uint8Array): void;
  /**
   * The first `n` bytes of the adapter's own read buffer, which it reuses: a waiting read took them
   * (copied: the buffer is free again), and this is the size of that read's buffer; or 0, nothing
   * was taken, and they must come as `data`.
   */
  fill?(buf: Uint8Array, n: number): number;
  /** The peer sent FIN. */
  end(): void;
  /** A native error; the socket maps it to the contract's code. */
  error(err: unknown): void;
  /** The connection is released; after `error` this only confirms it. */
  closed(): void;
}

/** The runtime's connection, as an adapter wraps it. Writes must keep their call order. */
export interface Transport extends Flow {
  /** Takes all of `data`; `undefined` when the runtime took it at once, else resolves when taken. */
  write(data: Uint8Array): Promise<void> | undefined;
  /** Sends FIN once earlier writes are out. */
  closeWrite(): Promise<void>;
  /** Closes cleanly once earlier writes are out; resolves when released. */
  close(): Promise<void>;
  /** Resets (RST) now. */
  reset(): void;
  setNoDelay(on: boolean): void;
  setKeepAlive(on: boolean, delayMs?: number): void;
  ref(): void;
  unref(): void;
  /**
   * Upgrades this plaintext connection to TLS as the client; the new connection reports to `sink`.
   * `options` are checked and complete: `serverName` is set unless `rejectUnauthorized` is false.
   * Resolves once the handshake and the certificate check are done.
   */
  startTls?(options: TlsClientOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened>;
  /** The same as the server (`startTls({ server })`); resolves once the client is accepted. */
  startTlsServer?(options: TlsServerOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened>;
}

export interface Opened {
  transport: Transport;
  info: SocketInfo;
}

/** Opens the connection for a socket (connect, accept or a TLS upgrade). */
export type Opener = (sink: SocketSink, signal: AbortSignal | undefined) => Promise<Opened>;

/**
 * A connection that is open already (one a listener accepted): the socket takes it over in its
 * constructor, with no promise, signal or turn of the event loop between the runtime and the user.
 * Throwing fails the socket as a failed open does.
 */
export interface OpenNow {
  now(sink: SocketSink): Opened;
}
