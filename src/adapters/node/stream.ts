/*
 * node:net under the contract. Node's own quirks absorbed here: `write()` buffers everything and
 * only signals pressure by returning false (we wait for 'drain'); sockets are created with
 * allowHalfOpen so the core, not Node, decides what a FIN means; errors arrive as 'error' events
 * with negative errno. TLS (tls.ts) wraps these same sockets.
 */
import { Buffer } from "node:buffer";
import { stat } from "node:fs/promises";
import net from "node:net";
import { dirname } from "node:path";
import tls from "node:tls";
import { SocketError, toSocketError } from "../../core/errors.ts";
import { PendingHandshakes } from "../../core/handshakes.ts";
import { StreamListener } from "../../core/listener.ts";
import { listenContext, netAddr, planConnect, planListen, unixAddr } from "../../core/options.ts";
import { type Opened, type SocketSink, StreamSocket, type Transport } from "../../core/socket.ts";
import type { Addr, ConnectAddress, ConnectOptions, Listener, ListenOptions, Socket, SocketInfo } from "../../core/types.ts";
import { drainWaiter } from "../_node_streams.ts";
import { context } from "./context.ts";
import { afterHandshake, clientTlsOptions, createTlsServer, resetTls, secureClient, secureServer, tlsInfo, tlsParent } from "./tls.ts";

/** Writes smaller than this are coalesced within a tick (see nodeTransport). */
const CORK_BELOW = 16 * 1024;

function addrOf(sock: net.Socket, side: "local" | "remote", unixPath: string | null): Addr {
  if (unixPath !== null) return unixAddr(unixPath);
  const host = side === "local" ? sock.localAddress : sock.remoteAddress;
  const port = side === "local" ? sock.localPort : sock.remotePort;
  // Node reports IPv4 as a plain dotted quad: no need for netAddr's parsing (it shows in accept profiles).
  if (host !== undefined && !host.includes(":")) return { transport: "tcp", hostname: host, port: port ?? 0, family: "IPv4" };
  return netAddr("tcp", host ?? "", port ?? 0);
}

/** Where a connection's addresses come from: a Unix socket has its paths, TCP asks the socket. */
interface Paths {
  local: string | null;
  remote: string | null;
}

/**
 * Wires a connected node:net socket (or a TLS socket and the TCP socket under it) to the core
 * socket's sink and returns its Transport. A plaintext socket can be upgraded: `startTls` and
 * `startTlsServer` move the connection to a TLS socket reporting to a new sink.
 */
export function nodeTransport(sock: net.Socket, sink: SocketSink, paths: Paths, tcp: net.Socket | null = null): Transport {
  // Small writes leave together: a small write goes out at once, unless one already did since the
  // peer last sent data; then the socket is corked until the end of the tick, so a loop of small
  // writes costs one writev() per tick instead of a syscall each (the use Node's docs give for
  // cork()). A request/response exchange (one write per arrival) is never delayed and schedules
  // nothing.
  let wroteAlone = false;
  let corked = false;
  const uncork = (): void => {
    wroteAlone = false;
    if (corked) {
      corked = false;
      sock.uncork();
    }
  };
  const onData = (chunk: Uint8Array): void => {
    wroteAlone = false;
    sink.data(chunk);
  };
  const onEnd = (): void => sink.end();
  const onError = (err: Error): void => sink.error(err);
  const onClose = (): void => sink.closed();
  sock.on("data", onData);
  sock.on("end", onEnd);
  sock.on("error", onError);
  sock.on("close", onClose);
  /** This socket's events now belong to the TLS socket wrapping it. */
  const detach = (): void => {
    uncork();
    sock.off("data", onData);
    sock.off("end", onEnd);
    sock.off("error", onError);
    sock.off("close", onClose);
    // The TLS socket hears this one's errors itself; this keeps one it misses from being uncaught.
    sock.on("error", () => {});
  };
  /** Hands the connection to a TLS handshake; if that fails the connection is dropped: nobody owns it. */
  const upgrade = (handshake: () => Promise<Opened>): Promise<Opened> => {
    detach();
    const dropped = (err: unknown): never => {
      sock.destroy();
      throw err;
    };
    try {
      return handshake().catch(dropped);
    } catch (err) {
      return Promise.reject(err).catch(dropped);
    }
  };
  const upgraded = (tlsSock: tls.TLSSocket, tlsSink: SocketSink, info: Pick<SocketInfo, "alpn" | "authorized">): Opened => ({
    transport: nodeTransport(tlsSock, tlsSink, paths, sock),
    info: { ...infoOf(sock, paths), ...info },
  });
  const whenDrained = drainWaiter(sock);
  return {
    write: (data) => {
      if (data.byteLength < CORK_BELOW) {
        if (!wroteAlone) wroteAlone = true;
        else if (!corked) {
          corked = true;
          sock.cork();
          process.nextTick(uncork);
        }
      }
      // Node keeps a reference to a chunk it has not yet handed to the kernel even when write()
      // returns true, but the contract lets the caller reuse its buffer once write() resolves: a
      // chunk below the high-water mark is copied. A larger one always waits for 'drain', which
      // comes only once Node is done with every chunk it holds.
      const chunk = data.byteLength < sock.writableHighWaterMark ? Buffer.from(data) : data;
      return sock.write(chunk) ? undefined : whenDrained();
    },
    closeWrite: () =>
      new Promise<void>((resolve) => {
        if (sock.writableFinished || sock.destroyed) return resolve();
        sock.end(() => resolve());
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (sock.closed) return resolve();
        sock.once("close", () => resolve());
        // Nothing left to flush on a plain TCP socket: close() sends the FIN itself, sparing a
        // shutdown() and a trip through the event loop. TLS still ends with its close_notify.
        if (sock.writableFinished || !sock.writable || (sock.writableLength === 0 && !(sock instanceof tls.TLSSocket))) sock.destroy();
        else sock.end(() => sock.destroy());
      }),
    reset: () => (sock instanceof tls.TLSSocket ? resetTls(sock, tcp) : void sock.resetAndDestroy()),
    pause: () => void sock.pause(),
    resume: () => void sock.resume(),
    setNoDelay: (on) => void sock.setNoDelay(on),
    setKeepAlive: (on, delayMs) => void sock.setKeepAlive(on, delayMs),
    ref: () => void sock.ref(),
    unref: () => void sock.unref(),
    ...(sock instanceof tls.TLSSocket
      ? {}
      : {
          startTls: (options, tlsSink, signal) =>
            upgrade(() => {
              const tlsOptions = clientTlsOptions(options);
              return secureClient(sock, tlsOptions, context.errors, signal, (t) => upgraded(t, tlsSink, tlsInfo(t, "client")));
            }),
          startTlsServer: (options, tlsSink, signal) =>
            upgrade(() => {
              const requestCert = options.requestCert ?? false;
              return secureServer(sock, options, context.errors, signal, (t) => upgraded(t, tlsSink, tlsInfo(t, "server", requestCert)));
            }),
        }),
  };
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function infoOf(sock: net.Socket, paths: Paths): SocketInfo {
  return {
    localAddress: addrOf(sock, "local", paths.local),
    remoteAddress: addrOf(sock, "remote", paths.remote),
    alpn: null,
  };
}

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
  const paths: Paths = target.kind === "unix" ? { local: "", remote: target.path } : { local: null, remote: null };
  const tlsOptions = plan.secureTransport === "on" ? clientTlsOptions(plan.tls) : null;
  return new StreamSocket(
    context,
    (sink, signal) =>
      new Promise<Opened>((resolve, reject) => {
        const sock =
          target.kind === "unix"
            ? net.connect({ path: target.path, allowHalfOpen: true })
            : net.connect({
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
        signal?.addEventListener("abort", onAbort, { once: true });
        sock.once("error", onError);
        sock.once("connect", () => {
          signal?.removeEventListener("abort", onAbort);
          sock.off("error", onError);
          if (tlsOptions === null) {
            resolve({ transport: nodeTransport(sock, sink, paths), info: infoOf(sock, paths) });
            return;
          }
          const opened = (t: tls.TLSSocket): Opened => ({
            transport: nodeTransport(t, sink, paths, sock),
            info: { ...infoOf(sock, paths), ...tlsInfo(t, "client") },
          });
          secureClient(sock, tlsOptions, context.errors, signal, opened).then(resolve, reject);
        });
      }),
    plan,
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
    if (target.kind === "unix" && (err as { code?: unknown }).code === "EACCES" && !(await exists(dirname(target.path)))) {
      throw new SocketError("ENOENT", `no such directory: ${dirname(target.path)}`, { cause: err, syscall: "listen", address: target.path });
    }
    throw toSocketError(err, context.errors, { syscall: "listen", ...listenContext(target) }, "EADDRINUSE");
  });
  const bound = server.address();
  const addr: Addr =
    target.kind === "unix" || typeof bound === "string" || bound === null
      ? unixAddr(target.kind === "unix" ? target.path : String(bound))
      : netAddr("tcp", bound.address, bound.port);
  const paths: Paths = target.kind === "unix" ? { local: target.path, remote: "" } : { local: null, remote: null };
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
  const accepted = (opened: (sink: SocketSink) => Opened): void =>
    listener.deliver(
      new StreamSocket(context, (sink) => Promise.resolve(opened(sink)), {
        allowHalfOpen: plan.allowHalfOpen,
        secureTransport: plan.tls !== undefined ? "on" : plan.secureTransport,
      }),
    );
  if (plan.tls === undefined) {
    server.on("connection", (sock: net.Socket) =>
      accepted((sink) => ({ transport: nodeTransport(sock, sink, paths), info: infoOf(sock, paths) })),
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
        transport: nodeTransport(afterHandshake(sock), sink, paths),
        info: { ...infoOf(sock, paths), ...tlsInfo(sock, "server", requestCert) },
      }));
    });
  }
  return listener;
}
