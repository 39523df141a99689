#!/usr/bin/env node
/*
 * The checks the release workflow (.github/workflows/release.yml) runs before it publishes, runnable
 * anywhere as a dry run: `npm run release:dry`. Nothing is published.
 *
 *   1. versions: package.json and deno.json agree, and match the tag (--tag v1.2.3) when given
 *   2. npm pack: builds (prepack) and packs once; no private key, no test but the suite
 *      `unisock matrix` runs
 *   3. publint --strict and attw (default profile) on that tarball
 *   4. deno doc --lint on every JSR entry: 0 errors
 *   5. the API reference (typedoc, into docs/reference) builds without a warning
 *   6. deno publish --dry-run: JSR would take the package, and these files only
 *
 * --out DIR keeps the tarball there (the workflow publishes exactly the file it checked).
 * One line per step; exit status 0 when every step passed, 1 otherwise.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { tag: { type: "string" }, out: { type: "string" } } });
const bin = join(root, "node_modules", ".bin");
const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` };
const json = (file) => JSON.parse(readFileSync(join(root, file), "utf8"));

let failed = 0;
function step(name, check) {
  let problem;
  try {
    problem = check();
  } catch (e) {
    problem = e instanceof Error ? e.message : String(e);
  }
  if (problem) failed++;
  process.stdout.write(problem ? `✗ ${name}\n${String(problem).replace(/^/gm, "    ")}\n` : `✓ ${name}\n`);
}

/** Runs a command from the project root; returns its output (stdout only with `stdoutOnly`), or throws it when the command fails. */
function run(command, args, stdoutOnly = false) {
  const r = spawnSync(command, args, {
    cwd: root,
    env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (r.status !== 0)
    throw new Error(
      `${command} ${args.join(" ")} exited ${r.status ?? r.signal}:\n${output.trim().split("\n").slice(-30).join("\n")}`,
    );
  return stdoutOnly ? r.stdout : output;
}

const pkg = json("package.json");
const deno = json("deno.json");
step(
  `versions: package.json ${pkg.version}, deno.json ${deno.version}${values.tag ? `, tag ${values.tag}` : ""}`,
  () => {
    if (pkg.version !== deno.version) return "package.json and deno.json give different versions";
    if (values.tag !== undefined && values.tag !== `v${pkg.version}`) return `the tag must be v${pkg.version}`;
  },
);

// A version that cannot be released makes the rest moot.
if (failed) {
  process.stdout.write("release dry run: stopped at the version check\n");
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "unisock-release-"));
let tarball;
step("npm pack: no private key, no test but the conformance suite", () => {
  const out = run("npm", ["pack", "--json", "--pack-destination", dir, "--loglevel=error"], true);
  const [info] = JSON.parse(out);
  tarball = join(dir, info.filename);
  const bad = info.files
    .map((f) => f.path)
    .filter(
      (p) => /\.(pem|key|crt|p12)$/.test(p) || (p.startsWith("test/") && !/^test\/(conformance|helpers)\//.test(p)),
    );
  if (bad.length) return `must not ship:\n${bad.join("\n")}`;
});
if (tarball) {
  step("publint --strict", () => void run("publint", ["run", tarball, "--strict"]));
  step("attw (default profile)", () => void run("attw", [tarball]));
}
step("deno doc --lint: every JSR entry", () => {
  const out = run("deno", ["doc", "--lint", ...Object.values(deno.exports)]);
  if (/error\[/.test(out)) return out;
});
step("API reference (typedoc): no warning", () => void run("typedoc", ["--logLevel", "Warn"]));
step("deno publish --dry-run", () => {
  const out = run("deno", ["publish", "--dry-run", "--allow-dirty"]);
  if (/^warning/m.test(out)) return out;
  const files = [...out.matchAll(/file:\/\/(\S+) \(/g)].map((m) => m[1].slice(root.length + 1));
  const extra = files.filter((f) => !/^(src\/.*\.ts|README\.md|LICENSE|CHANGELOG\.md|deno\.json)$/.test(f));
  if (extra.length) return `not for users:\n${extra.join("\n")}`;
});

if (tarball && values.out) renameSync(tarball, join(resolve(values.out), tarball.slice(dir.length + 1)));
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  failed
    ? `release dry run: ${failed} step(s) failed\n`
    : "release dry run: every check passed; nothing was published\n",
);
process.exit(failed ? 1 : 0);
