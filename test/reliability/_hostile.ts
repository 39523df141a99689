/**
 * Server probe for the hostile-peer tests, run under the runtime being tested (see _probe.ts):
 *   _hostile.ts KIND     KIND: plain | lines | frames | tls | udp
 * plain: a read() loop echoing bytes. lines: a LineReader (64 KiB limit) echoing each line.
 * frames: a LengthPrefixedReader (4-byte header, default limit) echoing each frame's length as a
 * line. tls: a TLS listener echoing bytes. udp: a socket nobody receives on.
 * Prints "ready PORT"; then answers stdin commands: `measure` (fds, RSS, open connections, how
 * connections ended), `drain` (udp: receives what is queued). Every framing error a connection
 * ends with is emitted as it happens, with the bytes the reader had taken from the socket by then.
 */
import {
  bind,
  type ByteSource,
  type DatagramSocket,
  LengthPrefixedReader,
  LineReader,
  listen,
  type Socket,
} from "unisock";
import { server as serverCert } from "../helpers/tls-fixtures.ts";
import process from "node:process";
import { collect, emit, fdCount, rss, stdinLines } from "./_measure.ts";

/** The TLS listener's handshake deadline: a bad client the FIN check misses is still closed by it. */
const HANDSHAKE_MS = 2000;

const kind = process.argv[2] ?? "plain";
export const LINE_LIMIT = 65_536;

let open = 0;
const ends: Record<string, number> = {};
const codeOf = (e: unknown): string =>
  (e as Error).name === "SocketError" ? (e as { code: string }).code : (e as Error).name;

/** The socket seen through a counter of the bytes taken from it. */
function counted(s: Socket): ByteSource & { taken: number } {
  const source = {
    taken: 0,
    read: async (into: Uint8Array, options?: { signal?: AbortSignal }) => {
      const n = await s.read(into, options);
      if (n) source.taken += n;
      return n;
    },
  };
  return source;
}

async function handle(s: Socket): Promise<void> {
  const source = counted(s);
  let end = "eof";
  try {
    if (kind === "lines") {
      for await (const line of new LineReader(source, { maxMessageBytes: LINE_LIMIT }))
        await s.write(`${line.byteLength}\n`);
    } else if (kind === "frames") {
      for await (const frame of new LengthPrefixedReader(source, { headerBytes: 4 }))
        await s.write(`${frame.byteLength}\n`);
    } else {
      const buf = new Uint8Array(16 * 1024);
      let n: number | null;
      while ((n = await source.read(buf)) !== null) await s.write(buf.subarray(0, n));
    }
  } catch (e) {
    end = codeOf(e);
    if (end === "EMSGSIZE") emit({ probe: "emsgsize", taken: source.taken, rss: rss() });
  } finally {
    ends[end] = (ends[end] ?? 0) + 1;
    await s.close().catch(() => {});
    open--;
  }
}

let udp: DatagramSocket | undefined;
let port: number;
if (kind === "udp") {
  udp = await bind({ hostname: "127.0.0.1" });
  port = udp.localAddress.port;
} else {
  const l = await listen({
    hostname: "127.0.0.1",
    port: 0,
    ...(kind === "tls" ? { tls: { ...serverCert, handshakeTimeoutMs: HANDSHAKE_MS } } : {}),
  });
  port = (l.addr as { port: number }).port;
  void (async () => {
    for await (const s of l) {
      open++;
      void handle(s);
    }
  })();
}
console.log(`ready ${port}`);

const next = stdinLines();
for (let cmd = await next(); cmd !== null; cmd = await next()) {
  if (cmd === "measure") {
    await collect();
    emit({
      probe: "measure",
      fds: fdCount(),
      rss: rss(),
      external: process.memoryUsage().external,
      open,
      ends,
      dropped: udp?.dropped,
    });
  } else if (cmd === "drain" && udp) {
    let datagrams = 0;
    let bytes = 0;
    for (;;) {
      try {
        const d = await udp.receive({ signal: AbortSignal.timeout(300) });
        datagrams++;
        bytes += d.data.byteLength;
      } catch {
        break;
      }
    }
    emit({ probe: "drain", datagrams, bytes, dropped: udp.dropped });
  }
}
process.exit(0);
