/** The read-ahead buffer of the readers and the decoders. */

/**
 * How much a reader asks its socket for: the size of the last read times two, between these
 * bounds. Reads that fill their buffer ramp up to 64 KiB in a few steps; a connection that sends
 * little (or is idle with part of a message) is read with a small buffer, so it costs what a plain
 * `read()` loop costs, not 64 KiB or more.
 */
export const MAX_READ = 65_536;
export const MIN_READ = 4096;
const EMPTY = new Uint8Array(0);

/**
 * Bytes received and not yet taken, in `buf[start, end)`. Appending compacts only when the bytes
 * already taken outnumber the live ones, and grows by doubling, so each byte is moved O(1) times.
 */
export class ByteQueue {
  buf: Uint8Array = EMPTY;
  start = 0;
  end = 0;
  #view: Uint8Array = this.buf;

  get length(): number {
    return this.end - this.start;
  }

  /** `buf[0, end)`, to search with `indexOf` without running into stale bytes. */
  view(): Uint8Array {
    if (this.#view.buffer !== this.buf.buffer || this.#view.length !== this.end) {
      this.#view = this.buf.subarray(0, this.end);
    }
    return this.#view;
  }

  /**
   * Room for `n` more bytes at `end`, or at least for `least` without moving to a new buffer.
   * Growing makes room for twice the live bytes (so each byte is copied O(1) times), never past
   * `ceiling` (the most the queue can need). With `shrink`, a buffer more than twice as large as
   * needed is let go for one that fits, so a burst's buffer does not stay with a connection that
   * has gone quiet.
   */
  reserve(n: number, ceiling: number = Infinity, shrink: boolean = false, least: number = n): void {
    const live = this.end - this.start;
    if (live === 0) this.start = this.end = 0;
    const need = live + n;
    const oversized = shrink && this.buf.length > 2 * need && this.buf.length > MIN_READ;
    if (this.buf.length - this.end >= least && !oversized) return;
    if (this.start >= live && this.buf.length - live >= least && !oversized) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const size = oversized ? need : Math.max(Math.min(2 * live + n, ceiling), need, 1024);
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
      this.#view = EMPTY; // or it would keep the old buffer alive
    }
    this.start = 0;
    this.end = live;
  }

  append(chunk: Uint8Array): void {
    this.reserve(chunk.length);
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Takes `n` bytes as a new array. */
  take(n: number): Uint8Array {
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  takeAll(): Uint8Array {
    const out = this.buf.slice(this.start, this.end);
    this.clear();
    return out;
  }

  clear(): void {
    this.start = this.end = 0;
    this.buf = this.#view = EMPTY;
  }
}
