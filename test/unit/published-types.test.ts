import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBinary } from "../helpers/peer.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
let out: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "unisock-dts-"));
  execFileSync(nodeBinary, [join(root, "node_modules/tsup/dist/cli-default.js"), "--out-dir", out], {
    cwd: root,
    stdio: "pipe",
  });
}, 120_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("published package", () => {
  it("builds ESM, CJS and .d.ts for every adapter and for framing", () => {
    const files = readdirSync(out);
    for (const rt of ["node", "deno", "bun", "workerd", "framing"]) {
      for (const ext of [".js", ".cjs", ".d.ts", ".d.cts"]) expect(files, rt + ext).toContain(rt + ext);
    }
  });

  it("the .d.ts files never mention the Bun, Deno or Workers globals, so Node projects need none of their type packages", () => {
    const dts = readdirSync(out).filter((f) => f.endsWith(".d.ts") || f.endsWith(".d.cts"));
    for (const file of dts) {
      // Doc comments may name Deno.connect or Bun.listen; the declarations must not.
      const text = readFileSync(join(out, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
      expect(text, file).not.toMatch(
        /\bDeno\.|\bBun\.|@types\/(bun|deno)|reference types="(bun|deno)"|cloudflare:|@cloudflare\/workers-types/,
      );
    }
  });

  it("a Node-only project type-checks against the published types with only @types/node", () => {
    writeFileSync(join(out, "package.json"), '{ "type": "module" }');
    writeFileSync(
      join(out, "use.ts"),
      `import { connect, listen, bind, SocketError, capabilities, runtime, type Socket } from "./node.js";\n` +
        `const s: Socket = connect("127.0.0.1:80");\nvoid listen; void bind; void SocketError; void capabilities; void runtime; void s;\n`,
    );
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const args = [
      tsc,
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--target",
      "es2022",
      "--lib",
      "esnext",
      "--types",
      "node",
      "--typeRoots",
      join(root, "node_modules/@types"),
      join(out, "use.ts"),
    ];
    let output = "";
    try {
      execFileSync(nodeBinary, args, { cwd: out, stdio: "pipe" });
    } catch (e) {
      output = String((e as { stdout: Uint8Array }).stdout);
    }
    expect(output).toBe("");
  }, 60_000);

  it("a project with lib ES2022 and DOM, without @types/node, type-checks against every entry, ESM and CJS", () => {
    // AsyncDisposable is not in ES2022: the .d.ts files bring esnext.disposable themselves.
    for (const file of readdirSync(out).filter((f) => /\.d\.c?ts$/.test(f))) {
      expect(readFileSync(join(out, file), "utf8"), file).toMatch(/^\/\/\/ <reference lib="esnext.disposable" \/>/);
    }
    const uses = (from: string): string =>
      `import { bind, capabilities, connect, LineReader, listen, runtime, SocketError, type DatagramSocket, type Listener, type Socket } from "${from}";\n` +
      `export async function use(): Promise<void> {\n  await using s: Socket = connect("127.0.0.1:80");\n  await using l: Listener = await listen({ port: 0 });\n` +
      `  await using d: DatagramSocket = await bind();\n  void new LineReader(s); void l; void d; void SocketError; void capabilities.udp; void runtime;\n}\n`;
    writeFileSync(join(out, "package.json"), '{ "type": "module" }');
    const files: string[] = [];
    for (const rt of ["node", "deno", "bun", "workerd"]) {
      writeFileSync(join(out, `dom-${rt}.ts`), uses(`./${rt}.js`));
      writeFileSync(join(out, `dom-${rt}.cts`), uses(`./${rt}.cjs`));
      files.push(`dom-${rt}.ts`, `dom-${rt}.cts`);
    }
    writeFileSync(
      join(out, "tsconfig.dom.json"),
      JSON.stringify({
        compilerOptions: {
          noEmit: true,
          strict: true,
          module: "nodenext",
          target: "es2022",
          lib: ["ES2022", "DOM"],
          types: [],
        },
        files,
      }),
    );
    let output = "";
    try {
      execFileSync(nodeBinary, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(out, "tsconfig.dom.json")], {
        cwd: out,
        stdio: "pipe",
      });
    } catch (e) {
      output = String((e as { stdout: Uint8Array }).stdout);
    }
    expect(output).toBe("");
  }, 60_000);
});
