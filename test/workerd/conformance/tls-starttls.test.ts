/** Client behaviours of test/conformance/tls-starttls, run inside workerd (see ../harness.ts). */
import { describe, expect, it } from "vitest";
import { unsupportedHere } from "../../helpers/unsupported.ts";
import { workerdSuite } from "../suite.ts";
import { echo, serve, startTlsEcho } from "../servers.ts";
import { wrongName } from "../../helpers/tls-fixtures.ts";

const wd = workerdSuite();

describe("STARTTLS inside workerd", () => {
  it("plaintext greeting, STARTTLS, upgrade, echo over TLS; the old socket is done, and closing it leaves the TLS connection open", async () => {
    const srv = await serve(startTlsEcho());
    const r = await wd.value<Record<string, unknown>>("starttls", { port: srv.port, bytes: 200_000 });
    expect(r).toMatchObject({
      greeting: "READY",
      go: "GO",
      old: "ECLOSED",
      secureTransport: "on",
      receivedBytes: 200_000,
    });
    expect(r.received).toBe(r.sent);
    expect((r.info as { authorized?: boolean }).authorized).toBe(true);
    expect(srv.received[0]?.sha256).toBe(r.sent);
  });

  it("startTls({ serverName }) checks the certificate against that name", async () => {
    const srv = await serve(startTlsEcho());
    const r = await wd.value<Record<string, unknown>>("starttls", {
      port: srv.port,
      serverName: "localhost",
      bytes: 10,
    });
    expect(r.received).toBe(r.sent);
  });

  it("the certificate is checked against the host connected to: one for another name fails the upgrade (ERR_TLS_HANDSHAKE)", async () => {
    const srv = await serve(startTlsEcho(wrongName));
    expect(await wd.code("starttls", { port: srv.port, bytes: 10 })).toBe("ERR_TLS_HANDSHAKE");
  });

  it("connect's tls options are the defaults of startTls() (serverName here: workerd takes no ca)", async () => {
    // A certificate for wrong.example only: the upgrade succeeds only if connect's serverName is used.
    const srv = await serve(startTlsEcho(wrongName));
    const r = await wd.value<Record<string, unknown>>("starttls", {
      port: srv.port,
      connectServerName: "wrong.example",
      bytes: 10,
    });
    expect(r.received).toBe(r.sent);
  });

  it("startTls() in the wrong state is a clear error (EINVAL)", async () => {
    const srv = await serve(echo);
    expect(await wd.value("startTlsWrongState", { port: srv.port })).toEqual({ off: "EINVAL", twice: "EINVAL" });
  });

  it("startTls() with a read pending settles that read (ECLOSED); workerd cannot upgrade then: ERR_UNSUPPORTED [unsupported]", async ({
    task,
  }) => {
    const srv = await serve(startTlsEcho());
    await unsupportedHere(task, async () => {
      expect(await wd.value("starttls", { port: srv.port, pendingRead: true })).toEqual({
        pendingRead: "ECLOSED",
        opened: "ERR_UNSUPPORTED",
      });
    });
  });

  it("startTls({ server }) is ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "serverStartTls");
  });
});
