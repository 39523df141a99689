// @ts-check
/*
 * The one table printed at the end: a Markdown table (readable in a log, pasteable into a
 * GitHub step summary), the unsupported, skipped and failed tests by name under it, and the line
 * CI reads.
 */
/** @import { Counts, Listed, Matrix } from "./results.mjs" */
/** @typedef {"unsupported" | "skipped"} NotRun  the tests listed under the table, with their reasons */
import { finalLine, unsupportedLine } from "./results.mjs";

/**
 * What a cell shows: passed/failed always, then unsupported and skipped only when some test in the
 * matrix is, so that the legend names nothing that never appears.
 * @param {Matrix} matrix
 * @returns {(keyof Counts)[]}
 */
export function cellFields(matrix) {
  const all = [...matrix.rows.flatMap((r) => r.cells), ...matrix.perRuntime.map((p) => p.counts)].filter(
    (c) => c !== null,
  );
  return [
    "passed",
    "failed",
    .../** @type {const} */ (["unsupported", "skipped"]).filter((k) => all.some((c) => c[k] > 0)),
  ];
}

/** @param {Matrix} matrix */
export function legend(matrix) {
  const notRun = matrix.rows.some((r) => r.cells.includes(null)) ? "; — not run in that runtime" : "";
  return `cells: ${cellFields(matrix).join("/")}${notRun}`;
}

/**
 * @param {Counts | null} c
 * @param {(keyof Counts)[]} fields
 */
export const cellText = (c, fields) => (c ? fields.map((k) => c[k]).join("/") : "—");

const pad = (/** @type {string} */ s, /** @type {number} */ n) => s + " ".repeat(Math.max(0, n - [...s].length));

/** @param {Matrix} matrix */
export function formatTable(matrix) {
  const fields = cellFields(matrix);
  const header = ["group", ...matrix.columns];
  const body = matrix.rows.map((r) => [r.group, ...r.cells.map((c) => cellText(c, fields))]);
  const total = ["total", ...matrix.perRuntime.map((p) => cellText(p.counts, fields))];
  const all = [header, ...body, total];
  const widths = header.map((_, i) => Math.max(3, ...all.map((row) => [...(row[i] ?? "")].length)));
  const line = (/** @type {string[]} */ row) => `| ${row.map((c, i) => pad(c, widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...body.map(line),
    line(total),
    "",
    legend(matrix),
  ].join("\n");
}

/**
 * The heading of the unsupported or skipped list.
 * @type {Record<NotRun, string>}
 */
export const NOT_RUN_TITLE = {
  unsupported: "Unsupported: passed by checking that the runtime refuses with ERR_UNSUPPORTED",
  skipped: "Skipped: not run, and why",
};

/**
 * The unsupported or skipped tests, grouped by runtime: `[{ runtime, tests: [{ group, name, reason }] }]`.
 * @param {Listed[]} list
 */
export function byRuntime(list) {
  /** @type {Map<string, Listed[]>} */
  const out = new Map();
  for (const t of list) {
    let tests = out.get(t.runtime);
    if (!tests) out.set(t.runtime, (tests = []));
    tests.push(t);
  }
  return [...out].map(([runtime, tests]) => ({ runtime, tests }));
}

/**
 * The unsupported (`kind` "unsupported") or skipped tests by runtime, each with its reason.
 * @param {Matrix} matrix
 * @param {NotRun} kind
 */
export function formatNotRun(matrix, kind, { max = 200 } = {}) {
  const list = matrix[kind] ?? [];
  if (list.length === 0) return "";
  const out = [`${NOT_RUN_TITLE[kind]} (${list.length}):`];
  if (kind === "skipped") {
    // The reasons first, most frequent first: usually a few missing programs, each with its install command.
    /** @type {Map<string | undefined, number>} */
    const reasons = new Map();
    for (const t of list) reasons.set(t.reason, (reasons.get(t.reason) ?? 0) + 1);
    for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) out.push(`  ${n} × ${reason}`);
  }
  let shown = 0;
  for (const { runtime, tests } of byRuntime(list)) {
    if (shown >= max) break;
    out.push(`  ${runtime} (${tests.length}):`);
    for (const t of tests) {
      if (shown++ >= max) break;
      out.push(`    - ${t.group} › ${t.name}: ${t.reason}`);
    }
  }
  if (list.length > max) out.push(`  … and ${list.length - max} more (see --json)`);
  return out.join("\n");
}

/** @param {Matrix} matrix */
export function formatFailures(matrix, { max = 200 } = {}) {
  if (matrix.failures.length === 0) return "";
  const out = [`Failures (${matrix.failures.length}):`];
  for (const f of matrix.failures.slice(0, max)) {
    out.push(`  ✗ ${f.runtime} › ${f.group} › ${f.name}`);
    if (f.message) for (const l of f.message.split("\n").slice(0, 6)) out.push(`      ${l}`);
  }
  if (matrix.failures.length > max) out.push(`  … and ${matrix.failures.length - max} more (see --json)`);
  return out.join("\n");
}

/** The summary: the unsupported count on its own line when there are any, then the final line. */
export function summaryLines(/** @type {Counts} */ totals) {
  return [...(totals.unsupported ? [unsupportedLine(totals)] : []), finalLine(totals)].join("\n");
}

/** @param {Matrix} matrix */
export function formatReport(matrix) {
  const sections = [
    formatTable(matrix),
    formatNotRun(matrix, "unsupported"),
    formatNotRun(matrix, "skipped"),
    formatFailures(matrix),
  ].filter(Boolean);
  return [...sections, summaryLines(matrix.totals)].join("\n\n");
}
