import type { AdapterContext } from "./context.ts";
import { closedError, invalid, SocketError, toSocketError, unsupported } from "./errors.ts";
import { Inbox } from "./inbox.ts";
import { startOpen } from "./open.ts";
import { type Deferred, deferred, handled, RESOLVED, raceSignal } from "./signal.ts";
import { checkUpgrade, upgradeOpener } from "./starttls.ts";
import { SocketReadable, SocketWritable } from "./streams.ts";
import type { Opened, OpenNow, Opener, SocketSink, Transport } from "./transport.ts";
import type { ReadOptions, SecureTransport, Socket, SocketInfo, StartTlsServerOptions, TlsClientOptions } from "./types.ts";
import { checkFlag, checkKeepAliveDelay, show, signalOption, toBytes } from "./validate.ts";
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

type Path = "direct" | "stream";

export class StreamSocket implements Socket {
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  readonly secureTransport: SecureTransport;

  readonly #ctx: AdapterContext;
  readonly #allowHalfOpen: boolean;
  readonly #inbox: Inbox;
  readonly #closedD = deferred<void>();
  /** Cancels the adapter's pending open; made only for an open that can be pending. */
  #openAbort: AbortController | null = null;
  /** Rejects the pending open (set while opening). */
  #cancelOpen: ((reason: unknown) => void) | null = null;
  #transport: Transport | null = null;
  #error: unknown = null;
  /** close(), reset or startTls(): this Socket object is done. */
  #localClosed = false;
  /** writable.abort() dropped the connection: nothing more is flushed or waited for. */
  #wasReset = false;
  #closeDone = false;
  /** Resolved by a reset, for what waits on the connection meanwhile (flushing, closing). */
  #resetD: Deferred<void> | null = null;
  #writeEnded = false;
  #eof = false;
  #readPath: Path | null = null;
  #writePath: Path | null = null;
  /** Made by the first write: a socket that never writes has none. */
  #writeChain: WriteChain | null = null;
  #closeWriteP: Promise<void> | null = null;
  #finishP: Promise<void> | null = null;
  #closeP: Promise<void> | null = null;
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
    this.#openAbort = new AbortController();
    const attempt = startOpen(opener, this.#sink, userSignal, this.#openAbort.signal);
    this.#cancelOpen = attempt.cancel;
    try {
      const { transport, info } = await attempt.result;
      this.#cancelOpen = null;
      this.#transport = transport;
      this.#inbox.setFlow(transport);
      return info;
    } catch (err) {
      this.#cancelOpen = null;
      const signal = attempt.signal;
      const e = signal.aborted && err === signal.reason ? err : this.#map(err, "ECONNRESET");
      this.#fail(e);
      handled(this.opened); // assigned by now: the constructor got this promise at the first await
      throw e;
    }
  }

  /** Cancels a pending open: the adapter's connect through the signal it was given, and `opened`. */
  #abortOpen(reason: SocketError): void {
    this.#openAbort?.abort(reason);
    this.#cancelOpen?.(reason);
  }

  #map(err: unknown, fallback: "ECONNRESET" | "EPIPE"): SocketError {
    return toSocketError(err, this.#ctx.errors, {}, fallback);
  }

  #fail(err: unknown): void {
    if (this.#error !== null) return;
    this.#error = err;
    this.#stopFlushing();
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
    if (this.#localClosed && this.#closeP === null) return; // upgraded or reset by us: nothing to report
    this.#fail(this.#map(err, "ECONNRESET"));
  }

  #onClosed(): void {
    // A released connection takes no more writes: they fail with EPIPE here, on every runtime,
    // rather than reach a transport that may never settle them (Node's 'drain' never comes).
    this.#writeEnded = true;
    this.#stopFlushing();
    this.#inbox.end();
    if (this.#error === null) this.#closedD.resolve();
  }

  #lock(side: "read" | "write", path: Path): void {
    const current = side === "read" ? this.#readPath : this.#writePath;
    if (current === path) return;
    if (current !== null) {
      const other = path === "direct" ? `the ${side}able stream` : `${side}()`;
      throw invalid(`this socket's ${side} side is already used through ${other}; the two paths cannot be mixed`);
    }
    if (side === "read") this.#readPath = path;
    else this.#writePath = path;
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
      failed: (err) => (this.#localClosed ? closedError() : this.#error ?? this.#map(err, "EPIPE")),
    });
    return this.#writeChain.write(bytes);
  }

  /** Resolves when writable.abort() drops the connection. */
  #onReset(): Promise<void> {
    this.#resetD ??= deferred<void>();
    if (this.#wasReset) this.#resetD.resolve();
    return this.#resetD.promise;
  }

  /** Waits for `p`, or for a reset, whichever comes first. */
  #untilReset(p: Promise<void>): Promise<void> {
    return this.#wasReset ? RESOLVED : Promise.race([p, this.#onReset()]);
  }

  /**
   * Waits for every write so far, and every chunk of the writable to flush, to be taken by the
   * runtime (or a reset); their failures are reported to their callers.
   */
  #flushed(): Promise<void> {
    const chain = this.#writeChain;
    const streamFlushed = this.#writable?.flushing() ?? null;
    if (streamFlushed === null) return chain === null ? RESOLVED : this.#untilReset(chain.settled());
    // The chunks reach write() (and make the chain) only as the stream passes them on: wait for it after them.
    return this.#untilReset(streamFlushed.then(() => this.#writeChain?.settled()));
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

  /** Nothing more will be flushed: a failure, a reset, a release, or the writable is done. */
  #stopFlushing(): void {
    this.#writable?.stopFlushing();
  }

  closeWrite(): Promise<void> {
    if (this.#closeWriteP !== null) return this.#closeWriteP;
    if (this.#localClosed) return Promise.reject(closedError());
    this.#endWrites();
    this.#closeWriteP = handled(
      (async () => {
        await this.opened;
        await this.#flushed();
        if (this.#finishP !== null) return this.#finishP;
        if (this.#wasReset) return;
        await this.#untilReset(this.#transport!.closeWrite());
        if (this.#eof) await this.#finish();
      })(),
    );
    return this.#closeWriteP;
  }

  /** Both directions are done: flush, close, release. Memoized: close(), EOF and closeWrite share it. */
  #finish(): Promise<void> {
    this.#finishP ??= this.#finishing();
    return this.#finishP;
  }

  async #finishing(): Promise<void> {
    this.#endWrites();
    if (this.#upgraded) return; // the connection lives on in the Socket startTls() returned
    if (this.#transport === null) {
      try {
        await this.opened;
      } catch {
        return;
      }
    }
    // Nothing written and no writable: no turn spent waiting for an empty chain.
    const flushed = this.#flushed();
    if (flushed !== RESOLVED) await flushed;
    if (this.#wasReset) return;
    try {
      await this.#untilReset(this.#transport!.close());
    } catch (err) {
      this.#onError(err);
    }
  }

  close(): Promise<void> {
    this.#closeP ??= this.#closing();
    return this.#closeP;
  }

  async #closing(): Promise<void> {
    this.#localClosed = true;
    this.#inbox.discard(closedError);
    // Closing while connecting cancels the connect, unless writes are waiting for it: those are flushed.
    if (this.#transport === null && !(this.#writeChain?.preOpen ?? false) && (this.#writable?.queued ?? 0) === 0) this.#abortOpen(closedError("the socket was closed while connecting"));
    await this.#finish();
    // From here `closed` can only resolve (a failure after close() is not reported); if the socket
    // failed before, it is settled already.
    if (this.#error === null) await this.closed;
    this.#closeDone = true;
  }

  /** writable.abort(): drops the connection now, also while close() or closeWrite() waits to flush. */
  #reset(): void {
    if (this.#wasReset || this.#upgraded) return;
    if (this.#closeDone) return; // a close() that finished left nothing to reset
    this.#wasReset = true;
    this.#localClosed = true;
    this.#writeEnded = true;
    this.#writable?.streamEnded(); // the stream drops what it queued
    this.#inbox.discard(closedError);
    this.#resetD?.resolve();
    this.#writeChain?.reset();
    if (this.#transport === null) this.#abortOpen(closedError("the socket was reset while connecting"));
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
    this.#stopFlushing();
    this.#inbox.discard(() => closedError("the socket was upgraded by startTls(); use the Socket it returned"));
    this.#closedD.resolve();
    const opener = upgradeOpener(this.#ctx, upgrade, {
      opened: this.opened,
      flushed: () => this.#flushed(),
      transport: () => this.#transport!,
    });
    return new StreamSocket(this.#ctx, opener, { secureTransport: "on", allowHalfOpen: this.#allowHalfOpen });
  }

  #whenOpen(f: (t: Transport) => void): void {
    if (this.#transport !== null) f(this.#transport);
    else this.opened.then(() => f(this.#transport!), () => {});
  }

  setNoDelay(on?: boolean): void {
    const noDelay = checkFlag(on, "setNoDelay()'s argument") ?? true;
    if (!this.#ctx.capabilities.socketOptions) throw unsupported("setNoDelay()", this.#ctx.runtime);
    this.#whenOpen((t) => t.setNoDelay(noDelay));
  }

  setKeepAlive(on: boolean, delayMs?: number): void {
    if (typeof on !== "boolean") throw invalid(`setKeepAlive() takes a boolean, got ${show(on)}`);
    if (delayMs !== undefined) checkKeepAliveDelay(delayMs, "the keep-alive delay");
    if (!this.#ctx.capabilities.socketOptions) throw unsupported("setKeepAlive()", this.#ctx.runtime);
    if (on && delayMs && !this.#ctx.capabilities.keepAliveDelay) throw unsupported("a keep-alive delay", this.#ctx.runtime);
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
