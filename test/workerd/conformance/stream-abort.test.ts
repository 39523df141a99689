/** Client behaviours of test/conformance/stream-abort, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { echo, serve } from "../servers.ts";

const wd = workerdSuite();

describe("abort signals inside workerd", () => {
  it("signals: an aborted one rejects opened with its reason, an abort after connect leaves the socket working, a read's TimeoutError passes through, a pre-aborted write sends nothing, an aborted read loses no bytes", async () => {
    const srv = await serve(echo);
    expect(await wd.value("signals", { port: srv.port })).toEqual({
      opened: "stop",
      readTimeout: "TimeoutError",
      writeAborted: "no",
      read: "read aborted",
      after: "ping",
    });
  });
});
