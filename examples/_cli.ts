/**
 * What every example shares with the others: addresses and ports read from the command line one
 * way (`host:port`, `[::1]:port`), and a routine failure (a port in use, a refused connection, a
 * port of "abc") ending in one clear line on stderr and exit status 1, not a stack trace.
 */
import process from "node:process";

/** A mistake on the command line, reported with the example's usage. */
class UsageError extends Error {}

/** The name the example was started as, for the first word of its error line. */
const program = (process.argv[1] ?? "example").split(/[\\/]/).pop()!;

/** A port from the command line: digits only, 0 to 65535 (0 asks the system for a free one). */
export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`"${text}" is not a port (0 to 65535)`);
  return Number(text);
}

/** `host:port`, `[ipv6]:port` or `:port` (host 127.0.0.1): the one address syntax of every example. */
export function parseAddress(text: string): { hostname: string; port: number } {
  const m = /^\[([^\]]+)\]:([^:]*)$/.exec(text) ?? /^([^:[\]]*):([^:]*)$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not host:port (an IPv6 address goes in brackets: [::1]:7007)`);
  return { hostname: m[1] || "127.0.0.1", port: parsePort(m[2]!) };
}

/** A server's port: the first argument, then $PORT, then `fallback`. */
export function serverPort(arg: string | undefined, fallback: number): number {
  return parsePort(arg ?? process.env.PORT ?? String(fallback));
}

/** A client's target: the first argument, then $HOST and $PORT, then 127.0.0.1:`fallback`. */
export function clientAddress(arg: string | undefined, fallback: number): { hostname: string; port: number } {
  if (arg !== undefined) return parseAddress(arg);
  const host = process.env.HOST ?? "127.0.0.1";
  return { hostname: host, port: parsePort(process.env.PORT ?? String(fallback)) };
}

/** The local address to bind a UDP client to: loopback for a loopback peer, else the family's any-address. */
export function localFor(hostname: string): string {
  if (hostname.includes(":")) return hostname === "::1" ? "::1" : "::";
  return hostname.startsWith("127.") || hostname === "localhost" ? "127.0.0.1" : "0.0.0.0";
}

/**
 * Runs the example's body. A failure prints one line, `name: CODE: what happened (address)`, and
 * exits 1 (a SocketError's message starts with its code).
 */
export async function run(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof Error) {
      const { address, port } = err as { address?: string; port?: number };
      const at =
        address && !err.message.includes(address) ? ` (${address}${port === undefined ? "" : `:${port}`})` : "";
      console.error(`${program}: ${err.message}${at}`);
    } else console.error(`${program}:`, err);
    process.exit(1);
  }
}
