import { closedError } from "./errors.ts";
import { raceSignal } from "./signal.ts";
import type { AcceptOptions, Addr, Listener, Socket } from "./types.ts";
import { signalOption } from "./validate.ts";

/** What an adapter's listening socket must do; the accept queue and its rules live here. */
export interface ListenerHandle {
  readonly addr: Addr;
  /** Stops listening; resolves when the runtime has released the address (and removed a Unix file it made). */
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

interface Waiter {
  resolve(socket: Socket): void;
  reject(err: unknown): void;
}

/**
 * The listener of the contract. The adapter hands each new connection to `deliver`; `accept()`
 * and iteration take them in order. Close keeps live connections, rejects pending accepts with
 * ECLOSED, ends iteration, and closes connections nobody accepted yet.
 */
export class StreamListener implements Listener {
  readonly #handle: ListenerHandle;
  readonly #backlog: Socket[] = [];
  readonly #waiters: Waiter[] = [];
  #closing: Promise<void> | null = null;

  constructor(handle: ListenerHandle, signal?: AbortSignal) {
    this.#handle = handle;
    if (signal) {
      if (signal.aborted) void this.close();
      else signal.addEventListener("abort", () => void this.close(), { once: true });
    }
  }

  get addr(): Addr {
    return this.#handle.addr;
  }

  /** Called by the adapter for each incoming connection. */
  deliver(socket: Socket): void {
    if (this.#closing !== null) {
      void socket.close();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(socket);
    else this.#backlog.push(socket);
  }

  accept(options?: AcceptOptions): Promise<Socket> {
    let signal: AbortSignal | undefined;
    try {
      signal = signalOption(options, "accept options");
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ready = this.#backlog.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closing !== null) return Promise.reject(closedError("the listener is closed"));
    let waiter!: Waiter;
    const p = new Promise<Socket>((resolve, reject) => {
      waiter = { resolve, reject };
      this.#waiters.push(waiter);
    });
    if (!signal) return p;
    // An aborted accept leaves the queue: the next connection goes to the next accept.
    return raceSignal(p, signal, () => {
      const i = this.#waiters.indexOf(waiter);
      if (i !== -1) this.#waiters.splice(i, 1);
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const w of this.#waiters.splice(0)) w.reject(closedError("the listener is closed"));
      const unaccepted = this.#backlog.splice(0);
      await Promise.all([this.#handle.close(), ...unaccepted.map((s) => s.close())]);
    })();
    return this.#closing;
  }

  ref(): void {
    this.#handle.ref();
  }

  unref(): void {
    this.#handle.unref();
  }

  /**
   * Each step is one accept(), not an async generator's: a generator adds two promises and a
   * queue to every connection. Ends when the listener closes; another failure is thrown, once.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Socket> {
    let done = false;
    const end = (): IteratorResult<Socket> => {
      done = true;
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterableIterator<Socket> = {
      next: () =>
        done
          ? Promise.resolve(end())
          : this.accept().then(
              (value): IteratorResult<Socket> => ({ value, done: false }),
              (err: unknown) => {
                if (this.#closing !== null) return end();
                done = true;
                throw err;
              },
            ),
      return: () => Promise.resolve(end()),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
