import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { kindOf, parseRuntimeSpecs, resolveRuntimes, vitestCommand } from "../../bin/lib/runtimes.mjs";
import { cli, fakeBinary, removeTempDirs, root, tempDir } from "./_cli.ts";

const dir = tempDir();

afterAll(removeTempDirs);

describe("bad input gets a clear error and exit status 2", () => {
  it("names the runtimes it knows when given an unknown one", async () => {
    const r = await cli(["matrix", "--runtime", "nodejs"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown runtime "nodejs": expected one of node, deno, deno-stable, bun');
    expect(r.stdout).toBe("");
  });

  it("refuses a path that is not an executable", async () => {
    const file = join(dir, "not-executable");
    writeFileSync(file, "just text\n");
    const r = await cli(["matrix", "--runtime", `node=${file}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`node: ${file} is not an executable file`);
    const missing = await cli(["matrix", "--runtime", "bun=/nonexistent/bun"]);
    expect(missing.stderr).toContain("bun: /nonexistent/bun is not an executable file");
  });

  it("says which version is needed when a runtime is too old", async () => {
    const cases = [
      ["node", "v18.19.0", "node 18.19.0, too old: unisock needs Node >= 20"],
      [
        "deno",
        "deno 1.46.3 (stable, release, x86_64-unknown-linux-gnu)",
        "deno 1.46.3, too old: unisock needs Deno >= 2",
      ],
      ["bun", "1.1.38", "bun 1.1.38, too old: unisock needs Bun >= 1.2"],
    ];
    for (const [name, output, message] of cases) {
      const bin = fakeBinary(dir, `old-${name}`, output!);
      const r = await cli(["matrix", "--runtime", `${name}=${bin}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it("refuses a binary that is another runtime", async () => {
    const bin = fakeBinary(dir, "python3", "Python 3.11.2");
    const r = await cli(["matrix", "--runtime", `deno=${bin}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`deno: ${bin} does not look like deno ("${bin} --version" said: Python 3.11.2)`);
  });

  it("rejects unknown options and commands", async () => {
    expect((await cli(["matrix", "--jsn", "x"])).stderr).toMatch(/Unknown option '--jsn'/);
    const r = await cli(["tset"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "tset": expected "matrix" or "test"');
  });

  it("refuses to run without a default runtime, with the install command, unless told to", () => {
    const project = tempDir();
    mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
    fakeBinary(join(project, "node_modules", ".bin"), "node", "v24.1.0");
    const opts = { searchDirs: [project], cwd: project, envPath: "" };
    expect(() => resolveRuntimes([], opts)).toThrow(
      "deno, bun: not installed (no deno or bun in node_modules/.bin or PATH): install them with `npm i -D deno bun` or run only node with --runtime node (or --allow-missing)",
    );
    const notes: string[] = [];
    const runtimes = resolveRuntimes([], { ...opts, allowMissing: true, log: (l: string) => notes.push(l) });
    expect(runtimes.map((r: { label: string }) => r.label)).toEqual(["node 24.1.0"]);
    expect(notes).toEqual([
      "deno: not installed (npm i -D deno), left out: --allow-missing",
      "bun: not installed (npm i -D bun), left out: --allow-missing",
    ]);
    // Asked for by name, a missing runtime is an error whatever --allow-missing says.
    expect(() => resolveRuntimes([{ name: "bun" }], { ...opts, allowMissing: true })).toThrow("npm i -D bun");
  });

  it("asks for vitest when the project has none", async () => {
    const project = tempDir();
    writeFileSync(join(project, "package.json"), '{ "name": "empty", "private": true }\n');
    const r = await cli(["test", "--runtime", "node"], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`vitest is not installed in ${project}: run \`npm i -D vitest\``);
  });
});

describe("runtime entries", () => {
  it("parses repeated and comma-separated --runtime values", () => {
    expect(parseRuntimeSpecs(["node,deno", "node=/opt/node20/bin/node", "deno-stable"])).toEqual([
      { name: "node", path: undefined },
      { name: "deno", path: undefined },
      { name: "node", path: "/opt/node20/bin/node" },
      { name: "deno-stable", path: undefined },
    ]);
  });

  it("takes a column name of its own with a path, run as the runtime its name starts with", async () => {
    expect(parseRuntimeSpecs(["node20=/opt/node20/bin/node", "deno-canary=./deno"])).toEqual([
      { name: "node20", path: "/opt/node20/bin/node" },
      { name: "deno-canary", path: "./deno" },
    ]);
    expect(["node-oldest", "node20", "deno2", "deno-stable-2.0", "bun-canary"].map(kindOf)).toEqual([
      "node",
      "node",
      "deno",
      "deno-stable",
      "bun",
    ]);
    // Without a path a name of its own names nothing; a name no entry starts with is refused either way.
    for (const value of ["node20", "python=/usr/bin/python3", "node,node20=/usr/bin/node"]) {
      const r = await cli(["matrix", "--runtime", value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`unknown runtime "${value.split("=")[0]}"`);
      expect(r.stderr).toContain("node20=/opt/node20/bin/node");
    }
    const old = fakeBinary(dir, "node-20", "v20.19.0");
    const runtimes = resolveRuntimes(parseRuntimeSpecs([`node20=${old}`]), { searchDirs: [], cwd: dir });
    expect(runtimes).toEqual([
      { name: "node20", kind: "node", engine: "node", path: old, version: "20.19.0", label: "node20 20.19.0" },
    ]);
    const opts = { vitest: "/p/node_modules/vitest/vitest.mjs", mode: "matrix", hasDenoConfig: true };
    expect(vitestCommand(runtimes[0]!, opts)).toEqual({ command: old, args: [opts.vitest, "run"] });
    // The version check is the kind's: a Deno column of its own name refuses a Node binary.
    const r = await cli(["matrix", "--runtime", `deno-old=${old}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`deno-old: ${old} does not look like deno`);
  });

  it("runs two Node versions side by side (npm test's node-oldest column), each named with its version", {
    timeout: 120_000,
  }, async () => {
    const oldest = join(root, "node_modules", "node-oldest", "bin", "node");
    // The `node` package's own binary: node_modules/.bin/node may be the alias's (npm links one of the two).
    const newest = join(root, "node_modules", "node", "bin", "node");
    const versionOf = (bin: string) => spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.trim().slice(1);
    const [vOld, vNew] = [versionOf(oldest), versionOf(newest)];
    // package.json's engines names the oldest Node the package supports; node-oldest is that version.
    const engines = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).engines.node;
    expect(`>=${vOld}`.startsWith(engines)).toBe(true);
    expect(vOld).not.toBe(vNew);
    const json = join(tempDir(), "matrix.json");
    const r = await cli([
      "matrix",
      "--runtime",
      `node-oldest=${oldest}`,
      "--runtime",
      `node=${newest}`,
      "--json",
      json,
      "--",
      "test/cli/runtime-flags.test.ts",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\| group +\\| node-oldest ${vOld} \\| node ${vNew} +\\|$`, "m"));
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(report.columns).toEqual([`node-oldest ${vOld}`, `node ${vNew}`]);
    const columns = report.runtimes.map(
      (c: { name: string; kind: string; version: string; counts: { passed: number; failed: number } }) => [
        c.name,
        c.kind,
        c.version,
        c.counts.failed,
        c.counts.passed > 0,
      ],
    );
    expect(columns).toEqual([
      ["node-oldest", "node", vOld, 0, true],
      ["node", "node", vNew, 0, true],
    ]);
  });

  it("labels each column by runtime and version, and two builds of one version apart", () => {
    const a = fakeBinary(dir, "node-a", "v22.12.0");
    const b = fakeBinary(dir, "node-b", "v24.1.0");
    const c = fakeBinary(dir, "node-c", "v24.1.0");
    const runtimes = resolveRuntimes(parseRuntimeSpecs([`node=${a}`, `node=${b}`, `node=${c}`]), {
      searchDirs: [],
      cwd: dir,
    });
    expect(runtimes.map((r: { label: string }) => r.label)).toEqual(["node 22.12.0", "node 24.1.0", "node 24.1.0 #2"]);
  });

  it("finds the project's own runtimes in node_modules/.bin before PATH", () => {
    const [node] = resolveRuntimes([{ name: "node" }], { searchDirs: [root], cwd: root });
    expect(node.path).toBe(join(root, "node_modules", ".bin", "node"));
  });

  it("runs Bun with --bun and the threads pool, and Deno stable without deno.json", () => {
    const vitest = "/p/node_modules/vitest/vitest.mjs";
    const opts = { vitest, mode: "matrix", hasDenoConfig: true };
    expect(vitestCommand({ name: "bun", path: "bun" }, opts).args).toEqual(["--bun", vitest, "run", "--pool=threads"]);
    expect(vitestCommand({ name: "node", path: "node" }, opts).args).toEqual([vitest, "run"]);
    expect(vitestCommand({ name: "deno", path: "deno" }, opts).args).toEqual(["run", "-A", vitest, "run"]);
    const stable = vitestCommand({ name: "deno-stable", path: "deno" }, opts).args;
    expect(stable.slice(0, 6)).toEqual(["run", "-A", "--no-config", "--node-modules-dir=manual", vitest, "run"]);
    expect(stable).toContain("--execArgv=--no-config");
    expect(stable.join(" ")).not.toContain("unstable-net");
  });

  it("package.json's test:deno-stable is the command the matrix gives the deno-stable column", () => {
    // The flags are written twice (an npm script cannot import them): this keeps the two the same.
    const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
    const opts = { vitest: "node_modules/vitest/vitest.mjs", mode: "matrix", hasDenoConfig: true };
    const { args, env } = vitestCommand({ name: "deno-stable", path: "deno" }, opts);
    expect(scripts["test:deno-stable"]).toBe(`UNISOCK_DENO_NET=${env.UNISOCK_DENO_NET} deno ${args.join(" ")}`);
  });

  it("workerd: its version is its date, vitest runs under Node with the binary named, and only `matrix` runs it", async () => {
    const opts = { vitest: "/p/node_modules/vitest/vitest.mjs", mode: "matrix", hasDenoConfig: true };
    const cmd = vitestCommand({ name: "workerd", path: "/x/workerd" }, opts);
    expect(cmd).toEqual({
      command: process.execPath,
      args: [opts.vitest, "run"],
      env: { UNISOCK_WORKERD: "/x/workerd" },
    });
    const current = fakeBinary(dir, "workerd-2026", "workerd 2026-11-17");
    expect(resolveRuntimes(parseRuntimeSpecs([`workerd=${current}`]), { searchDirs: [], cwd: dir })[0]?.label).toBe(
      "workerd 2026.11.17",
    );
    const old = await cli(["matrix", "--runtime", `workerd=${fakeBinary(dir, "workerd-old", "workerd 2024-01-02")}`]);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain("workerd 2024.1.2, too old: unisock needs workerd >= 2025-01-01");
    const test = await cli(["test", "--runtime", `workerd=${current}`]);
    expect(test.code).toBe(2);
    expect(test.stderr).toContain("workerd: only `unisock matrix` can run in it");
  });
});
