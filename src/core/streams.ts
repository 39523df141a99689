import type { AdapterContext } from "./context.ts";
import { closedError, invalid, SocketError, unsupported } from "./errors.ts";
import type { Inbox } from "./inbox.ts";
import { type Deferred, deferred, RESOLVED } from "./signal.ts";
import { toBytes } from "./validate.ts";

/**
 * The Web Streams side of a stream socket: its `readable` and `writable`, built on the same inbox
 * and the same write path as read() and write(). The socket keeps the connection's state; these
 * ask it through a host object.
 */

/** How a side of a socket is used: read()/write() or its Web Stream; the two cannot be mixed. */
export type Path = "direct" | "stream";

/** The path a side takes for this use: `path`, unless the side already took the other one. */
export function lockPath(side: "read" | "write", current: Path | null, path: Path): Path {
  if (current !== null && current !== path) {
    const other = path === "direct" ? `the ${side}able stream` : `${side}()`;
    throw invalid(`this socket's ${side} side is already used through ${other}; the two paths cannot be mixed`);
  }
  return path;
}

/** What the readable needs from its socket. */
export interface ReadHost {
  readonly inbox: Inbox;
  /** Claims the read side for the stream; throws if read() has it. */
  lock(): void;
  /** close(), a reset or startTls(): the Socket object is done. */
  localClosed(): boolean;
  /** The readable was cancelled. */
  cancel(): void;
}

/**
 * A chunk that is the whole of its ArrayBuffer can be handed to the readable as it is (enqueue
 * transfers the buffer); a view into a larger buffer is copied. Adapters give their chunks away
 * (see SocketSink.data), and Node's and Bun's reads each come in a buffer of their own.
 */
function ownsBuffer(chunk: Uint8Array): chunk is Uint8Array<ArrayBuffer> {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
}

export class SocketReadable {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #host: ReadHost;
  /** A pull of the readable is waiting in the inbox for data. */
  #pulling = false;
  #pullController: ReadableByteStreamController | null = null;
  #pullRequest: ReadableStreamBYOBRequest | null = null;

  constructor(host: ReadHost) {
    this.#host = host;
    this.stream = new ReadableStream({
      type: "bytes",
      pull: (controller) => this.#pull(controller),
      cancel: () => host.cancel(),
    });
  }

  /**
   * Fills one read request of the readable. What is buffered goes out at once; otherwise the inbox
   * hands the next chunk to `#deliver` from inside the runtime's data callback, so a pull costs no
   * promise of ours and no extra microtask (this is the hot path of the Web Streams side).
   */
  #pull(controller: ReadableByteStreamController): void {
    if (this.#pulling) return; // the pending take() delivers; the stream then pulls again for the next request
    this.#host.lock();
    const request = controller.byobRequest;
    if (this.#host.localClosed()) return this.#pullFailed(controller, request, closedError());
    const view = request?.view;
    this.#pulling = true;
    this.#pullController = controller;
    this.#pullRequest = request;
    this.#host.inbox.take(
      view ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : null,
      this.#pulled,
      this.#pullError,
    );
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

  #deliver(
    controller: ReadableByteStreamController,
    request: ReadableStreamBYOBRequest | null,
    value: number | Uint8Array | null,
  ): void {
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
      if (this.#host.localClosed() && err instanceof SocketError && err.code === "ECLOSED") {
        controller.close();
        request?.respond(0);
      } else controller.error(err);
    } catch {
      // already closed or errored
    }
  }
}

/** What the writable needs from its socket. */
export interface WriteHost {
  readonly ctx: AdapterContext;
  /** Claims the write side for the stream; throws if write() has it. */
  lock(): void;
  /** The socket's write; `flushing`: a chunk given before the write side ended, so taken after it. */
  write(bytes: Uint8Array, flushing: boolean): Promise<void>;
  closeWrite(): Promise<void>;
  /** writable.abort(): drops the connection now. */
  reset(): void;
  /** The connection was dropped by a reset. */
  wasReset(): boolean;
}

export class SocketWritable {
  readonly stream: WritableStream<Uint8Array>;
  readonly #host: WriteHost;
  /**
   * Chunks given to the writable's writer that the stream has not yet passed to its sink (the
   * stream passes them on asynchronously, one at a time), counted by its queuing strategy.
   */
  #streamQueued = 0;
  /** The writable passes nothing more to its sink: closed, errored or aborted. */
  #streamDone: boolean;
  /** Of the queued chunks, those given before the write side ended: they are flushed, as earlier write()s are. */
  #streamFlush = 0;
  /** Resolved once the chunks to flush have reached the sink (or never will). */
  #streamFlushD: Deferred<void> | null = null;

  /** `done`: the socket was reset before its writable was made, so the stream passes nothing on. */
  constructor(host: WriteHost, done: boolean) {
    this.#host = host;
    this.#streamDone = done;
    const ctx = host.ctx;
    const notReset = (): SocketError => unsupported("a reset (RST): the connection was closed instead", ctx.runtime);
    this.stream = new WritableStream<Uint8Array>(
      {
        // abort() fires the controller's signal at once, even while a write or close is in flight
        // (the stream calls `abort` below only after those settle): the reset must not wait for them.
        start: (controller) => controller.signal.addEventListener("abort", () => host.reset(), { once: true }),
        write: (chunk) => this.#streamWrite(chunk),
        // A close in flight when abort() came settles the abort with its own result: say there too
        // that the connection was closed, not reset.
        close: () => {
          this.streamEnded();
          return host.closeWrite().then(() => {
            if (host.wasReset() && !ctx.capabilities.reset) throw notReset();
          });
        },
        abort: () => {
          host.reset();
          if (!ctx.capabilities.reset) throw notReset();
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
  }

  /** Chunks given to the writer and not yet passed to the sink. */
  get queued(): number {
    return this.#streamQueued;
  }

  /**
   * The write side ended with a flush (close, closeWrite, the peer's FIN): chunks the writable
   * holds from before now will still reach its sink, and are flushed as earlier write()s are.
   */
  flushQueued(): void {
    if (this.#streamQueued === 0) return;
    this.#streamFlush = this.#streamQueued;
    this.#streamFlushD = deferred<void>();
  }

  /** Resolves once the chunks to flush have reached the sink; null when none are to be flushed. */
  flushing(): Promise<void> | null {
    return this.#streamFlush === 0 ? null : this.#streamFlushD!.promise;
  }

  /** Nothing more will be flushed: a failure, a reset, a release, or the writable is done. */
  stopFlushing(): void {
    this.#streamFlush = 0;
    this.#streamFlushD?.resolve();
  }

  /** The writable's sink takes its next chunk: the oldest one queued. */
  #streamWrite(chunk: Uint8Array): Promise<void> {
    if (this.#streamQueued > 0) this.#streamQueued--;
    const flushing = this.#streamFlush > 0;
    try {
      this.#host.lock();
      const p = this.#host.write(toBytes(chunk), flushing);
      if (p !== RESOLVED) p.catch(() => this.streamEnded()); // a failed write errors the stream: it passes nothing more
      return p;
    } catch (err) {
      this.streamEnded();
      throw err;
    } finally {
      if (flushing && this.#streamFlush > 0 && --this.#streamFlush === 0) this.#streamFlushD!.resolve();
    }
  }

  /** The writable passes nothing more to its sink: what it still counts will never come. */
  streamEnded(): void {
    this.#streamDone = true;
    this.#streamQueued = 0;
    this.stopFlushing();
  }
}
