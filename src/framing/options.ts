import { invalid } from "../core/errors.ts";
import { checkOptions as checkOptionsDict, show } from "../core/validate.ts";

/** The framing's options: their types and defaults, checked once into the configs the decoders and encoders use. */

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

export function checkLimit(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${what} must be a non-negative integer, got ${show(value)}`);
  }
  return value;
}

/** The socket (or any object with that method) a framing function reads from or writes to. */
export function checkHas(target: unknown, method: "read" | "write"): void {
  if (typeof (target as Record<string, unknown> | null)?.[method] !== "function") {
    throw invalid(`framing needs a socket (an object with ${method}()), got ${show(target)}`);
  }
}

function checkOptions(options: unknown): Readonly<Record<string, unknown>> {
  return checkOptionsDict(options, "framing options");
}

export interface DelimiterConfig {
  delimiter: Uint8Array;
  max: number;
  stripCR: boolean;
  unterminated: "error" | "emit";
}

const LF = new Uint8Array([0x0a]);
export const CR = 0x0d;

export function delimiterConfig(options: DelimiterOptions | undefined, line: boolean): DelimiterConfig {
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
  const max =
    o.maxMessageBytes === undefined ? DEFAULT_MAX_MESSAGE_BYTES : checkLimit(o.maxMessageBytes, "maxMessageBytes");
  return { delimiter, max, stripCR, unterminated };
}

export interface LengthPrefixConfig {
  headerBytes: 1 | 2 | 4;
  little: boolean;
  max: number;
}

export function lengthPrefixConfig(options: LengthPrefixOptions | undefined): LengthPrefixConfig {
  const o = checkOptions(options);
  const headerBytes = o.headerBytes === undefined ? 4 : o.headerBytes;
  if (headerBytes !== 1 && headerBytes !== 2 && headerBytes !== 4) throw invalid("headerBytes must be 1, 2 or 4");
  const endian = o.endian === undefined ? "big" : o.endian;
  if (endian !== "big" && endian !== "little") throw invalid('endian must be "big" or "little"');
  const max = o.maxFrameBytes === undefined ? DEFAULT_MAX_FRAME_BYTES : checkLimit(o.maxFrameBytes, "maxFrameBytes");
  return { headerBytes, little: endian === "little", max: Math.min(max, 2 ** (8 * headerBytes) - 1) };
}
