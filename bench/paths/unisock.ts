/*
 * The scenarios written once against unisock's public API, run on every runtime. `direct` uses
 * read(into)/write(data); `streams` uses the readable/writable Web Streams with default readers
 * and writers (`await writer.write()`), the way WinterTC code is usually written. Both ends of a
 * connection use the path under test.
 */
import type { DatagramSocket, Listener, Socket } from "../../src/core/types.ts";
import {
  ACK,
  connIdle,
  connLoop,
  echoResult,
  HOST,
  now,
  type Params,
  type Path,
  type Ready,
  type Role,
  sleep,
  udpIdle,
  within,
} from "../lib/common.ts";

/** What every unisock entry point exports (src/node.ts, src/deno.ts, src/bun.ts). */
export interface Unisock {
  connect(address: { hostname: string; port: number }): Socket;
  listen(options: { hostname: string; port: number }): Promise<Listener>;
  bind(options: {
    hostname: string;
    port: number;
    connect?: { hostname: string; port: number };
    recvBufferSize?: number;
  }): Promise<DatagramSocket>;
  capabilities: { udp: boolean };
}

type Mode = "direct" | "streams";

const portOf = (l: Listener): number => (l.addr as { port: number }).port;

async function acceptOne(u: Unisock, ready: Ready): Promise<Socket> {
  const l = await u.listen({ hostname: HOST, port: 0 });
  await ready({ port: portOf(l) });
  const s = await within(l.accept(), 15_000, "accept");
  await l.close();
  return s;
}

async function dial(u: Unisock, p: Params): Promise<Socket> {
  const s = u.connect({ hostname: HOST, port: p.port! });
  await within(s.opened, 5000, "connect");
  return s;
}

/** A reader of either path: `next()` gives the byte count of the next arrival, or null at EOF. */
function byteReader(s: Socket, mode: Mode, bufSize: number): { next(): Promise<number | null>; last(): Uint8Array } {
  if (mode === "direct") {
    const buf = new Uint8Array(bufSize);
    let n = 0;
    return {
      next: async () => {
        const r = await s.read(buf);
        n = r ?? 0;
        return r;
      },
      last: () => buf.subarray(0, n),
    };
  }
  const reader = s.readable.getReader();
  let chunk: Uint8Array = new Uint8Array(0);
  return {
    next: async () => {
      const r = await reader.read();
      if (r.done) return null;
      chunk = r.value;
      return chunk.byteLength;
    },
    last: () => chunk,
  };
}

function byteWriter(s: Socket, mode: Mode): { write(data: Uint8Array): Promise<void>; close(): Promise<void> } {
  if (mode === "direct") return { write: (d) => s.write(d), close: () => s.close() };
  const writer = s.writable.getWriter();
  return { write: (d) => writer.write(d), close: () => s.close() };
}

function countingServer(u: Unisock, mode: Mode, expect: (p: Params) => number): Role {
  return async (p, ready) => {
    const s = await acceptOne(u, ready);
    const r = byteReader(s, mode, 256 * 1024);
    const w = byteWriter(s, mode);
    const want = expect(p);
    let got = 0;
    for (;;) {
      const n = await r.next();
      if (n === null) break;
      const before = got;
      got += n;
      if (before < want && got >= want) await w.write(ACK);
    }
    await w.close();
    return { bytes: got };
  };
}

function pump(u: Unisock, mode: Mode, chunkOf: (p: Params) => Uint8Array, countOf: (p: Params) => number): Role {
  return async (p) => {
    const s = await dial(u, p);
    const chunk = chunkOf(p);
    const count = countOf(p);
    const r = byteReader(s, mode, 64);
    const acked = r.next();
    const w = byteWriter(s, mode);
    const deadline = now() + p.maxSeconds * 1000;
    const t0 = now();
    let i = 0;
    for (; i < count; i++) {
      await w.write(chunk);
      if ((i & 1023) === 0 && now() > deadline) break;
    }
    if (i < count) throw new Error(`time limit after ${i} of ${count} writes`);
    await within(acked, Math.max(1000, deadline - now()), "ack");
    const seconds = (now() - t0) / 1000;
    await s.close();
    return { seconds, writes: count, bytes: count * chunk.byteLength };
  };
}

export function unisockPath(u: Unisock, mode: Mode): Path {
  return {
    bulk: {
      server: countingServer(u, mode, (p) => p.bytes!),
      client: pump(
        u,
        mode,
        (p) => new Uint8Array(p.chunk!),
        (p) => p.bytes! / p.chunk!,
      ),
    },
    small: {
      server: countingServer(u, mode, (p) => p.count! * p.size!),
      client: pump(
        u,
        mode,
        (p) => new Uint8Array(p.size!).fill(0x61),
        (p) => p.count!,
      ),
    },
    echo: {
      async server(_p, ready) {
        const s = await acceptOne(u, ready);
        const r = byteReader(s, mode, 64 * 1024);
        const w = byteWriter(s, mode);
        // Lockstep: the client sends the next message only after this one came back, so
        // reusing the read buffer for the write is safe.
        for (;;) {
          const n = await r.next();
          if (n === null) break;
          await w.write(r.last());
        }
        await w.close();
        return {};
      },
      async client(p) {
        const s = await dial(u, p);
        const r = byteReader(s, mode, 64 * 1024);
        const w = byteWriter(s, mode);
        const msg = new Uint8Array(p.size!).fill(0x61);
        const lat = new Float64Array(p.count!);
        const total = p.warmup! + p.count!;
        const deadline = now() + p.maxSeconds * 1000;
        let t0 = now();
        let i = 0;
        for (; i < total; i++) {
          if (i === p.warmup) t0 = now();
          const sentAt = now();
          await w.write(msg);
          for (let got = 0; got < msg.byteLength; ) {
            const n = await r.next();
            if (n === null) throw new Error("EOF during echo");
            got += n;
          }
          const t = now();
          if (i >= p.warmup!) lat[i - p.warmup!] = t - sentAt;
          if (t > deadline) {
            i++;
            break;
          }
        }
        const n = i - p.warmup!;
        const seconds = (now() - t0) / 1000;
        await s.close();
        return echoResult(lat, n, seconds);
      },
    },
    udp: {
      async server(p, ready) {
        // A 4 MiB receive buffer like the native Node receiver, where the runtime lets it be set.
        const sock = await u
          .bind({ hostname: HOST, port: 0, recvBufferSize: p.rcvbuf! })
          .catch((err: { code?: string }) => {
            if (err.code === "ERR_UNSUPPORTED") return u.bind({ hostname: HOST, port: 0 });
            throw err;
          });
        await ready({ port: sock.localAddress.port });
        let n = 0;
        let first = 0;
        let last = 0;
        const loop = (async () => {
          try {
            if (mode === "direct") {
              for (;;) {
                await sock.receive();
                last = now();
                if (n++ === 0) first = last;
              }
            } else {
              const reader = sock.readable.getReader();
              for (;;) {
                const r = await reader.read();
                if (r.done) break;
                last = now();
                if (n++ === 0) first = last;
              }
            }
          } catch {
            // closed by udpIdle below
          }
        })();
        await udpIdle(p, () => n);
        await sock.close();
        await within(loop, 2000, "receive loop end");
        return { received: n, seconds: (last - first) / 1000 };
      },
      async client(p) {
        const sock = await u.bind({ hostname: HOST, port: 0, connect: { hostname: HOST, port: p.port! } });
        const msg = new Uint8Array(p.size!).fill(0x61);
        const deadline = now() + p.maxSeconds * 1000;
        const t0 = now();
        let i = 0;
        try {
          if (mode === "direct") {
            for (; i < p.count!; i++) {
              await sock.send(msg);
              if ((i & 1023) === 0 && now() > deadline) break;
            }
          } else {
            const writer = sock.writable.getWriter();
            for (; i < p.count!; i++) {
              await writer.write({ data: msg });
              if ((i & 1023) === 0 && now() > deadline) break;
            }
          }
        } catch (err) {
          // The receiver stops after a pause of idleMs (udpIdle); when the machine's load stalls
          // this sender that long, the receiver has closed and the port's ICMP error reaches the
          // connected socket. The native senders ignore send errors; here the run ends with what was sent.
          if ((err as { code?: string }).code !== "ECONNREFUSED" || i === 0) throw err;
        }
        const seconds = (now() - t0) / 1000;
        await sock.close();
        return { sent: i, seconds };
      },
    },
    conn: {
      async server(p, ready) {
        const l = await u.listen({ hostname: HOST, port: 0 });
        await ready({ port: portOf(l) });
        let n = 0;
        const loop = (async () => {
          for await (const s of l) {
            n++;
            if (mode === "streams") void [s.readable, s.writable];
            void s.close();
          }
        })();
        await connIdle(p, () => n);
        await l.close();
        await loop.catch(() => {});
        return { accepted: n };
      },
      async client(p) {
        return connLoop(p, async () => {
          const s = u.connect({ hostname: HOST, port: p.port! });
          await s.opened;
          // A WinterTC program takes the two streams of every connection it opens.
          if (mode === "streams") void [s.readable, s.writable];
          await s.close();
        });
      },
    },
    memory: {
      async server(p, ready) {
        const l = await u.listen({ hostname: HOST, port: 0 });
        await ready({ port: portOf(l) });
        const held: Socket[] = [];
        void (async () => {
          for await (const s of l) held.push(s); // never reads
        })();
        await sleep(p.maxSeconds * 1000);
        return {};
      },
      async client(p, ready) {
        const s = await dial(u, p);
        const info = await s.opened;
        const w = byteWriter(s, mode);
        const chunk = new Uint8Array(p.chunk!);
        let handed = 0;
        const t0 = now();
        while (handed < p.maxBytes! && now() - t0 < p.maxSeconds * 500) {
          handed += chunk.byteLength;
          const taken = await Promise.race([w.write(chunk).then(() => true), sleep(p.stallMs!).then(() => false)]);
          if (!taken) break;
        }
        await ready({ stalled: true, handed, localPort: (info.localAddress as { port: number }).port });
        await sleep(p.maxSeconds * 1000);
        return {};
      },
    },
  };
}
