import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findTool, installHint, needTool, PACKAGE_OF } from "../helpers/tools.ts";
import { removeTempDirs, root, tempDir } from "./_cli.ts";

/*
 * Outside programs: a test that needs a missing one is skipped with the install command, or fails
 * under UNISOCK_REQUIRE_TOOLS=1; `.ci/run` installs them all and stops if one is still missing.
 */
afterAll(removeTempDirs);

/** A skip context that records the note instead of skipping. */
const recorder = () => {
  const notes: string[] = [];
  return {
    notes,
    ctx: {
      skip(note?: string): never {
        notes.push(note ?? "");
        throw new Error("skipped");
      },
    },
  };
};

function withEnv<T>(env: Record<string, string | undefined>, f: () => T): T {
  const old = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const set = (vars: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(env);
  try {
    return f();
  } finally {
    set(old);
  }
}

describe("needTool", () => {
  it("skips with the program and its install command when it is missing", () => {
    const { notes, ctx } = recorder();
    withEnv({ UNISOCK_REQUIRE_TOOLS: undefined }, () => {
      expect(() => needTool(ctx, "no-such-program-unisock")).toThrow("skipped");
    });
    expect(notes).toEqual([
      "needs no-such-program-unisock (apt-get update && apt-get install -y no-such-program-unisock)",
    ]);
    expect(installHint("nc")).toBe("apt-get update && apt-get install -y netcat-openbsd");
  });

  it("fails instead under UNISOCK_REQUIRE_TOOLS=1", () => {
    const { notes, ctx } = recorder();
    withEnv({ UNISOCK_REQUIRE_TOOLS: "1" }, () => {
      expect(() => needTool(ctx, "no-such-program-unisock")).toThrow(
        "needs no-such-program-unisock (apt-get update && apt-get install -y no-such-program-unisock); UNISOCK_REQUIRE_TOOLS=1 makes this a failure",
      );
    });
    expect(notes).toEqual([]);
  });

  it("returns the program's path when it is there", () => {
    const { ctx } = recorder();
    expect(needTool(ctx, "sh")).toBe(findTool("sh"));
    expect(existsSync(needTool(ctx, "sh"))).toBe(true);
  });
});

describe(".ci/run", () => {
  const script = readFileSync(join(root, ".ci", "run"), "utf8");

  it("installs every program the tests ask for, and makes a missing one a failure", () => {
    const listed = /^TOOLS=\((.*)\)$/m.exec(script)?.[1]?.split(" ") ?? [];
    expect(listed.map((t) => t.split(":")[0]).sort()).toEqual(Object.keys(PACKAGE_OF).sort());
    for (const t of listed) expect(PACKAGE_OF[t.split(":")[0]!]).toBe(t.split(":")[1]);
    expect(script).toMatch(/^export UNISOCK_REQUIRE_TOOLS=1$/m);
    expect(script).toMatch(/^npm ci /m);
    expect(script).not.toMatch(/npm install/);
  });

  it("stops before npm ci when a program is still missing after apt-get", { timeout: 60_000 }, () => {
    // A PATH with every program of this machine but socat, and an apt-get that installs nothing.
    const bin = tempDir();
    const seen = new Set<string>();
    for (const dir of ["/usr/local/bin", "/usr/bin", "/bin"]) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (name === "socat" || name === "apt-get" || name === "sudo" || seen.has(name)) continue;
        seen.add(name);
        symlinkSync(join(dir, name), join(bin, name));
      }
    }
    const log = join(bin, "apt-get.log");
    writeFileSync(join(bin, "apt-get"), `#!/bin/sh\necho "$*" >> ${log}\nexit 0\n`);
    chmodSync(join(bin, "apt-get"), 0o755);
    writeFileSync(join(bin, "sudo"), `#!/bin/sh\nexec "$@"\n`);
    chmodSync(join(bin, "sudo"), 0o755);

    const r = spawnSync("/bin/bash", [join(root, ".ci", "run")], {
      env: { PATH: bin, HOME: bin },
      encoding: "utf8",
      timeout: 50_000,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain("missing after install: socat (apt-get install -y socat)");
    expect(readFileSync(log, "utf8")).toMatch(/^install -y -qq (.* )?socat( |$)/m);
    expect(r.stdout).not.toContain("== npm ci");
  });
});
