/**
 * examples/tls-echo-server.ts and tls-echo-client.ts under the runtime running this suite, and
 * `openssl s_client` (a TLS client nobody here wrote) against the example server. Where this
 * runtime's adapter has no TLS (`capabilities.tls` false), the server must fail with ERR_UNSUPPORTED.
 */
import { afterEach, describe, expect, it } from "vitest";
import { capabilities } from "unisock";
import { sClient } from "../helpers/tls.ts";
import { fixturePath } from "../helpers/tls-fixtures.ts";
import { unsupportedHere } from "../helpers/unsupported.ts";
import { currentRuntime as rt, killChildren, runScript, startServer } from "./_children.ts";

/** Where TLS is missing: the example server exits with one ERR_UNSUPPORTED line. */
async function serverUnsupported(): Promise<void> {
  const child = await runScript(rt, "examples/tls-echo-server.ts", ["0"]);
  expect((await child.exited).code, child.describe()).toBe(1);
  expect(child.stderr).toMatch(/^tls-echo-server\.ts: ERR_UNSUPPORTED: /);
}

describe("examples/tls-echo-server.ts", () => {
  afterEach(killChildren);

  it("tls-echo-client.ts verifies the server with the test CA and gets its line back", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, serverUnsupported);
    const { child: server, port } = await startServer(rt, "examples/tls-echo-server.ts");
    const client = await runScript(rt, "examples/tls-echo-client.ts", [`127.0.0.1:${port}`, "hello", "über TLS"]);
    expect(client.stdout, client.describe()).toBe("hello über TLS\n");
    expect((await client.exited).code).toBe(0);
    expect(client.stderr).toContain(`connected to 127.0.0.1:${port} over TLS (ALPN echo)`);
    await server.waitFor(/127\.0\.0\.1:\d+ connected \(ALPN echo\)/);
  });

  it("the client refuses a server its CA did not sign: one ERR_TLS_CERT line, exit status 1", async ({ task }) => {
    if (!capabilities.tls) return unsupportedHere(task, serverUnsupported);
    const { port } = await startServer(rt, "examples/tls-echo-server.ts");
    const client = await runScript(rt, "examples/tls-echo-client.ts", [`127.0.0.1:${port}`], 20_000, {
      TLS_CA: fixturePath("other-ca.pem"),
    });
    expect((await client.exited).code, client.describe()).toBe(1);
    expect(client.stderr.trim().split("\n")).toHaveLength(1);
    expect(client.stderr).toMatch(/^tls-echo-client\.ts: ERR_TLS_CERT: /);
  });

  it("openssl s_client verifies it and gets its line echoed", async (ctx) => {
    if (!capabilities.tls) return unsupportedHere(ctx.task, serverUnsupported);
    const { child: server, port } = await startServer(rt, "examples/tls-echo-server.ts");
    const peer = sClient(ctx, port, ["-alpn", "echo"]);
    try {
      await peer.waitFor(/Verification: OK/);
      peer.child.stdin!.write("ping over openssl\n");
      await peer.waitFor(/^ping over openssl$/m);
      await server.waitFor(/127\.0\.0\.1:\d+ connected \(ALPN echo\)/);
    } finally {
      peer.kill();
    }
  });
});
