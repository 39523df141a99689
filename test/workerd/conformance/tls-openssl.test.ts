/**
 * Client behaviours of test/conformance/tls-openssl, run inside workerd (see ../harness.ts): the
 * unisock client in workerd against `openssl s_server`, which the test starts (on 127.0.0.1, one
 * connection, echoing lines reversed, bounded in time, killed by its pid). The CA is trusted
 * through workerd's config. Without openssl a test is skipped with its install command.
 */
import net from "node:net";
import { describe, expect, it } from "vitest";
import { workerdSuite } from "../suite.ts";
import { firstLine, serve } from "../servers.ts";
import { start } from "../../helpers/tls.ts";
import { fixturePath } from "../../helpers/tls-fixtures.ts";
import { needTool, type SkipContext } from "../../helpers/tools.ts";

const wd = workerdSuite();

async function sServer(
  ctx: SkipContext,
  extra: string[] = [],
  cert = "server",
  once = true,
): Promise<{ kill(): void; port: number }> {
  const peer = start(needTool(ctx, "openssl"), [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    ...(once ? ["-naccept", "1"] : []),
    "-cert",
    fixturePath(`${cert}.pem`),
    "-key",
    fixturePath(`${cert}-key.pem`),
    "-rev",
    ...extra,
  ]);
  const m = await peer.waitFor(/ACCEPT 127\.0\.0\.1:(\d+)/);
  return { kill: () => peer.kill(), port: Number(m[1]) };
}

describe("the unisock TLS client inside workerd against openssl s_server", () => {
  it("handshakes, checks the certificate and exchanges data (no ALPN: capabilities.alpn is false, checked)", async (ctx) => {
    // workerd's connect() has no ALPN option: the conformance test then offers none and expects null.
    const caps = await wd.value<{ capabilities: Record<string, boolean> }>("identity");
    expect(caps.capabilities.alpn).toBe(false);
    const peer = await sServer(ctx, ["-alpn", "h2,http/1.1"]);
    try {
      const r = await wd.value("opensslRoundTrip", { port: peer.port, lines: ["hello openssl", "x".repeat(10_000)] });
      expect(r).toEqual({ authorized: true, alpn: null, lines: ["lssnepo olleh", "x".repeat(10_000)] });
    } finally {
      peer.kill();
    }
  });

  it("ALPN to openssl is ERR_UNSUPPORTED [unsupported]", async ({ task }) => {
    await wd.unsupported(task, "alpn");
  });

  it("refuses an openssl server whose certificate it does not trust (ERR_TLS_HANDSHAKE: workerd gives no cause)", async (ctx) => {
    // Not "-naccept 1": after a failed handshake the adapter opens a plain connection to tell a
    // refused port from a refused certificate (workerd reports both alike), and a server that
    // has exited by then would make it ECONNREFUSED (see docs/matrix.md).
    const peer = await sServer(ctx, [], "untrusted", false);
    try {
      expect(await wd.value("openCode", { port: peer.port })).toEqual({ code: "ERR_TLS_HANDSHAKE" });
    } finally {
      peer.kill();
    }
  });

  it("upgrades with startTls() to openssl s_server behind a plaintext greeting", async (ctx) => {
    const peer = await sServer(ctx);
    // The plaintext front, in Node: greets, waits for STARTTLS, then joins the client to s_server.
    const front = await serve((s) => {
      s.write("220 ready\r\n");
      firstLine(s, (line) => {
        if (line !== "STARTTLS") return void s.end("500 what?\r\n");
        const b = net.connect(peer.port, "127.0.0.1", () => {
          s.write("220 go ahead\r\n");
          s.pipe(b).pipe(s);
        });
        b.on("error", () => s.destroy());
      });
    });
    try {
      const r = await wd.value("opensslStartTls", { port: front.port, host: "localhost" });
      expect(r).toEqual({ greeting: "220 ready", go: "220 go ahead", authorized: true, back: "dedargpu" });
    } finally {
      peer.kill();
    }
  });

  it("a client certificate for an openssl server that requires one is ERR_UNSUPPORTED [unsupported]", async ({
    task,
  }) => {
    await wd.unsupported(task, "clientCert");
  });
});
