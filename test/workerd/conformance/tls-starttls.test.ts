/** Client behaviours of test/conformance/tls-starttls, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { unsupportedHere } from "../../helpers/unsupported.ts";
import { workerdSuite } from "../suite.ts";
import { closedPort, collect, echo, serve, startTlsEcho } from "../servers.ts";
import { expired, server as serverCert, untrusted, wrongName } from "../../helpers/tls-fixtures.ts";

const wd = workerdSuite();

describe("STARTTLS inside workerd", () => {
  it("plaintext greeting, STARTTLS, upgrade, echo over TLS; the old socket is done, and closing it leaves the TLS connection open", async () => {
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

  it("startTls() in the wrong state is a clear error (EINVAL)", async () => {
    const srv = await serve(echo);
    expect(await wd.value("startTlsWrongState", { port: srv.port })).toEqual({ off: "EINVAL", twice: "EINVAL" });
  });

  it("startTls() with a read pending settles that read (ECLOSED); workerd cannot upgrade then: ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    const srv = await serve(startTlsEcho);
    await unsupportedHere(task, async () => {
      expect(await wd.value("starttls", { port: srv.port, pendingRead: true })).toEqual({ pendingRead: "ECLOSED", opened: "ERR_UNSUPPORTED" });
    });
  });

  it("startTls({ server }) is ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "serverStartTls");
  });
});
