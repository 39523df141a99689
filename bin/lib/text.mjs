/*
 * The one table printed at the end: a Markdown table (readable in a log, pasteable into a
 * GitHub step summary), the failures under it, and the line CI reads.
 */
import { finalLine } from "./results.mjs";

export const LEGEND = "cells: passed/failed/unsupported; — not run in that runtime";

export const cellText = (c) => (c ? `${c.passed}/${c.failed}/${c.unsupported}` : "—");

const pad = (s, n) => s + " ".repeat(Math.max(0, n - [...s].length));

export function formatTable(matrix) {
  const header = ["group", ...matrix.columns];
  const body = matrix.rows.map((r) => [r.group, ...r.cells.map(cellText)]);
  const total = ["total", ...matrix.perRuntime.map((p) => cellText(p.counts))];
  const all = [header, ...body, total];
  const widths = header.map((_, i) => Math.max(3, ...all.map((row) => [...row[i]].length)));
  const line = (row) => `| ${row.map((c, i) => pad(c, widths[i])).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...body.map(line),
    line(total),
    "",
    LEGEND,
  ].join("\n");
}

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

export function formatReport(matrix) {
  const failures = formatFailures(matrix);
  return [formatTable(matrix), ...(failures ? [failures] : []), finalLine(matrix.totals)].join("\n\n");
}
