import { describe, expect, it } from "vitest";
import { bind, capabilities, connect, listen, type Socket, SocketError } from "unisock";
import { startNodePeer } from "../helpers/peer.ts";
import { echoServer, expectCode, portOf, sleep, tmpSocketPath, within } from "../helpers/streams.ts";
import * as certs from "../helpers/tls-fixtures.ts";
import { unsupportedHere } from "../helpers/unsupported.ts";

/** A port nothing listens on: bound by a listener that is then closed. */
async function freePort(): Promise<number> {
  const l = await listen({ hostname: "127.0.0.1" });
  const port = portOf(l.addr);
  await l.close();
  return port;
}

/**
 * Writes `chunk` until a write fails (the first ones may be taken by the kernel before the peer's
 * RST comes back), at most `tries` times; expects that failure to be EPIPE or ECONNRESET.
 */
async function expectWriteToFail(c: Socket, chunk: Uint8Array, tries: number): Promise<void> {
  let err: unknown;
  for (let i = 0; i < tries && err === undefined; i++) {
    try {
      await c.write(chunk);
    } catch (e) {
      err = e;
    }
  }
  expect(err).toBeInstanceOf(SocketError);
  expect(["EPIPE", "ECONNRESET"]).toContain((err as SocketError).code);
}

describe("stream: errors", () => {
  it("a refused connect rejects opened with ECONNREFUSED, and closed with the same error", async () => {
    const port = await freePort();
    const c = connect({ hostname: "127.0.0.1", port });
    const err = await expectCode(c.opened, "ECONNREFUSED");
    expect(err).toBeInstanceOf(SocketError);
    expect(err.errno).toBe(111);
    await expect(c.closed).rejects.toBe(err);
    await expectCode(c.read(new Uint8Array(8)), "ECONNREFUSED");
    await c.close(); // closing a failed socket is fine
  });

  it("a failed connect names its target: address and port (path for Unix)", async () => {
    const port = await freePort();
    const err = await expectCode(connect({ hostname: "127.0.0.1", port }).opened, "ECONNREFUSED");
    expect(err).toMatchObject({ address: "127.0.0.1", port, syscall: "connect" });
    const path = tmpSocketPath("gone");
    const unixErr = await expectCode(connect({ path }).opened, "ENOENT");
    expect(unixErr.address).toBe(path);
  });

  it("a Unix path in a directory that does not exist is ENOENT, for listen and connect", async () => {
    const path = `/tmp/unisock-no-such-dir-${Math.random().toString(36).slice(2, 10)}/s.sock`;
    const err = await expectCode(listen({ path }), "ENOENT");
    expect(err).toMatchObject({ address: path, errno: 2 });
    await expectCode(connect({ path }).opened, "ENOENT");
  });

  it("listening on a port in use is EADDRINUSE", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const err = await expectCode(listen({ hostname: "127.0.0.1", port: portOf(l.addr) }), "EADDRINUSE");
    expect(err.errno).toBe(98);
  });

  it("bad ports are EINVAL before anything touches the network", async () => {
    for (const port of [-1, 70000, 80.5, Number.NaN, 65536]) {
      await expectCode(() => connect({ hostname: "127.0.0.1", port }), "EINVAL");
      await expectCode(listen({ hostname: "127.0.0.1", port }), "EINVAL");
    }
    await expectCode(() => connect({ hostname: "127.0.0.1", port: 0 }), "EINVAL");
    await expectCode(() => connect({ hostname: "127.0.0.1", port: "80" as unknown as number }), "EINVAL");
  });

  it("malformed hosts and addresses are EINVAL", async () => {
    for (const address of [
      "",
      "127.0.0.1",
      "127.0.0.1:",
      ":80",
      "::1:80",
      "[::1]",
      "host:port",
      "a b:80",
      "300.1.1.1:80",
      "[fe80::1::2]:80",
    ]) {
      await expectCode(() => connect(address), "EINVAL");
    }
    for (const hostname of ["", "exa mple.com", "-bad-.com", "a..b", "1.2.3.256", "[::1"]) {
      await expectCode(() => connect({ hostname, port: 80 }), "EINVAL");
      await expectCode(listen({ hostname, port: 0 }), "EINVAL");
    }
  });

  it("bad options are EINVAL", async () => {
    await expectCode(() => connect("127.0.0.1:1", { secureTransport: "maybe" as "on" }), "EINVAL");
    await expectCode(listen({ hostname: "127.0.0.1", backlog: -5 }), ["EINVAL", "ERR_UNSUPPORTED"]);
    await expectCode(listen({ path: "/tmp/x.sock", port: 1 }), "EINVAL");
  });

  it("options follow the WebIDL dictionary rule: null is the defaults, anything else not an object is EINVAL", async () => {
    await using echo = await echoServer();
    const port = portOf(echo.addr);
    await using c = connect({ hostname: "127.0.0.1", port }, null as unknown as undefined);
    await c.opened;
    await using l = await listen(null as unknown as undefined);
    expect(portOf(l.addr)).toBeGreaterThan(0);
    await using u = await bind(null as unknown as undefined);
    expect(portOf(u.localAddress)).toBeGreaterThan(0);
    for (const bad of [5, "x", true, Symbol("s")] as unknown as undefined[]) {
      await expectCode(() => connect({ hostname: "127.0.0.1", port }, bad), "EINVAL");
      await expectCode(listen(bad), "EINVAL");
      await expectCode(bind(bad), "EINVAL");
    }
    // A field of the wrong type, null included, is EINVAL: never the defaults.
    for (const field of [
      { hostname: null },
      { port: null },
      { ipv6Only: "no" },
      { signal: "x" },
      { signal: {} },
      { signal: null },
    ]) {
      await expectCode(listen(field as object), "EINVAL");
      await expectCode(bind(field as object), "EINVAL");
    }
    for (const field of [{ noDelay: "yes" }, { allowHalfOpen: 1 }, { path: null }, { backlog: null }]) {
      await expectCode(listen(field as object), "EINVAL");
    }
    for (const field of [{ broadcast: 1 }, { reuseAddress: null }, { connect: null }, { receiveQueueBytes: null }]) {
      await expectCode(bind(field as object), "EINVAL");
    }
    for (const field of [
      { keepAlive: null },
      { keepAlive: "yes" },
      { noDelay: null },
      { signal: "x" },
      { signal: null },
      { secureTransport: null },
    ]) {
      await expectCode(() => connect({ hostname: "127.0.0.1", port }, field as object), "EINVAL");
    }
  });

  it("a listen or bind refused for a bad signal takes no port", async () => {
    await using probe = await listen({ hostname: "127.0.0.1" });
    const port = portOf(probe.addr);
    await probe.close();
    await expectCode(listen({ hostname: "127.0.0.1", port, signal: "x" as unknown as AbortSignal }), "EINVAL");
    await using again = await listen({ hostname: "127.0.0.1", port }); // the port is still free
    expect(portOf(again.addr)).toBe(port);
    const u = await bind({ hostname: "127.0.0.1" });
    const uport = portOf(u.localAddress);
    await u.close();
    await expectCode(bind({ hostname: "127.0.0.1", port: uport, signal: {} as AbortSignal }), "EINVAL");
    await using u2 = await bind({ hostname: "127.0.0.1", port: uport });
    expect(portOf(u2.localAddress)).toBe(uport);
  });

  it("a reset by the peer is ECONNRESET on a pending read and on closed", async () => {
    const peer = await startNodePeer("listen-reset");
    try {
      const c = connect({ hostname: "127.0.0.1", port: peer.port });
      await c.opened;
      const pending = c.read(new Uint8Array(16));
      await c.write("trigger");
      await expectCode(pending, "ECONNRESET");
      await expectCode(c.closed, "ECONNRESET");
      await expectCode(c.write("after reset"), ["ECONNRESET", "EPIPE", "ECLOSED"]);
      await c.close();
    } finally {
      peer.child.kill();
    }
  });

  it("a reset by the client is ECONNRESET on the server's pending read and on its closed", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    const peer = await startNodePeer("connect-reset", String(portOf(l.addr)));
    try {
      await using s = await accepted;
      const pending = s.read(new Uint8Array(16));
      await s.write("trigger");
      await expectCode(pending, "ECONNRESET");
      await expectCode(s.closed, "ECONNRESET");
    } finally {
      peer.child.kill();
    }
  });

  /** Reads `s` to its end: the bytes read, and how it ended ("EOF" or the error's code). */
  async function readToEnd(s: Socket): Promise<{ bytes: number; end: string }> {
    const buf = new Uint8Array(64 * 1024);
    let bytes = 0;
    for (;;) {
      try {
        const n = await s.read(buf);
        if (n === null) return { bytes, end: "EOF" };
        bytes += n;
      } catch (e) {
        return { bytes, end: (e as SocketError).code };
      }
    }
  }

  type Kind = "tcp" | "unix" | "tls";
  /** The capability a kind of connection needs, if the runtime lacks it. */
  const lacking = (kind: Kind): string | null =>
    kind === "unix" && !capabilities.unixStream ? "unixStream" : kind === "tls" && !capabilities.tls ? "tls" : null;

  /** A connection whose server has not read `total` bytes the client sent (unawaited writes, settled). */
  async function unreadBytes(kind: Kind, total: number, allowHalfOpen = false) {
    const path = tmpSocketPath("unread");
    const tls = kind === "tls";
    const l = await listen(
      kind === "unix"
        ? { path, allowHalfOpen }
        : { hostname: "127.0.0.1", allowHalfOpen, ...(tls ? { tls: certs.server } : {}) },
    );
    const accepted = l.accept();
    const c = connect(kind === "unix" ? { path } : { hostname: "127.0.0.1", port: portOf(l.addr) }, {
      allowHalfOpen,
      ...(tls ? { secureTransport: "on" as const, tls: { ca: certs.ca } } : {}),
    });
    await c.opened;
    const s = await accepted;
    const chunk = new Uint8Array(64 * 1024).fill(1);
    const writes = Array.from({ length: total / chunk.byteLength }, () => c.write(chunk).catch((e: unknown) => e));
    return { l, c, s, writes };
  }

  /** Where the runtime lacks what `kind` needs: the call that needs it is ERR_UNSUPPORTED. */
  async function expectLacking(kind: Kind): Promise<void> {
    if (kind === "unix") await expectCode(listen({ path: tmpSocketPath("unread") }), "ERR_UNSUPPORTED");
    else await expectCode(listen({ hostname: "127.0.0.1", tls: certs.server }), "ERR_UNSUPPORTED");
  }

  for (const kind of ["tcp", "unix", "tls"] as const) {
    it(`${kind}: a FIN after our own FIN, with sent bytes waiting unread, reads every byte and then EOF`, async ({
      task,
    }) => {
      if (lacking(kind)) return unsupportedHere(task, () => expectLacking(kind));
      const total = 1024 * 1024;
      const { l, c, s, writes } = await unreadBytes(kind, total, true);
      try {
        await s.closeWrite(); // the server's FIN first: the client's FIN then closes both directions
        expect(await within(c.read(new Uint8Array(8)), 5000)).toBeNull();
        const closing = c.close(); // flushes the pending writes, then the client's FIN
        await sleep(200);
        expect(await within(readToEnd(s), 10_000)).toEqual({ bytes: total, end: "EOF" });
        await closing;
        for (const w of await Promise.all(writes)) expect(w).toBeUndefined();
      } finally {
        await s.close();
        await l.close();
      }
    });
  }

  // A Unix socket has no RST: abort() on one is left out here.
  for (const kind of ["tcp", "tls"] as const) {
    // Node before 24.16 (libuv before 1.52) read this reset as a clean EOF (docs/matrix.md).
    it(`${kind}: a reset that arrives while sent bytes wait unread is ECONNRESET once the reader gets to it, not EOF`, async ({
      task,
    }) => {
      if (lacking(kind)) return unsupportedHere(task, () => expectLacking(kind));
      const { l, c, s } = await unreadBytes(kind, 1024 * 1024);
      try {
        await sleep(200); // the bytes fill the server's buffers, the reader stops taking them
        if (!capabilities.reset) {
          await unsupportedHere(task, () => expectCode(c.writable.abort(new Error("reset")), "ERR_UNSUPPORTED"));
          return;
        }
        await c.writable.abort(new Error("reset"));
        await sleep(100); // the RST is in before the server reads
        const { end } = (await within(readToEnd(s), 10_000)) as { end: string };
        expect(end).toBe("ECONNRESET");
      } finally {
        await c.close();
        await s.close();
        await l.close();
      }
    });
  }

  it("write after close is ECLOSED, never a hang or silence", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    const c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await c.opened;
    await using _s = await accepted;
    await c.close();
    await expectCode(within(c.write("x"), 2000), "ECLOSED");
    await expectCode(within(c.read(new Uint8Array(4)), 2000), "ECLOSED");
    await expectCode(c.closeWrite(), "ECLOSED");
  });

  it("write after closeWrite is EPIPE", async () => {
    await using l = await listen({ hostname: "127.0.0.1", allowHalfOpen: true });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { allowHalfOpen: true });
    await using _s = await accepted;
    await c.closeWrite();
    await expectCode(c.write("x"), "EPIPE");
  });

  it("write to a peer that has gone is EPIPE or ECONNRESET, not silence", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { allowHalfOpen: true });
    await c.opened;
    const s = await accepted;
    await s.close();
    await expectWriteToFail(c, new Uint8Array(64 * 1024), 200);
  });

  it("a peer process killed while we write: the write fails with EPIPE or ECONNRESET, and closed rejects with it", async () => {
    // Whether the kernel's RST reaches us as a failed write (EPIPE) or as a reset first is a race;
    // either way the connection failed, and closed must not resolve as for a clean close.
    for (let run = 0; run < 10; run++) {
      const peer = await startNodePeer("listen-read");
      try {
        const c = connect({ hostname: "127.0.0.1", port: peer.port });
        await c.opened;
        const chunk = new Uint8Array(16 * 1024);
        for (let i = 0; i < 4; i++) await c.write(chunk);
        peer.child.kill("SIGKILL");
        await expectWriteToFail(c, chunk, 2000);
        const closed = await within(
          c.closed.then(
            () => "resolved",
            (e: unknown) => e,
          ),
          2000,
        );
        expect(closed).toBeInstanceOf(SocketError);
        expect(["EPIPE", "ECONNRESET"]).toContain((closed as SocketError).code);
        await c.close();
      } finally {
        peer.child.kill("SIGKILL");
      }
    }
  });

  it("mixing read() with the readable stream is EINVAL that says why", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using s = await accepted;
    await s.write("x");
    await c.read(new Uint8Array(1));
    const reader = c.readable.getReader();
    const err = await expectCode(reader.read(), "EINVAL");
    expect(err.message).toMatch(/read/);
    await c.writable.getWriter().write(new Uint8Array([1]));
    await expectCode(c.write("y"), "EINVAL");
  });

  it("only one read() may be pending at a time", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    const accepted = l.accept();
    await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await using _s = await accepted;
    const first = expectCode(c.read(new Uint8Array(4)), "ECLOSED");
    await expectCode(c.read(new Uint8Array(4)), "EINVAL");
    await c.close();
    await first;
  });

  it("capabilities are honest: backlog and reusePort either work or throw ERR_UNSUPPORTED", async () => {
    if (capabilities.backlog) {
      await using l = await listen({ hostname: "127.0.0.1", backlog: 16 });
      expect(portOf(l.addr)).toBeGreaterThan(0);
    } else {
      await expectCode(listen({ hostname: "127.0.0.1", backlog: 16 }), "ERR_UNSUPPORTED");
    }
    if (capabilities.reusePort) {
      await using a = await listen({ hostname: "127.0.0.1", reusePort: true });
      await using b = await listen({ hostname: "127.0.0.1", port: portOf(a.addr), reusePort: true });
      expect(portOf(b.addr)).toBe(portOf(a.addr));
    } else {
      await expectCode(listen({ hostname: "127.0.0.1", reusePort: true }), "ERR_UNSUPPORTED");
    }
  });
});
