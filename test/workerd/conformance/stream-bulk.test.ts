/** Client behaviours of test/conformance/stream-bulk, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { echo, serve } from "../servers.ts";

const wd = workerdSuite();

const BULK = 8 * 1024 * 1024;

describe("bulk transfer inside workerd", () => {
  it("8 MiB echoed through read()/write(): both SHA-256s match what the peer saw", async () => {
    const srv = await serve(echo);
    const r = await wd.value<{ sent: string; received: string; receivedBytes: number }>("echo", { port: srv.port, bytes: BULK });
    expect(r.receivedBytes).toBe(BULK);
    expect(r.received).toBe(r.sent);
    expect(srv.received[0]).toMatchObject({ bytes: BULK, sha256: r.sent });
  });

  it("8 MiB echoed through readable/writable", async () => {
    const srv = await serve(echo);
    const r = await wd.value<{ sent: string; received: string; receivedBytes: number }>("echoStreams", { port: srv.port, bytes: BULK });
    expect(r.receivedBytes).toBe(BULK);
    expect(r.received).toBe(r.sent);
  });
});
