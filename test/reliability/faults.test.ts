/**
 * Faults on a real (impaired) link: two network namespaces this file creates, joined by a relay
 * (_netns.ts, _relay.py) since this kernel has no netem. Both ends run inside the namespaces
 * under the runtime being tested (_faults.ts); the client in namespace a is the side under test.
 * Needs root, `ip` and `python3`: without them the tests are skipped with the reason, and under
 * UNISOCK_REQUIRE_TOOLS=1 (CI) they fail instead.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { capabilities } from "unisock";
import { type Child, killChildren } from "../examples/_children.ts";
import { needRoot, needTool } from "../helpers/tools.ts";
import { type Link, impairedLink } from "./_netns.ts";
import { ready, report, result, startProbe } from "./_probe.ts";

const PORT = 7000;

/** The figures every client probe reports: its fds and RSS once connected and at the end. */
interface Probed {
  fdsBefore: number;
  fdsAfter: number;
  rssBefore: number;
  rssAfter: number;
  ms?: number;
}
const measured = ({ fdsBefore, fdsAfter, rssBefore, rssAfter, ms }: Probed): Probed => ({
  fdsBefore,
  fdsAfter,
  rssBefore,
  rssAfter,
  ms,
});

describe("faults on an impaired link between two network namespaces", { timeout: 60_000 }, () => {
  let link: Link | undefined;
  let ip = "ip";
  let python = "python3";

  /** The link, made by the first test that runs; skips (or fails, in CI) where it cannot be made. */
  const need = async (ctx: { skip(note?: string): never }): Promise<Link> => {
    needRoot(ctx, "creates network namespaces and TUN devices");
    ip = needTool(ctx, "ip");
    python = needTool(ctx, "python3");
    link ??= await impairedLink(ip, python);
    return link;
  };
  afterEach(killChildren);
  afterAll(async () => {
    await killChildren();
    await link?.close();
  });

  const inA = (args: string[]): Child => startProbe("test/reliability/_faults.ts", args, { netns: link!.nsA, ip });
  const inB = (args: string[]): Child => startProbe("test/reliability/_faults.ts", args, { netns: link!.nsB, ip });
  const serverInB = async (...args: string[]): Promise<Child> => {
    const server = inB(["server", String(PORT), ...args]);
    await ready(server);
    return server;
  };

  it("4 MiB over a slow link that drops 2% of packets arrives intact (SHA-256)", async (ctx) => {
    await (await need(ctx)).set({ delay_ms: 10, loss: 0.02, rate_kbit: 20_000, blackhole: 0 });
    const bytes = 4 * 1048576;
    const server = await serverInB("send", String(bytes));
    const client = inA(["client", link!.addrB, String(PORT), "fetch"]);
    const fetched = await result<Probed & { bytes: number; sha256: string; closed: string }>(client, "fetched");
    const sent = await result<{ bytes: number; sha256: string }>(server, "sent");
    report("lossy transfer 4 MiB (10 ms, 2% loss, 20 Mbit/s)", { ...measured(fetched), relay: await link!.stats() });
    expect(fetched.bytes).toBe(bytes);
    expect(fetched.sha256).toBe(sent.sha256);
    expect(fetched.closed).toBe("resolved");
  });

  it("a peer that vanishes without FIN or RST: a read and a write time out with their signal's reason; keep-alive reports ETIMEDOUT", async (ctx) => {
    await (await need(ctx)).set({ delay_ms: 2, loss: 0, rate_kbit: 0, blackhole: 0 });
    await serverInB("hold");
    const client = inA(["client", link!.addrB, String(PORT), "blackhole"]);
    await ready(client);
    await link!.set({ blackhole: 1 });
    client.send("go");
    const read = await result<{ result: string; sameReason: boolean; ms: number }>(client, "read");
    const write = await result<{ result: string; sameReason: boolean; ms: number; bytes: number }>(client, "write");
    const keepAlive = await result<Probed & { delay: string; result: string; closed: string }>(
      client,
      "keepalive",
      40_000,
    );
    report("black-hole", {
      ...measured(keepAlive),
      read: `${read.result} after ${read.ms} ms`,
      write: `${write.result} after ${write.bytes} bytes`,
      keepAlive: `${keepAlive.result} (delay ${keepAlive.delay}), closed ${keepAlive.closed}`,
    });
    expect(read.result).toBe("TimeoutError");
    expect(read.sameReason, "the read rejects with the signal's reason itself").toBe(true);
    expect(write.result).toBe("TimeoutError");
    expect(write.sameReason, "the write rejects with the signal's reason itself").toBe(true);
    // A delay is set where capabilities.keepAliveDelay says so, and refused where it does not.
    expect(keepAlive.delay).toBe(capabilities.keepAliveDelay ? "1000" : "ERR_UNSUPPORTED");
    expect(keepAlive.result).toBe("ETIMEDOUT");
    expect(keepAlive.closed).toBe("ETIMEDOUT");
  });

  // Five runs while writing: Bun once reported the reset as a clean close in 2 runs of 14.
  for (const [what, serverMode, clientMode, times] of [
    ["while we read", "blast", "read-until-end", 3],
    ["while we write", "sink", "write-until-end", 5],
  ] as const) {
    it(`a peer process killed (SIGKILL) ${what}: a reset or EOF at once, closed settles`, async (ctx) => {
      await (await need(ctx)).set({ delay_ms: 2, loss: 0, rate_kbit: 0, blackhole: 0 });
      const runs: string[] = [];
      let last: Probed | undefined;
      for (let i = 0; i < times; i++) {
        const server = await serverInB(serverMode);
        const client = inA(["client", link!.addrB, String(PORT), clientMode]);
        await ready(client);
        await client.waitFor(/^flowing$/m);
        const killedAt = Date.now();
        await server.kill();
        const end = await result<Probed & { how: string; t: number; bytes: number; closed: string; closedMs: number }>(
          client,
          "end",
          15_000,
        );
        last = end;
        const ms = end.t - killedAt;
        runs.push(`${end.how}/${end.closed} in ${ms} ms`);
        expect(ms, "noticed within 2 s of the kill").toBeLessThan(2000);
        if (clientMode === "read-until-end") {
          // All data before a FIN is read, then EOF and a clean close; or the kernel answered with a reset.
          expect([
            ["eof", "resolved"],
            ["ECONNRESET", "ECONNRESET"],
          ]).toContainEqual([end.how, end.closed]);
        } else {
          // Writing to a dead peer: its kernel resets; a reset is never reported as a clean close.
          expect(["ECONNRESET", "EPIPE"]).toContain(end.how);
          expect(["ECONNRESET", "EPIPE"]).toContain(end.closed);
        }
        await killChildren();
      }
      report(`peer killed ${what} x${times}`, { ...measured(last!), runs });
    });
  }
});
