/*
 * Deno's accept loop: Deno.listen's connections delivered as StreamSockets, with a backoff on a
 * passing failure, and node:tls's server handshake on each connection of a TLS listener.
 */
import type { PendingHandshakes } from "../../core/handshakes.ts";
import type { StreamListener } from "../../core/listener.ts";
import { type ListenPlan, unixAddr } from "../../core/options.ts";
import { StreamSocket } from "../../core/socket.ts";
import type { Opened, SocketSink } from "../../core/transport.ts";
import type { SocketInfo, TlsServerOptions } from "../../core/types.ts";
import type { DenoConn, DenoListener } from "./_deno.ts";
import { context, denoError } from "./context.ts";
import { tlsInfo } from "../_node/tls.ts";
import { nodeTlsServer, openedOverNodeTls } from "./tls.ts";
import { addrOf, DenoTransport, isClosedError, NO_SINK, opened } from "./transport.ts";

export async function acceptLoop(
  native: DenoListener,
  listener: StreamListener,
  plan: ListenPlan,
  closing: () => boolean,
  handshakes: PendingHandshakes | null,
): Promise<void> {
  let backoff = 0;
  for (;;) {
    let conn: DenoConn;
    try {
      conn = await native.accept();
      backoff = 0;
    } catch (err) {
      if (closing() || isClosedError(err)) return;
      // A passing failure (EMFILE, a connection aborted in the queue): wait a little and go on, as Go's net/http does.
      backoff = Math.min(backoff === 0 ? 5 : backoff * 2, 1000);
      await new Promise((resolve) => setTimeout(resolve, backoff));
      continue;
    }
    if (plan.tls !== undefined) void acceptNodeTls(conn, listener, plan, plan.tls, handshakes!);
    else listener.deliver(accepted(conn, plan));
  }
}

/** The addresses of an accepted connection. */
function acceptedInfo(conn: DenoConn, plan: ListenPlan): SocketInfo {
  return plan.target.kind === "unix"
    ? { localAddress: unixAddr(plan.target.path), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null }
    : { localAddress: addrOf(conn.localAddr, ""), remoteAddress: addrOf(conn.remoteAddr, ""), alpn: null };
}

/** A TLS socket that is already open: its handshake ran before it was delivered. */
function deliverOpened(listener: StreamListener, plan: ListenPlan, open: (sink: SocketSink) => Opened): void {
  listener.deliver(
    new StreamSocket(context, { now: open }, { allowHalfOpen: plan.allowHalfOpen, secureTransport: "on" }),
  );
}

/** A plain connection, then node:tls's server handshake over it; a client that fails is dropped, never delivered. */
async function acceptNodeTls(
  conn: DenoConn,
  listener: StreamListener,
  plan: ListenPlan,
  options: TlsServerOptions,
  handshakes: PendingHandshakes,
): Promise<void> {
  const tcp = plan.target.kind === "net";
  if (tcp) {
    try {
      conn.setNoDelay?.(plan.noDelay);
    } catch {
      conn.close();
      return;
    }
  }
  const info = acceptedInfo(conn, plan);
  const raw = new DenoTransport(conn, NO_SINK, { tcp, onDemand: true, info });
  const done = handshakes.add(() => raw.reset());
  let sock: Awaited<ReturnType<typeof nodeTlsServer>>;
  try {
    sock = await nodeTlsServer(raw, options, context.errors, undefined);
  } catch {
    raw.reset();
    return;
  } finally {
    done();
  }
  const tlsPart = tlsInfo(sock, "server", options.requestCert ?? false);
  deliverOpened(listener, plan, (sink) => openedOverNodeTls(sock, raw, sink, context.errors, info, tlsPart));
}

function accepted(conn: DenoConn, plan: ListenPlan): StreamSocket {
  const { target } = plan;
  const onDemand = plan.secureTransport === "starttls";
  return new StreamSocket(
    context,
    {
      now: (sink) => {
        if (target.kind === "unix") return opened(conn, sink, { tcp: false, onDemand, info: acceptedInfo(conn, plan) });
        try {
          conn.setNoDelay?.(plan.noDelay);
        } catch (err) {
          conn.close();
          throw denoError(err, { syscall: "setsockopt" });
        }
        return opened(conn, sink, { tcp: true, onDemand, info: acceptedInfo(conn, plan) });
      },
    },
    { allowHalfOpen: plan.allowHalfOpen, secureTransport: plan.secureTransport },
  );
}
