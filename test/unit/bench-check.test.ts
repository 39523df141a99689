/*
 * The bench's check mode (bench/check.ts) and its target verdicts (bench/report.ts): pure
 * functions over run summaries, so they are tested without running a benchmark.
 */
import { describe, expect, it } from "vitest";
import {
  anyRegression,
  checkTable,
  compare,
  type Floors,
  MAX_MARGIN,
  MIN_MARGIN,
  makeFloors,
  noiseMargin,
  parseFloors,
  verdict,
} from "../../bench/check.ts";
import { type Run, type Summary, summarize, targetMet, targets, targetTable } from "../../bench/report.ts";
import { type PathName, SCENARIOS } from "../../bench/scenarios.ts";

/** A summary row with the figures a check reads. */
function row(
  scenario: string,
  runtime: Summary["runtime"],
  path: PathName,
  ratio: number | null,
  cpuRatio: number | null,
  roundRatios: number[] = [],
  extra: Record<string, number> = {},
): Summary {
  return {
    runtime,
    scenario,
    path,
    n: roundRatios.length,
    median: ratio,
    min: ratio,
    max: ratio,
    ratio,
    cpuRatio,
    roundRatios,
    roundCpuRatios: roundRatios.map(() => cpuRatio ?? 1),
    extra,
  };
}

const FROM = { startedAt: "2026-12-06T00:00:00.000Z", mode: "quick", rounds: 5 };

describe("noise margin from the rounds' spread", () => {
  it("needs at least 3 rounds", () => {
    expect(noiseMargin([1, 1.1], 3)).toBeNull();
    expect(noiseMargin([], 3)).toBeNull();
  });

  it("is 3 standard errors of the difference of two medians, from the median absolute deviation", () => {
    // Relative deviations 0.2, 0.1, 0, 0.1, 0.2: MAD 0.1, s = 1.4826 x 0.1.
    const expected = 3 * 1.2533 * 1.4826 * 0.1 * Math.sqrt(1 / 5 + 1 / 3);
    expect(noiseMargin([0.8, 0.9, 1.0, 1.1, 1.2], 3)).toBeCloseTo(expected, 10);
    // More check rounds, a narrower margin.
    expect(noiseMargin([0.8, 0.9, 1.0, 1.1, 1.2], 9)!).toBeLessThan(expected);
  });

  it("is at least 10% when the rounds agree, and at most 50% when they scatter", () => {
    expect(noiseMargin([1, 1, 1, 1, 1], 3)).toBe(MIN_MARGIN);
    expect(noiseMargin([0.2, 1, 3, 0.1, 5], 3)).toBe(MAX_MARGIN);
  });

  it("one wild round out of five does not widen it", () => {
    expect(noiseMargin([1, 1.01, 0.99, 1, 0.3], 3)).toBe(MIN_MARGIN);
  });
});

describe("verdict of one figure", () => {
  it("a rate below ratio x (1 - margin) regressed, above ratio x (1 + margin) improved, between is ok", () => {
    expect(verdict(0.7, 1, 0.1, true)).toEqual({ limit: 0.9, verdict: "regressed" });
    expect(verdict(0.95, 1, 0.1, true).verdict).toBe("ok");
    expect(verdict(0.9, 1, 0.1, true).verdict).toBe("ok");
    expect(verdict(1.2, 1, 0.1, true).verdict).toBe("improved");
  });

  it("CPU per operation is the other way round: more is worse", () => {
    expect(verdict(1.3, 1.1, 0.1, false).verdict).toBe("regressed");
    expect(verdict(1.1, 1.1, 0.1, false).verdict).toBe("ok");
    expect(verdict(0.9, 1.1, 0.1, false).verdict).toBe("improved");
    expect(verdict(1.3, 1.1, 0.1, false).limit).toBeCloseTo(1.21, 10);
  });

  it("no figure where the floor had one is a failure", () => {
    expect(verdict(null, 1, 0.1, true).verdict).toBe("failed");
  });
});

describe("floors written from a run", () => {
  const summary = [
    row("echo", "node", "native", 1, 1, [1, 1, 1, 1, 1]),
    row("echo", "node", "direct", 0.9, 1.2, [0.9, 0.9, 0.9, 0.9, 0.9]),
    row("echo", "node", "streams", 0.7, null, [0.6, 0.65, 0.7, 0.75, 0.8]),
    row("echo", "node", "direct@before", 0.8, 1.3, [0.8, 0.8, 0.8]),
    row("echo-peer", "node", "arrowood", 0.8, 1.3, [0.8, 0.8, 0.8]),
    row("memory", "node", "direct", 1, null, [1]),
  ];

  it("cover unisock's own paths in ratio scenarios only (not native, a peer, a --compare copy or a memory bound)", () => {
    const f = makeFloors(summary, FROM, 3, true, "test");
    expect(f.floors.map((x) => `${x.scenario} ${x.path}`)).toEqual(["echo direct", "echo streams"]);
    expect(f.floors[0]).toMatchObject({
      ratio: 0.9,
      margin: MIN_MARGIN,
      cpuRatio: 1.2,
      cpuMargin: MIN_MARGIN,
      rounds: 5,
    });
    expect(f.floors[1]).toMatchObject({ ratio: 0.7, cpuRatio: null, cpuMargin: null });
    expect(f.floors[1]!.margin).toBeGreaterThan(MIN_MARGIN);
    expect(f.provisional).toBe(true);
    expect(f.from).toEqual(FROM);
  });

  it("refuse a run with fewer than 3 rounds, naming the rows", () => {
    expect(() => makeFloors([row("echo", "deno", "direct", 0.9, 1.2, [0.9])], FROM, 3, true, "")).toThrow(
      /at least 3 rounds.*echo deno direct/,
    );
  });

  it("read back by parseFloors as written", () => {
    const f = makeFloors(summary, FROM, 3, false, "final");
    expect(parseFloors(JSON.stringify(f))).toEqual(f);
  });

  it("that are malformed say where", () => {
    const good = makeFloors(summary, FROM, 3, true, "");
    expect(() => parseFloors("{")).toThrow(/not JSON/);
    expect(() => parseFloors(JSON.stringify({ ...good, floors: undefined }))).toThrow(/no "floors" array/);
    expect(() => parseFloors(JSON.stringify({ ...good, checkRounds: 0 }))).toThrow(/checkRounds/);
    const bad = (patch: object): string =>
      JSON.stringify({ ...good, floors: [good.floors[0], { ...good.floors[1], ...patch }] });
    expect(() => parseFloors(bad({ margin: 1.5 }))).toThrow(/floors\[1\] \(echo node streams\): "margin"/);
    expect(() => parseFloors(bad({ ratio: "0.7" }))).toThrow(/floors\[1\].*"ratio"/);
    expect(() => parseFloors(bad({ cpuMargin: 0.1 }))).toThrow(/both null/);
    expect(() => parseFloors(bad({ path: 3 }))).toThrow(/"path" must be a string/);
  });
});

describe("compare: a run against the floors", () => {
  const floors: Floors = {
    provisional: true,
    note: "",
    writtenAt: "",
    from: FROM,
    checkRounds: 3,
    method: "",
    floors: [
      {
        scenario: "echo",
        runtime: "node",
        path: "direct",
        ratio: 0.9,
        margin: 0.1,
        cpuRatio: 1.2,
        cpuMargin: 0.1,
        rounds: 5,
      },
      {
        scenario: "echo",
        runtime: "node",
        path: "streams",
        ratio: 0.7,
        margin: 0.1,
        cpuRatio: 1.5,
        cpuMargin: 0.1,
        rounds: 5,
      },
      {
        scenario: "udp",
        runtime: "node",
        path: "direct",
        ratio: 0.9,
        margin: 0.1,
        cpuRatio: null,
        cpuMargin: null,
        rounds: 5,
      },
      {
        scenario: "conn1",
        runtime: "bun",
        path: "direct",
        ratio: 0.6,
        margin: 0.2,
        cpuRatio: 2,
        cpuMargin: 0.2,
        rounds: 5,
      },
    ],
  };
  const now = [
    row("echo", "node", "native", 1, 1),
    row("echo", "node", "direct", 0.7, 1.25), // rate regressed, CPU ok
    row("echo", "node", "streams", 0.72, 1.2), // rate ok, CPU improved
    row("udp", "node", "native", 1, 1),
    row("udp", "node", "direct", null, null), // failed this time
    row("small", "node", "direct", 3.5, 0.3), // no floor yet
  ];

  it("gives each floor and figure its verdict", () => {
    const rows = compare(now, floors);
    const v = (sc: string, path: string, m: string): string | undefined =>
      rows.find((r) => r.scenario === sc && r.path === path && r.measure === m)?.verdict;
    expect(v("echo", "direct", "rate")).toBe("regressed");
    expect(v("echo", "direct", "cpu")).toBe("ok");
    expect(v("echo", "streams", "rate")).toBe("ok");
    expect(v("echo", "streams", "cpu")).toBe("improved");
    expect(v("udp", "direct", "rate")).toBe("failed");
    expect(v("udp", "direct", "cpu")).toBeUndefined();
    expect(v("conn1", "direct", "rate")).toBe("not run");
    expect(v("small", "direct", "rate")).toBe("new");
    expect(anyRegression(rows)).toBe(true);
  });

  it("a tolerance replaces every row's own margin", () => {
    const rows = compare(now, floors, 0.3);
    expect(rows.find((r) => r.scenario === "echo" && r.path === "direct" && r.measure === "rate")).toMatchObject({
      verdict: "ok",
      limit: 0.9 * 0.7,
    });
  });

  it("a run within its floors is no regression", () => {
    const fine = [
      row("echo", "node", "native", 1, 1),
      row("echo", "node", "direct", 0.88, 1.22),
      row("echo", "node", "streams", 0.69, 1.55),
    ];
    const rows = compare(fine, { ...floors, floors: floors.floors.slice(0, 2) });
    expect(rows.map((r) => r.verdict)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(anyRegression(rows)).toBe(false);
  });

  it("the table lists regressions and failures first, then counts every verdict", () => {
    const text = checkTable(compare(now, floors));
    const lines = text.split("\n");
    expect(lines[2]).toContain("**regressed**");
    expect(lines[3]).toContain("**failed**");
    expect(lines[2]).toContain(">= 0.81x");
    expect(text).toContain("Not run here, so not checked: bun conn1.");
    expect(text).not.toMatch(/\| conn1 \|/);
    expect(text).toContain("1 regressed, 1 failed, 1 improved, 2 ok, 1 new, 1 not run.");
  });
});

describe("targets of issue 13", () => {
  it("read/write rate, CPU and p99, Web Streams rate and the peer comparison each say met or not met", () => {
    const runs: Run[] = [];
    const add = (
      scenario: string,
      path: PathName,
      round: number,
      value: number,
      extra: Record<string, number>,
    ): void => {
      runs.push({ runtime: "node", scenario, path, round, ok: true, value, extra });
    };
    for (const round of [1, 2, 3, 4, 5]) {
      add("echo", "native", round, 100, { cpuUsPerOp: 10, p99us: 100 });
      add("echo", "direct", round, 98, { cpuUsPerOp: 10.4, p99us: 120 });
      add("echo", "streams", round, 90, { cpuUsPerOp: 12, p99us: 130 });
      add("echo-peer", "native", round, 100, {});
      add("echo-peer", "streams", round, 90, {});
      add("echo-peer", "arrowood", round, 80, {});
    }
    const summary = summarize(runs, SCENARIOS);
    expect(summary.find((s) => s.scenario === "echo" && s.path === "direct")).toMatchObject({
      ratio: 0.98,
      cpuRatio: 1.04,
      roundRatios: [0.98, 0.98, 0.98, 0.98, 0.98],
    });
    const ts = targets(summary, SCENARIOS);
    const met = (what: RegExp): boolean | null | undefined => {
      const t = ts.find((x) => what.test(x.what));
      return t ? targetMet(t) : undefined;
    };
    expect(met(/^TCP echo, 64 B: read\/write >= 0.97x/)).toBe(true);
    expect(met(/^TCP echo, 64 B: read\/write CPU per op <= 1.05x/)).toBe(true);
    expect(met(/^TCP echo, 64 B: read\/write p99 latency <= 1.1x/)).toBe(false);
    expect(met(/^TCP echo, 64 B: Web Streams >= 0.92x/)).toBe(false);
    expect(met(/client only: Web Streams >= 1.05x @arrowood/)).toBe(true);
    const table = targetTable(ts).join("\n");
    expect(table).toContain("| TCP echo, 64 B: read/write >= 0.97x native | 0.98x met |");
    expect(table).toContain("| TCP echo, 64 B: Web Streams >= 0.92x native | 0.90x **not met** |");
  });

  it("a path that failed has no figure, neither met nor not met", () => {
    const runs: Run[] = [
      { runtime: "bun", scenario: "udp", path: "native", round: 1, ok: true, value: 10, extra: { cpuUsPerOp: 1 } },
      { runtime: "bun", scenario: "udp", path: "direct", round: 1, ok: false, error: "boom" },
    ];
    const ts = targets(summarize(runs, SCENARIOS), SCENARIOS);
    expect(ts.filter((t) => t.runtime === "bun").map((t) => targetMet(t))).toEqual([null, null]);
    expect(targetTable(ts).join("\n")).toContain("– no figure");
  });
});
