import { SocketError } from "./errors.ts";
import { BATCH_BYTES, Batch, HIGH_WATER, joined, noop, type Pending, SMALL_WRITE, type Settle } from "./coalesce.ts";
import { type Deferred, deferred } from "./signal.ts";

/**
 * The send side of a stream socket, the same on every runtime: the queue of writes the runtime has
 * not taken yet, in call order, with the coalescing of small writes that makes a loop of them cost
 * one runtime write per batch instead of one each. An adapter supplies only an `OutboxSink` (hand
 * bytes to the runtime, say how many it took) and calls `drained()` when the runtime drains.
 *
 * What a write promises (Transport.write): it resolves once the runtime took its bytes or the Outbox
 * holds a copy of them, so the caller may reuse its buffer then; a small write is copied and taken at
 * once while at most HIGH_WATER bytes wait behind the write the runtime is working on, so
 * backpressure reaches the writer past that (and the next batch fills while one is in flight).
 * `flush()` waits for every byte to be taken (close and FIN come after it); `drop()` fails what is
 * left (a reset, a release).
 */

/** What an adapter gives the Outbox: the runtime's write. */
export interface OutboxSink {
  /**
   * Hands `bytes` to the runtime. Returns how many it took at once (the rest is offered again when
   * the adapter calls `Outbox.drained()`), or, for a runtime whose write completes later, a promise
   * of how many it took (the rest is offered as soon as it settles). Throws, or rejects, with the
   * error that broke the connection. `owned`: the bytes are the Outbox's own copy, which the runtime
   * may keep; otherwise they are the caller's, which it must not read once the write has resolved.
   */
  send(bytes: Uint8Array, owned: boolean): number | Promise<number>;
  /**
   * A promise `send` returned rejected: returns the error the writes fail with (and may report it
   * as the connection's failure). Spares a runtime whose write is asynchronous a `.catch()` of its
   * own on every write.
   */
  failed?(err: unknown): unknown;
}

export interface OutboxOptions {
  /**
   * Runs `fn` once the current burst of writes is over: `process.nextTick` for a runtime whose write
   * is synchronous (it runs after the promise jobs of an awaited write loop). Left out for a runtime
   * whose write completes later: a write with nothing ahead of it then always goes straight out,
   * and the write in flight is the window the small writes behind it gather in.
   */
  defer?: (fn: () => void) => void;
  /**
   * The runtime still reads what `send` was given after `send` returns (Deno's async write): a small
   * write resolved at once is then handed over as a copy. (Node's sink copies the caller's chunks
   * itself, with Buffer.from from Node's pool: cheaper than a slice of its own ArrayBuffer.)
   */
  keepsBuffers: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();
export class Outbox {
  readonly #sink: OutboxSink;
  readonly #defer: ((fn: () => void) => void) | undefined;
  readonly #keepsBuffers: boolean;
  /** Writes not yet offered to the runtime, in call order, from `#head`. */
  #queue: Pending[] = [];
  #head = 0;
  /** Small writes copied after the queue, not yet offered: made by the first one. */
  #batch: Batch | null = null;
  /** The write the runtime holds part of: its send is in flight, or it waits for `drained()`. */
  #current: Pending | null = null;
  #inFlight = false;
  /** Bytes in the queue and the batch: accepted, not yet offered. */
  #queued = 0;
  /** A small write went straight out since the peer last sent data or the tick ended. */
  #burst = false;
  #tickScheduled = false;
  /** Dropped: no more writes, none offered. */
  #dropped = false;
  #broken: unknown = null;
  #idle: Deferred<void> | null = null;
  /**
   * Where a small write with nothing ahead of it is copied for a runtime that keeps buffers (see
   * OutboxOptions.keepsBuffers): such a write goes out only when no send is in flight, so the copy
   * of the previous one is free again. A fresh slice per write cost Deno a malloc each (7% of an echo).
   */
  #scratch: Uint8Array | null = null;

  constructor(sink: OutboxSink, options: OutboxOptions) {
    this.#sink = sink;
    this.#defer = options.defer;
    this.#keepsBuffers = options.keepsBuffers;
  }

  /** Bytes accepted and not yet taken by the runtime. */
  get pending(): number {
    return this.#queued + (this.#current?.data.byteLength ?? 0);
  }

  /**
   * Takes all of `data` (see Transport.write): `undefined` when it was taken or copied at once, else
   * a promise that resolves when the runtime took it. Throws once the connection is broken or dropped.
   *
   * Small writes leave together: one goes out at once unless one already did since the peer last
   * sent data; then it is copied into a batch that leaves at the end of the tick, or when the write
   * in flight is done. A request/response exchange (one write per arrival) is never delayed.
   */
  write(data: Uint8Array): Promise<void> | undefined {
    const n = data.byteLength;
    if (n < SMALL_WRITE && this.#queued + n <= HIGH_WATER && !this.#dropped) {
      if (this.#burst || !this.#isEmpty()) return this.#toBatch(data, false);
      this.#burst = this.#defer !== undefined;
      return this.#direct(data, this.#keepsBuffers);
    }
    return this.#writeSlow(data, n);
  }

  /** A large write, one past the high-water mark, or one after the end. */
  #writeSlow(data: Uint8Array, n: number): Promise<void> | undefined {
    if (this.#dropped) throw this.#broken ?? new SocketError("EPIPE", "the connection is closed");
    if (n < SMALL_WRITE) {
      if (this.#current === null) {
        this.#send(); // a synchronous runtime may take the batch now, and make room
        if (this.#dropped || this.#queued + n <= HIGH_WATER) return this.write(data);
      }
      // Past the high-water mark: into the batch all the same (it has room for one), but the writer waits for it.
      if ((this.#batch?.length ?? 0) + n <= BATCH_BYTES) return this.#toBatch(data, true);
    } else if (this.#isEmpty()) return this.#direct(data, false);
    this.#closeBatch();
    this.#queued += n;
    const p = new Promise<void>((resolve, reject) => this.#queue.push({ data, owned: false, resolve, reject }));
    if (this.#current === null) this.#send();
    return p;
  }

  /** The peer sent data: the next small write is an answer and goes straight out. */
  received(): void {
    this.#burst = false;
  }

  /** The runtime drained: offers it the rest of what it took only part of. */
  drained(): void {
    const current = this.#current;
    if (current === null || this.#inFlight) return;
    this.#current = null;
    if (this.#offer(current)) {
      current.resolve();
      this.#send();
    }
  }

  /** Sends what waits now; resolves once the runtime took every byte, or the Outbox is dropped. */
  flush(): Promise<void> {
    if (this.#current === null) this.#send();
    if (this.#dropped || this.#isEmpty()) return RESOLVED;
    this.#idle ??= deferred<void>();
    return this.#idle.promise;
  }

  /**
   * Fails every write not yet taken with `why()` (made only if some are left) and refuses later
   * ones: the connection is reset or released.
   */
  drop(why: () => unknown): void {
    if (this.#dropped) return;
    this.#dropped = true;
    const left: Settle[] = this.#queue.slice(this.#head);
    if (this.#current !== null) left.unshift(this.#current);
    if (this.#batch !== null) left.push(...this.#batch.drop());
    this.#current = null;
    this.#inFlight = false;
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
    if (left.length > 0) {
      const err = why();
      for (const w of left) w.reject(err);
    }
    this.#settleIdle();
  }

  #isEmpty(): boolean {
    return (
      this.#current === null && this.#head === this.#queue.length && (this.#batch === null || this.#batch.length === 0)
    );
  }

  /** A write with nothing ahead of it: straight to the runtime; `copy` when it resolves at once. */
  #direct(data: Uint8Array, copy: boolean): Promise<void> | undefined {
    const bytes = copy ? this.#copy(data) : data;
    let r: number | Promise<number>;
    try {
      r = this.#sink.send(bytes, copy);
    } catch (err) {
      this.#fail(err);
      throw this.#broken;
    }
    // Taken whole at once (a synchronous runtime, nearly always): no entry is made at all.
    if (typeof r === "number" && r >= bytes.byteLength) return undefined;
    const entry: Pending = { data: bytes, owned: copy, resolve: noop, reject: noop };
    if (this.#handed(entry, r)) return undefined;
    if (this.#dropped) throw this.#broken;
    if (copy) return undefined;
    return new Promise<void>((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
  }

  /** `data` copied into the scratch buffer, which nothing in flight holds (see #scratch). */
  #copy(data: Uint8Array): Uint8Array {
    const n = data.byteLength;
    if (this.#scratch === null || this.#scratch.byteLength < n) this.#scratch = new Uint8Array(Math.max(n, 4096));
    const copy = this.#scratch.subarray(0, n);
    copy.set(data);
    return copy;
  }

  /** Copies `data` into the batch; `wait`: the write resolves only when the batch is taken. */
  #toBatch(data: Uint8Array, wait: boolean): Promise<void> | undefined {
    this.#queued += data.byteLength;
    if (!this.#tickScheduled && this.#current === null) {
      this.#tickScheduled = true;
      if (this.#defer !== undefined) this.#defer(this.#tick);
      else queueMicrotask(this.#tick);
    }
    this.#batch ??= new Batch();
    return this.#batch.add(data, wait);
  }

  readonly #tick = (): void => {
    this.#tickScheduled = false;
    this.#burst = false;
    if (this.#current === null) this.#send();
  };

  /** The batch joins the queue, behind everything before it. */
  #closeBatch(): void {
    if (this.#batch !== null && this.#batch.length > 0) this.#queue.push(this.#batch.take());
  }

  /** Offers the queue in order while the runtime takes it whole; nothing may be in progress. */
  #send(): void {
    while (!this.#dropped) {
      if (this.#head === this.#queue.length) this.#closeBatch();
      if (this.#head === this.#queue.length) break;
      const entry = this.#take();
      if (!this.#offer(entry)) return;
      entry.resolve();
    }
    this.#settleIdle();
  }

  /** The next write to offer, small ones in a row joined up to BATCH_BYTES. */
  #take(): Pending {
    const q = this.#queue;
    let end = this.#head + 1;
    let bytes = q[this.#head]!.data.byteLength;
    if (bytes < SMALL_WRITE) {
      while (
        end < q.length &&
        q[end]!.data.byteLength < SMALL_WRITE &&
        bytes + q[end]!.data.byteLength <= BATCH_BYTES
      ) {
        bytes += q[end++]!.data.byteLength;
      }
    }
    const taken = end === this.#head + 1 ? q[this.#head]! : joined(q.slice(this.#head, end), bytes);
    this.#queued -= bytes;
    for (let i = this.#head; i < end; i++) q[i] = undefined as unknown as Pending;
    this.#head = end;
    if (this.#head === q.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
    return taken;
  }

  /**
   * Hands `entry` to the runtime; true when it was taken whole at once. Otherwise it becomes the
   * current write (waiting for its send to settle, or for `drained()`), or the Outbox is broken.
   */
  #offer(entry: Pending): boolean {
    let r: number | Promise<number>;
    try {
      r = this.#sink.send(entry.data, entry.owned);
    } catch (err) {
      this.#current = entry;
      this.#fail(err);
      return false;
    }
    return this.#handed(entry, r);
  }

  /** What the runtime's send of `entry` returned: #offer's verdict. */
  #handed(entry: Pending, r: number | Promise<number>): boolean {
    if (typeof r === "number") {
      if (this.#took(entry, r)) return true;
      this.#current = entry;
      return false;
    }
    this.#current = entry;
    this.#inFlight = true;
    r.then(
      (n) => this.#settled(entry, n),
      (err: unknown) => {
        if (this.#current === entry) this.#fail(this.#sink.failed === undefined ? err : this.#sink.failed(err));
      },
    );
    return false;
  }

  /** The runtime took `n` bytes of `entry`: true when that was all of them. */
  #took(entry: Pending, n: number): boolean {
    const taken = Math.min(Math.max(n, 0), entry.data.byteLength);
    if (taken === entry.data.byteLength) return true;
    entry.data = entry.data.subarray(taken);
    return false;
  }

  /** An asynchronous send of the current write settled: offer its rest, or go on with the queue. */
  #settled(entry: Pending, n: number): void {
    if (this.#current !== entry) return; // dropped meanwhile
    this.#inFlight = false;
    this.#current = null;
    if (!this.#took(entry, n) && !this.#offer(entry)) return;
    entry.resolve();
    this.#send();
  }

  /** The runtime's write failed: this write and every one behind it fail with its error. */
  #fail(err: unknown): void {
    this.#broken = err;
    this.drop(() => err);
  }

  #settleIdle(): void {
    if (this.#idle === null || !(this.#dropped || this.#isEmpty())) return;
    const idle = this.#idle;
    this.#idle = null;
    idle.resolve();
  }
}
