/**
 * node:tls pieces shared by Node's adapter and Deno's (whose TLS runs on Deno's node:tls over its
 * own connection): one mapping of the contract's options to node:tls, one SocketInfo.
 */
import type tls from "node:tls";
import { checkServerIdentity } from "node:tls";
import { type ErrorTable, SocketError, tlsHandshakeError } from "../../core/errors.ts";
import type { SocketInfo, TlsServerOptions } from "../../core/types.ts";
import { ipFamily } from "../../core/validate.ts";

/**
 * The codes of a node:tls socket and the stream under it, and what they mean in the contract: in
 * Node's table, and in Deno's, whose TLS runs on Deno's node:tls.
 */
export const nodeTlsErrors: ErrorTable = {
  ERR_STREAM_DESTROYED: "ECLOSED",
  ERR_SOCKET_CLOSED: "ECLOSED",
  ERR_STREAM_WRITE_AFTER_END: "EPIPE",
  ERR_STREAM_PREMATURE_CLOSE: "ECONNRESET",
  ERR_SSL_WRONG_VERSION_NUMBER: "ERR_TLS_HANDSHAKE",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: "ERR_TLS_HANDSHAKE",
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: "ERR_TLS_HANDSHAKE",
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: "ERR_TLS_HANDSHAKE",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "ERR_TLS_CERT",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "ERR_TLS_CERT",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: "ERR_TLS_CERT",
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "ERR_TLS_CERT",
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: "ERR_TLS_CERT",
  ERR_TLS_HANDSHAKE_TIMEOUT: "ERR_TLS_HANDSHAKE",
  ECONNRESET_TLS: "ERR_TLS_HANDSHAKE",
};

/** The TLS part of a connection's SocketInfo. */
export function tlsInfo(
  sock: tls.TLSSocket,
  side: "client" | "server",
  requestCert = false,
): Pick<SocketInfo, "alpn" | "authorized"> {
  const alpn = typeof sock.alpnProtocol === "string" && sock.alpnProtocol !== "" ? sock.alpnProtocol : null;
  // A server that asked for no certificate has nothing to say about the client.
  if (side === "server" && !requestCert) return { alpn };
  return { alpn, authorized: sock.authorized };
}

export const closedBeforeHandshake = (): SocketError =>
  new SocketError("ERR_TLS_HANDSHAKE", "the connection was closed before the TLS handshake");

/**
 * How a client names the server: SNI only for a host name (never an IP literal, RFC 6066), and the
 * certificate checked against `serverName` explicitly (with no servername Node would check
 * "localhost"); none with rejectUnauthorized: false and no name.
 */
export function serverIdentity(
  name: string | undefined,
): Pick<tls.ConnectionOptions, "servername" | "checkServerIdentity"> {
  return {
    ...(name !== undefined && ipFamily(name) === null ? { servername: name } : {}),
    checkServerIdentity: (_host, cert) => (name === undefined ? undefined : checkServerIdentity(name, cert)),
  };
}

/**
 * tls.createServer options for checked server options. Not half-open during the handshake: a
 * half-open TLSSocket whose client sends FIN mid-handshake waits instead of failing; the adapters
 * make accepted sockets half-open once secure.
 */
export function serverTlsOptions(options: TlsServerOptions): tls.TlsOptions & { allowHalfOpen: boolean } {
  const requestCert = options.requestCert ?? false;
  return {
    cert: options.cert,
    key: options.key,
    ca: options.ca,
    ALPNProtocols: options.alpn,
    requestCert,
    // The contract's requestCert: refuse a client without a valid certificate.
    rejectUnauthorized: requestCert,
    allowHalfOpen: false,
  };
}

/** Calls `onAbort` when `signal` aborts; returns the function that stops listening. */
export function signalled(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (signal === undefined) return () => {};
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/**
 * Waits for `sock`'s handshake: resolves with `onSecure(sock)`, called in the tick `secureEvent`
 * comes (no event can go unheard), or rejects with the handshake's error, a close during it, or
 * `signal`'s reason; on failure the socket is destroyed.
 */
export function settleHandshake<T>(
  sock: tls.TLSSocket,
  secureEvent: string,
  errors: ErrorTable,
  signal: AbortSignal | undefined,
  onSecure: (sock: tls.TLSSocket) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const settle = (f: () => void): void => {
      if (done) return;
      done = true;
      sock.off("error", onError);
      sock.off("close", onClose);
      unlisten();
      f();
    };
    const fail = (err: unknown): void =>
      settle(() => {
        sock.destroy();
        reject(err);
      });
    const onError = (err: Error): void => fail(tlsHandshakeError(err, errors));
    const onClose = (): void =>
      fail(new SocketError("ERR_TLS_HANDSHAKE", "the peer closed the connection during the TLS handshake"));
    const unlisten = signalled(signal, () => fail(signal!.reason));
    if (signal?.aborted) return fail(signal.reason);
    sock.on("error", onError);
    sock.once("close", onClose);
    sock.once(secureEvent, () =>
      settle(() => {
        try {
          resolve(onSecure(sock));
        } catch (err) {
          sock.destroy();
          reject(err);
        }
      }),
    );
  });
}
