/*
 * A stand-in for a runtime's connection, driven by the test: it is the other side of the core's
 * `Transport`/`SocketSink` seam, so `StreamSocket` can be proven without a network. The test plays
 * both the runtime (when writes are taken, whole or in part) and the peer (data, FIN, errors,
 * release); the fake records what the socket asked of it.
 */
import type { ErrorTable } from "../../src/core/errors.ts";
import type { AdapterContext } from "../../src/core/context.ts";
import { StreamSocket, type StreamSocketOptions } from "../../src/core/socket.ts";
import type { Opened, OpenNow, Opener, SocketSink, Transport } from "../../src/core/transport.ts";
import type { Capabilities, SocketInfo } from "../../src/core/types.ts";

/** A native error as a runtime reports it: the socket maps `code` through the context's table. */
export function nativeError(code: string, message = `native ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/** Error codes only the fake's runtime uses, to show the context's own table is consulted. */
export const FAKE_ERRORS: ErrorTable = { FAKE_TIMED_OUT: "ETIMEDOUT", FAKE_GONE: "ECONNRESET" };

/** Every capability: a test turns off the one it is about. */
const ALL = Object.fromEntries(
  [
    "listen",
    "socketOptions",
    "udp",
    "unixStream",
    "unixDatagram",
    "tls",
    "startTls",
    "serverStartTls",
    "mutualTls",
    "alpn",
    "reset",
    "keepAliveDelay",
    "reusePort",
  ]
    .concat([
      "backlog",
      "broadcast",
      "multicast",
      "connectedDatagram",
      "truncationFlag",
      "datagramTTL",
      "icmpErrors",
      "datagramBufferSizes",
    ])
    .map((name) => [name, true]),
) as unknown as Capabilities;

export function fakeContext(capabilities: Partial<Capabilities> = {}): AdapterContext {
  return { runtime: "node", errors: FAKE_ERRORS, capabilities: { ...ALL, ...capabilities } };
}

export const FAKE_INFO: SocketInfo = {
  localAddress: { transport: "tcp", hostname: "127.0.0.1", port: 40000, family: "IPv4" },
  remoteAddress: { transport: "tcp", hostname: "127.0.0.1", port: 40001, family: "IPv4" },
  alpn: null,
};

interface HeldWrite {
  /** Bytes of this write the runtime has not taken yet. */
  left: number;
  resolve(): void;
  reject(err: unknown): void;
}

export interface FakeOptions {
  /** "sync": the runtime takes every write at once; "held": writes wait until the test calls `take()`. */
  writes?: "sync" | "held";
  /**
   * "now": the connection opens at once; "later": when the test calls `open()` (or `refuse()`);
   * "accepted": the socket is made open, as a listener's (an OpenNow, no opener promise).
   */
  open?: "now" | "later" | "accepted";
}

export class FakeTransport implements Transport {
  /** Copies of the data of each `write()` call, in call order. */
  readonly handed: Uint8Array[] = [];
  /** Bytes the runtime has taken, across all writes. */
  takenBytes = 0;
  readonly calls = { write: 0, close: 0, closeWrite: 0, reset: 0, pause: 0, resume: 0, demand: 0 };
  /** `write()` calls made after `close()` or `reset()`, and `close()` calls made with writes still held: both must stay 0. */
  writesAfterEnd = 0;
  closedWithWritesHeld = 0;
  /** The runtime's reading is paused (Flow). */
  paused = false;
  /** The connection is released: `sink.closed()` was called. */
  released = false;
  /** The opener's signal fired while the connection was opening. */
  openAborted = false;
  writeMode: "sync" | "held";
  sink: SocketSink | null = null;
  #held: HeldWrite[] = [];
  #ended = false;
  #openWaiter: { resolve(o: Opened): void; reject(err: unknown): void } | null = null;
  readonly #openMode: "now" | "later" | "accepted";

  constructor(options: FakeOptions = {}) {
    this.writeMode = options.writes ?? "sync";
    this.#openMode = options.open ?? "now";
  }

  /** The Opener to give a StreamSocket. */
  readonly opener: Opener = (sink, signal) => {
    this.sink = sink;
    if (this.#openMode === "now") return Promise.resolve({ transport: this, info: FAKE_INFO });
    return new Promise<Opened>((resolve, reject) => {
      this.#openWaiter = { resolve, reject };
      signal?.addEventListener(
        "abort",
        () => {
          this.openAborted = true;
          this.#openWaiter = null;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  };

  /** The OpenNow to give a StreamSocket for an accepted connection. */
  readonly accepted: OpenNow = {
    now: (sink) => {
      this.sink = sink;
      return { transport: this, info: FAKE_INFO };
    },
  };

  /** The connection opens (with open: "later"). */
  open(): void {
    this.#openWaiter?.resolve({ transport: this, info: FAKE_INFO });
    this.#openWaiter = null;
  }

  /** The connection fails to open (with open: "later"). */
  refuse(err: unknown): void {
    this.#openWaiter?.reject(err);
    this.#openWaiter = null;
  }

  // --- the Transport, as the socket sees it ---

  write(data: Uint8Array): Promise<void> | undefined {
    this.calls.write++;
    if (this.#ended) this.writesAfterEnd++;
    this.handed.push(data.slice());
    if (this.writeMode === "sync" && this.#held.length === 0) {
      this.takenBytes += data.byteLength;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => this.#held.push({ left: data.byteLength, resolve, reject }));
  }

  closeWrite(): Promise<void> {
    this.calls.closeWrite++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.calls.close++;
    if (this.#held.length > 0) this.closedWithWritesHeld++;
    this.#ended = true;
    // As a runtime does: the release is reported to the sink, then close() resolves.
    return Promise.resolve().then(() => this.release());
  }

  reset(): void {
    this.calls.reset++;
    this.#ended = true;
    this.#dropHeld(nativeError("ECONNRESET", "the connection was reset"));
    queueMicrotask(() => this.release());
  }

  pause(): void {
    this.calls.pause++;
    this.paused = true;
  }

  resume(): void {
    this.calls.resume++;
    this.paused = false;
  }

  demand(): void {
    this.calls.demand++;
  }

  setNoDelay(): void {}
  setKeepAlive(): void {}
  ref(): void {}
  unref(): void {}

  // --- the runtime and the peer, as the test drives them ---

  /** Bytes of held writes not yet taken. */
  get heldBytes(): number {
    return this.#held.reduce((n, w) => n + w.left, 0);
  }

  /** The runtime takes up to `n` bytes of the held writes, in order: a write resolves once all of it is taken. */
  take(n = Number.POSITIVE_INFINITY): void {
    while (n > 0 && this.#held.length > 0) {
      const w = this.#held[0]!;
      const k = Math.min(n, w.left);
      w.left -= k;
      n -= k;
      this.takenBytes += k;
      if (w.left === 0) {
        this.#held.shift();
        w.resolve();
      }
    }
  }

  /** Bytes from the peer. */
  deliver(bytes: Uint8Array): void {
    this.sink!.data(bytes.slice());
  }

  /** The peer sent FIN. */
  fin(): void {
    this.sink!.end();
  }

  /** The connection failed: the error is reported, held writes fail with it, then the release follows. */
  fail(err: unknown): void {
    this.sink!.error(err);
    this.#dropHeld(err);
    this.release();
  }

  /** The runtime reports the connection released; held writes fail, as a runtime's 'drain' never comes. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.#ended = true;
    this.#dropHeld(nativeError("EPIPE", "the connection closed before the write was taken"));
    this.sink?.closed();
  }

  #dropHeld(err: unknown): void {
    for (const w of this.#held.splice(0)) w.reject(err);
  }
}

/** A StreamSocket over a fresh fake transport. */
export function fakeSocket(
  options: FakeOptions & StreamSocketOptions & { capabilities?: Partial<Capabilities> } = {},
): { socket: StreamSocket; fake: FakeTransport } {
  const fake = new FakeTransport(options);
  const socket = new StreamSocket(
    fakeContext(options.capabilities),
    options.open === "accepted" ? fake.accepted : fake.opener,
    options,
  );
  return { socket, fake };
}

/** A promise's state, readable at any time: the tests check that nothing is left pending. */
export interface Tracked<T> {
  readonly promise: Promise<T>;
  state: "pending" | "resolved" | "rejected";
  value?: T;
  error?: unknown;
  /** How many times it settled (a promise settles at most once; counted to prove it settles at least once). */
  settlements: number;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { promise, state: "pending", settlements: 0 };
  promise.then(
    (value) => {
      t.state = "resolved";
      t.value = value;
      t.settlements++;
    },
    (error: unknown) => {
      t.state = "rejected";
      t.error = error;
      t.settlements++;
    },
  );
  return t;
}

/** Lets every queued microtask and zero-delay timer run: what the fake set in motion has finished after this. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** The contract's code of a rejection (or a note saying it was not a SocketError). */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && err.name === "SocketError" && typeof code === "string"
    ? code
    : `not a SocketError: ${String(err)}`;
}

export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}
