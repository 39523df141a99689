/*
 * Bun.connect / Bun.listen under the contract. Bun's quirks absorbed here (checked on Bun 1.4.5):
 * - `socket.write()` returns the bytes the kernel took and keeps nothing else: the tail waits in
 *   our queue and is resent on `drain`; -1 means the socket is closed.
 * - sockets are created with allowHalfOpen, or Bun closes them once the `end` handler returns;
 *   the core, not Bun, decides what a FIN means.
 * - after our own `shutdown()`, the peer's FIN arrives as `close` with no `end`: we report EOF.
 * - a peer reset arrives only as `close(socket, error)` (ECONNRESET).
 * - `end()` closes the socket at once, `close` running inside the call.
 * - a TCP listener reports the hostname it was given, so a name is resolved before listening.
 * - `signal` and `backlog` are ignored by Bun: the core races the signal; backlog is unsupported.
 */
import { SocketError, toSocketError } from "../../core/errors.ts";
import { StreamListener } from "../../core/listener.ts";
import { type ConnectPlan, listenContext, netAddr, planConnect, planListen, unixAddr } from "../../core/options.ts";
import { type Opened, type SocketSink, StreamSocket, type Transport } from "../../core/socket.ts";
import type { Addr, ConnectAddress, ConnectOptions, Listener, ListenOptions, Socket, SocketInfo } from "../../core/types.ts";
import { ipFamily } from "../../core/validate.ts";
import { type BunListener, type BunSocket, type BunSocketHandler, type BunTcpListener, bun } from "./_bun.ts";
import { context } from "./context.ts";

const RESOLVED: Promise<void> = Promise.resolve();

interface PendingWrite {
  data: Uint8Array;
  resolve(): void;
  reject(err: unknown): void;
}

/** One Bun socket as the core's Transport; Bun's handlers reach it through `socket.data`. */
export class BunConnection implements Transport {
  sink!: SocketSink;
  sock!: BunSocket<BunConnection>;
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
    if (this.#released || this.#sawEnd) return;
    this.#sawEnd = true;
    this.sink.end();
  }

  /** A handler threw (a bug of ours) or, with TLS, the session failed: report it and drop the connection. */
  onError(error: Error): void {
    if (this.#released) return;
    this.sink.error(error);
    this.#localClose = true;
    this.sock.terminate();
  }

  onClose(error: Error | undefined): void {
    if (this.#released) return;
    this.#released = true;
    if (error !== undefined) {
      this.#closeError = error;
      this.sink.error(error);
    } else if (!this.#sawEnd && !this.#localClose) {
      this.#sawEnd = true;
      this.sink.end();
    }
    this.#failQueue();
    this.sink.closed();
    for (const f of this.#onReleased.splice(0)) f();
  }

  #writeError(): unknown {
    return this.#closeError ?? new SocketError("EPIPE", "the connection is closed");
  }

  write(data: Uint8Array): Promise<void> | undefined {
    if (this.#head === this.#queue.length) {
      const n = this.sock.write(data);
      if (n === data.byteLength) return undefined;
      if (n < 0) throw this.#writeError();
      data = data.subarray(n);
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ data, resolve, reject });
    });
  }

  /** Bun's `drain`: resend what it did not take, in order, until it takes less again. */
  flush(): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const w = queue[this.#head]!;
      const n = this.sock.write(w.data);
      if (n < 0) return this.#failQueue();
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
    await this.#whenIdle();
    if (!this.#released) this.sock.shutdown();
  }

  async close(): Promise<void> {
    this.#localClose = true;
    await this.#whenIdle();
    if (!this.#released) this.sock.end();
    await this.#whenReleased();
  }

  reset(): void {
    this.#localClose = true;
    if (!this.#released) this.sock.terminate();
  }

  pause(): void {
    if (!this.#released) this.sock.pause();
  }

  resume(): void {
    if (!this.#released) this.sock.resume();
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
  data: (sock, chunk) => sock.data.sink.data(chunk),
  drain: (sock) => sock.data.flush(),
  end: (sock) => sock.data.onEnd(),
  close: (sock, error) => sock.data.onClose(error),
  error: (sock, error) => sock.data.onError(error),
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
  return toSocketError(err, context.errors, { syscall: "connect", ...where }, "ECONNREFUSED");
}

export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
  return new StreamSocket(
    context,
    async (sink): Promise<Opened> => {
      const conn = new BunConnection();
      conn.sink = sink;
      let sock: BunSocket<BunConnection>;
      try {
        sock = await bun().connect<BunConnection>(
          target.kind === "unix"
            ? { unix: target.path, data: conn, allowHalfOpen: true, socket: HANDLERS }
            : { hostname: target.hostname, port: target.port, data: conn, allowHalfOpen: true, socket: HANDLERS },
        );
      } catch (err) {
        throw connectError(err, target);
      }
      conn.sock = sock;
      let info: SocketInfo;
      if (target.kind === "unix") {
        info = { localAddress: unixAddr(""), remoteAddress: unixAddr(target.path), alpn: null };
      } else {
        sock.setNoDelay(plan.noDelay);
        if (plan.keepAlive.enabled) sock.setKeepAlive(true, plan.keepAlive.delayMs);
        info = { localAddress: netAddrOf(sock, "local"), remoteAddress: netAddrOf(sock, "remote"), alpn: null };
      }
      return { transport: conn, info };
    },
    plan,
  );
}

export async function listen(options?: ListenOptions): Promise<Listener> {
  const plan = planListen(context, options);
  const { target } = plan;
  const where = { syscall: "listen", ...listenContext(target) };
  let deliver: (socket: Socket) => void = () => {};
  const handlers: BunSocketHandler<BunConnection> = {
    ...HANDLERS,
    open: (sock) => {
      const conn = new BunConnection();
      conn.sock = sock;
      sock.data = conn;
      let info: SocketInfo;
      if (target.kind === "unix") {
        info = { localAddress: unixAddr(target.path), remoteAddress: unixAddr(""), alpn: null };
      } else {
        sock.setNoDelay(plan.noDelay);
        info = { localAddress: netAddrOf(sock, "local"), remoteAddress: netAddrOf(sock, "remote"), alpn: null };
      }
      deliver(
        new StreamSocket(
          context,
          (sink) => {
            conn.sink = sink;
            return Promise.resolve({ transport: conn, info });
          },
          { allowHalfOpen: plan.allowHalfOpen },
        ),
      );
    },
  };
  let server: BunListener;
  let addr: Addr;
  try {
    if (target.kind === "unix") {
      // Bun refuses (EADDRINUSE) any existing file at the path, a stale socket included, and
      // removes the file it made on stop(): the contract's rules, with no check of ours.
      server = bun().listen<BunConnection>({ unix: target.path, allowHalfOpen: true, socket: handlers });
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
      });
      server = tcp;
      addr = netAddr("tcp", tcp.hostname, tcp.port);
    }
  } catch (err) {
    throw toSocketError(err, context.errors, where, "EADDRINUSE");
  }
  const listener = new StreamListener(
    {
      addr,
      close: () => {
        server.stop();
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
