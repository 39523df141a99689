// @ts-check
/*
 * From vitest's JSON report of one runtime to unisock's per-group counts.
 *
 * A test counts as "unsupported" when it passed and marks itself as having checked ERR_UNSUPPORTED:
 * `task.meta.unsupported = true` or a string saying what is unsupported (vitest reports `meta`), the
 * tag "unsupported", or "[unsupported]" in its title. A skipped test keeps its skip note (from
 * `ctx.skip(note)`, which the progress reporter passes on: vitest's JSON report drops it) as its
 * reason. A file that fails to load or a hook that throws counts as one failure of its group; so
 * does a crashed or timed-out run, and each unhandled error.
 */
import { relative, sep } from "node:path";
import { stripVTControlCharacters } from "node:util";

/**
 * @typedef {{ passed: number, failed: number, unsupported: number, skipped: number }} Counts
 * @typedef {keyof Counts} State
 *
 * The part of vitest's JSON report (`JsonTestResults` in vitest/reporters) read here; run.mjs
 * builds the same shape from the progress events when vitest died before writing its report.
 * @typedef {{ unsupported?: unknown }} Meta  what a test put in `task.meta` (only `unsupported` is read)
 * @typedef {{
 *   ancestorTitles?: string[], title: string, fullName?: string, status: string, meta?: Meta,
 *   tags?: string[], duration?: number | null, failureMessages?: string[] | null,
 * }} ReportAssertion
 * @typedef {{ name: string, status: string, message?: string, assertionResults?: ReportAssertion[] }} ReportFile
 * @typedef {{
 *   testResults?: ReportFile[], numTotalTests?: number, numFailedTests?: number, numFailedTestSuites?: number,
 * }} VitestReport
 *
 * What unisock makes of it, per runtime, then side by side.
 * @typedef {{
 *   group: string, file: string, name: string, state: State, durationMs: number, message?: string, reason?: string,
 * }} TestRecord
 * @typedef {{ group: string, name: string, message: string }} ErrorRecord  a failure that is not one test's
 * @typedef {{ message: string, file?: string, group?: string, name?: string }} RunError  from the run itself
 * @typedef {{ tests: TestRecord[], errors: ErrorRecord[], counts: Counts }} Summary
 * @typedef {{ runtime: string, group: string, name: string, reason?: string }} Listed  an unsupported or skipped test
 * @typedef {{ runtime: string, group: string, name: string, message?: string }} Failure
 * @typedef {{ group: string, cells: (Counts | null)[] }} Row  one cell per column, null: not run there
 * @typedef {{
 *   columns: string[], rows: Row[], perRuntime: { label: string, counts: Counts }[], totals: Counts,
 *   failures: Failure[], unsupported: Listed[], skipped: Listed[],
 * }} Matrix
 */

export const RUN_GROUP = "(run)";

/**
 * The behaviour group of a test file: its path under the root, without `test/` and `.test.ts`.
 * @param {string} file
 * @param {string} root
 */
export function fileGroup(file, root) {
  let rel = relative(root, file).split(sep).join("/");
  if (rel.startsWith("../")) rel = file;
  return rel.replace(/^tests?\//, "").replace(/\.(test|spec)\.[cm]?[jt]sx?$/, "");
}

/** @param {{ meta?: Meta, tags?: string[], title?: string }} assertion */
export function isUnsupported(assertion) {
  const mark = assertion.meta?.unsupported;
  return (
    mark === true ||
    (typeof mark === "string" && mark !== "") ||
    (Array.isArray(assertion.tags) && assertion.tags.includes("unsupported")) ||
    /\[unsupported\]/i.test(assertion.title ?? "")
  );
}

/**
 * What an unsupported test checked: the runtime's ERR_UNSUPPORTED message when the test recorded it.
 * @param {{ meta?: Meta }} assertion
 */
export function unsupportedReason(assertion) {
  const mark = assertion.meta?.unsupported;
  return typeof mark === "string" && mark !== "" ? mark : "checked ERR_UNSUPPORTED";
}

/**
 * The key of a test in the skip notes the progress reporter sends: its file and vitest's JSON fullName.
 * @param {string} file
 * @param {string} fullName
 */
export const testKey = (file, fullName) => `${file}\u0000${fullName}`;

/**
 * An error message without the noise: its own lines, then the first stack frames outside
 * node_modules and the runtimes' internals (at most `frames`).
 * @param {unknown} text
 * @returns {string}
 */
export function condense(text, { lines = 8, frames = 2 } = {}) {
  /** @type {string[]} */
  const out = [];
  let kept = 0;
  for (const line of stripVTControlCharacters(String(text ?? "")).split("\n")) {
    if (line.trim() === "") continue;
    if (/^\s+at /.test(line)) {
      if (kept >= frames || /node_modules|\(native|at native|node:internal|ext:|<anonymous>\)?$/.test(line)) continue;
      kept++;
    }
    out.push(line);
    if (out.length >= lines) break;
  }
  return out.join("\n");
}

/**
 * @param {VitestReport | undefined} report  vitest's JSON report, if it was written
 * @param {{
 *   root: string, groupBy?: "file" | "describe", extraErrors?: RunError[], unfinished?: string[],
 *   notes?: Map<string, string>,
 * }} opts
 *   unfinished: files that started and never ended. vitest reports such a file as passed, with the
 *   test that was running when its worker died as "pending": that test is the failure.
 *   notes: skip notes by testKey(file, fullName).
 * @returns {Summary}
 */
export function summarize(report, { root, groupBy = "file", extraErrors = [], unfinished = [], notes = new Map() }) {
  /** @type {TestRecord[]} */
  const tests = [];
  /** @type {ErrorRecord[]} */
  const errors = [];
  const cut = new Set(unfinished);
  for (const file of report?.testResults ?? []) {
    const fg = fileGroup(file.name, root);
    const died = cut.delete(file.name);
    let failedHere = 0;
    for (const a of file.assertionResults ?? []) {
      const group = groupBy === "describe" && a.ancestorTitles?.[0] ? `${fg} › ${a.ancestorTitles[0]}` : fg;
      const name = a.fullName ?? [...(a.ancestorTitles ?? []), a.title].join(" ");
      /** @type {State} */
      let state;
      /** @type {string | undefined} */
      let message;
      /** @type {string | undefined} */
      let reason;
      if (a.status === "passed") state = isUnsupported(a) ? "unsupported" : "passed";
      else if (a.status === "failed") state = "failed";
      else if (died && a.status === "pending") {
        state = "failed";
        message = "did not finish: the worker running it exited";
      } else state = "skipped"; // skipped, pending, todo, disabled
      if (state === "failed") failedHere++;
      if (state === "unsupported") reason = unsupportedReason(a);
      if (state === "skipped")
        reason = notes.get(testKey(file.name, name)) ?? (a.status === "todo" ? "todo" : "no reason given");
      tests.push({
        group,
        file: fg,
        name,
        state,
        durationMs: a.duration ?? 0,
        message: state === "failed" ? (message ?? condense((a.failureMessages ?? []).join("\n"))) : undefined,
        reason,
      });
    }
    // A file that failed without a failed test: it did not load, or a hook threw.
    if (file.status === "failed" && failedHere === 0) {
      errors.push({ group: fg, name: "(file)", message: condense(file.message || "the test file failed") });
    } else if (died && failedHere === 0) {
      errors.push({ group: fg, name: "(file)", message: "did not finish: its worker exited" });
    }
  }
  for (const file of cut) {
    errors.push({
      group: fileGroup(file, root),
      name: "(file)",
      message: "did not finish: its worker exited or the run was cut short",
    });
  }
  for (const e of extraErrors) {
    const group = e.group ?? (e.file ? fileGroup(e.file, root) : RUN_GROUP);
    errors.push({ group, name: e.name ?? "(run)", message: condense(e.message, { lines: 16, frames: 3 }) });
  }
  const counts = { passed: 0, failed: errors.length, unsupported: 0, skipped: 0 };
  for (const t of tests) counts[t.state]++;
  return { tests, errors, counts };
}

/** @returns {Counts} */
const zero = () => ({ passed: 0, failed: 0, unsupported: 0, skipped: 0 });

/**
 * Put the runtimes' results side by side: one row per group, one column per runtime.
 * @param {({ label: string } & Summary)[]} runs
 * @returns {Matrix}
 */
export function buildMatrix(runs) {
  /** @type {Set<string>} */
  const groups = new Set();
  /** @type {Map<string, Map<string, Counts>>} group -> label -> counts */
  const cells = new Map();
  /** @param {string} group @param {string} label */
  const cell = (group, label) => {
    groups.add(group);
    let row = cells.get(group);
    if (!row) cells.set(group, (row = new Map()));
    let counts = row.get(label);
    if (!counts) row.set(label, (counts = zero()));
    return counts;
  };
  /** @type {Failure[]} */
  const failures = [];
  /** @type {{ unsupported: Listed[], skipped: Listed[] }} */
  const listed = { unsupported: [], skipped: [] };
  for (const run of runs) {
    for (const t of run.tests) cell(t.group, run.label)[t.state]++;
    for (const e of run.errors) cell(e.group, run.label).failed++;
    for (const t of run.tests) {
      if (t.state === "failed") failures.push({ runtime: run.label, group: t.group, name: t.name, message: t.message });
      if (t.state === "unsupported" || t.state === "skipped")
        listed[t.state].push({ runtime: run.label, group: t.group, name: t.name, reason: t.reason });
    }
    for (const e of run.errors) failures.push({ runtime: run.label, group: e.group, name: e.name, message: e.message });
  }
  const ordered = [...groups].sort((a, b) => Number(a === RUN_GROUP) - Number(b === RUN_GROUP) || a.localeCompare(b));
  const totals = zero();
  const perRuntime = runs.map((run) => {
    for (const k of /** @type {State[]} */ (Object.keys(totals))) totals[k] += run.counts[k];
    return { label: run.label, counts: run.counts };
  });
  return {
    columns: runs.map((r) => r.label),
    rows: ordered.map((group) => ({
      group,
      cells: runs.map((r) => cells.get(group)?.get(r.label) ?? null),
    })),
    perRuntime,
    totals,
    failures,
    unsupported: listed.unsupported,
    skipped: listed.skipped,
  };
}

/**
 * The final line, which CI reads: "N passed, N failed, N skipped". Unsupported tests are in none of
 * the three (they passed by checking ERR_UNSUPPORTED): `unsupportedLine` reports them just above.
 */
export const finalLine = (/** @type {Counts} */ totals) =>
  `${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`;

/** The line above the final one: the unsupported tests, counted apart. */
export const unsupportedLine = (/** @type {Counts} */ totals) =>
  `${totals.unsupported} unsupported (passed by checking ERR_UNSUPPORTED; not in "passed")`;

/**
 * One runtime's or one file's counts in a sentence: "N passed, N failed", then the others that occur.
 * @param {Counts} c
 */
export function countsText(c) {
  const extra = /** @type {const} */ (["unsupported", "skipped"]).filter((k) => c[k]).map((k) => `, ${c[k]} ${k}`);
  return `${c.passed} passed, ${c.failed} failed${extra.join("")}`;
}
