import { invalid, unsupported } from "../errors.ts";
import type { BindOptions, UnixBindOptions } from "../types.ts";
import {
  checkFlag,
  checkHost,
  checkOptions,
  checkPort,
  checkPositiveInt,
  checkSignal,
  checkUnixPath,
  ipFamily,
  show,
} from "../validate.ts";
import type { DatagramContext, UnixBindPlan, UnixTarget } from "./transport.ts";

/** The arguments of a datagram socket, checked before anything touches the network. */

export const DEFAULT_RECEIVE_QUEUE_BYTES: number = 4 * 1024 * 1024;

export interface CheckedBind {
  options: BindOptions | UnixBindOptions;
  unix: boolean;
  queueBytes: number;
  signal: AbortSignal | undefined;
}

function flag(value: unknown, what: string): boolean {
  return checkFlag(value, what) ?? false;
}

/** Every argument of `bind`, checked before anything touches the network. */
export function checkBind(ctx: DatagramContext, options: BindOptions | UnixBindOptions | undefined): CheckedBind {
  const o = checkOptions(options, "bind options") as BindOptions & Partial<UnixBindOptions>;
  const signal = checkSignal(o.signal);
  const queueBytes =
    o.receiveQueueBytes === undefined
      ? DEFAULT_RECEIVE_QUEUE_BYTES
      : checkPositiveInt(o.receiveQueueBytes, "receiveQueueBytes");
  if (o.path !== undefined) {
    for (const key of [
      "hostname",
      "port",
      "reuseAddress",
      "ipv6Only",
      "broadcast",
      "recvBufferSize",
      "sendBufferSize",
    ] as const) {
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
  if (o.connect !== undefined && !ctx.capabilities.connectedDatagram)
    throw unsupported("connected datagram sockets", ctx.runtime);
  return { options: o, unix: false, queueBytes, signal };
}

/** A Unix datagram's destination, checked against the socket's plan; null: the connected peer. */
export function unixTarget(plan: UnixBindPlan, to: unknown): UnixTarget | null {
  if (to === undefined) {
    if (plan.connect) return null;
    throw invalid("send() on an unconnected socket needs a destination { path }");
  }
  if (plan.connect) throw invalid("this socket is connected: send() takes no destination");
  if (typeof to !== "object" || to === null) throw invalid("the destination must be { path }");
  return { path: checkUnixPath((to as { path?: unknown }).path) };
}

/** A multicast interface, named by its IP address (brackets allowed). */
export function interfaceAddress(addr: unknown): string {
  if (typeof addr !== "string" || ipFamily(addr.startsWith("[") ? addr.slice(1, -1) : addr) === null) {
    throw invalid(`a multicast interface is named by its IP address, got ${show(addr)}`);
  }
  return addr.startsWith("[") ? addr.slice(1, -1) : addr;
}
