/*
 * node:net under the contract: a connected socket as the core's Transport. Node's own quirks
 * absorbed here: `write()` buffers everything and only signals pressure by returning false (the
 * Outbox waits for 'drain'); sockets are created with allowHalfOpen so the core, not Node, decides
 * what a FIN means; errors arrive as 'error' events with negative errno. TLS (tls.ts) wraps these
 * same sockets, and a plaintext one can be upgraded to it (STARTTLS, starttls.ts).
 */
import { Buffer } from "node:buffer";
import type net from "node:net";
import tls from "node:tls";
import { closedError, SocketError } from "../../core/errors.ts";
import { netAddr } from "../../core/options.ts";
import { Outbox } from "../../core/outbox.ts";
import type { Opened, SocketSink, Transport } from "../../core/transport.ts";
import type { Addr, SocketInfo, TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import { drainWaiter } from "../_node/streams.ts";
import { onPeerEnd } from "./eof.ts";
import { type Plaintext, upgradeClient, upgradeServer } from "./starttls.ts";
import { resetTls } from "./tls.ts";

function addrOf(sock: net.Socket, side: "local" | "remote", known: Addr | null): Addr {
  if (known !== null) return { ...known };
  return side === "local"
    ? netAddr("tcp", sock.localAddress ?? "", sock.localPort ?? 0)
    : netAddr("tcp", sock.remoteAddress ?? "", sock.remotePort ?? 0);
}

/**
 * A connection's addresses known without asking the socket (each ask is a getsockname or
 * getpeername): a Unix socket's paths, the IPv4 literal a client connected to, the specific
 * address a listener is bound to. `null`: ask the socket.
 */
export interface KnownAddrs {
  local: Addr | null;
  remote: Addr | null;
}

export function infoOf(sock: net.Socket, known: KnownAddrs): SocketInfo {
  return {
    localAddress: addrOf(sock, "local", known.local),
    remoteAddress: addrOf(sock, "remote", known.remote),
    alpn: null,
  };
}

/** The sink of a released connection: see #onClose. */
const RELEASED: SocketSink = { data() {}, end() {}, error() {}, closed() {} };

/**
 * net.connect's `onread` for a plain client socket: libuv reads into a buffer the socket keeps
 * (see NodeTransport.onRead), skipping the socket's Readable ('data': a fresh buffer, a push and a
 * nextTick per read). Accepted sockets have no such option. `attach` names the transport the reads
 * go to; none come before the socket connects.
 */
export function userBufferReads(): { onread: net.OnReadOpts; attach(t: NodeTransport): void } {
  let transport: NodeTransport | null = null;
  let buf = new Uint8Array(USER_BUFFER);
  return {
    onread: {
      // Asked for the next read's buffer after each read: a fresh one once the last was handed over.
      buffer: () => buf,
      callback: (n, into) => {
        if (transport?.onRead(n, into)) buf = new Uint8Array(USER_BUFFER);
        return true;
      },
    },
    attach: (t) => {
      transport = t;
    },
  };
}

const USER_BUFFER = 64 * 1024;

/**
 * A connected node:net socket (or a TLS socket, and the TCP socket under it) as the core's
 * Transport; it reports to `sink` from the moment it exists. Writes go through the core's Outbox,
 * whose batches replace cork(): Node writes each chunk it is given with its own writev() entry.
 */
export class NodeTransport implements Transport {
  readonly #sock: net.Socket;
  #sink: SocketSink;
  readonly #known: KnownAddrs;
  /** The TCP socket under a TLS one. */
  readonly #tcp: net.Socket | null;
  /** Made by the first write (see #out): a connection that never writes has none. */
  #outbox: Outbox | null = null;
  /** Why writes fail once the connection is gone, for an Outbox made after that. */
  #dropped: (() => unknown) | null = null;
  #whenDrained: (() => Promise<void>) | null = null;
  /** close() waits for 'close' through this. */
  #released: (() => void) | null = null;

  constructor(sock: net.Socket, sink: SocketSink, known: KnownAddrs, tcp: net.Socket | null = null) {
    this.#sock = sock;
    this.#sink = sink;
    this.#known = known;
    this.#tcp = tcp;
    sock.on("data", this.#onData);
    sock.on("end", this.#onEnd);
    sock.on("error", this.#onError);
    sock.on("close", this.#onClose);
  }

  readonly #onData = (chunk: Uint8Array): void => {
    this.#outbox?.received();
    this.#sink.data(chunk);
  };

  /**
   * A read into the socket's own buffer (see userBufferReads): copied straight into a waiting
   * read(), else handed over whole when full (true: the socket needs a new buffer), else copied out.
   */
  onRead(n: number, buf: Uint8Array): boolean {
    this.#outbox?.received();
    if ((this.#sink.fill?.(buf, n) ?? 0) > 0) return false;
    if (n < buf.byteLength) {
      this.#sink.data(buf.slice(0, n));
      return false;
    }
    this.#sink.data(buf);
    return true;
  }
  readonly #onEnd = (): void => onPeerEnd(this.#sock, () => this.#sink.end());
  readonly #onError = (err: Error): void => this.#sink.error(err);
  readonly #onClose = (): void => {
    const sink = this.#sink;
    const released = this.#released;
    this.#sink = RELEASED;
    this.#released = null;
    sink.closed();
    this.#drop(
      () => this.#sock.errored ?? new SocketError("EPIPE", "the connection closed before the write was taken"),
    );
    released?.();
  };

  #out(): Outbox {
    if (this.#outbox === null) {
      this.#outbox = new Outbox(
        { send: (bytes, owned) => this.#send(bytes, owned) },
        { defer: process.nextTick, keepsBuffers: false },
      );
      if (this.#dropped !== null) this.#outbox.drop(this.#dropped);
    }
    return this.#outbox;
  }

  #drop(why: () => unknown): void {
    this.#dropped ??= why;
    this.#outbox?.drop(why);
  }

  /**
   * Node keeps a reference to a chunk it has not yet handed to the kernel even when write()
   * returns true, but the contract lets the caller reuse its buffer once write() resolves: a
   * caller's chunk below the high-water mark is copied. A larger one makes write() return false,
   * so it waits for 'drain', which comes only once Node is done with every chunk it holds.
   */
  #send(bytes: Uint8Array, owned: boolean): number | Promise<number> {
    const chunk = owned || bytes.byteLength >= this.#sock.writableHighWaterMark ? bytes : Buffer.from(bytes);
    const n = bytes.byteLength;
    return this.#sock.write(chunk) ? n : (this.#whenDrained ??= drainWaiter(this.#sock))().then(() => n);
  }

  write(data: Uint8Array): Promise<void> | undefined {
    return this.#out().write(data);
  }

  async closeWrite(): Promise<void> {
    if (this.#outbox !== null) await this.#outbox.flush();
    const sock = this.#sock;
    if (sock.writableFinished || sock.destroyed) return;
    await new Promise<void>((resolve) => sock.end(() => resolve()));
  }

  async close(): Promise<void> {
    if (this.#outbox !== null) await this.#outbox.flush();
    const sock = this.#sock;
    if (sock.closed) return;
    await new Promise<void>((resolve) => {
      this.#released = resolve;
      // Nothing left to flush on a plain TCP socket: close() sends the FIN itself, sparing a
      // shutdown() and a trip through the event loop. TLS still ends with its close_notify.
      if (sock.writableFinished || !sock.writable || (sock.writableLength === 0 && !(sock instanceof tls.TLSSocket)))
        sock.destroy();
      else sock.end(() => sock.destroy());
    });
  }

  reset(): void {
    this.#drop(() => closedError("the socket was reset"));
    // AF_UNIX has no reset, and node:net's resetAndDestroy() throws on a Unix socket's handle (as
    // its _destroy would on one marked for reset): a Unix socket is closed at once, unflushed.
    if (this.#known.remote?.transport === "unix") this.#sock.destroy();
    else if (this.#sock instanceof tls.TLSSocket) resetTls(this.#sock, this.#tcp);
    else this.#sock.resetAndDestroy();
  }

  pause(): void {
    this.#sock.pause();
  }

  resume(): void {
    this.#sock.resume();
  }

  setNoDelay(on: boolean): void {
    this.#sock.setNoDelay(on);
  }

  setKeepAlive(on: boolean, delayMs?: number): void {
    this.#sock.setKeepAlive(on, delayMs);
  }

  ref(): void {
    this.#sock.ref();
  }

  unref(): void {
    this.#sock.unref();
  }

  startTls(options: TlsClientOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    return upgradeClient(this.#plaintext(), options, sink, signal);
  }

  startTlsServer(options: TlsServerOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    return upgradeServer(this.#plaintext(), options, sink, signal);
  }

  /** This connection as a STARTTLS upgrade takes it (see starttls.ts). */
  #plaintext(): Plaintext {
    return {
      sock: this.#sock,
      flush: () => {
        const outbox = this.#outbox;
        if (outbox === null) return null;
        const flushed = outbox.flush();
        return outbox.pending > 0 ? flushed : null;
      },
      detach: () => this.#detach(),
      opened: (tlsSock, sink, info) => ({
        transport: new NodeTransport(tlsSock, sink, this.#known, this.#sock),
        info: { ...infoOf(this.#sock, this.#known), ...info },
      }),
    };
  }

  /** This socket's events now belong to the TLS socket wrapping it. */
  #detach(): void {
    const sock = this.#sock;
    sock.off("data", this.#onData);
    sock.off("end", this.#onEnd);
    sock.off("error", this.#onError);
    sock.off("close", this.#onClose);
    // The TLS socket hears this one's errors itself; this keeps one it misses from being uncaught.
    sock.on("error", () => {});
  }
}
