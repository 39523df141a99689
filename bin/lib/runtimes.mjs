// @ts-check
/*
 * Which runtimes to run, where their binaries are, and how each one starts vitest.
 *
 * The traps of running vitest in three runtimes:
 * - Bun needs `--bun`, or vitest silently runs on Node; its forks pool fails (oven-sh/bun#33593),
 *   so it always gets `--pool=threads`.
 * - Deno's forks-pool workers are new `deno run` processes: they read deno.json from the working
 *   directory and ignore the parent's flags. Deno's threads pool is no way out (every worker's
 *   teardown throws "Not implemented: parentPort.removeAllListeners"). But when a fork's execArgv
 *   starts with "run", Deno takes it as the child's own command line, so the workers get exactly
 *   the flags we name: the ones Deno gives them by default, plus `--no-config` ("deno-stable":
 *   no `--unstable-net` from deno.json) or `--unstable-net` (a project without deno.json).
 *   A config-less Deno needs `--node-modules-dir=manual` to resolve vitest's own imports.
 */
import { accessSync, constants, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/**
 * @typedef {"node" | "deno" | "deno-stable" | "bun" | "workerd"} RuntimeName  an entry of RUNTIMES
 * @typedef {{
 *   engine: string, bin: string, min: number[], need: string, parse: (out: string) => string | undefined,
 *   tests?: string,
 * }} RuntimeEntry  tests: the folder of its own tests, when it cannot run the suite itself
 * @typedef {{ name: string, path?: string }} RuntimeSpec
 *   a --runtime value. name: an entry of RUNTIMES, or with a path any column name that starts with
 *   one (`node20=/opt/node20/bin/node`, `deno-canary=...`), to compare several builds of a runtime
 * @typedef {{
 *   name: string, kind: RuntimeName, engine: string, path: string, version: string, label: string,
 * }} Runtime  a column: its name, the entry it runs as (kind), and "name version" as its label
 */

/** An error the user caused: printed without a stack, exit status 2. */
export class UsageError extends Error {}

/**
 * @param {RegExp} re
 * @returns {(out: string) => string | undefined}
 */
const versionOf = (re) => (out) => re.exec(out.trim())?.[1];

/**
 * Runtime entries the CLI accepts. `engine` is the binary's own kind.
 * @type {Record<RuntimeName, RuntimeEntry>}
 */
export const RUNTIMES = {
  node: { engine: "node", bin: "node", min: [20, 0, 0], need: "Node >= 20", parse: versionOf(/^v(\d+\.\d+\.\d+)/) },
  deno: { engine: "deno", bin: "deno", min: [2, 0, 0], need: "Deno >= 2", parse: versionOf(/^deno (\d+\.\d+\.\d+)/) },
  "deno-stable": {
    engine: "deno",
    bin: "deno",
    min: [2, 0, 0],
    need: "Deno >= 2",
    parse: versionOf(/^deno (\d+\.\d+\.\d+)/),
  },
  bun: { engine: "bun", bin: "bun", min: [1, 2, 0], need: "Bun >= 1.2", parse: versionOf(/^(\d+\.\d+\.\d+)/) },
  // Cloudflare Workers' runtime ("workerd 2026-11-17"): vitest runs under Node and each test of
  // test/workerd runs its client inside a local workerd (test/workerd/harness.ts). Only on request.
  workerd: {
    engine: "workerd",
    bin: "workerd",
    min: [2025, 1, 1],
    need: "workerd >= 2025-01-01",
    parse: (out) => /^workerd (\d{4})-(\d\d)-(\d\d)/.exec(out.trim())?.slice(1).map(Number).join("."),
    tests: "test/workerd",
  },
};

/**
 * What `unisock matrix` runs when no --runtime is given (deno-stable only on request).
 * @type {RuntimeName[]}
 */
export const DEFAULT_RUNTIMES = ["node", "deno", "bun"];

/**
 * @param {string} name
 * @returns {name is RuntimeName}
 */
const isRuntimeName = (name) => Object.hasOwn(RUNTIMES, name);

/** @param {string} name */
const unknownRuntime = (name) =>
  new UsageError(
    `unknown runtime "${name}": expected one of ${Object.keys(RUNTIMES).join(", ")} (optionally NAME=/path/to/binary, ` +
      "where NAME may also be a column name that starts with one of them: node20=/opt/node20/bin/node)",
  );

/**
 * The entry a column runs as: its name, or the longest entry its name starts with
 * (`node20` and `node-oldest` run as node, `deno-stable-2.0` as deno-stable). A name of one's own
 * is letters, digits and `._@-`, so `node,node20=...` (a list with a path) is refused, not a name.
 * @param {string} name
 * @returns {RuntimeName}
 */
export function kindOf(name) {
  if (isRuntimeName(name)) return name;
  if (!/^[\w.@-]+$/.test(name)) throw unknownRuntime(name);
  const kinds = /** @type {RuntimeName[]} */ (Object.keys(RUNTIMES)).filter((k) => name.startsWith(k));
  const kind = kinds.sort((a, b) => b.length - a.length)[0];
  if (!kind) throw unknownRuntime(name);
  return kind;
}

/**
 * Parse `--runtime` values: `node`, `node=/path/to/node`, `node20=/path/to/node` (a column name of
 * one's own, see kindOf), or a comma list `node,deno,bun` (a value with a path is one runtime).
 * @param {string[]} values
 * @returns {RuntimeSpec[]}
 */
export function parseRuntimeSpecs(values) {
  /** @type {RuntimeSpec[]} */
  const specs = [];
  for (const value of values) {
    const parts = value.includes("=") ? [value] : value.split(",");
    for (const part of parts) {
      const eq = part.indexOf("=");
      const name = (eq === -1 ? part : part.slice(0, eq)).trim();
      const path = eq === -1 ? undefined : part.slice(eq + 1).trim();
      // A name of one's own (node20) needs a path: without one there is nothing to run.
      if (path === undefined && !isRuntimeName(name)) throw unknownRuntime(name);
      kindOf(name); // throws for a name no entry starts with
      if (path === "") throw new UsageError(`--runtime ${name}=: the path is empty`);
      specs.push({ name, path });
    }
  }
  return specs;
}

/** @param {string} path */
function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * First `bin` in `<dir>/node_modules/.bin` for each dir, then on PATH.
 * @param {string} bin
 * @param {string[]} dirs
 * @returns {string | undefined}
 */
export function findBinary(bin, dirs, envPath = process.env.PATH ?? "") {
  const candidates = [
    ...dirs.map((d) => join(d, "node_modules", ".bin", bin)),
    ...envPath
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, bin)),
  ];
  return candidates.find(isExecutableFile);
}

/**
 * @param {number[]} a
 * @param {number[]} b
 */
const compare = (a, b) => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

/**
 * Ask the binary its version and check it is the runtime it claims to be, and new enough.
 * @param {string} name  the column's name (see kindOf)
 * @param {string} path
 * @returns {string}
 */
export function probeVersion(name, path) {
  const rt = RUNTIMES[kindOf(name)];
  const r = spawnSync(path, ["--version"], {
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (r.error)
    throw new UsageError(
      `${name}: cannot run ${path} (${/** @type {NodeJS.ErrnoException} */ (r.error).code ?? r.error.message})`,
    );
  const out = `${r.stdout ?? ""}`.trim();
  const version = rt.parse(out);
  if (!version) {
    const said = out.split("\n")[0] || `${r.stderr ?? ""}`.trim().split("\n")[0] || `exit status ${r.status}`;
    throw new UsageError(`${name}: ${path} does not look like ${rt.engine} ("${path} --version" said: ${said})`);
  }
  if (compare(version.split(".").map(Number), rt.min) < 0) {
    throw new UsageError(`${name}: ${path} is ${rt.engine} ${version}, too old: unisock needs ${rt.need}`);
  }
  return version;
}

/**
 * Turn specs into runtimes with a binary, a version and a column label.
 * @param {RuntimeSpec[]} specs  empty: the defaults that are installed
 * @param {{ searchDirs: string[], cwd: string, allowMissing?: boolean, envPath?: string, log?: (line: string) => void }} opts
 *   A default runtime that is not installed is an error (a CI job must not pass on Node alone)
 *   unless `allowMissing`; then it is left out with a note.
 * @returns {Runtime[]}
 */
export function resolveRuntimes(
  specs,
  { searchDirs, cwd, allowMissing = false, envPath = process.env.PATH ?? "", log = () => {} },
) {
  const explicit = specs.length > 0;
  /** @type {RuntimeSpec[]} */
  const wanted = explicit ? specs : DEFAULT_RUNTIMES.map((name) => ({ name }));
  /** @type {Runtime[]} */
  const runtimes = [];
  /** @type {RuntimeName[]} */
  const missing = [];
  for (const spec of wanted) {
    const kind = kindOf(spec.name);
    const rt = RUNTIMES[kind];
    /** @type {string | undefined} */
    let path;
    if (spec.path !== undefined) {
      path = isAbsolute(spec.path) || spec.path.includes("/") ? resolve(cwd, spec.path) : findBinary(spec.path, []);
      if (!path || !isExecutableFile(path)) {
        throw new UsageError(`${spec.name}: ${spec.path} is not an executable file`);
      }
    } else {
      path = findBinary(rt.bin, searchDirs, envPath);
      if (!path) {
        const where = `node_modules/.bin or PATH`;
        if (explicit) {
          throw new UsageError(
            `${spec.name}: no "${rt.bin}" in ${where}: install it (npm i -D ${rt.bin}) or name it with --runtime ${spec.name}=/path/to/${rt.bin}`,
          );
        }
        missing.push(kind);
        continue;
      }
    }
    const version = probeVersion(spec.name, path);
    runtimes.push({ name: spec.name, kind, engine: rt.engine, path, version, label: `${spec.name} ${version}` });
  }
  if (missing.length && (!allowMissing || runtimes.length === 0)) {
    const have = runtimes.map((r) => r.name);
    const only = have.length
      ? ` or run only ${have.join(" and ")} with --runtime ${have.join(",")} (or --allow-missing)`
      : "";
    throw new UsageError(
      `${missing.join(", ")}: not installed (no ${missing.join(" or ")} in node_modules/.bin or PATH): ` +
        `install ${missing.length > 1 ? "them" : "it"} with \`npm i -D ${[...new Set(missing.map((n) => RUNTIMES[n].bin))].join(" ")}\`${only}`,
    );
  }
  for (const name of missing) log(`${name}: not installed (npm i -D ${RUNTIMES[name].bin}), left out: --allow-missing`);
  // Two columns must never share a label: the second "node 24.1.0" becomes "node 24.1.0 #2".
  /** @type {Map<string, number>} */
  const seen = new Map();
  for (const r of runtimes) {
    const n = (seen.get(r.label) ?? 0) + 1;
    seen.set(r.label, n);
    if (n > 1) r.label = `${r.label} #${n}`;
  }
  return runtimes;
}

/** The flags a forked Deno worker gets by default (Deno 2.9), before ours. */
const DENO_WORKER_FLAGS = [
  "--unstable-bare-node-builtins",
  "--unstable-detect-cjs",
  "--conditions=deno",
  "--conditions=node",
  "--conditions=development",
];

/**
 * vitest options giving Deno's forked workers this exact `deno run` command line.
 * @param {string[]} flags
 */
const denoWorkers = (flags) => ["run", "-A", ...flags, ...DENO_WORKER_FLAGS].map((a) => `--execArgv=${a}`);

/**
 * The command that runs vitest inside a runtime.
 * @param {{ name: string, kind?: RuntimeName, path: string }} runtime  kind: see kindOf
 * @param {{ vitest: string, mode: "matrix" | "test", hasDenoConfig: boolean }} opts
 *   mode "matrix" runs unisock's conformance suite, mode "test" the user's; both give "deno"
 *   `--unstable-net` (the process and its workers) and "deno-stable" none, so that a user's
 *   suite sees the same two Deno variants unisock's matrix does (docs/matrix.md).
 *   hasDenoConfig: the working directory's deno.json already has `"unstable": ["net"]`.
 * @returns {{ command: string, args: string[], env?: Record<string, string> }}
 *   args up to and including `run` and our options; env to add to the environment
 */
export function vitestCommand(runtime, { vitest, hasDenoConfig }) {
  switch (runtime.kind ?? kindOf(runtime.name)) {
    case "node":
      return { command: runtime.path, args: [vitest, "run"] };
    case "deno": {
      // unisock's own tree has a deno.json with `"unstable": ["net"]`, which the workers read.
      if (hasDenoConfig) return { command: runtime.path, args: ["run", "-A", vitest, "run"] };
      const flags = ["--unstable-net"];
      return { command: runtime.path, args: ["run", "-A", ...flags, vitest, "run", ...denoWorkers(flags)] };
    }
    case "deno-stable": {
      const flags = ["--no-config", "--node-modules-dir=manual"];
      // UNISOCK_DENO_NET=stable tells the datagram suite which mode to expect (as `npm run test:deno-stable`).
      const env = { UNISOCK_DENO_NET: "stable" };
      return { command: runtime.path, args: ["run", "-A", ...flags, vitest, "run", ...denoWorkers(flags)], env };
    }
    case "bun":
      return { command: runtime.path, args: ["--bun", vitest, "run", "--pool=threads"] };
    case "workerd":
      // vitest.config.ts picks test/workerd when UNISOCK_RUNTIME is "workerd"; the harness runs this binary.
      return { command: process.execPath, args: [vitest, "run"], env: { UNISOCK_WORKERD: runtime.path } };
    default:
      throw new Error(`no command for ${runtime.name}`);
  }
}
