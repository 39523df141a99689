/*
 * Bun.connect / Bun.listen under the contract. Bun's quirks absorbed here (checked on Bun 1.4.5):
 * - `socket.write()` returns the bytes the kernel took and keeps nothing else: the tail waits in
 *   our queue and is resent on `drain`; -1 means the socket is closed.
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
 * TLS (tls.ts for the options and the verdict): a TLS connection is held back from its sink until
 * the `handshake` handler has run and the certificate is accepted; `upgradeTLS` hands back a raw
 * twin that keeps receiving the encrypted bytes through the old handlers: the old connection is
 * muted. A server-side upgrade is `upgradeTLS({ isServer: true })`.
 */
import { SocketError, tlsHandshakeError } from "../../core/errors.ts";
import { handshakeTimedOut, PendingHandshakes } from "../../core/handshakes.ts";
import { StreamListener } from "../../core/listener.ts";
import { type ConnectPlan, listenContext, netAddr, planConnect, planListen, unixAddr } from "../../core/options.ts";
import { type Opened, type SocketSink, StreamSocket, type Transport } from "../../core/socket.ts";
import type {
  Addr,
  ConnectAddress,
  ConnectOptions,
  Listener,
  ListenOptions,
  Socket,
  SocketInfo,
  TlsClientOptions,
  TlsServerOptions,
} from "../../core/types.ts";
import { ipFamily } from "../../core/validate.ts";
import { type BunListener, type BunSocket, type BunSocketHandler, type BunTcpListener, type BunTlsOptions, bun } from "./_bun.ts";
import { bunSocketError, context } from "./context.ts";
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
/** Writes below this size may be batched (see BunConnection.write). */
const SMALL_WRITE = 16 * 1024;
const BATCH_BYTES = 64 * 1024;
const noop = (): void => {};

interface PendingWrite {
  data: Uint8Array;
  resolve(): void;
  reject(err: unknown): void;
}

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
  sink!: SocketSink;
  sock!: BunSocket<BunConnection>;
  /** The addresses (set once open), kept for the Socket a TLS upgrade makes. */
  info!: SocketInfo;
  /** Set while a TLS handshake runs: nothing reaches the sink before it is accepted. */
  #handshake: PendingHandshake | null = null;
  /** The sink hears nothing more: a failed handshake, or the raw twin of an upgraded connection. */
  #muted = false;
  /** A TLS connection: Bun's `end()` does not close it (see close()). */
  #tls = false;
  /** Bytes Bun has not taken yet, in call order; `#head` is the first one still pending. */
  #queue: PendingWrite[] = [];
  #head = 0;
  #idle: { promise: Promise<void>; resolve(): void } | null = null;
  #sawEnd = false;
  /** We closed or reset it: a clean `close` is then no EOF from the peer. */
  #localClose = false;
  #released = false;
  #onReleased: (() => void)[] = [];
  #closeError: unknown = null;

  onEnd(): void {
    if (this.#handshake !== null) return this.failHandshake(closedDuringHandshake());
    if (this.#released || this.#sawEnd || this.#muted || this.#closeError !== null) return;
    this.#sawEnd = true;
    this.sink.end();
  }

  /** A handler threw (a bug of ours) or, with TLS, the session failed: report it and drop the connection. */
  onError(error: Error): void {
    if (this.#handshake !== null) return this.failHandshake(tlsHandshakeError(error, context.errors));
    if (this.#released || this.#muted) return;
    this.sink.error(error);
    this.#localClose = true;
    this.sock.terminate();
  }

  onClose(error: Error | undefined): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#handshake !== null) this.failHandshake(error === undefined ? closedDuringHandshake() : tlsHandshakeError(error, context.errors));
    if (this.#muted) {
      this.#failQueue();
      for (const f of this.#onReleased.splice(0)) f();
      return;
    }
    if (error !== undefined) {
      this.#closeError ??= error;
      this.sink.error(error);
    } else if (!this.#sawEnd && !this.#localClose && this.#closeError === null) {
      this.#sawEnd = true;
      this.sink.end();
    }
    this.#failQueue();
    this.sink.closed();
    for (const f of this.#onReleased.splice(0)) f();
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
      verdict = pending.check(this.sock as BunSocket<unknown>, success, error);
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
    if (!this.#released && this.sock !== undefined) {
      if (reset) this.sock.terminate();
      else this.sock.close();
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
  #upgrade(tls: BunTlsOptions, check: HandshakeCheck, isServer: boolean, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    if (this.#released || this.#muted) return Promise.reject(closedDuringHandshake());
    const next = new BunConnection();
    next.sink = sink;
    next.info = this.info;
    const done = next.handshake(check);
    // The old Socket is done. The raw twin keeps this object as its `data` and hears every
    // encrypted chunk: none of it is for the old sink.
    this.#muted = true;
    let pair: [BunSocket<BunConnection>, BunSocket<BunConnection>] | undefined;
    try {
      pair = this.sock.upgradeTLS<BunConnection>({ data: next, tls, socket: TLS_HANDLERS, ...(isServer ? { isServer } : {}) });
    } catch (err) {
      this.reset(); // nobody else owns the connection now
      return Promise.reject(tlsOptionsError(err) ?? tlsHandshakeError(err, context.errors));
    }
    if (pair === undefined) {
      this.reset();
      return Promise.reject(new SocketError("ERR_TLS_HANDSHAKE", "Bun could not upgrade this socket to TLS"));
    }
    next.sock = pair[1];
    return next.handshakeDone(signal, done).then((tlsInfo) => ({ transport: next, info: { ...this.info, ...tlsInfo } }));
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
      this.sink.error(this.#closeError);
    }
    return this.#writeError();
  }

  /**
   * Small writes of a burst leave together: a small write goes out at once unless one already did
   * since the peer last sent data; later ones are copied into a batch that leaves with one
   * `sock.write` at the end of the tick (Bun writes each call with its own syscall). A
   * request/response exchange (one write per arrival) goes straight out. Like the Node adapter.
   */
  write(data: Uint8Array): Promise<void> | undefined {
    if (data.byteLength < SMALL_WRITE && this.#head === this.#queue.length) {
      if (this.#batchLength > 0 || this.burst) return this.#toBatch(data);
      this.burst = true;
    } else if (this.#batchLength > 0) this.#flushBatch();
    if (this.#head === this.#queue.length) {
      const n = this.sock.write(data);
      if (n === data.byteLength) return undefined;
      if (n < 0) throw this.#writeFailed();
      data = data.subarray(n);
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ data, resolve, reject });
    });
  }

  /** Set by a write, cleared when the peer sends data or the tick ends (see write()). */
  burst = false;
  #batch: Uint8Array | null = null;
  #batchLength = 0;

  #toBatch(data: Uint8Array): undefined {
    if (this.#batchLength + data.byteLength > BATCH_BYTES) this.#flushBatch();
    if (this.#batchLength === 0) process.nextTick(this.#endTick);
    this.#batch ??= new Uint8Array(BATCH_BYTES);
    this.#batch.set(data, this.#batchLength);
    this.#batchLength += data.byteLength;
    return undefined;
  }

  readonly #endTick = (): void => {
    this.burst = false;
    if (this.#batchLength > 0) this.#flushBatch();
  };

  /** Sends the batch; nobody waits for it, so a tail Bun did not take is queued with no one to tell. */
  #flushBatch(): void {
    const bytes = this.#batch!.subarray(0, this.#batchLength);
    this.#batch = null;
    this.#batchLength = 0;
    if (this.#released) return;
    if (this.#head === this.#queue.length) {
      const n = this.sock.write(bytes);
      if (n === bytes.byteLength) return;
      if (n < 0) return void this.#writeFailed();
      this.#queue.push({ data: bytes.subarray(n), resolve: noop, reject: noop });
    } else this.#queue.push({ data: bytes, resolve: noop, reject: noop });
  }

  /** Bun's `drain`: resend what it did not take, in order, until it takes less again. */
  flush(): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const w = queue[this.#head]!;
      const n = this.sock.write(w.data);
      if (n < 0) {
        this.#writeFailed();
        return this.#failQueue();
      }
      if (n < w.data.byteLength) {
        w.data = w.data.subarray(n);
        return;
      }
      queue[this.#head++] = undefined as unknown as PendingWrite;
      w.resolve();
    }
    this.#queue = [];
    this.#head = 0;
    this.#idle?.resolve();
    this.#idle = null;
  }

  #failQueue(): void {
    const pending = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    if (pending.length > 0) {
      const err = this.#writeError();
      for (const w of pending) w.reject(err);
    }
    this.#idle?.resolve();
    this.#idle = null;
  }

  /** Resolves once Bun has taken every queued byte, or the socket is gone. */
  #whenIdle(): Promise<void> {
    if (this.#released || this.#head === this.#queue.length) return RESOLVED;
    if (this.#idle === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  #whenReleased(): Promise<void> {
    return this.#released ? RESOLVED : new Promise<void>((resolve) => this.#onReleased.push(resolve));
  }

  async closeWrite(): Promise<void> {
    if (this.#batchLength > 0) this.#flushBatch();
    await this.#whenIdle();
    if (!this.#released) this.sock.shutdown();
  }

  async close(): Promise<void> {
    this.#localClose = true;
    if (this.#batchLength > 0) this.#flushBatch();
    await this.#whenIdle();
    if (this.#released) {
      // nothing to close
    } else if (this.#tls) {
      // TLS: end() sends close_notify and FIN but keeps the socket until the peer closes, and a
      // close() after it does nothing; close() alone skips close_notify (openssl: "unexpected
      // eof"). shutdown() sends close_notify and FIN, then close() releases at once.
      this.sock.shutdown();
      this.sock.close();
    } else this.sock.end();
    await this.#whenReleased();
  }

  reset(): void {
    this.#localClose = true;
    if (!this.#released) this.sock.terminate();
  }

  pause(): void {
    if (!this.#released && !this.#muted) this.sock.pause();
  }

  resume(): void {
    if (!this.#released && !this.#muted) this.sock.resume();
  }

  setNoDelay(on: boolean): void {
    if (!this.#released) this.sock.setNoDelay(on);
  }

  setKeepAlive(on: boolean, delayMs?: number): void {
    if (!this.#released) this.sock.setKeepAlive(on, delayMs ?? 0);
  }

  ref(): void {
    if (!this.#released) this.sock.ref();
  }

  unref(): void {
    if (!this.#released) this.sock.unref();
  }
}

/** The handlers every socket shares; the per-socket state is `socket.data`. */
export const HANDLERS: BunSocketHandler<BunConnection> = {
  binaryType: "uint8array",
  open: (sock) => void (sock.data.sock = sock),
  data: (sock, chunk) => {
    sock.data.burst = false;
    sock.data.sink.data(chunk);
  },
  drain: (sock) => sock.data.flush(),
  end: (sock) => sock.data.onEnd(),
  close: (sock, error) => sock.data.onClose(error),
  error: (sock, error) => sock.data.onError(error),
};

/** The same for TLS sockets, which also hear how their handshake ended. */
const TLS_HANDLERS: BunSocketHandler<BunConnection> = {
  ...HANDLERS,
  handshake: (sock, success, error) => sock.data.onHandshake(success, error),
};

function netAddrOf(sock: BunSocket<BunConnection>, side: "local" | "remote"): Addr {
  return side === "local"
    ? netAddr("tcp", sock.localAddress ?? "", sock.localPort ?? 0)
    : netAddr("tcp", sock.remoteAddress ?? "", sock.remotePort ?? 0);
}

/**
 * A failed connect or lookup as a SocketError that names its target (Bun's own says only "Failed
 * to connect"). A lookup's errno is c-ares' status, not an errno, so it is left out.
 */
function connectError(err: unknown, target: ConnectPlan["target"]): SocketError {
  const where = target.kind === "unix" ? { address: target.path } : { address: target.hostname, port: target.port };
  const code = (err as { code?: unknown } | null)?.code;
  if (target.kind === "net" && (code === "ENOTFOUND" || code === "DNS_ENOTFOUND" || code === "DNS_ENODATA")) {
    return new SocketError("ENOTFOUND", `${target.hostname} could not be resolved`, { cause: err, syscall: "getaddrinfo", ...where });
  }
  return bunSocketError(err, { syscall: "connect", ...where }, "ECONNREFUSED");
}

/**
 * Opens a TCP, Unix or TLS connection with Bun's adapter (`Bun.connect`).
 * Returns at once; the connection's failures surface through `opened` as a `SocketError`, and
 * bad arguments throw `EINVAL` here.
 *
 * @param address `"host:port"`, `{ hostname, port }`, or `{ path }` for a Unix socket.
 * @param options TLS (`secureTransport`, `tls`), half-close, Nagle, keep-alive, and an abort `signal`.
 *
 * @example
 * ```ts
 * import { connect } from "unisock/bun";
 * await using s = connect("example.com:443", { secureTransport: "on" });
 * await s.opened;
 * await s.write("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
 * const response = await new Response(s.readable).text();
 * ```
 */
export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
  const tls = plan.secureTransport === "on" ? bunClientTls(plan.tls) : undefined;
  const check = tls === undefined ? null : checkClientHandshake(plan.tls, context.errors);
  return new StreamSocket(
    context,
    async (sink, signal): Promise<Opened> => {
      const conn = new BunConnection();
      conn.sink = sink;
      // Waited for before connecting: the handshake may end before Bun.connect's promise is seen.
      const done = check === null ? null : conn.handshake(check);
      const handlers = tls === undefined ? HANDLERS : TLS_HANDLERS;
      let sock: BunSocket<BunConnection>;
      try {
        sock = await bun().connect<BunConnection>(
          target.kind === "unix"
            ? { unix: target.path, data: conn, allowHalfOpen: true, socket: handlers, tls }
            : { hostname: target.hostname, port: target.port, data: conn, allowHalfOpen: true, socket: handlers, tls },
        );
      } catch (err) {
        throw tlsOptionsError(err) ?? connectError(err, target);
      }
      conn.sock = sock;
      if (target.kind === "unix") {
        conn.info = { localAddress: unixAddr(""), remoteAddress: unixAddr(target.path), alpn: null };
      } else {
        sock.setNoDelay(plan.noDelay);
        if (plan.keepAlive.enabled) sock.setKeepAlive(true, plan.keepAlive.delayMs);
        conn.info = { localAddress: netAddrOf(sock, "local"), remoteAddress: netAddrOf(sock, "remote"), alpn: null };
      }
      if (done === null) return { transport: conn, info: conn.info };
      const tlsInfo = await conn.handshakeDone(signal, done);
      return { transport: conn, info: { ...conn.info, ...tlsInfo } };
    },
    plan,
  );
}

/**
 * Listens for TCP, Unix or TLS connections with Bun's adapter (`Bun.listen`).
 * Resolves once listening; `addr` has the port the system chose for port 0.
 *
 * @param options Where to listen (default `0.0.0.0`, an ephemeral port), or `path`; `tls` to serve TLS.
 *
 * @example An echo server
 * ```ts
 * import { listen } from "unisock/bun";
 * await using l = await listen({ hostname: "127.0.0.1", port: 7007 });
 * for await (const conn of l) conn.readable.pipeTo(conn.writable).catch(() => {});
 * ```
 */
export async function listen(options?: ListenOptions): Promise<Listener> {
  const plan = planListen(context, options);
  const { target } = plan;
  const where = { syscall: "listen", ...listenContext(target) };
  let deliver: (socket: Socket) => void = () => {};
  const socketOptions = { allowHalfOpen: plan.allowHalfOpen, secureTransport: plan.tls !== undefined ? "on" : plan.secureTransport } as const;
  const accepted = (conn: BunConnection, info: SocketInfo): void =>
    deliver(
      new StreamSocket(
        context,
        (sink) => {
          conn.sink = sink;
          return Promise.resolve({ transport: conn, info });
        },
        socketOptions,
      ),
    );
  const check = plan.tls === undefined ? null : checkServerHandshake(plan.tls, context.errors);
  // Bun has no handshake deadline of its own, and stop() keeps connections still in their handshake.
  const handshakes = plan.tls === undefined ? null : new PendingHandshakes(plan.tls);
  const handlers: BunSocketHandler<BunConnection> = {
    ...(check === null ? HANDLERS : TLS_HANDLERS),
    open: (sock) => {
      const conn = new BunConnection();
      conn.sock = sock;
      sock.data = conn;
      if (target.kind === "unix") {
        conn.info = { localAddress: unixAddr(target.path), remoteAddress: unixAddr(""), alpn: null };
      } else {
        sock.setNoDelay(plan.noDelay);
        conn.info = { localAddress: netAddrOf(sock, "local"), remoteAddress: netAddrOf(sock, "remote"), alpn: null };
      }
      if (check === null) return accepted(conn, conn.info);
      // Delivered once its handshake (and the client's certificate) is accepted; else never.
      const done = handshakes!.add(() => conn.failHandshake(handshakeTimedOut(), true));
      conn.expectHandshake({
        check,
        accept: (tlsInfo) => {
          done();
          accepted(conn, { ...conn.info, ...tlsInfo });
        },
        fail: done,
      });
    },
  };
  const tls = plan.tls === undefined ? undefined : bunServerTls(plan.tls);
  let server: BunListener;
  let addr: Addr;
  try {
    if (target.kind === "unix") {
      // Bun refuses (EADDRINUSE) any existing file at the path, a stale socket included, and
      // removes the file it made on stop(): the contract's rules, with no check of ours.
      server = bun().listen<BunConnection>({ unix: target.path, allowHalfOpen: true, socket: handlers, tls });
      addr = unixAddr(target.path);
    } else {
      let hostname = target.hostname;
      if (ipFamily(hostname) === null) {
        const found = await bun().dns.lookup(hostname).catch((err: unknown) => Promise.reject(connectError(err, target)));
        hostname = found[0]?.address ?? hostname;
      }
      const tcp: BunTcpListener = bun().listen<BunConnection>({
        hostname,
        port: target.port,
        reusePort: plan.reusePort,
        ipv6Only: plan.ipv6Only,
        allowHalfOpen: true,
        socket: handlers,
        tls,
      });
      server = tcp;
      addr = netAddr("tcp", tcp.hostname, tcp.port);
    }
  } catch (err) {
    throw tlsOptionsError(err) ?? bunSocketError(err, where, "EADDRINUSE");
  }
  const listener = new StreamListener(
    {
      addr,
      close: () => {
        server.stop();
        handshakes?.closeAll();
        return RESOLVED;
      },
      ref: () => server.ref(),
      unref: () => server.unref(),
    },
    plan.signal,
  );
  deliver = (socket) => listener.deliver(socket);
  return listener;
}
