/*
 * STARTTLS on Deno, both sides: node:tls over the plaintext Deno connection (never Deno.startTls:
 * see tls.ts; it has no server side). The connection's transport hands the read in flight, with its
 * bytes, to the handshake (transport.ts). If the upgrade fails, the connection is dropped: the old
 * socket is done, nobody owns it.
 */
import type { Opened, SocketSink } from "../../core/transport.ts";
import type { SocketInfo, TlsClientOptions, TlsServerOptions } from "../../core/types.ts";
import { context } from "./context.ts";
import { closedBeforeHandshake, tlsInfo } from "../_node/tls.ts";
import { checkTlsMaterial, nodeTlsClient, nodeTlsServer, openedOverNodeTls, type RawTransport } from "./tls.ts";

async function upgrade(raw: RawTransport, handshake: () => Promise<Opened>): Promise<Opened> {
  try {
    return await handshake();
  } catch (err) {
    raw.reset();
    throw err;
  }
}

/** Client STARTTLS over `raw` (`released`: its connection is already closed; `info`: its addresses). */
export function startTlsClient(
  raw: RawTransport,
  released: boolean,
  info: SocketInfo,
  options: TlsClientOptions,
  sink: SocketSink,
  signal: AbortSignal | undefined,
): Promise<Opened> {
  return upgrade(raw, async () => {
    if (signal?.aborted) throw signal.reason;
    if (released) throw closedBeforeHandshake();
    checkTlsMaterial(options);
    const sock = await nodeTlsClient(raw, options, context.errors, signal);
    return openedOverNodeTls(sock, raw, sink, context.errors, info, tlsInfo(sock, "client"));
  });
}

/** Server STARTTLS over `raw`: Deno.startTls has no server side. */
export function startTlsServer(
  raw: RawTransport,
  released: boolean,
  info: SocketInfo,
  options: TlsServerOptions,
  sink: SocketSink,
  signal: AbortSignal | undefined,
): Promise<Opened> {
  return upgrade(raw, async () => {
    if (released) throw closedBeforeHandshake();
    checkTlsMaterial(options);
    const sock = await nodeTlsServer(raw, options, context.errors, signal);
    return openedOverNodeTls(
      sock,
      raw,
      sink,
      context.errors,
      info,
      tlsInfo(sock, "server", options.requestCert ?? false),
    );
  });
}
