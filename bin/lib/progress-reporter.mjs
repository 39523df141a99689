// @ts-check
/*
 * A vitest reporter loaded into the vitest process of each runtime (`--reporter=<this file>`).
 * It prints one line per event, prefixed by PREFIX, for the unisock CLI to draw its progress
 * display, and reports what vitest's JSON report leaves out: the run's unhandled errors and the
 * notes of skipped tests.
 * Plain JavaScript that Node, Deno and Bun all load.
 */
/**
 * @import { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, TestSpecification } from "vitest/node"
 * @import { UserConsoleLog } from "vitest"
 * @import { Counts, Meta } from "./results.mjs"
 *
 * The events, one JSON object a line:
 * @typedef {{ message: string, stack?: string, name?: unknown, file?: string }} ErrorInfo
 * @typedef {{ e: "start", files: number }} StartEvent
 * @typedef {{ e: "collected", file: string, tests: number }} CollectedEvent
 * @typedef {{ e: "test", file: string, state: string, name: string, note?: string }} TestEvent
 * @typedef {{ e: "file", file: string, state: string, errors: ErrorInfo[] } & Counts} FileEvent
 * @typedef {{ e: "end", reason: TestRunEndReason, errors: ErrorInfo[], unfinished: string[] }} EndEvent
 * @typedef {StartEvent | CollectedEvent | TestEvent | FileEvent | EndEvent} ProgressEvent
 */
import { isUnsupported } from "./results.mjs";

export const PREFIX = "\u001eunisock:progress ";

const send = (/** @type {ProgressEvent} */ event) => {
  process.stdout.write(`${PREFIX}${JSON.stringify(event)}\n`);
};

/**
 * Anything thrown, as an ErrorInfo.
 * @param {unknown} thrown
 * @returns {ErrorInfo}
 */
const errorText = (thrown, depth = 0) => {
  const e =
    /** @type {{ message?: unknown, cause?: unknown, stack?: unknown, name?: unknown, VITEST_TEST_PATH?: unknown } | null | undefined} */ (
      thrown
    );
  let message = String(e?.message ?? e);
  // vitest wraps worker crashes ("Worker forks emitted error"): the cause says what happened.
  if (e?.cause && depth < 3) message += `\nCaused by: ${errorText(e.cause, depth + 1).message}`;
  // vitest names the test file an unhandled error came from, when it knows.
  const file = typeof e?.VITEST_TEST_PATH === "string" ? e.VITEST_TEST_PATH : undefined;
  return { message, stack: typeof e?.stack === "string" ? e.stack : undefined, name: e?.name, file };
};

/** @implements {Reporter} */
export default class UnisockProgressReporter {
  /**
   * Files queued and not yet finished: at the end, those a crashed worker took down.
   * @type {Set<string>}
   */
  pending = new Set();

  /** @param {TestModule} testModule */
  onTestModuleQueued(testModule) {
    this.pending.add(testModule.moduleId);
  }

  /** @param {ReadonlyArray<TestSpecification>} specifications */
  onTestRunStart(specifications) {
    send({ e: "start", files: specifications.length });
  }

  /** @param {TestModule} testModule */
  onTestModuleCollected(testModule) {
    let tests = 0;
    for (const _ of testModule.children.allTests()) tests++;
    send({ e: "collected", file: testModule.moduleId, tests });
  }

  /** @param {TestCase} testCase */
  onTestCaseResult(testCase) {
    const result = testCase.result();
    // The name as vitest's JSON report spells it (titles joined by spaces), so the two can be matched.
    const titles = [testCase.name];
    for (let p = testCase.parent; p && p.type === "suite"; p = p.parent) titles.unshift(p.name);
    /** @type {TestEvent} */
    const event = { e: "test", file: testCase.module.moduleId, state: result.state, name: titles.join(" ") };
    // Why a test was skipped (`ctx.skip(note)`), which the JSON report leaves out.
    if (result.state === "skipped" && result.note) event.note = result.note;
    send(event);
  }

  /**
   * The tests' own console output. vitest gives it to the reporters only, and its JSON reporter
   * drops it, so it is written here as it came (`unisock ... --verbose` shows it).
   * @param {UserConsoleLog} log
   */
  onUserConsoleLog(log) {
    (log.type === "stderr" ? process.stderr : process.stdout).write(String(log.content ?? ""));
  }

  /** @param {TestModule} testModule */
  onTestModuleEnd(testModule) {
    this.pending.delete(testModule.moduleId);
    /** @type {Counts} */
    const counts = { passed: 0, failed: 0, unsupported: 0, skipped: 0 };
    for (const t of testModule.children.allTests()) {
      const state = t.result().state;
      if (state === "passed")
        counts[
          isUnsupported({ meta: /** @type {Meta} */ (t.meta()), tags: t.tags, title: t.name })
            ? "unsupported"
            : "passed"
        ]++;
      else if (state === "failed") counts.failed++;
      else if (state === "skipped") counts.skipped++;
    }
    const errors = testModule.errors().map((e) => errorText(e));
    send({ e: "file", file: testModule.moduleId, state: testModule.state(), ...counts, errors });
  }

  /**
   * @param {ReadonlyArray<TestModule>} _testModules
   * @param {ReadonlyArray<SerializedError>} unhandledErrors
   * @param {TestRunEndReason} reason
   */
  onTestRunEnd(_testModules, unhandledErrors, reason) {
    send({ e: "end", reason, errors: unhandledErrors.map((e) => errorText(e)), unfinished: [...this.pending] });
  }
}
