/* connect() on Node: node:net, and node:tls over it for TLS. */
import net from "node:net";
import type tls from "node:tls";
import { toSocketError } from "../../core/errors.ts";
import { connectedTo, listenContext, planConnect, unixAddr } from "../../core/options.ts";
import { StreamSocket } from "../../core/socket.ts";
import type { Opened } from "../../core/transport.ts";
import type { ConnectAddress, ConnectOptions, Socket } from "../../core/types.ts";
import { context } from "./context.ts";
import { tlsInfo } from "../_node/tls.ts";
import { clientTlsOptions, secureClient } from "./tls.ts";
import { infoOf, type KnownAddrs, NodeTransport, userBufferReads } from "./transport.ts";

/**
 * Opens a TCP, Unix or TLS connection with Node's adapter (node:net and node:tls).
 * Returns at once; the connection's failures surface through `opened` as a `SocketError`, and
 * bad arguments throw `EINVAL` here.
 *
 * @param address `"host:port"`, `{ hostname, port }`, or `{ path }` for a Unix socket.
 * @param options TLS (`secureTransport`, `tls`), half-close, Nagle, keep-alive, and an abort `signal`.
 *
 * @example
 * ```ts
 * import { connect } from "unisock/node";
 * await using s = connect("example.com:443", { secureTransport: "on" });
 * await s.opened;
 * await s.write("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
 * const response = await new Response(s.readable).text();
 * ```
 */
export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
  const known: KnownAddrs =
    target.kind === "unix"
      ? { local: unixAddr(""), remote: unixAddr(target.path) }
      : { local: null, remote: connectedTo(target) };
  const tlsOptions = plan.secureTransport === "on" ? clientTlsOptions(plan.tls) : null;
  return new StreamSocket(
    context,
    (sink, signal) =>
      new Promise<Opened>((resolve, reject) => {
        const reads = tlsOptions === null ? userBufferReads() : null;
        const sock =
          target.kind === "unix"
            ? net.connect({ path: target.path, allowHalfOpen: true, onread: reads?.onread })
            : net.connect({
                onread: reads?.onread,
                host: target.hostname,
                port: target.port,
                allowHalfOpen: true,
                noDelay: plan.noDelay,
                keepAlive: plan.keepAlive.enabled,
                keepAliveInitialDelay: plan.keepAlive.delayMs,
              });
        const onAbort = (): void => void sock.destroy();
        const onError = (err: Error): void => {
          signal?.removeEventListener("abort", onAbort);
          reject(toSocketError(err, context.errors, { syscall: "connect", ...listenContext(target) }, "ECONNREFUSED"));
        };
        // on(), not once(): each fires at most once here, and once() wraps every listener. Both
        // leave once connected: the socket would otherwise hold this open's closures (and through
        // them the Socket) for as long as it lives.
        const onConnect = (): void => {
          signal?.removeEventListener("abort", onAbort);
          sock.off("error", onError);
          sock.off("connect", onConnect);
          if (tlsOptions === null) {
            const transport = new NodeTransport(sock, sink, known);
            reads?.attach(transport);
            resolve({ transport, info: infoOf(sock, known) });
            return;
          }
          const opened = (t: tls.TLSSocket): Opened => ({
            transport: new NodeTransport(t, sink, known, sock),
            info: { ...infoOf(sock, known), ...tlsInfo(t, "client") },
          });
          secureClient(sock, tlsOptions, context.errors, signal, opened).then(resolve, reject);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        sock.on("error", onError);
        sock.on("connect", onConnect);
      }),
    plan,
  );
}
