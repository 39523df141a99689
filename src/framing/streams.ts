import { invalid } from "../core/errors.ts";
import { type Decoder, DelimiterDecoder, LengthPrefixDecoder } from "./decoders.ts";
import { encodeWith, frameWith } from "./encode.ts";
import { type DelimiterOptions, delimiterConfig, type LengthPrefixOptions, lengthPrefixConfig } from "./options.ts";

/** The framing as Web Streams transforms, for `socket.readable.pipeThrough(...)` and into `socket.writable`. */

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
