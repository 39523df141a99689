/**
 * examples/echo-server.ts and echo-client.ts, run under the runtime running this suite, with
 * real clients nobody here wrote (socat, nc) besides the example client.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { randomBytes, sha256 } from "../helpers/streams.ts";
import { type Child, currentRuntime as rt, killChildren, runScript, runTool, startServer, tool } from "./_children.ts";

describe("examples/echo-server.ts", () => {
  let server: Child;
  let port: number;

  beforeEach(async () => {
    ({ child: server, port } = await startServer(rt, "examples/echo-server.ts"));
  });
  afterEach(killChildren);

  it("echo-client.ts gets its message back after its half-close", async () => {
    const client = await runScript(rt, "examples/echo-client.ts", [`127.0.0.1:${port}`, "hello", "échos ✓"]);
    expect(client.stdout, client.describe()).toBe("hello échos ✓\n");
    expect((await client.exited).code).toBe(0);
    expect(client.stderr).toContain(`connected to 127.0.0.1:${port}`);
  });

  it("socat gets 1 MiB of random bytes back, byte for byte", async (ctx) => {
    const socatPath = tool(ctx, "socat");
    const data = randomBytes(1 << 20);
    // socat half-closes at the end of its input, then waits (-t) for the server's FIN.
    const socat = await runTool(socatPath, ["-t", "10", "-", `TCP:127.0.0.1:${port}`], data);
    expect((await socat.exited).code, socat.describe()).toBe(0);
    expect(socat.stdoutBytes.byteLength).toBe(data.byteLength);
    expect(await sha256(socat.stdoutBytes)).toBe(await sha256(data));
  });

  it("nc -N gets its lines back and sees the server close", async (ctx) => {
    const ncPath = tool(ctx, "nc");
    const text = `${Array.from({ length: 1000 }, (_, i) => `line ${i}: ${"x".repeat(i % 80)}`).join("\n")}\n`;
    // -N: shut down the sending side at the end of input; nc then exits when the server closes.
    const nc = await runTool(ncPath, ["-N", "-w", "10", "127.0.0.1", String(port)], text);
    expect((await nc.exited).code, nc.describe()).toBe(0);
    expect(nc.stdout).toBe(text);
  });

  it("serves several clients at once", async (ctx) => {
    const socatPath = tool(ctx, "socat");
    const runs = await Promise.all(
      ["a", "b", "c"].map((m) =>
        runTool(socatPath, ["-t", "10", "-", `TCP:127.0.0.1:${port}`], `${m}\n`.repeat(10_000)),
      ),
    );
    for (const [i, m] of ["a", "b", "c"].entries())
      expect(runs[i]!.stdout, runs[i]!.describe()).toBe(`${m}\n`.repeat(10_000));
    expect(server.stderr).toBe("");
  });
});
