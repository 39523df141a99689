/* listen() on Bun: Bun.listen, each connection delivered as a StreamSocket (a TLS one once its handshake is accepted). */
import { handshakeTimedOut, PendingHandshakes } from "../../core/handshakes.ts";
import { StreamListener } from "../../core/listener.ts";
import { acceptedOn, listenContext, netAddr, planListen, unixAddr } from "../../core/options.ts";
import { StreamSocket } from "../../core/socket.ts";
import type { Addr, Listener, ListenOptions, Socket, SocketInfo } from "../../core/types.ts";
import { ipFamily } from "../../core/validate.ts";
import { type BunListener, type BunNs, type BunSocketHandler, type BunTcpListener, bun } from "./_bun.ts";
import { connectError } from "./connect.ts";
import { bunSocketError, context } from "./context.ts";
import { bunServerTls, checkServerHandshake, tlsOptionsError } from "./tls.ts";
import { applyNoDelay, BunConnection, HANDLERS, netAddrOf, TLS_HANDLERS } from "./transport.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Listens for TCP, Unix or TLS connections with Bun's adapter (`Bun.listen`).
 * Resolves once listening; `addr` has the port the system chose for port 0.
 *
 * @param options Where to listen (default `0.0.0.0`, an ephemeral port), or `path`; `tls` to serve TLS.
 *
 * @example An echo server
 * ```ts
 * import { listen } from "unisock/bun";
 * await using l = await listen({ hostname: "127.0.0.1", port: 7007 });
 * for await (const conn of l) conn.readable.pipeTo(conn.writable).catch(() => {});
 * ```
 */
export function listen(options?: ListenOptions): Promise<Listener> {
  return listenWith(bun(), options);
}

/** listen() over the Bun namespace `ns` (the global `Bun`, or a test's). */
export async function listenWith(ns: BunNs, options?: ListenOptions): Promise<Listener> {
  const plan = planListen(context, options);
  const { target } = plan;
  const where = { syscall: "listen", ...listenContext(target) };
  let deliver: (socket: Socket) => void = () => {};
  const socketOptions = {
    allowHalfOpen: plan.allowHalfOpen,
    secureTransport: plan.tls !== undefined ? "on" : plan.secureTransport,
  } as const;
  const accepted = (conn: BunConnection, info: SocketInfo): void =>
    deliver(
      new StreamSocket(
        context,
        {
          now: (sink) => {
            conn.deliverTo(sink);
            return { transport: conn, info };
          },
        },
        socketOptions,
      ),
    );
  const check = plan.tls === undefined ? null : checkServerHandshake(plan.tls, context.errors);
  // Bun has no handshake deadline of its own, and stop() keeps connections still in their handshake.
  const handshakes = plan.tls === undefined ? null : new PendingHandshakes(plan.tls);
  const handlers: BunSocketHandler<BunConnection> = {
    ...(check === null ? HANDLERS : TLS_HANDLERS),
    open: (sock) => {
      const conn = new BunConnection();
      conn.attach(sock);
      sock.data = conn;
      let info: SocketInfo;
      if (target.kind === "unix") {
        info = conn.setInfo({ localAddress: unixAddr(target.path), remoteAddress: unixAddr(""), alpn: null });
      } else {
        applyNoDelay(sock, plan.noDelay);
        info = conn.setInfo({
          localAddress: acceptedOn(addr) ?? netAddrOf(sock, "local"),
          remoteAddress: netAddrOf(sock, "remote"),
          alpn: null,
        });
      }
      if (check === null) return accepted(conn, info);
      // Delivered once its handshake (and the client's certificate) is accepted; else never.
      const done = handshakes!.add(() => conn.failHandshake(handshakeTimedOut(), true));
      conn.expectHandshake({
        check,
        accept: (tlsInfo) => {
          done();
          accepted(conn, { ...info, ...tlsInfo });
        },
        fail: done,
      });
    },
  };
  const tls = plan.tls === undefined ? undefined : bunServerTls(plan.tls);
  let server: BunListener;
  let addr: Addr;
  try {
    if (target.kind === "unix") {
      // Bun refuses (EADDRINUSE) any existing file at the path, a stale socket included, and
      // removes the file it made on stop(): the contract's rules, with no check of ours.
      server = ns.listen<BunConnection>({ unix: target.path, allowHalfOpen: true, socket: handlers, tls });
      addr = unixAddr(target.path);
    } else {
      let hostname = target.hostname;
      if (ipFamily(hostname) === null) {
        const found = await ns.dns.lookup(hostname).catch((err: unknown) => Promise.reject(connectError(err, target)));
        hostname = found[0]?.address ?? hostname;
      }
      const tcp: BunTcpListener = ns.listen<BunConnection>({
        hostname,
        port: target.port,
        reusePort: plan.reusePort,
        ipv6Only: plan.ipv6Only,
        allowHalfOpen: true,
        socket: handlers,
        tls,
      });
      server = tcp;
      addr = netAddr("tcp", tcp.hostname, tcp.port);
    }
  } catch (err) {
    throw tlsOptionsError(err) ?? bunSocketError(err, where, "EADDRINUSE");
  }
  const listener = new StreamListener(
    {
      addr,
      close: () => {
        server.stop();
        handshakes?.closeAll();
        return RESOLVED;
      },
      ref: () => server.ref(),
      unref: () => server.unref(),
    },
    plan.signal,
  );
  deliver = (socket) => listener.deliver(socket);
  return listener;
}
