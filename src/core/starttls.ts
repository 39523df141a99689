import type { AdapterContext } from "./context.ts";
import { closedError, invalid, unsupported } from "./errors.ts";
import { checkServerNameKnown, checkStartTlsOptions, type TlsUpgrade } from "./tls.ts";
import type { Opener, Transport } from "./transport.ts";
import type { SecureTransport, StartTlsServerOptions, TlsClientOptions } from "./types.ts";

/** startTls() on a stream socket: the checks of a call, and the opener of the Socket it returns. */

/** The socket's state, as startTls() checks it. */
export interface UpgradeState {
  secureTransport: SecureTransport;
  /** For "starttls": the TLS options given to connect, which `startTls()` options override. */
  tlsDefaults: TlsClientOptions;
  upgraded: boolean;
  /** Closed locally, failed, or the peer's FIN came: there is nothing left to upgrade. */
  ended: boolean;
}

/** Checks a startTls() call; the client's options come back complete (the connect defaults merged in). */
export function checkUpgrade(
  ctx: AdapterContext,
  options: TlsClientOptions | StartTlsServerOptions | undefined,
  state: UpgradeState,
): TlsUpgrade {
  const upgrade = checkStartTlsOptions(ctx, options ?? {});
  if (upgrade.role === "client" && !ctx.capabilities.startTls) throw unsupported("startTls()", ctx.runtime);
  if (state.secureTransport !== "starttls") {
    throw invalid(`startTls() needs a socket made with secureTransport "starttls", not "${state.secureTransport}"`);
  }
  if (state.upgraded) throw invalid("startTls() was already called on this socket");
  if (state.ended) throw closedError();
  if (upgrade.role === "client") {
    const client = { ...state.tlsDefaults, ...upgrade.options };
    checkServerNameKnown(client, "startTls() on this socket");
    return { role: "client", options: client };
  }
  return upgrade;
}

/** What the upgrade waits for on the plaintext socket: its connection, and every write so far taken by the runtime. */
export interface UpgradeSource {
  readonly opened: Promise<unknown>;
  flushed(): Promise<void>;
  transport(): Transport;
}

/** Opens the upgraded connection once the plaintext one is open and flushed. */
export function upgradeOpener(ctx: AdapterContext, upgrade: TlsUpgrade, from: UpgradeSource): Opener {
  return async (sink, signal) => {
    await from.opened;
    await from.flushed();
    const transport = from.transport();
    if (upgrade.role === "client") {
      if (transport.startTls === undefined) throw unsupported("startTls()", ctx.runtime);
      return transport.startTls(upgrade.options, sink, signal);
    }
    if (transport.startTlsServer === undefined) throw unsupported("startTls({ server })", ctx.runtime);
    return transport.startTlsServer(upgrade.options, sink, signal);
  };
}
