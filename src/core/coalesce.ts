/**
 * Coalescing for the Outbox (outbox.ts): small writes copied into a batch that leaves as one write,
 * and queued small writes joined into one buffer, settled together.
 */

/** Writes smaller than this are coalesced. */
export const SMALL_WRITE: number = 16 * 1024;
/** Small writes are copied and resolved at once while at most this many bytes wait behind the write in progress. */
export const HIGH_WATER: number = 64 * 1024;
/**
 * Small writes leave together up to this many bytes: what may wait resolved, and one small write
 * past it, which joins the batch and waits for it rather than leave alone after it.
 */
export const BATCH_BYTES: number = HIGH_WATER + SMALL_WRITE;
/** The smallest batch buffer made. */
const MIN_BATCH = 1024;

export const noop = (): void => {};

export interface Settle {
  resolve(): void;
  reject(err: unknown): void;
}

/** A write the runtime has not taken all of. */
export interface Pending extends Settle {
  /** The bytes the runtime has not taken yet. */
  data: Uint8Array;
  owned: boolean;
}

/** Small writes copied one after another, to leave as one write. Made by the first one. */
export class Batch {
  #buffer: Uint8Array | null = null;
  /** Bytes copied in since the batch was last taken. */
  length = 0;
  /** Writes copied in past the high-water mark: they resolve when the batch is taken. */
  #waiters: Settle[] | null = null;
  /**
   * The size a new buffer starts at: what the last batch needed (a power of two), grown by
   * doubling if this one needs more. Deno's batches are what gathers while one write is in flight,
   * often under 1 KiB: a fresh zero-filled BATCH_BYTES each was 40% of 1M x 64 B's CPU, and its GC 14%.
   */
  #size = MIN_BATCH;

  /** Copies `data` in; `wait`: the write resolves only when the batch is taken. */
  add(data: Uint8Array, wait: boolean): Promise<void> | undefined {
    const end = this.length + data.byteLength;
    this.#buffer ??= new Uint8Array(this.#size);
    if (end > this.#buffer.byteLength) this.#grow(end);
    this.#buffer!.set(data, this.length);
    this.length = end;
    if (!wait) return undefined;
    return new Promise<void>((resolve, reject) => (this.#waiters ??= []).push({ resolve, reject }));
  }

  /** What was copied in, as one write (the runtime may keep its buffer); the batch starts anew. */
  take(): Pending {
    const waiters = this.#waiters;
    const data = this.#buffer!.subarray(0, this.length);
    this.#size = Math.min(BATCH_BYTES, Math.max(MIN_BATCH, 2 ** Math.ceil(Math.log2(this.length))));
    this.#waiters = null;
    this.#buffer = null;
    this.length = 0;
    return waiters === null
      ? { data, owned: true, resolve: noop, reject: noop }
      : { data, owned: true, ...settleAll(waiters) };
  }

  /** The buffer moved to one of at least `need` bytes (at most BATCH_BYTES: a batch never holds more). */
  #grow(need: number): void {
    let size = this.#buffer!.byteLength * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(Math.min(size, BATCH_BYTES));
    grown.set(this.#buffer!.subarray(0, this.length));
    this.#buffer = grown;
  }

  /** Empties the batch without sending it: returns the writes waiting for it. */
  drop(): Settle[] {
    const waiters = this.#waiters ?? [];
    this.#waiters = null;
    this.#buffer = null;
    this.length = 0;
    return waiters;
  }
}

/** Several queued writes as one: one buffer, settled together. */
export function joined(writes: Pending[], bytes: number): Pending {
  const data = new Uint8Array(bytes);
  let offset = 0;
  for (const w of writes) {
    data.set(w.data, offset);
    offset += w.data.byteLength;
  }
  return { data, owned: true, ...settleAll(writes) };
}

function settleAll(writes: Settle[]): Settle {
  return {
    resolve: () => {
      for (const w of writes) w.resolve();
    },
    reject: (err) => {
      for (const w of writes) w.reject(err);
    },
  };
}
