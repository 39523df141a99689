/*
 * A Bun socket under the contract. Bun's quirks absorbed here (checked on Bun 1.4.5):
 * - `socket.write()` returns the bytes the kernel took and keeps nothing else: the tail waits in
 *   the core's Outbox and is resent on `drain`; -1 means the socket is closed.
 * - sockets are created with allowHalfOpen, or Bun closes them once the `end` handler returns;
 *   the core, not Bun, decides what a FIN means.
 * - after our own `shutdown()`, the peer's FIN arrives as `close` with no `end`: we report EOF.
 * - a peer reset arrives only as `close(socket, error)` (ECONNRESET); but when a write meets it
 *   first, `write()` returns -1 and Bun follows with `end` and a `close` with no error, as for a
 *   clean close: the failed write is the error then (EPIPE), reported at once.
 * - `end()` closes a TCP socket at once, `close` running inside the call; a TLS socket it only
 *   half-closes (see BunConnection.close).
 * - a TCP listener reports the hostname it was given, so a name is resolved before listening.
 * - `signal` and `backlog` are ignored by Bun: the core races the signal; backlog is unsupported.
 * - TCP sockets come with TCP_NODELAY set (see applyNoDelay).
 * TLS (tls.ts for the options and the verdict): a TLS connection is held back from its sink until
 * the `handshake` handler has run and the certificate is accepted; `upgradeTLS` hands back a raw
 * twin that keeps receiving the encrypted bytes through the old handlers: the old connection is
 * muted. A server-side upgrade is `upgradeTLS({ isServer: true })`.
 */
import { SocketError, tlsHandshakeError } from "../../core/errors.ts";
import { netAddr } from "../../core/options.ts";
import { Outbox } from "../../core/outbox.ts";
import type { Opened, SocketSink, Transport } from "../../core/transport.ts";
import type { Addr, SocketInfo, TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import type { BunSocket, BunSocketHandler, BunTlsOptions } from "./_bun.ts";
import { context } from "./context.ts";
import {
  bunClientTls,
  bunServerTls,
  checkClientHandshake,
  checkServerHandshake,
  closedDuringHandshake,
  type HandshakeCheck,
  type TlsInfo,
  tlsOptionsError,
} from "./tls.ts";

const RESOLVED: Promise<void> = Promise.resolve();
/** Nothing hears a connection before it is delivered. */
const NO_SINK: SocketSink = { data: () => {}, end: () => {}, error: () => {}, closed: () => {} };

/** A TLS handshake under way: its verdict, and who waits for it (one of the two is called, once). */
interface PendingHandshake {
  check: HandshakeCheck;
  /** Accepted, in the tick of Bun's `handshake` handler. */
  accept(info: TlsInfo): void;
  /** Failed; the connection is dropped. */
  fail(err: unknown): void;
}

/** One Bun socket as the core's Transport; Bun's handlers reach it through `socket.data`. */
export class BunConnection implements Transport {
  #sink: SocketSink;
  #sock: BunSocket<BunConnection> | null = null;
  /** The addresses (set once open), kept for the Socket a TLS upgrade makes. */
  #info: SocketInfo | null = null;
  /** Made by the first write (see #out): a connection that never writes has none. */
  #outbox: Outbox | null = null;
  /** Why writes fail once the connection is gone, for an Outbox made after that. */
  #dropped: (() => unknown) | null = null;
  /** Set while a TLS handshake runs: nothing reaches the sink before it is accepted. */
  #handshake: PendingHandshake | null = null;
  /** The sink hears nothing more: a failed handshake, or the raw twin of an upgraded connection. */
  #muted = false;
  /** A TLS connection: Bun's `end()` does not close it (see close()). */
  #tls = false;
  #sawEnd = false;
  /** We closed or reset it: a clean `close` is then no EOF from the peer. */
  #localClose = false;
  #released = false;
  /** Who waits for the release (close()); made by the first to wait. */
  #onReleased: (() => void)[] | null = null;
  #closeError: unknown = null;

  /** `sink` hears this connection from the start; `attach` gives it its socket once Bun made it. */
  constructor(sink: SocketSink = NO_SINK) {
    this.#sink = sink;
  }

  #out(): Outbox {
    if (this.#outbox === null) {
      this.#outbox = new Outbox(
        {
          send: (bytes) => {
            const n = this.#sock!.write(bytes);
            if (n < 0) throw this.#writeFailed();
            return n;
          },
        },
        { defer: process.nextTick, keepsBuffers: false },
      );
      if (this.#dropped !== null) this.#outbox.drop(this.#dropped);
    }
    return this.#outbox;
  }

  /** The connection is gone: writes fail (now, or once an Outbox is made); waiters for the release go on. */
  #release(): void {
    this.#dropped ??= () => this.#writeError();
    this.#outbox?.drop(this.#dropped);
    const waiting = this.#onReleased;
    this.#onReleased = null;
    if (waiting !== null) for (const f of waiting) f();
  }

  /** Bun made the socket (its `open` handler, or Bun.connect resolved). */
  attach(sock: BunSocket<BunConnection>): void {
    this.#sock = sock;
  }

  /** The addresses, once known: what `opened` reports without the TLS part. */
  setInfo(info: SocketInfo): SocketInfo {
    this.#info = info;
    return info;
  }

  /** An accepted connection's socket is delivered: from now on it reports to `sink`. */
  deliverTo(sink: SocketSink): void {
    this.#sink = sink;
  }

  /** Bun's `data` handler. */
  onData(chunk: Uint8Array): void {
    this.#outbox?.received();
    this.#sink.data(chunk);
  }

  /** Bun's `drain`: the Outbox resends what Bun did not take. */
  onDrain(): void {
    this.#outbox?.drained();
  }

  onEnd(): void {
    if (this.#handshake !== null) return this.failHandshake(closedDuringHandshake());
    if (this.#released || this.#sawEnd || this.#muted || this.#closeError !== null) return;
    this.#sawEnd = true;
    this.#sink.end();
  }

  /** A handler threw (a bug of ours) or, with TLS, the session failed: report it and drop the connection. */
  onError(error: Error): void {
    if (this.#handshake !== null) return this.failHandshake(tlsHandshakeError(error, context.errors));
    if (this.#released || this.#muted) return;
    this.#sink.error(error);
    this.#localClose = true;
    this.#sock!.terminate();
  }

  onClose(error: Error | undefined): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#handshake !== null)
      this.failHandshake(error === undefined ? closedDuringHandshake() : tlsHandshakeError(error, context.errors));
    if (this.#muted) return this.#release();
    if (error !== undefined) {
      this.#closeError ??= error;
      this.#sink.error(error);
    } else if (!this.#sawEnd && !this.#localClose && this.#closeError === null) {
      this.#sawEnd = true;
      this.#sink.end();
    }
    this.#release(); // its waiters resume in a later microtask, after the sink has heard
    this.#sink.closed();
  }

  /**
   * Holds the connection back until its TLS handshake ends: `accept` gets the TLS part of the
   * SocketInfo, or `fail` the error the connection failed with (it is then dropped, and muted).
   */
  expectHandshake(handshake: PendingHandshake): void {
    this.#tls = true;
    this.#handshake = handshake;
  }

  /** expectHandshake() as a promise (which is never left unhandled). */
  handshake(check: HandshakeCheck): Promise<TlsInfo> {
    const done = new Promise<TlsInfo>((accept, fail) => this.expectHandshake({ check, accept, fail }));
    done.catch(() => {});
    return done;
  }

  /** Bun's `handshake` handler. */
  onHandshake(success: boolean, error: Error | null): void {
    const pending = this.#handshake;
    if (pending === null) return;
    let verdict: TlsInfo | SocketError;
    try {
      verdict = pending.check(this.#sock as BunSocket<unknown>, success, error);
    } catch (err) {
      verdict = tlsHandshakeError(err, context.errors);
    }
    if (verdict instanceof SocketError) return this.failHandshake(verdict);
    this.#handshake = null;
    pending.accept(verdict);
  }

  /**
   * Ends a pending handshake with `err`: the connection is closed (reset with `reset`), and
   * nothing more of it reaches the sink. Without a handshake pending, does nothing.
   */
  failHandshake(err: unknown, reset = false): void {
    const pending = this.#handshake;
    if (pending === null) return;
    this.#handshake = null;
    this.#muted = true;
    this.#localClose = true;
    if (!this.#released && this.#sock !== null) {
      if (reset) this.#sock!.terminate();
      else this.#sock!.close();
    }
    pending.fail(err);
  }

  /** The handshake of a connection just made, raced with `signal` (whose abort resets it). */
  handshakeDone(signal: AbortSignal | undefined, done: Promise<TlsInfo>): Promise<TlsInfo> {
    if (signal === undefined || this.#handshake === null) return done;
    if (signal.aborted) {
      this.failHandshake(signal.reason, true);
      return done;
    }
    const onAbort = (): void => this.failHandshake(signal.reason, true);
    signal.addEventListener("abort", onAbort, { once: true });
    return done.finally(() => signal.removeEventListener("abort", onAbort));
  }

  /** Upgrades this plaintext connection (see Transport.startTls): `isServer` takes the server's side. */
  #upgrade(
    tls: BunTlsOptions,
    check: HandshakeCheck,
    isServer: boolean,
    sink: SocketSink,
    signal: AbortSignal | undefined,
  ): Promise<Opened> {
    if (this.#released || this.#muted) return Promise.reject(closedDuringHandshake());
    // The plaintext before the upgrade leaves first (Bun takes it at once unless its buffer is full).
    const outbox = this.#outbox;
    if (outbox !== null) {
      const flushed = outbox.flush();
      if (outbox.pending > 0) return flushed.then(() => this.#upgrade(tls, check, isServer, sink, signal));
    }
    const next = new BunConnection(sink);
    next.#info = this.#info;
    const done = next.handshake(check);
    // The old Socket is done. The raw twin keeps this object as its `data` and hears every
    // encrypted chunk: none of it is for the old sink.
    this.#muted = true;
    let pair: [BunSocket<BunConnection>, BunSocket<BunConnection>] | undefined;
    try {
      pair = this.#sock!.upgradeTLS<BunConnection>({
        data: next,
        tls,
        socket: TLS_HANDLERS,
        ...(isServer ? { isServer } : {}),
      });
    } catch (err) {
      this.reset(); // nobody else owns the connection now
      return Promise.reject(tlsOptionsError(err) ?? tlsHandshakeError(err, context.errors));
    }
    if (pair === undefined) {
      this.reset();
      return Promise.reject(new SocketError("ERR_TLS_HANDSHAKE", "Bun could not upgrade this socket to TLS"));
    }
    next.#sock = pair[1];
    return next
      .handshakeDone(signal, done)
      .then((tlsInfo) => ({ transport: next, info: { ...this.#info!, ...tlsInfo } }));
  }

  startTls(options: TlsClientOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    return this.#upgrade(bunClientTls(options), checkClientHandshake(options, context.errors), false, sink, signal);
  }

  startTlsServer(options: TlsServerOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    return this.#upgrade(bunServerTls(options), checkServerHandshake(options, context.errors), true, sink, signal);
  }

  #writeError(): unknown {
    return this.#closeError ?? new SocketError("EPIPE", "the connection is closed");
  }

  /**
   * Bun's write returned -1. On a socket Bun has not reported closed (nor we closed), the kernel
   * refused the write (EPIPE or a reset) and Bun will report a clean close next: that is the
   * connection failing, so it is reported as such now.
   */
  #writeFailed(): unknown {
    if (!this.#released && !this.#localClose && !this.#muted && this.#closeError === null) {
      this.#closeError = new SocketError("EPIPE", "the connection broke while writing", { syscall: "write" });
      this.#sink.error(this.#closeError);
    }
    return this.#writeError();
  }

  write(data: Uint8Array): Promise<void> | undefined {
    return this.#out().write(data);
  }

  #whenReleased(): Promise<void> {
    return this.#released ? RESOLVED : new Promise<void>((resolve) => (this.#onReleased ??= []).push(resolve));
  }

  async closeWrite(): Promise<void> {
    if (this.#outbox !== null) await this.#outbox.flush();
    if (!this.#released) this.#sock!.shutdown();
  }

  async close(): Promise<void> {
    this.#localClose = true;
    if (this.#outbox !== null) await this.#outbox.flush();
    if (this.#released) {
      // nothing to close
    } else if (this.#tls) {
      // TLS: end() sends close_notify and FIN but keeps the socket until the peer closes, and a
      // close() after it does nothing; close() alone skips close_notify (openssl: "unexpected
      // eof"). shutdown() sends close_notify and FIN, then close() releases at once.
      this.#sock!.shutdown();
      this.#sock!.close();
    } else this.#sock!.end();
    await this.#whenReleased();
  }

  reset(): void {
    this.#localClose = true;
    if (!this.#released) this.#sock!.terminate();
  }

  pause(): void {
    if (!this.#released && !this.#muted) this.#sock!.pause();
  }

  resume(): void {
    if (!this.#released && !this.#muted) this.#sock!.resume();
  }

  setNoDelay(on: boolean): void {
    if (!this.#released) this.#sock!.setNoDelay(on);
  }

  setKeepAlive(on: boolean, delayMs?: number): void {
    if (!this.#released) this.#sock!.setKeepAlive(on, delayMs ?? 0);
  }

  ref(): void {
    if (!this.#released) this.#sock!.ref();
  }

  unref(): void {
    if (!this.#released) this.#sock!.unref();
  }
}

/** The handlers every socket shares; the per-socket state is `socket.data`. */
export const HANDLERS: BunSocketHandler<BunConnection> = {
  binaryType: "uint8array",
  open: (sock) => sock.data.attach(sock),
  data: (sock, chunk) => sock.data.onData(chunk),
  drain: (sock) => sock.data.onDrain(),
  end: (sock) => sock.data.onEnd(),
  close: (sock, error) => sock.data.onClose(error),
  error: (sock, error) => sock.data.onError(error),
};

/** The same for TLS sockets, which also hear how their handshake ended. */
export const TLS_HANDLERS: BunSocketHandler<BunConnection> = {
  ...HANDLERS,
  handshake: (sock, success, error) => sock.data.onHandshake(success, error),
};

/**
 * The connection's Nagle setting from the plan. Bun (uSockets) sets TCP_NODELAY itself on every TCP
 * socket it connects or accepts, so only `noDelay: false` needs a call: the default costs no second
 * setsockopt per connection.
 */
export function applyNoDelay(sock: BunSocket<BunConnection>, noDelay: boolean): void {
  if (!noDelay) sock.setNoDelay(false);
}

export function netAddrOf(sock: BunSocket<BunConnection>, side: "local" | "remote"): Addr {
  return side === "local"
    ? netAddr("tcp", sock.localAddress ?? "", sock.localPort ?? 0)
    : netAddr("tcp", sock.remoteAddress ?? "", sock.remotePort ?? 0);
}
