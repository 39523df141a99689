import { invalid, toSocketError } from "../errors.ts";
import type { BindOptions, UnixBindOptions } from "../types.ts";
import { checkHost, ipFamily } from "../validate.ts";
import { canonicalIP } from "./address.ts";
import type { CheckedBind } from "./checks.ts";
import type { BindPlan, DatagramContext, UdpBindPlan, UdpTarget } from "./transport.ts";

/** Names to IP literals, for binding and for destinations: in the socket's own family, EINVAL when it cannot reach them. */

export async function resolveHost(ctx: DatagramContext, host: string, family: 0 | 4 | 6): Promise<string> {
  const h = checkHost(host);
  if (ipFamily(h) !== null) return canonicalIP(h);
  try {
    return canonicalIP(await ctx.lookup(h, family));
  } catch (err) {
    throw toSocketError(err, ctx.errors, { syscall: "getaddrinfo", address: h }, "ENOTFOUND");
  }
}

/** The lookup family for destinations of a socket: its own, or either on a dual-stack socket. */
export function lookupFamily(plan: UdpBindPlan): 0 | 4 | 6 {
  return plan.family === "IPv4" ? 4 : plan.ipv6Only ? 6 : 0;
}

/** A destination literal in the socket's own family, or EINVAL when the socket cannot reach it. */
export function toTarget(plan: UdpBindPlan, ip: string, port: number): UdpTarget {
  const family = ipFamily(ip);
  if (plan.family === "IPv4" && family === "IPv6")
    throw invalid(`an IPv4 socket cannot send to the IPv6 address ${ip}`);
  if (plan.family === "IPv6" && family === "IPv4") {
    if (plan.ipv6Only) throw invalid(`an ipv6Only socket cannot send to the IPv4 address ${ip}`);
    return { hostname: `::ffff:${ip}`, port };
  }
  return { hostname: ip, port };
}

export async function resolveBind(ctx: DatagramContext, checked: CheckedBind): Promise<BindPlan> {
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
export interface ResolvedUdp {
  target: UdpTarget;
  limit: number;
  /** As the caller named it, for error messages. */
  address: string;
}
