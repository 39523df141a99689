/**
 * The connections a TLS listener has accepted but not delivered: each has `handshakeTimeoutMs` to
 * finish its handshake, and `listener.close()` drops those still in it (the contract's Listener).
 * Written once for every adapter; each says how to drop one of its connections.
 */
import { SocketError } from "./errors.ts";
import type { TlsServerOptions } from "./types.ts";

/** The default of `tls.handshakeTimeoutMs`: Node's tls.Server default is 120 s, far more than a real client needs. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Why a connection dropped by PendingHandshakes failed, where an adapter reports it. */
export const handshakeTimedOut = (): SocketError =>
  new SocketError("ERR_TLS_HANDSHAKE", "the TLS handshake did not finish in time");

export class PendingHandshakes {
  /** How long a connection may take over its handshake. */
  readonly timeoutMs: number;
  /** Each connection's drop, and the timer that drops it. */
  readonly #pending = new Map<() => void, ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(options: TlsServerOptions) {
    this.timeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  }

  /**
   * A connection starts its handshake; `drop` closes it (and so fails its handshake). Returns
   * what to call once the handshake has ended, either way. After `closeAll()` it is dropped at once.
   */
  add(drop: () => void): () => void {
    if (this.#closed) {
      drop();
      return () => {};
    }
    const entry = (): void => drop();
    const done = (): void => {
      clearTimeout(this.#pending.get(entry));
      this.#pending.delete(entry);
    };
    this.#pending.set(
      entry,
      setTimeout(() => {
        done();
        drop();
      }, this.timeoutMs),
    );
    return done;
  }

  /** The listener is closing: every connection still in its handshake is dropped, and any later one. */
  closeAll(): void {
    this.#closed = true;
    const drops = [...this.#pending.keys()];
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    for (const drop of drops) drop();
  }
}
