/* listen() on Node: a node:net or node:tls server, each connection delivered as a StreamSocket. */
import { stat } from "node:fs/promises";
import net from "node:net";
import { dirname } from "node:path";
import type tls from "node:tls";
import { SocketError, toSocketError } from "../../core/errors.ts";
import { PendingHandshakes } from "../../core/handshakes.ts";
import { StreamListener } from "../../core/listener.ts";
import { acceptedOn, listenContext, netAddr, planListen, unixAddr } from "../../core/options.ts";
import { StreamSocket } from "../../core/socket.ts";
import type { Opened, SocketSink } from "../../core/transport.ts";
import type { Addr, Listener, ListenOptions } from "../../core/types.ts";
import { context } from "./context.ts";
import { tlsInfo } from "../_node/tls.ts";
import { afterHandshake, createTlsServer, tlsParent } from "./tls.ts";
import { infoOf, type KnownAddrs, NodeTransport } from "./transport.ts";

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Listens for TCP, Unix or TLS connections with Node's adapter (a node:net or node:tls server).
 * Resolves once listening; `addr` has the port the system chose for port 0.
 *
 * @param options Where to listen (default `0.0.0.0`, an ephemeral port), or `path`; `tls` to serve TLS.
 *
 * @example An echo server
 * ```ts
 * import { listen } from "unisock/node";
 * await using l = await listen({ hostname: "127.0.0.1", port: 7007 });
 * for await (const conn of l) conn.readable.pipeTo(conn.writable).catch(() => {});
 * ```
 */
export async function listen(options?: ListenOptions): Promise<Listener> {
  const plan = planListen(context, options);
  const { target } = plan;
  const handshakes = plan.tls === undefined ? null : new PendingHandshakes(plan.tls);
  const server =
    plan.tls === undefined
      ? net.createServer({ allowHalfOpen: true, noDelay: plan.noDelay })
      : createTlsServer(plan.tls, plan.noDelay, handshakes!.timeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      resolve();
    });
    if (target.kind === "unix") server.listen({ path: target.path, backlog: plan.backlog });
    else {
      server.listen({
        host: target.hostname,
        port: target.port,
        backlog: plan.backlog,
        ipv6Only: plan.ipv6Only,
        reusePort: plan.reusePort,
      });
    }
  }).catch(async (err: unknown) => {
    // libuv turns bind()'s ENOENT into EACCES "for compatibility with Windows" (src/unix/pipe.c): a
    // missing directory is ENOENT here, as on Deno and Bun.
    if (
      target.kind === "unix" &&
      (err as { code?: unknown }).code === "EACCES" &&
      !(await exists(dirname(target.path)))
    ) {
      throw new SocketError("ENOENT", `no such directory: ${dirname(target.path)}`, {
        cause: err,
        syscall: "listen",
        address: target.path,
      });
    }
    throw toSocketError(err, context.errors, { syscall: "listen", ...listenContext(target) }, "EADDRINUSE");
  });
  const bound = server.address();
  const addr: Addr =
    target.kind === "unix" || typeof bound === "string" || bound === null
      ? unixAddr(target.kind === "unix" ? target.path : String(bound))
      : netAddr("tcp", bound.address, bound.port);
  const known: KnownAddrs =
    target.kind === "unix" ? { local: addr, remote: unixAddr("") } : { local: acceptedOn(addr), remote: null };
  const listener = new StreamListener(
    {
      addr,
      // server.close()'s callback waits for every connection to end; the listening socket itself
      // (and a Unix socket file) is released at once, which is what Listener.close() promises.
      close: () =>
        new Promise<void>((resolve) => {
          server.close();
          // server.close() keeps every connection, those still in their handshake too.
          handshakes?.closeAll();
          setImmediate(resolve);
        }),
      ref: () => void server.ref(),
      unref: () => void server.unref(),
    },
    plan.signal,
  );
  const socketOptions = {
    allowHalfOpen: plan.allowHalfOpen,
    secureTransport: plan.tls !== undefined ? "on" : plan.secureTransport,
  } as const;
  const accepted = (now: (sink: SocketSink) => Opened): void =>
    listener.deliver(new StreamSocket(context, { now }, socketOptions));
  if (plan.tls === undefined) {
    server.on("connection", (sock: net.Socket) =>
      accepted((sink) => ({ transport: new NodeTransport(sock, sink, known), info: infoOf(sock, known) })),
    );
  } else {
    // Delivered once the handshake (and the client's certificate check) is done; a client that
    // fails it is never accepted (tls.Server reports it as 'tlsClientError' and drops it).
    // Each TCP connection is in its handshake from 'connection' to 'secureConnection' (or its close).
    const handshakeDone = new WeakMap<net.Socket, () => void>();
    server.on("connection", (raw: net.Socket) => {
      const done = handshakes!.add(() => raw.destroy());
      handshakeDone.set(raw, done);
      raw.once("close", done);
    });
    const requestCert = plan.tls.requestCert ?? false;
    server.on("secureConnection", (sock: tls.TLSSocket) => {
      const raw = tlsParent(sock);
      if (raw !== null) handshakeDone.get(raw)?.();
      accepted((sink) => ({
        transport: new NodeTransport(afterHandshake(sock), sink, known),
        info: { ...infoOf(sock, known), ...tlsInfo(sock, "server", requestCert) },
      }));
    });
  }
  return listener;
}
