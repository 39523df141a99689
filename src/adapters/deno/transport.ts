/*
 * A Deno connection under the contract. Deno's own quirks absorbed here:
 * - Reads are pulled, not pushed: a pump loop calls `conn.read()` and feeds the sink, and stops
 *   while the core has paused it.
 * - `conn.write()` may take only part of a buffer, and Deno does not order concurrent writes for
 *   us: the core's Outbox keeps one in flight, in call order, and resends partial writes' tails.
 * - `conn.readable` / `conn.writable` are never touched: closing the writable or cancelling the
 *   readable closes the whole connection, and the readable closes it at EOF (denoland/deno#22258,
 *   #27510), which would make half-close impossible.
 * - Deno cannot send RST (no SO_LINGER): see `reset()`.
 * - STARTTLS: a socket made for STARTTLS reads only on demand, while the core has a reader waiting
 *   (Flow.demand), so nothing past the plaintext is read for nobody; if the user's read was
 *   waiting when startTls() comes, the read in flight is handed, with its bytes, to the node:tls
 *   handshake over the same connection (see starttls.ts).
 * TLS (tls.ts) runs over these same connections.
 */
import { closedError, type SocketError } from "../../core/errors.ts";
import { netAddr, unixAddr } from "../../core/options.ts";
import { Outbox } from "../../core/outbox.ts";
import type { Opened, SocketSink } from "../../core/transport.ts";
import type { Addr, SocketInfo, TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import type { DenoAddr, DenoConn } from "./_deno.ts";
import { denoError } from "./context.ts";
import { startTlsClient, startTlsServer } from "./starttls.ts";
import type { RawTransport } from "./tls.ts";

/**
 * Read buffers start at FIRST_READ (an idle or short-lived connection holds no more) and grow to
 * MAX_READ while reads fill them. A read that does not fill its buffer is copied out and the
 * buffer reused, so a small chunk never pins a big buffer.
 */
const FIRST_READ = 16 * 1024;
const MAX_READ = 64 * 1024;
/** A buffer whose reads are copied into a waiting reader's grows up to this (the reader's buffer permitting). */
const MAX_FILL = 256 * 1024;

/** The name Deno gives an operation on a closed resource, or one cut short by close(). */
export function isClosedError(err: unknown): boolean {
  const name = (err as Error | null)?.name;
  return name === "BadResource" || name === "Interrupted";
}

/** How a DenoTransport reads. */
export interface TransportMode {
  /** A TCP connection (socket options apply). */
  tcp: boolean;
  /** Read only while the core has a reader waiting (a STARTTLS socket: see the top of this file). */
  onDemand?: boolean;
  /** The addresses, for the SocketInfo of a STARTTLS upgrade. */
  info: SocketInfo;
}

/** Nothing reads from a raw transport before node:tls redirects it (it starts on demand). */
export const NO_SINK: SocketSink = { data: () => {}, end: () => {}, error: () => {}, closed: () => {} };

/**
 * A Deno connection as the core's Transport; it reports to `sink` from the moment it exists.
 * Used for Deno TLS connections too (a Deno.TlsConn is a Conn), and, as a RawTransport, under
 * node:tls (tls.ts).
 */
export class DenoTransport implements RawTransport {
  readonly #conn: DenoConn;
  #sink: SocketSink;
  readonly #tcp: boolean;
  readonly #info: SocketInfo;
  /** Read only when `demand()` asks (STARTTLS sockets), instead of all the time. */
  #onDemand: boolean;
  #wanted = false;
  /** A `conn.read` is pending. */
  #reading = false;
  readonly #outbox: Outbox;
  #paused = false;
  /** Paused by node:tls running over this connection (see hold()). */
  #held = false;
  #wake: (() => void) | null = null;
  /** `conn.close()` was called: nothing more goes to Deno, nor to the sink. */
  #released = false;
  #closing: Promise<void> | null = null;

  constructor(conn: DenoConn, sink: SocketSink, mode: TransportMode) {
    this.#conn = conn;
    this.#sink = sink;
    this.#tcp = mode.tcp;
    this.#info = mode.info;
    this.#onDemand = mode.onDemand ?? false;
    this.#outbox = new Outbox(
      { send: (bytes) => this.#conn.write(bytes), failed: (err) => this.#writeFailed(err) },
      { keepsBuffers: true },
    );
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (!this.#onDemand) await this.#firstTurn();
    if (this.#released) return; // closed meanwhile: no read, no buffer
    let buf = new Uint8Array(FIRST_READ);
    try {
      while (!this.#released) {
        if (this.#paused || this.#held || (this.#onDemand && !this.#wanted)) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        this.#wanted = false;
        this.#reading = true;
        const n = await this.#conn.read(buf);
        this.#reading = false;
        if (this.#released) return;
        if (n === null) return this.#sink.end();
        this.#outbox.received();
        const size = buf.byteLength;
        const room = this.#sink.fill?.(buf, n) ?? 0;
        if (room > 0) {
          // Copied into the waiting read: the buffer is free. While reads fill it, it grows up to
          // the reader's own buffer (to MAX_FILL), so a bulk reader costs as few reads as natively.
          if (n === size && room > size && size < MAX_FILL) buf = new Uint8Array(Math.min(size * 4, room, MAX_FILL));
        } else if (n < size) this.#sink.data(buf.slice(0, n));
        else {
          // A full buffer is handed over for good (a readable transfers it without a copy), so the
          // next read gets a fresh one. A partial read is copied out instead: a view would pin the
          // whole buffer, and the readable would copy it anyway to transfer it.
          this.#sink.data(buf);
          buf = new Uint8Array(Math.min(size * 4, MAX_READ));
        }
      }
    } catch (err) {
      // Interrupted or BadResource after our own close: nothing to report.
      if (!this.#released) this.#fail(denoError(err, { syscall: "read" }));
    }
  }

  /**
   * The first read waits for the next macrotask, or for a reader (demand) if one comes first: a
   * connection closed in the turn that opened it (a health check, a client that only connects)
   * never reads. A read pending at close costs Deno an Interrupted error built with its stack
   * (buildCustomError, 8% of a connect + close in Deno's profile).
   */
  #firstTurn(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      setTimeout(() => this.#wakePump(), 0);
    });
  }

  #wakePump(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** A real failure of the connection: report it, then release the connection. */
  #fail(err: SocketError): void {
    if (this.#released) return;
    this.#sink.error(err);
    this.#release(() => err);
  }

  /**
   * Closes the Deno connection now; queued writes fail with `why()` (made only if some are left).
   * `conn.close()` is synchronous: the connection is released here and `sink.closed()` says so at
   * once. A read still pending settles with Interrupted only on the next turn of the event loop,
   * and the pump then stops without a word; waiting for it cost every close() a loop turn.
   */
  #release(why: () => unknown): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#wakePump();
    this.#outbox.drop(why);
    // The sink, and through it the Socket, is let go: what outlives the connection (its timer, a
    // late read's promise) must not keep the Socket from the next scavenge.
    const sink = this.#sink;
    this.#sink = NO_SINK;
    sink.closed();
  }

  write(data: Uint8Array): Promise<void> | undefined {
    return this.#outbox.write(data);
  }

  /** A write Deno failed: the connection is done (unless we closed it ourselves: then this is a no-op, and the core reports ECLOSED). */
  #writeFailed(err: unknown): SocketError {
    const e = denoError(err, { syscall: "write" }, "EPIPE");
    this.#fail(e);
    return e;
  }

  async closeWrite(): Promise<void> {
    await this.#outbox.flush();
    if (this.#released) return;
    try {
      await this.#conn.closeWrite();
    } catch (err) {
      if (!this.#released) throw denoError(err, { syscall: "shutdown" }, "EPIPE");
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#outbox.flush().then(() => this.#release(closedError));
    return this.#closing;
  }

  /**
   * Deno has no RST: it exposes no SO_LINGER and closes with FIN. The closest is to close at once
   * and drop what is queued; the kernel then sends RST only if unread data is left in our receive
   * buffer, otherwise the peer sees an ordinary EOF.
   */
  reset(): void {
    this.#release(() => closedError("the socket was reset"));
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    if (!this.#held) this.#wakePump();
  }

  /** A reader is waiting: read once (on-demand mode), or start reading now if the first read still waits (see #firstTurn). */
  demand(): void {
    if (!this.#onDemand) return this.#wakePump();
    if (this.#wanted || this.#reading) return;
    this.#wanted = true;
    this.#wakePump();
  }

  /** See RawTransport: node:tls takes over what this connection reads, the read in flight included. */
  redirect(sink: SocketSink): void {
    this.#sink = sink;
    this.#onDemand = false;
    this.#paused = false; // a pause of the plaintext socket's is void: the new socket has its own
    this.#wakePump();
  }

  /** See RawTransport: the TLS engine's backpressure, apart from the core's pause(). */
  hold(on: boolean): void {
    this.#held = on;
    if (!on) this.#wakePump();
  }

  /** Client STARTTLS (starttls.ts). */
  startTls(options: TlsClientOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    return startTlsClient(this, this.#released, this.#info, options, sink, signal);
  }

  /** Server STARTTLS (starttls.ts). */
  startTlsServer(options: TlsServerOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    return startTlsServer(this, this.#released, this.#info, options, sink, signal);
  }

  setNoDelay(on: boolean): void {
    if (this.#tcp && !this.#released) this.#conn.setNoDelay?.(on);
  }

  /** TcpConn.setKeepAlive takes no delay: core refuses one before it gets here (capabilities.keepAliveDelay). */
  setKeepAlive(on: boolean): void {
    if (this.#tcp && !this.#released) this.#conn.setKeepAlive?.(on);
  }

  ref(): void {
    if (!this.#released) this.#conn.ref();
  }

  unref(): void {
    if (!this.#released) this.#conn.unref();
  }
}

/** Deno reports an unnamed Unix end (a client's own) as path null; the contract says "". */
export function addrOf(a: DenoAddr, unixPath: string): Addr {
  return "path" in a ? unixAddr(a.path ?? unixPath) : netAddr("tcp", a.hostname, a.port);
}

/** `mode.info` is the connection's own addresses; `info` what `opened` reports (with the TLS part). */
export function opened(conn: DenoConn, sink: SocketSink, mode: TransportMode, info: SocketInfo = mode.info): Opened {
  return { transport: new DenoTransport(conn, sink, mode), info };
}
