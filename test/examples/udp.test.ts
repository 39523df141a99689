/**
 * examples/udp-receiver.ts, udp-sender.ts and udp-discovery.ts under the runtime running this
 * suite, plus socat as a UDP client nobody here wrote. Where this runtime's adapter has no UDP
 * (`capabilities.udp` false), each example must fail with ERR_UNSUPPORTED: checked, never skipped.
 */
import { afterEach, describe, expect, it } from "vitest";
import { bind, capabilities } from "unisock";
import {
  checkRunsUnder,
  currentRuntime as rt,
  killChildren,
  runScript,
  runTool,
  startScript,
  startServer,
  tool,
} from "./_children.ts";

/**
 * Marks a test that checked ERR_UNSUPPORTED, so the matrix counts it apart (bin/lib/results.mjs),
 * with the example's own line about it as the reason the matrix shows.
 */
const markUnsupported = (task: { meta: object }, reason: string): void => {
  (task.meta as { unsupported?: string }).unsupported = reason;
};

/** A UDP port that was free a moment ago (for the discovery example, whose port must be fixed). */
async function freeUdpPort(): Promise<number> {
  const probe = await bind({ hostname: "127.0.0.1" });
  const { port } = probe.localAddress;
  await probe.close();
  return port;
}

/** Where UDP is missing: the example exits with ERR_UNSUPPORTED. */
async function expectUnsupported(script: string, args: string[], task: { meta: object }): Promise<void> {
  const child = await runScript(rt, script, args);
  expect((await child.exited).code, child.describe()).not.toBe(0);
  expect(child.stderr).toContain("ERR_UNSUPPORTED");
  markUnsupported(
    task,
    child.stderr
      .split("\n")
      .find((l) => l.includes("ERR_UNSUPPORTED"))!
      .trim(),
  );
}

describe("examples/udp-receiver.ts and udp-sender.ts", () => {
  afterEach(killChildren);

  it("the sender gets an acknowledgement for each message", async ({ task }) => {
    if (!capabilities.udp) return expectUnsupported("examples/udp-receiver.ts", ["0"], task);
    const { child: receiver, port } = await startServer(rt, "examples/udp-receiver.ts");
    const sender = await runScript(rt, "examples/udp-sender.ts", [`127.0.0.1:${port}`, "one", "two", "three"]);
    expect((await sender.exited).code, sender.describe()).toBe(0);
    expect(sender.stdout).toBe("got: ack one\ngot: ack two\ngot: ack three\n");
    await receiver.waitFor(/says: one\n[\s\S]*says: two\n[\s\S]*says: three\n/);
  });

  it("socat's datagram is printed and acknowledged", async (ctx) => {
    if (!capabilities.udp) return expectUnsupported("examples/udp-receiver.ts", ["0"], ctx.task);
    const socatPath = tool(ctx, "socat");
    const { child: receiver, port } = await startServer(rt, "examples/udp-receiver.ts");
    // socat sends its input as one datagram, then prints what comes back for -t seconds.
    const socat = await runTool(socatPath, ["-t", "2", "-", `UDP:127.0.0.1:${port}`], "hello from socat\n");
    expect(socat.stdout, socat.describe()).toBe("ack hello from socat");
    await receiver.waitFor(/127\.0\.0\.1:\d+ says: hello from socat\n/);
  });
});

describe("examples/udp-discovery.ts", () => {
  afterEach(killChildren);

  it("find hears every announcer through the loopback broadcast address", async ({ task }) => {
    if (!capabilities.udp || !capabilities.broadcast)
      return expectUnsupported("examples/udp-discovery.ts", ["find", "9"], task);
    const port = String(await freeUdpPort());
    const announcers = ["alpha", "beta"].map((name) =>
      startScript(rt, "examples/udp-discovery.ts", ["announce", port, name]),
    );
    for (const a of announcers) {
      await a.waitFor(/listening on 127\.255\.255\.255:\d+/);
      checkRunsUnder(a, rt);
    }
    const find = await runScript(rt, "examples/udp-discovery.ts", ["find", port]);
    expect((await find.exited).code, find.describe()).toBe(0);
    expect(find.stdout).toMatch(/^found alpha at 127\.0\.0\.1:\d+$/m);
    expect(find.stdout).toMatch(/^found beta at 127\.0\.0\.1:\d+$/m);
    expect(find.stdout).toMatch(/^2 service\(s\) found$/m);
    for (const a of announcers) await a.waitFor(/asked by 127\.0\.0\.1:\d+/);
  });

  it("find with nobody announcing finds nothing and says so", async ({ task }) => {
    if (!capabilities.udp || !capabilities.broadcast)
      return expectUnsupported("examples/udp-discovery.ts", ["find", "9"], task);
    const find = await runScript(rt, "examples/udp-discovery.ts", ["find", String(await freeUdpPort())]);
    expect((await find.exited).code, find.describe()).toBe(1);
    expect(find.stdout).toBe("0 service(s) found\n");
  });
});
