/** Client behaviours of test/conformance/stream-bulk, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { collect, control, echo, serve } from "../servers.ts";
import { misfilledBlocks } from "../../helpers/streams.ts";

const wd = workerdSuite();

const BULK = 8 * 1024 * 1024;

describe("bulk transfer inside workerd", () => {
  it("8 MiB echoed through read()/write(): both SHA-256s match what the peer saw", async () => {
    const srv = await serve(echo);
    const r = await wd.value<{ sent: string; received: string; receivedBytes: number }>("echo", {
      port: srv.port,
      bytes: BULK,
    });
    expect(r.receivedBytes).toBe(BULK);
    expect(r.received).toBe(r.sent);
    expect(srv.received[0]).toMatchObject({ bytes: BULK, sha256: r.sent });
  });

  it("8 MiB echoed through readable/writable", async () => {
    const srv = await serve(echo);
    const r = await wd.value<{ sent: string; received: string; receivedBytes: number }>("echoStreams", {
      port: srv.port,
      bytes: BULK,
    });
    expect(r.receivedBytes).toBe(BULK);
    expect(r.received).toBe(r.sent);
  });

  it("a buffer can be reused as soon as write() resolves: what was sent is what it held then", async () => {
    const blocks = 2000;
    const size = 4096;
    let all = Buffer.alloc(0);
    const srv = await serve((s, seen) => {
      s.pause(); // the reader starts late, so writes queue up
      setTimeout(() => {
        collect(s, seen, (data) => {
          all = data;
          s.end();
        });
        s.resume(); // a "data" listener alone does not undo pause()
      }, 100);
    });
    await wd.value("bufferReuse", { port: srv.port, blocks, size });
    expect(all.byteLength).toBe(blocks * size);
    expect(misfilledBlocks(all, blocks, size)).toBe(0);
  });

  it("a writer to a peer that does not read waits, and what it has handed over stays bounded", async () => {
    let start = (): void => {};
    const srv = await serve((s, seen) => {
      s.pause(); // never reads until the worker says so
      start = () => {
        collect(s, seen, () => s.end());
        s.resume();
      };
    });
    const ctl = await control(() => start());
    const r = await wd.value<{ blocked: boolean; taken: number }>("backpressure", {
      port: srv.port,
      control: ctl.port,
    });
    expect(r.blocked).toBe(true);
    // Kernel buffers on both ends, workerd's own and one chunk: far below 64 MiB.
    expect(r.taken).toBeLessThan(64 * 1024 * 1024);
    // Once the peer reads, the writer goes on and nothing is lost.
    expect(srv.received[0]!.bytes).toBeGreaterThanOrEqual(r.taken + 1024 * 1024);
  });
});
