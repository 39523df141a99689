/*
 * STARTTLS on Node: a plaintext connection handed to a TLS handshake over the same node:net
 * socket, as the client (`tls.connect({ socket })`, as tls.ts does for "on") or as the server
 * (`startTls({ server })`: a tls.Server of its own, because only tls.Server checks a client
 * certificate). The plaintext written before the upgrade leaves first; a failed handshake drops
 * the connection, which nobody owns any more.
 */
import type net from "node:net";
import tls from "node:tls";
import { type ErrorTable, SocketError } from "../../core/errors.ts";
import type { Opened, SocketSink } from "../../core/transport.ts";
import type { SocketInfo, TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import { clientTlsError } from "../_node/streams.ts";
import { closedBeforeHandshake, tlsInfo } from "../_node/tls.ts";
import { context } from "./context.ts";
import { afterHandshake, clientTlsOptions, createTlsServer, secureClient } from "./tls.ts";

/** The plaintext connection an upgrade takes, as its NodeTransport lends it. */
export interface Plaintext {
  readonly sock: net.Socket;
  /** Hands what the Outbox holds to Node: a promise when a drain is left to wait for, else null. */
  flush(): Promise<void> | null;
  /** This socket's events now belong to the TLS socket wrapping it. */
  detach(): void;
  /** The upgraded connection: `tlsSock` reporting to `sink`, with the handshake's part of the SocketInfo. */
  opened(tlsSock: tls.TLSSocket, sink: SocketSink, info: Pick<SocketInfo, "alpn" | "authorized">): Opened;
}

/** `startTls()`: the client's handshake over the plaintext connection. */
export function upgradeClient(
  from: Plaintext,
  options: TlsClientOptions,
  sink: SocketSink,
  signal: AbortSignal | undefined,
): Promise<Opened> {
  return upgrade(from, () =>
    secureClient(from.sock, clientTlsOptions(options), context.errors, signal, (t) =>
      from.opened(t, sink, tlsInfo(t, "client")),
    ),
  );
}

/** `startTls({ server })`: the server's handshake over the plaintext connection. */
export function upgradeServer(
  from: Plaintext,
  options: TlsServerOptions,
  sink: SocketSink,
  signal: AbortSignal | undefined,
): Promise<Opened> {
  const requestCert = options.requestCert ?? false;
  return upgrade(from, () =>
    secureServer(from.sock, options, context.errors, signal, (t) =>
      from.opened(t, sink, tlsInfo(t, "server", requestCert)),
    ),
  );
}

/**
 * Hands the connection to a TLS handshake; if that fails the connection is dropped: nobody owns
 * it. What the Outbox holds goes to Node first (Node takes it at once: only a drain can be left
 * to wait for), so the plaintext leaves before the handshake.
 */
async function upgrade(from: Plaintext, handshake: () => Promise<Opened>): Promise<Opened> {
  if (from.sock instanceof tls.TLSSocket) throw new SocketError("EINVAL", "this connection is TLS already");
  const flushed = from.flush();
  if (flushed !== null) await flushed;
  from.detach();
  try {
    return await handshake();
  } catch (err) {
    from.sock.destroy();
    throw err;
  }
}

/**
 * The server's handshake on an accepted TCP socket (`startTls({ server })`): a tls.Server of its
 * own, never listening, is handed the socket, so its events are about this socket only. Resolves
 * with `onSecure(tlsSocket)` (same tick) once the client is accepted.
 */
function secureServer<T>(
  raw: net.Socket,
  options: TlsServerOptions,
  errors: ErrorTable,
  signal: AbortSignal | undefined,
  onSecure: (sock: tls.TLSSocket) => T,
): Promise<T> {
  if (raw.destroyed || !raw.readable) return Promise.reject(closedBeforeHandshake());
  const server = createTlsServer(options, true);
  // The TLSSocket takes allowHalfOpen from the socket it wraps (see createTlsServer).
  raw.allowHalfOpen = false;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const settle = (f: () => void): void => {
      if (done) return;
      done = true;
      server.removeAllListeners();
      signal?.removeEventListener("abort", onAbort);
      f();
    };
    const onAbort = (): void =>
      settle(() => {
        raw.destroy();
        reject(signal!.reason);
      });
    signal?.addEventListener("abort", onAbort, { once: true });
    // Both settle the handshake; tls.Server reports a close mid-handshake as tlsClientError too.
    server.on("secureConnection", (sock: tls.TLSSocket) =>
      settle(() => {
        try {
          resolve(onSecure(afterHandshake(sock)));
        } catch (err) {
          sock.destroy();
          reject(err);
        }
      }),
    );
    server.on("tlsClientError", (err: Error, sock: tls.TLSSocket) =>
      settle(() => {
        const error = clientTlsError(err, sock, errors);
        sock.destroy();
        reject(error);
      }),
    );
    server.emit("connection", raw);
  });
}
