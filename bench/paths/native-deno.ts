/*
 * The scenarios written against Deno's own API (Deno.connect/listen, Deno.listenDatagram with
 * --unstable-net): awaited reads and writes, looping on short writes.
 */
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
  sleep,
  udpIdle,
  within,
} from "../lib/common.ts";

// deno-lint-ignore no-explicit-any
const D = (globalThis as any).Deno;
interface Conn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  closeWrite(): Promise<void>;
  setNoDelay(on?: boolean): void;
  localAddr: { port: number };
}

async function writeAll(conn: Conn, data: Uint8Array): Promise<void> {
  for (let o = 0; o < data.byteLength; ) o += await conn.write(o === 0 ? data : data.subarray(o));
}

async function acceptOne(ready: Ready): Promise<Conn> {
  const listener = D.listen({ hostname: HOST, port: 0, transport: "tcp" });
  await ready({ port: listener.addr.port });
  const conn: Conn = await within(listener.accept(), 15_000, "accept");
  conn.setNoDelay(true);
  listener.close();
  return conn;
}

async function dial(p: Params): Promise<Conn> {
  const conn: Conn = await within(D.connect({ hostname: HOST, port: p.port!, transport: "tcp" }), 5000, "connect");
  conn.setNoDelay(true);
  return conn;
}

async function countingServer(ready: Ready, expect: number): Promise<Record<string, unknown>> {
  const conn = await acceptOne(ready);
  const buf = new Uint8Array(256 * 1024);
  let got = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    const before = got;
    got += n;
    if (before < expect && got >= expect) await writeAll(conn, ACK);
  }
  conn.close();
  return { bytes: got };
}

async function pump(p: Params, chunk: Uint8Array, count: number): Promise<Record<string, unknown>> {
  const conn = await dial(p);
  const acked = conn.read(new Uint8Array(64));
  const deadline = now() + p.maxSeconds * 1000;
  const t0 = now();
  let i = 0;
  for (; i < count; i++) {
    await writeAll(conn, chunk);
    if ((i & 1023) === 0 && now() > deadline) break;
  }
  if (i < count) throw new Error(`time limit after ${i} of ${count} writes`);
  await within(acked, Math.max(1000, deadline - now()), "ack");
  const seconds = (now() - t0) / 1000;
  conn.close();
  return { seconds, writes: count, bytes: count * chunk.byteLength };
}

export const path: Path = {
  bulk: {
    server: (p, ready) => countingServer(ready, p.bytes!),
    client: (p) => pump(p, new Uint8Array(p.chunk!), p.bytes! / p.chunk!),
  },
  small: {
    server: (p, ready) => countingServer(ready, p.count! * p.size!),
    client: (p) => pump(p, new Uint8Array(p.size!).fill(0x61), p.count!),
  },
  echo: {
    async server(_p, ready) {
      const conn = await acceptOne(ready);
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        await writeAll(conn, buf.subarray(0, n));
      }
      conn.close();
      return {};
    },
    async client(p) {
      const conn = await dial(p);
      const msg = new Uint8Array(p.size!).fill(0x61);
      const buf = new Uint8Array(64 * 1024);
      const lat = new Float64Array(p.count!);
      const total = p.warmup! + p.count!;
      const deadline = now() + p.maxSeconds * 1000;
      let t0 = now();
      let i = 0;
      for (; i < total; i++) {
        if (i === p.warmup) t0 = now();
        const sentAt = now();
        await writeAll(conn, msg);
        for (let got = 0; got < msg.byteLength; ) {
          const n = await conn.read(buf);
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
      conn.close();
      return echoResult(lat, n, seconds);
    },
  },
  udp: {
    async server(p, ready) {
      if (typeof D.listenDatagram !== "function") throw new Error("Deno.listenDatagram needs --unstable-net");
      const sock = D.listenDatagram({ hostname: HOST, port: 0, transport: "udp" });
      await ready({ port: sock.addr.port });
      const buf = new Uint8Array(2048);
      let n = 0;
      let first = 0;
      let last = 0;
      const loop = (async () => {
        try {
          for (;;) {
            await sock.receive(buf);
            last = now();
            if (n++ === 0) first = last;
          }
        } catch {
          // closed by udpIdle below
        }
      })();
      await udpIdle(p, () => n);
      sock.close();
      await within(loop, 2000, "receive loop end");
      return { received: n, seconds: (last - first) / 1000 };
    },
    async client(p) {
      const sock = D.listenDatagram({ hostname: HOST, port: 0, transport: "udp" });
      const to = { transport: "udp", hostname: HOST, port: p.port! };
      const msg = new Uint8Array(p.size!).fill(0x61);
      const deadline = now() + p.maxSeconds * 1000;
      const t0 = now();
      let i = 0;
      for (; i < p.count!; i++) {
        await sock.send(msg, to);
        if ((i & 1023) === 0 && now() > deadline) break;
      }
      const seconds = (now() - t0) / 1000;
      sock.close();
      return { sent: i, seconds };
    },
  },
  conn: {
    async server(p, ready) {
      const listener = D.listen({ hostname: HOST, port: 0, transport: "tcp" });
      await ready({ port: listener.addr.port });
      let n = 0;
      const loop = (async () => {
        try {
          for (;;) {
            const conn: Conn = await listener.accept();
            n++;
            conn.close();
          }
        } catch {
          // listener closed
        }
      })();
      await connIdle(p, () => n);
      listener.close();
      await loop;
      return { accepted: n };
    },
    async client(p) {
      return connLoop(p, async () => {
        const conn: Conn = await D.connect({ hostname: HOST, port: p.port!, transport: "tcp" });
        conn.close();
      });
    },
  },
  memory: {
    async server(p, ready) {
      const listener = D.listen({ hostname: HOST, port: 0, transport: "tcp" });
      await ready({ port: listener.addr.port });
      const held: Conn[] = [];
      void (async () => {
        for (;;) held.push(await listener.accept()); // never reads
      })().catch(() => {});
      await sleep(p.maxSeconds * 1000);
      return {};
    },
    async client(p, ready) {
      const conn = await dial(p);
      const chunk = new Uint8Array(p.chunk!);
      let toKernel = 0;
      let pending = 0;
      const t0 = now();
      outer: while (toKernel < p.maxBytes! && now() - t0 < p.maxSeconds * 500) {
        for (let o = 0; o < chunk.byteLength; ) {
          pending = chunk.byteLength - o;
          const w = conn.write(chunk.subarray(o));
          const n = await Promise.race([w, sleep(p.stallMs!).then(() => -1)]);
          if (n < 0) break outer;
          o += n;
          toKernel += n;
          pending = 0;
        }
      }
      await ready({ stalled: true, handed: toKernel + pending, toKernel, localPort: conn.localAddr.port });
      await sleep(p.maxSeconds * 1000);
      return {};
    },
  },
};
