import { describe, expect, it } from "vitest";
import { capabilities, connect, type Listener, listen, type Socket, type SocketError } from "unisock";
import { echoServer, expectCode, portOf, readAll, readText, tmpSocketPath, within } from "../helpers/streams.ts";

describe("stream: close", () => {
  it("double close is idempotent and resolves closed", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await c.opened;
    await using _s = await accepted;
    const a = c.close();
    const b = c.close();
    await Promise.all([a, b, c.close()]);
    await expect(c.closed).resolves.toBeUndefined();
  });

  it("close with a pending read settles it with ECLOSED", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await c.opened;
    await using _s = await accepted;
    const settled = expectCode(within(c.read(new Uint8Array(8)), 2000), "ECLOSED");
    await c.close();
    await settled;
  });

  it("close with a pending readable read ends the stream", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using _s = await accepted;
    const reader = c.readable.getReader();
    const pending = reader.read();
    await c.close();
    expect(await within(pending, 2000)).toEqual({ done: true, value: undefined });
  });

  it("close flushes queued writes: every byte written before a clean close arrives", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const received = l.accept().then(async (s) => (await readAll(s)).byteLength);
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    const chunk = new Uint8Array(256 * 1024).fill(7);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 32; i++) writes.push(c.write(chunk)); // 8 MiB queued without awaiting
    await c.close();
    await Promise.all(writes);
    expect(await received).toBe(32 * chunk.byteLength);
  });

  it("writes made before the connection opens are sent in order", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const received = l.accept().then((s) => readText(s));
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    void c.write("one ");
    void c.write("two ");
    await c.write("three");
    await c.close();
    expect(await received).toBe("one two three");
  });

  /** A connection whose server never reads, with writes pending on the client until `close()` waits for them. */
  async function stuckClose(l: Listener, path: "stream" | "direct") {
    const accepted = l.accept();
    const c = connect(
      l.addr.transport === "unix" ? { path: l.addr.path } : { hostname: "127.0.0.1", port: portOf(l.addr) },
    );
    await c.opened;
    const s = await accepted;
    const chunk = new Uint8Array(1024 * 1024).fill(7);
    const writer = path === "stream" ? c.writable.getWriter() : null;
    const writes: Promise<unknown>[] = [];
    // Far more than both kernels' buffers hold: the last writes stay pending while the peer's window is shut.
    for (let i = 0; i < 64; i++) writes.push((writer ? writer.write(chunk) : c.write(chunk)).catch((e: unknown) => e));
    writer?.releaseLock();
    return { c, s, writes };
  }

  /** How the peer's reading ends: "EOF", or the error's code. */
  function readEnd(s: Socket): Promise<unknown> {
    const buf = new Uint8Array(1024 * 1024);
    return within(
      (async () => {
        for (;;) if ((await s.read(buf)) === null) return "EOF";
      })().catch((e: SocketError) => e.code),
      10_000,
    );
  }

  /** writable.abort(): it resolves where the runtime can reset, else it closes and rejects with ERR_UNSUPPORTED. */
  async function abortWritable(c: Socket): Promise<void> {
    const aborted = c.writable.abort(new Error("give up"));
    if (capabilities.reset) await within(aborted, 3000);
    else await expectCode(within(aborted, 3000), "ERR_UNSUPPORTED");
  }

  /** After an abort: RST where the runtime can send one, else a plain close (EOF after the buffered bytes). */
  async function peerSeesAbort(s: Socket): Promise<void> {
    expect(await readEnd(s)).toBe(capabilities.reset ? "ECONNRESET" : "EOF");
  }

  it("writable.abort() wins over a pending writable close(): the connection is dropped and closed settles", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const { c, s, writes } = await stuckClose(l, "stream");
    const closing = c.writable.close().catch((e: unknown) => e);
    expect(await within(closing, 300)).toBe("pending");
    await abortWritable(c);
    expect(await within(closing, 3000)).not.toBe("pending");
    expect(await within(Promise.all(writes), 3000)).not.toBe("pending");
    expect(
      await within(
        c.closed.then(() => "resolved"),
        3000,
      ),
    ).toBe("resolved");
    expect(
      await within(
        c.close().then(() => "resolved"),
        3000,
      ),
    ).toBe("resolved");
    await peerSeesAbort(s);
    await s.close();
  });

  it("writable.abort() wins over a pending socket close(): close() resolves and closed settles", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const { c, s, writes } = await stuckClose(l, "direct");
    const closing = c.close();
    expect(await within(closing, 300)).toBe("pending");
    await abortWritable(c);
    expect(
      await within(
        closing.then(() => "resolved"),
        3000,
      ),
    ).toBe("resolved");
    expect(
      await within(
        c.closed.then(() => "resolved"),
        3000,
      ),
    ).toBe("resolved");
    expect(await within(Promise.all(writes), 3000)).not.toBe("pending");
    await peerSeesAbort(s);
    await s.close();
  });

  it("writable.abort() on a Unix socket drops it at once: no uncaught error, closed settles, the peer reads EOF (AF_UNIX has no reset)", async () => {
    await using l = await listen({ path: tmpSocketPath("abort") });
    const { c, s, writes } = await stuckClose(l, "direct");
    await abortWritable(c);
    expect(
      await within(
        c.closed.then(() => "resolved"),
        3000,
      ),
    ).toBe("resolved");
    expect(await within(Promise.all(writes), 3000)).not.toBe("pending");
    expect(await readEnd(s)).toBe("EOF");
    await s.close();
  });

  it("await using closes the socket", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    let outer: Socket | undefined;
    {
      await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
      await c.opened;
      outer = c;
    }
    await expect(outer?.closed).resolves.toBeUndefined();
    const s = await accepted;
    expect(await s.read(new Uint8Array(1))).toBeNull();
  });
});

describe("stream: listener", () => {
  it("listener close keeps live connections and refuses new ones", async () => {
    const l = await echoServer();
    const port = portOf(l.addr);
    const c = connect({ hostname: "127.0.0.1", port });
    await c.opened;
    await c.write("ping");
    expect(await within(readN(c, 4), 2000)).toBe("ping");
    await l.close();
    await c.write("pong");
    await c.closeWrite();
    expect(await readText(c)).toBe("pong");
    await expectCode(connect({ hostname: "127.0.0.1", port }).opened, "ECONNREFUSED");
  });

  it("a pending accept rejects with ECLOSED on close; accept after close too; iteration ends", async () => {
    const l = await listen({ hostname: "127.0.0.1" });
    const pending = expectCode(l.accept(), "ECLOSED");
    const iterated = (async () => {
      let n = 0;
      for await (const s of l) {
        n++;
        await s.close();
      }
      return n;
    })();
    await l.close();
    await pending;
    await expectCode(l.accept(), "ECLOSED");
    expect(await within(iterated, 2000)).toBe(0);
    await l.close(); // idempotent
  });

  it("iteration yields each connection in order", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const port = portOf(l.addr);
    const clients = [];
    for (let i = 0; i < 3; i++) {
      const c = connect({ hostname: "127.0.0.1", port });
      await c.opened;
      await c.write(`client ${i}`);
      await c.closeWrite();
      clients.push(c);
    }
    const seen: string[] = [];
    for await (const s of l) {
      seen.push(await readText(s));
      await s.close();
      if (seen.length === 3) break;
    }
    expect(seen.sort()).toEqual(["client 0", "client 1", "client 2"]);
    await Promise.all(clients.map((c) => c.close()));
  });
});

async function readN(c: { read(b: Uint8Array): Promise<number | null> }, n: number): Promise<string> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await c.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return new TextDecoder().decode(buf.subarray(0, got));
}
