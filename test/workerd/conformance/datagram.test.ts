/** test/conformance/datagram in workerd: Workers have no UDP and no Unix sockets. */
import { describe, it } from "vitest";
import { workerdSuite } from "../suite.ts";

const wd = workerdSuite();

describe("datagrams inside workerd", () => {
  it("bind() (UDP) is ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "bindUdp");
  });

  it("bind({ path }) (Unix datagrams) is ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "bindUnix");
  });
});
