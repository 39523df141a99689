/** Client behaviours of test/conformance/stream-close, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { collect, echo, serve } from "../servers.ts";

const wd = workerdSuite();

describe("closing inside workerd", () => {
  it("allowHalfOpen: after the peer's FIN we can still write, and the peer reads it", async () => {
    const srv = await serve((s, seen) => {
      collect(s, seen);
      s.end("bye");
    });
    const r = await wd.value("peerFinFirst", { port: srv.port, allowHalfOpen: true });
    expect(r).toEqual({ text: "bye", write: "none" });
    await expect.poll(() => srv.received[0]?.text).toBe("after-eof");
  });

  it("without allowHalfOpen the peer's FIN ends both directions: a write after it is EPIPE", async () => {
    const srv = await serve((s, seen) => {
      collect(s, seen);
      s.end("bye");
    });
    expect(await wd.value("peerFinFirst", { port: srv.port, allowHalfOpen: false })).toEqual({
      text: "bye",
      write: "EPIPE",
    });
    await expect.poll(() => srv.received.length).toBe(1);
    expect(srv.received[0]?.bytes).toBe(0);
  });

  it("read(), write() and closeWrite() after close() are ECLOSED; close() is idempotent", async () => {
    const srv = await serve(echo);
    expect(await wd.value("useAfterClose", { port: srv.port })).toEqual({
      read: "ECLOSED",
      write: "ECLOSED",
      closeWrite: "ECLOSED",
    });
  });

  it("write() after closeWrite() is EPIPE, and the peer saw our FIN", async () => {
    const srv = await serve(echo);
    expect(await wd.value("writeAfterCloseWrite", { port: srv.port })).toEqual({ code: "EPIPE" });
    await expect.poll(() => srv.received.length).toBe(1);
  });

  it("writes made before the connection opens are sent in order", async () => {
    const srv = await serve(echo);
    await wd.value("writeBeforeOpen", { port: srv.port });
    await expect.poll(() => srv.received[0]?.text).toBe("one two three");
  });

  it("close() while connecting cancels the connect: opened rejects with ECLOSED, closed resolves", async () => {
    const srv = await serve(echo);
    expect(await wd.value("closeWhileConnecting", { port: srv.port })).toEqual({ opened: "ECLOSED", closed: "none" });
  });

  it("close with a pending read settles it with ECLOSED; a pending readable read ends the stream", async () => {
    const srv = await serve(echo);
    expect(await wd.value("closePending", { port: srv.port })).toEqual({ read: "ECLOSED", stream: "done" });
  });

  it("await using closes the socket: the peer gets the bytes, then EOF", async () => {
    const srv = await serve((s, seen) => collect(s, seen, () => s.end()));
    await wd.value("awaitUsing", { port: srv.port });
    await expect.poll(() => srv.received[0]?.text).toBe("bye");
  });

  it("writable.abort() cannot reset (capabilities.reset false): it closes and rejects with ERR_UNSUPPORTED [unsupported]", async ({
    task,
  }) => {
    await wd.unsupported(task, "abort");
  });
});
