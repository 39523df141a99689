import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { finalCounts, nodeBinary, removeTempDirs, root, runtime, tempDir } from "./_cli.ts";
import { underPackLock } from "./_pack.ts";

/*
 * `npx unisock matrix` in a project that installed the packed package, for the runtime running
 * this test: over the matrix, the installed package's suite runs once on each runtime.
 */
// The project's node first, so npm, npx and the installed CLI run on it.
const env = { ...process.env, CI: "true", PATH: `${dirname(nodeBinary)}${delimiter}${process.env.PATH ?? ""}` };

function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const npmQuiet = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

afterAll(removeTempDirs);

describe("the packed package", () => {
  it("ships the build with its maps, the CLI, and the conformance suite `unisock matrix` runs, and no key or other test", {
    timeout: 300_000,
  }, async () => {
    // The built file is read under the lock too: another test's pack may rebuild dist/ right after.
    const [r, built] = await underPackLock(async () => {
      const packed = await run("npm", ["pack", "--dry-run", "--json", "--loglevel=error"], root);
      return [packed, readFileSync(join(root, "dist/node.js"), "utf8")] as const;
    });
    expect(r.code).toBe(0);
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    expect(pkg.bin).toEqual({ unisock: "bin/unisock.mjs" });
    const wanted = [
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
      "package.json",
      "bin/unisock.mjs",
      "bin/lib/progress-reporter.mjs",
      "vitest.config.ts",
      "test/conformance/00-runtime.test.ts",
      "test/helpers/make-certs.ts",
    ];
    for (const rt of ["node", "deno", "bun", "framing"])
      wanted.push(
        `src/${rt}.ts`,
        `dist/${rt}.js`,
        `dist/${rt}.js.map`,
        `dist/${rt}.cjs`,
        `dist/${rt}.cjs.map`,
        `dist/${rt}.d.ts`,
        `dist/${rt}.d.cts`,
      );
    for (const f of wanted) expect(files).toContain(f);
    // No private key, no certificate, and of the tests only the suite `unisock matrix` runs, with its helpers.
    expect(files.filter((f) => /\.(pem|key|crt)$/.test(f) || f.startsWith("test/fixtures/"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("test/") && !/^test\/(conformance|helpers)\//.test(f))).toEqual([]);
    // The unit tests' fake transports are no helpers of the suite.
    expect(files.filter((f) => f.startsWith("test/helpers/fake-"))).toEqual([]);
    expect(files.filter((f) => /^(bench|docs|examples|\.ci|\.github)\//.test(f))).toEqual([]);
    // Every built import keeps its node: prefix (Deno and Bun resolve those).
    expect(built).toMatch(/from "node:net"/);
    expect(built).not.toMatch(/from "(net|tls|dgram|dns|crypto|buffer)"/);
    expect(readFileSync(join(root, "bin/unisock.mjs"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  {
    // Deno without --unstable-net is its own column: run the installed suite the same way.
    const target = runtime === "deno" && process.env.UNISOCK_DENO_NET === "stable" ? "deno-stable" : runtime;
    it(`runs \`npx unisock matrix --runtime ${target}\` in a project that installed the tarball and vitest`, {
      timeout: 600_000,
    }, async () => {
      const dir = tempDir("unisock-pack-");
      const packed = await underPackLock(() =>
        run("npm", ["pack", "--pack-destination", dir, "--json", "--loglevel=error"], root),
      );
      expect(packed.code, packed.stderr).toBe(0);
      const tarball = join(dir, JSON.parse(packed.stdout)[0].filename);
      const project = join(dir, "project");
      await run("mkdir", [project], dir);
      writeFileSync(join(project, "package.json"), '{ "name": "consumer", "private": true, "type": "module" }\n');

      const installed = await run("npm", ["install", tarball, ...npmQuiet], project);
      expect(installed.code, installed.stderr).toBe(0);
      const noVitest = await run("npx", ["unisock", "matrix", "--runtime", target], project);
      expect(noVitest.code).toBe(2);
      expect(noVitest.stderr).toContain("npm i -D vitest");

      const vitest = JSON.parse(readFileSync(join(root, "node_modules/vitest/package.json"), "utf8")).version;
      const withVitest = await run("npm", ["install", "-D", `vitest@${vitest}`, ...npmQuiet], project);
      expect(withVitest.code, withVitest.stderr).toBe(0);

      const r = await run("npx", ["unisock", "matrix", "--runtime", target, "--json", "matrix.json"], project);
      const report = JSON.parse(readFileSync(join(project, "matrix.json"), "utf8"));
      const failures = report.failures.map(
        (f: { group: string; name: string; message: string }) => `${f.group} › ${f.name}: ${f.message}`,
      );
      // The failures first in the message: the matrix table shows only an error's first lines.
      expect(
        failures,
        `the packed suite failed:\n${failures.map((f: string) => f.split("\n")[0]).join("\n")}\n`,
      ).toEqual([]);
      expect(r.code, r.stderr).toBe(0);
      expect(report.runtimes.map((x: { name: string }) => x.name)).toEqual([target]);
      // The suite that ran is the installed package's, with its adapter resolved for this runtime.
      expect(report.rows.map((x: { group: string }) => x.group)).toContain("conformance/00-runtime");
      expect(report.rows.every((x: { group: string }) => x.group.startsWith("conformance/"))).toBe(true);
      // passed/failed, then unsupported and skipped when some test in the table is.
      expect(r.stdout).toMatch(/\| conformance\/00-runtime +\| 1\/0(\/0){0,2} +\|/);
      expect(finalCounts(r.stdout)?.passed).toBeGreaterThan(0);
    });
  }
});
