import { closedError, type ErrorTable, invalid, SocketError, toSocketError, unsupported } from "./errors.ts";
import { netAddr } from "./options.ts";
import { raceSignal } from "./signal.ts";
import type {
  BindOptions,
  Capabilities,
  Datagram,
  DatagramAddr,
  DatagramSocket,
  DatagramTarget,
  Multicast,
  NetAddr,
  OutgoingDatagram,
  Runtime,
  UnixAddr,
  UnixBindOptions,
} from "./types.ts";
import {
  checkFlag,
  checkHost,
  checkOptions,
  checkPort,
  checkPositiveInt,
  checkSignal,
  checkUnixPath,
  ipFamily,
  isIPv6,
  show,
  signalOption,
  toBytes,
} from "./validate.ts";

/**
 * The datagram socket of the contract, written once. An adapter supplies only a
 * `DatagramTransport` (the runtime's socket, bound) and feeds a `DatagramSink`; everything a user
 * can observe — argument checks, name resolution, the size limits, the receive queue and its
 * bound, pending receives and their signals, ICMP errors, close, Web Streams, iteration — is
 * decided here, so it is the same on every runtime.
 */

/** The largest UDP payload: 65,535 minus the IP and UDP headers (IPv6 has no header checksum to count). */
export const MAX_UDP4_PAYLOAD = 65_507;
export const MAX_UDP6_PAYLOAD = 65_527;
export const DEFAULT_RECEIVE_QUEUE_BYTES: number = 4 * 1024 * 1024;
/** What a queued datagram costs beyond its payload, so that a flood of empty ones is bounded too. */
const DATAGRAM_OVERHEAD = 64;

export type DatagramCapabilities = Pick<
  Capabilities,
  | "udp"
  | "unixDatagram"
  | "broadcast"
  | "multicast"
  | "connectedDatagram"
  | "truncationFlag"
  | "datagramTTL"
  | "icmpErrors"
  | "datagramBufferSizes"
>;

/** What a datagram adapter knows about its runtime. */
export interface DatagramContext {
  readonly runtime: Runtime;
  readonly errors: ErrorTable;
  readonly capabilities: DatagramCapabilities;
  /** Resolves a host name to one IP literal: of `family` 4 or 6, or of either (0). */
  lookup(hostname: string, family: 0 | 4 | 6): Promise<string>;
}

/** A UDP destination as the socket takes it: an IP literal of the socket's own family (IPv4 mapped on IPv6). */
export interface UdpTarget {
  readonly hostname: string;
  readonly port: number;
}

export interface UnixTarget {
  readonly path: string;
}

export interface UdpBindPlan {
  readonly kind: "udp";
  /** An IP literal. */
  readonly hostname: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
  readonly connect: UdpTarget | null;
  readonly reuseAddress: boolean;
  readonly ipv6Only: boolean;
  readonly broadcast: boolean;
  readonly recvBufferSize: number | undefined;
  readonly sendBufferSize: number | undefined;
}

export interface UnixBindPlan {
  readonly kind: "unix";
  readonly path: string;
  readonly connect: UnixTarget | null;
}

export type BindPlan = UdpBindPlan | UnixBindPlan;

/** What the runtime's socket tells the DatagramSocket. */
export interface DatagramSink {
  /** One datagram, whole; `data` belongs to the socket from now on. */
  message(data: Uint8Array, from: DatagramAddr, truncated: boolean): void;
  /** An error the runtime reports on its own (an ICMP error on a connected socket); the socket stays open. */
  error(err: unknown): void;
}

/**
 * The runtime's bound socket, as an adapter wraps it. Methods throw the runtime's own errors; the
 * socket maps them. Arguments arrive checked; UDP and Unix-only methods are only called on their kind.
 */
export interface DatagramTransport {
  readonly localAddress: DatagramAddr;
  /**
   * Sends one datagram, to `to` or (null) to the connected peer; `undefined` when the runtime took it
   * at once, else a promise of its completion (whatever it resolves with is dropped: the runtime's
   * own promise need not be wrapped). `to` is the same object for the same destination in a row.
   */
  send(data: Uint8Array, to: UdpTarget | UnixTarget | null): Promise<unknown> | undefined;
  setBroadcast(on: boolean): void;
  setTTL(ttl: number): void;
  join(group: string, iface: string | undefined): void | Promise<void>;
  leave(group: string, iface: string | undefined): void | Promise<void>;
  setMulticastTTL(ttl: number): void;
  setMulticastLoopback(on: boolean): void;
  setMulticastInterface(addr: string): void;
  /**
   * Optional: told when a receive starts waiting (true) and when none waits any more (false), for
   * a runtime that must not keep a receive pending on its own (see the Deno adapter's Unix sockets).
   * Without it the transport delivers whenever the runtime has a datagram.
   */
  demand?(wanted: boolean): void;
  /** Releases the socket (and removes a Unix socket file it created). */
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

/** Opens the runtime's socket for a checked, resolved plan. */
export type DatagramOpener = (plan: BindPlan, sink: DatagramSink) => Promise<DatagramTransport>;

/**
 * An IP literal in one spelling: no brackets, IPv6 compressed and lower-case (so a peer can be
 * compared with what the runtime reports), an IPv4-mapped IPv6 address as the IPv4 address it is.
 */
export function canonicalIP(host: string): string {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (!isIPv6(h)) return h;
  const zone = h.indexOf("%");
  const base = zone === -1 ? h : h.slice(0, zone);
  let canonical: string;
  try {
    canonical = new URL(`http://[${base}]/`).hostname.slice(1, -1);
  } catch {
    return h;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return zone === -1 ? canonical : canonical + h.slice(zone);
}

/**
 * Builds the `remoteAddress` of received datagrams, reusing the last one while the sender stays the
 * same: most traffic comes from one peer, and parsing its address for every datagram costs more
 * than the rest of the receive path. The objects are frozen, so sharing them is safe.
 */
export function peerAddresses(): (hostname: string, port: number) => NetAddr {
  let lastHost = "";
  let lastPort = -1;
  let last: NetAddr | null = null;
  return (hostname, port) => {
    if (port === lastPort && hostname === lastHost && last !== null) return last;
    lastHost = hostname;
    lastPort = port;
    last = Object.freeze(netAddr("udp", hostname, port));
    return last;
  };
}

function isMulticast(ip: string): boolean {
  if (ipFamily(ip) === "IPv4") {
    const first = Number(ip.split(".")[0]);
    return first >= 224 && first <= 239;
  }
  return /^ff[0-9a-f]{2}:/i.test(canonicalIP(ip));
}

interface CheckedBind {
  options: BindOptions | UnixBindOptions;
  unix: boolean;
  queueBytes: number;
  signal: AbortSignal | undefined;
}

function flag(value: unknown, what: string): boolean {
  return checkFlag(value, what) ?? false;
}

/** Every argument of `bind`, checked before anything touches the network. */
function checkBind(ctx: DatagramContext, options: BindOptions | UnixBindOptions | undefined): CheckedBind {
  const o = checkOptions(options, "bind options") as BindOptions & Partial<UnixBindOptions>;
  const signal = checkSignal(o.signal);
  const queueBytes =
    o.receiveQueueBytes === undefined ? DEFAULT_RECEIVE_QUEUE_BYTES : checkPositiveInt(o.receiveQueueBytes, "receiveQueueBytes");
  if (o.path !== undefined) {
    for (const key of ["hostname", "port", "reuseAddress", "ipv6Only", "broadcast", "recvBufferSize", "sendBufferSize"] as const) {
      if (o[key] !== undefined) throw invalid(`bind takes either path or UDP options, not both (got path and ${key})`);
    }
    checkUnixPath(o.path);
    if (!ctx.capabilities.unixDatagram) throw unsupported("Unix datagram sockets", ctx.runtime);
    if (o.connect !== undefined) {
      if (typeof o.connect !== "object" || o.connect === null) throw invalid("connect must be { path }");
      checkUnixPath((o.connect as { path?: unknown }).path);
    }
    return { options: o as UnixBindOptions, unix: true, queueBytes, signal };
  }
  const host = o.hostname === undefined ? "0.0.0.0" : checkHost(o.hostname);
  if (o.port !== undefined) checkPort(o.port);
  const ipv6Only = flag(o.ipv6Only, "ipv6Only");
  flag(o.reuseAddress, "reuseAddress");
  if (flag(o.broadcast, "broadcast") && !ctx.capabilities.broadcast) throw unsupported("broadcast", ctx.runtime);
  if (ipv6Only && ipFamily(host) === "IPv4") throw invalid(`ipv6Only needs an IPv6 address to bind, not ${host}`);
  if (o.recvBufferSize !== undefined) checkPositiveInt(o.recvBufferSize, "recvBufferSize");
  if (o.sendBufferSize !== undefined) checkPositiveInt(o.sendBufferSize, "sendBufferSize");
  if ((o.recvBufferSize !== undefined || o.sendBufferSize !== undefined) && !ctx.capabilities.datagramBufferSizes) {
    throw unsupported("setting the socket buffer sizes", ctx.runtime);
  }
  if (o.connect !== undefined) {
    if (typeof o.connect !== "object" || o.connect === null) throw invalid("connect must be { hostname, port }");
    checkHost(o.connect.hostname, "connect.hostname");
    checkPort(o.connect.port, false);
  }
  // After the fields' types (the WebIDL rule: a malformed dictionary is EINVAL even without UDP).
  if (!ctx.capabilities.udp) throw unsupported("UDP", ctx.runtime);
  if (o.connect !== undefined && !ctx.capabilities.connectedDatagram) throw unsupported("connected datagram sockets", ctx.runtime);
  return { options: o, unix: false, queueBytes, signal };
}

async function resolveHost(ctx: DatagramContext, host: string, family: 0 | 4 | 6): Promise<string> {
  const h = checkHost(host);
  if (ipFamily(h) !== null) return canonicalIP(h);
  try {
    return canonicalIP(await ctx.lookup(h, family));
  } catch (err) {
    throw toSocketError(err, ctx.errors, { syscall: "getaddrinfo", address: h }, "ENOTFOUND");
  }
}

/** The lookup family for destinations of a socket: its own, or either on a dual-stack socket. */
function lookupFamily(plan: UdpBindPlan): 0 | 4 | 6 {
  return plan.family === "IPv4" ? 4 : plan.ipv6Only ? 6 : 0;
}

/** A destination literal in the socket's own family, or EINVAL when the socket cannot reach it. */
function toTarget(plan: UdpBindPlan, ip: string, port: number): UdpTarget {
  const family = ipFamily(ip);
  if (plan.family === "IPv4" && family === "IPv6") throw invalid(`an IPv4 socket cannot send to the IPv6 address ${ip}`);
  if (plan.family === "IPv6" && family === "IPv4") {
    if (plan.ipv6Only) throw invalid(`an ipv6Only socket cannot send to the IPv4 address ${ip}`);
    return { hostname: `::ffff:${ip}`, port };
  }
  return { hostname: ip, port };
}

function limitFor(ip: string): number {
  return ipFamily(ip) === "IPv4" ? MAX_UDP4_PAYLOAD : MAX_UDP6_PAYLOAD;
}

async function resolveBind(ctx: DatagramContext, checked: CheckedBind): Promise<BindPlan> {
  if (checked.unix) {
    const o = checked.options as UnixBindOptions;
    return { kind: "unix", path: o.path, connect: o.connect ? { path: o.connect.path } : null };
  }
  const o = checked.options as BindOptions;
  const ipv6Only = o.ipv6Only ?? false;
  const hostname = await resolveHost(ctx, o.hostname ?? "0.0.0.0", ipv6Only ? 6 : 0);
  const family = ipFamily(hostname) === "IPv6" ? "IPv6" : "IPv4";
  if (ipv6Only && family === "IPv4") throw invalid(`ipv6Only needs an IPv6 address to bind, not ${hostname}`);
  const plan: UdpBindPlan = {
    kind: "udp",
    hostname,
    port: o.port ?? 0,
    family,
    connect: null,
    reuseAddress: o.reuseAddress ?? false,
    ipv6Only,
    broadcast: o.broadcast ?? false,
    recvBufferSize: o.recvBufferSize,
    sendBufferSize: o.sendBufferSize,
  };
  if (o.connect === undefined) return plan;
  const peer = await resolveHost(ctx, o.connect.hostname, lookupFamily(plan));
  return { ...plan, connect: toTarget(plan, peer, o.connect.port) };
}

/** A UDP destination resolved for sending, with the size limit of its IP version. */
interface ResolvedUdp {
  target: UdpTarget;
  limit: number;
  /** As the caller named it, for error messages. */
  address: string;
}

class QueuedError {
  readonly err: SocketError;
  constructor(err: SocketError) {
    this.err = err;
  }
}

interface Waiter<A extends DatagramAddr> {
  resolve(d: Datagram<A>): void;
  reject(err: unknown): void;
}

const RESOLVED: Promise<void> = Promise.resolve();
const noop = (): void => {};

function isClosedError(err: unknown): boolean {
  return err instanceof SocketError && err.code === "ECLOSED";
}

/**
 * The datagram socket. The runtime delivers datagrams to the sink; each goes to the oldest pending
 * receive, or waits in a queue bounded by `receiveQueueBytes`. A full queue drops the newest
 * datagram and counts it in `dropped`: nothing is lost without a trace, and memory stays bounded
 * when the application stops reading, as the kernel's own buffer does.
 */
class UniDatagramSocket<A extends DatagramAddr> implements DatagramSocket<A> {
  readonly #ctx: DatagramContext;
  readonly #plan: BindPlan;
  readonly #limit: number;
  #transport: DatagramTransport | null = null;
  readonly #remote: A | null;
  /** The size limit of the connected peer's IP version. */
  readonly #connectedLimit: number;
  #queue: Array<Datagram<A> | QueuedError> = [];
  #head = 0;
  #bytes = 0;
  #errorQueued = false;
  #waiters: Waiter<A>[] = [];
  #dropped = 0;
  /** The transport wants to know when a receive waits (see DatagramTransport.demand), and whether one does. */
  #tracksDemand = false;
  #demand = false;
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
    this.#limit = queueBytes;
    if (plan.kind === "udp" && plan.connect) {
      const peer = netAddr("udp", plan.connect.hostname, plan.connect.port);
      this.#remote = peer as A;
      this.#connectedLimit = limitFor(peer.hostname);
    } else {
      this.#remote = plan.kind === "unix" && plan.connect ? ({ transport: "unix", path: plan.connect.path } as A) : null;
      this.#connectedLimit = plan.kind === "udp" ? limitFor(plan.hostname) : Infinity;
    }
    this.sink = {
      // A view into a larger buffer (Deno's node:dgram hands each datagram over inside its 64 KiB
      // receive buffer) would keep all of it alive, in the queue or wherever the application keeps
      // the datagram: each datagram gets a buffer of its own.
      message: (data, from, truncated) =>
        this.#deliver({ data: data.buffer.byteLength === data.byteLength ? data : data.slice(), remoteAddress: from as A, truncated }),
      error: (err) => this.#deliverError(err),
    };
  }

  /** Called once the runtime's socket is bound. */
  attach(transport: DatagramTransport, signal: AbortSignal | undefined): void {
    this.#transport = transport;
    this.#tracksDemand = transport.demand !== undefined;
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
    return this.#dropped;
  }

  /** Tells a transport that wants to know whether a receive is waiting. */
  #updateDemand(): void {
    const wanted = this.#waiters.length > 0;
    if (wanted === this.#demand || !this.#tracksDemand) return;
    this.#demand = wanted;
    this.#transport!.demand!(wanted);
  }

  #deliver(d: Datagram<A>): void {
    if (this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      if (this.#demand) this.#updateDemand();
      return waiter.resolve(d);
    }
    const size = d.data.byteLength + DATAGRAM_OVERHEAD;
    if (this.#bytes + size > this.#limit) {
      this.#dropped++;
      return;
    }
    this.#bytes += size;
    this.#queue.push(d);
  }

  /** Like the kernel's pending socket error: one at a time, reported once, in order with the datagrams. */
  #deliverError(err: unknown): void {
    if (this.#closed) return;
    const e = toSocketError(err, this.#ctx.errors, { syscall: "recv" }, "ECONNRESET");
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      if (this.#demand) this.#updateDemand();
      return waiter.reject(e);
    }
    if (this.#errorQueued) return;
    this.#errorQueued = true;
    this.#queue.push(new QueuedError(e));
  }

  #take(): Datagram<A> | QueuedError {
    const item = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as unknown as Datagram<A>;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (item instanceof QueuedError) this.#errorQueued = false;
    else this.#bytes -= item.data.byteLength + DATAGRAM_OVERHEAD;
    return item;
  }

  receive(options?: { signal?: AbortSignal }): Promise<Datagram<A>> {
    let signal: AbortSignal | undefined;
    try {
      signal = signalOption(options, "receive options");
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#head < this.#queue.length) {
      const item = this.#take();
      return item instanceof QueuedError ? Promise.reject(item.err) : Promise.resolve(item);
    }
    if (this.#closed) return Promise.reject(closedError());
    let waiter!: Waiter<A>;
    const p = new Promise<Datagram<A>>((resolve, reject) => {
      waiter = { resolve, reject };
      this.#waiters.push(waiter);
    });
    if (this.#tracksDemand && !this.#demand) this.#updateDemand();
    if (signal === undefined) return p;
    // An aborted receive leaves the line: the next datagram goes to the next receive.
    return raceSignal(p, signal, () => {
      const i = this.#waiters.indexOf(waiter);
      if (i !== -1) this.#waiters.splice(i, 1);
      this.#updateDemand();
    });
  }

  send(data: Uint8Array | string, to?: DatagramTarget<A>): Promise<void> {
    try {
      if (this.#closed) throw closedError();
      const bytes = toBytes(data);
      if (this.#plan.kind === "unix") return this.#transmit(bytes, this.#unixTarget(this.#plan, to), null);
      const r = this.#udpTarget(this.#plan, to as { hostname: string; port: number } | undefined);
      if (r instanceof Promise) return r.then((resolved) => this.#transmit(bytes, resolved.target, resolved));
      return this.#transmit(bytes, r?.target ?? null, r);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #unixTarget(plan: UnixBindPlan, to: unknown): UnixTarget | null {
    if (to === undefined) {
      if (plan.connect) return null;
      throw invalid("send() on an unconnected socket needs a destination { path }");
    }
    if (plan.connect) throw invalid("this socket is connected: send() takes no destination");
    if (typeof to !== "object" || to === null) throw invalid("the destination must be { path }");
    return { path: checkUnixPath((to as { path?: unknown }).path) };
  }

  #udpTarget(plan: UdpBindPlan, to: { hostname: string; port: number } | undefined): ResolvedUdp | null | Promise<ResolvedUdp> {
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
    const make = (ip: string): ResolvedUdp => ({ target: toTarget(plan, ip, port), limit: limitFor(ip), address: host });
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
        const ip = this.#interfaceAddress(addr);
        this.#native(() => t.setMulticastInterface(ip), "setsockopt");
      },
    };
    return this.#multicast;
  }

  #interfaceAddress(addr: unknown): string {
    if (typeof addr !== "string" || ipFamily(addr.startsWith("[") ? addr.slice(1, -1) : addr) === null) {
      throw invalid(`a multicast interface is named by its IP address, got ${show(addr)}`);
    }
    return addr.startsWith("[") ? addr.slice(1, -1) : addr;
  }

  async #membership(op: "join" | "leave", group: unknown, iface: unknown): Promise<void> {
    const t = this.#udpOnly("multicast", "multicast");
    if (typeof group !== "string" || ipFamily(group) === null || !isMulticast(group)) {
      throw invalid(`${show(group)} is not a multicast group address`);
    }
    const ifaceIp = iface === undefined ? undefined : this.#interfaceAddress(iface);
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
      const err = closedError();
      for (const w of this.#waiters.splice(0)) w.reject(err);
      this.#queue = [];
      this.#head = 0;
      this.#bytes = 0;
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

  /**
   * Pulls only when read (high-water mark 0), so a datagram never waits in the stream instead of the
   * queue. A pull takes a queued datagram at once, or waits in the line of receives with callbacks
   * that enqueue straight from the runtime's delivery: no promise, no abort listener per datagram.
   */
  get readable(): ReadableStream<Datagram<A>> {
    if (this.#readable === null) {
      let cancelled = false;
      let waiting: Waiter<A> | null = null;
      this.#readable = new ReadableStream<Datagram<A>>(
        {
          pull: (controller) => {
            if (waiting !== null) return; // the waiting pull delivers; the stream then pulls again
            const fail = (err: unknown): void => {
              waiting = null;
              if (this.#closed && isClosedError(err)) controller.close();
              else if (!cancelled) controller.error(err);
            };
            if (this.#head < this.#queue.length) {
              const item = this.#take();
              return item instanceof QueuedError ? fail(item.err) : controller.enqueue(item);
            }
            if (this.#closed) return fail(closedError());
            waiting = {
              resolve: (d) => {
                waiting = null;
                controller.enqueue(d);
              },
              reject: fail,
            };
            this.#waiters.push(waiting);
            if (this.#tracksDemand && !this.#demand) this.#updateDemand();
          },
          cancel: () => {
            cancelled = true;
            const i = waiting === null ? -1 : this.#waiters.indexOf(waiting);
            waiting = null;
            if (i !== -1) {
              this.#waiters.splice(i, 1);
              this.#updateDemand();
            }
          },
        },
        { highWaterMark: 0 },
      );
    }
    return this.#readable;
  }

  get writable(): WritableStream<OutgoingDatagram<A>> {
    this.#writable ??= new WritableStream<OutgoingDatagram<A>>({
      write: (chunk) => {
        if (typeof chunk !== "object" || chunk === null) throw invalid("each chunk must be { data, ... }");
        const c = chunk as { data: Uint8Array; hostname?: string; port?: number; path?: string };
        let to: unknown;
        if (this.#plan.kind === "unix") to = c.path === undefined ? undefined : { path: c.path };
        else to = c.hostname === undefined && c.port === undefined ? undefined : { hostname: c.hostname, port: c.port };
        return this.send(c.data, to as DatagramTarget<A>);
      },
    });
    return this.#writable;
  }
}

/**
 * `bind` for every adapter: checks the options, resolves names, opens the runtime's socket with
 * `open`, and returns the contract's DatagramSocket.
 */
export async function bindDatagram(
  ctx: DatagramContext,
  options: BindOptions | UnixBindOptions | undefined,
  open: DatagramOpener,
): Promise<DatagramSocket<NetAddr> | DatagramSocket<UnixAddr>> {
  const checked = checkBind(ctx, options);
  const signal = checked.signal;
  if (signal?.aborted) throw signal.reason;
  const plan = await raceSignal(resolveBind(ctx, checked), signal);
  const socket = new UniDatagramSocket<DatagramAddr>(ctx, plan, checked.queueBytes);
  let attempt: Promise<DatagramTransport>;
  try {
    attempt = open(plan, socket.sink);
  } catch (err) {
    attempt = Promise.reject(err);
  }
  const where = plan.kind === "unix" ? { address: plan.path } : { address: plan.hostname, port: plan.port };
  let transport: DatagramTransport;
  try {
    transport = await raceSignal(attempt, signal, () => {
      attempt.then((late) => late.close(), () => {});
    });
  } catch (err) {
    if (signal?.aborted && err === signal.reason) throw err;
    throw toSocketError(err, ctx.errors, { syscall: "bind", ...where }, "EADDRINUSE");
  }
  socket.attach(transport, signal);
  return socket as DatagramSocket<NetAddr> | DatagramSocket<UnixAddr>;
}
