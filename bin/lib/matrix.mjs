// @ts-check
/*
 * The two commands share one engine: run vitest in each runtime, then one table.
 * - matrix: unisock's own conformance suite, with the vitest config shipped in the package.
 * - test:   the user's suite, with their config wrapped so exports resolve per runtime.
 */
/**
 * @import { Matrix, Summary } from "./results.mjs"
 * @import { Runtime, RuntimeSpec } from "./runtimes.mjs"
 *
 * @typedef {Runtime & Summary & { exitCode: number | null, durationMs: number, command: string[] }} RunResult  a column
 * @typedef {{ ok: boolean, status: number | null, data: unknown, svg?: string }} Bench  `--bench`: latest.json, chart.svg
 * @typedef {{
 *   mode: "matrix" | "test", timestamp: string, durationMs: number, runs: RunResult[], matrix: Matrix, bench?: Bench,
 * }} MatrixResult
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { toHtml } from "./html.mjs";
import { toJUnit } from "./junit.mjs";
import { Progress } from "./progress.mjs";
import { buildMatrix, finalLine, summarize } from "./results.mjs";
import { cleanups, runVitest } from "./run.mjs";
import { RUNTIMES, resolveRuntimes, UsageError } from "./runtimes.mjs";
import { formatReport } from "./text.mjs";
import { findUserConfig, takeConfigArg, writeWrapperConfig } from "./wrapper-config.mjs";

/**
 * The nearest directory at or above `from` with a package.json, else `from`.
 * @param {string} from
 * @returns {string}
 */
export function projectRootOf(from) {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return resolve(from);
  }
}

/**
 * vitest's CLI entry as Node would resolve `vitest` from `root` (hoisted installs included).
 * @param {string} root
 * @returns {string | undefined}
 */
export function findVitest(root) {
  for (let dir = root; ; dir = dirname(dir)) {
    const entry = join(dir, "node_modules", "vitest", "vitest.mjs");
    if (existsSync(entry)) return entry;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Whether the deno.json that Deno's workers will read in `dir` grants `--unstable-net` already.
 * @param {string} dir
 */
function denoConfigHasNet(dir) {
  const config = /** @type {{ unstable?: unknown } | null | undefined} */ (
    readJson(join(dir, "deno.json")) ?? readJson(join(dir, "deno.jsonc"))
  );
  return Array.isArray(config?.unstable) && config.unstable.includes("net");
}

/** @param {string} pkgRoot */
function findPackageConfig(pkgRoot) {
  for (const ext of [".ts", ".mts", ".js", ".mjs"]) {
    const file = join(pkgRoot, `vitest.config${ext}`);
    if (existsSync(file)) return file;
  }
  throw new UsageError(`no vitest config in ${pkgRoot}: the unisock package is incomplete`);
}

/**
 * A JSON file's contents, or undefined when it is missing or not JSON.
 * @param {string} file
 * @returns {unknown}
 */
const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
};

/**
 * @param {string} pkgRoot
 * @param {string} script
 */
function checkBench(pkgRoot, script) {
  const pkg = /** @type {{ scripts?: Record<string, string> } | null | undefined} */ (
    readJson(join(pkgRoot, "package.json"))
  );
  if (!pkg?.scripts?.[script]) throw new UsageError(`--bench: ${pkgRoot}/package.json has no "${script}" script`);
}

/**
 * @param {string} pkgRoot
 * @param {string} script
 * @param {Progress} progress
 * @returns {Bench}
 */
function runBench(pkgRoot, script, progress) {
  progress.note(`bench: npm run ${script}`);
  // Its table goes to stderr: stdout ends with the matrix and its final line.
  const r = spawnSync("npm", ["run", script], { cwd: pkgRoot, stdio: ["ignore", 2, "inherit"] });
  const dir = join(pkgRoot, "bench", "results");
  const svgFile = join(dir, "chart.svg");
  return {
    ok: r.status === 0,
    status: r.status,
    data: readJson(join(dir, "latest.json")),
    svg: existsSync(svgFile) ? readFileSync(svgFile, "utf8") : undefined,
  };
}

/**
 * @param {string} file
 * @param {string} text
 * @param {Progress} progress
 */
function write(file, text, progress) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  progress.note(`wrote ${file}`);
}

/**
 * @param {"matrix" | "test"} mode
 * @param {{
 *   pkgRoot: string, cwd: string, runtimes: RuntimeSpec[], allowMissing?: boolean, vitestArgs: string[],
 *   json?: string, junit?: string, html?: string, out?: string, bench: boolean, benchScript: string,
 *   groupBy: "file" | "describe", parallel: boolean, timeoutMs: number, verbose: boolean,
 *   stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream,
 * }} o
 * @returns {Promise<number>} exit status
 */
export async function runCommand(mode, o) {
  const projectRoot = projectRootOf(o.cwd);
  const root = mode === "matrix" ? o.pkgRoot : projectRoot;
  const progress = Progress.forStream(o.stderr, root);

  // The user's suite needs the user's vitest; unisock's own suite may use the one beside it.
  const vitest = findVitest(projectRoot) ?? (mode === "matrix" ? findVitest(o.pkgRoot) : undefined);
  if (!vitest) {
    throw new UsageError(`vitest is not installed in ${projectRoot}: run \`npm i -D vitest\` there, then try again`);
  }
  const runtimes = resolveRuntimes(o.runtimes, {
    searchDirs: [...new Set([projectRoot, o.pkgRoot])],
    cwd: o.cwd,
    allowMissing: o.allowMissing,
    log: (line) => progress.note(line),
  });

  const foreign = runtimes.find((r) => mode !== "matrix" && RUNTIMES[r.kind].tests);
  if (foreign)
    throw new UsageError(
      `${foreign.name}: only \`unisock matrix\` can run in it (its tests are unisock's own, in ${RUNTIMES[foreign.kind].tests})`,
    );
  if (o.bench) checkBench(o.pkgRoot, o.benchScript);

  /** @type {string[]} */
  let vitestArgs;
  let cleanup = () => {};
  if (mode === "matrix") {
    vitestArgs = [`--root=${root}`, `--config=${findPackageConfig(o.pkgRoot)}`, ...o.vitestArgs];
  } else {
    const { config, rest } = takeConfigArg(o.vitestArgs, o.cwd);
    if (config && !existsSync(config)) throw new UsageError(`--config ${config}: no such file`);
    const wrapper = writeWrapperConfig({ root: projectRoot, userConfig: config ?? findUserConfig(projectRoot) });
    cleanup = wrapper.remove;
    cleanups.add(cleanup);
    vitestArgs = [`--root=${projectRoot}`, `--config=${wrapper.file}`, ...rest];
  }
  const cwd = projectRoot;
  const hasDenoConfig = denoConfigHasNet(cwd);
  const started = Date.now();
  const timestamp = new Date(started).toISOString();

  /**
   * @param {Runtime} runtime
   * @returns {Promise<RunResult>}
   */
  const runOne = async (runtime) => {
    progress.start(runtime.label);
    const r = await runVitest(runtime, {
      cwd,
      vitest,
      mode,
      hasDenoConfig,
      vitestArgs,
      timeoutMs: o.timeoutMs,
      onEvent: (ev) => progress.event(runtime.label, ev),
      onOutput: o.verbose ? (line) => progress.note(`[${runtime.label}] ${line}`) : undefined,
    });
    // A runtime whose tests live in their own folder (workerd: test/workerd/conformance/x) is
    // grouped from that folder, so its rows are the suite's own (conformance/x).
    const tests = RUNTIMES[runtime.kind].tests;
    const groupRoot = mode === "matrix" && tests ? join(root, tests) : root;
    const s = summarize(r.report, {
      root: groupRoot,
      groupBy: o.groupBy,
      extraErrors: r.errors,
      unfinished: r.unfinished,
      notes: r.notes,
    });
    progress.end(runtime.label, s.counts, r.durationMs);
    return { ...runtime, exitCode: r.exitCode, durationMs: r.durationMs, command: r.command, ...s };
  };

  /** @type {RunResult[]} */
  let runs;
  try {
    if (o.parallel) runs = await Promise.all(runtimes.map(runOne));
    else {
      runs = [];
      for (const rt of runtimes) runs.push(await runOne(rt));
    }
  } finally {
    cleanup();
    cleanups.delete(cleanup);
  }

  /** @type {Bench | undefined} */
  let bench;
  if (o.bench) bench = runBench(o.pkgRoot, o.benchScript, progress);
  const matrix = buildMatrix(runs);
  const durationMs = Date.now() - started;
  /** @type {MatrixResult} */
  const result = { mode, timestamp, durationMs, runs, matrix, bench };

  const files = {
    json: o.json ?? (o.out && join(o.out, "matrix.json")),
    junit: o.junit ?? (o.out && join(o.out, "junit.xml")),
    html: o.html ?? (o.out && join(o.out, "matrix.html")),
  };
  if (files.json) write(resolve(o.cwd, files.json), `${JSON.stringify(toJson(result), null, 2)}\n`, progress);
  if (files.junit) write(resolve(o.cwd, files.junit), toJUnit(result), progress);
  if (files.html) {
    const title = mode === "matrix" ? "unisock conformance matrix" : `unisock test: ${projectRoot}`;
    write(resolve(o.cwd, files.html), toHtml({ ...result, title }), progress);
  }
  progress.stop();

  o.stdout.write(`\n${formatReport(matrix)}\n`);
  if (bench && !bench.ok) o.stderr.write(`bench: npm run ${o.benchScript} failed with status ${bench.status}\n`);
  const anyTest = matrix.totals.passed + matrix.totals.unsupported + matrix.totals.failed > 0;
  return matrix.totals.failed > 0 || !anyTest || (bench && !bench.ok) ? 1 : 0;
}

/** @param {MatrixResult} result */
function toJson({ mode, timestamp, durationMs, runs, matrix, bench }) {
  return {
    tool: "unisock",
    mode,
    timestamp,
    durationMs,
    summary: finalLine(matrix.totals),
    totals: matrix.totals,
    columns: matrix.columns,
    rows: matrix.rows,
    failures: matrix.failures,
    unsupported: matrix.unsupported,
    skipped: matrix.skipped,
    runtimes: runs.map((r) => ({
      name: r.name,
      kind: r.kind,
      engine: r.engine,
      version: r.version,
      label: r.label,
      path: r.path,
      command: r.command,
      exitCode: r.exitCode,
      durationMs: r.durationMs,
      counts: r.counts,
      tests: r.tests,
      errors: r.errors,
    })),
    bench: bench ? { ok: bench.ok, data: bench.data, chart: bench.svg !== undefined } : undefined,
  };
}
