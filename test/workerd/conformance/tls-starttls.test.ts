/** Client behaviours of test/conformance/tls-starttls, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { closedPort, collect, echo, serve, startTlsEcho } from "../servers.ts";
import { expired, server as serverCert, untrusted, wrongName } from "../../helpers/tls-fixtures.ts";

const wd = workerdSuite();

describe("STARTTLS inside workerd", () => {
  it("plaintext greeting, STARTTLS, upgrade, echo over TLS; the old socket is done", async () => {
    const srv = await serve(startTlsEcho);
    const r = await wd.value<Record<string, unknown>>("starttls", { port: srv.port, bytes: 200_000 });
    expect(r).toMatchObject({ greeting: "READY", go: "GO", old: "ECLOSED", secureTransport: "on", receivedBytes: 200_000 });
    expect(r.received).toBe(r.sent);
    expect((r.info as { authorized?: boolean }).authorized).toBe(true);
    expect(srv.received[0]?.sha256).toBe(r.sent);
  });

  it("startTls({ serverName }) checks the certificate against that name", async () => {
    const srv = await serve(startTlsEcho);
    const r = await wd.value<Record<string, unknown>>("starttls", { port: srv.port, serverName: "localhost", bytes: 10 });
    expect(r.received).toBe(r.sent);
  });

  it("startTls({ server }) is ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "serverStartTls");
  });
});
