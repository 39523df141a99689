import { closedError, invalid, SocketError, toSocketError, unsupported } from "../errors.ts";
import { netAddr } from "../options.ts";
import { RESOLVED, raceSignal } from "../signal.ts";
import type { Datagram, DatagramAddr, DatagramSocket, DatagramTarget, Multicast, OutgoingDatagram } from "../types.ts";
import { checkHost, checkPort, checkPositiveInt, ipFamily, show, signalOption, toBytes } from "../validate.ts";
import { canonicalIP, isMulticast, limitFor, MAX_UDP4_PAYLOAD } from "./address.ts";
import { interfaceAddress, unixTarget } from "./checks.ts";
import { lookupFamily, type ResolvedUdp, resolveHost, toTarget } from "./resolve.ts";
import { ReceiveQueue, type Waiter } from "./queue.ts";
import { datagramReadable, datagramWritable, isClosedError } from "./streams.ts";
import type {
  BindPlan,
  DatagramCapabilities,
  DatagramContext,
  DatagramSink,
  DatagramTransport,
  UdpBindPlan,
  UdpTarget,
  UnixTarget,
} from "./transport.ts";

/**
 * The datagram socket of the contract, written once. An adapter supplies only a
 * `DatagramTransport` (the runtime's socket, bound) and feeds a `DatagramSink`; everything a user
 * can observe — argument checks, name resolution, the size limits, the receive queue and its
 * bound, pending receives and their signals, ICMP errors, close, Web Streams, iteration — is
 * decided here and in the files beside this one, so it is the same on every runtime.
 */

const noop = (): void => {};

/** The datagram socket: its receive side is a `ReceiveQueue` (queue.ts), its sends and options are here. */
export class UniDatagramSocket<A extends DatagramAddr> implements DatagramSocket<A> {
  readonly #ctx: DatagramContext;
  readonly #plan: BindPlan;
  #transport: DatagramTransport | null = null;
  readonly #remote: A | null;
  /** The size limit of the connected peer's IP version. */
  readonly #connectedLimit: number;
  readonly #queue: ReceiveQueue<A>;
  #closed = false;
  #closeP: Promise<void> | null = null;
  #unlisten: (() => void) | null = null;
  #lastTo: { hostname: string; port: number; resolved: ResolvedUdp } | null = null;
  #readable: ReadableStream<Datagram<A>> | null = null;
  #writable: WritableStream<OutgoingDatagram<A>> | null = null;
  #multicast: Multicast | null = null;
  readonly sink: DatagramSink;

  constructor(ctx: DatagramContext, plan: BindPlan, queueBytes: number) {
    this.#ctx = ctx;
    this.#plan = plan;
    this.#queue = new ReceiveQueue(queueBytes);
    if (plan.kind === "udp" && plan.connect) {
      const peer = netAddr("udp", plan.connect.hostname, plan.connect.port);
      this.#remote = peer as A;
      this.#connectedLimit = limitFor(peer.hostname);
    } else {
      this.#remote =
        plan.kind === "unix" && plan.connect ? ({ transport: "unix", path: plan.connect.path } as A) : null;
      this.#connectedLimit = plan.kind === "udp" ? limitFor(plan.hostname) : Infinity;
    }
    this.sink = {
      // A view into a larger buffer (Deno's node:dgram hands each datagram over inside its 64 KiB
      // receive buffer) would keep all of it alive, in the queue or wherever the application keeps
      // the datagram: each datagram gets a buffer of its own.
      message: (data, from, truncated) =>
        this.#queue.deliver({
          data: data.buffer.byteLength === data.byteLength ? data : data.slice(),
          remoteAddress: from as A,
          truncated,
        }),
      error: (err) => this.#deliverError(err),
    };
  }

  /** Called once the runtime's socket is bound. */
  attach(transport: DatagramTransport, signal: AbortSignal | undefined): void {
    this.#transport = transport;
    this.#queue.attach(transport);
    if (signal) {
      const abort = (): void => void this.close();
      signal.addEventListener("abort", abort, { once: true });
      this.#unlisten = () => signal.removeEventListener("abort", abort);
    }
  }

  get localAddress(): A {
    return this.#transport!.localAddress as A;
  }

  get remoteAddress(): A | null {
    return this.#remote;
  }

  get dropped(): number {
    return this.#queue.dropped;
  }

  /** Like the kernel's pending socket error: one at a time, reported once, in order with the datagrams. */
  #deliverError(err: unknown): void {
    if (this.#closed) return;
    this.#queue.deliverError(toSocketError(err, this.#ctx.errors, { syscall: "recv" }, "ECONNRESET"));
  }

  receive(options?: { signal?: AbortSignal }): Promise<Datagram<A>> {
    let signal: AbortSignal | undefined;
    try {
      signal = signalOption(options, "receive options");
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const queued = this.#queue.next();
    if (queued !== null) return queued;
    if (this.#closed) return Promise.reject(closedError());
    let waiter!: Waiter<A>;
    const p = new Promise<Datagram<A>>((resolve, reject) => {
      waiter = { resolve, reject };
      this.#queue.wait(waiter);
    });
    if (signal === undefined) return p;
    // An aborted receive leaves the line: the next datagram goes to the next receive.
    return raceSignal(p, signal, () => this.#queue.leave(waiter));
  }

  send(data: Uint8Array | string, to?: DatagramTarget<A>): Promise<void> {
    try {
      if (this.#closed) throw closedError();
      const bytes = toBytes(data);
      if (this.#plan.kind === "unix") return this.#transmit(bytes, unixTarget(this.#plan, to), null);
      const r = this.#udpTarget(this.#plan, to as { hostname: string; port: number } | undefined);
      if (r instanceof Promise) return r.then((resolved) => this.#transmit(bytes, resolved.target, resolved));
      return this.#transmit(bytes, r?.target ?? null, r);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #udpTarget(
    plan: UdpBindPlan,
    to: { hostname: string; port: number } | undefined,
  ): ResolvedUdp | null | Promise<ResolvedUdp> {
    if (to === undefined) {
      if (plan.connect) return null;
      throw invalid("send() on an unconnected socket needs a destination { hostname, port }");
    }
    if (plan.connect) throw invalid("this socket is connected: send() takes no destination");
    if (typeof to !== "object" || to === null) throw invalid("the destination must be { hostname, port }");
    const last = this.#lastTo;
    if (last !== null && last.hostname === to.hostname && last.port === to.port) return last.resolved;
    const host = checkHost(to.hostname);
    const port = checkPort(to.port, false);
    const make = (ip: string): ResolvedUdp => ({
      target: toTarget(plan, ip, port),
      limit: limitFor(ip),
      address: host,
    });
    if (ipFamily(host) !== null) {
      const resolved = make(canonicalIP(host));
      this.#lastTo = { hostname: to.hostname, port, resolved };
      return resolved;
    }
    return resolveHost(this.#ctx, host, lookupFamily(plan)).then(make);
  }

  #transmit(bytes: Uint8Array, target: UdpTarget | UnixTarget | null, resolved: ResolvedUdp | null): Promise<void> {
    if (this.#closed) throw closedError();
    const limit = resolved ? resolved.limit : this.#connectedLimit;
    if (bytes.byteLength > limit) {
      throw new SocketError(
        "EMSGSIZE",
        `a datagram of ${bytes.byteLength} bytes is over the limit of ${limit} bytes for UDP over ${limit === MAX_UDP4_PAYLOAD ? "IPv4" : "IPv6"}`,
        { syscall: "send", ...this.#where(target, resolved) },
      );
    }
    let r: Promise<unknown> | undefined;
    try {
      r = this.#transport!.send(bytes, target);
    } catch (err) {
      throw this.#sendError(err, target, resolved);
    }
    if (r === undefined) return RESOLVED;
    // One reaction: the send resolves with nothing, or fails with the contract's error.
    return r.then(noop, (err: unknown) => {
      throw this.#sendError(err, target, resolved);
    });
  }

  /** Where a datagram was going, for its error: as the caller named it. */
  #where(target: UdpTarget | UnixTarget | null, resolved: ResolvedUdp | null): { address?: string; port?: number } {
    if (resolved) return { address: resolved.address, port: (target as UdpTarget).port };
    if (target !== null && "path" in target) return { address: target.path };
    const peer = this.#remote;
    if (peer === null) return {};
    return "path" in peer ? { address: peer.path } : { address: peer.hostname, port: peer.port };
  }

  #sendError(err: unknown, target: UdpTarget | UnixTarget | null, resolved: ResolvedUdp | null): SocketError {
    if (this.#closed) return closedError();
    return toSocketError(err, this.#ctx.errors, { syscall: "send", ...this.#where(target, resolved) }, "ENETUNREACH");
  }

  /** Checks shared by the UDP-only methods; returns the transport. */
  #udpOnly(capability: keyof DatagramCapabilities, what: string): DatagramTransport {
    if (!this.#ctx.capabilities[capability]) throw unsupported(what, this.#ctx.runtime);
    if (this.#closed) throw closedError();
    if (this.#plan.kind !== "udp") throw invalid(`${what} applies to UDP sockets, not Unix datagram sockets`);
    return this.#transport!;
  }

  #native<T>(f: () => T, syscall: string): T {
    try {
      return f();
    } catch (err) {
      throw toSocketError(err, this.#ctx.errors, { syscall }, "EINVAL");
    }
  }

  setBroadcast(on: boolean): void {
    const t = this.#udpOnly("broadcast", "broadcast");
    if (typeof on !== "boolean") throw invalid(`setBroadcast() takes a boolean, got ${show(on)}`);
    this.#native(() => t.setBroadcast(on), "setsockopt");
  }

  setTTL(ttl: number): void {
    const t = this.#udpOnly("datagramTTL", "setTTL()");
    checkPositiveInt(ttl, "TTL", 255);
    this.#native(() => t.setTTL(ttl), "setsockopt");
  }

  get multicast(): Multicast {
    this.#multicast ??= {
      join: (group, iface) => this.#membership("join", group, iface),
      leave: (group, iface) => this.#membership("leave", group, iface),
      setTTL: (ttl) => {
        const t = this.#udpOnly("multicast", "multicast");
        // Multicast TTL 0 (host-local) is refused by Deno and Bun, so by unisock everywhere.
        checkPositiveInt(ttl, "multicast TTL", 255);
        this.#native(() => t.setMulticastTTL(ttl), "setsockopt");
      },
      setLoopback: (on) => {
        const t = this.#udpOnly("multicast", "multicast");
        if (typeof on !== "boolean") throw invalid(`setLoopback() takes a boolean, got ${show(on)}`);
        this.#native(() => t.setMulticastLoopback(on), "setsockopt");
      },
      setInterface: (addr) => {
        const t = this.#udpOnly("multicast", "multicast");
        const ip = interfaceAddress(addr);
        this.#native(() => t.setMulticastInterface(ip), "setsockopt");
      },
    };
    return this.#multicast;
  }

  async #membership(op: "join" | "leave", group: unknown, iface: unknown): Promise<void> {
    const t = this.#udpOnly("multicast", "multicast");
    if (typeof group !== "string" || ipFamily(group) === null || !isMulticast(group)) {
      throw invalid(`${show(group)} is not a multicast group address`);
    }
    const ifaceIp = iface === undefined ? undefined : interfaceAddress(iface);
    try {
      await (op === "join" ? t.join(group, ifaceIp) : t.leave(group, ifaceIp));
    } catch (err) {
      throw toSocketError(err, this.#ctx.errors, { syscall: "setsockopt", address: group }, "EINVAL");
    }
  }

  close(): Promise<void> {
    this.#closeP ??= (async () => {
      this.#closed = true;
      this.#unlisten?.();
      this.#queue.close();
      try {
        await this.#transport?.close();
      } catch {
        // The socket is gone either way; a close error has no one to go to.
      }
    })();
    return this.#closeP;
  }

  ref(): void {
    if (!this.#closed) this.#transport?.ref();
  }

  unref(): void {
    if (!this.#closed) this.#transport?.unref();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Datagram<A>> {
    while (true) {
      let d: Datagram<A>;
      try {
        d = await this.receive();
      } catch (err) {
        if (this.#closed && isClosedError(err)) return;
        throw err;
      }
      yield d;
    }
  }

  get readable(): ReadableStream<Datagram<A>> {
    this.#readable ??= datagramReadable({
      closed: () => this.#closed,
      wait: (waiter) => this.#queue.wait(waiter),
      leave: (waiter) => this.#queue.leave(waiter),
    });
    return this.#readable;
  }

  get writable(): WritableStream<OutgoingDatagram<A>> {
    this.#writable ??= datagramWritable(this, this.#plan.kind);
    return this.#writable;
  }
}
