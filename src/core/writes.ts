import { closedError, type SocketError } from "./errors.ts";
import { type Deferred, deferred, handled, RESOLVED } from "./signal.ts";
import type { Transport } from "./transport.ts";

/** What a socket's write chain needs from the socket. */
export interface WriteChainHost {
  /** The socket's `opened`: writes made before the connection opened wait for it. */
  opened(): Promise<unknown>;
  transport(): Transport | null;
  /** The error the socket failed with, or null. */
  error(): unknown;
  /** The runtime's error for a write, mapped to the contract's code. */
  map(err: unknown): SocketError;
  /** What a write the runtime failed rejects with, once it fails. */
  failed(err: unknown): unknown;
}

/**
 * The order of a socket's writes, after the socket's own checks: writes made before the connection
 * opened wait for it, in call order; a write the runtime has not settled yet is rejected by a reset
 * (the runtime may never settle a write to the connection it dropped).
 */
export class WriteChain {
  /** The last write not yet taken by the runtime; writes complete in order. */
  #lastWrite: Promise<void> = RESOLVED;
  /** Writes made before the connection opened, chained in call order. */
  #preOpenWrites = 0;
  /** Writes the runtime has not settled yet; a reset rejects them. */
  #waitingWrites: Set<Deferred<void>> | null = null;
  readonly #host: WriteChainHost;

  constructor(host: WriteChainHost) {
    this.#host = host;
  }

  /** Writes are waiting for the connection to open. */
  get preOpen(): boolean {
    return this.#preOpenWrites > 0;
  }

  /** Hands `bytes` (not empty) to the transport after every earlier write. */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#host.transport() === null || this.#preOpenWrites > 0) {
      this.#preOpenWrites++;
      const p = this.#lastWrite
        .then(() => this.#host.opened())
        .then(() => {
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
    if (this.#host.error() !== null) throw this.#host.error();
    let r: Promise<void> | undefined;
    try {
      r = this.#host.transport()!.write(bytes);
    } catch (err) {
      throw this.#host.map(err);
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
        d.reject(this.#host.failed(err));
      },
    );
    this.#lastWrite = handled(d.promise);
    return d.promise;
  }

  /** Settles once every write so far is settled; their failures are reported to their callers. */
  settled(): Promise<void> {
    return this.#lastWrite.then(
      () => {},
      () => {},
    );
  }

  /** The connection was reset: writes the runtime has not settled fail now. */
  reset(): void {
    if (this.#waitingWrites !== null) {
      for (const d of this.#waitingWrites) d.reject(closedError("the socket was reset"));
      this.#waitingWrites.clear();
    }
  }
}
