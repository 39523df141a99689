/**
 * The part of Cloudflare Workers' `cloudflare:sockets` module that the workerd adapter uses, typed
 * by hand (as for Deno and Bun) so the published types never name Workers globals and no one
 * needs @cloudflare/workers-types to type-check unisock.
 *
 * The module is imported when the first connection opens, by a specifier the tools cannot see:
 * Deno (deno check, JSR publish) knows no `cloudflare:` scheme, and bundlers must leave it for
 * workerd to resolve.
 */
export interface CfSocketInfo {
  /** "host:port" as workerd reports it (the name connected to, not always an IP). */
  remoteAddress?: string;
  localAddress?: string;
}

export interface CfSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<CfSocketInfo>;
  readonly closed: Promise<void>;
  close(): Promise<void>;
  startTls(options?: { expectedServerHostname?: string }): CfSocket;
}

export type CfConnect = (
  address: { hostname: string; port: number },
  options?: { secureTransport?: "off" | "on" | "starttls"; allowHalfOpen?: boolean },
) => CfSocket;

const SPECIFIER = "cloudflare:sockets";
let loaded: Promise<CfConnect> | null = null;

/** `connect` of `cloudflare:sockets`. */
export function sockets(): Promise<CfConnect> {
  loaded ??= (import(/* @vite-ignore */ SPECIFIER) as Promise<{ connect: CfConnect }>).then((m) => m.connect);
  return loaded;
}
