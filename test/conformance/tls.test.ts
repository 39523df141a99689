/*
 * TLS: handshake, certificate checks, ALPN, bulk data, half-close, mutual TLS, on every runtime.
 * Each test branches on `capabilities`: where a feature is missing, it asserts that asking for it
 * is ERR_UNSUPPORTED.
 */
import { describe, expect, it } from "vitest";
import { capabilities, connect, listen, type Socket, type TlsClientOptions } from "unisock";
import {
  dec,
  expectCode,
  portOf,
  randomBytes,
  readAll,
  readN,
  readText,
  sha256,
  sleep,
  tmpSocketPath,
  within,
} from "../helpers/streams.ts";
import { closedPort, expectUnsupported, serve, tlsListen, unsupportedHere } from "../helpers/tls.ts";
import * as certs from "../helpers/tls-fixtures.ts";

const trusted: TlsClientOptions = { ca: certs.ca };

/** Without TLS, both ends of it are ERR_UNSUPPORTED. */
async function assertNoTls(): Promise<void> {
  await expectUnsupported(() => connect({ hostname: "127.0.0.1", port: 1 }, { secureTransport: "on" }));
  await expectUnsupported(() => tlsListen());
}

function tlsConnect(port: number, tls: TlsClientOptions = trusted, hostname = "127.0.0.1"): Socket {
  return connect({ hostname, port }, { secureTransport: "on", tls });
}

/** How a connection ended for a client that expected to be refused. */
async function outcome(c: Socket): Promise<string> {
  try {
    await c.opened;
    const n = await c.read(new Uint8Array(64));
    return n === null ? "eof" : "data";
  } catch (err) {
    return `error:${(err as { code?: string }).code}`;
  }
}

describe("TLS client: handshake and certificate checks", () => {
  it("a handshake with the trusted CA opens with authorized: true, then carries data both ways", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen();
    const accepted = l.accept();
    await using c = tlsConnect(portOf(l.addr));
    const info = await c.opened;
    expect(c.secureTransport).toBe("on");
    expect(info.authorized).toBe(true);
    expect(info.alpn).toBeNull();
    expect(info.remoteAddress).toEqual({
      transport: "tcp",
      hostname: "127.0.0.1",
      port: portOf(l.addr),
      family: "IPv4",
    });
    await using s = await accepted;
    const sInfo = await s.opened;
    expect(s.secureTransport).toBe("on");
    expect(sInfo.remoteAddress).toEqual(info.localAddress);
    await c.write("ping");
    expect(dec.decode(await readN(s, 4))).toBe("ping");
    await s.write("pong");
    expect(dec.decode(await readN(c, 4))).toBe("pong");
  });

  it("the certificate is checked against the host connected to: a DNS name, an IPv4 or an IPv6 literal", async ({
    task,
  }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using dual = await tlsListen({}, { hostname: "::" });
    await using v6 = await tlsListen({}, { hostname: "::1" });
    serve(dual, async (s) => void (await s.write("ok")));
    serve(v6, async (s) => void (await s.write("ok")));
    for (const [hostname, port] of [
      ["localhost", portOf(dual.addr)],
      ["127.0.0.1", portOf(dual.addr)],
      ["::1", portOf(v6.addr)],
    ] as const) {
      await using c = tlsConnect(port, trusted, hostname);
      expect((await c.opened).authorized, hostname).toBe(true);
      expect(await readText(c), hostname).toBe("ok");
    }
  });

  it("a certificate from a CA the client does not trust fails with ERR_TLS_CERT", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen();
    await using u = await tlsListen(certs.untrusted);
    const cases: [string, number, TlsClientOptions][] = [
      ["the runtime's roots only", portOf(l.addr), {}],
      ["another CA", portOf(l.addr), { ca: certs.otherCa }],
      ["a server certificate from another CA", portOf(u.addr), trusted],
    ];
    for (const [what, port, tls] of cases) {
      await using c = tlsConnect(port, tls);
      const err = await expectCode(within(c.opened, 10_000), "ERR_TLS_CERT");
      expect(err.message, what).not.toMatch(/timed out/i);
      await expect(c.closed, what).rejects.toBe(err);
    }
  });

  it("a certificate for another name fails with ERR_TLS_CERT; tls.serverName names the one expected", async ({
    task,
  }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen(certs.wrongName);
    await using bad = tlsConnect(portOf(l.addr));
    await expectCode(bad.opened, "ERR_TLS_CERT");
    await using named = tlsConnect(portOf(l.addr), { ...trusted, serverName: "wrong.example" });
    expect((await named.opened).authorized).toBe(true);
  });

  it("an expired certificate fails with ERR_TLS_CERT", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen(certs.expired);
    await using c = tlsConnect(portOf(l.addr));
    await expectCode(c.opened, "ERR_TLS_CERT");
  });

  it("rejectUnauthorized: false connects to an untrusted server with authorized: false", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen(certs.untrusted);
    serve(l, async (s) => void (await s.write("still encrypted")));
    for (const tls of [
      { rejectUnauthorized: false },
      { ...trusted, serverName: "wrong.example", rejectUnauthorized: false },
    ]) {
      await using c = tlsConnect(portOf(l.addr), tls);
      expect((await c.opened).authorized).toBe(false);
      expect(await readText(c)).toBe("still encrypted");
    }
  });

  it("a peer that speaks no TLS fails the handshake with ERR_TLS_HANDSHAKE, at once", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using greeter = await listen({ hostname: "127.0.0.1" });
    serve(greeter, async (s) => {
      await s.write("220 plain text here\r\n");
      await s.read(new Uint8Array(1024));
    });
    await using hangup = await listen({ hostname: "127.0.0.1" });
    serve(hangup, async () => {});
    for (const l of [greeter, hangup]) {
      await using c = tlsConnect(portOf(l.addr));
      const result = await within(
        c.opened.catch((e: unknown) => e),
        5_000,
      );
      expect(result, "the failure must be reported, not left to a timeout").not.toBe("pending");
      await expectCode(c.opened, "ERR_TLS_HANDSHAKE");
      await expectCode(c.closed, "ERR_TLS_HANDSHAKE");
    }
  });

  it("a refused TCP connection stays ECONNREFUSED: only failures after connecting are TLS errors", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using c = tlsConnect(await closedPort());
    await expectCode(c.opened, "ECONNREFUSED");
  });

  it("the signal covers the TLS handshake: its reason rejects opened", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using silent = await listen({ hostname: "127.0.0.1" });
    serve(silent, async (s) => void (await readAll(s))); // takes the ClientHello, never answers
    const signal = AbortSignal.timeout(300);
    await using c = connect(
      { hostname: "127.0.0.1", port: portOf(silent.addr) },
      { secureTransport: "on", tls: trusted, signal },
    );
    const err = await c.opened.catch((e: unknown) => e);
    expect(err).toBe(signal.reason);
    expect((err as Error).name).toBe("TimeoutError");
  });

  it("bad TLS options are EINVAL before anything is connected", async ({ task }) => {
    const bad: TlsClientOptions[] = [
      { ca: "not a certificate" },
      { ca: [] },
      { cert: certs.client.cert },
      { serverName: "" },
      { alpn: [] },
      { alpn: ["x".repeat(256)] },
      { rejectUnauthorized: "no" as unknown as boolean },
    ];
    for (const tls of bad) {
      await expectCode(
        () => connect({ hostname: "127.0.0.1", port: 1 }, { secureTransport: "on", tls }),
        capabilities.tls ? "EINVAL" : "ERR_UNSUPPORTED",
      );
    }
    await expectCode(() => connect({ hostname: "127.0.0.1", port: 1 }, { tls: trusted }), "EINVAL");
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    for (const tls of [
      { cert: "nope", key: certs.server.key },
      { cert: certs.server.cert, key: certs.client.key }, // a key that is not the certificate's
      { ...certs.server, alpn: [""] },
    ]) {
      await expectCode(tlsListen(tls), "EINVAL");
    }
    await expectCode(listen({ hostname: "127.0.0.1", tls: certs.server, secureTransport: "starttls" }), [
      "EINVAL",
      "ERR_UNSUPPORTED",
    ]);
  });

  it("TLS over a Unix socket needs tls.serverName: there is no host name to check", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    const path = tmpSocketPath("tls");
    if (!capabilities.unixStream)
      return unsupportedHere(task, () => expectUnsupported(() => tlsListen({}, { path, hostname: undefined })));
    await using l = await listen({ path, tls: certs.server });
    serve(l, async (s) => void (await s.write("over unix")));
    await expectCode(() => connect({ path }, { secureTransport: "on", tls: trusted }), "EINVAL");
    await using c = connect({ path }, { secureTransport: "on", tls: { ...trusted, serverName: "localhost" } });
    expect((await c.opened).authorized).toBe(true);
    expect(await readText(c)).toBe("over unix");
  });
});

describe("TLS: ALPN", () => {
  it("the protocol the server picks (its first the client offers) is in both ends' SocketInfo; none is null", async ({
    task,
  }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    if (!capabilities.alpn) {
      return unsupportedHere(task, async () => {
        await expectUnsupported(() => tlsConnect(1, { ...trusted, alpn: ["h2"] }));
        await expectUnsupported(() => tlsListen({ alpn: ["h2"] }));
      });
    }
    await using l = await tlsListen({ alpn: ["h2", "http/1.1"] });
    for (const [offered, expected] of [
      [["http/1.1"], "http/1.1"],
      [["h2"], "h2"],
      [["http/1.1", "h2"], "h2"],
      [["spdy/3", "http/1.1"], "http/1.1"],
      [undefined, null],
    ] as const) {
      const accepted = l.accept();
      await using c = tlsConnect(portOf(l.addr), offered ? { ...trusted, alpn: [...offered] } : trusted);
      expect((await c.opened).alpn).toBe(expected);
      await using s = await accepted;
      expect((await s.opened).alpn).toBe(expected);
    }
    await using plain = await tlsListen();
    const accepted = plain.accept();
    await using c = tlsConnect(portOf(plain.addr), { ...trusted, alpn: ["h2"] });
    expect((await c.opened).alpn).toBeNull();
    await using s = await accepted;
    expect((await s.opened).alpn).toBeNull();
  });

  it("a client that shares no protocol with the server fails with ERR_TLS_HANDSHAKE and is never accepted", async ({
    task,
  }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    if (!capabilities.alpn) return unsupportedHere(task, () => expectUnsupported(() => tlsListen({ alpn: ["h2"] })));
    await using l = await tlsListen({ alpn: ["h2", "http/1.1"] });
    const accepted = l.accept();
    accepted.then(
      (s) => s.close(),
      () => {},
    ); // ECLOSED when the listener closes
    await using c = tlsConnect(portOf(l.addr), { ...trusted, alpn: ["h2c"] });
    // The server's no_application_protocol alert ends the handshake (RFC 7301 §3.2), and the
    // error names it (OpenSSL, BoringSSL and rustls each spell it their way).
    const err = await expectCode(c.opened, "ERR_TLS_HANDSHAKE");
    expect(err.message).toMatch(/no.?application.?protocol/i);
    expect(await within(accepted, 200)).toBe("pending");
  });
});

describe("TLS: data, half-close and close", () => {
  it("10 MiB each way at once arrive intact (SHA-256)", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    const size = 10 * 1024 * 1024;
    const up = randomBytes(size);
    const down = randomBytes(size);
    const send = async (s: Socket, data: Uint8Array): Promise<void> => {
      for (let o = 0; o < data.byteLength; o += 256 * 1024) await s.write(data.subarray(o, o + 256 * 1024));
      await s.closeWrite();
    };
    await using l = await tlsListen({}, { allowHalfOpen: true });
    const served = (async () => {
      await using s = await l.accept();
      const [received] = await Promise.all([readAll(s), send(s, down)]);
      return sha256(received);
    })();
    await using c = connect(
      { hostname: "127.0.0.1", port: portOf(l.addr) },
      { secureTransport: "on", tls: trusted, allowHalfOpen: true },
    );
    const [received] = await Promise.all([readAll(c), send(c, up)]);
    expect(received.byteLength).toBe(size);
    expect(await sha256(received)).toBe(await sha256(down));
    expect(await served).toBe(await sha256(up));
  });

  it("the client's closeWrite() reaches the server as EOF, and the server still answers", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen({}, { allowHalfOpen: true });
    const served = (async () => {
      await using s = await l.accept();
      const question = await readText(s);
      await s.write(`answer to ${question}`);
    })();
    await using c = tlsConnect(portOf(l.addr));
    await c.write("question");
    await c.closeWrite();
    expect(await readText(c)).toBe("answer to question");
    await served;
  });

  it("the server's closeWrite() reaches the client as EOF, and the client still answers", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen({}, { allowHalfOpen: true });
    const accepted = l.accept();
    await using c = connect(
      { hostname: "127.0.0.1", port: portOf(l.addr) },
      { secureTransport: "on", tls: trusted, allowHalfOpen: true },
    );
    await using s = await accepted;
    await s.write("hello");
    await s.closeWrite();
    expect(await readText(c)).toBe("hello");
    await c.write("still here");
    await c.closeWrite();
    expect(await readText(s)).toBe("still here");
  });

  it("a peer's close() is EOF on the other side, not an error, both ways", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen();
    for (const closer of ["server", "client"] as const) {
      const accepted = l.accept();
      await using c = tlsConnect(portOf(l.addr));
      await using s = await accepted;
      const [quitter, other] = closer === "server" ? [s, c] : [c, s];
      await quitter.write("bye");
      await quitter.close();
      expect(await readText(other), closer).toBe("bye");
      await expect(other.closed, closer).resolves.toBeUndefined();
      await expect(quitter.closed, closer).resolves.toBeUndefined();
    }
  });

  it("writable.abort() on a TLS socket resets the connection (capabilities.reset): the peer gets ECONNRESET", async ({
    task,
  }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen();
    for (const aborter of ["server", "client"] as const) {
      const accepted = l.accept();
      await using c = tlsConnect(portOf(l.addr));
      await c.opened;
      await using s = await accepted;
      await s.opened;
      const [quitter, other] = aborter === "server" ? [s, c] : [c, s];
      // A round trip first: after it, the handshake's last records (TLS 1.3 session tickets) are
      // read, and no write of theirs can meet the reset and take its error in place of the read.
      await c.write("?");
      await readN(s, 1);
      await s.write("!");
      await readN(c, 1);
      if (capabilities.reset) {
        await quitter.writable.abort();
        await expectCode(other.read(new Uint8Array(16)), "ECONNRESET");
        await expectCode(other.closed, "ECONNRESET");
      } else {
        // No reset on this runtime: the connection is closed at once instead, and abort() says so.
        // The peer sees it end: EOF after a close_notify, or ECONNRESET where the close came
        // without one (a TLS peer must treat that as a truncation).
        await expectCode(quitter.writable.abort(), "ERR_UNSUPPORTED");
        const end = await within(
          other.read(new Uint8Array(16)).catch((e: { code: string }) => e.code),
          5000,
        );
        expect([null, "ECONNRESET"]).toContain(end);
      }
    }
  });

  it("the Web Streams path works over TLS", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen({}, { allowHalfOpen: true });
    const served = (async () => {
      await using s = await l.accept();
      await s.readable.pipeTo(s.writable); // echo, then FIN
    })();
    await using c = tlsConnect(portOf(l.addr));
    const writer = c.writable.getWriter();
    await writer.write(new TextEncoder().encode("through "));
    await writer.write(new TextEncoder().encode("streams"));
    await writer.close();
    let text = "";
    for await (const chunk of c.readable) text += dec.decode(chunk, { stream: true });
    expect(text).toBe("through streams");
    await served;
  });
});

describe("TLS server: mutual TLS and failed handshakes", () => {
  it("a client certificate from the trusted CA is accepted; both ends report authorized: true", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    if (!capabilities.mutualTls) {
      return unsupportedHere(task, async () => {
        await expectUnsupported(() => tlsListen({ ca: certs.ca, requestCert: true }));
        await expectUnsupported(() => tlsConnect(1, { ...trusted, ...certs.client }));
      });
    }
    await using l = await tlsListen({ ca: certs.ca, requestCert: true });
    const accepted = l.accept();
    await using c = tlsConnect(portOf(l.addr), { ...trusted, ...certs.client });
    expect((await c.opened).authorized).toBe(true);
    await using s = await accepted;
    expect((await s.opened).authorized).toBe(true);
    await s.write("hello client");
    await s.close();
    expect(await readText(c)).toBe("hello client");
  });

  it("without requestCert, the server's SocketInfo has no authorized", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen();
    const accepted = l.accept();
    await using c = tlsConnect(portOf(l.addr), capabilities.mutualTls ? { ...trusted, ...certs.client } : trusted);
    await c.opened;
    await using s = await accepted;
    expect((await s.opened).authorized).toBeUndefined();
  });

  it("a client without a certificate, or with an untrusted one, is refused and never accepted", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    if (!capabilities.mutualTls)
      return unsupportedHere(task, () => expectUnsupported(() => tlsListen({ ca: certs.ca, requestCert: true })));
    await using l = await tlsListen({ ca: certs.ca, requestCert: true });
    let accepted = 0;
    serve(l, async (s) => {
      accepted++;
      await s.write("welcome");
    });
    // TLS 1.3 ends the client's handshake before the server checks the client's certificate: the
    // refusal arrives after `opened`, as an alert (an error) or, from some servers, a bare close.
    // How the client learns of the refusal is the server's doing: an alert (ERR_TLS_*) from
    // Deno and Bun servers, and from Node's for a missing certificate; Node's server refusing an
    // untrusted one may just close, seen as a reset or, by a node:tls client, as EOF.
    await using none = tlsConnect(portOf(l.addr));
    expect(await within(outcome(none), 10_000)).toMatch(/^(error:(ERR_TLS_CERT|ERR_TLS_HANDSHAKE|ECONNRESET)|eof)$/);
    await using stranger = tlsConnect(portOf(l.addr), { ...trusted, ...certs.untrustedClient });
    expect(await within(outcome(stranger), 10_000)).toMatch(
      /^(error:(ERR_TLS_CERT|ERR_TLS_HANDSHAKE|ECONNRESET)|eof)$/,
    );
    await sleep(100);
    expect(accepted).toBe(0);
    await using good = tlsConnect(portOf(l.addr), { ...trusted, ...certs.client });
    expect(await readText(good)).toBe("welcome");
    expect(accepted).toBe(1);
  });

  it("a client that fails the handshake is never accepted; the next one is", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, assertNoTls);
    await using l = await tlsListen();
    const first = l.accept();
    await using plain = connect({ hostname: "127.0.0.1", port: portOf(l.addr) });
    await plain.write("GET / HTTP/1.0\r\n\r\n");
    await plain.read(new Uint8Array(1024)).catch(() => null); // whatever the server says, it ends
    await using untrusting = tlsConnect(portOf(l.addr), { ca: certs.otherCa });
    await expectCode(untrusting.opened, "ERR_TLS_CERT");
    expect(await within(first, 200)).toBe("pending");
    await using good = tlsConnect(portOf(l.addr));
    await good.opened;
    await using s = await first;
    expect((await s.opened).remoteAddress).toEqual((await good.opened).localAddress);
  });
});
