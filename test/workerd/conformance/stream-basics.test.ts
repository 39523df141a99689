/**
 * Client behaviours of test/conformance/stream-basics, run inside workerd (see ../harness.ts):
 * the worker connects with unisock/workerd to servers this process runs on loopback.
 */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { echo, serve } from "../servers.ts";

const wd = workerdSuite();

describe("stream basics inside workerd", () => {
  it("runs the workerd adapter: runtime is workerd, a client only", async () => {
    const { runtime, capabilities } = await wd.value<{ runtime: string; capabilities: Record<string, boolean> }>(
      "identity",
    );
    expect(runtime).toBe("workerd");
    expect(capabilities).toMatchObject({
      listen: false,
      udp: false,
      unixStream: false,
      tls: true,
      startTls: true,
      reset: false,
      socketOptions: false,
    });
  });

  it("connects, writes, half-closes and reads the echo to EOF; opened gives the peer's address", async () => {
    const srv = await serve(echo);
    const r = await wd.value<{ info: { remoteAddress: unknown }; sent: string; received: string }>("echo", {
      port: srv.port,
      bytes: 5,
    });
    expect(r.info.remoteAddress).toEqual({ transport: "tcp", hostname: "127.0.0.1", port: srv.port, family: "IPv4" });
    expect(r.received).toBe(r.sent);
    expect(srv.received[0]?.sha256).toBe(r.sent);
  });

  it("IPv6 loopback works and is reported without brackets", async () => {
    const srv = await serve(echo, { host: "::1" });
    const r = await wd.value<{ info: { remoteAddress: unknown }; sent: string; received: string }>("echo", {
      port: srv.port,
      host: "::1",
      bytes: 100,
    });
    expect(r.info.remoteAddress).toEqual({ transport: "tcp", hostname: "::1", port: srv.port, family: "IPv6" });
    expect(r.received).toBe(r.sent);
  });

  it('connect resolves a host name (localhost), given as a "host:port" string', async () => {
    const srv = await serve(echo);
    const r = await wd.value<{ echoed: number; info: { remoteAddress: { port: number } } }>("writeBeforeOpen", {
      address: `localhost:${srv.port}`,
    });
    expect(r.echoed).toBe("one two three".length);
    expect(r.info.remoteAddress.port).toBe(srv.port);
  });

  it("a second concurrent read() is EINVAL", async () => {
    const srv = await serve(echo);
    expect((await wd.value<{ second: string }>("writeBeforeOpen", { port: srv.port })).second).toBe("EINVAL");
  });

  it("reads what the peer wrote, then EOF (null), and again null; closed resolves", async () => {
    const srv = await serve((s) => s.end("hello from the server"));
    const r = await wd.value<{ text: string; again: null }>("readToEof", { port: srv.port });
    expect(r).toEqual({ text: "hello from the server", again: null });
  });

  it("read() and the readable cannot be mixed (EINVAL)", async () => {
    const srv = await serve(echo);
    expect(await wd.value("mixedPaths", { port: srv.port })).toEqual({ code: "EINVAL" });
  });

  it("bad arguments are EINVAL before anything touches the network", async () => {
    const r = await wd.value<Record<string, string>>("invalidArguments");
    expect(r).toEqual({
      port: "EINVAL",
      address: "EINVAL",
      secureTransport: "EINVAL",
      tlsWithoutTransport: "EINVAL",
      readInto: "EINVAL",
      listenOptions: "EINVAL",
      tlsOption: "EINVAL",
    });
  });

  it("framing: length-prefixed frames round-trip through a peer", async () => {
    const srv = await serve(echo);
    expect(await wd.value("framing", { port: srv.port })).toEqual({ frames: [3, 0, 100_000] });
  });

  it("framing: LineReader reads the peer's lines to EOF", async () => {
    const srv = await serve((s) => s.end("first\r\nsecond\nlast\n"));
    expect(await wd.value("lines", { port: srv.port })).toEqual({ lines: ["first", "second", "last"] });
  });

  it("listen() is ERR_UNSUPPORTED: a Worker cannot accept connections [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "listen", "listenTls");
  });

  it("Unix stream sockets are ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "connectUnix");
  });

  it("socket options (noDelay, keepAlive, setNoDelay, setKeepAlive) are ERR_UNSUPPORTED [unsupported]", async ({
    task,
  }) => {
    await wd.unsupported(task, "noDelayOption", "keepAliveOption", "setNoDelay", "setKeepAlive");
  });
});
