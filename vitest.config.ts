import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";

/*
 * One suite, three runtimes. vitest resolves imports with Node's conditions even inside Deno and
 * Bun, so `unisock` is pointed at the adapter of the runtime that runs this config, and the
 * suite's first test checks that it really is that runtime's adapter.
 * In the repository that is the sources; in an installed package (`npx unisock matrix`), the
 * built files in dist/ that users import.
 * The workerd column (`UNISOCK_RUNTIME=workerd`, set by `unisock matrix --runtime workerd`) runs
 * test/workerd instead, under Node: each of its tests runs its client inside a local workerd.
 */
const g = globalThis as { Deno?: unknown; Bun?: unknown };
const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const installed = /[\\/]node_modules[\\/]/.test(fileURLToPath(import.meta.url));
const workerd = process.env.UNISOCK_RUNTIME === "workerd";
const entry = (rt: string): string =>
  fileURLToPath(new URL(installed ? `./dist/${rt}.js` : `./src/${rt}.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^unisock$/, replacement: entry(runtime) },
      { find: /^unisock\/(node|deno|bun)$/, replacement: entry("$1") },
    ],
    conditions: [runtime],
  },
  ssr: { resolve: { conditions: [runtime] } },
  test: {
    include: workerd ? ["test/workerd/**/*.test.ts"] : ["test/**/*.test.ts"],
    exclude: workerd ? configDefaults.exclude : [...configDefaults.exclude, "test/workerd/**"],
    pool: runtime === "bun" ? "threads" : "forks",
    maxWorkers: 2,
    // Bun's pool is threads in one process (its forks pool fails, see bin/lib/runtimes.mjs), so files
    // running side by side share one descriptor table, and the tests that count descriptors
    // (tls-handshake, the reliability probes' attackers) would count another file's sockets: one
    // file at a time there (measured: a 200-cycle count of 2 became 671 beside the hostile-peer file).
    fileParallelism: runtime !== "bun",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
