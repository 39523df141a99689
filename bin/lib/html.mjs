// @ts-check
/*
 * A self-contained HTML page: the matrix table, the failures, and the benchmark chart when one
 * was made. No external resources; the SVG chart is embedded as a data: image, so a chart with a
 * script in it cannot run anything.
 *
 * Hooks for tests and scripts: table#matrix, th[data-runtime] per runtime column,
 * tr[data-group] per group, td[data-passed|data-failed|data-unsupported|data-skipped] per cell,
 * section#unsupported and section#skipped (li[data-runtime] per test), p#summary (the final line).
 */
/**
 * @import { Bench, MatrixResult } from "./matrix.mjs"
 * @import { Counts, Matrix } from "./results.mjs"
 * @import { NotRun } from "./text.mjs"
 */
import { Buffer } from "node:buffer";
import { esc } from "./fmt.mjs";
import { finalLine, unsupportedLine } from "./results.mjs";
import { byRuntime, cellFields, cellText, legend, NOT_RUN_TITLE } from "./text.mjs";

const cellClass = (/** @type {Counts | null} */ c) =>
  !c ? "none" : c.failed ? "fail" : c.passed + c.unsupported === 0 ? "skip" : "pass";

/**
 * @param {Counts | null} c
 * @param {(keyof Counts)[]} fields
 */
function cell(c, fields) {
  if (!c) return `<td class="none">—</td>`;
  const title = `${c.passed} passed, ${c.failed} failed, ${c.unsupported} unsupported, ${c.skipped} skipped`;
  return `<td class="${cellClass(c)}" title="${esc(title)}" data-passed="${c.passed}" data-failed="${c.failed}" data-unsupported="${c.unsupported}" data-skipped="${c.skipped}">${esc(cellText(c, fields))}</td>`;
}

/**
 * The unsupported or skipped tests, by runtime, each with its reason.
 * @param {Matrix} matrix
 * @param {NotRun} kind
 */
function notRunSection(matrix, kind) {
  const list = matrix[kind] ?? [];
  if (list.length === 0) return "";
  const runtimes = byRuntime(list).map(
    ({ runtime, tests }) =>
      `<h3>${esc(runtime)} (${tests.length})</h3><ul>${tests
        .map(
          (t) => `<li data-runtime="${esc(runtime)}">${esc(t.group)} › ${esc(t.name)}: <em>${esc(t.reason)}</em></li>`,
        )
        .join("\n")}</ul>`,
  );
  return `<section id="${kind}"><h2>${esc(NOT_RUN_TITLE[kind])} (${list.length})</h2>\n${runtimes.join("\n")}</section>`;
}

/** @param {unknown} r @returns {r is Record<string, unknown>} */
const isRecord = (r) => !!r && typeof r === "object";

/** @param {Bench | undefined} bench */
function benchSection(bench) {
  if (!bench) return "";
  const parts = [`<section id="bench"><h2>Benchmarks</h2>`];
  if (bench.svg) {
    const uri = `data:image/svg+xml;base64,${Buffer.from(bench.svg, "utf8").toString("base64")}`;
    parts.push(`<img id="bench-chart" alt="benchmark chart" src="${uri}">`);
  }
  // latest.json is whatever the bench script wrote: an array of rows, or { summary } or { results }.
  const data = /** @type {{ summary?: unknown, results?: unknown } | null | undefined} */ (bench.data);
  /** @type {unknown[] | null} */
  const rows = Array.isArray(data) ? data : ([data?.summary, data?.results].find(Array.isArray) ?? null);
  if (rows?.length && rows.every(isRecord)) {
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] !== "object")))];
    parts.push(
      `<table id="bench-table"><thead><tr>${keys.map((k) => `<th>${esc(k)}</th>`).join("")}</tr></thead><tbody>`,
      ...rows.map((r) => `<tr>${keys.map((k) => `<td>${esc(r[k])}</td>`).join("")}</tr>`),
      `</tbody></table>`,
    );
  }
  if (bench.data !== undefined) {
    parts.push(
      `<details><summary>bench/results/latest.json</summary><pre>${esc(JSON.stringify(bench.data, null, 2))}</pre></details>`,
    );
  }
  parts.push(`</section>`);
  return parts.join("\n");
}

/** @param {MatrixResult & { title?: string }} result */
export function toHtml({ matrix, runs, title = "unisock matrix", timestamp, durationMs, bench }) {
  const head = matrix.columns
    .map((label, i) => {
      const r = runs[i];
      return `<th scope="col" data-runtime="${esc(label)}" title="${esc(r?.path)}">${esc(label)}</th>`;
    })
    .join("");
  const fields = cellFields(matrix);
  const rows = matrix.rows
    .map(
      (r) =>
        `<tr data-group="${esc(r.group)}"><th scope="row">${esc(r.group)}</th>${r.cells.map((c) => cell(c, fields)).join("")}</tr>`,
    )
    .join("\n");
  const totals = `<tr class="total"><th scope="row">total</th>${matrix.perRuntime.map((p) => cell(p.counts, fields)).join("")}</tr>`;
  const failures = matrix.failures.length
    ? `<section id="failures"><h2>Failures (${matrix.failures.length})</h2><ol>${matrix.failures
        .map(
          (f) =>
            `<li><strong>${esc(f.runtime)}</strong> › ${esc(f.group)} › ${esc(f.name)}${f.message ? `<pre>${esc(f.message)}</pre>` : ""}</li>`,
        )
        .join("\n")}</ol></section>`
    : `<p id="no-failures">No failures.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
  table { border-collapse: collapse; margin: 1rem 0; }
  th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }
  td { font-family: ui-monospace, monospace; text-align: center; }
  thead th { background: #f2f2f2; }
  td.pass { background: #e3f6e3; } td.fail { background: #fbe0e0; font-weight: bold; }
  td.skip { background: #f4f4f4; } td.none { color: #999; }
  tr.total th, tr.total td { border-top: 2px solid #888; }
  pre { white-space: pre-wrap; background: #f7f7f7; padding: .4rem; margin: .3rem 0; font-size: 12px; }
  #summary { font-family: ui-monospace, monospace; font-size: 16px; }
  #bench-chart { max-width: 100%; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p>${esc(timestamp)} · ${(durationMs / 1000).toFixed(1)} s · ${esc(legend(matrix))}</p>
<table id="matrix">
<thead><tr><th scope="col">group</th>${head}</tr></thead>
<tbody>
${rows}
</tbody>
<tfoot>${totals}</tfoot>
</table>
${matrix.totals.unsupported ? `<p id="unsupported-count">${esc(unsupportedLine(matrix.totals))}</p>\n` : ""}<p id="summary">${esc(finalLine(matrix.totals))}</p>
${failures}
${notRunSection(matrix, "unsupported")}
${notRunSection(matrix, "skipped")}
${benchSection(bench)}
</body>
</html>
`;
}
