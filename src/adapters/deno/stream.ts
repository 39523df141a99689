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
 */
import { closedError, SocketError, unsupported } from "../../core/errors.ts";
import { StreamListener } from "../../core/listener.ts";
import { type ListenPlan, listenContext, netAddr, planConnect, planListen, unixAddr } from "../../core/options.ts";
import { deferred, type Deferred } from "../../core/signal.ts";
import {
  type Opened,
  type Opener,
  type SocketSink,
  StreamSocket,
  type StreamSocketOptions,
  type Transport,
} from "../../core/socket.ts";
import type { Addr, ConnectAddress, ConnectOptions, Listener, ListenOptions, Socket, SocketInfo } from "../../core/types.ts";
import { deno, type DenoAddr, type DenoConn, type DenoFileInfo, type DenoListener } from "./_deno.ts";
import { context, denoError } from "./context.ts";

/**
 * Read buffers start at FIRST_READ (an idle or short-lived connection holds no more) and grow to
 * MAX_READ while reads fill them. A read under a quarter of its buffer is copied out and the
 * buffer reused, so a small chunk never pins a big buffer.
 */
const FIRST_READ = 16 * 1024;
const MAX_READ = 64 * 1024;
/** Small writes queued behind a running write go out together, up to this many bytes. */
const BATCH_BYTES = 64 * 1024;

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

/**
 * A Deno connection as the core's Transport; it reports to `sink` from the moment it exists.
 * Exported for TLS (a Deno.TlsConn is a Conn too). Note for STARTTLS: Deno.startTls refuses a
 * connection with a read pending ("currently in use"), and this pump always has one.
 */
export class DenoTransport implements Transport {
  readonly #conn: DenoConn;
  readonly #sink: SocketSink;
  readonly #tcp: boolean;
  /** Writes not yet taken by Deno, in call order, from `#head`. */
  #queue: PendingWrite[] = [];
  #head = 0;
  #writing = false;
  /** The unqueued write whose first `conn.write` is pending. */
  #inFlight: Uint8Array | null = null;
  #idle: Deferred<void> | null = null;
  #paused = false;
  #wake: (() => void) | null = null;
  /** `conn.close()` was called: nothing more goes to Deno, nor to the sink. */
  #released = false;
  #closing: Promise<void> | null = null;

  constructor(conn: DenoConn, sink: SocketSink, tcp: boolean) {
    this.#conn = conn;
    this.#sink = sink;
    this.#tcp = tcp;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    let buf = new Uint8Array(FIRST_READ);
    try {
      while (!this.#released) {
        if (this.#paused) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        const n = await this.#conn.read(buf);
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
    this.#sink.closed();
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#released) return Promise.reject(new SocketError("EPIPE", "the connection is closed"));
    if (this.#writing) {
      return new Promise<void>((resolve, reject) => {
        this.#queue.push({ data, resolve, reject });
      });
    }
    // Nothing queued: straight to Deno, which most often takes it all in one call.
    this.#writing = true;
    this.#inFlight = data;
    return this.#conn.write(data).then(this.#wrote, this.#failed);
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
    this.#wakePump();
  }

  setNoDelay(on: boolean): void {
    if (this.#tcp && !this.#released) this.#conn.setNoDelay?.(on);
  }

  /** TcpConn.setKeepAlive takes no delay: DenoSocket refuses one before it gets here. */
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

/**
 * The core's socket, refusing a keep-alive delay at once: Deno's TcpConn.setKeepAlive takes none
 * (the kernel's tcp_keepalive_time applies), and the transport may only be reached after connecting.
 */
class DenoSocket extends StreamSocket {
  readonly #tcp: boolean;

  constructor(opener: Opener, options: StreamSocketOptions, tcp: boolean) {
    super(context, opener, options);
    this.#tcp = tcp;
  }

  override setKeepAlive(on: boolean, delayMs?: number): void {
    if (this.#tcp && on && Number.isInteger(delayMs) && delayMs! > 0) throw unsupported("a keep-alive delay", context.runtime);
    super.setKeepAlive(on, delayMs);
  }
}

function opened(conn: DenoConn, sink: SocketSink, tcp: boolean, info: SocketInfo): Opened {
  return { transport: new DenoTransport(conn, sink, tcp), info };
}

export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
  if (target.kind === "net" && plan.keepAlive.enabled && plan.keepAlive.delayMs > 0) {
    throw unsupported("a keep-alive delay (keepAlive.delayMs)", context.runtime);
  }
  return new DenoSocket(
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
      if (target.kind === "unix") {
        const info = { localAddress: addrOf(conn.localAddr, ""), remoteAddress: unixAddr(target.path), alpn: null };
        return opened(conn, sink, false, info);
      }
      try {
        conn.setNoDelay?.(plan.noDelay);
        if (plan.keepAlive.enabled) conn.setKeepAlive?.(true);
      } catch (err) {
        conn.close();
        throw denoError(err, { syscall: "setsockopt" });
      }
      return opened(conn, sink, true, { localAddress: addrOf(conn.localAddr, ""), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null });
    },
    plan,
    target.kind === "net",
  );
}

/** "::" in any spelling: the address that is dual-stack on Linux. */
function isUnspecifiedIPv6(hostname: string): boolean {
  return hostname.includes(":") && /^[0:]+$/.test(hostname);
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
  if (options?.reusePort && !context.capabilities.reusePort) {
    planListen(context, { ...options, reusePort: false }); // any other bad argument is reported first
    throw unsupported("reusePort without the --unstable-net flag", context.runtime);
  }
  return planListen(context, options);
}

export async function listen(options?: ListenOptions): Promise<Listener> {
  const plan = planDenoListen(options);
  const { target } = plan;
  const where = { syscall: "listen", ...listenContext(target) };
  const abstract = target.kind === "unix" && target.path.startsWith("\0");
  if (target.kind === "unix") {
    // Deno.listen takes no backlog for Unix sockets (tokio's fixed 1024).
    if (options?.backlog !== undefined) throw unsupported("setting the backlog of a Unix socket", context.runtime);
    if (!abstract) await refuseExisting(target.path);
  } else if (plan.ipv6Only && isUnspecifiedIPv6(target.hostname)) {
    throw unsupported('ipv6Only (Deno.listen on "::" is always dual-stack)', context.runtime);
  }
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
        if (own !== null && target.kind === "unix") await removeOwnFile(target.path, own);
      },
      ref: () => native.ref(),
      unref: () => native.unref(),
    },
    plan.signal,
  );
  accepting = acceptLoop(native, listener, plan, () => closing);
  return listener;
}

async function acceptLoop(native: DenoListener, listener: StreamListener, plan: ListenPlan, closing: () => boolean): Promise<void> {
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
    listener.deliver(accepted(conn, plan));
  }
}

function accepted(conn: DenoConn, plan: ListenPlan): StreamSocket {
  const { target } = plan;
  return new DenoSocket(
    (sink) => {
      if (target.kind === "unix") {
        const info = { localAddress: unixAddr(target.path), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null };
        return Promise.resolve(opened(conn, sink, false, info));
      }
      try {
        conn.setNoDelay?.(plan.noDelay);
      } catch (err) {
        conn.close();
        return Promise.reject(denoError(err, { syscall: "setsockopt" }));
      }
      const info = { localAddress: addrOf(conn.localAddr, ""), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null };
      return Promise.resolve(opened(conn, sink, true, info));
    },
    { allowHalfOpen: plan.allowHalfOpen, secureTransport: plan.secureTransport },
    target.kind === "net",
  );
}
