import { RESOLVED, type Deferred, deferred, handled } from "./signal.ts";
import { closedError } from "./errors.ts";
import type { SocketWritable } from "./streams.ts";
import type { Transport } from "./transport.ts";
import type { Socket } from "./types.ts";
import type { WriteChain } from "./writes.ts";

/**
 * What closing reads and does of its stream socket (core/socket.ts), whose state it is. One object
 * for every socket, given the socket each time: a closing socket makes no closures for it.
 */
export interface ClosingHost<S> {
  transport(s: S): Transport | null;
  writeChain(s: S): WriteChain | null;
  writable(s: S): SocketWritable | null;
  localClosed(s: S): boolean;
  wasReset(s: S): boolean;
  upgraded(s: S): boolean;
  eof(s: S): boolean;
  failed(s: S): boolean;
  /** The write side ends with a flush of what was given before now. */
  endWrites(s: S): void;
  /** close(): this Socket object is done; a pending connect is cancelled unless writes wait for it. */
  closeLocally(s: S): void;
  /** A failure of the transport's close. */
  error(s: S, err: unknown): void;
}

/**
 * How a stream socket ends: closeWrite(), close(), the end both directions share once they are
 * done, and the flush each waits for, cut short by a reset (writable.abort()). Made by the socket
 * on the first of these, so a connection pays for it only when it closes.
 */
export class Closing<S extends Socket> {
  readonly #socket: S;
  readonly #host: ClosingHost<S>;
  /** Resolved by a reset, for what waits on the connection meanwhile (flushing, closing). */
  #resetD: Deferred<void> | null = null;
  #closeWriteP: Promise<void> | null = null;
  #finishP: Promise<void> | null = null;
  #closeP: Promise<void> | null = null;
  /** close() finished: a reset after it has nothing left to drop. */
  done = false;

  constructor(socket: S, host: ClosingHost<S>) {
    this.#socket = socket;
    this.#host = host;
  }

  /** close() was called (it may still be flushing). */
  get closeCalled(): boolean {
    return this.#closeP !== null;
  }

  /** The socket was reset: what waits for a flush or a close stops waiting. */
  reset(): void {
    this.#resetD?.resolve();
  }

  /** Resolves when writable.abort() drops the connection. */
  #onReset(): Promise<void> {
    this.#resetD ??= deferred<void>();
    if (this.#host.wasReset(this.#socket)) this.#resetD.resolve();
    return this.#resetD.promise;
  }

  /** Waits for `p`, or for a reset, whichever comes first. */
  #untilReset(p: Promise<void>): Promise<void> {
    return this.#host.wasReset(this.#socket) ? RESOLVED : Promise.race([p, this.#onReset()]);
  }

  /**
   * Waits for every write so far, and every chunk of the writable to flush, to be taken by the
   * runtime (or a reset); their failures are reported to their callers.
   */
  flushed(): Promise<void> {
    const chain = this.#host.writeChain(this.#socket);
    const streamFlushed = this.#host.writable(this.#socket)?.flushing() ?? null;
    if (streamFlushed === null) return chain === null ? RESOLVED : this.#untilReset(chain.settled());
    // The chunks reach write() (and make the chain) only as the stream passes them on: wait for it after them.
    return this.#untilReset(streamFlushed.then(() => this.#host.writeChain(this.#socket)?.settled()));
  }

  closeWrite(): Promise<void> {
    if (this.#closeWriteP !== null) return this.#closeWriteP;
    const socket = this.#socket;
    const host = this.#host;
    if (host.localClosed(socket)) return Promise.reject(closedError());
    host.endWrites(socket);
    this.#closeWriteP = handled(
      (async () => {
        await socket.opened;
        await this.flushed();
        if (this.#finishP !== null) return this.#finishP;
        if (host.wasReset(socket)) return;
        await this.#untilReset(host.transport(socket)!.closeWrite());
        if (host.eof(socket)) await this.finish();
      })(),
    );
    return this.#closeWriteP;
  }

  /** Both directions are done: flush, close, release. Memoized: close(), EOF and closeWrite share it. */
  finish(): Promise<void> {
    this.#finishP ??= this.#finishing();
    return this.#finishP;
  }

  async #finishing(): Promise<void> {
    const socket = this.#socket;
    const host = this.#host;
    host.endWrites(socket);
    if (host.upgraded(socket)) return; // the connection lives on in the Socket startTls() returned
    if (host.transport(socket) === null) {
      try {
        await socket.opened;
      } catch {
        return;
      }
    }
    // Nothing written and no writable: no turn spent waiting for an empty chain.
    const flushed = this.flushed();
    if (flushed !== RESOLVED) await flushed;
    if (host.wasReset(socket)) return;
    try {
      await this.#untilReset(host.transport(socket)!.close());
    } catch (err) {
      host.error(socket, err);
    }
  }

  close(): Promise<void> {
    this.#closeP ??= this.#closing();
    return this.#closeP;
  }

  async #closing(): Promise<void> {
    this.#host.closeLocally(this.#socket);
    await this.finish();
    // From here `closed` can only resolve (a failure after close() is not reported); if the socket
    // failed before, it is settled already.
    if (!this.#host.failed(this.#socket)) await this.#socket.closed;
    this.done = true;
  }
}
