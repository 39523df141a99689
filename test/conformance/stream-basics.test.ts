import { describe, expect, it } from "vitest";
import { capabilities, connect, listen } from "unisock";
import { unsupportedHere } from "../helpers/unsupported.ts";
import { dec, enc, expectCode, portOf, readAll, readText, sleep, within } from "../helpers/streams.ts";

describe("stream: EOF and half-close", () => {
  it("EOF is null from read() and the end of the readable, distinct from an error", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted;
    await s.write("bye");
    await s.close();
    const buf = new Uint8Array(16);
    const n = await c.read(buf);
    expect(dec.decode(buf.subarray(0, n!))).toBe("bye");
    expect(await c.read(buf)).toBeNull();
    expect(await c.read(buf)).toBeNull(); // EOF stays EOF
    await expect(c.closed).resolves.toBeUndefined();
  });

  it("the readable stream ends at EOF without error", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted;
    await s.write("abc");
    await s.close();
    const chunks: string[] = [];
    for await (const chunk of c.readable) chunks.push(dec.decode(chunk));
    expect(chunks.join("")).toBe("abc");
  });

  it("with allowHalfOpen the server replies after the client's FIN", async () => {
    await using l = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
    const served = (async () => {
      await using s = await l.accept();
      const question = await readText(s); // until the client's FIN
      await s.write(`answer to ${question}`);
    })();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await c.write("question");
    await c.closeWrite();
    expect(await readText(c)).toBe("answer to question");
    await served;
  });

  it("closeWrite() sends FIN and reading goes on (client half-closes, server keeps writing)", async () => {
    await using l = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { allowHalfOpen: true });
    await using s = await accepted;
    await c.closeWrite();
    expect(await s.read(new Uint8Array(8))).toBeNull();
    for (let i = 0; i < 3; i++) await s.write(`${i}`);
    await s.closeWrite();
    expect(await readText(c)).toBe("012");
  });

  it("the server half-closes and the client, with allowHalfOpen, keeps writing", async () => {
    await using l = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { allowHalfOpen: true });
    await using s = await accepted;
    await s.write("hello");
    await s.closeWrite();
    expect(await readText(c)).toBe("hello");
    await c.write("still here");
    await c.closeWrite();
    expect(await readText(s)).toBe("still here");
  });

  it("without allowHalfOpen a FIN from the peer ends both directions", async () => {
    await using l = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }); // allowHalfOpen: false
    await using s = await accepted;
    await s.write("last words");
    await s.closeWrite();
    expect(await readText(c)).toBe("last words");
    // The client ends its side by itself: the server sees EOF without the client calling close().
    expect(await within(s.read(new Uint8Array(8)), 5000)).toBeNull();
    await expect(c.closed).resolves.toBeUndefined();
    await expectCode(c.write("too late"), ["EPIPE", "ECLOSED"]);
  });

  it("data sent before the FIN is all read even when the peer's FIN closes our side", async () => {
    await using l = await listen({ hostname: "127.0.0.1" }); // server allowHalfOpen: false
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted;
    await c.write("a".repeat(100_000));
    await c.closeWrite();
    await sleep(50); // the FIN has reached the server before it reads anything
    expect((await readAll(s)).byteLength).toBe(100_000);
  });
});

describe("stream: addresses", () => {
  it("port 0 gives a real port, and local and remote addresses agree between the two ends", async () => {
    await using l = await listen({ hostname: "127.0.0.1", port: 0 });
    expect(l.addr).toMatchObject({ transport: "tcp", hostname: "127.0.0.1", family: "IPv4" });
    const port = portOf(l.addr);
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    const accepted = l.accept();
    await using c = connect(`127.0.0.1:${port}`);
    const ci = await c.opened;
    await using s = await accepted;
    const si = await s.opened;
    expect(ci.remoteAddress).toEqual({ transport: "tcp", hostname: "127.0.0.1", port, family: "IPv4" });
    expect(si.localAddress).toEqual(ci.remoteAddress);
    expect(si.remoteAddress).toEqual(ci.localAddress);
    expect(portOf(ci.localAddress)).toBeGreaterThan(0);
    expect(ci.alpn).toBeNull();
  });

  it("IPv6 loopback works and is reported without brackets", async () => {
    await using l = await listen({ hostname: "::1" });
    expect(l.addr).toMatchObject({ transport: "tcp", hostname: "::1", family: "IPv6" });
    const accepted = l.accept();
    await using c = connect(`[::1]:${portOf(l.addr)}`);
    const ci = await c.opened;
    await using s = await accepted;
    expect(ci.remoteAddress).toMatchObject({ hostname: "::1", family: "IPv6", port: portOf(l.addr) });
    expect((await s.opened).remoteAddress).toMatchObject({ hostname: "::1", family: "IPv6" });
    await c.write("six");
    await c.closeWrite();
    expect(await readText(s)).toBe("six");
  });

  it("a dual-stack listener on :: reports an IPv4 client as IPv4", async () => {
    await using l = await listen({ hostname: "::" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await c.opened;
    await using s = await accepted;
    const si = await s.opened;
    expect(si.remoteAddress).toMatchObject({ hostname: "127.0.0.1", family: "IPv4" });
    expect(si.localAddress).toEqual({ transport: "tcp", hostname: "127.0.0.1", port: portOf(l.addr), family: "IPv4" });
  });

  it("on a wildcard listener, an accepted connection's local address is the one it arrived on", async () => {
    await using l = await listen({ hostname: "0.0.0.0" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    const ci = await c.opened;
    await using s = await accepted;
    const si = await s.opened;
    expect(si.localAddress).toEqual({ transport: "tcp", hostname: "127.0.0.1", port: portOf(l.addr), family: "IPv4" });
    expect(si.remoteAddress).toEqual(ci.localAddress);
  });

  it("connect resolves a host name (localhost)", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "localhost", port: portOf(l.addr) });
    expect((await c.opened).remoteAddress).toMatchObject({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await accepted;
  });

  it("text written as a string arrives as UTF-8", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted;
    await c.write("héllo ✓");
    await c.close();
    expect(await readAll(s)).toEqual(enc.encode("héllo ✓"));
  });
});

describe("stream: socket options", () => {
  it("setNoDelay, setKeepAlive, ref and unref work on an open socket; bad delays are EINVAL", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { noDelay: false, keepAlive: true });
    await c.opened;
    await using s = await accepted;
    c.setNoDelay(true);
    c.setNoDelay(false);
    c.setKeepAlive(true);
    c.setKeepAlive(false);
    c.unref();
    c.ref();
    await expectCode(() => c.setKeepAlive(true, -1), "EINVAL");
    await expectCode(() => c.setKeepAlive(true, 1.5), "EINVAL");
    await c.write("still fine");
    await c.closeWrite();
    expect(await readText(s)).toBe("still fine");
  });

  it("a listener with ipv6Only takes IPv6 clients only where capabilities.ipv6Only, else it is ERR_UNSUPPORTED", async ({
    task,
  }) => {
    if (!capabilities.ipv6Only) {
      await unsupportedHere(task, async () => {
        await expectCode(listen({ hostname: "::", ipv6Only: true }), "ERR_UNSUPPORTED");
        await expectCode(listen({ hostname: "::1", ipv6Only: true }), "ERR_UNSUPPORTED");
      });
      return;
    }
    await using l = await listen({ hostname: "::", ipv6Only: true });
    const port = portOf(l.addr);
    await expectCode(connect({ hostname: "127.0.0.1", port }).opened, "ECONNREFUSED");
    await using c = connect({ hostname: "::1", port });
    expect((await c.opened).remoteAddress).toMatchObject({ hostname: "::1", port, family: "IPv6" });
    // The IPv4 side of the port stays free for another listener.
    await using v4 = await listen({ hostname: "0.0.0.0", port });
    expect(portOf(v4.addr)).toBe(port);
  });

  it("without ipv6Only a listener on '::' is dual-stack: an IPv4 client connects", async () => {
    await using l = await listen({ hostname: "::", ipv6Only: false });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await c.opened;
    await using s = await accepted;
    expect((await s.opened).remoteAddress).toMatchObject({ hostname: "127.0.0.1", family: "IPv4" });
  });

  it("a keep-alive delay works where capabilities.keepAliveDelay, else it is ERR_UNSUPPORTED", async ({ task }) => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    const port = portOf(l.addr);
    if (!capabilities.keepAliveDelay) {
      await unsupportedHere(task, async () => {
        await expectCode(
          () => connect({ hostname: "127.0.0.1", port }, { keepAlive: { delayMs: 1000 } }),
          "ERR_UNSUPPORTED",
        );
        await using c = connect({ hostname: "127.0.0.1", port });
        await c.opened;
        await expectCode(() => c.setKeepAlive(true, 1000), "ERR_UNSUPPORTED");
        await accepted;
      });
      return;
    }
    await using c = connect({ hostname: "127.0.0.1", port }, { keepAlive: { delayMs: 1000 } });
    await c.opened;
    c.setKeepAlive(true, 2000);
    await using s = await accepted;
    await c.write("alive");
    await c.closeWrite();
    expect(await readText(s)).toBe("alive");
  });
});
