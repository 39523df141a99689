import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/*
 * One suite, three runtimes. vitest resolves imports with Node's conditions even inside Deno and
 * Bun, so `unisock` is pointed at the adapter of the runtime that runs this config, and the
 * suite's first test checks that it really is that runtime's adapter.
 */
const g = globalThis as { Deno?: unknown; Bun?: unknown };
const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const src = (file: string): string => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^unisock$/, replacement: src(`${runtime}.ts`) },
      { find: /^unisock\/(node|deno|bun)$/, replacement: src("$1.ts") },
    ],
    conditions: [runtime],
  },
  ssr: { resolve: { conditions: [runtime] } },
  test: {
    include: ["test/**/*.test.ts"],
    pool: runtime === "bun" ? "threads" : "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
