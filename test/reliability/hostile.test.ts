/**
 * Hostile peers against servers built on unisock, each server in a probe process of the runtime
 * being tested (_hostile.ts) so its fds and RSS are its own; the attackers are this test process.
 * Slowloris against the framing readers (memory per idle connection, against a plain read() loop
 * in the same run), an endless line, a length header claiming 4 GiB, garbage and hit-and-run
 * clients against a TLS listener while legitimate clients are served, and a UDP flood at a socket
 * nobody receives on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { bind, connect, runtime, type Socket } from "unisock";
import { type Child, killChildren } from "../examples/_children.ts";
import { dec, enc, randomBytes, readN, sleep, within } from "../helpers/streams.ts";
import { ca } from "../helpers/tls-fixtures.ts";
import { ask, ready, report, startProbe } from "./_probe.ts";

interface Measure {
  fds: number;
  rss: number;
  /** Memory outside the JS heap (ArrayBuffer backing stores among it), after a full collection. */
  external: number;
  open: number;
  ends: Record<string, number>;
  dropped?: number;
}

/** Whether this column's UDP is Deno's node:dgram (Deno without --unstable-net): see the UDP flood test. */
const DENO_NODE_DGRAM =
  runtime === "deno" &&
  typeof (globalThis as { Deno?: { listenDatagram?: unknown } }).Deno?.listenDatagram !== "function";

const LINE_LIMIT = 65_536;
const FD_SLACK = 8;

async function server(kind: string): Promise<{ child: Child; port: number }> {
  const child = startProbe("test/reliability/_hostile.ts", [kind]);
  const m = await ready(child, /^ready (\d+)$/m);
  return { child, port: Number(m[1]) };
}

const measure = (child: Child): Promise<Measure> => ask<Measure>(child, "measure", "measure");

/** Measures every 100 ms until `ok` holds or `ms` pass; returns the last measure. */
async function measureUntil(child: Child, ok: (m: Measure) => boolean, ms = 5000): Promise<Measure> {
  const end = Date.now() + ms;
  let m = await measure(child);
  while (!ok(m) && Date.now() < end) {
    await sleep(100);
    m = await measure(child);
  }
  return m;
}

/** Opens `n` connections in batches (Bun's accept queue holds 512), each writing `first`. */
async function openMany(port: number, n: number, first: Uint8Array | string): Promise<Socket[]> {
  const all: Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () => connect({ hostname: "127.0.0.1", port }));
    await Promise.all(
      batch.map(async (s) => {
        await s.opened;
        await s.write(first);
      }),
    );
    all.push(...batch);
  }
  return all;
}

/** A legitimate client: one message, its answer. */
async function roundTrip(port: number, message: string, answer: string, tls = false): Promise<void> {
  const s = connect(
    { hostname: "127.0.0.1", port },
    tls ? { secureTransport: "on", tls: { ca, serverName: "localhost" } } : {},
  );
  try {
    await s.opened;
    await s.write(message);
    expect(dec.decode(await readN(s, answer.length))).toBe(answer);
  } finally {
    await s.close();
  }
}

/** How a connection ended, seen from the attacker: "eof", a SocketError code, or "open" after `ms`. */
async function ending(s: Socket, ms: number): Promise<string> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await s.read(buf, { signal: AbortSignal.timeout(ms) });
      if (n === null) return "eof";
    }
  } catch (e) {
    return (e as Error).name === "SocketError" ? (e as { code: string }).code : "open";
  }
}

describe("slowloris: 1,000 idle connections, each with a partial message", { timeout: 60_000 }, () => {
  afterEach(killChildren);

  it("cost a framing reader no more memory per connection than a plain read() loop", async () => {
    const n = 1000;
    const perConn: Record<string, number> = {};
    // A partial line, and a frame header announcing 1,000 bytes followed by 25 of them.
    const partial: Record<string, Uint8Array | string> = {
      plain: "GET / HTTP/1.1\r\nHost: slow",
      lines: "GET / HTTP/1.1 Host: slowl",
      frames: new Uint8Array([0, 0, 3, 232, ...new Uint8Array(25).fill(120)]),
    };
    for (const kind of ["plain", "lines", "frames"]) {
      const { child, port } = await server(kind);
      await roundTrip(
        port,
        kind === "frames" ? "\0\0\0\x02hi" : "warm\n",
        kind === "plain" ? "warm\n" : kind === "frames" ? "2\n" : "4\n",
      );
      const before = await measure(child);
      const t0 = Date.now();
      const idle = await openMany(port, n, partial[kind]!);
      // Once the server has taken every connection from its queue and read its first bytes.
      await measureUntil(child, (m) => m.open >= n);
      await sleep(300);
      const during = await measure(child);
      // Still serving while 1,000 connections hold partial messages.
      await roundTrip(
        port,
        kind === "frames" ? "\0\0\0\x02hi" : "next\n",
        kind === "plain" ? "next\n" : kind === "frames" ? "2\n" : "4\n",
      );
      const ms = Date.now() - t0;
      await Promise.all(idle.map((s) => s.close()));
      perConn[kind] = (during.rss - before.rss) / n;
      report(`slowloris ${kind} x${n}`, {
        fdsBefore: before.fds,
        fdsAfter: during.fds,
        rssBefore: before.rss,
        rssAfter: during.rss,
        ms,
        perConnKiB: (perConn[kind]! / 1024).toFixed(1),
      });
      expect(during.open).toBe(n);
      expect(during.fds).toBeGreaterThanOrEqual(before.fds + n);
      await child.kill();
    }
    // RSS is noisy: a framing reader may cost half as much again as the read loop, plus 16 KiB,
    // but not the 128 KiB buffer each that a reader growing on a partial message holds.
    for (const kind of ["lines", "frames"]) {
      expect(
        perConn[kind],
        `${kind}: ${perConn[kind]} bytes per connection against ${perConn.plain} for read()`,
      ).toBeLessThanOrEqual(Math.max(perConn.plain!, 0) * 1.5 + 16 * 1024);
    }
  });
});

/** A server of `kind`, measured, and one open connection to it. */
async function attacker(kind: string): Promise<{ child: Child; port: number; before: Measure; t0: number; s: Socket }> {
  const { child, port } = await server(kind);
  const before = await measure(child);
  const t0 = Date.now();
  const s = connect({ hostname: "127.0.0.1", port });
  await s.opened;
  return { child, port, before, t0, s };
}

describe("oversized messages", { timeout: 30_000 }, () => {
  afterEach(killChildren);

  it("an endless line is EMSGSIZE at the 64 KiB limit (within one read); the connection is closed; the server goes on", async () => {
    const { child, port, before, t0, s } = await attacker("lines");
    const chunk = new Uint8Array(16 * 1024).fill(0x78);
    let sent = 0;
    let writeEnd = "";
    // The server must give up long before 32 MiB; the peer then sees its writes fail.
    while (sent < 32 * 1048576) {
      try {
        await s.write(chunk, { signal: AbortSignal.timeout(5000) });
        sent += chunk.byteLength;
      } catch (e) {
        writeEnd = (e as Error).name === "SocketError" ? (e as { code: string }).code : (e as Error).name;
        break;
      }
    }
    const end = await ending(s, 5000);
    await s.close();
    const { taken } = (await child.waitFor(/^@ (\{"probe":"emsgsize".*)$/m).then((m) => JSON.parse(m[1]!))) as {
      taken: number;
    };
    await roundTrip(port, "still here\n", "10\n");
    const after = await measure(child);
    report("endless line", {
      fdsBefore: before.fds,
      fdsAfter: after.fds,
      rssBefore: before.rss,
      rssAfter: after.rss,
      ms: Date.now() - t0,
      taken,
      sent,
      writeEnd,
      end,
    });
    expect(after.ends.EMSGSIZE).toBe(1);
    expect(taken).toBeGreaterThan(LINE_LIMIT);
    expect(taken, "bytes taken from the socket when EMSGSIZE fired").toBeLessThanOrEqual(LINE_LIMIT + 65_536);
    expect(["EPIPE", "ECONNRESET", "TimeoutError"]).toContain(writeEnd);
    expect(writeEnd, "the writer was never stopped: the connection stayed open").not.toBe("TimeoutError");
    // A read after the failed write may report that same failure.
    expect(["eof", "ECONNRESET", "EPIPE"]).toContain(end);
    expect(after.fds).toBeLessThanOrEqual(before.fds + FD_SLACK);
  });

  it("a length header claiming 4 GiB is EMSGSIZE at once, without allocating it", async () => {
    const { child, port, before, t0, s } = await attacker("frames");
    await s.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]));
    const end = await ending(s, 5000);
    const ms = Date.now() - t0;
    await s.close();
    await roundTrip(port, "\0\0\0\x05hello", "5\n");
    const after = await measure(child);
    report("4 GiB header", {
      fdsBefore: before.fds,
      fdsAfter: after.fds,
      rssBefore: before.rss,
      rssAfter: after.rss,
      ms,
      end,
    });
    expect(after.ends.EMSGSIZE).toBe(1);
    expect(["eof", "ECONNRESET"]).toContain(end);
    expect(after.rss - before.rss).toBeLessThan(64 * 1048576);
  });
});

describe("a TLS listener under garbage and hit-and-run clients", { timeout: 60_000 }, () => {
  afterEach(killChildren);

  it("keeps serving legitimate clients, closes every bad connection, and its fds return to the baseline", async () => {
    const { child, port } = await server("tls");
    await roundTrip(port, "warm", "warm", true);
    const before = await measure(child);
    const t0 = Date.now();
    let attacking = true;
    let served = 0;
    const legit = (async () => {
      while (attacking || served < 20) {
        await roundTrip(port, `ping ${served}`, `ping ${served}`, true);
        served++;
      }
    })();
    const outcomes: Record<string, number> = {};
    const tally = (o: string): void => void (outcomes[o] = (outcomes[o] ?? 0) + 1);
    const attack = async (what: string, one: (s: Socket) => Promise<string>): Promise<void> => {
      for (let i = 0; i < 2; i++) {
        await Promise.all(
          Array.from({ length: 100 }, async () => {
            const s = connect({ hostname: "127.0.0.1", port });
            try {
              await s.opened;
              tally(`${what}:${await one(s)}`);
            } finally {
              await s.close().catch(() => {});
            }
          }),
        );
      }
    };
    await Promise.all([
      // Random bytes instead of a ClientHello (an HTTP request's start, so never a valid record header
      // that would make the server wait for more): the server must end the connection.
      attack("garbage", async (s) => {
        const garbage = randomBytes(512);
        garbage.set(enc.encode("GET /"));
        await s.write(garbage);
        return ending(s, 3000);
      }),
      // Connect and vanish.
      attack("hit-and-run", async () => "gone"),
      // Half a ClientHello, then FIN: nothing more is coming, so the server closes it, at once
      // (tls-handshake.test.ts checks "at once"), and at the latest at its 2 s handshake deadline
      // (_hostile.ts): a loaded machine may delay the first, never the second.
      attack("partial-hello-fin", async (s) => {
        await s.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
        await s.closeWrite();
        return ending(s, 6000);
      }),
    ]);
    attacking = false;
    expect(await within(legit, 20_000)).not.toBe("pending");
    const ms = Date.now() - t0;
    const after = await measureUntil(child, (m) => m.fds <= before.fds + FD_SLACK, 3000);
    report("tls garbage+hit-and-run x600", {
      fdsBefore: before.fds,
      fdsAfter: after.fds,
      rssBefore: before.rss,
      rssAfter: after.rss,
      ms,
      served,
      outcomes,
    });
    expect(served).toBeGreaterThanOrEqual(20);
    for (const [o, count] of Object.entries(outcomes)) {
      expect(
        [
          "garbage:eof",
          "garbage:ECONNRESET",
          "hit-and-run:gone",
          "partial-hello-fin:eof",
          "partial-hello-fin:ECONNRESET",
        ],
        `${o} x${count}`,
      ).toContain(o);
    }
    expect(after.fds, "fds of the server 3 s after the attack").toBeLessThanOrEqual(before.fds + FD_SLACK);
  });
});

describe("a UDP flood at a socket nobody receives on", { timeout: 60_000 }, () => {
  afterEach(killChildren);

  it("holds at most receiveQueueBytes (4 MiB) in memory and counts what it drops", async () => {
    const { child, port } = await server("udp");
    const before = await measure(child);
    const tx = await bind({ hostname: "127.0.0.1" });
    const t0 = Date.now();
    const flood = async (count: number, size: number): Promise<void> => {
      const payload = new Uint8Array(size).fill(0x61);
      for (let i = 0; i < count; i++) {
        await tx.send(payload, { hostname: "127.0.0.1", port });
        if (i % 50 === 49) await sleep(1); // paced, so the kernel's buffer is not what drops them
      }
    };
    try {
      // Tiny datagrams: what is held must be what is counted, not a 64 KiB buffer behind each.
      await flood(3000, 1);
      await sleep(300);
      const small = await measure(child);
      // 1 KiB datagrams against a 4 MiB queue, 2 MiB at a time until the queue is full and drops
      // (at most 16 MiB: on a loaded machine the kernel drops some before the runtime reads them).
      let full = small;
      let rounds = 0;
      while (rounds < 8 && !full.dropped) {
        await flood(2048, 1024);
        rounds++;
        await sleep(200);
        full = await measure(child);
      }
      const drained = await ask<{ datagrams: number; bytes: number; dropped: number }>(child, "drain", "drain");
      report(`udp flood 3000x1B + ${rounds * 2048}x1KiB`, {
        fdsBefore: before.fds,
        fdsAfter: full.fds,
        rssBefore: before.rss,
        rssAfter: full.rss,
        ms: Date.now() - t0,
        rssAfterTinyMiB: ((small.rss - before.rss) / 1048576).toFixed(1),
        externalAfterTinyMiB: ((small.external - before.external) / 1048576).toFixed(1),
        externalFullMiB: ((full.external - before.external) / 1048576).toFixed(1),
        queued: drained.datagrams,
        queuedBytes: drained.bytes,
        dropped: full.dropped,
      });
      // What the queue holds, after a full collection: the datagrams' own bytes, never a 64 KiB
      // buffer behind each (issue 10, item 9: 3,000 x 64 KiB = 188 MiB before the fix).
      expect(small.external - before.external, "3,000 one-byte datagrams: memory held").toBeLessThan(4 * 1048576);
      expect(full.external - before.external, "a full queue: memory held").toBeLessThan(8 * 1048576);
      expect(full.dropped).toBeGreaterThan(0);
      expect(drained.bytes).toBeLessThanOrEqual(4 * 1048576 + 1024);
      // The process as a whole. Deno's node:dgram (Deno without --unstable-net) allocates a fresh
      // 64 KiB buffer for every datagram it receives; unisock copies the datagram out and drops it,
      // but the allocator keeps much of that freed memory, so RSS grows by tens of MiB under a flood
      // although nothing is held (measured: +78 MiB for 3,000 datagrams, external +0.0 MiB). There
      // the bound is the one that catches memory really held; elsewhere the tight one.
      const rssBound = DENO_NODE_DGRAM ? 192 : 24;
      expect(small.rss - before.rss, "3,000 one-byte datagrams: RSS").toBeLessThan(rssBound * 1048576);
      expect(full.rss - before.rss, "a full queue: RSS").toBeLessThan((rssBound + 24) * 1048576);
    } finally {
      await tx.close();
    }
  });
});
