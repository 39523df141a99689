import { invalid, unsupported } from "./errors.ts";
import type { AdapterContext } from "./socket.ts";
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
  checkHost,
  checkPort,
  checkPositiveInt,
  checkUnixPath,
  ipFamily,
  type ParsedAddress,
  parseConnectAddress,
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

export function planConnect(ctx: AdapterContext, address: ConnectAddress, options: ConnectOptions = {}): ConnectPlan {
  const target = parseConnectAddress(address);
  const secureTransport = options.secureTransport ?? "off";
  if (secureTransport !== "off" && secureTransport !== "on" && secureTransport !== "starttls") {
    throw invalid(`secureTransport must be "off", "on" or "starttls", got ${JSON.stringify(secureTransport)}`);
  }
  if (target.kind === "unix" && !ctx.capabilities.unixStream) throw unsupported("Unix stream sockets", ctx.runtime);
  if (secureTransport === "on" && !ctx.capabilities.tls) throw unsupported("TLS", ctx.runtime);
  if (secureTransport === "starttls" && !ctx.capabilities.startTls) throw unsupported("STARTTLS", ctx.runtime);
  if (options.tls !== undefined && secureTransport === "off") {
    throw invalid('tls options need secureTransport "on" or "starttls"');
  }
  const tls = checkTlsClientOptions(ctx, options.tls);
  if (secureTransport !== "off" && target.kind === "net") tls.serverName ??= target.hostname;
  if (secureTransport === "on") checkServerNameKnown(tls, "TLS over a Unix socket");
  const ka = options.keepAlive;
  let keepAlive = { enabled: false, delayMs: 0 };
  if (typeof ka === "object" && ka !== null) {
    if (!Number.isInteger(ka.delayMs) || ka.delayMs < 0) throw invalid("keepAlive.delayMs must be a non-negative integer");
    if (ka.delayMs > 0 && !ctx.capabilities.keepAliveDelay) throw unsupported("a keep-alive delay (keepAlive.delayMs)", ctx.runtime);
    keepAlive = { enabled: true, delayMs: ka.delayMs };
  } else if (ka !== undefined) keepAlive = { enabled: Boolean(ka), delayMs: 0 };
  return {
    target,
    secureTransport,
    tls,
    allowHalfOpen: options.allowHalfOpen ?? false,
    noDelay: options.noDelay ?? true,
    keepAlive,
    signal: options.signal,
  };
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

export function planListen(ctx: AdapterContext, options: ListenOptions = {}): ListenPlan {
  if (options.path !== undefined && (options.hostname !== undefined || options.port !== undefined)) {
    throw invalid("listen takes either path or hostname/port, not both");
  }
  if (options.signal?.aborted) throw options.signal.reason;
  let target: ListenPlan["target"];
  if (options.path !== undefined) {
    if (!ctx.capabilities.unixStream) throw unsupported("Unix stream sockets", ctx.runtime);
    target = { kind: "unix", path: checkUnixPath(options.path) };
  } else {
    target = { kind: "net", hostname: checkHost(options.hostname ?? "0.0.0.0"), port: checkPort(options.port ?? 0) };
  }
  const backlog = options.backlog === undefined ? DEFAULT_BACKLOG : checkPositiveInt(options.backlog, "backlog", 65535);
  if (options.backlog !== undefined && !ctx.capabilities.backlog) throw unsupported("setting the backlog", ctx.runtime);
  if (options.reusePort && !ctx.capabilities.reusePort) throw unsupported("reusePort", ctx.runtime);
  if (options.tls !== undefined && !ctx.capabilities.tls) throw unsupported("TLS", ctx.runtime);
  const tls = options.tls === undefined ? undefined : checkTlsServerOptions(ctx, options.tls);
  const secureTransport = options.secureTransport ?? "off";
  if (secureTransport !== "off" && secureTransport !== "starttls") {
    throw invalid(`listen's secureTransport must be "off" or "starttls", got ${JSON.stringify(secureTransport)}`);
  }
  if (secureTransport === "starttls" && tls !== undefined) throw invalid('listen takes either tls or secureTransport "starttls", not both');
  if (secureTransport === "starttls" && !ctx.capabilities.serverStartTls) throw unsupported("server-side STARTTLS", ctx.runtime);
  return {
    target,
    backlog,
    reusePort: options.reusePort ?? false,
    ipv6Only: options.ipv6Only ?? false,
    allowHalfOpen: options.allowHalfOpen ?? false,
    noDelay: options.noDelay ?? true,
    tls,
    secureTransport,
    signal: options.signal,
  };
}

/**
 * An IP endpoint as the contract reports it: no brackets, and an IPv4 peer seen through a
 * dual-stack IPv6 socket (`::ffff:127.0.0.1`) reported as the IPv4 address it is.
 */
export function netAddr(transport: "tcp" | "udp", hostname: string, port: number): NetAddr {
  let h = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h);
  if (mapped) h = mapped[1]!;
  return { transport, hostname: h, port, family: ipFamily(h) === "IPv6" ? "IPv6" : "IPv4" };
}

export function unixAddr(path: string): Addr {
  return { transport: "unix", path };
}

/** Where a listen or bind failed, for the SocketError's `address` and `port`. */
export function listenContext(target: ListenPlan["target"]): { address: string; port?: number } {
  return target.kind === "unix" ? { address: target.path } : { address: target.hostname, port: target.port };
}
