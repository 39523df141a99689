/** Client behaviours of test/conformance/stream-errors, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { closedPort, serve } from "../servers.ts";

const wd = workerdSuite();

describe("errors inside workerd", () => {
  it("a refused connection rejects opened and closed with ECONNREFUSED, naming address and port", async () => {
    const port = await closedPort();
    expect(await wd.value("refused", { port })).toEqual({ opened: "ECONNREFUSED", closed: "ECONNREFUSED", address: "127.0.0.1", port });
  });

  it("a peer that resets: the pending read and closed fail with ECONNRESET", async () => {
    const srv = await serve((s) => {
      s.on("error", () => {});
      s.once("data", () => s.write("x", () => s.resetAndDestroy()));
    });
    expect(await wd.value("peerReset", { port: srv.port })).toEqual({ read: "ECONNRESET", closed: "ECONNRESET" });
  });
});
