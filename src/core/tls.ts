import { invalid, unsupported } from "./errors.ts";
import type { AdapterContext } from "./context.ts";
import type { StartTlsServerOptions, TlsClientOptions, TlsServerOptions } from "./types.ts";
import { checkHost } from "./validate.ts";

/**
 * TLS options, checked once for every adapter: a malformed option is the same EINVAL everywhere,
 * and a feature this runtime lacks (capabilities `alpn`, `mutualTls`) is ERR_UNSUPPORTED before
 * anything touches the network. Adapters get a fresh object holding only the known fields.
 */

/** Every TLS capability (see Capabilities): what an adapter whose TLS engine does it all claims. */
export const ALL_TLS_CAPABILITIES = {
  tls: true,
  startTls: true,
  serverStartTls: true,
  mutualTls: true,
  alpn: true,
} as const;

const encoder = new TextEncoder();

/** An options object, as checkOptions (validate.ts) takes one: arrays and functions are objects too. */
function isObject(v: unknown): v is Record<string, unknown> {
  return (typeof v === "object" && v !== null) || typeof v === "function";
}

function checkPem(value: unknown, what: string): string {
  if (typeof value !== "string" || !value.includes("-----BEGIN ")) throw invalid(`${what} must be a PEM string`);
  return value;
}

function checkCa(value: unknown, what: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw invalid(`${what} must be a PEM string or a non-empty array of them`);
  return list.map((pem, i) => checkPem(pem, Array.isArray(value) ? `${what}[${i}]` : what));
}

/** ALPN protocol names: 1 to 255 bytes each (RFC 7301), at least one. */
function checkAlpn(ctx: AdapterContext, value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(`${what} must be a non-empty array of protocol names`);
  for (const p of value) {
    const bytes = typeof p === "string" ? encoder.encode(p).length : 0;
    if (bytes < 1 || bytes > 255)
      throw invalid(`${what} entries must be strings of 1 to 255 bytes, got ${JSON.stringify(p)}`);
  }
  if (!ctx.capabilities.alpn) throw unsupported("ALPN", ctx.runtime);
  return [...value] as string[];
}

function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") throw invalid(`${what} must be a boolean`);
  return value;
}

export function checkTlsClientOptions(ctx: AdapterContext, options: unknown, what = "tls"): TlsClientOptions {
  if (options === undefined) return {};
  if (!isObject(options)) throw invalid(`${what} must be an object`);
  const out: TlsClientOptions = {};
  if (options.serverName !== undefined) out.serverName = checkHost(options.serverName, `${what}.serverName`);
  if (options.ca !== undefined) out.ca = checkCa(options.ca, `${what}.ca`);
  if ((options.cert === undefined) !== (options.key === undefined))
    throw invalid(`${what}.cert and ${what}.key go together`);
  if (options.cert !== undefined) {
    out.cert = checkPem(options.cert, `${what}.cert`);
    out.key = checkPem(options.key, `${what}.key`);
    if (!ctx.capabilities.mutualTls) throw unsupported("client certificates", ctx.runtime);
  }
  if (options.alpn !== undefined) out.alpn = checkAlpn(ctx, options.alpn, `${what}.alpn`);
  if (options.rejectUnauthorized !== undefined) {
    out.rejectUnauthorized = checkBoolean(options.rejectUnauthorized, `${what}.rejectUnauthorized`);
  }
  return out;
}

export function checkTlsServerOptions(ctx: AdapterContext, options: unknown, what = "tls"): TlsServerOptions {
  if (!isObject(options)) throw invalid(`${what} must be an object with cert and key`);
  const out: TlsServerOptions = {
    cert: checkPem(options.cert, `${what}.cert`),
    key: checkPem(options.key, `${what}.key`),
  };
  if (options.ca !== undefined) out.ca = checkCa(options.ca, `${what}.ca`);
  if (options.alpn !== undefined) out.alpn = checkAlpn(ctx, options.alpn, `${what}.alpn`);
  if (options.requestCert !== undefined) {
    out.requestCert = checkBoolean(options.requestCert, `${what}.requestCert`);
    if (out.requestCert && !ctx.capabilities.mutualTls) throw unsupported("client certificates", ctx.runtime);
  }
  if (options.handshakeTimeoutMs !== undefined)
    out.handshakeTimeoutMs = checkTimeout(options.handshakeTimeoutMs, `${what}.handshakeTimeoutMs`);
  return out;
}

/** A positive whole number of milliseconds a timer can hold (setTimeout's limit is 2^31 - 1). */
function checkTimeout(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > 0x7fff_ffff) {
    throw invalid(`${what} must be a positive whole number of milliseconds, up to 2147483647`);
  }
  return value;
}

/** What `startTls()` was asked for: the client's side of the handshake, or the server's. */
export type TlsUpgrade = { role: "client"; options: TlsClientOptions } | { role: "server"; options: TlsServerOptions };

export function checkStartTlsOptions(ctx: AdapterContext, options: unknown): TlsUpgrade {
  if (isObject(options) && "server" in options) {
    if (!ctx.capabilities.serverStartTls) throw unsupported("startTls({ server })", ctx.runtime);
    return {
      role: "server",
      options: checkTlsServerOptions(ctx, (options as unknown as StartTlsServerOptions).server, "server"),
    };
  }
  return { role: "client", options: checkTlsClientOptions(ctx, options, "startTls options") };
}

/**
 * A client must know the name the certificate has to match: the host it connected to by default;
 * over a Unix socket, or on an accepted socket, there is none unless `serverName` gives it.
 */
export function checkServerNameKnown(tls: TlsClientOptions, where: string): void {
  if (tls.serverName === undefined && tls.rejectUnauthorized !== false) {
    throw invalid(
      `${where} has no host name to check the certificate against: give tls.serverName (or rejectUnauthorized: false)`,
    );
  }
}
