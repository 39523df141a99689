import type { AdapterContext } from "./context.ts";
import { closedError, invalid, SocketError, toSocketError } from "./errors.ts";
import { Closing, type ClosingHost } from "./closing.ts";
import { Inbox } from "./inbox.ts";
import { checkKeepAliveArgs, noDelayArg } from "./options.ts";
import { type OpenAttempt, startOpen } from "./open.ts";
import { deferred, handled, RESOLVED, raceSignal } from "./signal.ts";
import { checkUpgrade, upgradeOpener } from "./starttls.ts";
import { lockPath, type Path, SocketReadable, SocketWritable } from "./streams.ts";
import type { Opened, OpenNow, Opener, SocketSink, Transport } from "./transport.ts";
import type {
  ReadOptions,
  SecureTransport,
  Socket,
  SocketInfo,
  StartTlsServerOptions,
  TlsClientOptions,
} from "./types.ts";
import { signalOption, toBytes } from "./validate.ts";
import { WriteChain } from "./writes.ts";

/**
 * The stream socket of the contract, written once. An adapter supplies only a `Transport` (the
 * runtime's connection) and feeds a `SocketSink`; everything a user can observe — EOF, half-close,
 * allowHalfOpen, close and its flushing, locking of the two read/write paths, Web Streams, abort
 * signals, error codes — is decided here, so it is the same on every runtime.
 */

export interface StreamSocketOptions {
  secureTransport?: SecureTransport;
  allowHalfOpen?: boolean;
  signal?: AbortSignal;
  /** Bytes buffered on the receive side before the runtime is paused. */
  highWater?: number;
  /** For "starttls": the TLS options given to connect, which `startTls()` options override. */
  tls?: TlsClientOptions;
}

const DEFAULT_HIGH_WATER = 256 * 1024;

/** A failed open is reported through `opened` and `closed`, not again by what waited for it. */
const ignore = (): void => {};

export class StreamSocket implements Socket {
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  readonly secureTransport: SecureTransport;

  readonly #ctx: AdapterContext;
  readonly #allowHalfOpen: boolean;
  readonly #inbox: Inbox;
  readonly #closedD = deferred<void>();
  /** A connect not known to have opened (made only for an open that can be pending). */
  #attempt: OpenAttempt | null = null;
  #transport: Transport | null = null;
  #error: unknown = null;
  /** close(), reset or startTls(): this Socket object is done. */
  #localClosed = false;
  /** writable.abort() dropped the connection: nothing more is flushed or waited for. */
  #wasReset = false;
  #writeEnded = false;
  #eof = false;
  #readPath: Path | null = null;
  #writePath: Path | null = null;
  /** Made by the first write: a socket that never writes has none. */
  #writeChain: WriteChain | null = null;
  /** How the socket ends: made by its first close, closeWrite, finish or flush. */
  #closing: Closing<StreamSocket> | null = null;
  #upgraded = false;
  #readable: SocketReadable | null = null;
  #writable: SocketWritable | null = null;
  readonly #sink: SocketSink;
  readonly #tlsDefaults: TlsClientOptions;

  constructor(ctx: AdapterContext, opener: Opener | OpenNow, options: StreamSocketOptions = {}) {
    this.#ctx = ctx;
    this.secureTransport = options.secureTransport ?? "off";
    this.#allowHalfOpen = options.allowHalfOpen ?? false;
    this.#tlsDefaults = options.tls ?? {};
    this.#inbox = new Inbox(options.highWater ?? DEFAULT_HIGH_WATER);
    this.closed = this.#closedD.promise; // marked handled only if it rejects (#fail)
    this.#sink = {
      data: (chunk) => this.#inbox.push(chunk),
      fill: (buf, n) => this.#inbox.fill(buf, n),
      end: () => this.#onEnd(),
      error: (err) => this.#onError(err),
      closed: () => this.#onClosed(),
    };
    this.opened = typeof opener === "function" ? this.#open(opener, options.signal) : this.#openNow(opener);
  }

  /** A connection open from the start (accepted): no promise, signal or race to wait through. */
  #openNow(open: OpenNow): Promise<SocketInfo> {
    let opened: Opened;
    try {
      opened = open.now(this.#sink);
    } catch (err) {
      const e = this.#map(err, "ECONNRESET");
      this.#fail(e);
      return handled(Promise.reject(e));
    }
    this.#transport = opened.transport;
    this.#inbox.setFlow(opened.transport);
    return Promise.resolve(opened.info);
  }

  async #open(opener: Opener, userSignal: AbortSignal | undefined): Promise<SocketInfo> {
    const attempt = (this.#attempt = startOpen(opener, this.#sink, userSignal));
    try {
      const { transport, info } = await attempt.result;
      this.#attempt = null;
      this.#transport = transport;
      this.#inbox.setFlow(transport);
      return info;
    } catch (err) {
      const signal = attempt.signal;
      const e = signal.aborted && err === signal.reason ? err : this.#map(err, "ECONNRESET");
      this.#fail(e);
      handled(this.opened); // assigned by now: the constructor got this promise at the first await
      throw e;
    }
  }

  #map(err: unknown, fallback: "ECONNRESET" | "EPIPE"): SocketError {
    return toSocketError(err, this.#ctx.errors, {}, fallback);
  }

  #fail(err: unknown): void {
    if (this.#error !== null) return;
    this.#error = err;
    this.#writable?.stopFlushing(); // nothing more will be flushed
    this.#inbox.fail(err as SocketError);
    if (this.#localClosed) this.#closedD.resolve();
    else {
      handled(this.#closedD.promise);
      this.#closedD.reject(err);
    }
  }

  #onEnd(): void {
    this.#eof = true;
    this.#inbox.end();
    if (!this.#allowHalfOpen || this.#writeEnded) void this.#finish();
  }

  #onError(err: unknown): void {
    if (this.#localClosed && !this.#closing?.closeCalled) return; // upgraded or reset by us: nothing to report
    this.#fail(this.#map(err, "ECONNRESET"));
  }

  #onClosed(): void {
    // A released connection takes no more writes: they fail with EPIPE here, on every runtime,
    // rather than reach a transport that may never settle them (Node's 'drain' never comes).
    this.#writeEnded = true;
    this.#writable?.stopFlushing();
    this.#inbox.end();
    if (this.#error === null) this.#closedD.resolve();
  }

  #lock(side: "read" | "write", path: Path): void {
    if (side === "read") this.#readPath = lockPath(side, this.#readPath, path);
    else this.#writePath = lockPath(side, this.#writePath, path);
  }

  read(into: Uint8Array, options?: ReadOptions): Promise<number | null> {
    try {
      if (!(into instanceof Uint8Array)) throw invalid("read() needs a Uint8Array to read into");
      const signal = signalOption(options, "read options");
      this.#lock("read", "direct");
      return this.#read(into, signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #read(into: Uint8Array, signal: AbortSignal | undefined): Promise<number | null> {
    if (this.#localClosed) throw closedError();
    if (signal?.aborted) throw signal.reason;
    if (into.byteLength === 0) return Promise.resolve(0);
    const r = this.#inbox.read(into);
    if (typeof r === "number" || r === null) return Promise.resolve(r);
    return signal ? raceSignal(r, signal, () => this.#inbox.cancel(signal.reason)) : r;
  }

  write(data: Uint8Array | string, options?: ReadOptions): Promise<void> {
    try {
      const bytes = toBytes(data);
      const signal = signalOption(options, "write options");
      this.#lock("write", "direct");
      // Already aborted: the write never starts, so not one byte of it is queued.
      if (signal?.aborted) throw signal.reason;
      const p = this.#write(bytes);
      return signal ? raceSignal(p, signal) : p;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** `flushing`: a chunk of the writable given before the write side ended, so taken after it. */
  #write(bytes: Uint8Array, flushing = false): Promise<void> {
    if (this.#localClosed && !flushing) throw closedError();
    if (this.#error !== null) throw this.#error;
    if (this.#writeEnded && !flushing) throw new SocketError("EPIPE", "the write side of this socket is closed");
    if (bytes.byteLength === 0) return RESOLVED;
    this.#writeChain ??= new WriteChain({
      opened: () => this.opened,
      transport: () => this.#transport,
      error: () => this.#error,
      map: (err) => this.#map(err, "EPIPE"),
      failed: (err) => (this.#localClosed ? closedError() : (this.#error ?? this.#map(err, "EPIPE"))),
    });
    return this.#writeChain.write(bytes);
  }

  /**
   * The write side ends with a flush (close, closeWrite, the peer's FIN): chunks the writable
   * holds from before now will still reach its sink, and are flushed as earlier write()s are.
   */
  #endWrites(): void {
    if (this.#writeEnded) return;
    this.#writeEnded = true;
    if (this.#upgraded) return;
    this.#writable?.flushQueued();
  }

  closeWrite(): Promise<void> {
    return this.#closer().closeWrite();
  }

  /** Both directions are done: flush, close, release (see closing.ts). */
  #finish(): Promise<void> {
    return this.#closer().finish();
  }

  close(): Promise<void> {
    return this.#closer().close();
  }

  /** Made by the first close, closeWrite, finish or flush: a connection that stays open has none. */
  #closer(): Closing<StreamSocket> {
    this.#closing ??= new Closing(this, StreamSocket.#closingHost);
    return this.#closing;
  }

  /** Closing's view of a socket's state: one object for all sockets (see ClosingHost). */
  static readonly #closingHost: ClosingHost<StreamSocket> = {
    transport: (s) => s.#transport,
    writeChain: (s) => s.#writeChain,
    writable: (s) => s.#writable,
    localClosed: (s) => s.#localClosed,
    wasReset: (s) => s.#wasReset,
    upgraded: (s) => s.#upgraded,
    eof: (s) => s.#eof,
    failed: (s) => s.#error !== null,
    endWrites: (s) => s.#endWrites(),
    closeLocally: (s) => s.#closeLocally(),
    error: (s, err) => s.#onError(err),
  };

  #closeLocally(): void {
    this.#localClosed = true;
    this.#inbox.discard(closedError);
    // Closing while connecting cancels the connect, unless writes are waiting for it: those are flushed.
    if (this.#transport !== null || this.#writeChain?.preOpen || (this.#writable?.queued ?? 0) > 0) return;
    this.#attempt?.abort(closedError("the socket was closed while connecting"));
  }

  /** writable.abort(): drops the connection now, also while close() or closeWrite() waits to flush. */
  #reset(): void {
    if (this.#wasReset || this.#upgraded) return;
    if (this.#closing?.done) return; // a close() that finished left nothing to reset
    this.#wasReset = true;
    this.#localClosed = true;
    this.#writeEnded = true;
    this.#writable?.streamEnded(); // the stream drops what it queued
    this.#inbox.discard(closedError);
    this.#closing?.reset();
    this.#writeChain?.reset();
    if (this.#transport === null) this.#attempt?.abort(closedError("the socket was reset while connecting"));
    this.#transport?.reset();
    this.#closedD.resolve();
  }

  startTls(options?: TlsClientOptions | StartTlsServerOptions): Socket {
    const upgrade = checkUpgrade(this.#ctx, options, {
      secureTransport: this.secureTransport,
      tlsDefaults: this.#tlsDefaults,
      upgraded: this.#upgraded,
      ended: this.#localClosed || this.#error !== null || this.#eof,
    });
    this.#upgraded = true;
    this.#localClosed = true;
    this.#writable?.stopFlushing();
    this.#inbox.discard(() => closedError("the socket was upgraded by startTls(); use the Socket it returned"));
    this.#closedD.resolve();
    const opener = upgradeOpener(this.#ctx, upgrade, {
      opened: this.opened,
      flushed: () => this.#closer().flushed(),
      transport: () => this.#transport!,
    });
    return new StreamSocket(this.#ctx, opener, { secureTransport: "on", allowHalfOpen: this.#allowHalfOpen });
  }

  #whenOpen(f: (t: Transport) => void): void {
    if (this.#transport !== null) f(this.#transport);
    else this.opened.then(() => f(this.#transport!), ignore);
  }

  setNoDelay(on?: boolean): void {
    const noDelay = noDelayArg(this.#ctx, on);
    this.#whenOpen((t) => t.setNoDelay(noDelay));
  }

  setKeepAlive(on: boolean, delayMs?: number): void {
    checkKeepAliveArgs(this.#ctx, on, delayMs);
    this.#whenOpen((t) => t.setKeepAlive(on, delayMs));
  }

  ref(): void {
    this.#whenOpen((t) => t.ref());
  }

  unref(): void {
    this.#whenOpen((t) => t.unref());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= new SocketReadable({
      inbox: this.#inbox,
      lock: () => this.#lock("read", "stream"),
      localClosed: () => this.#localClosed,
      cancel: () => this.#cancelReadable(),
    });
    return this.#readable.stream;
  }

  /** Cancelling the readable stops reading but keeps the write side open (unlike Deno's own streams). */
  #cancelReadable(): void {
    this.#inbox.discard(() => closedError("the readable stream was cancelled"));
    this.#transport?.pause();
    if (this.#writeEnded) void this.#finish();
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new SocketWritable(
      {
        ctx: this.#ctx,
        lock: () => this.#lock("write", "stream"),
        write: (bytes, flushing) => this.#write(bytes, flushing),
        closeWrite: () => this.closeWrite(),
        reset: () => this.#reset(),
        wasReset: () => this.#wasReset,
      },
      this.#wasReset,
    );
    return this.#writable.stream;
  }
}
