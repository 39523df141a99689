/** Client behaviours of test/conformance/stream-errors, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { closedPort, control, echo, serve } from "../servers.ts";
import { startNodePeer } from "../../helpers/peer.ts";

const wd = workerdSuite();

describe("errors inside workerd", () => {
  it("a refused connection rejects opened and closed with ECONNREFUSED, naming address and port", async () => {
    const port = await closedPort();
    expect(await wd.value("refused", { port })).toEqual({
      opened: "ECONNREFUSED",
      closed: "ECONNREFUSED",
      address: "127.0.0.1",
      port,
    });
  });

  it("a peer that resets: the pending read and closed fail with ECONNRESET", async () => {
    const srv = await serve((s) => {
      s.on("error", () => {});
      s.once("data", () => s.write("x", () => s.resetAndDestroy()));
    });
    expect(await wd.value("peerReset", { port: srv.port })).toEqual({ read: "ECONNRESET", closed: "ECONNRESET" });
  });

  it("write to a peer that has gone is EPIPE or ECONNRESET, not silence", async () => {
    const srv = await serve((s) => {
      s.on("error", () => {});
      s.destroy(); // closed for good: the client's data draws a reset
    });
    const r = await wd.value<{ write: string; writes: number }>("writeToGone", {
      port: srv.port,
      eofFirst: true,
      tries: 200,
    });
    expect(["EPIPE", "ECONNRESET"]).toContain(r.write);
  });

  it("a peer process killed while we write: the write fails with EPIPE or ECONNRESET, and closed rejects with it", async () => {
    for (let run = 0; run < 5; run++) {
      const peer = await startNodePeer("listen-read");
      const exited = new Promise((resolve) => peer.child.once("exit", resolve));
      const ctl = await control(async () => {
        peer.child.kill("SIGKILL");
        await exited;
      });
      try {
        const r = await wd.value<{ write: string; closed: string }>("writeToGone", {
          port: peer.port,
          control: ctl.port,
          chunk: 16 * 1024,
          before: 4,
          tries: 2000,
        });
        expect(["EPIPE", "ECONNRESET"]).toContain(r.write);
        expect(["EPIPE", "ECONNRESET"]).toContain(r.closed);
      } finally {
        peer.child.kill("SIGKILL");
      }
    }
  });

  it("options follow the WebIDL dictionary rule: null is the defaults, anything else not an object is EINVAL", async () => {
    const srv = await serve(echo);
    const r = await wd.value<{
      opened: string[];
      connectBad: Record<string, string>;
      fields: Record<string, string>;
      elsewhere: Record<string, string>;
    }>("webIdlOptions", { port: srv.port });
    expect(r.opened).toEqual(["none", "none"]); // connect(address, null) and (address, undefined) open
    // connect() throws EINVAL synchronously, for a non-object and for each field of the wrong type.
    expect(Object.keys(r.connectBad)).toHaveLength(4);
    for (const [what, code] of Object.entries({ ...r.connectBad, ...r.fields })) expect(code, what).toBe("EINVAL");
    // listen() and bind() cannot work here: null/undefined are the defaults, so ERR_UNSUPPORTED;
    // a malformed dictionary is still EINVAL, checked first as everywhere.
    for (const [what, code] of Object.entries(r.elsewhere))
      expect(code, what).toBe(/ (null|undefined)$/.test(what) ? "ERR_UNSUPPORTED" : "EINVAL");
  });
});
