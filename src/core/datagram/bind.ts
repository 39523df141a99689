import { toSocketError } from "../errors.ts";
import { raceSignal } from "../signal.ts";
import type { Bind, BindOptions, DatagramAddr, DatagramSocket, NetAddr, UnixAddr, UnixBindOptions } from "../types.ts";
import { checkBind } from "./checks.ts";
import { resolveBind } from "./resolve.ts";
import { UniDatagramSocket } from "./socket.ts";
import type { DatagramContext, DatagramOpener, DatagramTransport } from "./transport.ts";

/**
 * `bind` for every adapter: checks the options, resolves names, opens the runtime's socket with
 * `open`, and returns the contract's DatagramSocket.
 */
export async function bindDatagram(
  ctx: DatagramContext,
  options: BindOptions | UnixBindOptions | undefined,
  open: DatagramOpener,
): Promise<DatagramSocket<NetAddr> | DatagramSocket<UnixAddr>> {
  const checked = checkBind(ctx, options);
  const signal = checked.signal;
  if (signal?.aborted) throw signal.reason;
  const plan = await raceSignal(resolveBind(ctx, checked), signal);
  const socket = new UniDatagramSocket<DatagramAddr>(ctx, plan, checked.queueBytes);
  let attempt: Promise<DatagramTransport>;
  try {
    attempt = open(plan, socket.sink);
  } catch (err) {
    attempt = Promise.reject(err);
  }
  const where = plan.kind === "unix" ? { address: plan.path } : { address: plan.hostname, port: plan.port };
  let transport: DatagramTransport;
  try {
    transport = await raceSignal(attempt, signal, () => {
      attempt.then(
        (late) => late.close(),
        () => {},
      );
    });
  } catch (err) {
    if (signal?.aborted && err === signal.reason) throw err;
    throw toSocketError(err, ctx.errors, { syscall: "bind", ...where }, "EADDRINUSE");
  }
  socket.attach(transport, signal);
  return socket as DatagramSocket<NetAddr> | DatagramSocket<UnixAddr>;
}

/** An adapter's `bind`, in both its forms: `bindDatagram` with the adapter's context and opener. */
export function datagramBind(ctx: DatagramContext, open: DatagramOpener): Bind {
  return ((options?: BindOptions | UnixBindOptions) => bindDatagram(ctx, options, open)) as Bind;
}
