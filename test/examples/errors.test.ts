/**
 * How the examples meet routine mistakes and ordinary peers: one clear line on stderr and exit
 * status 1 (never a stack into the library's source), addresses parsed the same way in every
 * example (`[::1]:port` included), and a UDP sender that prints whatever comes back.
 */
import { afterEach, describe, expect, it } from "vitest";
import { bind, capabilities, listen } from "unisock";
import { portOf } from "../helpers/streams.ts";
import { unsupportedHere } from "../helpers/unsupported.ts";
import { currentRuntime as rt, killChildren, runScript } from "./_children.ts";

/** Runs an example that must fail, and checks it said so in one line starting with its name. */
async function failsInOneLine(script: string, args: string[], pattern: RegExp): Promise<void> {
  const child = await runScript(rt, script, args);
  expect((await child.exited).code, child.describe()).toBe(1);
  const lines = child.stderr.trim().split("\n");
  expect(lines, child.describe()).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${script.split("/").pop()!.replace(".", "\\.")}: ${pattern.source}`));
}

describe("examples: routine mistakes end in one line and exit status 1", () => {
  afterEach(killChildren);

  it("a port that is not a number", async () => {
    await failsInOneLine("examples/echo-server.ts", ["abc"], /"abc" is not a port/);
    await failsInOneLine("examples/echo-client.ts", ["127.0.0.1:70000"], /"70000" is not a port/);
  });

  it("an address that is not host:port", async () => {
    await failsInOneLine("examples/framed-client.ts", ["::1:7009"], /"::1:7009" is not host:port/);
  });

  it("a port in use", async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    await failsInOneLine("examples/chat-server.ts", [String(portOf(l.addr))], /EADDRINUSE: /);
  });

  it("a refused connection", async () => {
    const l = await listen({ hostname: "127.0.0.1" });
    const port = portOf(l.addr);
    await l.close();
    await failsInOneLine("examples/echo-client.ts", [`127.0.0.1:${port}`], /ECONNREFUSED: /);
  });
});

describe("examples/udp-sender.ts against a plain UDP echo server", () => {
  afterEach(killChildren);

  it("takes [::1]:port like the TCP clients, and prints the echoes that come back", async ({ task }) => {
    if (!capabilities.udp) {
      return unsupportedHere(task, () =>
        failsInOneLine("examples/udp-sender.ts", ["[::1]:9", "x"], /ERR_UNSUPPORTED: /),
      );
    }
    // The classic peer: it sends every datagram back as it is, with no "ack".
    await using echo = await bind({ hostname: "::1" });
    const served = (async () => {
      for await (const { data, remoteAddress } of echo) await echo.send(data, remoteAddress);
    })().catch(() => {});
    const sender = await runScript(rt, "examples/udp-sender.ts", [`[::1]:${echo.localAddress.port}`, "one", "two"]);
    expect((await sender.exited).code, sender.describe()).toBe(0);
    expect(sender.stdout).toBe("got: one\ngot: two\n");
    await echo.close();
    await served;
  });
});
