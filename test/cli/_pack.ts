/*
 * `npm pack` builds dist/ first (prepack, tsup with clean), so two packs at once, from test files
 * running in parallel or from runtimes run with --parallel, would delete each other's build. Every
 * test that packs or builds the repository's dist/ does it under this lock, a directory beside the
 * system's temporary files (mkdir is atomic). Waiting is bounded; a lock older than the longest
 * build is taken over.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./_cli.ts";

const LOCK = join(tmpdir(), `unisock-pack-${createHash("sha256").update(root).digest("hex").slice(0, 12)}.lock`);
const STALE_MS = 10 * 60_000;
const WAIT_MS = 15 * 60_000;

function tryLock(): boolean {
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > STALE_MS) rmSync(LOCK, { recursive: true, force: true });
    } catch {
      // Released meanwhile: try again.
    }
    return false;
  }
}

/** Runs `fn` while no other test builds or packs this repository. */
export async function underPackLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  while (!tryLock()) {
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS / 60_000} min for ${LOCK}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, killed after `timeoutMs`, with its output. */
export function runBounded(
  command: string,
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, env: o.env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
