/*
 * A stand-in for a runtime's write, the other side of the Outbox's `OutboxSink`: the test decides
 * how many bytes each send takes (all, part, none), when an asynchronous send settles, when the
 * runtime drains and when the tick ends. The sink records the bytes at the moment the runtime
 * reads them: at the send for a synchronous runtime, when the send settles for an asynchronous one
 * (which is when Deno's write reads its buffer), so a caller reusing its buffer too early shows.
 */
import { Outbox, type OutboxSink } from "../../src/core/outbox.ts";

interface InFlight {
  bytes: Uint8Array;
  resolve(n: number): void;
  reject(err: unknown): void;
}

export class FakeSink implements OutboxSink {
  /** The bytes the runtime took, in order. */
  readonly taken: number[] = [];
  sends = 0;
  /** Sends made while another asynchronous one was in flight: must stay 0. */
  overlapping = 0;
  /** Synchronous mode: bytes the runtime takes before it is full (Infinity: all). */
  room = Number.POSITIVE_INFINITY;
  /** The next send fails with this. */
  failNext: unknown = null;
  /** Sends that failed. */
  failures = 0;
  #inFlight: InFlight | null = null;
  readonly #async: boolean;

  constructor(async: boolean) {
    this.#async = async;
  }

  send(bytes: Uint8Array): number | Promise<number> {
    this.sends++;
    if (this.#inFlight !== null) this.overlapping++;
    const fail = this.failNext;
    this.failNext = null;
    if (fail !== null) this.failures++;
    if (!this.#async) {
      if (fail !== null) throw fail;
      const n = Math.min(this.room, bytes.byteLength);
      this.room -= n;
      this.#record(bytes.subarray(0, n));
      return n;
    }
    return new Promise<number>((resolve, reject) => {
      this.#inFlight = { bytes, resolve, reject };
      if (fail !== null) this.settle(0, fail);
    });
  }

  get inFlight(): boolean {
    return this.#inFlight !== null;
  }

  /** Settles the asynchronous send in flight: it took up to `n` bytes, or failed with `err`. */
  settle(n: number, err: unknown = null): void {
    const w = this.#inFlight;
    if (w === null) return;
    this.#inFlight = null;
    if (err !== null) return w.reject(err);
    const took = Math.min(n, w.bytes.byteLength);
    this.#record(w.bytes.subarray(0, took));
    w.resolve(took);
  }

  #record(bytes: Uint8Array): void {
    for (const b of bytes) this.taken.push(b);
  }
}

/**
 * An Outbox over a FakeSink. A synchronous one is given a `defer` whose functions run when the test
 * calls `tick()`; an asynchronous one, none (as Deno's).
 */
export function fakeOutbox(async: boolean): { outbox: Outbox; sink: FakeSink; tick(): void; deferred(): number } {
  const sink = new FakeSink(async);
  let queue: (() => void)[] = [];
  const outbox = new Outbox(
    sink,
    async ? { keepsBuffers: true } : { defer: (fn) => void queue.push(fn), keepsBuffers: false },
  );
  return {
    outbox,
    sink,
    tick: () => {
      const run = queue;
      queue = [];
      for (const fn of run) fn();
    },
    deferred: () => queue.length,
  };
}
