import { invalid, SocketError } from "./errors.ts";
import type { ReadOptions, Socket } from "./types.ts";
import { checkOptions as checkOptionsDict, show, signalOption, toBytes } from "./validate.ts";

/**
 * Message framing on top of any unisock stream socket: exact-length reads, delimiter framing
 * (lines) and length-prefixed frames, each as a reader over `socket.read()`, as a writer over
 * `socket.write()`, and as Web Streams transforms for `socket.readable.pipeThrough(...)`.
 * Web APIs only, so it is the same code on every runtime.
 *
 * Errors, all `SocketError`:
 * - `EMSGSIZE`: a message or frame over `maxMessageBytes` / `maxFrameBytes`, on either side. The
 *   reader fails as soon as the limit is certain to be passed: on the read that passes it, so it
 *   never holds more than the limit plus one read (64 KiB at most).
 * - `ECONNRESET`, message "unexpected EOF: ...": the stream ended inside a message (a short
 *   `readExactly`, a partial frame, an unterminated last message). It is what the peer did that
 *   matters to the caller: the connection ended before the message did and the message is lost,
 *   which is what ECONNRESET tells (Node's HTTP client reports a response cut short the same way,
 *   "socket hang up"). EINVAL would blame the caller's arguments and EPIPE/ECLOSED are about the
 *   local side. No kernel reset happened, so the error carries no `errno`.
 * - `EINVAL`: bad options, a message that contains its own delimiter, a chunk that is not bytes.
 *
 * A framing error never closes the socket (the framing does not own it): the caller decides. An
 * error is sticky: the reader or stream stays failed. A decoder stream errors at once, as Web
 * Streams do, so messages it had queued but not yet handed out are dropped with it.
 *
 * The readers read ahead into their own buffer: once a socket is read through one, read it only
 * through that reader (or take the read-ahead back with `takeBuffered()`). `readExactly` never
 * reads ahead. Messages are fresh copies, never views into the read-ahead buffer.
 */

/** What the readers need of a socket. */
export type ByteSource = Pick<Socket, "read">;
/** What the writers need of a socket. */
export type ByteSink = Pick<Socket, "write">;

/** Default `maxMessageBytes` of delimiter framing: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;
/** Default `maxFrameBytes` of length-prefixed framing: 16 MiB (or less, what the header can say). */
export const DEFAULT_MAX_FRAME_BYTES = 16_777_216;

/**
 * Options of delimiter framing: the readers, writers and streams for messages ended by a delimiter.
 */
export interface DelimiterOptions {
  /** The byte sequence that ends each message; a string is UTF-8. Default `"\n"`. */
  delimiter?: string | Uint8Array;
  /** The longest message, delimiter not counted. Default 1 MiB. Longer: `EMSGSIZE`. */
  maxMessageBytes?: number;
  /** Drop one `"\r"` right before the delimiter (CRLF lines). Default false; true for the Line classes. */
  stripCR?: boolean;
  /**
   * What the decoder does with bytes after the last delimiter at EOF. `"error"` (default): an
   * `ECONNRESET` "unexpected EOF", as for a cut-off frame, since a message whose delimiter never
   * came may be truncated. `"emit"`: they are a last message (what line readers of text files do).
   * An EOF right after a delimiter is always a clean end.
   */
  unterminated?: "error" | "emit";
}

/**
 * Options of length-prefixed framing: each frame is a big- or little-endian length header, then that many bytes.
 */
export interface LengthPrefixOptions {
  /** Size of the length header in bytes. Default 4. */
  headerBytes?: 1 | 2 | 4;
  /** Byte order of the header. Default `"big"` (network byte order). */
  endian?: "big" | "little";
  /** The largest payload, header not counted. Default 16 MiB, capped by what the header can hold. */
  maxFrameBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Errors and options

function unexpectedEof(detail: string): SocketError {
  const err = new SocketError("ECONNRESET", `unexpected EOF: ${detail}`, { syscall: "read" });
  delete err.errno; // no system error happened; the peer just stopped early
  return err;
}

function tooBig(what: string, size: number | string, max: number): SocketError {
  return new SocketError("EMSGSIZE", `${what} of ${size} bytes is over the limit of ${max} bytes`);
}

function checkLimit(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative integer, got ${show(value)}`);
  }
  return value;
}

/** The socket (or any object with that method) a framing function reads from or writes to. */
function checkHas(target: unknown, method: "read" | "write"): void {
  if (typeof (target as Record<string, unknown> | null)?.[method] !== "function") {
    throw invalid(`framing needs a socket (an object with ${method}()), got ${show(target)}`);
  }
}

function checkOptions(options: unknown): Readonly<Record<string, unknown>> {
  return checkOptionsDict(options, "framing options");
}

interface DelimiterConfig {
  delimiter: Uint8Array;
  max: number;
  stripCR: boolean;
  unterminated: "error" | "emit";
}

const LF = new Uint8Array([0x0a]);
const CR = 0x0d;

function delimiterConfig(options: DelimiterOptions | undefined, line: boolean): DelimiterConfig {
  const o = checkOptions(options);
  let delimiter = LF;
  if (o.delimiter !== undefined) {
    if (typeof o.delimiter === "string") delimiter = new TextEncoder().encode(o.delimiter);
    else if (o.delimiter instanceof Uint8Array) delimiter = o.delimiter.slice();
    else throw invalid("delimiter must be a string or a Uint8Array");
    if (delimiter.byteLength === 0) throw invalid("delimiter must not be empty");
  }
  const stripCR = o.stripCR === undefined ? line : o.stripCR;
  if (typeof stripCR !== "boolean") throw invalid("stripCR must be a boolean");
  const unterminated = o.unterminated === undefined ? "error" : o.unterminated;
  if (unterminated !== "error" && unterminated !== "emit") throw invalid('unterminated must be "error" or "emit"');
  const max = o.maxMessageBytes === undefined ? DEFAULT_MAX_MESSAGE_BYTES : checkLimit(o.maxMessageBytes, "maxMessageBytes");
  return { delimiter, max, stripCR, unterminated };
}

interface LengthPrefixConfig {
  headerBytes: 1 | 2 | 4;
  little: boolean;
  max: number;
}

function lengthPrefixConfig(options: LengthPrefixOptions | undefined): LengthPrefixConfig {
  const o = checkOptions(options);
  const headerBytes = o.headerBytes === undefined ? 4 : o.headerBytes;
  if (headerBytes !== 1 && headerBytes !== 2 && headerBytes !== 4) throw invalid("headerBytes must be 1, 2 or 4");
  const endian = o.endian === undefined ? "big" : o.endian;
  if (endian !== "big" && endian !== "little") throw invalid('endian must be "big" or "little"');
  const max = o.maxFrameBytes === undefined ? DEFAULT_MAX_FRAME_BYTES : checkLimit(o.maxFrameBytes, "maxFrameBytes");
  return { headerBytes, little: endian === "little", max: Math.min(max, 2 ** (8 * headerBytes) - 1) };
}

// ---------------------------------------------------------------------------------------------
// The read-ahead buffer

/**
 * How much a reader asks its socket for: the size of the last read times two, between these
 * bounds. Reads that fill their buffer ramp up to 64 KiB in a few steps; a connection that sends
 * little (or is idle with part of a message) is read with a small buffer, so it costs what a plain
 * `read()` loop costs, not 64 KiB or more.
 */
const MAX_READ = 65_536;
const MIN_READ = 4096;
const EMPTY = new Uint8Array(0);

/**
 * Bytes received and not yet taken, in `buf[start, end)`. Appending compacts only when the bytes
 * already taken outnumber the live ones, and grows by doubling, so each byte is moved O(1) times.
 */
class ByteQueue {
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

/** A decoder as the readers and the transform streams drive it. */
interface Decoder {
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

class DelimiterDecoder implements Decoder {
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
class LengthPrefixDecoder implements Decoder {
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

// ---------------------------------------------------------------------------------------------
// Reading from a socket

/**
 * Reads exactly `n` bytes into a new array, never more, so the socket can be read on as before.
 * An EOF before the n-th byte — even before the first — is an `ECONNRESET` "unexpected EOF"; the
 * bytes read so far are lost, as they are when `signal` aborts the read.
 */
export async function readExactly(source: ByteSource, n: number, options?: ReadOptions): Promise<Uint8Array> {
  checkHas(source, "read");
  checkLimit(n, "readExactly's byte count");
  const signal = signalOption(options, "read options");
  if (signal?.aborted) throw signal.reason;
  let out: Uint8Array;
  try {
    out = new Uint8Array(n);
  } catch {
    throw invalid(`readExactly cannot hold ${n} bytes in one array`);
  }
  let got = 0;
  while (got < n) {
    const r = await source.read(out.subarray(got), options);
    if (r === null) throw unexpectedEof(`the stream ended after ${got} of ${n} bytes`);
    checkReadCount(r, n - got);
    got += r;
  }
  return out;
}

/** A socket read that resolves with 0 for a non-empty buffer would make the caller spin forever. */
function checkReadCount(r: number, room: number): void {
  if (!Number.isInteger(r) || r < 1 || r > room) {
    throw invalid(`read() resolved with ${String(r)} for a buffer of ${room} bytes`);
  }
}

/** The reader behind DelimitedReader and LengthPrefixedReader. */
export class MessageReader implements AsyncIterable<Uint8Array> {
  readonly #source: ByteSource;
  readonly #decoder: Decoder;
  #eof = false;
  #reading = false;
  /** The size of the next read (see MAX_READ). */
  #readSize = MIN_READ;

  /**
   * Made by the subclasses, which bring the decoder.
   * @ignore
   */
  constructor(source: ByteSource, decoder: Decoder) {
    checkHas(source, "read");
    this.#source = source;
    this.#decoder = decoder;
  }

  /**
   * The next message, or `null` when the stream ended cleanly between messages. One read at a
   * time. An aborted read loses nothing: the next one picks up where it left off.
   */
  read(options?: ReadOptions): Promise<Uint8Array | null> {
    if (this.#reading) return Promise.reject(invalid("a read is already pending on this reader; wait for it first"));
    try {
      // Already aborted: no read starts, not even of a message already buffered.
      const signal = signalOption(options, "read options");
      if (signal?.aborted) throw signal.reason;
      // A message already buffered costs no trip through the socket (nor an async function).
      const message = this.#decoder.next();
      if (message !== undefined) return Promise.resolve(message);
      if (this.#eof) return Promise.resolve(null);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#reading = true;
    return this.#fill(options).finally(() => {
      this.#reading = false;
    });
  }

  async #fill(options: ReadOptions | undefined): Promise<Uint8Array | null> {
    const decoder = this.#decoder;
    const q = decoder.queue;
    for (;;) {
      const size = this.#readSize;
      // Never more than a partial message plus one read: the limit holds to within one read. While
      // reads fill 64 KiB in the middle of a message, the buffer grown for it stays; drained, or
      // with smaller reads (the peer slowed down), it is let go.
      // Half a read's room in the buffer at hand will do, rather than a new buffer for a few bytes more.
      q.reserve(size, decoder.partialLimit + MAX_READ, size < MAX_READ || q.length === 0, size >> 1);
      const into = q.buf.subarray(q.end, q.end + size);
      const r = await this.#source.read(into, options);
      if (r === null) {
        this.#eof = true;
        try {
          return decoder.finish() ?? null;
        } finally {
          q.clear();
        }
      }
      checkReadCount(r, into.length);
      this.#readSize = Math.min(Math.max(2 * r, MIN_READ), MAX_READ);
      q.end += r;
      const message = decoder.next();
      if (message !== undefined) return message;
    }
  }

  /**
   * Takes the bytes read from the socket but not yet returned as messages, to read them some
   * other way (a protocol switching from lines to raw bytes, or to TLS). The reader goes on
   * from an empty buffer.
   */
  takeBuffered(): Uint8Array {
    if (this.#reading) throw invalid("takeBuffered() while a read is pending");
    return this.#decoder.takeBuffered();
  }

  /** Iterates the messages until a clean end; a failed read throws out of the loop. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array, undefined> {
    return {
      next: () => this.read().then((value) => (value === null ? { done: true, value: undefined } : { done: false, value })),
    };
  }
}

/** Reads messages ended by a delimiter from a socket: `for await (const m of new DelimitedReader(socket))`. */
export class DelimitedReader extends MessageReader {
  /**
   * Reads `source` (a socket, or anything with `read()`) from now on.
   *
   * @example NUL-terminated messages
   * ```ts
   * import { connect, DelimitedReader } from "unisock";
   * const s = connect("127.0.0.1:7000");
   * for await (const message of new DelimitedReader(s, { delimiter: "\0" })) console.log(message.length);
   * ```
   */
  constructor(source: ByteSource, options?: DelimiterOptions) {
    super(source, new DelimiterDecoder(delimiterConfig(options, false)));
  }
}

/** A DelimitedReader for text lines: `"\n"`-ended, with a `"\r"` before it dropped (stripCR true). */
export class LineReader extends MessageReader {
  /**
   * Reads `source` (a socket, or anything with `read()`) line by line from now on.
   *
   * @example An SMTP greeting
   * ```ts
   * import { connect, LineReader } from "unisock";
   * const s = connect("127.0.0.1:25");
   * const lines = new LineReader(s);
   * const greeting = new TextDecoder().decode((await lines.read()) ?? new Uint8Array());
   * ```
   */
  constructor(source: ByteSource, options?: DelimiterOptions) {
    super(source, new DelimiterDecoder(delimiterConfig(options, true)));
  }
}

/** Reads length-prefixed frames from a socket; `read()` resolves with a frame's payload. */
export class LengthPrefixedReader extends MessageReader {
  /**
   * Reads `source` (a socket, or anything with `read()`) frame by frame from now on.
   *
   * @example Request and reply with 4-byte big-endian headers
   * ```ts
   * import { connect, LengthPrefixedReader, writeFrame } from "unisock";
   * const s = connect("127.0.0.1:7000");
   * await writeFrame(s, JSON.stringify({ op: "ping" }));
   * const reply = await new LengthPrefixedReader(s).read();
   * ```
   */
  constructor(source: ByteSource, options?: LengthPrefixOptions) {
    super(source, new LengthPrefixDecoder(lengthPrefixConfig(options)));
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

const DEFAULT_DELIMITER = delimiterConfig(undefined, false);
const DEFAULT_LENGTH_PREFIX = lengthPrefixConfig(undefined);

function encodeWith(c: DelimiterConfig, message: Uint8Array | string): Uint8Array {
  const bytes = toBytes(message);
  if (bytes.length > c.max) throw tooBig("a message", bytes.length, c.max);
  if (c.stripCR && bytes[bytes.length - 1] === CR) {
    throw invalid('the message ends with "\\r", which a reader with stripCR would drop');
  }
  const d = c.delimiter;
  const out = new Uint8Array(bytes.length + d.length);
  out.set(bytes);
  out.set(d, bytes.length);
  // The reader cuts at the first delimiter it sees, so that must be the one appended (with a
  // multi-byte delimiter it can also begin inside the message and end inside the delimiter).
  const first = d.length === 1 ? bytes.indexOf(d[0]!) : indexOfSequence(out, d);
  if (first !== -1 && first < bytes.length) {
    throw invalid(`the message contains its delimiter at byte ${first}; it would arrive as two messages`);
  }
  return out;
}

function indexOfSequence(arr: Uint8Array, d: Uint8Array): number {
  const last = arr.length - d.length;
  for (let i = 0; i <= last; i++) {
    i = arr.indexOf(d[0]!, i);
    if (i === -1 || i > last) return -1;
    let k = 1;
    while (k < d.length && arr[i + k] === d[k]) k++;
    if (k === d.length) return i;
  }
  return -1;
}

function frameWith(c: LengthPrefixConfig, payload: Uint8Array | string): Uint8Array {
  const bytes = toBytes(payload);
  const n = bytes.length;
  if (n > c.max) throw tooBig("a frame", n, c.max);
  const h = c.headerBytes;
  const out = new Uint8Array(h + n);
  if (h === 1) out[0] = n;
  else if (h === 2) new DataView(out.buffer).setUint16(0, n, c.little);
  else new DataView(out.buffer).setUint32(0, n, c.little);
  out.set(bytes, h);
  return out;
}

/**
 * A message followed by its delimiter, as one array. A message that contains the delimiter is
 * `EINVAL` (it would arrive as two); one over `maxMessageBytes` is `EMSGSIZE`, as the reader would say.
 */
export function encodeDelimited(message: Uint8Array | string, options?: DelimiterOptions): Uint8Array {
  return encodeWith(options === undefined ? DEFAULT_DELIMITER : delimiterConfig(options, false), message);
}

/** A payload behind its length header, as one array. Over `maxFrameBytes` (or the header's reach): `EMSGSIZE`. */
export function encodeFrame(payload: Uint8Array | string, options?: LengthPrefixOptions): Uint8Array {
  return frameWith(options === undefined ? DEFAULT_LENGTH_PREFIX : lengthPrefixConfig(options), payload);
}

/** Writes one delimited message in a single `write()`. */
export function writeDelimited(
  sink: ByteSink,
  message: Uint8Array | string,
  options?: DelimiterOptions & ReadOptions,
): Promise<void> {
  try {
    checkHas(sink, "write");
    const signal = signalOption(options, "writeDelimited options");
    return sink.write(encodeDelimited(message, options), signal ? { signal } : undefined);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Writes one length-prefixed frame in a single `write()`. */
export function writeFrame(
  sink: ByteSink,
  payload: Uint8Array | string,
  options?: LengthPrefixOptions & ReadOptions,
): Promise<void> {
  try {
    checkHas(sink, "write");
    const signal = signalOption(options, "writeFrame options");
    return sink.write(encodeFrame(payload, options), signal ? { signal } : undefined);
  } catch (err) {
    return Promise.reject(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Web Streams

function chunkBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw invalid("a framing decoder stream takes Uint8Array chunks");
}

type Controller = TransformStreamDefaultController<Uint8Array>;

function decoderTransformer(decoder: Decoder): {
  transform(chunk: Uint8Array, controller: Controller): void;
  flush(controller: Controller): void;
} {
  return {
    transform(chunk, controller) {
      decoder.push(chunkBytes(chunk), (m) => controller.enqueue(m));
    },
    flush(controller) {
      const last = decoder.finish();
      if (last !== undefined) controller.enqueue(last);
    },
  };
}

/** Splits a byte stream into messages on a delimiter: `readable.pipeThrough(new DelimiterDecoderStream({ delimiter: "\0" }))`. */
export class DelimiterDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /** A decoder for `options.delimiter` (default `"\n"`). */
  constructor(options?: DelimiterOptions) {
    super(decoderTransformer(new DelimiterDecoder(delimiterConfig(options, false))));
  }
}

/** Splits a byte stream into lines (`"\n"`, a `"\r"` before it dropped), each without its line end. */
export class LineDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * A line decoder.
   *
   * @example
   * ```ts
   * import { connect, LineDecoderStream } from "unisock";
   * const s = connect("127.0.0.1:7000");
   * const lines = s.readable.pipeThrough(new LineDecoderStream()).pipeThrough(new TextDecoderStream());
   * for await (const line of lines) console.log(line);
   * ```
   */
  constructor(options?: DelimiterOptions) {
    super(decoderTransformer(new DelimiterDecoder(delimiterConfig(options, true))));
  }
}

/** Splits a byte stream into length-prefixed frames; each chunk out is one payload. */
export class LengthPrefixDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /** A frame decoder for the header `options` describe (default 4 bytes, big-endian). */
  constructor(options?: LengthPrefixOptions) {
    super(decoderTransformer(new LengthPrefixDecoder(lengthPrefixConfig(options))));
  }
}

/** Each chunk in is one message; out comes the message with its delimiter appended. */
export class DelimiterEncoderStream extends TransformStream<Uint8Array | string, Uint8Array> {
  /**
   * An encoder for `options.delimiter` (default `"\n"`); a message that contains it is `EINVAL`.
   */
  constructor(options?: DelimiterOptions) {
    const config = delimiterConfig(options, false);
    super({ transform: (chunk, controller) => controller.enqueue(encodeWith(config, chunk)) });
  }
}

/** Each chunk in is one line (without its line end); out comes the line with `"\n"` appended. */
export class LineEncoderStream extends TransformStream<Uint8Array | string, Uint8Array> {
  /** A line encoder. */
  constructor(options?: DelimiterOptions) {
    const config = delimiterConfig(options, true);
    super({ transform: (chunk, controller) => controller.enqueue(encodeWith(config, chunk)) });
  }
}

/** Each chunk in is one payload; out comes the payload behind its length header. */
export class LengthPrefixEncoderStream extends TransformStream<Uint8Array | string, Uint8Array> {
  /** A frame encoder for the header `options` describe (default 4 bytes, big-endian). */
  constructor(options?: LengthPrefixOptions) {
    const config = lengthPrefixConfig(options);
    super({ transform: (chunk, controller) => controller.enqueue(frameWith(config, chunk)) });
  }
}
