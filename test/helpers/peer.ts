import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/**
 * A real Node binary, usable from tests in every runtime: the one running the suite when that is
 * Node, else `node_modules/.bin/node` in the nearest project above this file or the working
 * directory (the project's devDependency, or the user's when the suite runs from an installed
 * package), else `node` on PATH.
 */
function findNode(): string {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (!g.Deno && !g.Bun) return process.execPath;
  for (let dir of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (;;) {
      const candidate = join(dir, "node_modules", ".bin", "node");
      if (existsSync(candidate)) return candidate;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return execFileSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).trim();
}

export const nodeBinary: string = findNode();

/** Starts test/helpers/peer.mjs in `mode` (with `args`) under real Node; resolves with the port it printed. */
export function startNodePeer(mode: string, ...args: string[]): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(nodeBinary, [fileURLToPath(new URL("./peer.mjs", import.meta.url)), mode, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve({ port: Number(line), child });
    });
    child.once("exit", (code) => reject(new Error(`peer exited with ${code} before listening`)));
    child.once("error", reject);
  });
}
