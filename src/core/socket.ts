import type { AdapterContext } from "./context.ts";
import { closedError, invalid, SocketError, toSocketError, unsupported } from "./errors.ts";
import { type Flow, Inbox } from "./inbox.ts";
import { type Deferred, deferred, handled, raceSignal } from "./signal.ts";
import { checkServerNameKnown, checkStartTlsOptions } from "./tls.ts";
import type {
  ReadOptions,
  SecureTransport,
  Socket,
  SocketInfo,
  StartTlsServerOptions,
  TlsClientOptions,
  TlsServerOptions,
} from "./types.ts";
import { checkFlag, checkKeepAliveDelay, show, signalOption, toBytes } from "./validate.ts";

/** Its home is context.ts (tls.ts and options.ts need it too); named here as well for adapters written against the seam. */
export type { AdapterContext } from "./context.ts";

/**
 * The stream socket of the contract, written once. An adapter supplies only a `Transport` (the
 * runtime's connection) and feeds a `SocketSink`; everything a user can observe — EOF, half-close,
 * allowHalfOpen, close and its flushing, locking of the two read/write paths, Web Streams, abort
 * signals, error codes — is decided here, so it is the same on every runtime.
 */

/** What the runtime's connection tells the socket. */
export interface SocketSink {
  /** Bytes from the peer. The socket owns `chunk` from then on: it may keep it, or transfer its buffer to a reader. */
  data(chunk: Uint8Array): void;
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

export interface StreamSocketOptions {
  secureTransport?: SecureTransport;
  allowHalfOpen?: boolean;
  signal?: AbortSignal;
  /** Bytes buffered on the receive side before the runtime is paused. */
  highWater?: number;
  /** For "starttls": the TLS options given to connect, which `startTls()` options override. */
  tls?: TlsClientOptions;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A chunk that is the whole of its ArrayBuffer can be handed to the readable as it is (enqueue
 * transfers the buffer); a view into a larger buffer is copied. Adapters give their chunks away
 * (see SocketSink.data), and Node's and Bun's reads each come in a buffer of their own.
 */
function ownsBuffer(chunk: Uint8Array): chunk is Uint8Array<ArrayBuffer> {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
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
  readonly #openAbort = new AbortController();
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
  /** Writes the runtime has not settled yet; a reset rejects them. */
  #waitingWrites: Set<Deferred<void>> | null = null;
  #writeEnded = false;
  #eof = false;
  #readPath: Path | null = null;
  #writePath: Path | null = null;
  /** The last write not yet taken by the runtime; writes complete in order. */
  #lastWrite: Promise<void> = RESOLVED;
  /** Writes made before the connection opened, chained in call order. */
  #preOpenWrites = 0;
  #closeWriteP: Promise<void> | null = null;
  #finishP: Promise<void> | null = null;
  #closeP: Promise<void> | null = null;
  #upgraded = false;
  #readable: ReadableStream<Uint8Array> | null = null;
  /** A pull of the readable is waiting in the inbox for data. */
  #pulling = false;
  #pullController: ReadableByteStreamController | null = null;
  #pullRequest: ReadableStreamBYOBRequest | null = null;
  #writable: WritableStream<Uint8Array> | null = null;
  /**
   * Chunks given to the writable's writer that the stream has not yet passed to its sink (the
   * stream passes them on asynchronously, one at a time), counted by its queuing strategy.
   */
  #streamQueued = 0;
  /** The writable passes nothing more to its sink: closed, errored or aborted. */
  #streamDone = false;
  /** Of the queued chunks, those given before the write side ended: they are flushed, as earlier write()s are. */
  #streamFlush = 0;
  /** Resolved once the chunks to flush have reached the sink (or never will). */
  #streamFlushD: Deferred<void> | null = null;
  readonly #sink: SocketSink;
  readonly #tlsDefaults: TlsClientOptions;

  constructor(ctx: AdapterContext, opener: Opener, options: StreamSocketOptions = {}) {
    this.#ctx = ctx;
    this.secureTransport = options.secureTransport ?? "off";
    this.#allowHalfOpen = options.allowHalfOpen ?? false;
    this.#tlsDefaults = options.tls ?? {};
    this.#inbox = new Inbox(options.highWater ?? DEFAULT_HIGH_WATER);
    this.closed = handled(this.#closedD.promise);
    this.#sink = {
      data: (chunk) => this.#inbox.push(chunk),
      end: () => this.#onEnd(),
      error: (err) => this.#onError(err),
      closed: () => this.#onClosed(),
    };
    this.opened = handled(this.#open(opener, options.signal));
  }

  async #open(opener: Opener, userSignal: AbortSignal | undefined): Promise<SocketInfo> {
    const signal = userSignal ? AbortSignal.any([userSignal, this.#openAbort.signal]) : this.#openAbort.signal;
    let attempt: Promise<Opened>;
    try {
      if (signal.aborted) throw signal.reason;
      attempt = opener(this.#sink, signal);
    } catch (err) {
      attempt = Promise.reject(err);
    }
    let abandoned = false;
    const abandon = (): void => {
      if (abandoned) return;
      abandoned = true;
      attempt.then((late) => late.transport.reset(), () => {});
    };
    try {
      // close() and reset() end a pending open through #cancelOpen, without a listener on our own
      // signal (an EventTarget listener costs more than the rest of accepting a connection); only
      // a user's signal is listened to.
      const raced = new Promise<Opened>((resolve, reject) => {
        this.#cancelOpen = (reason) => {
          reject(reason);
          abandon();
        };
        attempt.then(resolve, reject);
      });
      // When the user's signal wins the race, `raced` still rejects: that rejection is already reported.
      if (userSignal) raced.catch(() => {});
      const { transport, info } = await (userSignal ? raceSignal(raced, signal, abandon) : raced);
      this.#cancelOpen = null;
      this.#transport = transport;
      this.#inbox.setFlow(transport);
      return info;
    } catch (err) {
      this.#cancelOpen = null;
      const e = signal.aborted && err === signal.reason ? err : this.#map(err, "ECONNRESET");
      this.#fail(e);
      throw e;
    }
  }

  /** Cancels a pending open: the adapter's connect through the signal it was given, and `opened`. */
  #abortOpen(reason: SocketError): void {
    this.#openAbort.abort(reason);
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
    else this.#closedD.reject(err);
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
    if (this.#transport === null || this.#preOpenWrites > 0) {
      this.#preOpenWrites++;
      const p = this.#lastWrite.then(() => this.opened).then(() => {
        this.#preOpenWrites--;
        const chain = this.#lastWrite;
        const r = this.#transportWrite(bytes);
        // Writes still queued behind this one wait in the chain, which also waits for this one:
        // flushing (close, closeWrite) must wait for the chain, not for this write alone.
        if (this.#preOpenWrites > 0) this.#lastWrite = chain;
        return r;
      });
      this.#lastWrite = handled(p);
      return p;
    }
    return this.#transportWrite(bytes);
  }

  #transportWrite(bytes: Uint8Array): Promise<void> {
    if (this.#error !== null) throw this.#error;
    let r: Promise<void> | undefined;
    try {
      r = this.#transport!.write(bytes);
    } catch (err) {
      throw this.#map(err, "EPIPE");
    }
    if (r === undefined) return RESOLVED;
    // Settled by the runtime, or by a reset if the runtime never settles a write to the connection
    // it dropped. (Not a race with a reset promise: each race would leave a reaction on it for good.)
    const d = deferred<void>();
    const waiting = (this.#waitingWrites ??= new Set());
    waiting.add(d);
    r.then(
      () => {
        waiting.delete(d);
        d.resolve();
      },
      (err: unknown) => {
        waiting.delete(d);
        d.reject(this.#localClosed ? closedError() : this.#error ?? this.#map(err, "EPIPE"));
      },
    );
    this.#lastWrite = handled(d.promise);
    return d.promise;
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
    const written = (): Promise<void> =>
      this.#lastWrite.then(
        () => {},
        () => {},
      );
    return this.#untilReset(this.#streamFlush === 0 ? written() : this.#streamFlushD!.promise.then(written));
  }

  /**
   * The write side ends with a flush (close, closeWrite, the peer's FIN): chunks the writable
   * holds from before now will still reach its sink, and are flushed as earlier write()s are.
   */
  #endWrites(): void {
    if (this.#writeEnded) return;
    this.#writeEnded = true;
    if (this.#upgraded || this.#streamQueued === 0) return;
    this.#streamFlush = this.#streamQueued;
    this.#streamFlushD = deferred<void>();
  }

  /** Nothing more will be flushed: a failure, a reset, a release, or the writable is done. */
  #stopFlushing(): void {
    this.#streamFlush = 0;
    this.#streamFlushD?.resolve();
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
    this.#finishP ??= (async () => {
      this.#endWrites();
      if (this.#upgraded) return; // the connection lives on in the Socket startTls() returned
      try {
        await this.opened;
      } catch {
        return;
      }
      await this.#flushed();
      if (this.#wasReset) return;
      try {
        await this.#untilReset(this.#transport!.close());
      } catch (err) {
        this.#onError(err);
      }
    })();
    return this.#finishP;
  }

  close(): Promise<void> {
    this.#closeP ??= (async () => {
      this.#localClosed = true;
      this.#inbox.discard(closedError);
      // Closing while connecting cancels the connect, unless writes are waiting for it: those are flushed.
      if (this.#transport === null && this.#preOpenWrites === 0 && this.#streamQueued === 0) this.#abortOpen(closedError("the socket was closed while connecting"));
      await this.#finish();
      await this.closed.catch(() => {});
      this.#closeDone = true;
    })();
    return this.#closeP;
  }

  /** writable.abort(): drops the connection now, also while close() or closeWrite() waits to flush. */
  #reset(): void {
    if (this.#wasReset || this.#upgraded) return;
    if (this.#closeDone) return; // a close() that finished left nothing to reset
    this.#wasReset = true;
    this.#localClosed = true;
    this.#writeEnded = true;
    this.#streamEnded(); // the stream drops what it queued
    this.#inbox.discard(closedError);
    this.#resetD?.resolve();
    if (this.#waitingWrites !== null) {
      for (const d of this.#waitingWrites) d.reject(closedError("the socket was reset"));
      this.#waitingWrites.clear();
    }
    if (this.#transport === null) this.#abortOpen(closedError("the socket was reset while connecting"));
    this.#transport?.reset();
    this.#closedD.resolve();
  }

  startTls(options?: TlsClientOptions | StartTlsServerOptions): Socket {
    const upgrade = checkStartTlsOptions(this.#ctx, options ?? {});
    if (upgrade.role === "client" && !this.#ctx.capabilities.startTls) throw unsupported("startTls()", this.#ctx.runtime);
    if (this.secureTransport !== "starttls") {
      throw invalid(`startTls() needs a socket made with secureTransport "starttls", not "${this.secureTransport}"`);
    }
    if (this.#upgraded) throw invalid("startTls() was already called on this socket");
    if (this.#localClosed || this.#error !== null || this.#eof) throw closedError();
    let client: TlsClientOptions | undefined;
    if (upgrade.role === "client") {
      client = { ...this.#tlsDefaults, ...upgrade.options };
      checkServerNameKnown(client, "startTls() on this socket");
    }
    this.#upgraded = true;
    this.#localClosed = true;
    this.#stopFlushing();
    this.#inbox.discard(() => closedError("the socket was upgraded by startTls(); use the Socket it returned"));
    this.#closedD.resolve();
    return new StreamSocket(
      this.#ctx,
      async (sink, signal) => {
        await this.opened;
        await this.#flushed();
        const transport = this.#transport!;
        if (client !== undefined) {
          if (transport.startTls === undefined) throw unsupported("startTls()", this.#ctx.runtime);
          return transport.startTls(client, sink, signal);
        }
        if (transport.startTlsServer === undefined) throw unsupported("startTls({ server })", this.#ctx.runtime);
        return transport.startTlsServer(upgrade.options as TlsServerOptions, sink, signal);
      },
      { secureTransport: "on", allowHalfOpen: this.#allowHalfOpen },
    );
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
    this.#readable ??= new ReadableStream({
      type: "bytes",
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#cancelReadable(),
    });
    return this.#readable;
  }

  /**
   * Fills one read request of the readable. What is buffered goes out at once; otherwise the inbox
   * hands the next chunk to `#deliver` from inside the runtime's data callback, so a pull costs no
   * promise of ours and no extra microtask (this is the hot path of the Web Streams side).
   */
  #pull(controller: ReadableByteStreamController): void {
    if (this.#pulling) return; // the pending take() delivers; the stream then pulls again for the next request
    this.#lock("read", "stream");
    const request = controller.byobRequest;
    if (this.#localClosed) return this.#pullFailed(controller, request, closedError());
    const view = request?.view;
    this.#pulling = true;
    this.#pullController = controller;
    this.#pullRequest = request;
    this.#inbox.take(view ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : null, this.#pulled, this.#pullError);
  }

  /** take()'s callbacks, made once rather than per read. */
  readonly #pulled = (value: number | Uint8Array | null): void => {
    this.#pulling = false;
    this.#deliver(this.#pullController!, this.#pullRequest, value);
  };

  readonly #pullError = (err: unknown): void => {
    this.#pulling = false;
    this.#pullFailed(this.#pullController!, this.#pullRequest, err);
  };

  #deliver(controller: ReadableByteStreamController, request: ReadableStreamBYOBRequest | null, value: number | Uint8Array | null): void {
    try {
      if (value === null) {
        controller.close();
        request?.respond(0);
      } else if (typeof value === "number") request!.respond(value);
      else controller.enqueue(ownsBuffer(value) ? value : value.slice());
    } catch {
      // enqueue() refuses a buffer it cannot transfer: send a copy. If the stream was closed or
      // cancelled meanwhile, this throws too, and nobody is left to take the data.
      if (value instanceof Uint8Array) {
        try {
          controller.enqueue(value.slice());
        } catch {
          // closed
        }
      }
    }
  }

  #pullFailed(controller: ReadableByteStreamController, request: ReadableStreamBYOBRequest | null, err: unknown): void {
    try {
      if (this.#localClosed && err instanceof SocketError && err.code === "ECLOSED") {
        controller.close();
        request?.respond(0);
      } else controller.error(err);
    } catch {
      // already closed or errored
    }
  }

  /** Cancelling the readable stops reading but keeps the write side open (unlike Deno's own streams). */
  #cancelReadable(): void {
    this.#inbox.discard(() => closedError("the readable stream was cancelled"));
    this.#transport?.pause();
    if (this.#writeEnded) void this.#finish();
  }

  get writable(): WritableStream<Uint8Array> {
    const notReset = (): SocketError => unsupported("a reset (RST): the connection was closed instead", this.#ctx.runtime);
    this.#writable ??= new WritableStream<Uint8Array>(
      {
        // abort() fires the controller's signal at once, even while a write or close is in flight
        // (the stream calls `abort` below only after those settle): the reset must not wait for them.
        start: (controller) => controller.signal.addEventListener("abort", () => this.#reset(), { once: true }),
        write: (chunk) => this.#streamWrite(chunk),
        // A close in flight when abort() came settles the abort with its own result: say there too
        // that the connection was closed, not reset.
        close: () => {
          this.#streamEnded();
          return this.closeWrite().then(() => {
            if (this.#wasReset && !this.#ctx.capabilities.reset) throw notReset();
          });
        },
        abort: () => {
          this.#reset();
          if (!this.#ctx.capabilities.reset) throw notReset();
        },
      },
      {
        highWaterMark: 1,
        // Called by writer.write() itself, synchronously: counts the chunks close() must wait for.
        // (A write the stream refuses is counted too, but only once it is closing or errored: then
        // the sink's close or a failed write ends the count.)
        size: () => {
          if (!this.#streamDone) this.#streamQueued++;
          return 1;
        },
      },
    );
    return this.#writable;
  }

  /** The writable's sink takes its next chunk: the oldest one queued. */
  #streamWrite(chunk: Uint8Array): Promise<void> {
    if (this.#streamQueued > 0) this.#streamQueued--;
    const flushing = this.#streamFlush > 0;
    try {
      this.#lock("write", "stream");
      const p = this.#write(toBytes(chunk), flushing);
      if (p !== RESOLVED) p.catch(() => this.#streamEnded()); // a failed write errors the stream: it passes nothing more
      return p;
    } catch (err) {
      this.#streamEnded();
      throw err;
    } finally {
      if (flushing && this.#streamFlush > 0 && --this.#streamFlush === 0) this.#streamFlushD!.resolve();
    }
  }

  /** The writable passes nothing more to its sink: what it still counts will never come. */
  #streamEnded(): void {
    this.#streamDone = true;
    this.#streamQueued = 0;
    this.#stopFlushing();
  }
}
