/** Client behaviours of test/conformance/stream-webstreams, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { collect, echo, serve } from "../servers.ts";

const wd = workerdSuite();

describe("Web Streams inside workerd", () => {
  it("the readable is a byte stream: a BYOB reader fills the caller's buffer", async () => {
    const srv = await serve(echo);
    const r = await wd.value<{ sent: string; received: string; receivedBytes: number }>("echoStreams", {
      port: srv.port,
      bytes: 100_000,
    });
    expect(r.receivedBytes).toBe(100_000);
    expect(r.received).toBe(r.sent);
  });

  it("writable.close() is a half-close: the peer sees EOF and can still answer", async () => {
    const srv = await serve((s, seen) => collect(s, seen, (data) => s.end(`answer to ${data.toString()}`)));
    expect(await wd.value("writableClose", { port: srv.port })).toEqual({ answer: "answer to question" });
  });

  it("cancelling the readable stops reading but keeps the write side open", async () => {
    const srv = await serve((s, seen) => collect(s, seen, () => s.end()));
    await wd.value("cancelReadable", { port: srv.port });
    await expect.poll(() => srv.received[0]?.text).toBe("still writing");
  });

  it("pipeTo moves 4 MiB intact in both directions", async () => {
    const srv = await serve(echo);
    const r = await wd.value<{ sent: string; received: string; receivedBytes: number }>("pipeTo", {
      port: srv.port,
      bytes: 4 * 1024 * 1024,
    });
    expect(r.receivedBytes).toBe(4 * 1024 * 1024);
    expect(r.received).toBe(r.sent);
    expect(srv.received[0]?.sha256).toBe(r.sent);
  });

  it("chunks from a default reader are the caller's own: later reads do not overwrite them", async () => {
    const srv = await serve((s) => {
      s.on("error", () => {});
      s.write("first");
      s.once("data", () => s.write("second"));
    });
    expect(await wd.value("chunkOwnership", { port: srv.port })).toEqual({ a: "first", b: "second" });
  });
});
