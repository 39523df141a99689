#!/usr/bin/env node
// @ts-check
/*
 * unisock matrix: the conformance suite under Node, Deno and Bun, one table.
 * unisock test -- <vitest args>: your own vitest suite under the same runtimes.
 * Plain ESM with no dependencies, for Node >= 20.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runCommand } from "./lib/matrix.mjs";
import { killAll } from "./lib/run.mjs";
import { parseRuntimeSpecs, RUNTIMES, UsageError } from "./lib/runtimes.mjs";

const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const HELP = `Usage:
  unisock matrix [options] [-- <vitest args>]   run the unisock conformance suite in each runtime
  unisock test   [options] -- <vitest args>     run your own vitest suite in each runtime

Options:
  --runtime NAME[=PATH]   ${Object.keys(RUNTIMES).join(", ")}; repeatable or comma-separated.
                          NAME=PATH compares several builds of one runtime; with a
                          path NAME may be a column name that starts with one of them
                          (node20=/opt/node20/bin/node runs as node, labelled "node20 20.19.0")
                          Default: node, deno and bun, each found in node_modules/.bin, then PATH;
                          one that is missing is an error (\`npm i -D deno bun\`)
  --allow-missing         leave out a default runtime that is not installed, instead of failing
  --json FILE             write the results as JSON
  --junit FILE            write one JUnit XML file for all runtimes
  --html FILE             write a self-contained HTML page with the table
  --out DIR               write DIR/matrix.json, DIR/junit.xml and DIR/matrix.html
  --bench                 afterwards run \`npm run bench\` and add bench/results to the reports
  --bench-script NAME     the npm script --bench runs (default "bench"; e.g. bench:quick)
  --group-by file|describe  rows: test files (default) or their top-level describe blocks
  --parallel              run the runtimes at the same time (default: one after another)
  --timeout SECONDS       kill a runtime's run after this long (default 1800)
  --verbose               show vitest's own output and your tests' console output
  -h, --help              this text
  -v, --version           unisock's version

A test that passes by checking ERR_UNSUPPORTED counts as "unsupported" when it sets
\`task.meta.unsupported = true\` or its title contains "[unsupported]" (docs/matrix.md).
Exit status: 0 all passed, 1 a test failed or none ran, 2 bad usage (or a missing runtime).
The last line of output is "N passed, N failed, N skipped", summed over the runtimes; the
unsupported tests are counted in none of them, on the line above. Skipped and unsupported tests
are listed by runtime with the reason (a test's skip note, the runtime's ERR_UNSUPPORTED message).
`;

/** @satisfies {import("node:util").ParseArgsOptionsConfig} */
const OPTIONS = {
  runtime: { type: "string", multiple: true, default: [] },
  "allow-missing": { type: "boolean", default: false },
  json: { type: "string" },
  junit: { type: "string" },
  html: { type: "string" },
  out: { type: "string" },
  bench: { type: "boolean", default: false },
  "bench-script": { type: "string" },
  "group-by": { type: "string", default: "file" },
  parallel: { type: "boolean", default: false },
  timeout: { type: "string", default: "1800" },
  verbose: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "v", default: false },
};

/**
 * @param {string[]} argv
 * @returns {Promise<number>} the exit status
 */
async function main(argv) {
  const dash = argv.indexOf("--");
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const vitestArgs = dash === -1 ? [] : argv.slice(dash + 1);
  let parsed;
  try {
    parsed = parseArgs({ args: own, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${e instanceof Error ? e.message : e}\nRun \`unisock --help\` for the options.`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${JSON.parse(readFileSync(resolve(pkgRoot, "package.json"), "utf8")).version}\n`);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (command !== "matrix" && command !== "test") {
    throw new UsageError(
      command
        ? `unknown command "${command}": expected "matrix" or "test"`
        : `missing command: "matrix" or "test"\n\n${HELP}`,
    );
  }
  if (extra.length) {
    throw new UsageError(`unexpected argument "${extra[0]}": vitest's own arguments go after \`--\``);
  }
  if (values["group-by"] !== "file" && values["group-by"] !== "describe") {
    throw new UsageError(`--group-by ${values["group-by"]}: expected "file" or "describe"`);
  }
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) throw new UsageError(`--timeout ${values.timeout}: expected a number of seconds`);

  return runCommand(command, {
    pkgRoot,
    cwd: process.cwd(),
    runtimes: parseRuntimeSpecs(values.runtime),
    allowMissing: values["allow-missing"],
    vitestArgs,
    json: values.json,
    junit: values.junit,
    html: values.html,
    out: values.out,
    bench: values.bench || values["bench-script"] !== undefined,
    benchScript: values["bench-script"] ?? "bench",
    groupBy: values["group-by"],
    parallel: values.parallel,
    timeoutMs: timeout * 1000,
    verbose: values.verbose,
    stdout: process.stdout,
    stderr: process.stderr,
  });
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killAll();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if (e instanceof UsageError) {
      process.stderr.write(`unisock: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`unisock: ${e?.stack ?? e}\n`);
      process.exitCode = 1;
    }
  },
);
