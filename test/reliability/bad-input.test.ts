/*
 * Bad input (#10): every public function and option against the wrong kinds of value gives
 * SocketError EINVAL (or its documented result: the defaults for null options, the signal's
 * reason for an aborted signal, ERR_UNSUPPORTED where a capability is false), the way the call
 * reports errors (thrown by a synchronous call, a rejection otherwise), leaving no descriptor
 * behind and no unhandled rejection. The table runs in a child process on the runtime under test
 * (bad-input-child.ts), where nothing else opens descriptors and an unhandled rejection is fatal.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { command, runToEnd } from "../helpers/dgram-spawn.ts";
import { runtimeName } from "../helpers/dgram-util.ts";

const childScript = fileURLToPath(new URL("./bad-input-child.ts", import.meta.url));

interface Row {
  target: string;
  kind: string;
  expected: string;
  outcome: string;
  how: string;
  /** The call is synchronous: an error must be thrown, not returned as a rejection. */
  sync: boolean;
  fdsBefore: number;
  fdsAfter: number;
}

function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [exe, argv] = command(args, childScript);
  // The child makes an unhandled rejection fatal itself; Node's strict mode says so too.
  if (runtimeName === "node") argv.unshift("--unhandled-rejections=strict");
  return runToEnd(exe, argv, 150_000);
}

/** What is wrong with a row, or null. */
function problem(r: Row): string | null {
  const where = `${r.target} with ${r.kind}`;
  const errored = r.how === "thrown" || r.how === "rejected";
  if (r.fdsAfter > r.fdsBefore) return `${where}: ${r.fdsAfter - r.fdsBefore} descriptor(s) left open`;
  if (r.expected === "ok")
    return r.outcome === "ok" ? null : `${where}: expected it to work, got ${r.outcome} (${r.how})`;
  if (r.outcome !== r.expected) return `${where}: expected ${r.expected}, got ${r.outcome} (${r.how})`;
  if (r.expected === "reason") return null; // an abort may come either way (connect: through opened)
  if (errored && (r.how === "thrown") !== r.sync)
    return `${where}: ${r.outcome} was ${r.how}, not ${r.sync ? "thrown" : "rejected"}`;
  return null;
}

describe("reliability: bad input", () => {
  it("every public function and option refuses wrong values with EINVAL (or its documented result), leaving no descriptor behind", async () => {
    const { code, stdout, stderr } = await runChild([]);
    expect(code, `child exited with ${code}: ${stderr.slice(-2000)}`).toBe(0);
    const report = JSON.parse(stdout.trim().split("\n").pop()!) as { runtime: string; targets: number; rows: Row[] };
    expect(report.runtime).toBe(runtimeName);
    expect(report.targets).toBeGreaterThan(80);
    expect(report.rows.length).toBeGreaterThan(1500);
    // Most rows are refusals: the table is about wrong values.
    expect(report.rows.filter((r) => r.expected === "EINVAL").length).toBeGreaterThan(1000);
    const problems = report.rows.map(problem).filter((p) => p !== null);
    expect(problems).toEqual([]);
  }, 160_000);

  it("the table's process dies of an unhandled rejection, so one in the table could not pass unseen", async () => {
    const { code, stdout } = await runChild(["unhandled"]);
    expect(stdout).not.toContain("survived");
    expect(code).not.toBe(0);
  }, 30_000);
});
