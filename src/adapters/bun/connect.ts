/* connect() on Bun: Bun.connect, TLS included (its verdict in tls.ts). */
import { SocketError } from "../../core/errors.ts";
import { type ConnectPlan, connectedTo, planConnect, unixAddr } from "../../core/options.ts";
import { StreamSocket } from "../../core/socket.ts";
import type { Opened } from "../../core/transport.ts";
import type { ConnectAddress, ConnectOptions, Socket, SocketInfo } from "../../core/types.ts";
import { type BunNs, type BunSocket, bun } from "./_bun.ts";
import { bunSocketError, context } from "./context.ts";
import { bunClientTls, checkClientHandshake, tlsOptionsError } from "./tls.ts";
import { applyNoDelay, BunConnection, HANDLERS, netAddrOf, TLS_HANDLERS } from "./transport.ts";

/**
 * A failed connect or lookup as a SocketError that names its target (Bun's own says only "Failed
 * to connect"). A lookup's errno is c-ares' status, not an errno, so it is left out.
 */
export function connectError(err: unknown, target: ConnectPlan["target"]): SocketError {
  const where = target.kind === "unix" ? { address: target.path } : { address: target.hostname, port: target.port };
  const code = (err as { code?: unknown } | null)?.code;
  if (target.kind === "net" && (code === "ENOTFOUND" || code === "DNS_ENOTFOUND" || code === "DNS_ENODATA")) {
    return new SocketError("ENOTFOUND", `${target.hostname} could not be resolved`, {
      cause: err,
      syscall: "getaddrinfo",
      ...where,
    });
  }
  return bunSocketError(err, { syscall: "connect", ...where }, "ECONNREFUSED");
}

/**
 * Opens a TCP, Unix or TLS connection with Bun's adapter (`Bun.connect`).
 * Returns at once; the connection's failures surface through `opened` as a `SocketError`, and
 * bad arguments throw `EINVAL` here.
 *
 * @param address `"host:port"`, `{ hostname, port }`, or `{ path }` for a Unix socket.
 * @param options TLS (`secureTransport`, `tls`), half-close, Nagle, keep-alive, and an abort `signal`.
 *
 * @example
 * ```ts
 * import { connect } from "unisock/bun";
 * await using s = connect("example.com:443", { secureTransport: "on" });
 * await s.opened;
 * await s.write("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
 * const response = await new Response(s.readable).text();
 * ```
 */
export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  return connectWith(bun(), address, options);
}

/** connect() over the Bun namespace `ns` (the global `Bun`, or a test's). */
export function connectWith(ns: BunNs, address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
  const tls = plan.secureTransport === "on" ? bunClientTls(plan.tls) : undefined;
  const check = tls === undefined ? null : checkClientHandshake(plan.tls, context.errors);
  const remote = connectedTo(target);
  return new StreamSocket(
    context,
    async (sink, signal): Promise<Opened> => {
      const conn = new BunConnection(sink);
      // Waited for before connecting: the handshake may end before Bun.connect's promise is seen.
      const done = check === null ? null : conn.handshake(check);
      const handlers = tls === undefined ? HANDLERS : TLS_HANDLERS;
      let sock: BunSocket<BunConnection>;
      try {
        sock = await ns.connect<BunConnection>(
          target.kind === "unix"
            ? { unix: target.path, data: conn, allowHalfOpen: true, socket: handlers, tls }
            : { hostname: target.hostname, port: target.port, data: conn, allowHalfOpen: true, socket: handlers, tls },
        );
      } catch (err) {
        throw tlsOptionsError(err) ?? connectError(err, target);
      }
      conn.attach(sock);
      let info: SocketInfo;
      if (target.kind === "unix") {
        info = conn.setInfo({ localAddress: unixAddr(""), remoteAddress: unixAddr(target.path), alpn: null });
      } else {
        applyNoDelay(sock, plan.noDelay);
        if (plan.keepAlive.enabled) sock.setKeepAlive(true, plan.keepAlive.delayMs);
        info = conn.setInfo({
          localAddress: netAddrOf(sock, "local"),
          remoteAddress: remote ?? netAddrOf(sock, "remote"),
          alpn: null,
        });
      }
      if (done === null) return { transport: conn, info };
      const tlsInfo = await conn.handshakeDone(signal, done);
      return { transport: conn, info: { ...info, ...tlsInfo } };
    },
    plan,
  );
}
