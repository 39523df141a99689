/* connect() on Deno: Deno.connect, and node:tls over the connection for TLS (see tls.ts). */
import { planConnect, unixAddr } from "../../core/options.ts";
import { StreamSocket } from "../../core/socket.ts";
import type { Opened, SocketSink } from "../../core/transport.ts";
import type { ConnectAddress, ConnectOptions, Socket, SocketInfo, TlsClientOptions } from "../../core/types.ts";
import { deno, type DenoConn, type DenoNs } from "./_deno.ts";
import { context, denoError } from "./context.ts";
import { checkTlsMaterial } from "./tls.ts";
import { addrOf, DenoTransport, NO_SINK, opened } from "./transport.ts";

/** The client's TLS over a connection just made: node:tls (see tls.ts). A failure closes the connection. */
function secureConnected(
  conn: DenoConn,
  tcp: boolean,
  info: SocketInfo,
  options: TlsClientOptions,
  sink: SocketSink,
  signal: AbortSignal | undefined,
): Promise<Opened> {
  return new DenoTransport(conn, NO_SINK, { tcp, onDemand: true, info }).startTls(options, sink, signal);
}

/**
 * Opens a TCP, Unix or TLS connection with Deno's adapter (`Deno.connect`, `Deno.connectTls` and `Deno.startTls` (Deno's node:tls where those cannot: no verification, client certificates)).
 * Returns at once; the connection's failures surface through `opened` as a `SocketError`, and
 * bad arguments throw `EINVAL` here.
 *
 * @param address `"host:port"`, `{ hostname, port }`, or `{ path }` for a Unix socket.
 * @param options TLS (`secureTransport`, `tls`), half-close, Nagle, keep-alive, and an abort `signal`.
 *
 * @example
 * ```ts
 * import { connect } from "unisock/deno";
 * await using s = connect("example.com:443", { secureTransport: "on" });
 * await s.opened;
 * await s.write("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
 * const response = await new Response(s.readable).text();
 * ```
 */
export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  return connectWith(deno, address, options);
}

/** connect() over the Deno namespace `ns` (the global `Deno`, or a test's). */
export function connectWith(ns: DenoNs, address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
  if (plan.secureTransport !== "off") checkTlsMaterial(plan.tls);
  const onDemand = plan.secureTransport === "starttls";
  return new StreamSocket(
    context,
    async (sink, signal) => {
      let conn: DenoConn;
      try {
        // Deno.connect takes a signal for TCP only; the core races it for Unix and closes a late connection.
        conn =
          target.kind === "unix"
            ? await ns.connect({ transport: "unix", path: target.path })
            : await ns.connect({ hostname: target.hostname, port: target.port, signal });
      } catch (err) {
        if (signal?.aborted && err === signal.reason) throw err;
        const where =
          target.kind === "unix" ? { address: target.path } : { address: target.hostname, port: target.port };
        throw denoError(err, { syscall: "connect", ...where });
      }
      const tcp = target.kind === "net";
      let info: SocketInfo;
      if (!tcp) info = { localAddress: addrOf(conn.localAddr, ""), remoteAddress: unixAddr(target.path), alpn: null };
      else {
        try {
          conn.setNoDelay?.(plan.noDelay);
          if (plan.keepAlive.enabled) conn.setKeepAlive?.(true);
        } catch (err) {
          conn.close();
          throw denoError(err, { syscall: "setsockopt" });
        }
        info = { localAddress: addrOf(conn.localAddr, ""), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null };
      }
      if (plan.secureTransport === "on") return secureConnected(conn, tcp, info, plan.tls, sink, signal);
      return opened(conn, sink, { tcp, onDemand, info });
    },
    plan,
  );
}
