/*
 * From vitest's JSON report of one runtime to unisock's per-group counts.
 *
 * A test counts as "unsupported" when it passed and marks itself as having checked ERR_UNSUPPORTED:
 * `task.meta.unsupported = true` (vitest reports `meta`), the tag "unsupported", or "[unsupported]"
 * in its title. A file that fails to load or a hook that throws counts as one failure of its group;
 * so does a crashed or timed-out run, and each unhandled error.
 */
import { relative, sep } from "node:path";

export const RUN_GROUP = "(run)";

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
export const stripAnsi = (s) => String(s ?? "").replace(ANSI, "");

/** The behaviour group of a test file: its path under the root, without `test/` and `.test.ts`. */
export function fileGroup(file, root) {
  let rel = relative(root, file).split(sep).join("/");
  if (rel.startsWith("../")) rel = file;
  return rel.replace(/^tests?\//, "").replace(/\.(test|spec)\.[cm]?[jt]sx?$/, "");
}

export function isUnsupported(assertion) {
  return (
    assertion.meta?.unsupported === true ||
    (Array.isArray(assertion.tags) && assertion.tags.includes("unsupported")) ||
    /\[unsupported\]/i.test(assertion.title ?? "")
  );
}

/**
 * An error message without the noise: its own lines, then the first stack frames outside
 * node_modules and the runtimes' internals (at most `frames`).
 */
export function condense(text, { lines = 8, frames = 2 } = {}) {
  const out = [];
  let kept = 0;
  for (const line of stripAnsi(text).split("\n")) {
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
 * @param {object | undefined} report  vitest's JSON report, if it was written
 * @param {{ root: string, groupBy?: "file" | "describe", extraErrors?: { message: string, file?: string }[], unfinished?: string[] }} opts
 *   unfinished: files that started and never ended. vitest reports such a file as passed, with the
 *   test that was running when its worker died as "pending": that test is the failure.
 * @returns {{ tests: object[], errors: object[], counts: object }}
 */
export function summarize(report, { root, groupBy = "file", extraErrors = [], unfinished = [] }) {
  const tests = [];
  const errors = [];
  const cut = new Set(unfinished);
  for (const file of report?.testResults ?? []) {
    const fg = fileGroup(file.name, root);
    const died = cut.delete(file.name);
    let failedHere = 0;
    for (const a of file.assertionResults ?? []) {
      const group = groupBy === "describe" && a.ancestorTitles?.[0] ? `${fg} › ${a.ancestorTitles[0]}` : fg;
      let state;
      let message;
      if (a.status === "passed") state = isUnsupported(a) ? "unsupported" : "passed";
      else if (a.status === "failed") state = "failed";
      else if (died && a.status === "pending") {
        state = "failed";
        message = "did not finish: the worker running it exited";
      } else state = "skipped"; // skipped, pending, todo, disabled
      if (state === "failed") failedHere++;
      tests.push({
        group,
        file: fg,
        name: a.fullName ?? [...(a.ancestorTitles ?? []), a.title].join(" "),
        state,
        durationMs: a.duration ?? 0,
        message: state === "failed" ? (message ?? condense((a.failureMessages ?? []).join("\n"))) : undefined,
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
    errors.push({ group: fileGroup(file, root), name: "(file)", message: "did not finish: its worker exited or the run was cut short" });
  }
  for (const e of extraErrors) {
    const group = e.group ?? (e.file ? fileGroup(e.file, root) : RUN_GROUP);
    errors.push({ group, name: e.name ?? "(run)", message: condense(e.message, { lines: 16, frames: 3 }) });
  }
  const counts = { passed: 0, failed: errors.length, unsupported: 0, skipped: 0 };
  for (const t of tests) counts[t.state]++;
  return { tests, errors, counts };
}

const zero = () => ({ passed: 0, failed: 0, unsupported: 0, skipped: 0 });

/**
 * Put the runtimes' results side by side: one row per group, one column per runtime.
 * @param {{ label: string, tests: object[], errors: object[], counts: object }[]} runs
 */
export function buildMatrix(runs) {
  const groups = new Set();
  const cells = new Map(); // group -> label -> counts
  const cell = (group, label) => {
    groups.add(group);
    if (!cells.has(group)) cells.set(group, new Map());
    const row = cells.get(group);
    if (!row.has(label)) row.set(label, zero());
    return row.get(label);
  };
  const failures = [];
  for (const run of runs) {
    for (const t of run.tests) cell(t.group, run.label)[t.state]++;
    for (const e of run.errors) cell(e.group, run.label).failed++;
    for (const t of run.tests) {
      if (t.state === "failed") failures.push({ runtime: run.label, group: t.group, name: t.name, message: t.message });
    }
    for (const e of run.errors) failures.push({ runtime: run.label, group: e.group, name: e.name, message: e.message });
  }
  const ordered = [...groups].sort((a, b) => (a === RUN_GROUP) - (b === RUN_GROUP) || a.localeCompare(b));
  const totals = zero();
  const perRuntime = runs.map((run) => {
    for (const k of Object.keys(totals)) totals[k] += run.counts[k];
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
  };
}

/** The numbers of the final line: every passing test (unsupported ones included), every failure. */
export const finalLine = (totals) => `${totals.passed + totals.unsupported} passed, ${totals.failed} failed`;
