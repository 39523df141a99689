import { describe, expect, it } from "vitest";
import { connect, listen, writeFrame } from "unisock";
import { dec, expectCode, portOf, readAll, readText, sleep, within } from "../helpers/streams.ts";

describe("stream: abort and cancellation", () => {
  it("a signal aborted before connect rejects opened with its reason, and nothing connects", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const reason = new Error("not today");
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { signal: AbortSignal.abort(reason) });
    await expect(c.opened).rejects.toBe(reason);
    await expect(c.closed).rejects.toBe(reason);
    // No connection is left behind at the server.
    expect(await within(l.accept(), 300)).toBe("pending");
  });

  it("a write whose signal is already aborted sends nothing: the peer receives 0 bytes", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const received = l.accept().then(async (s) => (await readAll(s)).byteLength);
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    const reason = new Error("never send this");
    // Before the connection opens and after: neither write may queue a byte.
    await expect(c.write("SECRET", { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await c.opened;
    await expect(c.write(new Uint8Array(6).fill(83), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(writeFrame(c, "SECRET", { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await c.closeWrite();
    expect(await within(received, 5000)).toBe(0);
    await c.close();
  });

  it("an abort during connect rejects opened with the signal's reason; a late connection is dropped", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const ac = new AbortController();
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { signal: ac.signal });
    ac.abort();
    const err = await c.opened.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBe(ac.signal.reason);
    expect((err as Error).name).toBe("AbortError");
    // If the connection reached the server before the abort took effect, it is closed, not left open.
    const s = await within(l.accept(), 300);
    if (s !== "pending") {
      const r = await within(
        s.read(new Uint8Array(4)).catch((e: Error) => e.name),
        3000,
      );
      expect(r === null || r === "SocketError").toBe(true);
    }
  });

  it("a TimeoutError from AbortSignal.timeout is passed through unchanged", async () => {
    const c = connect({ hostname: "127.0.0.1", port: 9 }, { signal: AbortSignal.timeout(0) });
    const err = await c.opened.then(
      () => null,
      (e: unknown) => e,
    );
    // Either the timeout fired first, or the refused connect did: never anything else.
    if ((err as Error).name === "SocketError") expect((err as { code: string }).code).toBe("ECONNREFUSED");
    else expect((err as Error).name).toBe("TimeoutError");
  });

  it("an abort after connect leaves the open socket working (the signal covers connecting only)", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    const ac = new AbortController();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { signal: ac.signal });
    await c.opened;
    ac.abort();
    await using s = await accepted;
    await c.write("still open");
    await c.closeWrite();
    expect(await readText(s)).toBe("still open");
  });

  it("aborting a pending read rejects it with the reason, and the data that comes later is not lost", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted;
    const ac = new AbortController();
    const pending = c.read(new Uint8Array(16), { signal: ac.signal });
    const reason = new Error("stop waiting");
    ac.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await s.write("later");
    const buf = new Uint8Array(16);
    const n = await c.read(buf);
    expect(dec.decode(buf.subarray(0, n!))).toBe("later");
    await expect(c.read(buf, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it("a read with AbortSignal.timeout gives TimeoutError when nothing arrives", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using _s = await accepted;
    const err = await c.read(new Uint8Array(4), { signal: AbortSignal.timeout(50) }).catch((e: Error) => e);
    expect((err as Error).name).toBe("TimeoutError");
  });

  it("aborting a pending accept rejects it with the reason; the next connection goes to the next accept", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const ac = new AbortController();
    const pending = l.accept({ signal: ac.signal });
    const reason = new Error("no more");
    ac.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const next = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await c.write("hi");
    await using s = await next;
    const buf = new Uint8Array(2);
    expect(await s.read(buf)).toBe(2);
  });

  it("aborting the listen signal closes the listener", async () => {
    const ac = new AbortController();
    const l = await listen({ hostname: "127.0.0.1", signal: ac.signal });
    const port = portOf(l.addr);
    const pending = expectCode(l.accept(), "ECLOSED");
    ac.abort();
    await pending;
    await sleep(20);
    await expectCode(connect({ hostname: "127.0.0.1", port }).opened, "ECONNREFUSED");
  });

  it("listen with an already aborted signal rejects with the reason", async () => {
    const reason = new Error("aborted early");
    await expect(listen({ hostname: "127.0.0.1", signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});
