/**
 * unisock/framing: message framing on any byte stream: exact-length reads, delimiter framing
 * (lines) and length-prefixed frames, each as a reader over `socket.read()`, as a writer over
 * `socket.write()`, and as Web Streams transforms for `socket.readable.pipeThrough(...)`.
 * Web APIs only, so it is the same code on every runtime, and it works on any object with
 * `read()`/`write()` (or any `ReadableStream<Uint8Array>`), not only unisock's sockets. The main
 * entries (`unisock`, `unisock/node`, ...) export the same names.
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
 *
 * @example Lines over a socket
 * ```ts
 * import { connect } from "unisock";
 * import { LineReader, writeDelimited } from "unisock/framing";
 *
 * const s = connect("127.0.0.1:7000");
 * await writeDelimited(s, "HELLO");
 * for await (const line of new LineReader(s)) console.log(new TextDecoder().decode(line));
 * ```
 *
 * @module
 */

/** The class of every framing error (the same class the main entries export). */
export { SocketError } from "./core/errors.ts";
export { type ByteSink, encodeDelimited, encodeFrame, writeDelimited, writeFrame } from "./framing/encode.ts";
export {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  type DelimiterOptions,
  type LengthPrefixOptions,
} from "./framing/options.ts";
export {
  type ByteSource,
  DelimitedReader,
  LengthPrefixedReader,
  LineReader,
  MessageReader,
  readExactly,
} from "./framing/readers.ts";
export {
  DelimiterDecoderStream,
  DelimiterEncoderStream,
  LengthPrefixDecoderStream,
  LengthPrefixEncoderStream,
  LineDecoderStream,
  LineEncoderStream,
} from "./framing/streams.ts";
