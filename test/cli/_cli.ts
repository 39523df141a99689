/*
 * Running the unisock CLI from the CLI tests. The tests themselves run in Node, Deno and Bun;
 * the CLI is a Node program, so it is always started with a Node binary.
 */
import { spawn } from "node:child_process";
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
export const runtime: "node" | "deno" | "bun" = g.Deno ? "deno" : g.Bun ? "bun" : "node";

export const root: string = fileURLToPath(new URL("../..", import.meta.url));
export const cliPath: string = join(root, "bin", "unisock.mjs");
export const sampleSuite: string = join(root, "test", "fixtures", "sample-suite");

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** A Node binary: this process's own under Node, else the project's, else the first on PATH. */
export const nodeBinary: string =
  runtime === "node"
    ? process.execPath
    : ([
        join(root, "node_modules", ".bin", "node"),
        ...(process.env.PATH ?? "").split(delimiter).map((d) => join(d, "node")),
      ].find(executable) ?? "node");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `unisock ...args` to completion. */
export function cli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary, [cliPath, ...args], {
      cwd: opts.cwd ?? root,
      env: { ...process.env, CI: "true", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const made: string[] = [];

/** A new temporary directory, removed by `removeTempDirs` (call it in `afterAll`). */
export function tempDir(prefix = "unisock-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fake runtime binary: a shell script that prints `versionOutput` for `--version`. */
export function fakeBinary(dir: string, name: string, versionOutput: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho '${versionOutput}'\n`);
  chmodSync(file, 0o755);
  return file;
}

/**
 * The final line CI reads, "N passed, N failed, N skipped", and the unsupported count of the
 * line above it (0 when there is no such line).
 */
export function finalCounts(
  stdout: string,
): { passed: number; failed: number; skipped: number; unsupported: number } | undefined {
  const lines = stdout.trimEnd().split("\n");
  const m = /^(\d+) passed, (\d+) failed, (\d+) skipped$/.exec(lines.at(-1) ?? "");
  const u = /^(\d+) unsupported \(/.exec(lines.at(-2) ?? "");
  return m
    ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]), unsupported: u ? Number(u[1]) : 0 }
    : undefined;
}
