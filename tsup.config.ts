import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    node: "src/node.ts",
    deno: "src/deno.ts",
    bun: "src/bun.ts",
    workerd: "src/workerd.ts",
    framing: "src/framing.ts",
  },
  format: ["esm", "cjs"],
  // The .d.ts names AsyncDisposable (Socket, Listener, DatagramSocket): a consumer whose `lib` lacks
  // esnext.disposable (TypeScript >= 5.2) still type-checks, without @types/node.
  dts: { banner: '/// <reference lib="esnext.disposable" />' },
  clean: true,
  target: "es2022",
  platform: "node",
  // Keep `node:net`, not `net`: Deno and Bun resolve the prefixed names, and readers expect them.
  removeNodeProtocol: false,
  splitting: true,
  // The maps point at src/, which the package ships, instead of carrying a second copy of it.
  sourcemap: true,
  esbuildOptions(options) {
    options.sourcesContent = false;
  },
});
