/*
 * TLS on Deno. Two engines, chosen per connection by what the contract asks for:
 *
 * - Deno's own TLS (rustls): `Deno.startTls` over a connection from `Deno.connect` for a client,
 *   `Deno.listenTls` for a server. The fast path, used whenever it does exactly what the contract
 *   says: a TCP connection whose certificate is checked, no client certificate, no read in flight.
 * - Deno's `node:tls`, run over the same Deno connection (a Duplex over our DenoTransport), for
 *   what Deno's namespace cannot do: `rejectUnauthorized: false` (Deno offers only the process-wide
 *   --unsafely-ignore-certificate-errors flag and `unsafelyDisableHostnameVerification`, which
 *   still checks the chain), client certificates (Deno.startTls takes none, and Deno.connectTls
 *   gives a connection without setNoDelay), `requestCert` (Deno.listenTls builds its rustls
 *   ServerConfig `with_no_client_auth()`), TLS over a Unix socket (Deno's TLS is TCP only),
 *   the server's side of STARTTLS (Deno.startTls is the client's side only), and a STARTTLS
 *   upgrade while a read is in flight (Deno.startTls then fails with Busy, "TCP stream is
 *   currently in use", and the connection is gone: it was taken from the resource table first).
 *
 * Deno's TLS quirks absorbed here:
 * - `connectTls`/`startTls` resolve before the handshake: `handshake()` is awaited before
 *   `opened`, so a bad certificate rejects `opened` (ERR_TLS_CERT), never the first read.
 * - A TLS connection has no setNoDelay/setKeepAlive: Deno.connect's socket gets them before the
 *   upgrade (they stay on the socket); an accepted Deno.listenTls connection keeps the kernel's
 *   defaults (Nagle on).
 * - `caCerts` are trusted in addition to Deno's root store (Mozilla's roots, DENO_CERT,
 *   DENO_TLS_CA_STORE), not instead of it as `tls.ca` says: see `nativeClient`.
 * - A Deno.listenTls connection has no setNoDelay, and with Nagle on a reply written in two parts
 *   waits for the client's delayed ACK (44 ms a round trip instead of 0.4 ms on loopback): a TLS
 *   listener uses Deno.listenTls only when asked for noDelay: false, else node:tls (stream.ts).
 * - Deno's node:tls loses the peer's EOF when its TLSSocket is paused and resumed (`end` never
 *   comes: seen with 10 MiB and a FIN, over node:net and over a Duplex alike); pausing the Deno
 *   reads under it loses nothing. So flow control pauses the Deno connection, never the TLSSocket.
 * - Over a JS stream, Deno's node:tls server closes a refused handshake without sending its alert:
 *   a client refused for lacking a certificate sees the connection cut (ECONNRESET), not
 *   ERR_TLS_CERT. (A listening node:tls server does send it, but see the EOF loss above.)
 * - Closing a TLS connection always sends close_notify first (rustls-tokio-stream's drop runs a
 *   linger task), and Deno cannot send RST at all: `reset()` of a Deno TLS connection looks like
 *   a clean close to the peer.
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { type ErrorTable, SocketError, tlsHandshakeError } from "../../core/errors.ts";
import type { Opened, SocketSink, Transport } from "../../core/socket.ts";
import type { SocketInfo, TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import { ipFamily } from "../../core/validate.ts";
import { clientTlsError, drainWaiter } from "../_node_streams.ts";
import type { DenoTlsConn } from "./_deno.ts";

/** The TLS capabilities of this adapter (see Capabilities and the engines above). */
export const tlsCapabilities = {
  tls: true,
  startTls: true,
  serverStartTls: true,
  mutualTls: true,
  alpn: true,
} as const;

/** A server's handshake must end within this (Node's default handshakeTimeout): a silent client holds nothing for ever. */
export const HANDSHAKE_TIMEOUT_MS = 120_000;

/** The Deno connection under a node:tls socket: our DenoTransport, whose reads can be sent to another sink. */
export interface RawTransport extends Transport {
  /** From now on, everything read goes to `sink`, read continuously (no longer on demand). */
  redirect(sink: SocketSink): void;
  /** Stops (true) or restarts reading for the TLS engine's own backpressure; `pause()` stays the core's. */
  hold(on: boolean): void;
}

/** The checked options hold `ca` as an array already; the type allows one string. */
function caList(ca: string | string[] | undefined): string[] | undefined {
  return ca === undefined ? undefined : Array.isArray(ca) ? ca : [ca];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function unusable(what: string, err: unknown): SocketError {
  return new SocketError("EINVAL", `the TLS ${what} cannot be used: ${(err as Error).message ?? String(err)}`, { cause: err });
}

/**
 * Parses certificates and keys now, so a bad one is EINVAL before anything is connected: neither
 * Deno.startTls (it reads `caCerts` only when connecting) nor Deno's node:tls (createSecureContext
 * takes anything) says so early.
 */
export function checkTlsMaterial(options: { ca?: string | string[]; cert?: string; key?: string }): void {
  for (const pem of caList(options.ca) ?? []) {
    const blocks = pem.match(PEM_CERT) ?? [];
    if (blocks.length === 0) throw unusable("CA", new Error("no certificate in the PEM"));
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch (err) {
        throw unusable("CA", err);
      }
    }
  }
  if (options.cert === undefined || options.key === undefined) return;
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(options.cert);
  } catch (err) {
    throw unusable("certificate", err);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(options.key);
  } catch (err) {
    throw unusable("key", err);
  }
  if (!leaf.checkPrivateKey(key)) throw unusable("key", new Error("the key does not belong to the certificate"));
}

/**
 * Whether Deno's own TLS can make this client handshake as the contract says. Not with
 * `rejectUnauthorized: false` (Deno has no per-connection opt-out), nor with a client certificate
 * (Deno.startTls takes none). `tls.ca` goes to `caCerts`, which Deno adds to its root store rather
 * than using alone: the one difference left (documented). Add `options.ca === undefined` here to
 * send every connection with its own CAs through node:tls instead, where `ca` replaces the roots.
 */
export function nativeClient(options: TlsClientOptions): boolean {
  return options.rejectUnauthorized !== false && options.cert === undefined && options.serverName !== undefined;
}

/** Deno.startTls's options for checked client options (`nativeClient` true). */
export function startTlsOptions(options: TlsClientOptions): { hostname: string; caCerts?: string[]; alpnProtocols?: string[] } {
  return {
    hostname: options.serverName!,
    ...(options.ca ? { caCerts: caList(options.ca) } : {}),
    ...(options.alpn ? { alpnProtocols: options.alpn } : {}),
  };
}

const closedBeforeHandshake = (): SocketError =>
  new SocketError("ERR_TLS_HANDSHAKE", "the connection was closed before the TLS handshake");

function signalled(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (signal === undefined) return () => {};
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/**
 * Runs the handshake of a Deno TLS connection to its end (certificate check included), under
 * `signal` and, for a server, a time limit. Resolves with the ALPN protocol; on failure the
 * connection is closed and the error is ERR_TLS_CERT / ERR_TLS_HANDSHAKE (or the signal's reason).
 */
export async function nativeHandshake(
  conn: DenoTlsConn,
  errors: ErrorTable,
  signal: AbortSignal | undefined,
  timeoutMs = 0,
): Promise<string | null> {
  let timedOut = false;
  const close = (): void => {
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), close()), timeoutMs) : undefined;
  const unlisten = signalled(signal, close);
  try {
    if (signal?.aborted) throw signal.reason;
    const { alpnProtocol } = await conn.handshake();
    return alpnProtocol ?? null;
  } catch (err) {
    close();
    if (signal?.aborted) throw signal.reason;
    if (timedOut) throw new SocketError("ERR_TLS_HANDSHAKE", "the TLS handshake did not finish in time", { cause: err });
    throw tlsHandshakeError(err, errors);
  } finally {
    clearTimeout(timer);
    unlisten();
  }
}

/** Errors of node:tls sockets (codes like ERR_SSL_*): a TLS failure is a TLS error, with its cause. */
function nodeTlsError(err: unknown, errors: ErrorTable): unknown {
  if (err instanceof SocketError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_"))) return tlsHandshakeError(err, errors);
  return err;
}

/**
 * A Duplex over the Deno connection, for node:tls to run on: what the connection reads is pushed
 * (a read already in flight included: nothing is lost or read twice), backpressure pauses the
 * pump, writes keep their order in the transport's queue. Destroying it closes the connection.
 */
function duplexOver(raw: RawTransport): Duplex {
  const duplex: Duplex = new Duplex({
    allowHalfOpen: true,
    read: () => raw.hold(false),
    write: (chunk: Uint8Array, _encoding, callback) => {
      let p: Promise<void> | undefined;
      try {
        p = raw.write(chunk);
      } catch (err) {
        return callback(err as Error);
      }
      if (p === undefined) callback();
      else p.then(() => callback(), callback);
    },
    final: (callback) => void raw.closeWrite().then(() => callback(), callback),
    destroy: (err, callback) => {
      void raw.close();
      callback(err);
    },
  });
  raw.redirect({
    data: (chunk) => {
      if (!duplex.push(chunk)) raw.hold(true);
    },
    end: () => void duplex.push(null),
    error: (err) => void duplex.destroy(err as Error),
    closed: () => void (duplex.destroyed || duplex.destroy()),
  });
  return duplex;
}

/** The TLS part of SocketInfo for a node:tls socket. */
export function nodeTlsInfo(sock: tls.TLSSocket, side: "client" | "server", requestCert = false): Pick<SocketInfo, "alpn" | "authorized"> {
  const alpn = typeof sock.alpnProtocol === "string" && sock.alpnProtocol !== "" ? sock.alpnProtocol : null;
  if (side === "server" && !requestCert) return { alpn };
  return { alpn, authorized: sock.authorized };
}

/**
 * The client's handshake with node:tls over `raw`. Resolves once the certificate is checked (or,
 * with rejectUnauthorized: false, accepted unchecked); on failure the connection is closed.
 */
export function nodeTlsClient(
  raw: RawTransport,
  options: TlsClientOptions,
  errors: ErrorTable,
  signal: AbortSignal | undefined,
): Promise<tls.TLSSocket> {
  const name = options.serverName;
  const connectOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    socket: duplexOver(raw),
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    ALPNProtocols: options.alpn,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    // SNI is never an IP literal (RFC 6066); the name is checked explicitly either way.
    ...(name !== undefined && ipFamily(name) === null ? { servername: name } : {}),
    checkServerIdentity: (_host, cert) => (name === undefined ? undefined : tls.checkServerIdentity(name, cert)),
    // The core decides what a FIN means (TLSSocket takes this from its options, untyped).
    allowHalfOpen: true,
  };
  const sock = tls.connect(connectOptions);
  return settleHandshake(sock, "secureConnect", errors, signal);
}

/**
 * The server's handshake with node:tls over `raw`: a tls.Server of its own, never listening, is
 * handed the connection (only tls.Server checks a client's certificate). Resolves once the client
 * is accepted.
 */
export function nodeTlsServer(
  raw: RawTransport,
  options: TlsServerOptions,
  errors: ErrorTable,
  signal: AbortSignal | undefined,
): Promise<tls.TLSSocket> {
  const requestCert = options.requestCert ?? false;
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    ca: options.ca,
    ALPNProtocols: options.alpn,
    requestCert,
    // The contract's requestCert: refuse a client without a valid certificate.
    rejectUnauthorized: requestCert,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    // Half-open only once secure (as on Node: a FIN mid-handshake must fail it, not wait).
    allowHalfOpen: false,
  });
  const duplex = duplexOver(raw);
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    let done = false;
    const settle = (f: () => void): void => {
      if (done) return;
      done = true;
      server.removeAllListeners();
      unlisten();
      f();
    };
    const unlisten = signalled(signal, () =>
      settle(() => {
        duplex.destroy();
        reject(signal!.reason);
      }),
    );
    if (signal?.aborted) {
      settle(() => {
        duplex.destroy();
        reject(signal.reason);
      });
      return;
    }
    server.on("secureConnection", (sock: tls.TLSSocket) =>
      settle(() => {
        sock.allowHalfOpen = true;
        resolve(sock);
      }),
    );
    server.on("tlsClientError", (err: Error, sock: tls.TLSSocket) =>
      settle(() => {
        const error = clientTlsError(err, sock, errors);
        sock.destroy();
        duplex.destroy();
        reject(error);
      }),
    );
    server.emit("connection", duplex);
  });
}

function settleHandshake(sock: tls.TLSSocket, secureEvent: string, errors: ErrorTable, signal: AbortSignal | undefined): Promise<tls.TLSSocket> {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
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
    const onClose = (): void => fail(new SocketError("ERR_TLS_HANDSHAKE", "the peer closed the connection during the TLS handshake"));
    const unlisten = signalled(signal, () => fail(signal!.reason));
    if (signal?.aborted) return fail(signal.reason);
    sock.on("error", onError);
    sock.once("close", onClose);
    sock.once(secureEvent, () => settle(() => resolve(sock)));
  });
}

/**
 * The Transport of a node:tls socket running over the Deno connection `raw`. Flow control, socket
 * options and ref/unref go to the Deno connection; a reset closes it at once, without close_notify.
 */
export function nodeTlsTransport(sock: tls.TLSSocket, raw: RawTransport, sink: SocketSink, errors: ErrorTable): Transport {
  sock.on("data", (chunk: Uint8Array) => sink.data(chunk));
  sock.on("end", () => sink.end());
  sock.on("error", (err: Error) => sink.error(nodeTlsError(err, errors)));
  sock.on("close", () => sink.closed());
  const whenDrained = drainWaiter(sock);
  // TLSSocket.end() sends close_notify but leaves the connection under it open: the FIN is ours.
  const end = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (sock.writableFinished || sock.destroyed) return resolve();
      sock.end(() => resolve());
    }).then(() => raw.closeWrite());
  return {
    // As on Node: a TLSSocket keeps a chunk it has not encrypted yet even when write() returns
    // true, but the caller may reuse its buffer once write() resolves: a small chunk is copied; a
    // larger one waits for 'drain', which comes once every chunk held is done with.
    write: (data) => (sock.write(data.byteLength < sock.writableHighWaterMark ? Buffer.from(data) : data) ? undefined : whenDrained()),
    closeWrite: end,
    close: () =>
      new Promise<void>((resolve) => {
        if (sock.closed) return resolve();
        sock.once("close", () => resolve());
        if (sock.destroyed || !sock.writable) sock.destroy();
        else
          end().then(
            () => sock.destroy(),
            () => sock.destroy(),
          );
      }),
    reset: () => {
      raw.reset();
      sock.destroy();
    },
    // Not sock.pause(): Deno's TLSSocket then loses the peer's EOF (see the top of this file).
    pause: () => raw.pause(),
    resume: () => raw.resume(),
    setNoDelay: (on) => raw.setNoDelay(on),
    setKeepAlive: (on, delayMs) => raw.setKeepAlive(on, delayMs),
    ref: () => raw.ref(),
    unref: () => raw.unref(),
  };
}

/** The Opened of a node:tls upgrade of `raw` (client or server side), for a socket reporting to `sink`. */
export function openedOverNodeTls(
  sock: tls.TLSSocket,
  raw: RawTransport,
  sink: SocketSink,
  errors: ErrorTable,
  base: SocketInfo,
  tlsPart: Pick<SocketInfo, "alpn" | "authorized">,
): Opened {
  return { transport: nodeTlsTransport(sock, raw, sink, errors), info: { ...base, ...tlsPart } };
}

export { closedBeforeHandshake };
