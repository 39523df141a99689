/*
 * The scenarios written against Node's own API (node:net, node:dgram), the way a Node programmer
 * writes them for speed: event handlers, write() until it returns false, then 'drain'. Sockets get
 * noDelay and a backlog of 4096 like unisock's defaults, so the ratio measures the wrapper, not a
 * different configuration.
 */
import dgram from "node:dgram";
import { once } from "node:events";
import net from "node:net";
import { runtime } from "../lib/rt.ts";
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

async function listen(ready: Ready): Promise<net.Server> {
  const server = net.createServer({ noDelay: true });
  server.listen({ host: HOST, port: 0, backlog: 4096 });
  await once(server, "listening");
  await ready({ port: (server.address() as net.AddressInfo).port });
  return server;
}

async function acceptOne(ready: Ready): Promise<net.Socket> {
  const server = await listen(ready);
  const [sock] = (await once(server, "connection")) as [net.Socket];
  server.close();
  return sock;
}

async function dial(p: Params): Promise<net.Socket> {
  const sock = net.connect({ host: HOST, port: p.port!, noDelay: true });
  await within(once(sock, "connect"), 5000, "connect");
  return sock;
}

/** Counts bytes until EOF; sends ACK once `expect` bytes have arrived. */
async function countingServer(_p: Params, ready: Ready, expect: number): Promise<Record<string, unknown>> {
  const sock = await acceptOne(ready);
  let got = 0;
  await new Promise<void>((resolve) => {
    sock.on("data", (d: Buffer) => {
      const before = got;
      got += d.byteLength;
      if (before < expect && got >= expect) sock.write(ACK);
    });
    sock.on("end", () => sock.end());
    sock.on("close", () => resolve());
    sock.on("error", () => {});
  });
  return { bytes: got };
}

/** Writes `count` times `chunk`, honouring backpressure; resolves with the seconds until ACK. */
async function pump(p: Params, chunk: Uint8Array, count: number): Promise<Record<string, unknown>> {
  const sock = await dial(p);
  const acked = once(sock, "data");
  const deadline = now() + p.maxSeconds * 1000;
  const t0 = now();
  let i = 0;
  for (; i < count; i++) {
    if (!sock.write(chunk)) {
      await once(sock, "drain");
      if (now() > deadline) break;
    }
  }
  if (i < count) throw new Error(`time limit after ${i} of ${count} writes`);
  await within(acked, Math.max(1000, deadline - now()), "ack");
  const seconds = (now() - t0) / 1000;
  sock.destroy();
  return { seconds, writes: count, bytes: count * chunk.byteLength };
}

export const path: Path = {
  bulk: {
    server: (p, ready) => countingServer(p, ready, p.bytes!),
    client: (p) => pump(p, new Uint8Array(p.chunk!), p.bytes! / p.chunk!),
  },
  small: {
    server: (p, ready) => countingServer(p, ready, p.count! * p.size!),
    client: (p) => pump(p, new Uint8Array(p.size!).fill(0x61), p.count!),
  },
  echo: {
    async server(_p, ready) {
      const sock = await acceptOne(ready);
      sock.on("data", (d: Buffer) => sock.write(d));
      sock.on("end", () => sock.end());
      sock.on("error", () => {});
      await once(sock, "close");
      return {};
    },
    async client(p) {
      const sock = await dial(p);
      const msg = new Uint8Array(p.size!).fill(0x61);
      const total = p.warmup! + p.count!;
      const lat = new Float64Array(p.count!);
      const deadline = now() + p.maxSeconds * 1000;
      let i = 0;
      let got = 0;
      let sentAt = 0;
      let t0 = 0;
      // Callback-chained: the next message leaves from the handler that saw the previous echo.
      await new Promise<void>((resolve, reject) => {
        sock.on("error", reject);
        sock.on("data", (d: Buffer) => {
          got += d.byteLength;
          if (got < msg.byteLength) return;
          got -= msg.byteLength;
          const t = now();
          if (i >= p.warmup!) lat[i - p.warmup!] = t - sentAt;
          else if (i === p.warmup! - 1) t0 = t;
          i++;
          if (i >= total || t > deadline) return resolve();
          sentAt = now();
          sock.write(msg);
        });
        sentAt = now();
        if (p.warmup === 0) t0 = sentAt;
        sock.write(msg);
      });
      const n = i - p.warmup!;
      const seconds = (now() - t0) / 1000;
      sock.destroy();
      return echoResult(lat, n, seconds);
    },
  },
  udp: {
    async server(p, ready) {
      const sock = dgram.createSocket("udp4");
      sock.bind(0, HOST);
      await once(sock, "listening");
      // Not in Deno: its node:dgram never sets SO_RCVBUF, but allocates every receive's buffer at
      // the size asked (4 MiB here, doubled), which brings it down to a few hundred datagrams/s.
      if (runtime !== "deno") sock.setRecvBufferSize(p.rcvbuf!);
      let n = 0;
      let first = 0;
      let last = 0;
      sock.on("message", () => {
        last = now();
        if (n++ === 0) first = last;
      });
      await ready({ port: sock.address().port });
      await udpIdle(p, () => n);
      sock.close();
      return { received: n, seconds: (last - first) / 1000 };
    },
    async client(p) {
      const sock = dgram.createSocket("udp4");
      sock.connect(p.port!, HOST);
      await once(sock, "connect");
      const msg = new Uint8Array(p.size!).fill(0x61);
      // send() never says "slow down": keep at most 256 sends whose callback has not run.
      let inFlight = 0;
      let wake: (() => void) | null = null;
      const done = (): void => {
        inFlight--;
        if (wake !== null && inFlight < 128) {
          const w = wake;
          wake = null;
          w();
        }
      };
      const deadline = now() + p.maxSeconds * 1000;
      const t0 = now();
      let i = 0;
      for (; i < p.count!; i++) {
        if (inFlight >= 256) {
          await new Promise<void>((r) => (wake = r));
          if (now() > deadline) break;
        }
        inFlight++;
        sock.send(msg, done);
      }
      const seconds = (now() - t0) / 1000;
      while (inFlight > 0) await sleep(1);
      sock.close();
      return { sent: i, seconds };
    },
  },
  conn: {
    async server(p, ready) {
      const server = await listen(ready);
      let n = 0;
      server.on("connection", (sock: net.Socket) => {
        n++;
        sock.on("error", () => {});
        sock.destroy();
      });
      await connIdle(p, () => n);
      server.close();
      return { accepted: n };
    },
    async client(p) {
      const one = (): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          const sock = net.connect({ host: HOST, port: p.port!, noDelay: true });
          sock.once("connect", () => sock.destroy());
          sock.once("error", reject);
          sock.once("close", () => resolve());
        });
      return connLoop(p, one);
    },
  },
  memory: {
    async server(p, ready) {
      // pauseOnConnect: the accepted socket never reads, not even the first chunk.
      const server = net.createServer({ pauseOnConnect: true });
      server.listen({ host: HOST, port: 0 });
      await once(server, "listening");
      await ready({ port: (server.address() as net.AddressInfo).port });
      const socks: net.Socket[] = [];
      server.on("connection", (sock: net.Socket) => socks.push(sock));
      await sleep(p.maxSeconds * 1000);
      return {};
    },
    async client(p, ready) {
      const sock = await dial(p);
      const chunk = new Uint8Array(p.chunk!);
      let handed = 0;
      const t0 = now();
      while (handed < p.maxBytes! && now() - t0 < p.maxSeconds * 500) {
        handed += chunk.byteLength;
        if (!sock.write(chunk)) {
          const drained = await Promise.race([
            once(sock, "drain").then(() => true),
            sleep(p.stallMs!).then(() => false),
          ]);
          if (!drained) break;
        }
      }
      // What left user space: dispatched to libuv minus what libuv still queues (Node internals, bench only).
      const s = sock as net.Socket & { _bytesDispatched: number; _handle: { writeQueueSize: number } };
      const toKernel = s._bytesDispatched - s._handle.writeQueueSize;
      await ready({ stalled: true, handed, toKernel, localPort: sock.localPort });
      await sleep(p.maxSeconds * 1000);
      return {};
    },
  },
};
