// @ts-check
/*
 * Run vitest inside one runtime: JSON report to a temp file, progress events from our reporter
 * on stdout, and everything that can go wrong (no report, crash, timeout) turned into errors.
 */
/**
 * @import { ChildProcess } from "node:child_process"
 * @import { Readable } from "node:stream"
 * @import { ProgressEvent } from "./progress-reporter.mjs"
 * @import { RunError, VitestReport } from "./results.mjs"
 * @import { Runtime } from "./runtimes.mjs"
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { PREFIX } from "./progress-reporter.mjs";
import { testKey } from "./results.mjs";
import { vitestCommand } from "./runtimes.mjs";

const REPORTER = fileURLToPath(new URL("./progress-reporter.mjs", import.meta.url));

/**
 * Child process groups still running, killed if the CLI is interrupted.
 * @type {Set<ChildProcess>}
 */
export const running = new Set();
/**
 * Things to undo if the CLI is interrupted (the generated vitest config).
 * @type {Set<() => void>}
 */
export const cleanups = new Set();

/**
 * @param {ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
const killGroup = (child, signal = "SIGTERM") => {
  try {
    process.kill(-Number(child.pid), signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
};

/**
 * The environment without the variables we set per runtime (a nested run must not inherit them).
 * @param {NodeJS.ProcessEnv} env
 */
function withoutOurs(env) {
  const { UNISOCK_RUNTIME: _r, UNISOCK_DENO_NET: _n, ...rest } = env;
  return rest;
}

/** Last lines of a stream, for the error message when a run dies. */
class Tail {
  constructor(max = 80) {
    this.max = max;
    /** @type {string[]} */
    this.lines = [];
  }
  /** @param {string} line */
  push(line) {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  text(n = 20) {
    return stripVTControlCharacters(this.lines.slice(-n).join("\n")).trim();
  }
}

/**
 * Calls `onLine` with each line of `stream`, the last one too when it has no newline.
 * @param {Readable} stream
 * @param {(line: string) => void} onLine
 */
const lines = (stream, onLine) => createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);

/**
 * @typedef {{ tests: Map<string, string>, ended: boolean }} FileSeen  a file's test states, from the progress events
 */

/**
 * @param {Runtime} runtime  from resolveRuntimes
 * @param {{
 *   cwd: string, vitest: string, mode: "matrix" | "test", hasDenoConfig: boolean,
 *   vitestArgs: string[], timeoutMs: number, onEvent: (event: ProgressEvent) => void,
 *   onOutput?: (line: string, stream: "stdout" | "stderr") => void,
 * }} opts  vitestArgs: config/root and the user's own arguments, after `run`
 * @returns {Promise<{
 *   report?: VitestReport, exitCode: number | null, durationMs: number, errors: RunError[], unfinished: string[],
 *   notes: Map<string, string>, command: string[],
 * }>}
 *   unfinished: test files that started and never ended (a worker died under them);
 *   notes: the skipped tests' notes, by testKey(file, fullName)
 */
export async function runVitest(runtime, opts) {
  const dir = mkdtempSync(join(tmpdir(), "unisock-"));
  const jsonFile = join(dir, "vitest.json");
  const { command, args, env: runtimeEnv } = vitestCommand(runtime, opts);
  // Ours before the user's: a trailing option of theirs cannot swallow one of ours.
  const fullArgs = [
    ...args,
    "--reporter=json",
    `--outputFile.json=${jsonFile}`,
    `--reporter=${REPORTER}`,
    ...opts.vitestArgs,
  ];
  const started = Date.now();
  const out = new Tail();
  const err = new Tail();
  /** @type {RunError[]} */
  const errors = [];
  /** @type {string[] | undefined} */
  let unfinished;
  /** @type {Map<string, string>} testKey(file, fullName) -> skip note */
  const notes = new Map();
  // What the progress events told: enough for partial results if vitest dies before its report.
  /** @type {Map<string, FileSeen>} file -> its tests by name */
  const seen = new Map();
  /** @param {ProgressEvent} event */
  const track = (event) => {
    if (!("file" in event) || !event.file) return;
    let f = seen.get(event.file);
    if (!f) seen.set(event.file, (f = { tests: new Map(), ended: false }));
    if (event.e === "test") f.tests.set(event.name, event.state);
    if (event.e === "test" && event.note) notes.set(testKey(event.file, event.name), event.note);
    if (event.e === "file") f.ended = true;
  };

  const child = spawn(command, fullArgs, {
    cwd: opts.cwd,
    // UNISOCK_RUNTIME: the entry the column runs as (a test's expectations depend on it, not on the
    // column's name); UNISOCK_RUNTIME_VERSION: the version the column's label names.
    env: {
      ...withoutOurs(process.env),
      UNISOCK_RUNTIME: runtime.kind,
      UNISOCK_RUNTIME_VERSION: runtime.version,
      ...runtimeEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group: a timeout kills vitest's workers too
  });
  running.add(child);
  lines(child.stdout, (line) => {
    const at = line.indexOf(PREFIX);
    if (at !== -1) {
      try {
        /** @type {ProgressEvent} */
        const event = JSON.parse(line.slice(at + PREFIX.length));
        if (event.e === "end") {
          for (const e of event.errors ?? []) {
            errors.push({ file: e.file, message: `unhandled error: ${e.message}${e.stack ? `\n${e.stack}` : ""}` });
          }
          unfinished = event.unfinished ?? [];
        }
        track(event);
        opts.onEvent(event);
      } catch {
        out.push(line);
      }
      return;
    }
    out.push(line);
    // vitest's note about our JSON report names a temporary folder deleted before anyone reads it.
    if (line.startsWith(`JSON report written to ${jsonFile}`)) return;
    opts.onOutput?.(line, "stdout");
  });
  lines(child.stderr, (line) => {
    err.push(line);
    opts.onOutput?.(line, "stderr");
  });

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
    setTimeout(() => killGroup(child, "SIGKILL"), 5000).unref();
  }, opts.timeoutMs);

  /** @type {{ exitCode: number | null, signal?: NodeJS.Signals | null, spawnError?: Error }} */
  const { exitCode, signal, spawnError } = await new Promise((resolve) => {
    child.on("error", (e) => resolve({ exitCode: null, spawnError: e }));
    child.on("close", (code, sig) => resolve({ exitCode: code, signal: sig }));
  });
  clearTimeout(timer);
  running.delete(child);
  // Workers left behind by a crashed vitest would hold ports and CPU for the next runtime.
  killGroup(child, "SIGKILL");

  /** @type {VitestReport | undefined} */
  let report;
  try {
    report = JSON.parse(readFileSync(jsonFile, "utf8"));
  } catch {}
  rmSync(dir, { recursive: true, force: true });

  const tail = () => [err.text(), out.text()].filter(Boolean).join("\n") || "(no output)";
  if (spawnError) {
    errors.push({ message: `could not start ${command}: ${spawnError.message}` });
  } else if (timedOut) {
    errors.push({ message: `timed out after ${Math.round(opts.timeoutMs / 1000)} s and was killed\n${tail()}` });
    report ??= fromEvents(seen);
  } else if (!report) {
    const how = signal ? `was killed by ${signal}` : `exited with status ${exitCode}`;
    errors.push({ message: `vitest ${how} and wrote no report\n${tail()}` });
    report = fromEvents(seen);
  } else if (exitCode !== 0) {
    const failedSomething =
      (report.numFailedTests ?? 0) > 0 || (report.numFailedTestSuites ?? 0) > 0 || errors.length > 0;
    if (!failedSomething) errors.push({ message: `vitest exited with status ${exitCode}\n${tail()}` });
  }
  if (report && report.numTotalTests === 0 && (report.testResults?.length ?? 0) === 0 && errors.length === 0) {
    errors.push({ message: `no test files ran\n${tail()}` });
  }
  unfinished ??= [...seen].filter(([, f]) => !f.ended).map(([file]) => file);
  return {
    report,
    exitCode,
    durationMs: Date.now() - started,
    errors,
    unfinished,
    notes,
    command: [command, ...fullArgs],
  };
}

/**
 * A stand-in for vitest's JSON report from the progress events: the tests that did finish still count.
 * @param {Map<string, FileSeen>} seen
 * @returns {VitestReport}
 */
function fromEvents(seen) {
  return {
    testResults: [...seen].map(([name, f]) => ({
      name,
      status: [...f.tests.values()].includes("failed") ? "failed" : "passed",
      message: "",
      assertionResults: [...f.tests].map(([fullName, status]) => ({
        ancestorTitles: [],
        title: fullName,
        fullName,
        status,
      })),
    })),
  };
}

export function killAll() {
  for (const child of running) killGroup(child, "SIGKILL");
  for (const cleanup of cleanups) cleanup();
}
