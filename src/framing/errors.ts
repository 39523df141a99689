import { SocketError } from "../core/errors.ts";

/** The framing's own errors (see mod.ts for when each is raised). */

export function unexpectedEof(detail: string): SocketError {
  const err = new SocketError("ECONNRESET", `unexpected EOF: ${detail}`, { syscall: "read" });
  delete err.errno; // no system error happened; the peer just stopped early
  return err;
}

export function tooBig(what: string, size: number | string, max: number): SocketError {
  return new SocketError("EMSGSIZE", `${what} of ${size} bytes is over the limit of ${max} bytes`);
}
