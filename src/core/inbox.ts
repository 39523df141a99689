import { invalid, type SocketError } from "./errors.ts";

/**
 * The receive side of a stream socket, the same on every runtime: the adapter pushes what the
 * runtime delivers, readers pull it out with `read(into)`, or with `take()` (whole chunks too).
 * Above `highWater` buffered bytes the adapter is told to pause, so a peer that writes faster than
 * we read is held back by TCP flow control rather than by our memory.
 */
interface Waiter {
  into: Uint8Array | null;
  resolve(value: number | Uint8Array | null): void;
  reject(err: unknown): void;
}

/** An error, or how to make it: a local close makes its error only if a reader is there to see it. */
type LazyError = SocketError | (() => SocketError);

export interface Flow {
  pause(): void;
  resume(): void;
  /**
   * A reader started waiting for data. Only for transports that read only when asked: Deno's and
   * workerd's STARTTLS sockets must not read ahead bytes that will belong to the TLS handshake.
   */
  demand?(): void;
}

export class Inbox {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #size = 0;
  #eof = false;
  #error: LazyError | null = null;
  #waiter: Waiter | null = null;
  #paused = false;
  readonly #highWater: number;
  #flow: Flow | null = null;

  constructor(highWater: number) {
    this.#highWater = highWater;
  }

  /** Connects the runtime's flow control, once the connection exists. */
  setFlow(flow: Flow): void {
    this.#flow = flow;
    if (this.#paused) flow.pause();
    if (this.#waiter !== null) flow.demand?.();
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0 || this.#eof || this.#error) return;
    const w = this.#waiter;
    if (w !== null) {
      this.#waiter = null;
      if (w.into === null) return w.resolve(chunk);
      const n = Math.min(chunk.byteLength, w.into.byteLength);
      w.into.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n));
      if (n < chunk.byteLength) this.#enqueue(chunk.subarray(n));
      return w.resolve(n);
    }
    this.#enqueue(chunk);
  }

  /**
   * The first `n` bytes of `buf`, a read buffer the adapter reuses: when a read with a buffer of its
   * own waits, they are copied into it (what does not fit is kept as a copy) and the size of that
   * buffer is returned: `buf` is free again. 0, with nothing taken, when no such read waits: the
   * adapter then pushes a chunk. Spares a read the intermediate chunk, and a pump that reads 64 KiB
   * at a time a fresh buffer each.
   */
  fill(buf: Uint8Array, n: number): number {
    const w = this.#waiter;
    if (w === null || w.into === null || this.#eof || this.#error) return 0;
    this.#waiter = null;
    const into = w.into;
    const room = into.byteLength;
    if (n <= room) {
      into.set(n === buf.byteLength ? buf : buf.subarray(0, n));
      w.resolve(n);
      return room;
    }
    into.set(buf.subarray(0, room));
    this.#enqueue(buf.slice(room, n));
    w.resolve(room);
    return room;
  }

  #enqueue(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#size += chunk.byteLength;
    if (!this.#paused && this.#size >= this.#highWater) {
      this.#paused = true;
      this.#flow?.pause();
    }
  }

  /** The peer sent FIN: readers get what is buffered, then `null`. */
  end(): void {
    if (this.#eof || this.#error) return;
    this.#eof = true;
    if (this.#waiter !== null && this.#size === 0) {
      const w = this.#waiter;
      this.#waiter = null;
      w.resolve(null);
    }
  }

  /** The connection failed: readers get what is buffered, then `err`. */
  fail(err: LazyError): void {
    if (this.#error) return;
    this.#error = err;
    if (this.#waiter !== null && this.#size === 0) {
      const w = this.#waiter;
      this.#waiter = null;
      w.reject(this.#theError());
    }
  }

  /**
   * Drops buffered data and settles a pending read with `err` (a local close). Pass a function to
   * make the error only when a reader needs it: building an Error (its stack) costs more than the
   * rest of closing a socket.
   */
  discard(err: LazyError): void {
    this.#chunks = [];
    this.#head = 0;
    this.#size = 0;
    this.#eof = false;
    this.#error = null;
    this.fail(err);
  }

  read(into: Uint8Array): number | null | Promise<number | null> {
    if (this.#size > 0) return this.#copyOut(into);
    return this.#atEnd() ? null : (this.#wait(into) as Promise<number | null>);
  }

  /**
   * `read(into)` (or, with `into` null, the next whole chunk) for a caller that takes callbacks instead of
   * a promise: a Web Streams pull. What is buffered is delivered now; otherwise `push()` delivers
   * straight into `onValue`, with no promise and no extra microtask on the way.
   */
  take(
    into: Uint8Array | null,
    onValue: (value: number | Uint8Array | null) => void,
    onError: (err: unknown) => void,
  ): void {
    if (this.#size > 0) return onValue(into === null ? this.#takeChunk() : this.#copyOut(into));
    let end: boolean;
    try {
      end = this.#atEnd();
    } catch (err) {
      return onError(err);
    }
    if (end) return onValue(null);
    this.#waiter = { into, resolve: onValue, reject: onError };
    this.#flow?.demand?.();
  }

  #takeChunk(): Uint8Array {
    const chunk = this.#chunks[this.#head]!;
    this.#chunks[this.#head++] = undefined as unknown as Uint8Array;
    this.#taken(chunk.byteLength);
    return chunk;
  }

  /** Cancels a pending read (its signal fired); the data it would have had stays buffered. */
  cancel(reason: unknown): void {
    const w = this.#waiter;
    if (w === null) return;
    this.#waiter = null;
    w.reject(reason);
  }

  /** With nothing buffered: true at EOF, throws the error that ended the stream, false to wait. */
  #atEnd(): boolean {
    if (this.#error) throw this.#theError();
    if (this.#eof) return true;
    if (this.#waiter !== null) throw invalid("another read is already pending on this socket");
    return false;
  }

  #theError(): SocketError {
    if (typeof this.#error === "function") this.#error = this.#error();
    return this.#error!;
  }

  #wait(into: Uint8Array | null): Promise<number | Uint8Array | null> {
    const p = new Promise<number | Uint8Array | null>((resolve, reject) => {
      this.#waiter = { into, resolve, reject };
    });
    this.#flow?.demand?.();
    return p;
  }

  #copyOut(into: Uint8Array): number {
    let n = 0;
    const want = into.byteLength;
    while (n < want && this.#size > 0) {
      const chunk = this.#chunks[this.#head]!;
      const take = Math.min(chunk.byteLength, want - n);
      into.set(take === chunk.byteLength ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.byteLength) this.#chunks[this.#head++] = undefined as unknown as Uint8Array;
      else this.#chunks[this.#head] = chunk.subarray(take);
      this.#size -= take;
    }
    this.#taken(0);
    return n;
  }

  #taken(bytes: number): void {
    this.#size -= bytes;
    if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    if (this.#size === 0) {
      this.#chunks.length = 0;
      this.#head = 0;
    }
    if (this.#paused && this.#size < this.#highWater / 2) {
      this.#paused = false;
      this.#flow?.resume();
    }
  }
}
