import { invalid, SocketError } from "../errors.ts";
import type { Datagram, DatagramAddr, DatagramSocket, DatagramTarget, OutgoingDatagram } from "../types.ts";
import type { Waiter } from "./queue.ts";

/** The Web Streams side of a datagram socket, on its receive() and send(). */

export function isClosedError(err: unknown): boolean {
  return err instanceof SocketError && err.code === "ECLOSED";
}

/** What the readable needs of the socket: receive() by callbacks, without a promise per datagram. */
export interface ReceiveLine<A extends DatagramAddr> {
  closed(): boolean;
  /** Settles `waiter` with the next datagram (or queued error), at once if one is queued, else when it comes. */
  wait(waiter: Waiter<A>): void;
  /** Takes a waiting `waiter` out of the line. */
  leave(waiter: Waiter<A>): void;
}

/**
 * Pulls only when read (high-water mark 0), so a datagram never waits in the stream instead of the
 * queue. A pull takes a queued datagram at once, or waits in the line of receives with callbacks
 * that enqueue straight from the runtime's delivery: no promise and no abort listener per datagram.
 */
export function datagramReadable<A extends DatagramAddr>(line: ReceiveLine<A>): ReadableStream<Datagram<A>> {
  let cancelled = false;
  let waiting: Waiter<A> | null = null;
  return new ReadableStream<Datagram<A>>(
    {
      pull: (controller) => {
        if (waiting !== null) return; // the waiting pull delivers; the stream then pulls again
        const waiter: Waiter<A> = {
          resolve: (d) => {
            waiting = null;
            controller.enqueue(d);
          },
          reject: (err) => {
            waiting = null;
            if (line.closed() && isClosedError(err)) controller.close();
            else if (!cancelled) controller.error(err);
          },
        };
        waiting = waiter;
        line.wait(waiter);
      },
      cancel: () => {
        cancelled = true;
        if (waiting !== null) line.leave(waiting);
        waiting = null;
      },
    },
    { highWaterMark: 0 },
  );
}

/** Each chunk is a datagram and its destination, as send() takes them. */
export function datagramWritable<A extends DatagramAddr>(
  socket: DatagramSocket<A>,
  kind: "udp" | "unix",
): WritableStream<OutgoingDatagram<A>> {
  return new WritableStream<OutgoingDatagram<A>>({
    write: (chunk) => {
      if (typeof chunk !== "object" || chunk === null) throw invalid("each chunk must be { data, ... }");
      const c = chunk as { data: Uint8Array; hostname?: string; port?: number; path?: string };
      let to: unknown;
      if (kind === "unix") to = c.path === undefined ? undefined : { path: c.path };
      else to = c.hostname === undefined && c.port === undefined ? undefined : { hostname: c.hostname, port: c.port };
      return socket.send(c.data, to as DatagramTarget<A>);
    },
  });
}
