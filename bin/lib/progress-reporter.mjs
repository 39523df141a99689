/*
 * A vitest reporter loaded into the vitest process of each runtime (`--reporter=<this file>`).
 * It prints one line per event, prefixed by PREFIX, for the unisock CLI to draw its progress
 * display, and reports the run's unhandled errors, which vitest's JSON report leaves out.
 * Plain JavaScript that Node, Deno and Bun all load.
 */
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
    send({ e: "test", file: testCase.module.moduleId, state: testCase.result().state, name: testCase.fullName });
  }

  onTestModuleEnd(testModule) {
    this.pending.delete(testModule.moduleId);
    let passed = 0;
    let failed = 0;
    for (const t of testModule.children.allTests()) {
      const state = t.result().state;
      if (state === "passed") passed++;
      else if (state === "failed") failed++;
    }
    const errors = testModule.errors().map(errorText);
    send({ e: "file", file: testModule.moduleId, state: testModule.state(), passed, failed, errors });
  }

  onTestRunEnd(_testModules, unhandledErrors, reason) {
    send({ e: "end", reason, errors: unhandledErrors.map((e) => errorText(e)), unfinished: [...this.pending] });
  }
}
