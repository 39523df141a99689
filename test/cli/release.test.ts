/*
 * The release: .github/workflows/release.yml publishes from a version tag after `npm run
 * release:dry` passes, and that dry run works here. The dry run drives Node tools (npm, publint,
 * attw, typedoc) and deno; what it checks does not depend on the runtime running the tests, so it
 * runs in the node column only; the workflow's shape is checked in every column.
 */
import { readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeBinary, root, runtime } from "./_cli.ts";
import { type Ran, runBounded, underPackLock } from "./_pack.ts";

const workflow = readFileSync(join(root, ".github/workflows/release.yml"), "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

function releaseDry(args: string[]): Promise<Ran> {
  const env = { ...process.env, CI: "true", PATH: `${dirname(nodeBinary)}${delimiter}${process.env.PATH ?? ""}` };
  return runBounded("npm", ["run", "--silent", "release:dry", "--", ...args], { cwd: root, env, timeoutMs: 280_000 });
}

describe("the release", () => {
  it("the workflow publishes from a version tag, after release:dry, the checked tarball to npm with provenance, then to JSR", () => {
    expect(workflow).toMatch(/on:\s+push:\s+tags: \["v\*"\]/);
    expect(workflow).toMatch(/id-token: write/);
    const order = [
      "npm ci",
      'npm run release:dry -- --tag "$GITHUB_REF_NAME" --out "$RUNNER_TEMP"',
      'npm publish "$RUNNER_TEMP"/unisock-*.tgz --provenance --access public',
      "deno publish\n",
    ];
    const at = order.map((step) => workflow.indexOf(step));
    expect(
      at.every((i) => i > 0),
      JSON.stringify(at),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(pkg.scripts["release:dry"]).toBe("node scripts/release-check.mjs");
  });

  if (runtime === "node") {
    it("`npm run release:dry` passes every check: versions, pack contents, publint, attw, deno doc --lint, typedoc, deno publish", {
      timeout: 600_000,
    }, async () => {
      const r = await underPackLock(() => releaseDry(["--tag", `v${pkg.version}`]));
      const lines = r.stdout.trim().split("\n");
      expect(
        lines.filter((l) => l.startsWith("✗")),
        r.stdout,
      ).toEqual([]);
      expect(lines.filter((l) => l.startsWith("✓"))).toHaveLength(7);
      expect(lines.at(-1)).toBe("release dry run: every check passed; nothing was published");
      expect(r.code, r.stderr).toBe(0);
    });

    it("`npm run release:dry` refuses a tag that is not the package's version", { timeout: 600_000 }, async () => {
      const r = await releaseDry(["--tag", "v0.0.0-not-this"]);
      expect(r.stdout).toContain(
        `✗ versions: package.json ${pkg.version}, deno.json ${pkg.version}, tag v0.0.0-not-this`,
      );
      expect(r.stdout).toContain(`the tag must be v${pkg.version}`);
      expect(r.stdout).toContain("release dry run: stopped at the version check");
      expect(r.code).toBe(1);
    });
  }
});
