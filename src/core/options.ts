import { invalid, unsupported } from "./errors.ts";
import type { AdapterContext } from "./context.ts";
import { checkServerNameKnown, checkTlsClientOptions, checkTlsServerOptions } from "./tls.ts";
import type {
  Addr,
  ConnectAddress,
  ConnectOptions,
  ListenOptions,
  NetAddr,
  SecureTransport,
  TlsClientOptions,
  TlsServerOptions,
} from "./types.ts";
import {
  checkFlag,
  checkHost,
  checkKeepAliveDelay,
  checkOptions,
  checkPort,
  checkPositiveInt,
  checkSignal,
  checkUnixPath,
  ipFamily,
  isIPv4,
  type ParsedAddress,
  parseConnectAddress,
  show,
} from "./validate.ts";

/**
 * The options of `connect` and `listen`, checked and given their defaults once for every adapter,
 * so a bad argument is the same EINVAL everywhere and the adapters see only valid, complete input.
 */

export interface ConnectPlan {
  target: ParsedAddress;
  secureTransport: SecureTransport;
  /**
   * Checked TLS options, `serverName` defaulting to the hostname connected to. For "starttls",
   * the defaults of `startTls()`.
   */
  tls: TlsClientOptions;
  allowHalfOpen: boolean;
  noDelay: boolean;
  keepAlive: { enabled: boolean; delayMs: number };
  signal: AbortSignal | undefined;
}

export function planConnect(ctx: AdapterContext, address: ConnectAddress, options?: ConnectOptions): ConnectPlan {
  const target = parseConnectAddress(address);
  const o = checkOptions(options, "connect options");
  const secureTransport = o.secureTransport === undefined ? "off" : o.secureTransport;
  if (secureTransport !== "off" && secureTransport !== "on" && secureTransport !== "starttls") {
    throw invalid(`secureTransport must be "off", "on" or "starttls", got ${show(secureTransport)}`);
  }
  const allowHalfOpen = checkFlag(o.allowHalfOpen, "allowHalfOpen") ?? false;
  const noDelay = checkFlag(o.noDelay, "noDelay") ?? true;
  const signal = checkSignal(o.signal);
  const ka = o.keepAlive;
  let keepAlive = { enabled: false, delayMs: 0 };
  if (typeof ka === "object" && ka !== null) {
    const delayMs = checkKeepAliveDelay((ka as { delayMs?: unknown }).delayMs, "keepAlive.delayMs");
    if (delayMs > 0 && !ctx.capabilities.keepAliveDelay)
      throw unsupported("a keep-alive delay (keepAlive.delayMs)", ctx.runtime);
    keepAlive = { enabled: true, delayMs };
  } else if (ka !== undefined) {
    if (typeof ka !== "boolean") throw invalid(`keepAlive must be a boolean or { delayMs }, got ${show(ka)}`);
    keepAlive = { enabled: ka, delayMs: 0 };
  }
  if ((o.noDelay !== undefined || o.keepAlive !== undefined) && !ctx.capabilities.socketOptions) {
    throw unsupported("TCP socket options (noDelay, keepAlive)", ctx.runtime);
  }
  if (target.kind === "unix" && !ctx.capabilities.unixStream) throw unsupported("Unix stream sockets", ctx.runtime);
  if (secureTransport === "on" && !ctx.capabilities.tls) throw unsupported("TLS", ctx.runtime);
  if (secureTransport === "starttls" && !ctx.capabilities.startTls) throw unsupported("STARTTLS", ctx.runtime);
  if (o.tls !== undefined && secureTransport === "off") {
    throw invalid('tls options need secureTransport "on" or "starttls"');
  }
  const tls = checkTlsClientOptions(ctx, o.tls);
  if (secureTransport !== "off" && target.kind === "net") tls.serverName ??= target.hostname;
  if (secureTransport === "on") checkServerNameKnown(tls, "TLS over a Unix socket");
  return { target, secureTransport, tls, allowHalfOpen, noDelay, keepAlive, signal };
}

export interface ListenPlan {
  target: { kind: "net"; hostname: string; port: number } | { kind: "unix"; path: string };
  backlog: number;
  reusePort: boolean;
  ipv6Only: boolean;
  allowHalfOpen: boolean;
  noDelay: boolean;
  /** Checked; present for a TLS listener. */
  tls: TlsServerOptions | undefined;
  secureTransport: "off" | "starttls";
  signal: AbortSignal | undefined;
}

export const DEFAULT_BACKLOG = 4096;

export function planListen(ctx: AdapterContext, options?: ListenOptions): ListenPlan {
  const o = checkOptions(options, "listen options");
  if (o.path !== undefined && (o.hostname !== undefined || o.port !== undefined)) {
    throw invalid("listen takes either path or hostname/port, not both");
  }
  let target: ListenPlan["target"];
  if (o.path !== undefined) {
    target = { kind: "unix", path: checkUnixPath(o.path) };
    if (!ctx.capabilities.unixStream) throw unsupported("Unix stream sockets", ctx.runtime);
  } else {
    target = {
      kind: "net",
      hostname: o.hostname === undefined ? "0.0.0.0" : checkHost(o.hostname),
      port: o.port === undefined ? 0 : checkPort(o.port),
    };
  }
  const backlog = o.backlog === undefined ? DEFAULT_BACKLOG : checkPositiveInt(o.backlog, "backlog", 65535);
  if (o.backlog !== undefined && !ctx.capabilities.backlog) throw unsupported("setting the backlog", ctx.runtime);
  const reusePort = checkFlag(o.reusePort, "reusePort") ?? false;
  if (reusePort && !ctx.capabilities.reusePort) throw unsupported("reusePort", ctx.runtime);
  const ipv6Only = checkFlag(o.ipv6Only, "ipv6Only") ?? false;
  if (ipv6Only && !ctx.capabilities.ipv6Only) throw unsupported("ipv6Only on a listener", ctx.runtime);
  const allowHalfOpen = checkFlag(o.allowHalfOpen, "allowHalfOpen") ?? false;
  const noDelay = checkFlag(o.noDelay, "noDelay") ?? true;
  const signal = checkSignal(o.signal);
  // After the fields' types (the WebIDL rule: a malformed dictionary is EINVAL even where nothing listens).
  if (!ctx.capabilities.listen) throw unsupported("listening for connections", ctx.runtime);
  if (o.tls !== undefined && !ctx.capabilities.tls) throw unsupported("TLS", ctx.runtime);
  const tls = o.tls === undefined ? undefined : checkTlsServerOptions(ctx, o.tls);
  const secureTransport = o.secureTransport === undefined ? "off" : o.secureTransport;
  if (secureTransport !== "off" && secureTransport !== "starttls") {
    throw invalid(`listen's secureTransport must be "off" or "starttls", got ${show(secureTransport)}`);
  }
  if (secureTransport === "starttls" && tls !== undefined)
    throw invalid('listen takes either tls or secureTransport "starttls", not both');
  if (secureTransport === "starttls" && !ctx.capabilities.serverStartTls)
    throw unsupported("server-side STARTTLS", ctx.runtime);
  // Every option is checked before an aborted signal counts: a mistake is reported even then.
  if (signal?.aborted) throw signal.reason;
  return { target, backlog, reusePort, ipv6Only, allowHalfOpen, noDelay, tls, secureTransport, signal };
}

/**
 * An IP endpoint as the contract reports it: no brackets, and an IPv4 peer seen through a
 * dual-stack IPv6 socket (`::ffff:127.0.0.1`) reported as the IPv4 address it is.
 */
export function netAddr(transport: "tcp" | "udp", hostname: string, port: number): NetAddr {
  // What runtimes report most: a dotted quad, which needs none of the parsing below.
  if (!hostname.includes(":")) return { transport, hostname, port, family: "IPv4" };
  let h = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h);
  if (mapped) h = mapped[1]!;
  return { transport, hostname: h, port, family: ipFamily(h) === "IPv6" ? "IPv6" : "IPv4" };
}

/**
 * Addresses an adapter knows without asking the kernel (a getsockname or getpeername each):
 * `connectedTo`, the remote address of a connection to an IPv4 literal, as every runtime reports
 * it; `acceptedOn`, the local address of every connection a listener bound to one IPv4 address (not
 * the wildcard) accepts: a dotted quad has one spelling, where an IPv6 one given to Bun may not be
 * the kernel's. `null`: ask the socket. Each call gives a fresh object.
 */
export function connectedTo(target: ParsedAddress): NetAddr | null {
  return target.kind === "net" && isIPv4(target.hostname) ? netAddr("tcp", target.hostname, target.port) : null;
}

export function acceptedOn(listening: Addr): NetAddr | null {
  return listening.transport === "tcp" && listening.family === "IPv4" && listening.hostname !== "0.0.0.0"
    ? { ...listening }
    : null;
}

export function unixAddr(path: string): Addr {
  return { transport: "unix", path };
}

/** Where a listen or bind failed, for the SocketError's `address` and `port`. */
export function listenContext(target: ListenPlan["target"]): { address: string; port?: number } {
  return target.kind === "unix" ? { address: target.path } : { address: target.hostname, port: target.port };
}

/** setNoDelay()'s argument (true when left out), on a runtime that has socket options. */
export function noDelayArg(ctx: AdapterContext, on: unknown): boolean {
  const noDelay = checkFlag(on, "setNoDelay()'s argument") ?? true;
  if (!ctx.capabilities.socketOptions) throw unsupported("setNoDelay()", ctx.runtime);
  return noDelay;
}

/** setKeepAlive()'s arguments, checked against what the runtime can do. */
export function checkKeepAliveArgs(ctx: AdapterContext, on: unknown, delayMs: unknown): asserts on is boolean {
  if (typeof on !== "boolean") throw invalid(`setKeepAlive() takes a boolean, got ${show(on)}`);
  if (delayMs !== undefined) checkKeepAliveDelay(delayMs, "the keep-alive delay");
  if (!ctx.capabilities.socketOptions) throw unsupported("setKeepAlive()", ctx.runtime);
  if (on && delayMs && !ctx.capabilities.keepAliveDelay) throw unsupported("a keep-alive delay", ctx.runtime);
}
