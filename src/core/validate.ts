import { invalid } from "./errors.ts";
import type { ConnectAddress } from "./types.ts";

/**
 * Argument checks: every bad input is EINVAL before anything touches the network, with the same
 * message on every runtime (the runtimes disagree: Node throws RangeError, Bun truncates a long
 * Unix path, Deno reports a port of 70000 as a connection error).
 */

/** A value as an error message shows it, for any value (String() throws on some objects). */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "an object";
  if (typeof value === "function") return "a function";
  return typeof value === "symbol" ? value.toString() : String(value);
}

const NO_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * An options argument, by the WebIDL dictionary rule: `undefined` or `null` mean the defaults;
 * any other value that is not an object is EINVAL. Fields are then checked one by one, each with
 * its own type: a field of the wrong type (`null` included) is EINVAL too.
 */
export function checkOptions(value: unknown, what: string): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return NO_OPTIONS;
  if (typeof value !== "object" && typeof value !== "function")
    throw invalid(`${what} must be an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

/** An optional `signal` field: an AbortSignal or absent. */
export function checkSignal(value: unknown, what = "signal"): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalid(`${what} must be an AbortSignal, got ${show(value)}`);
  return value;
}

/** The options of a call that takes only a signal (read, write, accept, receive): its signal. */
export function signalOption(options: unknown, what: string): AbortSignal | undefined {
  if (options === undefined) return undefined; // the common case, checked first: this is on every read
  return checkSignal(checkOptions(options, what).signal, `${what}.signal`);
}

/** An optional boolean field. */
export function checkFlag(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw invalid(`${what} must be a boolean, got ${show(value)}`);
  return value;
}

/** A keep-alive delay in milliseconds: what setsockopt can take (Node's and Bun's limit too). */
export function checkKeepAliveDelay(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw invalid(`${what} must be an integer of milliseconds from 0 to ${0x7fffffff}, got ${show(value)}`);
  }
  return value;
}

/** sun_path is 108 bytes on Linux, one of them the terminating NUL. */
export const MAX_UNIX_PATH_BYTES = 107;

/** A dotted quad of decimal numbers 0..255 without leading zeros; one expression, as every connect checks its host. */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIPv6(s: string): boolean {
  const zone = s.indexOf("%");
  if (zone !== -1) {
    if (zone === s.length - 1) return false;
    s = s.slice(0, zone);
  }
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!isIPv4(tail)) return false;
    s = `${s.slice(0, lastColon + 1)}0:0`; // an embedded IPv4 address stands for two groups
  }
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (part: string): string[] => (part === "" ? [] : part.split(":"));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return false;
  return halves.length === 1 ? all.length === 8 : all.length <= 7;
}

export function ipFamily(host: string): "IPv4" | "IPv6" | null {
  if (isIPv4(host)) return "IPv4";
  if (isIPv6(host)) return "IPv6";
  return null;
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/** A hostname: an IP literal or a DNS name. Returns it without IPv6 brackets. */
export function checkHost(host: unknown, what = "hostname"): string {
  if (typeof host !== "string" || host.length === 0) throw invalid(`${what} must be a non-empty string`);
  let h = host;
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (ipFamily(h) !== null) return h;
  const name = h.endsWith(".") ? h.slice(0, -1) : h;
  if (name.length > 253 || !name.split(".").every((l) => LABEL.test(l)) || /^[\d.]+$/.test(name)) {
    throw invalid(`${what} ${JSON.stringify(host)} is not an IP address or a valid host name`);
  }
  return h;
}

/** A port: an integer 0..65535 (1..65535 where 0 makes no sense, as for connect). */
export function checkPort(port: unknown, allowZero = true): number {
  const min = allowZero ? 0 : 1;
  if (typeof port !== "number" || !Number.isInteger(port) || port < min || port > 65535) {
    throw invalid(`port must be an integer from ${min} to 65535, got ${show(port)}`);
  }
  return port;
}

/** A Unix socket path: non-empty, no NUL but a leading one (abstract), at most 107 bytes. */
export function checkUnixPath(path: unknown): string {
  if (typeof path !== "string" || path.length === 0) throw invalid("path must be a non-empty string");
  if (path.indexOf("\0", 1) !== -1) throw invalid("path must not contain NUL bytes after the first");
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw invalid(`Unix socket path is ${bytes} bytes, over the limit of ${MAX_UNIX_PATH_BYTES}`);
  }
  return path;
}

export type ParsedAddress = { kind: "net"; hostname: string; port: number } | { kind: "unix"; path: string };

/** Parses `connect`'s address: "host:port", "[::1]:80", `{ hostname, port }` or `{ path }`. */
export function parseConnectAddress(address: ConnectAddress): ParsedAddress {
  if (typeof address === "string") {
    const m = /^\[([^\]]*)\]:(\d+)$/.exec(address) ?? /^([^:]*):(\d+)$/.exec(address);
    if (m === null) throw invalid(`address ${JSON.stringify(address)} is not "host:port" or "[ipv6]:port"`);
    return { kind: "net", hostname: checkHost(m[1]), port: checkPort(Number(m[2]), false) };
  }
  if (typeof address !== "object" || address === null) throw invalid("address must be a string or an object");
  if ("path" in address) return { kind: "unix", path: checkUnixPath(address.path) };
  return { kind: "net", hostname: checkHost(address.hostname), port: checkPort(address.port, false) };
}

/** A positive integer option (backlog, buffer sizes, TTL). */
export function checkPositiveInt(value: unknown, what: string, max = 0x7fffffff): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(`${what} must be an integer from 1 to ${max}, got ${show(value)}`);
  }
  return value;
}

/** Text is sent as UTF-8. */
const encoder = new TextEncoder();
export function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw invalid("data must be a Uint8Array or a string");
}
