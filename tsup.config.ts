import { defineConfig } from "tsup";

export default defineConfig({
  entry: { node: "src/node.ts", deno: "src/deno.ts", bun: "src/bun.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  target: "es2022",
  platform: "node",
  splitting: true,
});
