/*
 * Deno.connect / Deno.listen under the contract. Deno's own quirks absorbed here:
 * - Reads are pulled, not pushed: a pump loop calls `conn.read()` and feeds the sink, and stops
 *   while the core has paused it.
 * - `conn.write()` may take only part of a buffer, and Deno does not order concurrent writes for
 *   us: one writer loop takes queued writes in call order and loops on partial writes.
 * - `conn.readable` / `conn.writable` are never touched: closing the writable or cancelling the
 *   readable closes the whole connection, and the readable closes it at EOF (denoland/deno#22258,
 *   #27510), which would make half-close impossible.
 * - Deno cannot send RST (no SO_LINGER): see `reset()`.
 * - STARTTLS: a socket made for STARTTLS reads only on demand, while the core has a reader waiting
 *   (Flow.demand), so nothing past the plaintext is read for nobody; if the user's read was
 *   waiting when startTls() comes, the read in flight is handed, with its bytes, to the node:tls
 *   handshake over the same connection (see tls.ts).
 * TLS (tls.ts) runs over these same connections.
 */
import { closedError, SocketError, unsupported } from "../../core/errors.ts";
import { PendingHandshakes } from "../../core/handshakes.ts";
import { StreamListener } from "../../core/listener.ts";
import { type ListenPlan, listenContext, netAddr, planConnect, planListen, unixAddr } from "../../core/options.ts";
import { deferred, type Deferred } from "../../core/signal.ts";
import {
  type Opened,
  type SocketSink,
  StreamSocket,
  type Transport,
} from "../../core/socket.ts";
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
import { deno, type DenoAddr, type DenoConn, type DenoFileInfo, type DenoListener } from "./_deno.ts";
import { context, denoError } from "./context.ts";
import {
  checkTlsMaterial,
  closedBeforeHandshake,
  nodeTlsClient,
  nodeTlsInfo,
  nodeTlsServer,
  openedOverNodeTls,
  type RawTransport,
} from "./tls.ts";

/**
 * Read buffers start at FIRST_READ (an idle or short-lived connection holds no more) and grow to
 * MAX_READ while reads fill them. A read under a quarter of its buffer is copied out and the
 * buffer reused, so a small chunk never pins a big buffer.
 */
const FIRST_READ = 16 * 1024;
const MAX_READ = 64 * 1024;
/** Small writes queued behind a running write go out together, up to this many bytes. */
const BATCH_BYTES = 64 * 1024;
/** Writes smaller than this are copied and taken at once while the queue holds less than HIGH_WATER. */
const SMALL_WRITE = 16 * 1024;
const HIGH_WATER = 64 * 1024;
const noop = (): void => {};

const RESOLVED: Promise<void> = Promise.resolve();

interface PendingWrite {
  data: Uint8Array;
  resolve(): void;
  reject(err: unknown): void;
}

/** The name Deno gives an operation on a closed resource, or one cut short by close(). */
function isClosedError(err: unknown): boolean {
  const name = (err as Error | null)?.name;
  return name === "BadResource" || name === "Interrupted";
}

/** How a DenoTransport reads. */
interface TransportMode {
  /** A TCP connection (socket options apply). */
  tcp: boolean;
  /** Read only while the core has a reader waiting (a STARTTLS socket: see the top of this file). */
  onDemand?: boolean;
  /** The addresses, for the SocketInfo of a STARTTLS upgrade. */
  info: SocketInfo;
}

/** Nothing reads from a raw transport before node:tls redirects it (it starts on demand). */
const NO_SINK: SocketSink = { data: () => {}, end: () => {}, error: () => {}, closed: () => {} };

/**
 * A Deno connection as the core's Transport; it reports to `sink` from the moment it exists.
 * Used for Deno TLS connections too (a Deno.TlsConn is a Conn), and, as a RawTransport, under
 * node:tls (tls.ts).
 */
export class DenoTransport implements RawTransport {
  readonly #conn: DenoConn;
  #sink: SocketSink;
  readonly #tcp: boolean;
  readonly #info: SocketInfo;
  /** Read only when `demand()` asks (STARTTLS sockets), instead of all the time. */
  #onDemand: boolean;
  #wanted = false;
  /** A `conn.read` is pending. */
  #reading = false;
  /** Writes not yet taken by Deno, in call order, from `#head`. */
  #queue: PendingWrite[] = [];
  #head = 0;
  #writing = false;
  /** Bytes in `#queue` not yet handed to Deno. */
  #queuedBytes = 0;
  /** The unqueued write whose first `conn.write` is pending. */
  #inFlight: Uint8Array | null = null;
  #idle: Deferred<void> | null = null;
  #paused = false;
  /** Paused by node:tls running over this connection (see hold()). */
  #held = false;
  #wake: (() => void) | null = null;
  /** `conn.close()` was called: nothing more goes to Deno, nor to the sink. */
  #released = false;
  #closing: Promise<void> | null = null;

  constructor(conn: DenoConn, sink: SocketSink, mode: TransportMode) {
    this.#conn = conn;
    this.#sink = sink;
    this.#tcp = mode.tcp;
    this.#info = mode.info;
    this.#onDemand = mode.onDemand ?? false;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    let buf = new Uint8Array(FIRST_READ);
    try {
      while (!this.#released) {
        if (this.#paused || this.#held || (this.#onDemand && !this.#wanted)) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        this.#wanted = false;
        this.#reading = true;
        const n = await this.#conn.read(buf);
        this.#reading = false;
        if (this.#released) return;
        if (n === null) return this.#sink.end();
        const size = buf.byteLength;
        if (n < size / 4) this.#sink.data(buf.slice(0, n));
        else {
          // Handed over for good: the sink keeps it, so the next read gets a fresh buffer.
          this.#sink.data(buf.subarray(0, n));
          buf = new Uint8Array(n === size ? Math.min(size * 4, MAX_READ) : size);
        }
      }
    } catch (err) {
      // Interrupted or BadResource after our own close: nothing to report.
      if (!this.#released) this.#fail(denoError(err, { syscall: "read" }));
    }
  }

  #wakePump(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** A real failure of the connection: report it, then release the connection. */
  #fail(err: SocketError): void {
    if (this.#released) return;
    this.#sink.error(err);
    this.#release(() => err);
  }

  /**
   * Closes the Deno connection now; queued writes fail with `why()` (made only if some are left).
   * `conn.close()` is synchronous: the connection is released here and `sink.closed()` says so at
   * once. A read still pending settles with Interrupted only on the next turn of the event loop,
   * and the pump then stops without a word; waiting for it cost every close() a loop turn.
   */
  #release(why: () => unknown): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#wakePump();
    if (this.#head < this.#queue.length) {
      const dropped = this.#queue.slice(this.#head);
      const err = why();
      for (const w of dropped) w.reject(err);
    }
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#sink.closed();
  }

  write(data: Uint8Array): Promise<void> | undefined {
    if (this.#released) return Promise.reject(new SocketError("EPIPE", "the connection is closed"));
    // A small write is copied and taken at once while little is waiting, like Node's buffered
    // write(): a loop of awaited small writes then costs one conn.write per batch, not one each.
    const small = data.byteLength < SMALL_WRITE && this.#queuedBytes + data.byteLength <= HIGH_WATER;
    if (this.#writing) {
      if (small) {
        this.#queuedBytes += data.byteLength;
        this.#queue.push({ data: data.slice(), resolve: noop, reject: noop });
        return undefined;
      }
      return new Promise<void>((resolve, reject) => {
        this.#queuedBytes += data.byteLength;
        this.#queue.push({ data, resolve, reject });
      });
    }
    // Nothing queued: straight to Deno, which most often takes it all in one call.
    this.#writing = true;
    this.#inFlight = small ? data.slice() : data;
    const p = this.#conn.write(this.#inFlight).then(this.#wrote, this.#failed);
    if (!small) return p;
    p.catch(noop); // a failure reaches the socket through the sink
    return undefined;
  }

  /** The first `conn.write` of an unqueued write took `n` bytes. */
  readonly #wrote = (n: number): void | Promise<void> => {
    const data = this.#inFlight!;
    this.#inFlight = null;
    if (n === data.byteLength) return this.#next();
    return this.#writeAll(data.subarray(n)).then(this.#next, this.#failed);
  };

  /** The write in progress is done: send what was queued behind it, or become idle. */
  readonly #next = (): void => {
    if (this.#head < this.#queue.length && !this.#released) void this.#drain();
    else this.#idleNow();
  };

  /** The write in progress failed: the connection is done (unless we closed it ourselves). */
  readonly #failed = (err: unknown): never => {
    const e = denoError(err, { syscall: "write" }, "EPIPE");
    this.#fail(e); // after a local close or reset this is a no-op: the core reports ECLOSED
    this.#idleNow();
    throw e;
  };

  #idleNow(): void {
    this.#writing = false;
    const idle = this.#idle;
    this.#idle = null;
    idle?.resolve();
  }

  /** Sends the queue in call order, small writes together; `#writing` is already set. */
  async #drain(): Promise<void> {
    while (this.#head < this.#queue.length && !this.#released) {
      const batch = this.#takeBatch();
      try {
        await this.#writeAll(batch.length === 1 ? batch[0]!.data : concat(batch));
      } catch (err) {
        const e = denoError(err, { syscall: "write" }, "EPIPE");
        this.#fail(e);
        for (const w of batch) w.reject(e);
        break;
      }
      for (const w of batch) w.resolve();
    }
    this.#idleNow();
  }

  #takeBatch(): PendingWrite[] {
    const q = this.#queue;
    let end = this.#head + 1;
    let bytes = q[this.#head]!.data.byteLength;
    while (end < q.length && bytes + q[end]!.data.byteLength <= BATCH_BYTES) bytes += q[end++]!.data.byteLength;
    this.#queuedBytes -= bytes;
    const batch = q.slice(this.#head, end);
    this.#head = end;
    if (this.#head === q.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = await this.#conn.write(bytes);
    while (offset < bytes.byteLength) offset += await this.#conn.write(bytes.subarray(offset));
  }

  /** Resolves when every queued write has been taken (or failed). */
  #whenIdle(): Promise<void> {
    if (!this.#writing) return RESOLVED;
    this.#idle ??= deferred<void>();
    return this.#idle.promise;
  }

  async closeWrite(): Promise<void> {
    await this.#whenIdle();
    if (this.#released) return;
    try {
      await this.#conn.closeWrite();
    } catch (err) {
      if (!this.#released) throw denoError(err, { syscall: "shutdown" }, "EPIPE");
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#whenIdle().then(() => this.#release(closedError));
    return this.#closing;
  }

  /**
   * Deno has no RST: it exposes no SO_LINGER and closes with FIN. The closest is to close at once
   * and drop what is queued; the kernel then sends RST only if unread data is left in our receive
   * buffer, otherwise the peer sees an ordinary EOF.
   */
  reset(): void {
    this.#release(() => closedError("the socket was reset"));
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    if (!this.#held) this.#wakePump();
  }

  /** A reader is waiting: read once (on-demand mode only; otherwise the pump reads anyway). */
  demand(): void {
    if (!this.#onDemand || this.#wanted || this.#reading) return;
    this.#wanted = true;
    this.#wakePump();
  }

  /** See RawTransport: node:tls takes over what this connection reads, the read in flight included. */
  redirect(sink: SocketSink): void {
    this.#sink = sink;
    this.#onDemand = false;
    this.#paused = false; // a pause of the plaintext socket's is void: the new socket has its own
    this.#wakePump();
  }

  /** See RawTransport: the TLS engine's backpressure, apart from the core's pause(). */
  hold(on: boolean): void {
    this.#held = on;
    if (!on) this.#wakePump();
  }

  /**
   * Client STARTTLS: node:tls over this connection (never Deno.startTls: see tls.ts). If it fails,
   * the connection is dropped: the old socket is done, nobody owns it.
   */
  startTls(options: TlsClientOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    return this.#upgrade(async () => {
      if (signal?.aborted) throw signal.reason;
      if (this.#released) throw closedBeforeHandshake();
      checkTlsMaterial(options);
      const sock = await nodeTlsClient(this, options, context.errors, signal);
      return openedOverNodeTls(sock, this, sink, context.errors, this.#info, nodeTlsInfo(sock, "client"));
    });
  }

  async #upgrade(handshake: () => Promise<Opened>): Promise<Opened> {
    try {
      return await handshake();
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  /** Server STARTTLS: Deno.startTls has no server side, so node:tls over this connection. */
  startTlsServer(options: TlsServerOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    return this.#upgrade(async () => {
      if (this.#released) throw closedBeforeHandshake();
      checkTlsMaterial(options);
      const sock = await nodeTlsServer(this, options, context.errors, signal);
      return openedOverNodeTls(sock, this, sink, context.errors, this.#info, nodeTlsInfo(sock, "server", options.requestCert ?? false));
    });
  }

  setNoDelay(on: boolean): void {
    if (this.#tcp && !this.#released) this.#conn.setNoDelay?.(on);
  }

  /** TcpConn.setKeepAlive takes no delay: core refuses one before it gets here (capabilities.keepAliveDelay). */
  setKeepAlive(on: boolean): void {
    if (this.#tcp && !this.#released) this.#conn.setKeepAlive?.(on);
  }

  ref(): void {
    if (!this.#released) this.#conn.ref();
  }

  unref(): void {
    if (!this.#released) this.#conn.unref();
  }
}

function concat(batch: PendingWrite[]): Uint8Array {
  let total = 0;
  for (const w of batch) total += w.data.byteLength;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const w of batch) {
    out.set(w.data, offset);
    offset += w.data.byteLength;
  }
  return out;
}

/** Deno reports an unnamed Unix end (a client's own) as path null; the contract says "". */
export function addrOf(a: DenoAddr, unixPath: string): Addr {
  return "path" in a ? unixAddr(a.path ?? unixPath) : netAddr("tcp", a.hostname, a.port);
}

/** `mode.info` is the connection's own addresses; `info` what `opened` reports (with the TLS part). */
function opened(conn: DenoConn, sink: SocketSink, mode: TransportMode, info: SocketInfo = mode.info): Opened {
  return { transport: new DenoTransport(conn, sink, mode), info };
}

/** The client's TLS over a connection just made: node:tls (see tls.ts). A failure closes the connection. */
function secureConnected(conn: DenoConn, tcp: boolean, info: SocketInfo, options: TlsClientOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
  return new DenoTransport(conn, NO_SINK, { tcp, onDemand: true, info }).startTls(options, sink, signal);
}

/**
 * Opens a TCP, Unix or TLS connection with Deno's adapter (`Deno.connect`, `Deno.connectTls` and `Deno.startTls` (Deno's node:tls where those cannot: no verification, client certificates)).
 * Returns at once; the connection's failures surface through `opened` as a `SocketError`, and
 * bad arguments throw `EINVAL` here.
 *
 * @param address `"host:port"`, `{ hostname, port }`, or `{ path }` for a Unix socket.
 * @param options TLS (`secureTransport`, `tls`), half-close, Nagle, keep-alive, and an abort `signal`.
 *
 * @example
 * ```ts
 * import { connect } from "unisock/deno";
 * await using s = connect("example.com:443", { secureTransport: "on" });
 * await s.opened;
 * await s.write("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
 * const response = await new Response(s.readable).text();
 * ```
 */
export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
  if (plan.secureTransport !== "off") checkTlsMaterial(plan.tls);
  const onDemand = plan.secureTransport === "starttls";
  return new StreamSocket(
    context,
    async (sink, signal) => {
      let conn: DenoConn;
      try {
        // Deno.connect takes a signal for TCP only; the core races it for Unix and closes a late connection.
        conn =
          target.kind === "unix"
            ? await deno.connect({ transport: "unix", path: target.path })
            : await deno.connect({ hostname: target.hostname, port: target.port, signal });
      } catch (err) {
        if (signal?.aborted && err === signal.reason) throw err;
        const where = target.kind === "unix" ? { address: target.path } : { address: target.hostname, port: target.port };
        throw denoError(err, { syscall: "connect", ...where });
      }
      const tcp = target.kind === "net";
      let info: SocketInfo;
      if (!tcp) info = { localAddress: addrOf(conn.localAddr, ""), remoteAddress: unixAddr(target.path), alpn: null };
      else {
        try {
          conn.setNoDelay?.(plan.noDelay);
          if (plan.keepAlive.enabled) conn.setKeepAlive?.(true);
        } catch (err) {
          conn.close();
          throw denoError(err, { syscall: "setsockopt" });
        }
        info = { localAddress: addrOf(conn.localAddr, ""), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null };
      }
      if (plan.secureTransport === "on") return secureConnected(conn, tcp, info, plan.tls, sink, signal);
      return opened(conn, sink, { tcp, onDemand, info });
    },
    plan,
  );
}

/** `listen` never takes over an existing path; Deno's bind would fail too, but a stale socket file must never be unlinked. */
async function refuseExisting(path: string): Promise<void> {
  try {
    await deno.lstat(path);
  } catch (err) {
    if ((err as Error | null)?.name === "NotFound") return;
    throw denoError(err, { syscall: "lstat", address: path }, "EACCES");
  }
  throw new SocketError("EADDRINUSE", `${path} already exists; listen never removes an existing file`, {
    syscall: "listen",
    address: path,
  });
}

/** Deno 2.x unlinks a Unix listener's path when it closes; older versions left it, so check that it is gone. */
async function removeOwnFile(path: string, own: DenoFileInfo): Promise<void> {
  try {
    const now = await deno.lstat(path);
    if (now.dev === own.dev && now.ino === own.ino) await deno.remove(path);
  } catch {
    // gone already
  }
}

function openListener(plan: ListenPlan): DenoListener {
  const { target } = plan;
  if (target.kind === "unix") return deno.listen({ transport: "unix", path: target.path });
  return deno.listen({
    hostname: target.hostname,
    port: target.port,
    tcpBacklog: plan.backlog,
    // Only ever passed when --unstable-net is on (planListen checks capabilities.reusePort): without it Deno exits.
    ...(plan.reusePort ? { reusePort: true } : {}),
  });
}

/** planListen, with a message that says what to do when reusePort is asked for without --unstable-net. */
function planDenoListen(options: ListenOptions | undefined): ListenPlan {
  if ((options as { reusePort?: unknown } | null | undefined)?.reusePort === true && !context.capabilities.reusePort) {
    planListen(context, { ...options, reusePort: false }); // any other bad argument is reported first
    throw unsupported("reusePort without the --unstable-net flag", context.runtime);
  }
  return planListen(context, options);
}

/**
 * Listens for TCP, Unix or TLS connections with Deno's adapter (`Deno.listen` or `Deno.listenTls`).
 * Resolves once listening; `addr` has the port the system chose for port 0.
 *
 * @param options Where to listen (default `0.0.0.0`, an ephemeral port), or `path`; `tls` to serve TLS.
 *
 * @example An echo server
 * ```ts
 * import { listen } from "unisock/deno";
 * await using l = await listen({ hostname: "127.0.0.1", port: 7007 });
 * for await (const conn of l) conn.readable.pipeTo(conn.writable).catch(() => {});
 * ```
 */
export async function listen(options?: ListenOptions): Promise<Listener> {
  const plan = planDenoListen(options);
  if (plan.tls !== undefined) checkTlsMaterial(plan.tls);
  const { target } = plan;
  const where = { syscall: "listen", ...listenContext(target) };
  const abstract = target.kind === "unix" && target.path.startsWith("\0");
  if (target.kind === "unix") {
    // Deno.listen takes no backlog for Unix sockets (tokio's fixed 1024).
    if (options?.backlog !== undefined) throw unsupported("setting the backlog of a Unix socket", context.runtime);
    if (!abstract) await refuseExisting(target.path);
  }
  // TLS listeners are Deno.listen and node:tls on each connection, never Deno.listenTls: a
  // connection of Deno.listenTls still in its handshake cannot be closed (its close() waits for
  // the handshake to end, so its descriptor stays for as long as the client is silent), nor can it
  // ask for client certificates or turn Nagle off (see tls.ts).
  let native: DenoListener;
  try {
    native = openListener(plan);
  } catch (err) {
    throw denoError(err, where, "EADDRINUSE");
  }
  const own = target.kind === "unix" && !abstract ? await deno.lstat(target.path).catch(() => null) : null;
  let addr: Addr;
  if (target.kind === "unix") addr = unixAddr(target.path);
  else {
    const bound = native.addr;
    addr = bound.transport === "tcp" ? netAddr("tcp", bound.hostname, bound.port) : netAddr("tcp", target.hostname, target.port);
  }
  let closing = false;
  let accepting: Promise<void> = RESOLVED;
  /** TLS connections still in their handshake: not delivered yet, so closed with the listener. */
  const handshakes = plan.tls === undefined ? null : new PendingHandshakes(plan.tls);
  const listener = new StreamListener(
    {
      addr,
      close: async () => {
        if (!closing) {
          closing = true;
          try {
            native.close();
          } catch {
            // already closed
          }
        }
        await accepting;
        handshakes?.closeAll();
        if (own !== null && target.kind === "unix") await removeOwnFile(target.path, own);
      },
      ref: () => native.ref(),
      unref: () => native.unref(),
    },
    plan.signal,
  );
  accepting = acceptLoop(native, listener, plan, () => closing, handshakes);
  return listener;
}

async function acceptLoop(
  native: DenoListener,
  listener: StreamListener,
  plan: ListenPlan,
  closing: () => boolean,
  handshakes: PendingHandshakes | null,
): Promise<void> {
  let backoff = 0;
  for (;;) {
    let conn: DenoConn;
    try {
      conn = await native.accept();
      backoff = 0;
    } catch (err) {
      if (closing() || isClosedError(err)) return;
      // A passing failure (EMFILE, a connection aborted in the queue): wait a little and go on, as Go's net/http does.
      backoff = Math.min(backoff === 0 ? 5 : backoff * 2, 1000);
      await new Promise((resolve) => setTimeout(resolve, backoff));
      continue;
    }
    if (plan.tls !== undefined) void acceptNodeTls(conn, listener, plan, plan.tls, handshakes!);
    else listener.deliver(accepted(conn, plan));
  }
}

/** The addresses of an accepted connection. */
function acceptedInfo(conn: DenoConn, plan: ListenPlan): SocketInfo {
  return plan.target.kind === "unix"
    ? { localAddress: unixAddr(plan.target.path), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null }
    : { localAddress: addrOf(conn.localAddr, ""), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null };
}

/** A TLS socket that is already open: its handshake ran before it was delivered. */
function deliverOpened(listener: StreamListener, plan: ListenPlan, open: (sink: SocketSink) => Opened): void {
  listener.deliver(
    new StreamSocket(context, (sink) => Promise.resolve(open(sink)), { allowHalfOpen: plan.allowHalfOpen, secureTransport: "on" }),
  );
}

/** A plain connection, then node:tls's server handshake over it; a client that fails is dropped, never delivered. */
async function acceptNodeTls(
  conn: DenoConn,
  listener: StreamListener,
  plan: ListenPlan,
  options: TlsServerOptions,
  handshakes: PendingHandshakes,
): Promise<void> {
  const tcp = plan.target.kind === "net";
  if (tcp) {
    try {
      conn.setNoDelay?.(plan.noDelay);
    } catch {
      conn.close();
      return;
    }
  }
  const info = acceptedInfo(conn, plan);
  const raw = new DenoTransport(conn, NO_SINK, { tcp, onDemand: true, info });
  const done = handshakes.add(() => raw.reset());
  let sock: Awaited<ReturnType<typeof nodeTlsServer>>;
  try {
    sock = await nodeTlsServer(raw, options, context.errors, undefined);
  } catch {
    raw.reset();
    return;
  } finally {
    done();
  }
  const tlsPart = nodeTlsInfo(sock, "server", options.requestCert ?? false);
  deliverOpened(listener, plan, (sink) => openedOverNodeTls(sock, raw, sink, context.errors, info, tlsPart));
}

function accepted(conn: DenoConn, plan: ListenPlan): StreamSocket {
  const { target } = plan;
  const onDemand = plan.secureTransport === "starttls";
  return new StreamSocket(
    context,
    (sink) => {
      if (target.kind === "unix") return Promise.resolve(opened(conn, sink, { tcp: false, onDemand, info: acceptedInfo(conn, plan) }));
      try {
        conn.setNoDelay?.(plan.noDelay);
      } catch (err) {
        conn.close();
        return Promise.reject(denoError(err, { syscall: "setsockopt" }));
      }
      return Promise.resolve(opened(conn, sink, { tcp: true, onDemand, info: acceptedInfo(conn, plan) }));
    },
    { allowHalfOpen: plan.allowHalfOpen, secureTransport: plan.secureTransport },
  );
}
