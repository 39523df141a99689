/**
 * Both ends of the fault tests, run inside the test's network namespaces under the runtime being
 * tested (see _probe.ts, _netns.ts):
 *   _faults.ts server PORT send BYTES | hold | blast | sink
 *   _faults.ts client HOST PORT fetch | blackhole | read-until-end | write-until-end
 * Prints "ready" once listening or connected, emits "@ {...}" results (see _measure.ts).
 */
import { createHash } from "node:crypto";
import { connect, listen, type Socket } from "unisock";
import { emit, fdCount, rss, stdinLines } from "./_measure.ts";

const [role, ...rest] = process.argv.slice(2);
const CHUNK = 64 * 1024;
const codeOf = (e: unknown): string =>
  (e as Error).name === "SocketError" ? (e as { code: string }).code : (e as Error).name;
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** How `closed` settles within `ms`: "resolved", the rejection's code, or "pending". */
function closedOutcome(s: Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("pending"), ms);
    s.closed
      .then(
        () => resolve("resolved"),
        (e) => resolve(codeOf(e)),
      )
      .finally(() => clearTimeout(timer));
  });
}

async function serve(port: number, mode: string, arg: string | undefined): Promise<void> {
  const l = await listen({ hostname: "0.0.0.0", port });
  console.log("ready");
  for await (const s of l) {
    void (async () => {
      const t0 = Date.now();
      if (mode === "send") {
        const total = Number(arg);
        const hash = createHash("sha256");
        for (let sent = 0; sent < total; sent += CHUNK) {
          const chunk = random(Math.min(CHUNK, total - sent));
          hash.update(chunk);
          await s.write(chunk);
        }
        await s.close();
        emit({ probe: "sent", bytes: total, sha256: hash.digest("hex"), ms: Date.now() - t0 });
      } else if (mode === "blast") {
        const chunk = random(CHUNK);
        for (;;) await s.write(chunk);
      } else {
        // hold and sink: read and drop everything; hold's connections just stay.
        const buf = new Uint8Array(CHUNK);
        while ((await s.read(buf)) !== null);
      }
    })().catch(() => {});
  }
}

/** This process's fds and RSS once connected, to compare with the end of the probe. */
let before = { fdsBefore: 0, rssBefore: 0 };

async function fetch(s: Socket): Promise<void> {
  const t0 = Date.now();
  const hash = createHash("sha256");
  const buf = new Uint8Array(CHUNK);
  let bytes = 0;
  let n: number | null;
  while ((n = await s.read(buf)) !== null) {
    hash.update(buf.subarray(0, n));
    bytes += n;
  }
  const closed = await closedOutcome(s, 5000);
  emit({
    probe: "fetched",
    bytes,
    sha256: hash.digest("hex"),
    ms: Date.now() - t0,
    closed,
    ...before,
    fdsAfter: fdCount(),
    rssAfter: rss(),
  });
}

/** Reads (or writes) until the connection ends; emits how, and when, and how `closed` settled. */
async function untilEnd(s: Socket, writing: boolean): Promise<void> {
  const buf = writing ? random(CHUNK) : new Uint8Array(CHUNK);
  let bytes = 0;
  let flowing = false;
  let how = "eof";
  try {
    for (;;) {
      if (writing) await s.write(buf);
      const n = writing ? buf.byteLength : await s.read(buf);
      if (n === null) break;
      bytes += n;
      if (!flowing && bytes >= 1048576) {
        flowing = true;
        console.log("flowing");
      }
    }
  } catch (e) {
    how = codeOf(e);
  }
  const t = Date.now();
  const closed = await closedOutcome(s, 5000);
  emit({
    probe: "end",
    how,
    t,
    bytes,
    closed,
    closedMs: Date.now() - t,
    ...before,
    fdsAfter: fdCount(),
    rssAfter: rss(),
  });
}

async function blackhole(host: string, port: number): Promise<void> {
  const [reader, writer, idle] = await Promise.all(
    [0, 1, 2].map(async () => {
      const s = connect({ hostname: host, port });
      await s.opened;
      return s;
    }),
  );
  // Keep-alive on the idle connection: with a 1 s delay where the runtime can set one; elsewhere the
  // delay is refused with ERR_UNSUPPORTED and the namespace's defaults (1 s, set by the test) apply.
  let delay = "1000";
  try {
    idle!.setKeepAlive(true, 1000);
  } catch (e) {
    delay = codeOf(e);
    idle!.setKeepAlive(true);
  }
  before = { fdsBefore: fdCount(), rssBefore: rss() };
  console.log("ready");
  const next = stdinLines();
  if ((await next()) !== "go") return;

  const readProbe = (async () => {
    const signal = AbortSignal.timeout(1000);
    const t0 = Date.now();
    try {
      await reader!.read(new Uint8Array(CHUNK), { signal });
      emit({ probe: "read", result: "data" });
    } catch (e) {
      emit({ probe: "read", result: codeOf(e), sameReason: e === signal.reason, ms: Date.now() - t0 });
    }
  })();
  const writeProbe = (async () => {
    const chunk = random(CHUNK);
    let bytes = 0;
    // Nothing is acknowledged any more: once the kernel's and the runtime's buffers are full, a write waits.
    while (bytes < 64 * 1048576) {
      const signal = AbortSignal.timeout(1500);
      const t0 = Date.now();
      try {
        await writer!.write(chunk, { signal });
        bytes += chunk.byteLength;
      } catch (e) {
        emit({ probe: "write", result: codeOf(e), sameReason: e === signal.reason, ms: Date.now() - t0, bytes });
        return;
      }
    }
    emit({ probe: "write", result: "never blocked", bytes });
  })();
  const keepAliveProbe = (async () => {
    const t0 = Date.now();
    const guard = AbortSignal.timeout(30_000);
    let result = "data";
    try {
      await idle!.read(new Uint8Array(CHUNK), { signal: guard });
    } catch (e) {
      result = e === guard.reason ? "still open after 30 s" : codeOf(e);
    }
    const closed = await closedOutcome(idle!, 2000);
    emit({
      probe: "keepalive",
      delay,
      result,
      ms: Date.now() - t0,
      closed,
      ...before,
      fdsAfter: fdCount(),
      rssAfter: rss(),
    });
  })();
  await Promise.all([readProbe, writeProbe, keepAliveProbe]);
}

if (role === "server") {
  await serve(Number(rest[0]), rest[1]!, rest[2]);
} else {
  const [host, portArg, mode] = rest as [string, string, string];
  if (mode === "blackhole") {
    await blackhole(host, Number(portArg));
  } else {
    const s = connect({ hostname: host, port: Number(portArg) });
    await s.opened;
    before = { fdsBefore: fdCount(), rssBefore: rss() };
    console.log("ready");
    if (mode === "fetch") await fetch(s);
    else await untilEnd(s, mode === "write-until-end");
  }
  process.exit(0);
}
