/** test/conformance/datagram in workerd: Workers have no UDP and no Unix sockets. */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { closedPort, collect, echo, serve, startTlsEcho } from "../servers.ts";
import { expired, server as serverCert, untrusted, wrongName } from "../../helpers/tls-fixtures.ts";

const wd = workerdSuite();

describe("datagrams inside workerd", () => {
  it("bind() (UDP) is ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "bindUdp");
  });

  it("bind({ path }) (Unix datagrams) is ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "bindUnix");
  });
});
