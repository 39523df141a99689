/*
 * TLS on Deno: Deno's `node:tls`, run over a Deno connection (a Duplex over our DenoTransport),
 * for every client, every listener and STARTTLS on both sides. Deno's own TLS (rustls through
 * rustls-tokio-stream) is not used, because of what it does with descriptors:
 * - Closing a client's TLS 1.3 connection (Deno.connectTls, Deno.startTls) hands the socket to a
 *   blocking thread that sleeps 100 ms before closing it (nonblocking_tcp_drop): close() resolves
 *   with the descriptor open, and a loop of connects holds hundreds (2,000 cycles: +500
 *   descriptors, normal again 2 s later; under ulimit -n 1024, connects then fail).
 * - A Deno.listenTls connection still in its handshake cannot be closed: its close() waits for the
 *   handshake task, so a client that sends half a ClientHello holds a descriptor for good.
 * Over a Deno connection, closing is `conn.close()`, at once. node:tls also does what Deno's own
 * TLS cannot: `rejectUnauthorized: false` per connection, client certificates and `requestCert`,
 * TLS over a Unix socket, the server's side of STARTTLS, `tls.ca` replacing the roots (Deno's
 * `caCerts` add to them), a STARTTLS upgrade with a read in flight, and noDelay on accepted
 * connections (Deno.listenTls's have no setNoDelay: 44 ms per round trip with Nagle on).
 *
 * Deno's node:tls quirks absorbed here:
 * - It loses the peer's EOF when its TLSSocket is paused and resumed (`end` never comes: seen
 *   with 10 MiB and a FIN, over node:net and over a Duplex alike); pausing the Deno reads under
 *   it loses nothing. So flow control pauses the Deno connection, never the TLSSocket.
 * - Over a JS stream, it writes a failed handshake's fatal alert (no_application_protocol, a
 *   refused client certificate, an untrusted server) only after it has destroyed the stream, so
 *   the alert was lost and the peer saw the connection cut: duplexOver delays the destroy.
 * - Over a JS stream, its server never notices a FIN mid-handshake: nodeTlsServer watches for it.
 * - Deno cannot send RST at all: `reset()` closes the Deno connection at once (no close_notify),
 *   which the peer sees as a FIN.
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { type ErrorTable, SocketError, tlsHandshakeError } from "../../core/errors.ts";
import { ALL_TLS_CAPABILITIES } from "../../core/tls.ts";
import type { Opened, SocketSink, Transport } from "../../core/transport.ts";
import type { SocketInfo, TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import { clientTlsError, drainWaiter } from "../_node/streams.ts";
import { closedBeforeHandshake, serverIdentity, serverTlsOptions, settleHandshake, signalled } from "../_node/tls.ts";

/** The TLS capabilities of this adapter (see the engines above): all of them. */
export const tlsCapabilities: typeof ALL_TLS_CAPABILITIES = ALL_TLS_CAPABILITIES;

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
  return new SocketError("EINVAL", `the TLS ${what} cannot be used: ${(err as Error).message ?? String(err)}`, {
    cause: err,
  });
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

/** A write that failed because the peer has closed its end entirely. */
function isGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "EPIPE" || code === "ECONNRESET";
}

/** Errors of node:tls sockets (codes like ERR_SSL_*): a TLS failure is a TLS error, with its cause. */
function nodeTlsError(err: unknown, errors: ErrorTable): unknown {
  if (err instanceof SocketError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")))
    return tlsHandshakeError(err, errors);
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
  // Deno's node:tls over a JS stream queues its last records (a handshake's fatal alert: no
  // application protocol, a refused client certificate) for a microtask that writes them, but
  // destroys this stream first, in the same call: they were never sent. A destroy waits for the
  // next macrotask, so they go out before the connection closes.
  const destroyNow = duplex.destroy.bind(duplex);
  duplex.destroy = (err?: Error) => {
    setImmediate(() => destroyNow(err));
    return duplex;
  };
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
  const connectOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    socket: duplexOver(raw),
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    ALPNProtocols: options.alpn,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    ...serverIdentity(options.serverName),
    // The core decides what a FIN means (TLSSocket takes this from its options, untyped).
    allowHalfOpen: true,
  };
  const sock = tls.connect(connectOptions);
  return settleHandshake(sock, "secureConnect", errors, signal, (secure) => secure);
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
  // Half-open only once secure (as on Node: a FIN mid-handshake must fail it, not wait).
  const server = tls.createServer(serverTlsOptions(options));
  const duplex = duplexOver(raw);
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    let done = false;
    const settle = (f: () => void): void => {
      if (done) return;
      done = true;
      server.removeAllListeners();
      duplex.off("end", onEnd);
      unlisten();
      f();
    };
    const fail = (err: unknown): void =>
      settle(() => {
        duplex.destroy();
        reject(err);
      });
    // Deno's TLSSocket over a Duplex never notices a FIN mid-handshake (it would wait for ever).
    const onEnd = (): void => fail(closedBeforeHandshake());
    duplex.once("end", onEnd);
    const unlisten = signalled(signal, () => fail(signal!.reason));
    if (signal?.aborted) return fail(signal.reason);
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

/**
 * The Transport of a node:tls socket running over the Deno connection `raw`. Flow control, socket
 * options and ref/unref go to the Deno connection; a reset closes it at once, without close_notify.
 */
export function nodeTlsTransport(
  sock: tls.TLSSocket,
  raw: RawTransport,
  sink: SocketSink,
  errors: ErrorTable,
): Transport {
  let peerEnded = false;
  let closing = false;
  sock.on("data", (chunk: Uint8Array) => sink.data(chunk));
  sock.on("end", () => {
    peerEnded = true;
    sink.end();
  });
  sock.on("error", (err: Error) => {
    // Both sides are done: our close_notify met the peer's full close (a reset, if it closed with
    // our last records unread). The peer's EOF was delivered and only the close_notify was lost.
    if (peerEnded && closing && isGone(err)) return;
    sink.error(nodeTlsError(err, errors));
  });
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
    write: (data) =>
      sock.write(data.byteLength < sock.writableHighWaterMark ? Buffer.from(data) : data) ? undefined : whenDrained(),
    closeWrite: end,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
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
