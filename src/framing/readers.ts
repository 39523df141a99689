import { invalid } from "../core/errors.ts";
import type { ReadOptions, Socket } from "../core/types.ts";
import { signalOption } from "../core/validate.ts";
import { MAX_READ, MIN_READ } from "./byte-queue.ts";
import { type Decoder, DelimiterDecoder, LengthPrefixDecoder } from "./decoders.ts";
import { unexpectedEof } from "./errors.ts";
import {
  checkHas,
  checkLimit,
  type DelimiterOptions,
  delimiterConfig,
  type LengthPrefixOptions,
  lengthPrefixConfig,
} from "./options.ts";

/** Reading messages from a socket: `readExactly` and the readers, which read ahead into their own buffer. */

/** What the readers need of a socket. */
export type ByteSource = Pick<Socket, "read">;

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
      next: () =>
        this.read().then((value) => (value === null ? { done: true, value: undefined } : { done: false, value })),
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
