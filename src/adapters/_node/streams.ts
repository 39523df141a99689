/**
 * Pieces shared by the adapters that drive Node-style sockets: Node's own (node:net, node:tls)
 * and Deno's node:tls path, which runs over a Deno connection.
 */
import type { Duplex } from "node:stream";
import type tls from "node:tls";
import { type ErrorTable, SocketError, tlsHandshakeError } from "../../core/errors.ts";

/**
 * A write that returned false waits for 'drain'; one promise serves every waiting write, and a
 * close before it rejects with the error that closed the socket (or EPIPE).
 */
export function drainWaiter(sock: Duplex): () => Promise<void> {
  let drain: Promise<void> | null = null;
  return () =>
    (drain ??= new Promise<void>((resolve, reject) => {
      const done = (err?: unknown): void => {
        sock.off("drain", onDrain);
        sock.off("close", onClose);
        drain = null;
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void =>
        done(sock.errored ?? new SocketError("EPIPE", "the connection closed before the write was taken"));
      sock.on("drain", onDrain);
      sock.on("close", onClose);
    }));
}

/**
 * What a tls.Server's 'tlsClientError' means. A client certificate that fails the check is dropped
 * by Node after the handshake and reported as a hang-up: its reason is in authorizationError.
 */
export function clientTlsError(err: Error, sock: tls.TLSSocket, errors: ErrorTable): SocketError {
  const refused = sock.authorizationError as unknown;
  return refused
    ? new SocketError("ERR_TLS_CERT", `the client's certificate was refused: ${String(refused)}`, { cause: err })
    : tlsHandshakeError(err, errors);
}
