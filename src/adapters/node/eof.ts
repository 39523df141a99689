/*
 * A peer's reset that Node before libuv 1.52 (Node 22, and 24.0 to 24.15) reports as EOF. libuv
 * took a hang-up (POLLHUP) seen together with a short read for the end of the stream and skipped
 * the read that would have failed, so a reset arriving while unread bytes wait in the kernel (our
 * reader paused by backpressure) read as a clean EOF, its ECONNRESET left in the socket
 * (libuv/libuv#4997, fixed in libuv 1.52). Plain node:net shows it too. On those versions the EOF
 * is checked by one more read before it is reported: after a FIN that read finds the end again,
 * after a reset it fails and Node destroys the socket with ECONNRESET, which arrives as 'error'.
 * Not over TLS (see confirmEof). The supported Node (>= 24.16) never takes this path; the
 * conformance suite exercises it when run on an older Node (docs/matrix.md).
 */
import type net from "node:net";

/** The part of Node's stream handle (TCPWrap, PipeWrap) the extra read uses. */
interface StreamHandle {
  onread: (this: StreamHandle, ...args: unknown[]) => unknown;
  readStart(): number;
  /** Set on a TLSWrap: the TCPWrap it reads from. */
  _parent?: unknown;
}

function libuvBefore(major: number, minor: number): boolean {
  const [m = 0, n = 0] = process.versions.uv?.split(".").map(Number) ?? [];
  return m < major || (m === major && n < minor);
}

/** True where libuv can report a reset as EOF (Node 22, 24.0 to 24.15). */
export const eofMayHideReset: boolean = libuvBefore(1, 52);

/**
 * Calls `report` once `sock`'s EOF is known to be a FIN; after a reset it never calls it (the
 * socket's 'error' carries ECONNRESET). Costs one read and one turn of the event loop per EOF.
 */
function confirmEof(sock: net.Socket, report: () => void): void {
  const handle = (sock as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (!handle || typeof handle.readStart !== "function" || typeof handle.onread !== "function") return report();
  const h = handle as StreamHandle;
  // Not over TLS: a TLSWrap past EOF ignores readStart and what its TCPWrap still reads, so the
  // reset stays an EOF there (docs/matrix.md, "Several versions side by side").
  if (h._parent !== undefined) return report();
  const onread = h.onread;
  h.onread = function (this: StreamHandle, ...args: unknown[]): unknown {
    h.onread = onread;
    const result = onread.apply(this, args);
    // Node's own onread destroyed the socket with the read's error: that is the reset.
    if (!sock.errored) report();
    return result;
  };
  if (h.readStart() !== 0) {
    h.onread = onread;
    report();
  }
}

/** What a node:net socket's 'end' listener calls: `report` at once where libuv tells FIN from reset. */
export const onPeerEnd: (sock: net.Socket, report: () => void) => void = eofMayHideReset
  ? confirmEof
  : (_sock, report) => report();
