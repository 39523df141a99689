import type { SocketError } from "../core/errors.ts";
import { ByteQueue } from "./byte-queue.ts";
import { tooBig, unexpectedEof } from "./errors.ts";
import { CR, type DelimiterConfig, type LengthPrefixConfig } from "./options.ts";

/** The decoders: bytes in, whole messages out, for the readers and the decoder streams alike. */

/** A decoder as the readers and the transform streams drive it. */
export interface Decoder {
  readonly queue: ByteQueue;
  /** The most bytes the queue holds of a message not yet complete before the decoder fails it. */
  readonly partialLimit: number;
  /** Decodes `chunk`, handing each complete message to `emit`; throws the framing's errors. */
  push(chunk: Uint8Array, emit: (message: Uint8Array) => void): void;
  /** The next complete message in the queue, if any. */
  next(): Uint8Array | undefined;
  /** At EOF: the last message, if the framing allows one; throws on a partial message. */
  finish(): Uint8Array | undefined;
  /** Empties the queue, returning what it held: the bytes of messages not yet returned. */
  takeBuffered(): Uint8Array;
}

export class DelimiterDecoder implements Decoder {
  readonly queue: ByteQueue = new ByteQueue();
  readonly #delim: Uint8Array;
  readonly #first: number;
  readonly #max: number;
  readonly #stripCR: boolean;
  readonly #unterminated: "error" | "emit";
  /** Where the search for the next delimiter resumes, counted from `queue.start`. */
  #scanned = 0;
  #error: SocketError | null = null;
  readonly partialLimit: number;

  constructor(config: DelimiterConfig) {
    this.partialLimit = config.max + config.delimiter.length - 1 + (config.stripCR ? 1 : 0);
    this.#delim = config.delimiter;
    this.#first = config.delimiter[0]!;
    this.#max = config.max;
    this.#stripCR = config.stripCR;
    this.#unterminated = config.unterminated;
  }

  /** Index of the first delimiter in `arr` at or after `from`, or -1. */
  #find(arr: Uint8Array, from: number): number {
    const d = this.#delim;
    if (d.length === 1) return arr.indexOf(this.#first, from);
    const last = arr.length - d.length;
    for (let i = from; i <= last; i++) {
      i = arr.indexOf(this.#first, i);
      if (i === -1 || i > last) return -1;
      let k = 1;
      while (k < d.length && arr[i + k] === d[k]) k++;
      if (k === d.length) return i;
    }
    return -1;
  }

  /** The message `arr[start, end)`, with a trailing CR dropped if asked, as a new array. */
  #message(arr: Uint8Array, start: number, end: number): Uint8Array {
    if (this.#stripCR && end > start && arr[end - 1] === CR) end--;
    if (end - start > this.#max) throw this.#fail(tooBig("a message", end - start, this.#max));
    return arr.slice(start, end);
  }

  /** After a search found no delimiter in `pending` bytes: fail early if the message must be too long. */
  #checkPending(pending: number): void {
    const least = pending - (this.#delim.length - 1) - (this.#stripCR ? 1 : 0);
    if (least > this.#max) throw this.#fail(tooBig("a message", `at least ${least}`, this.#max));
  }

  #fail(err: SocketError): SocketError {
    this.#error = err;
    this.queue.clear();
    return err;
  }

  push(chunk: Uint8Array, emit: (message: Uint8Array) => void): void {
    if (this.#error !== null) throw this.#error;
    if (this.queue.length > 0) {
      this.queue.append(chunk);
      for (let m = this.next(); m !== undefined; m = this.next()) emit(m);
      return;
    }
    // Nothing buffered: cut messages straight out of the chunk and keep only its tail.
    const dl = this.#delim.length;
    let start = 0;
    for (let pos = this.#find(chunk, 0); pos !== -1; pos = this.#find(chunk, start)) {
      emit(this.#message(chunk, start, pos));
      start = pos + dl;
    }
    const pending = chunk.length - start;
    if (pending > 0) {
      this.#checkPending(pending);
      this.queue.append(chunk.subarray(start));
      this.#scanned = Math.max(0, pending - (dl - 1));
    }
  }

  next(): Uint8Array | undefined {
    if (this.#error !== null) throw this.#error;
    const q = this.queue;
    if (q.length === 0) return undefined;
    const arr = q.view();
    const pos = this.#find(arr, q.start + this.#scanned);
    if (pos === -1) {
      this.#checkPending(q.length);
      this.#scanned = Math.max(0, q.length - (this.#delim.length - 1));
      return undefined;
    }
    const message = this.#message(arr, q.start, pos);
    q.start = pos + this.#delim.length;
    this.#scanned = 0;
    return message;
  }

  finish(): Uint8Array | undefined {
    if (this.#error !== null) throw this.#error;
    const q = this.queue;
    if (q.length === 0) return undefined;
    if (this.#unterminated === "error") {
      throw this.#fail(unexpectedEof(`the stream ended inside a message (${q.length} bytes without a delimiter)`));
    }
    const message = this.#message(q.buf, q.start, q.end);
    q.clear();
    return message;
  }

  takeBuffered(): Uint8Array {
    this.#scanned = 0;
    return this.queue.takeAll();
  }
}

/** The queue always starts at a frame's header, so what is buffered is whole frames' bytes. */
export class LengthPrefixDecoder implements Decoder {
  readonly queue: ByteQueue = new ByteQueue();
  readonly #header: 1 | 2 | 4;
  readonly #little: boolean;
  readonly #max: number;
  #error: SocketError | null = null;
  readonly partialLimit: number;

  constructor(config: LengthPrefixConfig) {
    this.partialLimit = config.headerBytes + config.max;
    this.#header = config.headerBytes;
    this.#little = config.little;
    this.#max = config.max;
  }

  /** Reads the header at `arr[i]`; throws EMSGSIZE at once for a frame over the limit. */
  #readHeader(arr: Uint8Array, i: number): number {
    let n: number;
    if (this.#header === 1) n = arr[i]!;
    else if (this.#header === 2) n = this.#little ? arr[i]! | (arr[i + 1]! << 8) : (arr[i]! << 8) | arr[i + 1]!;
    else if (this.#little) n = (arr[i]! | (arr[i + 1]! << 8) | (arr[i + 2]! << 16)) + arr[i + 3]! * 0x1000000;
    else n = arr[i]! * 0x1000000 + ((arr[i + 1]! << 16) | (arr[i + 2]! << 8) | arr[i + 3]!);
    if (n > this.#max) {
      this.#error = tooBig("a frame", n, this.#max);
      this.queue.clear();
      throw this.#error;
    }
    return n;
  }

  push(chunk: Uint8Array, emit: (message: Uint8Array) => void): void {
    if (this.#error !== null) throw this.#error;
    if (this.queue.length > 0) {
      this.queue.append(chunk);
      for (let m = this.next(); m !== undefined; m = this.next()) emit(m);
      return;
    }
    // Nothing buffered: cut whole frames straight out of the chunk and keep only its tail.
    const h = this.#header;
    let i = 0;
    while (chunk.length - i >= h) {
      const n = this.#readHeader(chunk, i);
      if (chunk.length - i - h < n) break;
      emit(chunk.slice(i + h, i + h + n));
      i += h + n;
    }
    if (i < chunk.length) this.queue.append(chunk.subarray(i));
  }

  next(): Uint8Array | undefined {
    if (this.#error !== null) throw this.#error;
    const q = this.queue;
    if (q.length < this.#header) return undefined;
    const n = this.#readHeader(q.buf, q.start);
    if (q.length - this.#header < n) return undefined;
    q.start += this.#header;
    return q.take(n);
  }

  finish(): Uint8Array | undefined {
    if (this.#error !== null) throw this.#error;
    const q = this.queue;
    if (q.length === 0) return undefined;
    const h = this.#header;
    const detail =
      q.length < h
        ? `the stream ended inside a frame header (${q.length} of ${h} bytes)`
        : `the stream ended inside a frame (${q.length - h} of ${this.#readHeader(q.buf, q.start)} bytes)`;
    this.#error = unexpectedEof(detail);
    q.clear();
    throw this.#error;
  }

  takeBuffered(): Uint8Array {
    return this.queue.takeAll();
  }
}
