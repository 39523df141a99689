/*
 * A datagram peer in its own process, run by the runtime under test on the adapter of that
 * runtime (src/<runtime>.ts, or dist/node.js from an installed package). Loopback only. Modes:
 *
 *   receive <count> <idleMs> [rcvbuf] bind 127.0.0.1 (with SO_RCVBUF if given), print the port,
 *                                     receive until `count` datagrams or `idleMs` without one, and
 *                                     tell the sender how many have arrived (a 4-byte count, every
 *                                     ACK_EVERY datagrams and every 20 ms); print a JSON report with
 *                                     the kernel's own drop count for the socket
 *   send <port> <count> <rate>        send `count` 64-byte datagrams numbered 0.., paced at `rate`
 *                                     per second in bursts of at most MAX_BURST, and never more than
 *                                     WINDOW ahead of what the receiver reported; print a JSON report
 *   hold <ref|unref>                  bind, wait on a receive, print "bound"; with unref the process
 *                                     must exit on its own, with ref it must stay
 *
 * Why a window: the check is that every datagram the kernel hands to the runtime reaches
 * receive(). The kernel drops datagrams on its own when a receiver loses the CPU for longer than
 * its buffer lasts (208 KiB by default, about 270 small datagrams; Deno cannot enlarge it), which
 * a busy shared machine makes happen at any pace. With at most WINDOW datagrams in flight the
 * kernel never has to drop one, so anything missing is the library's.
 *
 * Every loop is bounded by its count and by a deadline.
 */
const runtime = globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : "node";
// Plain JavaScript, so Node runs it even from an installed package (Node never strips types
// under node_modules); there it takes the built adapter, here the sources.
const entry =
  runtime === "node" && import.meta.url.includes("/node_modules/") ? "../../dist/node.js" : `../../src/${runtime}.ts`;
const { bind } = await import(new URL(entry, import.meta.url).href);
const args = globalThis.Deno?.args ?? globalThis.process.argv.slice(2);
const [mode, ...rest] = args;
const print = (line) => console.log(line);
const HARD_DEADLINE_MS = 200_000;
/** The most datagrams sent back to back before yielding. */
const MAX_BURST = 16;
/** The most datagrams in flight (sent, not yet reported received): well under the ~270 the kernel's default buffer holds. */
const WINDOW = 128;
const ACK_EVERY = 32;
const hardStop = setTimeout(() => {
  print(JSON.stringify({ error: "hard deadline reached" }));
  globalThis.process.exit(3);
}, HARD_DEADLINE_MS);
hardStop.unref?.();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function countDatagram(n) {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, n);
  return data;
}
if (mode === "receive") {
  const count = Number(rest[0]);
  const idleMs = Number(rest[1]);
  const recvBufferSize = Number(rest[2] ?? 0);
  await using s = await bind({ hostname: "127.0.0.1", ...(recvBufferSize > 0 ? { recvBufferSize } : {}) });
  print(String(s.localAddress.port));
  const seen = new Uint8Array(count);
  let received = 0;
  let duplicates = 0;
  let malformed = 0;
  let outOfOrder = 0;
  let last = -1;
  let sender = null;
  const ack = () => {
    if (sender !== null) s.send(countDatagram(received), sender).catch(() => {});
  };
  // One timer for idleness and periodic acks, not a timer per receive: the receiver must stay cheap.
  let lastAt = performance.now();
  let maxGapMs = 0;
  const idle = new AbortController();
  const ticker = setInterval(() => {
    if (performance.now() - lastAt > idleMs) idle.abort();
    ack();
  }, 20);
  while (received < count) {
    let d;
    try {
      d = await s.receive({ signal: idle.signal });
    } catch {
      break; // idle: the sender is done or gone
    }
    const now = performance.now();
    if (received > 0 && now - lastAt > maxGapMs) maxGapMs = now - lastAt;
    lastAt = now;
    sender ??= { hostname: d.remoteAddress.hostname, port: d.remoteAddress.port };
    const view = new DataView(d.data.buffer, d.data.byteOffset, d.data.byteLength);
    const seq = d.data.byteLength === 64 ? view.getUint32(0) : -1;
    if (seq < 0 || seq >= count || d.data[63] !== (seq & 255)) {
      malformed++;
      continue;
    }
    if (seen[seq]) duplicates++;
    else {
      seen[seq] = 1;
      received++;
      if (received % ACK_EVERY === 0) ack();
    }
    if (seq < last) outOfOrder++;
    last = seq;
  }
  clearInterval(ticker);
  ack();
  let kernelDrops = "?";
  try {
    // The kernel's own drop count for this socket (skmem "d"): what never reached the runtime.
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync("ss", ["-uamnH", `sport = :${s.localAddress.port}`], { encoding: "utf8", timeout: 5000 });
    kernelDrops = /\bd(\d+)\)/.exec(out)?.[1] ?? "?";
  } catch {
    // reported as "?"
  }
  let missing = 0;
  let firstMissing = -1;
  for (let i = 0; i < count; i++) {
    if (!seen[i]) {
      missing++;
      if (firstMissing === -1) firstMissing = i;
    }
  }
  print(
    JSON.stringify({
      received,
      missing,
      firstMissing,
      duplicates,
      malformed,
      outOfOrder,
      dropped: s.dropped,
      kernelDrops,
      maxGapMs: Math.round(maxGapMs),
    }),
  );
} else if (mode === "send") {
  const port = Number(rest[0]);
  const count = Number(rest[1]);
  const rate = Number(rest[2]);
  await using s = await bind({ hostname: "127.0.0.1", connect: { hostname: "127.0.0.1", port } });
  let acked = 0;
  let waits = 0;
  void (async () => {
    for await (const d of s) {
      if (d.data.byteLength === 4)
        acked = Math.max(acked, new DataView(d.data.buffer, d.data.byteOffset, 4).getUint32(0));
    }
  })().catch(() => {});
  const start = performance.now();
  let sent = 0;
  while (sent < count) {
    // Paced: send what the rate allows by now, then yield to the event loop for a tick. After a
    // stall, catch up in small bursts, and never more than WINDOW ahead of the receiver.
    const due = Math.min(
      count,
      Math.floor(((performance.now() - start) / 1000) * rate) + 1,
      sent + MAX_BURST,
      acked + WINDOW,
    );
    if (due <= sent && sent - acked >= WINDOW) waits++;
    while (sent < due) {
      const data = new Uint8Array(64);
      new DataView(data.buffer).setUint32(0, sent);
      data[63] = sent & 255;
      await s.send(data);
      sent++;
    }
    await sleep(1);
  }
  // Until the receiver has them all, or it stops reporting progress.
  for (let i = 0; i < 100 && acked < count; i++) await sleep(20);
  print(JSON.stringify({ sent, acked, windowWaits: waits, seconds: (performance.now() - start) / 1000 }));
} else if (mode === "hold") {
  const s = await bind({ hostname: "127.0.0.1" });
  if (rest[0] === "unref") s.unref();
  void s.receive().catch(() => {});
  print("bound");
} else {
  print(JSON.stringify({ error: `unknown mode ${String(mode)}` }));
}
clearTimeout(hardStop);
export {};
