/* listen() on Deno: Deno.listen, its accept loop in accept.ts. */
import { SocketError, unsupported } from "../../core/errors.ts";
import { PendingHandshakes } from "../../core/handshakes.ts";
import { StreamListener } from "../../core/listener.ts";
import { type ListenPlan, listenContext, netAddr, planListen, unixAddr } from "../../core/options.ts";
import type { Addr, Listener, ListenOptions } from "../../core/types.ts";
import { deno, type DenoFileInfo, type DenoListener, type DenoNs } from "./_deno.ts";
import { acceptLoop } from "./accept.ts";
import { context, denoError } from "./context.ts";
import { checkTlsMaterial } from "./tls.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/** `listen` never takes over an existing path; Deno's bind would fail too, but a stale socket file must never be unlinked. */
async function refuseExisting(ns: DenoNs, path: string): Promise<void> {
  try {
    await ns.lstat(path);
  } catch (err) {
    if ((err as Error | null)?.name === "NotFound") return;
    throw denoError(err, { syscall: "lstat", address: path }, "EACCES");
  }
  throw new SocketError("EADDRINUSE", `${path} already exists; listen never removes an existing file`, {
    syscall: "listen",
    address: path,
  });
}

/** Deno 2.x unlinks a Unix listener's path when it closes; older versions left it, so check that it is gone. */
async function removeOwnFile(ns: DenoNs, path: string, own: DenoFileInfo): Promise<void> {
  try {
    const now = await ns.lstat(path);
    if (now.dev === own.dev && now.ino === own.ino) await ns.remove(path);
  } catch {
    // gone already
  }
}

function openListener(ns: DenoNs, plan: ListenPlan): DenoListener {
  const { target } = plan;
  if (target.kind === "unix") return ns.listen({ transport: "unix", path: target.path });
  return ns.listen({
    hostname: target.hostname,
    port: target.port,
    tcpBacklog: plan.backlog,
    // Only ever passed when --unstable-net is on (planListen checks capabilities.reusePort): without it Deno exits.
    ...(plan.reusePort ? { reusePort: true } : {}),
  });
}

/** planListen, with a message that says what to do when reusePort is asked for without --unstable-net. */
function planDenoListen(options: ListenOptions | undefined): ListenPlan {
  if ((options as { reusePort?: unknown } | null | undefined)?.reusePort === true && !context.capabilities.reusePort) {
    planListen(context, { ...options, reusePort: false }); // any other bad argument is reported first
    throw unsupported("reusePort without the --unstable-net flag", context.runtime);
  }
  return planListen(context, options);
}

/**
 * Listens for TCP, Unix or TLS connections with Deno's adapter (`Deno.listen` or `Deno.listenTls`).
 * Resolves once listening; `addr` has the port the system chose for port 0.
 *
 * @param options Where to listen (default `0.0.0.0`, an ephemeral port), or `path`; `tls` to serve TLS.
 *
 * @example An echo server
 * ```ts
 * import { listen } from "unisock/deno";
 * await using l = await listen({ hostname: "127.0.0.1", port: 7007 });
 * for await (const conn of l) conn.readable.pipeTo(conn.writable).catch(() => {});
 * ```
 */
export function listen(options?: ListenOptions): Promise<Listener> {
  return listenWith(deno, options);
}

/** listen() over the Deno namespace `ns` (the global `Deno`, or a test's). */
export async function listenWith(ns: DenoNs, options?: ListenOptions): Promise<Listener> {
  const plan = planDenoListen(options);
  if (plan.tls !== undefined) checkTlsMaterial(plan.tls);
  const { target } = plan;
  const where = { syscall: "listen", ...listenContext(target) };
  const abstract = target.kind === "unix" && target.path.startsWith("\0");
  if (target.kind === "unix") {
    // Deno.listen takes no backlog for Unix sockets (tokio's fixed 1024).
    if (options?.backlog !== undefined) throw unsupported("setting the backlog of a Unix socket", context.runtime);
    if (!abstract) await refuseExisting(ns, target.path);
  }
  // TLS listeners are Deno.listen and node:tls on each connection, never Deno.listenTls: a
  // connection of Deno.listenTls still in its handshake cannot be closed (its close() waits for
  // the handshake to end, so its descriptor stays for as long as the client is silent), nor can it
  // ask for client certificates or turn Nagle off (see tls.ts).
  let native: DenoListener;
  try {
    native = openListener(ns, plan);
  } catch (err) {
    throw denoError(err, where, "EADDRINUSE");
  }
  const own = target.kind === "unix" && !abstract ? await ns.lstat(target.path).catch(() => null) : null;
  let addr: Addr;
  if (target.kind === "unix") addr = unixAddr(target.path);
  else {
    const bound = native.addr;
    addr =
      bound.transport === "tcp"
        ? netAddr("tcp", bound.hostname, bound.port)
        : netAddr("tcp", target.hostname, target.port);
  }
  let closing = false;
  let accepting: Promise<void> = RESOLVED;
  /** TLS connections still in their handshake: not delivered yet, so closed with the listener. */
  const handshakes = plan.tls === undefined ? null : new PendingHandshakes(plan.tls);
  const listener = new StreamListener(
    {
      addr,
      close: async () => {
        if (!closing) {
          closing = true;
          try {
            native.close();
          } catch {
            // already closed
          }
        }
        await accepting;
        handshakes?.closeAll();
        if (own !== null && target.kind === "unix") await removeOwnFile(ns, target.path, own);
      },
      ref: () => native.ref(),
      unref: () => native.unref(),
    },
    plan.signal,
  );
  accepting = acceptLoop(native, listener, plan, () => closing, handshakes);
  return listener;
}
