/*
 * STARTTLS: a plaintext connection upgraded in place, by the client (`startTls()`) and by the
 * server (`startTls({ server })` on a socket from `listen({ secureTransport: "starttls" })`).
 * Each side is tested against a peer that does not need the other side's capability.
 */
import { describe, expect, it } from "vitest";
import { capabilities, connect, listen, type Socket, type TlsClientOptions } from "unisock";
import { expectCode, portOf, readN, readText, within } from "../helpers/streams.ts";
import {
  expectUnsupported,
  readLine,
  serve,
  starttlsFront,
  tlsListen,
  tlsThrough,
  unsupportedHere,
} from "../helpers/tls.ts";
import * as certs from "../helpers/tls-fixtures.ts";

const trusted: TlsClientOptions = { ca: certs.ca };

/** Without client STARTTLS, asking for it is ERR_UNSUPPORTED. */
async function assertNoStartTls(): Promise<void> {
  await expectUnsupported(() => connect({ hostname: "127.0.0.1", port: 1 }, { secureTransport: "starttls" }));
}

/** A TLS backend answering each line with "echo <line>", behind a plaintext STARTTLS front. */
async function smtpLike(
  tls = certs.server,
): Promise<{ front: Awaited<ReturnType<typeof listen>>; close(): Promise<void> }> {
  const backend = await tlsListen(tls, { allowHalfOpen: true });
  serve(backend, async (s) => {
    for (;;) {
      const line = await readLine(s).catch(() => null);
      if (line === null) return;
      await s.write(`echo ${line}\n`);
    }
  });
  const front = await starttlsFront(backend);
  return { front, close: async () => void (await Promise.all([front.close(), backend.close()])) };
}

/** Connects with "starttls" and walks the plaintext part up to the point of the upgrade. */
async function greeted(port: number, options: { tls?: TlsClientOptions; hostname?: string } = {}): Promise<Socket> {
  const plain = connect(
    { hostname: options.hostname ?? "127.0.0.1", port },
    { secureTransport: "starttls", tls: options.tls },
  );
  expect(await readLine(plain)).toBe("220 ready");
  await plain.write("STARTTLS\r\n");
  expect(await readLine(plain)).toBe("220 go ahead");
  return plain;
}

describe("STARTTLS: the client upgrades", () => {
  it("after a plaintext greeting, startTls() upgrades the same connection; the old Socket is done", async ({
    task,
  }) => {
    if (!capabilities.tls || !capabilities.startTls) return unsupportedHere(task, assertNoStartTls);
    const server = await smtpLike();
    try {
      await using plain = await greeted(portOf(server.front.addr));
      expect(plain.secureTransport).toBe("starttls");
      const plainInfo = await plain.opened;
      await using secure = plain.startTls(trusted);
      const info = await secure.opened;
      expect(secure.secureTransport).toBe("on");
      expect(info.authorized).toBe(true);
      expect(info.localAddress).toEqual(plainInfo.localAddress); // the same connection
      expect(info.remoteAddress).toEqual(plainInfo.remoteAddress);
      await secure.write("hello\n");
      expect(await readLine(secure)).toBe("echo hello");
      await expectCode(plain.read(new Uint8Array(1)), "ECLOSED");
      await expectCode(plain.write("x"), "ECLOSED");
      await expect(plain.closed).resolves.toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it("the certificate is checked against the host connected to, unless startTls names another", async ({ task }) => {
    if (!capabilities.tls || !capabilities.startTls) return unsupportedHere(task, assertNoStartTls);
    const server = await smtpLike(certs.wrongName);
    try {
      const port = portOf(server.front.addr);
      await using refused = (await greeted(port)).startTls(trusted);
      await expectCode(refused.opened, "ERR_TLS_CERT");
      await using named = (await greeted(port)).startTls({ ...trusted, serverName: "wrong.example" });
      expect((await named.opened).authorized).toBe(true);
      await using lenient = (await greeted(port)).startTls({ rejectUnauthorized: false });
      expect((await lenient.opened).authorized).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("connect's tls options are the defaults of startTls()", async ({ task }) => {
    if (!capabilities.tls || !capabilities.startTls) return unsupportedHere(task, assertNoStartTls);
    const server = await smtpLike();
    try {
      await using secure = (
        await greeted(portOf(server.front.addr), { tls: trusted, hostname: "localhost" })
      ).startTls();
      expect((await secure.opened).authorized).toBe(true);
      await secure.write("defaults\n");
      expect(await readLine(secure)).toBe("echo defaults");
    } finally {
      await server.close();
    }
  });

  it("startTls() with a read pending settles that read and upgrades", async ({ task }) => {
    if (!capabilities.tls || !capabilities.startTls) return unsupportedHere(task, assertNoStartTls);
    const server = await smtpLike();
    try {
      await using plain = await greeted(portOf(server.front.addr));
      const pending = plain.read(new Uint8Array(64));
      await using secure = plain.startTls(trusted);
      await expectCode(within(pending, 2_000), "ECLOSED");
      expect((await secure.opened).authorized).toBe(true);
      await secure.write("after a pending read\n");
      expect(await readLine(secure)).toBe("echo after a pending read");
    } finally {
      await server.close();
    }
  });

  it("closing the old Socket after startTls() leaves the TLS connection open", async ({ task }) => {
    if (!capabilities.tls || !capabilities.startTls) return unsupportedHere(task, assertNoStartTls);
    const server = await smtpLike();
    try {
      const plain = await greeted(portOf(server.front.addr));
      await using secure = plain.startTls(trusted);
      await secure.opened;
      await plain.close();
      await plain.writable.abort().catch(() => {});
      await secure.write("still up\n");
      expect(await readLine(secure)).toBe("echo still up");
    } finally {
      await server.close();
    }
  });

  it("startTls() in the wrong state is a clear error", async ({ task }) => {
    if (!capabilities.startTls) {
      return unsupportedHere(task, async () => {
        await assertNoStartTls();
        await using l = await listen({ hostname: "127.0.0.1" });
        await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
        await expectCode(() => c.startTls(trusted), "ERR_UNSUPPORTED");
      });
    }
    await using l = await listen({ hostname: "127.0.0.1" });
    serve(l, async (s) => void (await readText(s)));
    // A socket made without "starttls".
    await using off = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    const notStarttls = await expectCode(() => off.startTls(trusted), "EINVAL");
    expect(notStarttls.message).toMatch(/starttls/);
    // Twice.
    await using twice = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { secureTransport: "starttls" });
    await using upgraded = twice.startTls(trusted);
    await expectCode(() => twice.startTls(trusted), "EINVAL");
    await expectCode(() => upgraded.startTls(trusted), "EINVAL"); // the upgraded socket is "on"
    // After close().
    const closed = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { secureTransport: "starttls" });
    await closed.close();
    await expectCode(() => closed.startTls(trusted), "ECLOSED");
    // On a TLS socket.
    if (capabilities.tls) {
      await using t = await tlsListen();
      await using on = connect(
        { hostname: "127.0.0.1", port: portOf(t.addr) },
        { secureTransport: "on", tls: trusted },
      );
      await expectCode(() => on.startTls(trusted), "EINVAL");
    }
    // Bad options are EINVAL at the call, before the upgrade starts.
    await using bad = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { secureTransport: "starttls" });
    await expectCode(() => bad.startTls({ ca: "not a certificate" }), "EINVAL");
    // An accepted socket has no host name to check: serverName is needed.
    await using sl = await listen({
      hostname: "127.0.0.1",
      secureTransport: capabilities.serverStartTls ? "starttls" : "off",
    });
    const accepted = sl.accept();
    await using peer = connect({ hostname: "127.0.0.1", port: portOf(sl.addr) });
    await peer.opened;
    await using s = await accepted;
    await expectCode(() => s.startTls(trusted), "EINVAL");
  });
});

describe("STARTTLS: the server upgrades", () => {
  /** Serves one SMTP-like STARTTLS session as the server, returns what the server's TLS side saw. */
  async function serveOnce(
    l: Awaited<ReturnType<typeof listen>>,
    server: Parameters<Socket["startTls"]>[0],
  ): Promise<{ info: Awaited<Socket["opened"]>; line: string }> {
    await using s = await l.accept();
    expect(s.secureTransport).toBe("starttls");
    await s.write("220 ready\r\n");
    expect(await readLine(s)).toBe("STARTTLS");
    await s.write("220 go ahead\r\n");
    await using t = s.startTls(server);
    const info = await t.opened;
    expect(t.secureTransport).toBe("on");
    const line = await readLine(t);
    await t.write(`echo ${line}\n`);
    return { info, line };
  }

  async function assertNoServerStartTls(): Promise<void> {
    await expectUnsupported(() => listen({ hostname: "127.0.0.1", secureTransport: "starttls" }));
    if (capabilities.startTls) {
      await using l = await listen({ hostname: "127.0.0.1" });
      await using c = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { secureTransport: "starttls" });
      await expectCode(() => c.startTls({ server: certs.server }), "ERR_UNSUPPORTED");
    }
  }

  it("startTls({ server }) upgrades an accepted plaintext connection", async ({ task }) => {
    if (!capabilities.serverStartTls || !capabilities.tls) return unsupportedHere(task, assertNoServerStartTls);
    await using l = await listen({ hostname: "127.0.0.1", secureTransport: "starttls", allowHalfOpen: true });
    const served = serveOnce(l, { server: { ...certs.server, alpn: capabilities.alpn ? ["smtp"] : undefined } });
    const plain = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { allowHalfOpen: true });
    expect(await readLine(plain)).toBe("220 ready");
    await plain.write("STARTTLS\r\n");
    expect(await readLine(plain)).toBe("220 go ahead");
    await using secure = await tlsThrough(plain, { ...trusted, alpn: capabilities.alpn ? ["smtp"] : undefined });
    const info = await secure.opened;
    expect(info.authorized).toBe(true);
    await secure.write("hello server\n");
    expect(await readLine(secure)).toBe("echo hello server");
    const seen = await served;
    expect(seen.line).toBe("hello server");
    expect(seen.info.authorized).toBeUndefined();
    expect(seen.info.alpn).toBe(capabilities.alpn ? "smtp" : null);
  });

  it("with requestCert, the client's certificate is checked after STARTTLS too", async ({ task }) => {
    if (!capabilities.serverStartTls || !capabilities.tls) return unsupportedHere(task, assertNoServerStartTls);
    if (!capabilities.mutualTls)
      return unsupportedHere(task, () =>
        expectCode(
          () => listen({ hostname: "127.0.0.1", tls: { ...certs.server, requestCert: true } }),
          "ERR_UNSUPPORTED",
        ),
      );
    await using l = await listen({ hostname: "127.0.0.1", secureTransport: "starttls", allowHalfOpen: true });
    const served = serveOnce(l, { server: { ...certs.server, ca: certs.ca, requestCert: true } });
    const plain = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { allowHalfOpen: true });
    await readLine(plain);
    await plain.write("STARTTLS\r\n");
    await readLine(plain);
    await using secure = await tlsThrough(plain, { ...trusted, ...certs.client });
    await secure.write("it is me\n");
    expect(await readLine(secure)).toBe("echo it is me");
    expect((await served).info.authorized).toBe(true);
  });

  it("a failed server-side handshake rejects the upgraded socket's opened with a TLS error", async ({ task }) => {
    if (!capabilities.serverStartTls || !capabilities.tls) return unsupportedHere(task, assertNoServerStartTls);
    await using l = await listen({ hostname: "127.0.0.1", secureTransport: "starttls", allowHalfOpen: true });
    const served = (async () => {
      await using s = await l.accept();
      await using t = s.startTls({ server: certs.server });
      return await t.opened;
    })();
    // A client that does not trust the server's certificate: it aborts the handshake with an alert.
    const plain = connect({ hostname: "127.0.0.1", port: portOf(l.addr) }, { allowHalfOpen: true });
    await using secure = await tlsThrough(plain, { ca: certs.otherCa });
    await expectCode(secure.opened, "ERR_TLS_CERT");
    await expectCode(served, ["ERR_TLS_CERT", "ERR_TLS_HANDSHAKE"]);
  });

  it("client and server both STARTTLS: one SMTP-like session, with a 64 KiB exchange", async ({ task }) => {
    if (!capabilities.serverStartTls || !capabilities.startTls || !capabilities.tls) {
      return unsupportedHere(task, capabilities.serverStartTls ? assertNoStartTls : assertNoServerStartTls);
    }
    await using l = await listen({ hostname: "127.0.0.1", secureTransport: "starttls", allowHalfOpen: true });
    const served = (async () => {
      await using s = await l.accept();
      await s.write("220 ready\r\n");
      await readLine(s);
      await s.write("220 go ahead\r\n");
      await using t = s.startTls({ server: certs.server });
      await t.write(await readN(t, 65536));
    })();
    await using plain = await greeted(portOf(l.addr), { hostname: "localhost" });
    await using secure = plain.startTls(trusted);
    const data = new Uint8Array(65536).map((_, i) => i % 251);
    await secure.write(data);
    expect(await readN(secure, 65536)).toEqual(data);
    await served;
  });
});
