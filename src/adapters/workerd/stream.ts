import { SocketError, unsupported } from "../../core/errors.ts";
import { netAddr, planConnect, planListen } from "../../core/options.ts";
import type { Opened, SocketSink, Transport } from "../../core/transport.ts";
import { StreamSocket } from "../../core/socket.ts";
import type {
  ConnectAddress,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Socket,
  SocketInfo,
  TlsClientOptions,
} from "../../core/types.ts";
import { ipFamily } from "../../core/validate.ts";
import { CANNOT_CONNECT, context, workerdError } from "./context.ts";
import { type CfSocket, type CfSocketInfo, sockets } from "./_sockets.ts";

/**
 * The workerd adapter: `connect()` of `cloudflare:sockets` under the core's StreamSocket. workerd's
 * socket is always opened half-open (`allowHalfOpen: true`): what a FIN means is the core's call.
 */

/** "host:port" or "[v6]:port" as workerd reports an address; null if it reports none. */
function parseAddr(text: string | undefined): NetAddr | null {
  const m = text === undefined ? null : /^\[?(.*?)\]?:(\d+)$/.exec(text);
  return m ? netAddr("tcp", m[1]!, Number(m[2])) : null;
}

/** workerd takes an IPv6 literal in brackets only ("::1" alone fails to connect). */
function cfHost(hostname: string): string {
  return ipFamily(hostname) === "IPv6" ? `[${hostname}]` : hostname;
}

/** workerd reports no local address: the unspecified address of the peer's family, port 0. */
function infoOf(reported: CfSocketInfo, hostname: string, port: number): SocketInfo {
  const remoteAddress = parseAddr(reported.remoteAddress) ?? netAddr("tcp", hostname, port);
  const localAddress =
    parseAddr(reported.localAddress) ??
    netAddr("tcp", ipFamily(remoteAddress.hostname) === "IPv6" ? "::" : "0.0.0.0", 0);
  return { localAddress, remoteAddress, alpn: null };
}

/**
 * What TLS options workerd can honour: it verifies against its own trust store (the network
 * service's `tlsOptions.trustedCertificates` in workerd's config, the public roots on Cloudflare)
 * and always verifies; a connection made with `secureTransport: "on"` checks the host it connects to.
 */
function checkWorkerdTls(tls: TlsClientOptions, hostname: string | null): void {
  if (tls.ca !== undefined)
    throw unsupported("tls.ca (workerd trusts the CAs of its configuration, not one per connection)", "workerd");
  if (tls.rejectUnauthorized === false)
    throw unsupported("rejectUnauthorized: false (workerd always verifies)", "workerd");
  if (hostname !== null && tls.serverName !== undefined && tls.serverName !== hostname) {
    throw unsupported(
      'a tls.serverName other than the host connected to with secureTransport "on" (use "starttls")',
      "workerd",
    );
  }
}

class WorkerdTransport implements Transport {
  readonly #socket: CfSocket;
  readonly #sink: SocketSink;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #paused = false;
  #wake: (() => void) | null = null;
  /**
   * A "starttls" socket reads only while a reader waits (Flow.demand): workerd's startTls() needs
   * the plaintext readable with no read pending, and bytes read ahead would belong to TLS.
   */
  readonly #onDemand: boolean;
  #wanted = false;
  /** A read of workerd's readable is outstanding. */
  #reading = false;
  /** Upgraded by startTls(): the TLS socket reports to its own sink. */
  #detached = false;
  /** close() or reset() was called: what the reads report after it is of no interest. */
  #closing = false;
  /** The last write, settled either way: `closed` is reported after it (see write()). */
  #lastWrite: Promise<void> = Promise.resolve();
  readonly #info: SocketInfo;

  constructor(socket: CfSocket, sink: SocketSink, info: SocketInfo, onDemand: boolean) {
    this.#socket = socket;
    this.#info = info;
    this.#sink = sink;
    this.#onDemand = onDemand;
    this.#reader = socket.readable.getReader();
    this.#writer = socket.writable.getWriter();
    const pumped = this.#pump();
    // workerd resolves `closed` even when the peer reset the connection, before the pending read
    // fails with "Network connection lost": the release is reported once the reads are done, so
    // the reset is not taken for a clean close (unless we closed it ourselves). So is a write
    // that fails (write() reports it).
    socket.closed.then(
      async () => {
        if (!this.#closing) await Promise.all([pumped, this.#lastWrite]);
        if (!this.#detached) sink.closed();
      },
      (err: unknown) => {
        if (this.#detached) return;
        sink.error(err);
        sink.closed();
      },
    );
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        while (!this.#detached && !this.#closing && (this.#paused || (this.#onDemand && !this.#wanted))) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
        }
        if (this.#detached || this.#closing) return;
        this.#reading = true;
        const { value, done } = await this.#reader.read();
        this.#reading = false;
        this.#wanted = false;
        if (this.#detached) return;
        if (done) return this.#sink.end();
        if (value.byteLength > 0) this.#sink.data(value);
      }
    } catch (err) {
      if (!this.#detached && !this.#closing) this.#sink.error(err);
    }
  }

  #wakeUp(): void {
    this.#wake?.();
    this.#wake = null;
  }

  demand(): void {
    this.#wanted = true;
    this.#wakeUp();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wakeUp();
  }

  /**
   * A failed write fails the connection, as a native socket's write error does elsewhere: workerd
   * still resolves `closed` after it (its reads may have ended with the peer's FIN), and the
   * contract wants `closed` to reject with the write's error.
   */
  write(data: Uint8Array): Promise<void> {
    const w = this.#writer.write(data).catch((err: unknown) => {
      if (!this.#detached && !this.#closing) this.#sink.error(err);
      throw err;
    });
    this.#lastWrite = w.catch(() => {});
    return w;
  }

  closeWrite(): Promise<void> {
    return this.#writer.close();
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#wakeUp();
    await this.#socket.close();
  }

  /** capabilities.reset is false: the connection is closed at once instead. */
  reset(): void {
    this.#closing = true;
    this.#wakeUp();
    this.#socket.close().catch(() => {});
  }

  setNoDelay(): void {
    throw unsupported("setNoDelay()", "workerd");
  }

  setKeepAlive(): void {
    throw unsupported("setKeepAlive()", "workerd");
  }

  /** Nothing to keep alive: a Worker's sockets live as long as the request that opened them. */
  ref(): void {}
  unref(): void {}

  async startTls(options: TlsClientOptions, sink: SocketSink, signal: AbortSignal | undefined): Promise<Opened> {
    checkWorkerdTls(options, null);
    // workerd's startTls() needs both streams unlocked, and a reader with a read outstanding cannot
    // be released (nor can that read be taken back without cancelling the connection's readable).
    if (this.#reading)
      throw unsupported("startTls() while a read is pending (workerd cannot release its reader)", "workerd");
    this.#detached = true;
    this.#wakeUp();
    this.#reader.releaseLock();
    this.#writer.releaseLock();
    const secure = this.#socket.startTls(
      options.serverName === undefined ? {} : { expectedServerHostname: options.serverName },
    );
    // The plaintext connection was up: whatever fails now is the handshake.
    return opened(secure, sink, signal, { upgraded: this.#info });
  }
}

/**
 * Waits for `socket` to open and wraps it. `from`: for a first connection, the address connected
 * to (and whether with TLS, to tell a refused port from a failed handshake); for startTls(), the
 * plaintext connection's info.
 */
async function opened(
  socket: CfSocket,
  sink: SocketSink,
  signal: AbortSignal | undefined,
  from: { hostname: string; port: number; tls: boolean; onDemand: boolean } | { upgraded: SocketInfo },
): Promise<Opened> {
  const onAbort = (): void => void socket.close().catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const reported = await socket.opened;
    // A socket from startTls() keeps the plaintext connection's addresses. workerd verifies every
    // certificate it accepts: a TLS socket that opened is authorized.
    const info =
      "upgraded" in from ? { ...from.upgraded, authorized: true } : infoOf(reported, from.hostname, from.port);
    if ("tls" in from && from.tls) info.authorized = true;
    return { transport: new WorkerdTransport(socket, sink, info, "onDemand" in from && from.onDemand), info };
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if ("upgraded" in from) throw tlsFailure(err);
    const plain = from;
    const where = { syscall: "connect", address: plain.hostname, port: plain.port };
    if (plain.tls && CANNOT_CONNECT.test(String((err as Error)?.message))) {
      if (await reachable(plain.hostname, plain.port)) throw tlsFailure(err);
    }
    throw workerdError(err, where, "ECONNREFUSED");
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** workerd does not say why a handshake failed: certificate or protocol. */
function tlsFailure(err: unknown): SocketError {
  const why = err instanceof Error ? err.message : String(err);
  return new SocketError(
    "ERR_TLS_HANDSHAKE",
    `the TLS handshake failed (workerd does not report whether the certificate was the cause: ${why})`,
    { cause: err },
  );
}

/** Whether a plain TCP connection to the address opens: tells a failed TLS handshake from a refused port. */
async function reachable(hostname: string, port: number): Promise<boolean> {
  try {
    const probe = (await sockets())({ hostname: cfHost(hostname), port });
    await probe.opened;
    await probe.close().catch(() => {});
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens a TCP or TLS connection with `cloudflare:sockets`. Returns at once; failures surface
 * through `opened` as a {@linkcode SocketError}. Must be called while a request is handled: a
 * Worker's sockets live only as long as the request (or event) that opened them.
 *
 * @example
 * ```ts
 * import { connect } from "unisock/workerd";
 * await using s = connect("db.example.com:5432", { secureTransport: "starttls" });
 * ```
 */
export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
  if (target.kind !== "net") throw unsupported("Unix stream sockets", "workerd");
  if (plan.secureTransport === "on") checkWorkerdTls(plan.tls, target.hostname);
  else if (plan.secureTransport === "starttls") checkWorkerdTls({ ...plan.tls, serverName: undefined }, null);
  return new StreamSocket(
    context,
    async (sink, signal) => {
      let socket: CfSocket;
      try {
        const cfConnect = await sockets();
        socket = cfConnect(
          { hostname: cfHost(target.hostname), port: target.port },
          { secureTransport: plan.secureTransport, allowHalfOpen: true },
        );
      } catch (err) {
        throw workerdError(err, { syscall: "connect", address: target.hostname, port: target.port }, "ECONNREFUSED");
      }
      return opened(socket, sink, signal, {
        hostname: target.hostname,
        port: target.port,
        tls: plan.secureTransport === "on",
        onDemand: plan.secureTransport === "starttls",
      });
    },
    plan,
  );
}

/** Workers cannot listen: ERR_UNSUPPORTED (EINVAL first for malformed options, as everywhere). */
export async function listen(options?: ListenOptions): Promise<Listener> {
  planListen(context, options);
  throw unsupported("listening for connections", "workerd");
}
