/*
 * unisock as its users get it. The npm tarball is installed into a fresh project and an echo runs
 * through it on the runtime running this file (ESM and CJS on Node; `npm:` and node_modules on
 * Deno; Bun); the files `deno publish` would upload are copied out and their `"."` entry (JSR has
 * no export conditions) must pick this runtime's adapter; and on Node, a TypeScript project with
 * lib ES2022 and no Node types type-checks against the installed package. The `unisock/framing`
 * entry is loaded the same ways and must hand out the very objects the main entry exports.
 * Every child process is bounded in time; only loopback is used.
 */
import { copyFileSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeBinary, removeTempDirs, root, runtime, tempDir } from "../cli/_cli.ts";
import { type Ran, runBounded, underPackLock } from "../cli/_pack.ts";

const stable = runtime === "deno" && process.env.UNISOCK_DENO_NET === "stable";
const bin = (name: string): string => join(root, "node_modules", ".bin", name);
const env = {
  ...process.env,
  CI: "true",
  NO_COLOR: "1",
  PATH: `${dirname(nodeBinary)}${delimiter}${process.env.PATH ?? ""}`,
};
const CHILD_TIMEOUT_MS = 120_000;

const run = (command: string, args: string[], cwd: string): Promise<Ran> =>
  runBounded(command, args, { cwd, env, timeoutMs: CHILD_TIMEOUT_MS });

/** The echo every consumer runs: a listener, a client, 4 bytes there and back; prints `{ runtime, text }`. */
const ECHO_BODY = `
const l = await listen({ hostname: "127.0.0.1", port: 0 });
const served = l.accept().then((c) => c.readable.pipeTo(c.writable));
const s = connect({ hostname: "127.0.0.1", port: l.addr.port });
await s.opened;
await s.write("ping");
const buf = new Uint8Array(4);
let got = 0;
while (got < 4) {
  const n = await s.read(buf.subarray(got));
  if (n === null) break;
  got += n;
}
await s.close();
await served.catch(() => {});
await l.close();
console.log(JSON.stringify({ runtime, text: new TextDecoder().decode(buf.subarray(0, got)), socketError: typeof SocketError, from }));
`;
const esm = (specifier: string): string =>
  `import { connect, listen, runtime, SocketError } from ${JSON.stringify(specifier)};\nconst from = import.meta.resolve(${JSON.stringify(specifier)});\n${ECHO_BODY}`;
const cjs = `const { connect, listen, runtime, SocketError } = require("unisock");\nconst from = require.resolve("unisock");\n(async () => {${ECHO_BODY}})().catch((e) => { console.error(e); process.exit(1); });\n`;

/** The echo ran on `rt`'s adapter, loaded from `file` (a path under the consumer's directory). */
function expectEcho(r: Ran, rt: string, file: string): void {
  expect(r.code, r.stderr).toBe(0);
  const last = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
  expect({ ...last, from: undefined }).toEqual({ runtime: rt, text: "ping", socketError: "function", from: undefined });
  expect(String(last.from).replace(/^file:\/\//, "")).toBe(file);
}

/**
 * What every consumer of `unisock/framing` runs: two frames through a decoder stream, an EMSGSIZE,
 * and whether its exports are the main entry's own objects; prints `{ got, code, same, from }`.
 */
const FRAMING_BODY = `
const frames = new ReadableStream({
  start(c) {
    c.enqueue(framing.encodeFrame("ab"));
    c.enqueue(framing.encodeFrame("cd"));
    c.close();
  },
}).pipeThrough(new framing.LengthPrefixDecoderStream());
const got = [];
for await (const f of frames) got.push(new TextDecoder().decode(f));
let code = "none";
try {
  framing.encodeFrame(new Uint8Array(300), { headerBytes: 1 });
} catch (e) {
  code = e instanceof framing.SocketError && e instanceof main.SocketError ? e.code : String(e);
}
const same = framing.LineReader === main.LineReader && framing.SocketError === main.SocketError && framing.writeFrame === main.writeFrame;
console.log(JSON.stringify({ got, code, same, from }));
`;
const framingEsm = (framingSpecifier: string, mainSpecifier: string): string =>
  `import * as framing from ${JSON.stringify(framingSpecifier)};\nimport * as main from ${JSON.stringify(mainSpecifier)};\n` +
  `const from = import.meta.resolve(${JSON.stringify(framingSpecifier)});\n${FRAMING_BODY}`;
const framingCjs =
  `const framing = require("unisock/framing");\nconst main = require("unisock");\nconst from = require.resolve("unisock/framing");\n` +
  `(async () => {${FRAMING_BODY}})().catch((e) => { console.error(e); process.exit(1); });\n`;

/** The framing consumer ran, with `unisock/framing` loaded from `file`. */
function expectFraming(r: Ran, file: string): void {
  expect(r.code, r.stderr).toBe(0);
  const last = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
  expect({ ...last, from: undefined }).toEqual({ got: ["ab", "cd"], code: "EMSGSIZE", same: true, from: undefined });
  expect(String(last.from).replace(/^file:\/\//, "")).toBe(file);
}

/** A module that uses the public types, for the type-checking consumers. */
const USES_TYPES = (from: string): string =>
  `import { connect, listen, bind, capabilities, runtime, SocketError, LineReader, type Socket, type Listener } from "${from}";\n` +
  `export async function use(): Promise<void> {\n  await using s: Socket = connect("127.0.0.1:1");\n  const l: Listener = await listen();\n` +
  `  await l[Symbol.asyncDispose]();\n  void new LineReader(s); void bind; void capabilities.tls; void runtime; void SocketError;\n}\n`;
/** The same for `unisock/framing`, which has no sockets of its own. */
const USES_FRAMING_TYPES = (from: string): string =>
  `import { encodeFrame, LineReader, SocketError, type ByteSource, type LengthPrefixOptions } from "${from}";\n` +
  `export function use(s: ByteSource): Uint8Array {\n  void new LineReader(s); void SocketError;\n` +
  `  const o: LengthPrefixOptions = { headerBytes: 2 };\n  return encodeFrame("x", o);\n}\n`;

const denoArgs = (...rest: string[]): string[] => ["run", "-A", ...(stable ? [] : ["--unstable-net"]), ...rest];
const npmQuiet = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

let project = "";
let jsr = "";

beforeAll(async () => {
  const dir = tempDir("unisock-consumer-");
  const packed = await underPackLock(() =>
    run("npm", ["pack", "--pack-destination", dir, "--json", "--loglevel=error"], root),
  );
  expect(packed.code, packed.stderr).toBe(0);
  project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), '{ "name": "consumer", "private": true, "type": "module" }\n');
  const installed = await run(
    "npm",
    ["install", join(dir, JSON.parse(packed.stdout)[0].filename), ...npmQuiet],
    project,
  );
  expect(installed.code, installed.stderr).toBe(0);
  writeFileSync(join(project, "echo.mjs"), esm("unisock"));
  writeFileSync(join(project, "echo.cjs"), cjs);
  writeFileSync(join(project, "echo-npm.mjs"), esm("npm:unisock"));
  writeFileSync(join(project, "framing.mjs"), framingEsm("unisock/framing", "unisock"));
  writeFileSync(join(project, "framing.cjs"), framingCjs);

  // What JSR would get: exactly the files `deno publish --dry-run` lists.
  const listed = await run(bin("deno"), ["publish", "--dry-run", "--allow-dirty"], root);
  expect(listed.code, listed.stderr).toBe(0);
  const files = [...`${listed.stdout}\n${listed.stderr}`.matchAll(/file:\/\/(\S+) \(/g)].map((m) =>
    relative(root, decodeURIComponent(m[1]!)),
  );
  expect(files).toContain("src/mod.ts");
  jsr = join(dir, "jsr");
  for (const file of files) {
    mkdirSync(dirname(join(jsr, file)), { recursive: true });
    copyFileSync(join(root, file), join(jsr, file));
  }
  writeFileSync(join(jsr, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(jsr, "echo.ts"), esm("./src/mod.ts"));
  writeFileSync(join(jsr, "framing.ts"), framingEsm("./src/framing.ts", "./src/mod.ts"));
}, 300_000);

afterAll(removeTempDirs);

const installedFile = (file: string): string => join(realpathSync(project), "node_modules/unisock", file);

describe(`the installed package on ${stable ? "deno-stable" : runtime}`, () => {
  if (runtime === "node") {
    it('runs an echo from ESM (`import "unisock"`), with Node\'s adapter', { timeout: CHILD_TIMEOUT_MS }, async () => {
      expectEcho(await run(process.execPath, ["echo.mjs"], project), "node", installedFile("dist/node.js"));
    });

    it('runs an echo from CommonJS (`require("unisock")`), with Node\'s adapter', {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      expectEcho(await run(process.execPath, ["echo.cjs"], project), "node", installedFile("dist/node.cjs"));
    });

    it("loads `unisock/framing` from ESM and CommonJS, the main entry's own objects", {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      expectFraming(await run(process.execPath, ["framing.mjs"], project), installedFile("dist/framing.js"));
      expectFraming(await run(process.execPath, ["framing.cjs"], project), installedFile("dist/framing.cjs"));
    });

    it("type-checks in a TypeScript project with lib ES2022 and DOM and no @types/node, under nodenext and node10 resolution", {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      const use = USES_TYPES;
      // One file per entry: nodenext for every entry, node10 (typesVersions) for the subpaths.
      const write = (entries: string[], prefix: string): string[] =>
        entries.map((m, i) => {
          writeFileSync(join(project, `${prefix}${i}.ts`), m === "unisock/framing" ? USES_FRAMING_TYPES(m) : use(m));
          return `${prefix}${i}.ts`;
        });
      const esm = write(["unisock", "unisock/node", "unisock/deno", "unisock/bun", "unisock/framing"], "esm");
      const old = write(["unisock", "unisock/node", "unisock/deno", "unisock/bun", "unisock/framing"], "old");
      const base = { noEmit: true, strict: true, target: "es2022", lib: ["ES2022", "DOM"], types: [] };
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { ...base, module: "nodenext" }, files: esm }),
      );
      writeFileSync(
        join(project, "tsconfig.node10.json"),
        JSON.stringify({
          compilerOptions: { ...base, module: "commonjs", moduleResolution: "node10", ignoreDeprecations: "6.0" },
          files: old,
        }),
      );
      for (const config of ["tsconfig.json", "tsconfig.node10.json"]) {
        const r = await run(nodeBinary, [join(root, "node_modules/typescript/bin/tsc"), "-p", config], project);
        expect(r.stdout + r.stderr, config).toBe("");
        expect(r.code, config).toBe(0);
      }
    });
  }

  if (runtime === "deno") {
    it("runs an echo through an `npm:unisock` specifier, with Deno's adapter", {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      expectEcho(
        await run(process.execPath, denoArgs("--node-modules-dir=manual", "echo-npm.mjs"), project),
        "deno",
        installedFile("dist/deno.js"),
      );
    });

    it('runs an echo through node_modules (`import "unisock"`), with Deno\'s adapter', {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      expectEcho(await run(process.execPath, denoArgs("echo.mjs"), project), "deno", installedFile("dist/deno.js"));
    });

    it("loads `unisock/framing` through node_modules, the main entry's own objects", {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      expectFraming(await run(process.execPath, denoArgs("framing.mjs"), project), installedFile("dist/framing.js"));
    });
  }

  if (runtime === "deno") {
    it("type-checks with `deno check` through `npm:unisock`, lib ES2022 and DOM, no Deno or Node types", {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      writeFileSync(join(project, "check.ts"), USES_TYPES("npm:unisock"));
      writeFileSync(
        join(project, "deno-check.json"),
        JSON.stringify({ compilerOptions: { lib: ["ES2022", "DOM"], strict: true } }),
      );
      const r = await run(
        process.execPath,
        ["check", "--config", "deno-check.json", "--node-modules-dir=manual", "check.ts"],
        project,
      );
      expect(r.code, r.stderr).toBe(0);
    });
  }

  if (runtime === "bun") {
    it('runs an echo (`import "unisock"`), with Bun\'s adapter', { timeout: CHILD_TIMEOUT_MS }, async () => {
      expectEcho(await run(process.execPath, ["echo.mjs"], project), "bun", installedFile("dist/bun.js"));
    });

    it('runs an echo from CommonJS (`require("unisock")`), with Bun\'s adapter', {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      expectEcho(await run(process.execPath, ["echo.cjs"], project), "bun", installedFile("dist/bun.cjs"));
    });

    it("loads `unisock/framing` from ESM and CommonJS, the main entry's own objects", {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      expectFraming(await run(process.execPath, ["framing.mjs"], project), installedFile("dist/framing.js"));
      expectFraming(await run(process.execPath, ["framing.cjs"], project), installedFile("dist/framing.cjs"));
    });

    it("runs an echo bundled by `bun build --target=bun`, which takes Bun's adapter", {
      timeout: CHILD_TIMEOUT_MS,
    }, async () => {
      const built = await run(process.execPath, ["build", "--target=bun", "--outfile=bundle.mjs", "echo.mjs"], project);
      expect(built.code, built.stderr).toBe(0);
      const r = await run(process.execPath, ["bundle.mjs"], project);
      expect(r.code, r.stderr).toBe(0);
      const last = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
      expect([last.runtime, last.text]).toEqual(["bun", "ping"]);
    });
  }

  it(`the JSR files' "." entry (src/mod.ts) picks ${runtime}'s adapter and runs an echo`, {
    timeout: CHILD_TIMEOUT_MS,
  }, async () => {
    const args = runtime === "deno" ? denoArgs("echo.ts") : ["echo.ts"];
    expectEcho(await run(process.execPath, args, jsr), runtime, join(realpathSync(jsr), "src/mod.ts"));
  });

  it("the JSR files' `./framing` entry (src/framing.ts) runs, the `.` entry's own objects", {
    timeout: CHILD_TIMEOUT_MS,
  }, async () => {
    const args = runtime === "deno" ? denoArgs("framing.ts") : ["framing.ts"];
    expectFraming(await run(process.execPath, args, jsr), join(realpathSync(jsr), "src/framing.ts"));
  });
});
