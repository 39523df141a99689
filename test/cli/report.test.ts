import { describe, expect, it, vi } from "vitest";
import { Progress } from "../../bin/lib/progress.mjs";
import UnisockProgressReporter, { PREFIX } from "../../bin/lib/progress-reporter.mjs";
import {
  buildMatrix,
  condense,
  fileGroup,
  finalLine,
  isUnsupported,
  summarize,
  testKey,
} from "../../bin/lib/results.mjs";
import { toJUnit } from "../../bin/lib/junit.mjs";
import { formatReport, legend } from "../../bin/lib/text.mjs";

const root = "/p";
const assertion = (title: string, status: string, extra: Record<string, unknown> = {}) => ({
  ancestorTitles: ["tcp"],
  title,
  fullName: `tcp ${title}`,
  status,
  duration: 3,
  failureMessages:
    status === "failed"
      ? ["AssertionError: boom\n    at /p/test/x.test.ts:3:1\n    at /p/node_modules/vitest/x.js:1:1"]
      : [],
  meta: {},
  tags: [],
  ...extra,
});

/** A vitest JSON report with one passing, two unsupported, one failing, two skipped tests and a broken file. */
/** The skip notes the progress reporter passes on (vitest's JSON report has none). */
const notes = new Map([
  [
    testKey("/p/test/conformance/tcp.test.ts", "tcp with socat"),
    "needs socat (apt-get update && apt-get install -y socat)",
  ],
]);
const report = {
  numTotalTests: 6,
  testResults: [
    {
      name: "/p/test/conformance/tcp.test.ts",
      status: "failed",
      message: "",
      assertionResults: [
        assertion("echoes", "passed"),
        assertion("udp [unsupported]", "passed"),
        assertion("reusePort", "passed", { meta: { unsupported: "reusePort is not supported on deno" } }),
        assertion("resets", "failed"),
        assertion("later", "skipped"),
        assertion("with socat", "skipped"),
      ],
    },
    {
      name: "/p/test/conformance/udp.test.ts",
      status: "failed",
      message: "Cannot find module './context.ts'",
      assertionResults: [],
    },
  ],
};

describe("results: from vitest's JSON report to counts", () => {
  it("names a group after the test file under test/, without .test.ts", () => {
    expect(fileGroup("/p/test/conformance/tcp.test.ts", root)).toBe("conformance/tcp");
    expect(fileGroup("/p/spec/a.spec.mjs", root)).toBe("spec/a");
  });

  it("counts a passing test as unsupported by its meta, its tag or the title marker", () => {
    expect(isUnsupported({ title: "x", meta: { unsupported: true } })).toBe(true);
    expect(isUnsupported({ title: "x", meta: { unsupported: "TLS is not supported on bun" } })).toBe(true);
    expect(isUnsupported({ title: "x", tags: ["unsupported"] })).toBe(true);
    expect(isUnsupported({ title: "multicast [unsupported]" })).toBe(true);
    expect(isUnsupported({ title: "multicast", meta: {} })).toBe(false);
  });

  it("counts passed, failed, unsupported and skipped, and a file that did not load as a failure", () => {
    const s = summarize(report, { root, groupBy: "file", extraErrors: [], notes });
    expect(s.counts).toEqual({ passed: 1, failed: 2, unsupported: 2, skipped: 2 });
    expect(s.errors).toEqual([
      { group: "conformance/udp", name: "(file)", message: "Cannot find module './context.ts'" },
    ]);
  });

  it("groups by top-level describe on request", () => {
    const s = summarize(report, { root, groupBy: "describe", extraErrors: [] });
    expect(new Set(s.tests.map((t: { group: string }) => t.group))).toEqual(new Set(["conformance/tcp › tcp"]));
  });

  it("turns a run without a report into one failure of the (run) group", () => {
    const s = summarize(undefined, { root, extraErrors: [{ message: "vitest exited with status 1" }] });
    expect(s.counts.failed).toBe(1);
    expect(s.errors[0].group).toBe("(run)");
  });

  it("keeps an error's message and its first frames outside node_modules", () => {
    const text =
      "\u001b[31mAssertionError: boom\u001b[39m\n    at /p/node_modules/a.js:1:1\n    at /p/test/x.test.ts:3:1\n    at /p/test/y.ts:4:1\n    at /p/test/z.ts:5:1";
    expect(condense(text)).toBe("AssertionError: boom\n    at /p/test/x.test.ts:3:1\n    at /p/test/y.ts:4:1");
  });

  it("keeps why a test was skipped or unsupported", () => {
    const s = summarize(report, { root, extraErrors: [], notes });
    const reason = (name: string) => s.tests.find((t: { name: string }) => t.name === `tcp ${name}`).reason;
    expect(reason("udp [unsupported]")).toBe("checked ERR_UNSUPPORTED");
    expect(reason("reusePort")).toBe("reusePort is not supported on deno");
    expect(reason("with socat")).toBe("needs socat (apt-get update && apt-get install -y socat)");
    expect(reason("later")).toBe("no reason given");
    expect(reason("echoes")).toBeUndefined();
  });
});

describe("the matrix: a row per group, a column per runtime", () => {
  const node = { label: "node 24.21.0", ...summarize(report, { root, extraErrors: [], notes }) };
  const deno = {
    label: "deno 2.9.6",
    ...summarize({ testResults: [report.testResults[0]] }, { root, extraErrors: [], notes }),
  };
  const m = buildMatrix([node, deno]);

  it("has one row per group and one cell per runtime, — where a runtime did not run the group", () => {
    expect(m.columns).toEqual(["node 24.21.0", "deno 2.9.6"]);
    expect(m.rows.map((r: { group: string }) => r.group)).toEqual(["conformance/tcp", "conformance/udp"]);
    expect(m.rows[0].cells[0]).toEqual({ passed: 1, failed: 1, unsupported: 2, skipped: 2 });
    expect(m.rows[1].cells[1]).toBeNull();
  });

  it("prints the table, the unsupported, skipped and failed tests by name, then the final line last", () => {
    const text = formatReport(m);
    expect(text).toContain("| group ");
    expect(text).toMatch(/\| conformance\/tcp +\| 1\/1\/2\/2 +\| 1\/1\/2\/2 +\|/);
    expect(text).toMatch(/\| conformance\/udp +\| 0\/1\/0\/0 +\| — +\|/);
    expect(text).toContain("cells: passed/failed/unsupported/skipped; — not run in that runtime");
    expect(text).toContain("✗ node 24.21.0 › conformance/tcp › tcp resets");
    expect(text).toContain("✗ node 24.21.0 › conformance/udp › (file)");
    expect(text).toContain(
      "Unsupported: passed by checking that the runtime refuses with ERR_UNSUPPORTED (4):\n  node 24.21.0 (2):\n",
    );
    expect(text).toContain("    - conformance/tcp › tcp reusePort: reusePort is not supported on deno\n");
    expect(text).toContain(
      "Skipped: not run, and why (4):\n  2 × no reason given\n  2 × needs socat (apt-get update && apt-get install -y socat)\n  node 24.21.0 (2):\n",
    );
    expect(text).toContain(
      "    - conformance/tcp › tcp with socat: needs socat (apt-get update && apt-get install -y socat)\n",
    );
    // Passed, failed and skipped on the last line; the unsupported ones (2 per runtime) on the line above.
    expect(text.split("\n").slice(-2)).toEqual([
      '4 unsupported (passed by checking ERR_UNSUPPORTED; not in "passed")',
      "2 passed, 3 failed, 4 skipped",
    ]);
    expect(finalLine(m.totals)).toBe("2 passed, 3 failed, 4 skipped");
  });

  it("names in the legend only what occurs", () => {
    const plain = buildMatrix([
      {
        label: "node 24",
        ...summarize(
          {
            testResults: [
              { name: "/p/test/a.test.ts", status: "passed", assertionResults: [assertion("ok", "passed")] },
            ],
          },
          { root },
        ),
      },
    ]);
    expect(legend(plain)).toBe("cells: passed/failed");
    const text = formatReport(plain);
    expect(text).toMatch(/\| a +\| 1\/0 +\|/);
    expect(text).not.toMatch(/Unsupported|Skipped|Failures|unsupported \(/);
    expect(text.split("\n").at(-1)).toBe("1 passed, 0 failed, 0 skipped");
  });

  it("writes one JUnit file with a suite per runtime and group", () => {
    const xml = toJUnit({
      runs: [
        { name: "node", version: "24.21.0", path: "/n", ...node },
        { name: "deno", version: "2.9.6", path: "/d", ...deno },
      ],
      durationMs: 10,
      timestamp: "t",
    });
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="unisock matrix" tests="13" failures="3" errors="0" skipped="4"/,
    );
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml).toContain('<testsuite name="deno 2.9.6 › conformance/tcp" tests="6" failures="1"');
    expect(xml).toContain('<property name="unsupported" value="true"/>');
    expect(xml).toContain('<property name="unsupported" value="2"/>');
    expect(xml).toContain("<system-out>unsupported on deno 2.9.6: reusePort is not supported on deno</system-out>");
    expect(xml).toContain('<skipped message="needs socat (apt-get update &amp;&amp; apt-get install -y socat)"/>');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the report must hold none of them
    expect(xml).not.toMatch(/[\u0000-\u0008]/);
  });
});

describe("progress display", () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, stream: { isTTY, columns: 80, write: (s: string) => chunks.push(s) } };
  };
  const events = (p: Progress) => {
    p.start("node 24");
    p.event("node 24", { e: "start", files: 2 });
    p.event("node 24", { e: "collected", file: "/p/test/a.test.ts", tests: 2 });
    p.event("node 24", { e: "test", file: "/p/test/a.test.ts", state: "passed" });
    p.event("node 24", { e: "file", file: "/p/test/a.test.ts", state: "passed", passed: 2, failed: 0, errors: [] });
    p.end("node 24", { passed: 2, failed: 0, unsupported: 1, skipped: 0 }, 1500);
  };

  it("prints plain lines when not on a terminal", () => {
    const { chunks, stream } = sink(false);
    events(new Progress({ stream, live: false, root }));
    expect(chunks.join("")).toBe(
      "[node 24] started\n[node 24] ✓ a: 2 passed, 0 failed (1/2 files)\n[node 24] ✓ done: 2 passed, 0 failed, 1 unsupported in 1.5 s\n",
    );
  });

  it("rewrites one line in place on a terminal and leaves the summary", () => {
    const { chunks, stream } = sink(true);
    const p = new Progress({ stream, live: true, root });
    events(p);
    const out = chunks.join("");
    expect(out).toContain("node 24  starting  0 passed");
    expect(out).toContain("\r\u001b[0J");
    expect(out.endsWith("✓ node 24: 2 passed, 0 failed, 1 unsupported in 1.5 s\n")).toBe(true);
  });
});

describe("the progress reporter inside vitest", () => {
  it("gives every error of a file its cause, the fifth as the first", () => {
    const errors = Array.from({ length: 5 }, (_, i) =>
      Object.assign(new Error(`worker ${i} died`), { cause: new Error(`cause ${i}`) }),
    );
    const testModule = {
      moduleId: "/p/test/x.test.ts",
      children: { allTests: () => [] },
      errors: () => errors,
      state: () => "failed",
    };
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      new UnisockProgressReporter().onTestModuleEnd(testModule as never);
    } finally {
      write.mockRestore();
    }
    const event = JSON.parse(lines.find((l) => l.startsWith(PREFIX))!.slice(PREFIX.length));
    expect(event.errors.map((e: { message: string }) => e.message)).toEqual(
      errors.map((_, i) => `worker ${i} died\nCaused by: cause ${i}`),
    );
  });
});
