import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, finalCounts, removeTempDirs, sampleSuite, tempDir } from "./_cli.ts";

/*
 * test/fixtures/sample-suite is a user's project: its own vitest config (include, env) and a
 * "#which" import with deno/bun/node conditions. Run plainly under Deno or Bun, vitest would
 * resolve "#which" to the Node file; through `unisock test` each runtime must get its own.
 */
afterAll(removeTempDirs);

describe("unisock test runs a user's suite in Node, Deno and Bun", () => {
  it("passes in each runtime with the runtime's own exports and the user's config", { timeout: 180_000 }, async () => {
    const out = tempDir();
    const r = await cli(["test", "--runtime", "node,deno,bun", "--out", out], { cwd: sampleSuite });
    expect(r.stderr).not.toContain("unisock:");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| group +\| node [\d.]+ +\| deno [\d.]+ +\| bun [\d.]+ +\|/);
    // runtime.spec.ts: 3 plain passes and 2 unsupported ones ("[unsupported]" title, task.meta);
    // console.spec.ts 1 pass; crash.spec.ts and failing.spec.ts 1 skipped test each (runIf).
    expect(r.stdout).toMatch(/\| runtime +\| 3\/0\/2\/0 +\| 3\/0\/2\/0 +\| 3\/0\/2\/0 +\|/);
    expect(r.stdout).toMatch(/\| crash +\| 0\/0\/0\/1 +\| 0\/0\/0\/1 +\| 0\/0\/0\/1 +\|/);
    expect(finalCounts(r.stdout)).toEqual({ passed: 12, failed: 0, skipped: 6, unsupported: 6 });
    expect(r.stdout).toMatch(
      /Skipped: not run, and why \(6\):\n {2}6 × no reason given\n {2}node [\d.]+ \(2\):\n {4}- crash › kills its worker when SAMPLE_CRASH=1: no reason given\n/,
    );
    expect(r.stdout).toContain(
      "    - runtime › a user's suite under unisock test counts a test that marks task.meta apart: checked ERR_UNSUPPORTED\n",
    );

    const json = JSON.parse(readFileSync(join(out, "matrix.json"), "utf8"));
    expect(json.runtimes.map((x: { name: string }) => x.name)).toEqual(["node", "deno", "bun"]);
    expect(json.summary).toBe("12 passed, 0 failed, 6 skipped");
    expect(json.totals).toEqual({ passed: 12, failed: 0, unsupported: 6, skipped: 6 });
    expect(json.skipped).toHaveLength(6);
    expect(json.unsupported[0]).toMatchObject({
      runtime: expect.stringMatching(/^node /),
      group: "runtime",
      reason: "checked ERR_UNSUPPORTED",
    });
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    expect(junit).toContain('<testsuites name="unisock matrix" tests="24" failures="0" errors="0" skipped="6"');
    const html = readFileSync(join(out, "matrix.html"), "utf8");
    expect(html.match(/<th scope="col" data-runtime=/g)).toHaveLength(3);
    expect(html.match(/<tr data-group=/g)).toHaveLength(4); // console, crash, failing, runtime
    expect(html.match(/<section id="skipped">[\s\S]*?<\/section>/)?.[0].match(/<li /g)).toHaveLength(6);
  });

  it("names a failing test under the table and exits 1", { timeout: 120_000 }, async () => {
    const r = await cli(["test", "--runtime", "node"], { cwd: sampleSuite, env: { SAMPLE_FAIL: "1" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\| failing +\| 0\/1\/0\/0 +\|/);
    expect(r.stdout).toContain("✗ node");
    expect(r.stdout).toContain("› failing › fails when SAMPLE_FAIL=1");
    expect(r.stdout).toContain("AssertionError: expected 'sample' to be 'a deliberate failure'");
    expect(finalCounts(r.stdout)).toEqual({ passed: 4, failed: 1, skipped: 1, unsupported: 2 });
  });

  it("counts a test whose worker died as failed, and keeps what finished", { timeout: 120_000 }, async () => {
    // Node: a forks worker dies and vitest reports the file as passed; Bun: the whole process dies.
    const r = await cli(["test", "--runtime", "node,bun"], { cwd: sampleSuite, env: { SAMPLE_CRASH: "1" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\| crash +\| 0\/1\/0\/0 +\| 0\/1\/0\/0 +\|/);
    expect(r.stdout).toContain(
      "› crash › kills its worker when SAMPLE_CRASH=1\n      did not finish: the worker running it exited",
    );
    expect(r.stdout).toContain("vitest was killed by SIGKILL and wrote no report");
    expect(r.stdout).toMatch(/\| runtime +\| 3\/0\/2\/0 +\| [34]\/0\/[12]\/0 +\|/);
  });

  it("passes vitest's own arguments through after --", { timeout: 120_000 }, async () => {
    const r = await cli(["test", "--runtime", "node", "--", "tests/runtime.spec.ts", "-t", "user's vitest config"], {
      cwd: sampleSuite,
    });
    expect(r.code).toBe(0);
    // The file's other four tests are left out by -t: vitest reports them as skipped.
    expect(finalCounts(r.stdout)).toEqual({ passed: 1, failed: 0, skipped: 4, unsupported: 0 });
  });

  it("gives the user's suite the same two Deno variants as unisock matrix", { timeout: 120_000 }, async () => {
    // runtime.spec.ts checks from inside the workers: Deno.listenDatagram under deno, not under deno-stable.
    const r = await cli(["test", "--runtime", "deno,deno-stable", "--", "tests/runtime.spec.ts"], { cwd: sampleSuite });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\| runtime +\| 3\/0\/2 +\| 3\/0\/2 +\|/);
  });

  it("--verbose shows the tests' own console output, and no temporary report path", { timeout: 120_000 }, async () => {
    const r = await cli(["test", "--runtime", "node", "--verbose", "--", "tests/console.spec.ts"], {
      cwd: sampleSuite,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^\[node [\d.]+\] sample: a line from console\.log$/m);
    expect(r.stderr).toMatch(/^\[node [\d.]+\] sample: a line from console\.error$/m);
    expect(r.stderr + r.stdout).not.toContain("report written to");
    const quiet = await cli(["test", "--runtime", "node", "--", "tests/console.spec.ts"], { cwd: sampleSuite });
    expect(quiet.stderr + quiet.stdout).not.toContain("sample: a line");
  });
});
