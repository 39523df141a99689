import { invalid } from "../core/errors.ts";
import type { ReadOptions, Socket } from "../core/types.ts";
import { signalOption, toBytes } from "../core/validate.ts";
import { tooBig } from "./errors.ts";
import {
  CR,
  checkHas,
  type DelimiterConfig,
  type DelimiterOptions,
  delimiterConfig,
  type LengthPrefixConfig,
  type LengthPrefixOptions,
  lengthPrefixConfig,
} from "./options.ts";

/** Writing messages: each one encoded whole (delimiter appended, or length header before it), then one `write()`. */

/** What the writers need of a socket. */
export type ByteSink = Pick<Socket, "write">;

const DEFAULT_DELIMITER = delimiterConfig(undefined, false);
const DEFAULT_LENGTH_PREFIX = lengthPrefixConfig(undefined);

/** A message and its delimiter, for a checked config (encodeDelimited and the encoder streams). */
export function encodeWith(c: DelimiterConfig, message: Uint8Array | string): Uint8Array {
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
/** A length header and its payload, for a checked config (encodeFrame and the encoder stream). */
export function frameWith(c: LengthPrefixConfig, payload: Uint8Array | string): Uint8Array {
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
