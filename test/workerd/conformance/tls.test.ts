/** Client behaviours of test/conformance/tls, run inside workerd (see ../harness.ts). The CA is trusted through workerd's config. */
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { createHash, randomBytes } from "node:crypto";
import { closedPort, collect, echo, serve } from "../servers.ts";
import { expired, server as serverCert, untrusted, wrongName } from "../../helpers/tls-fixtures.ts";

const wd = workerdSuite();

describe("TLS inside workerd", () => {
  it("secureTransport on: echo over TLS, opened says authorized, no ALPN", async () => {
    const srv = await serve(echo, { tls: serverCert });
    const r = await wd.value<{
      info: Record<string, unknown>;
      sent: string;
      received: string;
      secureTransport: string;
    }>("echo", { port: srv.port, tls: true, bytes: 100_000 });
    expect(r.info).toMatchObject({ authorized: true, alpn: null });
    expect(r.received).toBe(r.sent);
    expect(r.secureTransport).toBe("on");
  });

  it("by host name: localhost is verified against the certificate", async () => {
    const srv = await serve(echo, { tls: serverCert });
    const r = await wd.value<{ sent: string; received: string }>("echo", {
      port: srv.port,
      host: "localhost",
      tls: true,
      bytes: 10,
    });
    expect(r.received).toBe(r.sent);
  });

  it("a peer's close() is EOF over TLS, not an error", async () => {
    // The server answers the client's first bytes and closes. (One that closes the moment the
    // handshake ends is seen by workerd as "Network connection lost": see docs/matrix.md.)
    const srv = await serve((s) => s.once("data", () => s.end("over tls")), { tls: serverCert });
    expect(await wd.value("readToEof", { port: srv.port, tls: true, first: "hi" })).toEqual({
      text: "over tls",
      again: null,
    });
  });

  it("the Web Streams path works over TLS", async () => {
    const srv = await serve(echo, { tls: serverCert });
    const r = await wd.value<{ sent: string; received: string; receivedBytes: number }>("echoStreams", {
      port: srv.port,
      tls: true,
      bytes: 1_000_000,
    });
    expect(r.receivedBytes).toBe(1_000_000);
    expect(r.received).toBe(r.sent);
  });

  it("a refused TLS connection is ECONNREFUSED, not a TLS error", async () => {
    const port = await closedPort();
    expect(await wd.value("refused", { port, tls: true })).toEqual({
      opened: "ECONNREFUSED",
      closed: "ECONNREFUSED",
      address: "127.0.0.1",
      port,
    });
  });

  // workerd reports every failed handshake with one message and no cause, so unisock cannot tell a
  // refused certificate (ERR_TLS_CERT elsewhere) from another handshake failure: ERR_TLS_HANDSHAKE.
  for (const [what, cert] of [
    ["untrusted", untrusted],
    ["expired", expired],
    ["wrong-name", wrongName],
  ] as const) {
    it(`an ${what} certificate fails the handshake (ERR_TLS_HANDSHAKE: workerd gives no cause)`, async () => {
      const srv = await serve(echo, { tls: cert });
      expect(await wd.value("openCode", { port: srv.port })).toEqual({ code: "ERR_TLS_HANDSHAKE" });
    });
  }

  it("a peer that speaks no TLS is ERR_TLS_HANDSHAKE", async () => {
    const srv = await serve((s) => {
      s.on("error", () => {});
      s.end("220 not tls\r\n");
    });
    expect(await wd.value("openCode", { port: srv.port })).toEqual({ code: "ERR_TLS_HANDSHAKE" });
  });

  for (const key of ["tlsCa", "clientCert", "alpn", "noVerify", "otherServerName"] as const) {
    it(`TLS option ${key} is ERR_UNSUPPORTED [unsupported]`, async ({ task }) => {
      await wd.unsupported(task, key);
    });
  }

  it("10 MiB each way at once arrive intact (SHA-256)", async () => {
    const size = 10 * 1024 * 1024;
    const down = randomBytes(size);
    const srv = await serve(
      (s, seen) => {
        collect(s, seen);
        s.end(down);
      },
      { tls: serverCert },
    );
    const r = await wd.value<{ sent: string; received: string; receivedBytes: number }>("tlsBothWays", {
      port: srv.port,
      bytes: size,
    });
    expect(r.receivedBytes).toBe(size);
    expect(r.received).toBe(createHash("sha256").update(down).digest("hex"));
    await expect.poll(() => srv.received[0]?.sha256).toBe(r.sent);
    expect(srv.received[0]?.bytes).toBe(size);
  });
});
