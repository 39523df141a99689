/*
 * The scenarios written against Bun's own API (Bun.listen/connect handler objects, Bun.udpSocket),
 * the way a Bun programmer writes them for speed: handlers, write() returning the bytes it took,
 * the caller keeping the tail until 'drain'.
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
const B = (globalThis as any).Bun;
// deno-lint-ignore no-explicit-any
type BunSocket = any;

/** A write queue for one Bun socket: Bun keeps nothing it did not take, so the tail waits here for 'drain'. */
class Out {
  readonly #queue: Uint8Array[] = [];
  #wake: (() => void) | null = null;
  sock: BunSocket = null;
  /** Bytes that left user space. */
  toKernel = 0;

  get pending(): number {
    return this.#queue.reduce((a, c) => a + c.byteLength, 0);
  }

  /** Writes or queues; true when all of it was taken now. */
  write(data: Uint8Array): boolean {
    if (this.#queue.length > 0) {
      this.#queue.push(data);
      return false;
    }
    const n = this.sock.write(data);
    if (n < 0) throw new Error("write on a closed Bun socket");
    this.toKernel += n;
    if (n === data.byteLength) return true;
    this.#queue.push(data.subarray(n));
    return false;
  }

  drain(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const n = this.sock.write(head);
      if (n < 0) return;
      this.toKernel += n;
      if (n < head.byteLength) {
        this.#queue[0] = head.subarray(n);
        return;
      }
      this.#queue.shift();
    }
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Resolves once the queue is empty. */
  drained(): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#wake = resolve));
  }
}

async function countingServer(ready: Ready, expect: number): Promise<Record<string, unknown>> {
  let got = 0;
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const listener = B.listen({
    hostname: HOST,
    port: 0,
    socket: {
      open(s: BunSocket) {
        s.setNoDelay(true);
      },
      data(s: BunSocket, d: Uint8Array) {
        const before = got;
        got += d.byteLength;
        if (before < expect && got >= expect) s.write(ACK);
      },
      end(s: BunSocket) {
        s.end();
      },
      close() {
        done();
      },
      error() {},
    },
  });
  await ready({ port: listener.port });
  await closed;
  listener.stop(true);
  return { bytes: got };
}

async function dial(p: Params, handlers: Record<string, unknown>): Promise<BunSocket> {
  const sock: BunSocket = await within(
    B.connect({ hostname: HOST, port: p.port!, socket: { error() {}, close() {}, ...handlers } }),
    5000,
    "connect",
  );
  sock.setNoDelay(true);
  return sock;
}

async function pump(p: Params, chunk: Uint8Array, count: number): Promise<Record<string, unknown>> {
  const out = new Out();
  let acked!: () => void;
  const ack = new Promise<void>((r) => (acked = r));
  out.sock = await dial(p, { data: () => acked(), drain: () => out.drain() });
  const deadline = now() + p.maxSeconds * 1000;
  const t0 = now();
  let i = 0;
  for (; i < count; i++) {
    if (!out.write(chunk)) {
      await out.drained();
      if (now() > deadline) break;
    }
  }
  if (i < count) throw new Error(`time limit after ${i} of ${count} writes`);
  await within(ack, Math.max(1000, deadline - now()), "ack");
  const seconds = (now() - t0) / 1000;
  out.sock.end();
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
      let done!: () => void;
      const closed = new Promise<void>((r) => (done = r));
      const out = new Out();
      const listener = B.listen({
        hostname: HOST,
        port: 0,
        socket: {
          open(s: BunSocket) {
            s.setNoDelay(true);
            out.sock = s;
          },
          data(_s: BunSocket, d: Uint8Array) {
            out.write(d);
          },
          drain() {
            out.drain();
          },
          end(s: BunSocket) {
            s.end();
          },
          close() {
            done();
          },
          error() {},
        },
      });
      await ready({ port: listener.port });
      await closed;
      listener.stop(true);
      return {};
    },
    async client(p) {
      const msg = new Uint8Array(p.size!).fill(0x61);
      const total = p.warmup! + p.count!;
      const lat = new Float64Array(p.count!);
      const deadline = now() + p.maxSeconds * 1000;
      let i = 0;
      let got = 0;
      let sentAt = 0;
      let t0 = 0;
      let finish!: () => void;
      const finished = new Promise<void>((r) => (finish = r));
      // Callback-chained: the next message leaves from the handler that saw the previous echo.
      const sock = await dial(p, {
        data(s: BunSocket, d: Uint8Array) {
          got += d.byteLength;
          if (got < msg.byteLength) return;
          got -= msg.byteLength;
          const t = now();
          if (i >= p.warmup!) lat[i - p.warmup!] = t - sentAt;
          else if (i === p.warmup! - 1) t0 = t;
          i++;
          if (i >= total || t > deadline) return finish();
          sentAt = now();
          s.write(msg);
        },
      });
      sentAt = now();
      if (p.warmup === 0) t0 = sentAt;
      sock.write(msg);
      await finished;
      const n = i - p.warmup!;
      const seconds = (now() - t0) / 1000;
      sock.end();
      return echoResult(lat, n, seconds);
    },
  },
  udp: {
    async server(p, ready) {
      let n = 0;
      let first = 0;
      let last = 0;
      const sock = await B.udpSocket({
        hostname: HOST,
        port: 0,
        socket: {
          data() {
            last = now();
            if (n++ === 0) first = last;
          },
        },
      });
      await ready({ port: sock.port });
      await udpIdle(p, () => n);
      sock.close();
      return { received: n, seconds: (last - first) / 1000 };
    },
    async client(p) {
      let wake: (() => void) | null = null;
      const sock = await B.udpSocket({
        connect: { hostname: HOST, port: p.port! },
        socket: {
          drain() {
            const w = wake;
            wake = null;
            w?.();
          },
        },
      });
      const msg = new Uint8Array(p.size!).fill(0x61);
      const deadline = now() + p.maxSeconds * 1000;
      const t0 = now();
      let i = 0;
      for (; i < p.count!; i++) {
        while (!sock.send(msg)) {
          await Promise.race([new Promise<void>((r) => (wake = r)), sleep(5)]);
          if (now() > deadline) break;
        }
        if ((i & 1023) === 0 && now() > deadline) break;
      }
      const seconds = (now() - t0) / 1000;
      sock.close();
      return { sent: i, seconds };
    },
  },
  conn: {
    async server(p, ready) {
      let n = 0;
      const listener = B.listen({
        hostname: HOST,
        port: 0,
        socket: {
          open(s: BunSocket) {
            n++;
            s.end();
          },
          data() {},
          error() {},
        },
      });
      await ready({ port: listener.port });
      await connIdle(p, () => n);
      listener.stop(true);
      return { accepted: n };
    },
    async client(p) {
      return connLoop(
        p,
        () =>
          new Promise<void>((resolve, reject) => {
            B.connect({
              hostname: HOST,
              port: p.port!,
              socket: {
                open(s: BunSocket) {
                  s.end();
                },
                close() {
                  resolve();
                },
                connectError(_s: BunSocket, err: Error) {
                  reject(err);
                },
                error() {},
                data() {},
              },
            }).catch(reject);
          }),
      );
    },
  },
  memory: {
    async server(p, ready) {
      const listener = B.listen({
        hostname: HOST,
        port: 0,
        socket: {
          open(s: BunSocket) {
            s.pause(); // never reads
          },
          data() {
            throw new Error("the non-reading peer got data: pause() did not hold");
          },
          error() {},
        },
      });
      await ready({ port: listener.port });
      await sleep(p.maxSeconds * 1000);
      return {};
    },
    async client(p, ready) {
      const out = new Out();
      out.sock = await dial(p, { drain: () => out.drain(), data() {} });
      const chunk = new Uint8Array(p.chunk!);
      let handed = 0;
      const t0 = now();
      while (handed < p.maxBytes! && now() - t0 < p.maxSeconds * 500) {
        handed += chunk.byteLength;
        if (!out.write(chunk)) {
          const drained = await Promise.race([out.drained().then(() => true), sleep(p.stallMs!).then(() => false)]);
          if (!drained) break;
        }
      }
      await ready({ stalled: true, handed, toKernel: out.toKernel, localPort: out.sock.localPort });
      await sleep(p.maxSeconds * 1000);
      return {};
    },
  },
};
