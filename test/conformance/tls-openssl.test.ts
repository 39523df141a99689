/*
 * TLS against real OpenSSL peers on loopback: `openssl s_server` for the unisock client,
 * `openssl s_client` for the unisock server. Each openssl process is bounded in time and killed by
 * its pid at the end of its test. Peers nobody here wrote: what passes here interoperates. Without
 * openssl a test is skipped with its install command (test/helpers/tools.ts), or fails in CI.
 */
import { describe, expect, it } from "vitest";
import { capabilities, connect, listen, type Socket, type TlsClientOptions } from "unisock";
import { expectCode, portOf, within } from "../helpers/streams.ts";
import {
  type Child,
  expectUnsupported,
  readLine,
  sClient,
  start,
  starttlsFront,
  tlsListen,
  unsupportedHere,
} from "../helpers/tls.ts";
import { fixturePath } from "../helpers/tls-fixtures.ts";
import * as certs from "../helpers/tls-fixtures.ts";
import { needTool, type SkipContext } from "../helpers/tools.ts";

const trusted: TlsClientOptions = { ca: certs.ca };

async function assertNoTls(): Promise<void> {
  await expectUnsupported(() => connect({ hostname: "127.0.0.1", port: 1 }, { secureTransport: "on" }));
  await expectUnsupported(() => tlsListen());
}

/** `openssl s_server` on 127.0.0.1, an ephemeral port, one connection, echoing lines reversed. */
async function sServer(
  ctx: SkipContext,
  extra: string[] = [],
  cert = "server",
): Promise<{ peer: Child; port: number }> {
  const peer = start(needTool(ctx, "openssl"), [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-naccept",
    "1",
    "-cert",
    fixturePath(`${cert}.pem`),
    "-key",
    fixturePath(`${cert}-key.pem`),
    "-rev",
    ...extra,
  ]);
  const m = await peer.waitFor(/ACCEPT 127\.0\.0\.1:(\d+)/);
  return { peer, port: Number(m[1]) };
}

/** Writes one line, reads one back. */
async function roundTrip(s: Socket, line: string): Promise<string> {
  await s.write(`${line}\n`);
  return readLine(s);
}

describe("the unisock TLS client against openssl s_server", () => {
  it("handshakes, checks the certificate, negotiates ALPN and exchanges data", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
    const { peer, port } = await sServer(ctx, capabilities.alpn ? ["-alpn", "h2,http/1.1"] : []);
    try {
      await using c = connect(
        { hostname: "127.0.0.1", port },
        { secureTransport: "on", tls: { ...trusted, alpn: capabilities.alpn ? ["http/1.1"] : undefined } },
      );
      const info = await c.opened;
      expect(info.authorized).toBe(true);
      expect(info.alpn).toBe(capabilities.alpn ? "http/1.1" : null);
      expect(await roundTrip(c, "hello openssl")).toBe("lssnepo olleh");
      expect(await roundTrip(c, "x".repeat(10_000))).toBe("x".repeat(10_000));
    } finally {
      peer.kill();
    }
  });

  it("refuses an openssl server whose certificate it does not trust, with ERR_TLS_CERT", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
    const { peer, port } = await sServer(ctx, [], "untrusted");
    try {
      await using c = connect({ hostname: "127.0.0.1", port }, { secureTransport: "on", tls: trusted });
      await expectCode(c.opened, "ERR_TLS_CERT");
    } finally {
      peer.kill();
    }
  });

  it("presents its client certificate to an openssl server that requires one", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
    if (!capabilities.mutualTls)
      return unsupportedHere(ctx.task, () =>
        expectUnsupported(() =>
          connect({ hostname: "127.0.0.1", port: 1 }, { secureTransport: "on", tls: { ...trusted, ...certs.client } }),
        ),
      );
    const required = ["-Verify", "1", "-CAfile", fixturePath("ca.pem"), "-verify_return_error"];
    const good = await sServer(ctx, required);
    try {
      await using c = connect(
        { hostname: "127.0.0.1", port: good.port },
        { secureTransport: "on", tls: { ...trusted, ...certs.client } },
      );
      expect((await c.opened).authorized).toBe(true);
      expect(await roundTrip(c, "mutual")).toBe("lautum");
      await good.peer.waitFor(/unisock test client/);
    } finally {
      good.peer.kill();
    }
    const bad = await sServer(ctx, required);
    try {
      await using c = connect({ hostname: "127.0.0.1", port: bad.port }, { secureTransport: "on", tls: trusted });
      // TLS 1.3: the refusal arrives after the client's handshake, as an alert on the first read.
      await expectCode(async () => {
        await c.opened;
        await roundTrip(c, "anyone?");
      }, ["ERR_TLS_CERT", "ERR_TLS_HANDSHAKE"]);
    } finally {
      bad.peer.kill();
    }
  });

  it("upgrades with startTls() to openssl s_server behind a plaintext greeting", async (ctx) => {
    if (!capabilities.tls || !capabilities.startTls) {
      return unsupportedHere(ctx.task, () =>
        expectUnsupported(() => connect({ hostname: "127.0.0.1", port: 1 }, { secureTransport: "starttls" })),
      );
    }
    const { peer, port } = await sServer(ctx);
    await using front = await starttlsFront(port);
    try {
      await using plain = connect({ hostname: "localhost", port: portOf(front.addr) }, { secureTransport: "starttls" });
      expect(await readLine(plain)).toBe("220 ready");
      await plain.write("STARTTLS\r\n");
      expect(await readLine(plain)).toBe("220 go ahead");
      await using secure = plain.startTls(trusted);
      expect((await secure.opened).authorized).toBe(true);
      expect(await roundTrip(secure, "upgraded")).toBe("dedargpu");
    } finally {
      peer.kill();
    }
  });
});

describe("openssl s_client against the unisock TLS server", () => {
  it("verifies the server's certificate, negotiates ALPN and exchanges data", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
    await using l = await tlsListen({ alpn: capabilities.alpn ? ["h2", "http/1.1"] : undefined });
    const peer = sClient(ctx, portOf(l.addr), capabilities.alpn ? ["-alpn", "http/1.1"] : []);
    try {
      await using s = await l.accept();
      const info = await s.opened;
      expect(info.alpn).toBe(capabilities.alpn ? "http/1.1" : null);
      await peer.waitFor(/Verification: OK/);
      peer.child.stdin!.write("ping\n");
      expect(await readLine(s)).toBe("ping");
      await s.write("pong from unisock\n");
      await peer.waitFor(/pong from unisock/);
      await s.close();
      expect(await peer.exited).toBe(0);
    } finally {
      peer.kill();
    }
  });

  it("answers an openssl client that shares no ALPN protocol with the no_application_protocol alert (120), and never accepts it", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
    if (!capabilities.alpn)
      return unsupportedHere(ctx.task, () => expectUnsupported(() => tlsListen({ alpn: ["h2"] })));
    await using l = await tlsListen({ alpn: ["h2", "http/1.1"] });
    const accepted = l.accept();
    accepted.then(
      (s) => s.close(),
      () => {},
    ); // ECLOSED when the listener closes
    const peer = sClient(ctx, portOf(l.addr), ["-alpn", "h2c"]);
    try {
      expect(await peer.exited).toBe(1);
      // OpenSSL names the alert it read; from a server that closed without it, "unexpected eof".
      expect(peer.output()).toMatch(/alert no application protocol.*SSL alert number 120/);
      expect(await within(accepted, 200)).toBe("pending");
    } finally {
      peer.kill();
    }
  });

  it("accepts openssl's client certificate when it asks for one", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, assertNoTls);
    if (!capabilities.mutualTls)
      return unsupportedHere(ctx.task, () => expectUnsupported(() => tlsListen({ ca: certs.ca, requestCert: true })));
    await using l = await tlsListen({ ca: certs.ca, requestCert: true });
    const peer = sClient(ctx, portOf(l.addr), [
      "-cert",
      fixturePath("client.pem"),
      "-key",
      fixturePath("client-key.pem"),
    ]);
    try {
      await using s = await l.accept();
      expect((await s.opened).authorized).toBe(true);
      await s.write("hello, known client\n");
      await peer.waitFor(/hello, known client/);
    } finally {
      peer.kill();
    }
  });

  it("serves openssl s_client -starttls smtp through startTls({ server })", async (ctx) => {
    if (!capabilities.tls || !capabilities.serverStartTls) {
      return unsupportedHere(ctx.task, () =>
        expectUnsupported(() => listen({ hostname: "127.0.0.1", secureTransport: "starttls" })),
      );
    }
    await using l = await listen({ hostname: "127.0.0.1", secureTransport: "starttls" });
    const peer = sClient(ctx, portOf(l.addr), ["-starttls", "smtp"]);
    try {
      await using s = await l.accept();
      await s.write("220 unisock ESMTP\r\n");
      expect(await readLine(s)).toMatch(/^EHLO /);
      await s.write("250-unisock\r\n250 STARTTLS\r\n");
      expect(await readLine(s)).toBe("STARTTLS");
      await s.write("220 ready for TLS\r\n");
      await using t = s.startTls({ server: certs.server });
      expect((await t.opened).alpn).toBeNull();
      await peer.waitFor(/Verification: OK/);
      peer.child.stdin!.write("MAIL FROM:<a@b>\n");
      expect(await readLine(t)).toBe("MAIL FROM:<a@b>");
      await t.write("250 over TLS\r\n");
      await peer.waitFor(/250 over TLS/);
    } finally {
      peer.kill();
    }
  });
});
