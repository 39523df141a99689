import { invalid, SocketError } from "../errors.ts";
import type { Datagram, DatagramAddr, DatagramSocket, DatagramTarget, OutgoingDatagram } from "../types.ts";

/** The Web Streams side of a datagram socket, on its receive() and send(). */

export function isClosedError(err: unknown): boolean {
  return err instanceof SocketError && err.code === "ECLOSED";
}

/** Pulls only when read (high-water mark 0), so a datagram never waits in the stream instead of the queue. */
export function datagramReadable<A extends DatagramAddr>(socket: DatagramSocket<A>, closed: () => boolean): ReadableStream<Datagram<A>> {
  const cancelled = new AbortController();
  return new ReadableStream<Datagram<A>>(
    {
      pull: async (controller) => {
        try {
          controller.enqueue(await socket.receive({ signal: cancelled.signal }));
        } catch (err) {
          if (closed() && isClosedError(err)) controller.close();
          else if (!cancelled.signal.aborted) throw err;
        }
      },
      cancel: (reason) => cancelled.abort(reason),
    },
    { highWaterMark: 0 },
  );
}

/** Each chunk is a datagram and its destination, as send() takes them. */
export function datagramWritable<A extends DatagramAddr>(socket: DatagramSocket<A>, kind: "udp" | "unix"): WritableStream<OutgoingDatagram<A>> {
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
