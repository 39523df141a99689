/*
 * node:net under the contract. Node's own quirks absorbed here: `write()` buffers everything and
 * only signals pressure by returning false (we wait for 'drain'); sockets are created with
 * allowHalfOpen so the core, not Node, decides what a FIN means; errors arrive as 'error' events
 * with negative errno.
 */
import net from "node:net";
import { SocketError, toSocketError } from "../../core/errors.ts";
import { StreamListener } from "../../core/listener.ts";
import { listenContext, netAddr, planConnect, planListen, unixAddr } from "../../core/options.ts";
import { type Opened, type SocketSink, StreamSocket, type Transport } from "../../core/socket.ts";
import type { Addr, ConnectAddress, ConnectOptions, Listener, ListenOptions, Socket, SocketInfo } from "../../core/types.ts";
import { context } from "./context.ts";

function addrOf(sock: net.Socket, side: "local" | "remote", unixPath: string | null): Addr {
  if (unixPath !== null) return unixAddr(unixPath);
  const host = side === "local" ? sock.localAddress : sock.remoteAddress;
  const port = side === "local" ? sock.localPort : sock.remotePort;
  return netAddr("tcp", host ?? "", port ?? 0);
}

/** Wires a connected node:net socket to the core socket's sink and returns its Transport. */
export function nodeTransport(sock: net.Socket, sink: SocketSink): Transport {
  sock.on("data", (chunk: Uint8Array) => sink.data(chunk));
  sock.on("end", () => sink.end());
  sock.on("error", (err) => sink.error(err));
  sock.on("close", () => sink.closed());
  let drain: Promise<void> | null = null;
  const whenDrained = (): Promise<void> =>
    (drain ??= new Promise<void>((resolve, reject) => {
      const done = (err?: unknown): void => {
        sock.off("drain", onDrain);
        sock.off("close", onClose);
        drain = null;
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(sock.errored ?? new SocketError("EPIPE", "the connection closed before the write was taken"));
      sock.on("drain", onDrain);
      sock.on("close", onClose);
    }));
  return {
    write: (data) => (sock.write(data) ? undefined : whenDrained()),
    closeWrite: () =>
      new Promise<void>((resolve) => {
        if (sock.writableFinished || sock.destroyed) return resolve();
        sock.end(() => resolve());
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (sock.closed) return resolve();
        sock.once("close", () => resolve());
        if (sock.writableFinished || !sock.writable) sock.destroy();
        else sock.end(() => sock.destroy());
      }),
    reset: () => void sock.resetAndDestroy(),
    pause: () => void sock.pause(),
    resume: () => void sock.resume(),
    setNoDelay: (on) => void sock.setNoDelay(on),
    setKeepAlive: (on, delayMs) => void sock.setKeepAlive(on, delayMs),
    ref: () => void sock.ref(),
    unref: () => void sock.unref(),
  };
}

function infoOf(sock: net.Socket, localPath: string | null, remotePath: string | null): SocketInfo {
  return {
    localAddress: addrOf(sock, "local", localPath),
    remoteAddress: addrOf(sock, "remote", remotePath),
    alpn: null,
  };
}

export function connect(address: ConnectAddress, options?: ConnectOptions): Socket {
  const plan = planConnect(context, address, options);
  const { target } = plan;
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
          reject(err);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        sock.once("error", onError);
        sock.once("connect", () => {
          signal?.removeEventListener("abort", onAbort);
          sock.off("error", onError);
          const transport = nodeTransport(sock, sink);
          resolve({ transport, info: infoOf(sock, target.kind === "unix" ? "" : null, target.kind === "unix" ? target.path : null) });
        });
      }),
    plan,
  );
}

export async function listen(options?: ListenOptions): Promise<Listener> {
  const plan = planListen(context, options);
  const { target } = plan;
  const server = net.createServer({ allowHalfOpen: true, noDelay: plan.noDelay });
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
  }).catch((err: unknown) => {
    throw toSocketError(err, context.errors, { syscall: "listen", ...listenContext(target) }, "EADDRINUSE");
  });
  const bound = server.address();
  const addr: Addr =
    target.kind === "unix" || typeof bound === "string" || bound === null
      ? unixAddr(target.kind === "unix" ? target.path : String(bound))
      : netAddr("tcp", bound.address, bound.port);
  const localPath = target.kind === "unix" ? target.path : null;
  const listener = new StreamListener(
    {
      addr,
      // server.close()'s callback waits for every connection to end; the listening socket itself
      // (and a Unix socket file) is released at once, which is what Listener.close() promises.
      close: () =>
        new Promise<void>((resolve) => {
          server.close();
          setImmediate(resolve);
        }),
      ref: () => void server.ref(),
      unref: () => void server.unref(),
    },
    plan.signal,
  );
  server.on("connection", (sock: net.Socket) => {
    listener.deliver(
      new StreamSocket(
        context,
        (sink) => Promise.resolve({ transport: nodeTransport(sock, sink), info: infoOf(sock, localPath, localPath === null ? null : "") }),
        { allowHalfOpen: plan.allowHalfOpen },
      ),
    );
  });
  return listener;
}
