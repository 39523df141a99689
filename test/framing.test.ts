import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ByteSource,
  connect,
  DelimitedReader,
  DelimiterDecoderStream,
  DelimiterEncoderStream,
  type DelimiterOptions,
  encodeDelimited,
  encodeFrame,
  LengthPrefixDecoderStream,
  LengthPrefixedReader,
  LengthPrefixEncoderStream,
  type LengthPrefixOptions,
  LineDecoderStream,
  LineEncoderStream,
  LineReader,
  listen,
  readExactly,
  SocketError,
  writeDelimited,
  writeFrame,
} from "unisock";
import * as framing from "../src/framing.ts";

/*
 * Framing works on any Socket through its public interface, so most tests drive it with an
 * in-memory socket that hands out the bytes in the chunks a test chooses; the last block runs it
 * over real TCP connections.
 */

const NUM_RUNS = 200;
const te = new TextEncoder();
const td = new TextDecoder();
const bytes = (s: string): Uint8Array => te.encode(s);
const text = (b: Uint8Array): string => td.decode(b);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}

/** Cuts `data` at the given points (taken modulo its length + 1); empty chunks are allowed. */
function split(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(data.slice(prev, p));
    prev = p;
  }
  chunks.push(data.slice(prev));
  return chunks;
}

/** A socket's read side, in memory: `read()` hands out the chunks given, never more than one at a time. */
class FakeSocket implements ByteSource {
  readonly #chunks: Uint8Array[];
  #offset = 0;
  delivered = 0;
  reads = 0;
  /** The buffer of the latest read (while one is pending: the one the reader holds), and the largest seen. */
  lastInto: Uint8Array = new Uint8Array(0);
  largestBuffer = 0;
  #waiter: (() => void) | null = null;
  #ended: boolean;

  constructor(chunks: readonly Uint8Array[] = [], ended = true) {
    this.#chunks = chunks.filter((c) => c.length > 0).map((c) => c.slice());
    this.#ended = ended;
  }

  push(chunk: Uint8Array | string): void {
    this.#chunks.push(typeof chunk === "string" ? bytes(chunk) : chunk);
    this.#waiter?.();
  }

  end(): void {
    this.#ended = true;
    this.#waiter?.();
  }

  async read(into: Uint8Array, options?: { signal?: AbortSignal }): Promise<number | null> {
    this.reads++;
    this.lastInto = into;
    this.largestBuffer = Math.max(this.largestBuffer, into.buffer.byteLength);
    if (into.length === 0) return 0;
    while (this.#chunks.length === 0 && !this.#ended) {
      await new Promise<void>((resolve, reject) => {
        const signal = options?.signal;
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = (): void => {
          this.#waiter = null;
          reject(signal!.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#waiter = () => {
          this.#waiter = null;
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
      });
    }
    const chunk = this.#chunks[0];
    if (chunk === undefined) return null;
    const n = Math.min(into.length, chunk.length - this.#offset);
    into.set(chunk.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    if (this.#offset === chunk.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
    this.delivered += n;
    return n;
  }
}

/** A socket's write side, in memory. */
class FakeSink {
  writes: Uint8Array[] = [];
  options: unknown[] = [];
  async write(data: Uint8Array | string, options?: { signal?: AbortSignal }): Promise<void> {
    this.writes.push(typeof data === "string" ? bytes(data) : data);
    this.options.push(options);
  }
}

interface Outcome {
  messages: Uint8Array[];
  error: unknown;
}

async function drainStream(
  chunks: readonly Uint8Array[],
  decoder: TransformStream<Uint8Array, Uint8Array>,
): Promise<Outcome> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c.slice());
      controller.close();
    },
  });
  const reader = source.pipeThrough(decoder).getReader();
  const messages: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { messages, error: undefined };
      messages.push(value);
    }
  } catch (error) {
    return { messages, error };
  }
}

/** Writes `inputs` one by one while reading what comes out, until the end or an error. */
async function drainEncoder<I>(stream: TransformStream<I, Uint8Array>, inputs: readonly I[]): Promise<Outcome> {
  const source = new ReadableStream<I>({
    start(controller) {
      for (const i of inputs) controller.enqueue(i);
      controller.close();
    },
  });
  const messages: Uint8Array[] = [];
  try {
    for await (const m of source.pipeThrough(stream)) messages.push(m);
    return { messages, error: undefined };
  } catch (error) {
    return { messages, error };
  }
}

async function drainReader(reader: { read(): Promise<Uint8Array | null> }): Promise<Outcome> {
  const messages: Uint8Array[] = [];
  try {
    for (let m = await reader.read(); m !== null; m = await reader.read()) messages.push(m);
    return { messages, error: undefined };
  } catch (error) {
    return { messages, error };
  }
}

function indexOfSeq(arr: Uint8Array, d: Uint8Array, from: number): number {
  outer: for (let i = from; i + d.length <= arr.length; i++) {
    for (let k = 0; k < d.length; k++) if (arr[i + k] !== d[k]) continue outer;
    return i;
  }
  return -1;
}

/** What a delimiter decoder must do with the whole stream at once: a naive model to check against. */
function modelDelimited(
  data: Uint8Array,
  d: Uint8Array,
  max: number,
  stripCR: boolean,
  emitLast: boolean,
): { messages: Uint8Array[]; code?: string } {
  const messages: Uint8Array[] = [];
  let start = 0;
  for (let pos = indexOfSeq(data, d, 0); pos !== -1; pos = indexOfSeq(data, d, start)) {
    let end = pos;
    if (stripCR && end > start && data[end - 1] === 0x0d) end--;
    if (end - start > max) return { messages, code: "EMSGSIZE" };
    messages.push(data.slice(start, end));
    start = pos + d.length;
  }
  const rest = data.length - start;
  if (rest === 0) return { messages };
  // The decoder cannot know the stream will end: a tail that is certainly too long is EMSGSIZE.
  if (rest - (d.length - 1) - (stripCR ? 1 : 0) > max) return { messages, code: "EMSGSIZE" };
  if (!emitLast) return { messages, code: "ECONNRESET" };
  let end = data.length;
  if (stripCR && data[end - 1] === 0x0d) end--;
  if (end - start > max) return { messages, code: "EMSGSIZE" };
  messages.push(data.slice(start, end));
  return { messages };
}

function modelFrames(
  data: Uint8Array,
  h: 1 | 2 | 4,
  little: boolean,
  max: number,
): { messages: Uint8Array[]; code?: string } {
  const messages: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let i = 0;
  while (i < data.length) {
    if (data.length - i < h) return { messages, code: "ECONNRESET" };
    const n = h === 1 ? view.getUint8(i) : h === 2 ? view.getUint16(i, little) : view.getUint32(i, little);
    if (n > max) return { messages, code: "EMSGSIZE" };
    if (data.length - i - h < n) return { messages, code: "ECONNRESET" };
    messages.push(data.slice(i + h, i + h + n));
    i += h + n;
  }
  return { messages };
}

function expectSocketError(err: unknown, code: string): void {
  expect(err).toBeInstanceOf(SocketError);
  expect((err as SocketError).code).toBe(code);
}

/** Bytes drawn mostly from a few values that delimiters are also made of, so they collide often. */
const tightByte = fc.oneof(fc.constantFrom(0x0a, 0x0d, 0x61, 0x62), fc.integer({ min: 0, max: 255 }));
const tightBytes = (maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc.array(tightByte, { maxLength }).map((a) => Uint8Array.from(a));
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });
const headerArb = fc.constantFrom<1 | 2 | 4>(1, 2, 4);
const endianArb = fc.constantFrom<"big" | "little">("big", "little");

describe("readExactly", () => {
  it("returns exactly n bytes however the stream is cut, and leaves the rest unread", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), cutsArb, fc.nat(), async (data, cuts, k) => {
        const n = k % (data.length + 1);
        const socket = new FakeSocket(split(data, cuts));
        expect(await readExactly(socket, n)).toEqual(data.slice(0, n));
        expect(socket.delivered).toBe(n);
        const rest = new Uint8Array(data.length);
        let got = 0;
        for (
          let r = await socket.read(rest.subarray(got));
          r !== null && got + r <= data.length;
          r = await socket.read(rest.subarray(got))
        ) {
          got += r;
          if (got === data.length) break;
        }
        expect(rest.subarray(0, got)).toEqual(data.slice(n));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("rejects with an ECONNRESET 'unexpected EOF' when the stream ends early", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 100 }),
        cutsArb,
        fc.integer({ min: 1, max: 50 }),
        async (data, cuts, extra) => {
          const err = await readExactly(new FakeSocket(split(data, cuts)), data.length + extra).catch(
            (e: unknown) => e,
          );
          expectSocketError(err, "ECONNRESET");
          expect((err as Error).message).toContain("unexpected EOF");
          expect((err as Error).message).toContain(`after ${data.length} of ${data.length + extra} bytes`);
          expect((err as SocketError).errno).toBeUndefined();
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("treats an EOF before the first byte as early too", async () => {
    const err = await readExactly(new FakeSocket([]), 4).catch((e: unknown) => e);
    expectSocketError(err, "ECONNRESET");
  });

  it("reads nothing for n = 0 and rejects a bad count with EINVAL", async () => {
    const socket = new FakeSocket([bytes("abc")]);
    expect(await readExactly(socket, 0)).toEqual(new Uint8Array(0));
    expect(socket.delivered).toBe(0);
    for (const n of [-1, 1.5, Number.NaN, "3" as unknown as number]) {
      expectSocketError(await readExactly(socket, n).catch((e: unknown) => e), "EINVAL");
    }
  });

  it("passes the signal to the socket, and an abort rejects with its reason", async () => {
    const socket = new FakeSocket([], false);
    const controller = new AbortController();
    const p = readExactly(socket, 3, { signal: controller.signal });
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
  });
});

describe("delimiter framing", () => {
  const delimiterArb = fc.oneof(
    fc.constant(Uint8Array.of(0x0a)),
    fc.array(tightByte, { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a)),
  );

  it("gets every message back, however the stream is cut (stream and reader)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(tightBytes(40), { maxLength: 12 }),
        delimiterArb,
        cutsArb,
        async (candidates, d, cuts) => {
          const options: DelimiterOptions = { delimiter: d };
          // The encoder refuses exactly the messages in which the reader would find the delimiter early.
          const messages = candidates.filter((m) => {
            const clean = indexOfSeq(concat([m, d]), d, 0) === m.length;
            let refused: unknown;
            try {
              encodeDelimited(m, options);
            } catch (e) {
              refused = e;
            }
            if (clean) expect(refused).toBeUndefined();
            else expectSocketError(refused, "EINVAL");
            return clean;
          });
          const wire = concat(messages.map((m) => encodeDelimited(m, options)));
          const chunks = split(wire, cuts);
          const viaStream = await drainStream(chunks, new DelimiterDecoderStream(options));
          expect(viaStream.error).toBeUndefined();
          expect(viaStream.messages).toEqual(messages);
          const viaReader = await drainReader(new DelimitedReader(new FakeSocket(chunks), options));
          expect(viaReader.error).toBeUndefined();
          expect(viaReader.messages).toEqual(messages);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("decodes random bytes exactly as a whole-stream model does, or fails with its SocketError", async () => {
    const optionsArb = fc.record({
      d: delimiterArb,
      max: fc.integer({ min: 0, max: 30 }),
      stripCR: fc.boolean(),
      emitLast: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(tightBytes(200), optionsArb, cutsArb, async (data, o, cuts) => {
        const options: DelimiterOptions = {
          delimiter: o.d,
          maxMessageBytes: o.max,
          stripCR: o.stripCR,
          unterminated: o.emitLast ? "emit" : "error",
        };
        const expected = modelDelimited(data, o.d, o.max, o.stripCR, o.emitLast);
        const chunks = split(data, cuts);

        const viaReader = await drainReader(new DelimitedReader(new FakeSocket(chunks), options));
        expect(viaReader.messages).toEqual(expected.messages);
        if (expected.code === undefined) expect(viaReader.error).toBeUndefined();
        else expectSocketError(viaReader.error, expected.code);

        // A stream that errors drops what its reader had not taken yet: a prefix arrives.
        const viaStream = await drainStream(chunks, new DelimiterDecoderStream(options));
        expect(expected.messages.slice(0, viaStream.messages.length)).toEqual(viaStream.messages);
        if (expected.code === undefined) {
          expect(viaStream.error).toBeUndefined();
          expect(viaStream.messages.length).toBe(expected.messages.length);
        } else expectSocketError(viaStream.error, expected.code);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("takes a message of exactly maxMessageBytes and refuses one byte more with EMSGSIZE", async () => {
    const ok = await drainReader(new DelimitedReader(new FakeSocket([bytes("abcd\nefghi\n")]), { maxMessageBytes: 4 }));
    expect(ok.messages.map(text)).toEqual(["abcd"]);
    expectSocketError(ok.error, "EMSGSIZE");
    expect(() => encodeDelimited("abcde", { maxMessageBytes: 4 })).toThrow(/EMSGSIZE/);
    expect(text(encodeDelimited("abcd", { maxMessageBytes: 4 }))).toBe("abcd\n");
  });

  it("fails an endless message early instead of buffering it", async () => {
    const max = 1000;
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 4096;
        controller.enqueue(new Uint8Array(4096).fill(0x61));
      },
    });
    const reader = endless.pipeThrough(new DelimiterDecoderStream({ maxMessageBytes: max })).getReader();
    expectSocketError(await reader.read().catch((e: unknown) => e), "EMSGSIZE");
    expect(pulled).toBeLessThanOrEqual(4096 * 4);

    const socket = {
      delivered: 0,
      async read(into: Uint8Array): Promise<number> {
        into.fill(0x61);
        this.delivered += into.length;
        return into.length;
      },
    };
    const err = await new LineReader(socket, { maxMessageBytes: max }).read().catch((e: unknown) => e);
    expectSocketError(err, "EMSGSIZE");
    expect(socket.delivered).toBeLessThanOrEqual(256 * 1024);
  });

  it("splits on multi-byte delimiters cut across chunks", async () => {
    const chunks = ["one\r", "\ntw", "o\r\n\r", "\nthree\r\n"].map(bytes);
    const out = await drainStream(chunks, new DelimiterDecoderStream({ delimiter: "\r\n" }));
    expect(out.messages.map(text)).toEqual(["one", "two", "", "three"]);
    const nul = await drainReader(
      new DelimitedReader(new FakeSocket([Uint8Array.of(1, 0, 0, 2, 0, 0)]), { delimiter: Uint8Array.of(0, 0) }),
    );
    expect(nul.messages).toEqual([Uint8Array.of(1), Uint8Array.of(2)]);
  });

  it("rejects bad options with EINVAL", () => {
    const bad: unknown[] = [
      { delimiter: "" },
      { delimiter: new Uint8Array(0) },
      { delimiter: 10 },
      { maxMessageBytes: -1 },
      { maxMessageBytes: 1.5 },
      { maxMessageBytes: Number.POSITIVE_INFINITY },
      { stripCR: "yes" },
      { unterminated: "drop" },
      "\n",
    ];
    for (const options of bad) {
      expect(() => new DelimiterDecoderStream(options as DelimiterOptions), JSON.stringify(options)).toThrow(
        SocketError,
      );
      expect(() => new DelimitedReader(new FakeSocket(), options as DelimiterOptions)).toThrow(/EINVAL/);
    }
    expect(() => new DelimitedReader({} as ByteSource)).toThrow(/EINVAL/);
  });
});

describe("lines", () => {
  it("drops a CR before the LF, keeps a CR elsewhere, and keeps empty lines", async () => {
    const wire = bytes("a\r\nb\n\r\n\nc\rd\r\r\n");
    const out = await drainStream(split(wire, [3, 7]), new LineDecoderStream());
    expect(out.error).toBeUndefined();
    expect(out.messages.map(text)).toEqual(["a", "b", "", "", "c\rd\r"]);
    const raw = await drainStream([wire], new DelimiterDecoderStream());
    expect(raw.messages.map(text)).toEqual(["a\r", "b", "\r", "", "c\rd\r\r"]);
  });

  it("fails an unterminated last line by default, and emits it with unterminated: 'emit'", async () => {
    const chunks = [bytes("first\nsecond")];
    const strict = await drainReader(new LineReader(new FakeSocket(chunks)));
    expect(strict.messages.map(text)).toEqual(["first"]);
    expectSocketError(strict.error, "ECONNRESET");
    expect((strict.error as Error).message).toMatch(/unexpected EOF.*6 bytes without a delimiter/);
    const lenient = await drainReader(
      new LineReader(new FakeSocket([bytes("first\nsecond\r")]), { unterminated: "emit" }),
    );
    expect(lenient.error).toBeUndefined();
    expect(lenient.messages.map(text)).toEqual(["first", "second"]);
    const viaStream = await drainStream(chunks, new LineDecoderStream({ unterminated: "emit" }));
    expect(viaStream.messages.map(text)).toEqual(["first", "second"]);
  });

  it("ends cleanly at an EOF right after a line end, and reads null from then on", async () => {
    const reader = new LineReader(new FakeSocket([bytes("x\n")]));
    expect(text((await reader.read())!)).toBe("x");
    expect(await reader.read()).toBeNull();
    expect(await reader.read()).toBeNull();
  });

  it("iterates with for await", async () => {
    const seen: string[] = [];
    for await (const line of new LineReader(new FakeSocket([bytes("α\nβ"), bytes("\n")]))) seen.push(text(line));
    expect(seen).toEqual(["α", "β"]);
  });

  it("round-trips through LineEncoderStream and LineDecoderStream", async () => {
    const lines = ["hello", "", "wörld", "tab\there"];
    const encoded = new ReadableStream<string>({
      start(c) {
        for (const l of lines) c.enqueue(l);
        c.close();
      },
    }).pipeThrough(new LineEncoderStream());
    const out: string[] = [];
    for await (const l of encoded.pipeThrough(new LineDecoderStream())) out.push(text(l));
    expect(out).toEqual(lines);
  });

  it("refuses to write a line the reader would change", async () => {
    const sink = new FakeSink();
    await expect(writeDelimited(sink, "two\nlines")).rejects.toThrow(/EINVAL.*delimiter/);
    const encoded = await drainEncoder(new LineEncoderStream(), ["fine", "ends in CR\r"]);
    expect(encoded.messages.map(text)).toEqual(["fine\n"]);
    expectSocketError(encoded.error, "EINVAL");
    expect(sink.writes).toHaveLength(0);
  });

  it("hands back a partly read message with takeBuffered(), and reads on from an empty buffer", async () => {
    const socket = new FakeSocket([bytes("a\nbcdef")], false);
    const reader = new LineReader(socket);
    expect(text((await reader.read())!)).toBe("a");
    const controller = new AbortController();
    const pending = reader.read({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error("switch protocols"));
    await expect(pending).rejects.toThrow("switch protocols");
    expect(text(reader.takeBuffered())).toBe("bcdef");
    socket.push("xy\n");
    expect(text((await reader.read())!)).toBe("xy");

    const frames = new FakeSocket([Uint8Array.of(0, 0, 0, 5, 1, 2)], false);
    const frameReader = new LengthPrefixedReader(frames);
    const stop = new AbortController();
    const waiting = frameReader.read({ signal: stop.signal });
    await new Promise((r) => setTimeout(r, 5));
    stop.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    expect(frameReader.takeBuffered()).toEqual(Uint8Array.of(0, 0, 0, 5, 1, 2));
  });

  it("leaves the read-ahead to takeBuffered()", async () => {
    const reader = new LineReader(new FakeSocket([bytes("HEADER\r\nraw bytes")]));
    expect(text((await reader.read())!)).toBe("HEADER");
    expect(text(reader.takeBuffered())).toBe("raw bytes");
    expect(reader.takeBuffered()).toHaveLength(0);
  });
});

describe("length-prefixed framing", () => {
  const frameOptionsArb = fc.record({ headerBytes: headerArb, endian: endianArb });

  it("gets every frame back for every header size and byte order, however the stream is cut", async () => {
    await fc.assert(
      fc.asyncProperty(
        frameOptionsArb,
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }),
        cutsArb,
        async (o, candidates, cuts) => {
          const options: LengthPrefixOptions = o;
          const limit = 2 ** (8 * o.headerBytes) - 1;
          const frames = candidates.filter((f) => f.length <= limit);
          const wire = concat(frames.map((f) => encodeFrame(f, options)));
          expect(wire.length).toBe(frames.reduce((n, f) => n + f.length + o.headerBytes, 0));
          const chunks = split(wire, cuts);
          const viaStream = await drainStream(chunks, new LengthPrefixDecoderStream(options));
          expect(viaStream.error).toBeUndefined();
          expect(viaStream.messages).toEqual(frames);
          const viaReader = await drainReader(new LengthPrefixedReader(new FakeSocket(chunks), options));
          expect(viaReader.error).toBeUndefined();
          expect(viaReader.messages).toEqual(frames);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it("writes the header in the byte order asked", () => {
    const payload = new Uint8Array(0x0102);
    expect(encodeFrame(payload, { headerBytes: 2 }).subarray(0, 2)).toEqual(Uint8Array.of(1, 2));
    expect(encodeFrame(payload, { headerBytes: 2, endian: "little" }).subarray(0, 2)).toEqual(Uint8Array.of(2, 1));
    expect(encodeFrame(payload).subarray(0, 4)).toEqual(Uint8Array.of(0, 0, 1, 2));
    expect(encodeFrame(payload, { endian: "little" }).subarray(0, 4)).toEqual(Uint8Array.of(2, 1, 0, 0));
    expect(encodeFrame("hi", { headerBytes: 1 })).toEqual(Uint8Array.of(2, 0x68, 0x69));
  });

  it("decodes random bytes exactly as a whole-stream model does, or fails with its SocketError", async () => {
    const optionsArb = fc.record({ headerBytes: headerArb, endian: endianArb, max: fc.integer({ min: 0, max: 40 }) });
    // Small header values, so that whole frames turn up in random bytes.
    const dataArb = fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 255 })), {
      maxLength: 200,
    });
    await fc.assert(
      fc.asyncProperty(dataArb, optionsArb, cutsArb, async (raw, o, cuts) => {
        const data = Uint8Array.from(raw);
        const options: LengthPrefixOptions = { headerBytes: o.headerBytes, endian: o.endian, maxFrameBytes: o.max };
        const expected = modelFrames(data, o.headerBytes, o.endian === "little", o.max);
        const chunks = split(data, cuts);

        const viaReader = await drainReader(new LengthPrefixedReader(new FakeSocket(chunks), options));
        expect(viaReader.messages).toEqual(expected.messages);
        if (expected.code === undefined) expect(viaReader.error).toBeUndefined();
        else expectSocketError(viaReader.error, expected.code);

        const viaStream = await drainStream(chunks, new LengthPrefixDecoderStream(options));
        expect(expected.messages.slice(0, viaStream.messages.length)).toEqual(viaStream.messages);
        if (expected.code === undefined) expect(viaStream.messages.length).toBe(expected.messages.length);
        else expectSocketError(viaStream.error, expected.code);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("refuses a frame over maxFrameBytes from its header alone", async () => {
    const socket = new FakeSocket([Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3)]);
    const err = await new LengthPrefixedReader(socket).read().catch((e: unknown) => e);
    expectSocketError(err, "EMSGSIZE");
    expect((err as Error).message).toContain(`${2 ** 32 - 1} bytes`);
    const exact = await drainStream(
      [Uint8Array.of(0, 3, 1, 2, 3, 0, 4)],
      new LengthPrefixDecoderStream({ headerBytes: 2, maxFrameBytes: 3 }),
    );
    expect(exact.messages).toEqual([Uint8Array.of(1, 2, 3)]);
    expectSocketError(exact.error, "EMSGSIZE");
  });

  it("refuses to write a frame its header cannot hold, or over maxFrameBytes", async () => {
    const sink = new FakeSink();
    await expect(writeFrame(sink, new Uint8Array(256), { headerBytes: 1 })).rejects.toThrow(/EMSGSIZE/);
    await expect(writeFrame(sink, new Uint8Array(65_536), { headerBytes: 2 })).rejects.toThrow(/EMSGSIZE/);
    await expect(writeFrame(sink, new Uint8Array(11), { maxFrameBytes: 10 })).rejects.toThrow(/EMSGSIZE/);
    expect(sink.writes).toHaveLength(0);
    await writeFrame(sink, new Uint8Array(255), { headerBytes: 1 });
    expect(sink.writes).toHaveLength(1);
    expect(sink.writes[0]!.length).toBe(256);
  });

  it("reports a frame cut short by EOF as ECONNRESET 'unexpected EOF', in the header or the payload", async () => {
    const inHeader = await drainReader(
      new LengthPrefixedReader(new FakeSocket([Uint8Array.of(0, 0, 0, 1, 0x41, 0, 0)])),
    );
    expect(inHeader.messages).toEqual([Uint8Array.of(0x41)]);
    expectSocketError(inHeader.error, "ECONNRESET");
    expect((inHeader.error as Error).message).toContain("2 of 4 bytes");
    const inPayload = await drainStream([Uint8Array.of(5, 1, 2)], new LengthPrefixDecoderStream({ headerBytes: 1 }));
    expectSocketError(inPayload.error, "ECONNRESET");
    expect((inPayload.error as Error).message).toContain("2 of 5 bytes");
  });

  it("rejects bad options with EINVAL", () => {
    for (const options of [
      { headerBytes: 3 },
      { headerBytes: 8 },
      { endian: "middle" },
      { endian: null },
      { maxFrameBytes: -5 },
      5,
    ]) {
      expect(() => new LengthPrefixDecoderStream(options as LengthPrefixOptions)).toThrow(/EINVAL/);
      expect(() => encodeFrame("x", options as LengthPrefixOptions)).toThrow(/EINVAL/);
    }
    // null is the defaults, as for every options argument (WebIDL's rule for dictionaries).
    expect(encodeFrame("x", null as unknown as LengthPrefixOptions)).toEqual(encodeFrame("x"));
  });

  it("round-trips through the encoder and decoder streams", async () => {
    const frames = [bytes("a"), new Uint8Array(0), new Uint8Array(1000).fill(7)];
    const encoded = new ReadableStream<Uint8Array>({
      start(c) {
        for (const f of frames) c.enqueue(f);
        c.close();
      },
    }).pipeThrough(new LengthPrefixEncoderStream({ headerBytes: 2, endian: "little" }));
    const out: Uint8Array[] = [];
    for await (const f of encoded.pipeThrough(new LengthPrefixDecoderStream({ headerBytes: 2, endian: "little" })))
      out.push(f);
    expect(out).toEqual(frames);
  });
});

describe("writers", () => {
  it("write each message in one write, passing the signal on", async () => {
    const sink = new FakeSink();
    const signal = new AbortController().signal;
    await writeDelimited(sink, "one");
    await writeDelimited(sink, Uint8Array.of(1, 2), { delimiter: Uint8Array.of(0), signal });
    await writeFrame(sink, "xy", { headerBytes: 2, signal });
    expect(sink.writes).toEqual([bytes("one\n"), Uint8Array.of(1, 2, 0), Uint8Array.of(0, 2, 0x78, 0x79)]);
    expect(sink.options).toEqual([undefined, { signal }, { signal }]);
  });

  it("DelimiterEncoderStream refuses a message containing its delimiter", async () => {
    const encoded = await drainEncoder(new DelimiterEncoderStream({ delimiter: "--" }), ["a-b", "a--b"]);
    expect(encoded.messages.map(text)).toEqual(["a-b--"]);
    expectSocketError(encoded.error, "EINVAL");
  });
});

describe("readers", () => {
  it("allow one read at a time", async () => {
    const socket = new FakeSocket([], false);
    const reader = new LineReader(socket);
    const first = reader.read();
    expectSocketError(await reader.read().catch((e: unknown) => e), "EINVAL");
    socket.push("x\n");
    expect(text((await first)!)).toBe("x");
  });

  it("lose nothing when a read is aborted", async () => {
    const socket = new FakeSocket([bytes("par")], false);
    const reader = new LineReader(socket);
    const controller = new AbortController();
    const pending = reader.read({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error("timeout"));
    await expect(pending).rejects.toThrow("timeout");
    socket.push("tial\nnext\n");
    socket.end();
    expect((await drainReader(reader)).messages.map(text)).toEqual(["partial", "next"]);
  });

  it("refuse a source whose read() resolves with 0 for a non-empty buffer (it would spin)", async () => {
    const zero = { read: async (): Promise<number> => 0 };
    expectSocketError(await new LineReader(zero).read().catch((e: unknown) => e), "EINVAL");
    expectSocketError(await readExactly(zero, 1).catch((e: unknown) => e), "EINVAL");
  });
});

/** A peer that never stops sending: each read gets `chunk(room)` bytes of `fill`, as a socket with much buffered would. */
class FloodSocket implements ByteSource {
  delivered = 0;
  largestBuffer = 0;
  constructor(
    readonly fill: number,
    readonly chunk: (room: number) => number = (room) => room,
  ) {}
  async read(into: Uint8Array): Promise<number> {
    this.largestBuffer = Math.max(this.largestBuffer, into.buffer.byteLength);
    const n = Math.max(1, Math.min(into.length, this.chunk(into.length)));
    into.fill(this.fill, 0, n);
    this.delivered += n;
    return n;
  }
}

/** The most a reader asks of its socket at once: the "one read" the limits hold to. */
const ONE_READ = 65_536;
/** What a plain `read()` loop with a 16 KiB buffer holds per connection: a reader waiting on a partial message holds no more. */
const PLAIN_LOOP_BUFFER = 16_384;

describe("reader memory", () => {
  const partials: Array<[string, () => FakeSocket, (s: FakeSocket) => { read(): Promise<Uint8Array | null> }]> = [
    ["LineReader, 25 bytes of a line", () => new FakeSocket([bytes("x".repeat(25))], false), (s) => new LineReader(s)],
    [
      "DelimitedReader, 25 bytes",
      () => new FakeSocket([bytes("y".repeat(25))], false),
      (s) => new DelimitedReader(s, { delimiter: "\r\n" }),
    ],
    [
      "LengthPrefixedReader, 3 bytes of a header",
      () => new FakeSocket([new Uint8Array([0, 1, 0])], false),
      (s) => new LengthPrefixedReader(s),
    ],
    [
      "LengthPrefixedReader, 25 bytes of a 1 MiB frame",
      () => new FakeSocket([concat([new Uint8Array([0, 16, 0, 0]), new Uint8Array(21)])], false),
      (s) => new LengthPrefixedReader(s),
    ],
  ];
  for (const [name, makeSocket, makeReader] of partials) {
    it(`a reader waiting on part of a message holds a small buffer: ${name}`, async () => {
      const socket = makeSocket();
      void makeReader(socket).read();
      await new Promise((r) => setTimeout(r, 5));
      expect(socket.reads).toBe(2); // the partial message was read; the next read is pending
      expect(socket.lastInto.buffer.byteLength).toBeLessThanOrEqual(PLAIN_LOOP_BUFFER);
    });
  }

  it("a reader lets a burst's buffer go once the peer slows down", async () => {
    const line = bytes(`${"z".repeat(999)}\n`);
    const burst = concat(Array.from({ length: 1000 }, () => line)); // 1 MB of lines in one chunk
    const frame = encodeFrame(new Uint8Array(1 << 20)); // one 1 MiB frame
    const cases: Array<[FakeSocket, { read(): Promise<Uint8Array | null> }]> = [];
    const lines = new FakeSocket([burst, bytes("partial")], false);
    cases.push([lines, new LineReader(lines)]);
    const frames = new FakeSocket([frame, new Uint8Array([0, 0, 0, 9, 1, 2])], false);
    cases.push([frames, new LengthPrefixedReader(frames)]);
    for (const [socket, reader] of cases) {
      let messages = 0;
      const done = (async () => {
        while ((await reader.read()) !== null) messages++;
      })();
      await new Promise((r) => setTimeout(r, 20));
      expect(messages).toBeGreaterThan(0);
      expect(socket.largestBuffer).toBeGreaterThan(PLAIN_LOOP_BUFFER); // it did grow for the burst
      expect(socket.lastInto.buffer.byteLength).toBeLessThanOrEqual(PLAIN_LOOP_BUFFER);
      socket.end();
      await expect(done).rejects.toMatchObject({ code: "ECONNRESET" }); // the partial message at EOF
    }
  });

  it("EMSGSIZE comes within one read of maxMessageBytes, however much the peer has sent", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1 << 20 }),
        fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined }),
        fc.boolean(),
        async (max, chunk, line) => {
          const socket = new FloodSocket(0x61, chunk === undefined ? undefined : (room) => Math.min(room, chunk));
          const reader = line
            ? new LineReader(socket, { maxMessageBytes: max })
            : new DelimitedReader(socket, { maxMessageBytes: max, delimiter: "--" });
          expectSocketError(await reader.read().catch((e: unknown) => e), "EMSGSIZE");
          // A message is certainly too long once max + 2 bytes came without a delimiter (CR or
          // delimiter bytes may end it): the read that brings them is the last.
          expect(socket.delivered).toBeLessThanOrEqual(max + 2 + ONE_READ);
          expect(socket.largestBuffer).toBeLessThanOrEqual(max + 2 + 2 * ONE_READ);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a length-prefixed reader holds at most a frame plus one read, however much the peer has sent", async () => {
    const max = 1 << 20;
    const frame = encodeFrame(new Uint8Array(max));
    let offset = 0;
    const socket = {
      largestBuffer: 0,
      async read(into: Uint8Array): Promise<number> {
        this.largestBuffer = Math.max(this.largestBuffer, into.buffer.byteLength);
        for (let i = 0; i < into.length; i++) into[i] = frame[(offset + i) % frame.length]!;
        offset += into.length;
        return into.length;
      },
    };
    const reader = new LengthPrefixedReader(socket, { maxFrameBytes: max });
    for (let i = 0; i < 3; i++) expect((await reader.read())!.byteLength).toBe(max);
    expect(socket.largestBuffer).toBeLessThanOrEqual(4 + max + ONE_READ);
  });
});

describe("decoder streams", () => {
  it("error with EINVAL on a chunk that is not a Uint8Array", async () => {
    const out = await drainEncoder(new LineDecoderStream() as unknown as TransformStream<string, Uint8Array>, [
      "text\n",
    ]);
    expect(out.messages).toHaveLength(0);
    expectSocketError(out.error, "EINVAL");
  });

  it("decode a million-message-shaped load in big chunks without losing one", async () => {
    const line = bytes(`${"x".repeat(63)}\n`);
    const count = 20_000;
    const wire = new Uint8Array(line.length * count);
    for (let i = 0; i < count; i++) wire.set(line, i * line.length);
    const chunks = split(
      wire,
      Array.from({ length: 19 }, (_, i) => (i + 1) * 65_533),
    );
    let n = 0;
    let bad = 0;
    for await (const m of new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    }).pipeThrough(new LineDecoderStream())) {
      n++;
      if (m.length !== 63) bad++;
    }
    expect(n).toBe(count);
    expect(bad).toBe(0);
  });
});

describe("the public entry", () => {
  it("exports core's framing module, the one every adapter shares", () => {
    expect(readExactly).toBe(framing.readExactly);
    expect(LineDecoderStream).toBe(framing.LineDecoderStream);
    expect(LengthPrefixedReader).toBe(framing.LengthPrefixedReader);
    expect(writeFrame).toBe(framing.writeFrame);
  });
});

describe("over real sockets", () => {
  it("carries lines and frames over TCP, through the readers and through readable.pipeThrough", async () => {
    const listener = await listen({ hostname: "127.0.0.1" });
    const port = (listener.addr as { port: number }).port;
    const served = (async () => {
      const s = await listener.accept();
      const lines = new LineReader(s);
      for (let l = await lines.read(); l !== null && text(l) !== "bye"; l = await lines.read()) {
        await writeFrame(s, l, { headerBytes: 2 });
      }
      const rest = lines.takeBuffered();
      await writeFrame(s, rest, { headerBytes: 2 });
      await s.close();
    })();
    const c = connect({ hostname: "127.0.0.1", port });
    await c.opened;
    const sent = Array.from({ length: 200 }, (_, i) => `line ${i} ${"y".repeat(i)}`);
    for (const l of sent) await writeDelimited(c, l);
    await c.write("bye\n");
    const frames: string[] = [];
    for await (const f of c.readable.pipeThrough(new LengthPrefixDecoderStream({ headerBytes: 2 })))
      frames.push(text(f));
    await served;
    expect(frames.slice(0, sent.length)).toEqual(sent);
    expect(frames.length).toBe(sent.length + 1);
    await c.close();
    await listener.close();
  });

  it("readExactly leaves a real socket readable for what follows", async () => {
    const listener = await listen({ hostname: "127.0.0.1" });
    const port = (listener.addr as { port: number }).port;
    const served = (async () => {
      const s = await listener.accept();
      await s.write(encodeFrame("payload", { headerBytes: 1 }));
      await s.write("tail");
      await s.close();
    })();
    const c = connect({ hostname: "127.0.0.1", port });
    const [length] = await readExactly(c, 1);
    expect(text(await readExactly(c, length!))).toBe("payload");
    expect(text(await readExactly(c, 4))).toBe("tail");
    expectSocketError(await readExactly(c, 1).catch((e: unknown) => e), "ECONNRESET");
    await served;
    await c.close();
    await listener.close();
  });
});
