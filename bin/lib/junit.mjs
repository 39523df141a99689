// @ts-check
/*
 * One JUnit XML file for all runtimes: a <testsuite> per runtime and group, so CI systems show
 * "deno 2.9.6 › conformance/stream-basics" as its own suite. Unsupported tests are passes with
 * an "unsupported" property (what the runtime refused in system-out), counted in each suite's
 * "unsupported" property; skipped tests carry their reason (`<skipped message>`); file errors and
 * crashed runs are failed test cases.
 */
/** @import { MatrixResult } from "./matrix.mjs" */
/** @import { State } from "./results.mjs" */
import { esc, secs } from "./fmt.mjs";

/** @typedef {{ cases: string[], tests: number, failures: number, skipped: number, unsupported: number, ms: number }} Suite */

/** @param {Pick<MatrixResult, "runs" | "durationMs" | "timestamp">} result */
export function toJUnit({ runs, durationMs, timestamp }) {
  /** @type {string[]} */
  const suites = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  for (const run of runs) {
    /** @type {Map<string, Suite>} */
    const byGroup = new Map();
    /**
     * @param {string} group
     * @param {string} xml
     * @param {State} kind
     * @param {number} ms
     */
    const add = (group, xml, kind, ms) => {
      let g = byGroup.get(group);
      if (!g) byGroup.set(group, (g = { cases: [], tests: 0, failures: 0, skipped: 0, unsupported: 0, ms: 0 }));
      g.cases.push(xml);
      g.tests++;
      g.ms += ms ?? 0;
      if (kind === "failed") g.failures++;
      if (kind === "skipped") g.skipped++;
      if (kind === "unsupported") g.unsupported++;
    };
    for (const t of run.tests) {
      const attrs = `name="${esc(t.name)}" classname="${esc(`${run.label} › ${t.group}`)}" time="${secs(t.durationMs, 3)}"`;
      let inner = "";
      if (t.state === "failed") {
        inner = `<failure message="${esc(t.message?.split("\n")[0])}">${esc(t.message)}</failure>`;
      } else if (t.state === "skipped") {
        inner = `<skipped message="${esc(t.reason)}"/>`;
      } else if (t.state === "unsupported") {
        inner = `<properties><property name="unsupported" value="true"/></properties><system-out>unsupported on ${esc(run.label)}: ${esc(t.reason)}</system-out>`;
      }
      add(t.group, `      <testcase ${attrs}>${inner}</testcase>`, t.state, t.durationMs);
    }
    for (const e of run.errors) {
      const attrs = `name="${esc(e.name)}" classname="${esc(`${run.label} › ${e.group}`)}" time="0"`;
      const inner = `<failure message="${esc(e.message?.split("\n")[0])}">${esc(e.message)}</failure>`;
      add(e.group, `      <testcase ${attrs}>${inner}</testcase>`, "failed", 0);
    }
    for (const [group, g] of byGroup) {
      tests += g.tests;
      failures += g.failures;
      skipped += g.skipped;
      suites.push(
        `  <testsuite name="${esc(`${run.label} › ${group}`)}" tests="${g.tests}" failures="${g.failures}" errors="0" skipped="${g.skipped}" time="${secs(g.ms, 3)}" timestamp="${esc(timestamp)}">\n` +
          `    <properties><property name="runtime" value="${esc(run.name)}"/><property name="version" value="${esc(run.version)}"/><property name="path" value="${esc(run.path)}"/><property name="unsupported" value="${g.unsupported}"/></properties>\n` +
          `${g.cases.join("\n")}\n  </testsuite>`,
      );
    }
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="unisock matrix" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${secs(durationMs, 3)}">\n` +
    `${suites.join("\n")}\n</testsuites>\n`
  );
}
