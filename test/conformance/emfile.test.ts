/*
 * Running out of file descriptors is EMFILE on every runtime, not a reset or a refusal (#10):
 * a child process on the runtime under test, started under a low `ulimit -n`, connects to a
 * listener here until it cannot, then tries listen and bind, then closes everything and must be
 * able to connect again.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { listen } from "unisock";
import { command, runToEnd } from "../helpers/dgram-spawn.ts";
import { portOf } from "../helpers/streams.ts";

const childScript = fileURLToPath(new URL("../helpers/emfile-child.mjs", import.meta.url));
/** Enough for each runtime to start (they hold 10 to 40 descriptors of their own), few enough to run out fast. */
const FD_LIMIT = 128;

interface Report {
  connected: number;
  connect: string | null;
  listen: string | null;
  bind: string | null;
  recovered: boolean | string;
  recoveredAfterMs: number | null;
  /** Where the child was when its watchdog fired, if a call never settled. */
  hung?: string;
}

async function runChild(port: number): Promise<{ report: Report | null; stdout: string; stderr: string }> {
  const [exe, argv] = command([String(port)], childScript);
  const quoted = [exe, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const { stdout, stderr } = await runToEnd("sh", ["-c", `ulimit -n ${FD_LIMIT} && exec ${quoted}`], 50_000);
  let report: Report | null = null;
  try {
    report = JSON.parse(stdout.trim().split("\n").pop() ?? "") as Report;
  } catch {
    // reported by the test with the output
  }
  return { report, stdout, stderr };
}

describe("errors: out of file descriptors", () => {
  it(`a process out of descriptors (ulimit -n ${FD_LIMIT}) gets EMFILE from connect, listen and bind, and recovers once it closes some`, async () => {
    await using l = await listen({ hostname: "127.0.0.1" });
    void (async () => {
      for await (const s of l)
        void s
          .read(new Uint8Array(1))
          .catch(() => {})
          .finally(() => s.close());
    })();
    const { report, stdout, stderr } = await runChild(portOf(l.addr));
    expect(report, `child output: ${stdout} ${stderr}`).not.toBeNull();
    expect(report!.hung, "every call settles").toBeUndefined();
    expect(report!.connected).toBeGreaterThan(10);
    expect(report!.connected).toBeLessThan(FD_LIMIT);
    expect(report).toMatchObject({ connect: "EMFILE", listen: "EMFILE", bind: "EMFILE", recovered: true });
  }, 60_000);
});
