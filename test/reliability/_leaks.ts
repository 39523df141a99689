/**
 * Leak probe, run in a process of its own under the runtime being tested (see _probe.ts):
 *   _leaks.ts KIND COUNT BUDGET_MS     KIND: tcp | tls | unix | udp | tls-listener-close
 * Cycles (connect and close, four ways, see streamCycle; or bind, one datagram each way, close) COUNT times or
 * until BUDGET_MS pass, after a warm-up, and emits fds and RSS before and after.
 * tls-listener-close: COUNT raw clients start a TLS handshake and stall; then listener.close().
 */
import { rmSync } from "node:fs";
import { bind, connect, listen, type Listener, type Socket } from "unisock";
import { ca, server as serverCert } from "../helpers/tls-fixtures.ts";
import { collect, emit, fdCount, fdsSettle, heapUsed, rss, sleep } from "./_measure.ts";

const [kind = "tcp", countArg = "1000", budgetArg = "20000"] = process.argv.slice(2);
const count = Number(countArg);
const budgetMs = Number(budgetArg);
const WARMUP = 20;
const SLACK = 8;
console.log("ready");

/** First bytes of a TLS ClientHello: a record header announcing 512 bytes, then only a few of them. */
const PARTIAL_HELLO = new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

let serverLive = 0;

/** Answers each connection's byte "x" with a byte, and closes; at "q" (or EOF) closes at once. */
function serve(listener: Listener): void {
  void (async () => {
    for await (const s of listener) {
      serverLive++;
      void (async () => {
        const b = new Uint8Array(1);
        try {
          if ((await s.read(b)) === 1 && b[0] === 0x78) await s.write("y");
        } catch {
          // the client's problem, not this probe's
        } finally {
          await s.close().catch(() => {});
          serverLive--;
        }
      })();
    }
  })().catch(() => {});
}

/**
 * One connection, in turn each way a connection can end: a byte each way and the client closes;
 * open and close at once (a health check); close before `opened` (cancelled in the connect or
 * handshake); the server closes first.
 */
let cycle = 0;
async function streamCycle(open: () => Socket): Promise<void> {
  const s = open();
  const variant = cycle++ % 4;
  try {
    if (variant === 2) return;
    await s.opened;
    if (variant === 1) return;
    await s.write(variant === 0 ? "x" : "q");
    const b = new Uint8Array(1);
    const n = await s.read(b);
    if (n !== (variant === 0 ? 1 : null)) throw new Error(`cycle ${variant}: read ${n}`);
  } finally {
    await s.close();
    await s.opened.catch(() => {}); // cancelled: rejects with ECLOSED
  }
}

async function cycles(one: () => Promise<void>): Promise<void> {
  for (let i = 0; i < WARMUP; i++) await one();
  while (serverLive > 0) await sleep(10);
  await collect();
  const fdsBefore = fdCount();
  const rssBefore = rss();
  const heapBefore = heapUsed();
  const t0 = Date.now();
  let done = 0;
  let failures = 0;
  let firstFailure = "";
  let rssMid = 0;
  while (done < count && Date.now() - t0 < budgetMs) {
    if (done === count / 2) {
      await collect();
      rssMid = rss();
    }
    try {
      await one();
    } catch (e) {
      failures++;
      firstFailure ||= `${(e as { code?: string }).code ?? ""} ${(e as Error).message}`;
    }
    done++;
  }
  const ms = Date.now() - t0;
  const end = Date.now() + 3000;
  while (serverLive > 0 && Date.now() < end) await sleep(10);
  const fdsEnd = fdCount(); // every close() has resolved: nothing may still hold a descriptor
  await collect();
  const fdsAfter = await fdsSettle(fdsBefore + SLACK);
  emit({
    probe: kind,
    cycles: done,
    failures,
    firstFailure,
    fdsBefore,
    fdsEnd,
    fdsAfter,
    rssBefore,
    rssMid,
    rssAfter: rss(),
    heapBefore,
    heapAfter: heapUsed(),
    ms,
    serverLive,
  });
}

async function streams(): Promise<void> {
  if (kind === "unix") {
    const path = `/tmp/unisock-leak-${process.pid}.sock`;
    rmSync(path, { force: true });
    const l = await listen({ path });
    serve(l);
    await cycles(() => streamCycle(() => connect({ path })));
    await l.close();
    return;
  }
  const tls = kind === "tls";
  const l = await listen({ hostname: "127.0.0.1", port: 0, ...(tls ? { tls: serverCert } : {}) });
  serve(l);
  const port = (l.addr as { port: number }).port;
  await cycles(() =>
    streamCycle(() =>
      connect(
        { hostname: "127.0.0.1", port },
        tls ? { secureTransport: "on", tls: { ca, serverName: "localhost" } } : {},
      ),
    ),
  );
  await l.close();
}

async function datagrams(): Promise<void> {
  const sink = await bind({ hostname: "127.0.0.1" });
  void (async () => {
    for await (const d of sink) await sink.send(d.data, d.remoteAddress).catch(() => {});
  })().catch(() => {});
  await cycles(async () => {
    const s = await bind({ hostname: "127.0.0.1" });
    try {
      await s.send("x", sink.localAddress);
      await s.receive({ signal: AbortSignal.timeout(2000) });
    } finally {
      await s.close();
    }
  });
  await sink.close();
}

async function listenerClose(): Promise<void> {
  const l = await listen({ hostname: "127.0.0.1", port: 0, tls: serverCert });
  const port = (l.addr as { port: number }).port;
  await collect();
  const fdsBefore = fdCount();
  const rssBefore = rss();
  const clients: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const c = connect({ hostname: "127.0.0.1", port });
    clients.push(c);
    await c.opened;
    await c.write(PARTIAL_HELLO);
  }
  await sleep(500); // the listener takes the connections from its queue and starts their handshakes
  const fdsPending = fdCount();
  const t0 = Date.now();
  await l.close();
  // Every stalled handshake must now be closed by the server: each client sees EOF or a reset.
  const outcomes = await Promise.all(
    clients.map(async (c) => {
      try {
        const n = await c.read(new Uint8Array(1024), { signal: AbortSignal.timeout(5000) });
        return n === null ? "eof" : "data";
      } catch (e) {
        return (e as Error).name === "SocketError" ? (e as { code: string }).code : (e as Error).name;
      }
    }),
  );
  const closedMs = Date.now() - t0;
  const fdsAfterClose = await fdsSettle(fdsBefore + count + SLACK, 3000);
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await collect();
  const fdsAfter = await fdsSettle(fdsBefore + SLACK);
  const tally: Record<string, number> = {};
  for (const o of outcomes) tally[o] = (tally[o] ?? 0) + 1;
  emit({
    probe: kind,
    pending: count,
    fdsBefore,
    fdsPending,
    fdsAfterClose,
    fdsAfter,
    rssBefore,
    rssAfter: rss(),
    ms: closedMs,
    outcomes: tally,
  });
}

if (kind === "udp") await datagrams();
else if (kind === "tls-listener-close") await listenerClose();
else await streams();
process.exit(0);
