// @ts-check
/*
 * A vitest reporter loaded into the vitest process of each runtime (`--reporter=<this file>`).
 * It prints one line per event, prefixed by PREFIX, for the unisock CLI to draw its progress
 * display, and reports what vitest's JSON report leaves out: the run's unhandled errors and the
 * notes of skipped tests.
 * Plain JavaScript that Node, Deno and Bun all load.
 */
import { isUnsupported } from "./results.mjs";

export const PREFIX = "\u001eunisock:progress ";

const send = (event) => {
  process.stdout.write(`${PREFIX}${JSON.stringify(event)}\n`);
};

const errorText = (e, depth = 0) => {
  let message = String(e?.message ?? e);
  // vitest wraps worker crashes ("Worker forks emitted error"): the cause says what happened.
  if (e?.cause && depth < 3) message += `\nCaused by: ${errorText(e.cause, depth + 1).message}`;
  // vitest names the test file an unhandled error came from, when it knows.
  const file = typeof e?.VITEST_TEST_PATH === "string" ? e.VITEST_TEST_PATH : undefined;
  return { message, stack: typeof e?.stack === "string" ? e.stack : undefined, name: e?.name, file };
};

export default class UnisockProgressReporter {
  /** Files queued and not yet finished: at the end, those a crashed worker took down. */
  pending = new Set();

  onTestModuleQueued(testModule) {
    this.pending.add(testModule.moduleId);
  }

  onTestRunStart(specifications) {
    send({ e: "start", files: specifications.length });
  }

  onTestModuleCollected(testModule) {
    let tests = 0;
    for (const _ of testModule.children.allTests()) tests++;
    send({ e: "collected", file: testModule.moduleId, tests });
  }

  onTestCaseResult(testCase) {
    const result = testCase.result();
    // The name as vitest's JSON report spells it (titles joined by spaces), so the two can be matched.
    const titles = [testCase.name];
    for (let p = testCase.parent; p && p.type === "suite"; p = p.parent) titles.unshift(p.name);
    const event = { e: "test", file: testCase.module.moduleId, state: result.state, name: titles.join(" ") };
    // Why a test was skipped (`ctx.skip(note)`), which the JSON report leaves out.
    if (result.state === "skipped" && result.note) event.note = result.note;
    send(event);
  }

  /**
   * The tests' own console output. vitest gives it to the reporters only, and its JSON reporter
   * drops it, so it is written here as it came (`unisock ... --verbose` shows it).
   */
  onUserConsoleLog(log) {
    (log.type === "stderr" ? process.stderr : process.stdout).write(String(log.content ?? ""));
  }

  onTestModuleEnd(testModule) {
    this.pending.delete(testModule.moduleId);
    const counts = { passed: 0, failed: 0, unsupported: 0, skipped: 0 };
    for (const t of testModule.children.allTests()) {
      const state = t.result().state;
      if (state === "passed")
        counts[isUnsupported({ meta: t.meta(), tags: t.tags, title: t.name }) ? "unsupported" : "passed"]++;
      else if (state === "failed") counts.failed++;
      else if (state === "skipped") counts.skipped++;
    }
    const errors = testModule.errors().map(errorText);
    send({ e: "file", file: testModule.moduleId, state: testModule.state(), ...counts, errors });
  }

  onTestRunEnd(_testModules, unhandledErrors, reason) {
    send({ e: "end", reason, errors: unhandledErrors.map((e) => errorText(e)), unfinished: [...this.pending] });
  }
}
