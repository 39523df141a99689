import { raceSignal } from "./signal.ts";
import type { Opened, Opener, SocketSink } from "./transport.ts";

/** A pending open of a socket (connect, accept or a TLS upgrade), raced with what may cancel it. */
export interface OpenAttempt {
  /** The signal the opener was given: the user's, combined with the socket's own. */
  readonly signal: AbortSignal;
  /** Settles with the connection, or rejects with the opener's error or an abort's reason. */
  readonly result: Promise<Opened>;
  /**
   * Aborts the opener's signal and rejects `result` with `reason` now; a connection that opens later
   * is reset. After `result` failed, it only aborts the signal.
   */
  readonly abort: (reason: unknown) => void;
}

/** Calls `opener`, giving it the user's signal and the socket's own, combined. */
export function startOpen(opener: Opener, sink: SocketSink, userSignal: AbortSignal | undefined): OpenAttempt {
  const own = new AbortController();
  const signal = userSignal ? AbortSignal.any([userSignal, own.signal]) : own.signal;
  let attempt: Promise<Opened>;
  try {
    if (signal.aborted) throw signal.reason;
    attempt = opener(sink, signal);
  } catch (err) {
    attempt = Promise.reject(err);
  }
  let abandoned = false;
  const abandon = (): void => {
    if (abandoned) return;
    abandoned = true;
    attempt.then(
      (late) => late.transport.reset(),
      () => {},
    );
  };
  // close() and reset() end a pending open through `cancel`, without a listener on the socket's own
  // signal (an EventTarget listener costs more than the rest of accepting a connection); only
  // a user's signal is listened to.
  let cancel!: (reason: unknown) => void;
  const raced = new Promise<Opened>((resolve, reject) => {
    cancel = (reason) => {
      reject(reason);
      abandon();
    };
    attempt.then(resolve, reject);
  });
  // When the user's signal wins the race, `raced` still rejects: that rejection is already reported.
  if (userSignal) raced.catch(() => {});
  const abort = (reason: unknown): void => {
    own.abort(reason);
    cancel(reason);
  };
  return { signal, result: userSignal ? raceSignal(raced, signal, abandon) : raced, abort };
}
