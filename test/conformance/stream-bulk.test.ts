import { describe, expect, it } from "vitest";
import { connect, listen } from "unisock";
import type { ConnectAddress, ListenOptions, Socket } from "unisock";
import {
  echoServer,
  misfilledBlocks,
  portOf,
  randomBytes,
  readAll,
  sha256,
  sleep,
  tmpSocketPath,
  within,
} from "../helpers/streams.ts";

/** Sends `data` in 64 KiB writes and half-closes; reads the echo concurrently; returns what came back. */
async function roundTrip(address: ConnectAddress, data: Uint8Array): Promise<Uint8Array> {
  await using c = connect(address);
  const echoed = readAll(c);
  for (let o = 0; o < data.byteLength; o += 65536) await c.write(data.subarray(o, o + 65536));
  await c.closeWrite();
  return await echoed;
}

async function bulk(options: ListenOptions, address: (l: { addr: unknown }) => ConnectAddress): Promise<void> {
  await using l = await echoServer(options);
  const data = randomBytes(16 * 1024 * 1024);
  const back = await roundTrip(address(l), data);
  expect(back.byteLength).toBe(data.byteLength);
  expect(await sha256(back)).toBe(await sha256(data));
}

describe("stream: bulk data and many clients", () => {
  it("16 MiB of random bytes round-trip over TCP with matching SHA-256", async () => {
    await bulk({ hostname: "127.0.0.1" }, (l) => ({ hostname: "127.0.0.1", port: portOf(l.addr as never) }));
  });

  it("16 MiB of random bytes round-trip over a Unix socket with matching SHA-256", async () => {
    const path = tmpSocketPath("bulk");
    await bulk({ path }, () => ({ path }));
  });

  it("200 concurrent clients are each echoed their own payload", async () => {
    await using l = await echoServer();
    const port = portOf(l.addr);
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const payload = new TextEncoder().encode(`client ${i} `.repeat(50 + i));
        const back = await roundTrip({ hostname: "127.0.0.1", port }, payload);
        return new TextDecoder().decode(back) === new TextDecoder().decode(payload);
      }),
    );
    expect(results.filter(Boolean).length).toBe(200);
  });

  it("a buffer can be reused as soon as write() resolves: what was sent is what it held then", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted;
    const blocks = 2000;
    const size = 4096;
    const received = sleep(100).then(() => readAll(c)); // the reader starts late, so writes queue up
    const buf = new Uint8Array(size);
    for (let i = 0; i < blocks; i++) {
      buf.fill(i % 251);
      await s.write(buf);
    }
    await s.close();
    const all = await received;
    expect(all.byteLength).toBe(blocks * size);
    expect(misfilledBlocks(all, blocks, size)).toBe(0);
  });

  it("a buffer can be reused as soon as write() resolves also when the connection is full: a small answer to each request, read only once one waits", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted;
    const size = 4096;
    const buf = new Uint8Array(size);
    const request = new Uint8Array(1);
    // Each answer is a write with nothing ahead of it (the runtime is offered the caller's own
    // buffer) until one waits: the kernel's buffers are full (at most 64 MiB). Then the client
    // starts reading, and the server goes on reusing its buffer.
    let received: Promise<Uint8Array> | null = null;
    let blocks = 0;
    for (let after = 0; after < 256 && blocks < 16384; blocks++) {
      await c.write(request);
      expect(await s.read(request)).toBe(1);
      buf.fill(blocks % 251);
      const w = s.write(buf);
      if (received === null && (await within(w, 20)) === "pending") received = readAll(c);
      await w;
      if (received !== null) after++;
    }
    const blocked = received !== null;
    received ??= readAll(c);
    await s.close();
    const all = await received;
    expect(blocked).toBe(true);
    expect(all.byteLength).toBe(blocks * size);
    expect(misfilledBlocks(all, blocks, size)).toBe(0);
  });

  it("a writer to a peer that does not read waits, and what it has handed over stays bounded", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted; // never reads
    const chunk = new Uint8Array(1024 * 1024);
    let taken = 0;
    let blocked = false;
    for (let i = 0; i < 256; i++) {
      const r = await within(c.write(chunk), 500);
      if (r === "pending") {
        blocked = true;
        break;
      }
      taken += chunk.byteLength;
    }
    expect(blocked).toBe(true);
    // Kernel buffers on both ends, the receiver's bounded inbox and one chunk: far below 64 MiB.
    expect(taken).toBeLessThan(64 * 1024 * 1024);
    // Once the reader reads, the writer goes on and nothing is lost.
    const drained = readAll(s);
    await sleep(10);
    await c.close();
    expect((await drained).byteLength).toBeGreaterThanOrEqual(taken + chunk.byteLength);
  });
});

describe("stream: Unix sockets", () => {
  it("echo over a Unix socket, with the path reported on both ends", async () => {
    const path = tmpSocketPath("echo");
    await using l = await listen({ path });
    expect(l.addr).toEqual({ transport: "unix", path });
    const accepted = l.accept();
    await using c = connect({ path });
    const info = await c.opened;
    expect(info.remoteAddress).toEqual({ transport: "unix", path });
    expect(info.localAddress.transport).toBe("unix");
    await using s = await accepted;
    expect((await s.opened).localAddress).toEqual({ transport: "unix", path });
    await c.write("over unix");
    await c.closeWrite();
    expect(new TextDecoder().decode(await readAll(s))).toBe("over unix");
  });

  it("a Unix listener never unlinks an existing file (EADDRINUSE) and removes its own on close", async () => {
    const { existsSync, writeFileSync, unlinkSync } = await import("node:fs");
    const path = tmpSocketPath("exists");
    writeFileSync(path, "precious");
    try {
      const err = await listen({ path }).catch((e: { code: string }) => e);
      expect((err as { code: string }).code).toBe("EADDRINUSE");
      expect(existsSync(path)).toBe(true);
    } finally {
      unlinkSync(path);
    }
    const own = tmpSocketPath("own");
    const l = await listen({ path: own });
    expect(existsSync(own)).toBe(true);
    await l.close();
    expect(existsSync(own)).toBe(false);
  });

  it("a second listener on a live Unix socket path is EADDRINUSE and the first keeps working", async () => {
    const path = tmpSocketPath("twice");
    await using l = await listen({ path });
    const err = await listen({ path }).catch((e: { code: string }) => e);
    expect((err as { code: string }).code).toBe("EADDRINUSE");
    const accepted = l.accept();
    await using c = connect({ path });
    await c.opened;
    await using _s: Socket = await accepted;
  });

  it("an over-long Unix path is EINVAL, never truncated", async () => {
    const { existsSync } = await import("node:fs");
    const long = `/tmp/${"x".repeat(110)}.sock`;
    const err = await listen({ path: long }).catch((e: { code: string }) => e);
    expect((err as { code: string }).code).toBe("EINVAL");
    expect(existsSync(long.slice(0, 107))).toBe(false);
    let thrown: unknown;
    try {
      connect({ path: long });
    } catch (e) {
      thrown = e;
    }
    expect((thrown as { code: string }).code).toBe("EINVAL");
    // 107 bytes is the limit: a path of exactly 107 bytes is accepted.
    const exact = `/tmp/${"y".repeat(107 - "/tmp/".length - ".sock".length)}.sock`;
    expect(new TextEncoder().encode(exact).byteLength).toBe(107);
    const l = await listen({ path: exact });
    expect(existsSync(exact)).toBe(true);
    await l.close();
  });

  it("connecting to a Unix path where nothing listens is ENOENT", async () => {
    const c = connect({ path: tmpSocketPath("none") });
    const err = await c.opened.catch((e: { code: string }) => e);
    expect((err as { code: string }).code).toBe("ENOENT");
  });
});
