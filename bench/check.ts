/*
 * The bench's check mode (`npm run bench:check`, `npm run bench -- --check`, `--from=FILE`): each
 * scenario/runtime/path ratio to native, rate and CPU per operation, against floors committed in
 * bench/floors.json (`--write-floors` writes them from a measured run). A report for people, not a
 * test: rates on a shared machine move too much for CI. Pure functions, tested in
 * test/unit/bench-check.test.ts; bench/run.ts does the reading, writing and exit code.
 */
import { median, type Summary } from "./report.ts";
import { type Runtime, SCENARIOS } from "./scenarios.ts";

/** The paths that get floors: unisock's own (not native, not a peer library, not a --compare copy). */
export const CHECKED_PATHS = ["direct", "streams"];
/** The memory checks are absolute bounds (their targets), not ratios to native. */
const RATIO_SCENARIOS = new Set(SCENARIOS.filter((s) => s.boundKiB === undefined).map((s) => s.id));

/** Whether a summary row gets a floor: a ratio of unisock's own path in a ratio scenario. */
export function checked(s: Summary): boolean {
  return CHECKED_PATHS.includes(s.path) && RATIO_SCENARIOS.has(s.scenario) && s.ratio !== null;
}

/** One scenario/runtime/path as measured when the floors were written, and how far it may move. */
export interface Floor {
  scenario: string;
  runtime: Runtime;
  path: string;
  /** Ratio of medians to native, and the relative noise margin taken from its rounds. */
  ratio: number;
  margin: number;
  /** CPU per operation over native's; null where the scenario has no CPU figure. */
  cpuRatio: number | null;
  cpuMargin: number | null;
  rounds: number;
}

export interface Floors {
  /** true until the lead writes them from a run on a quiet machine. */
  provisional: boolean;
  note: string;
  writtenAt: string;
  /** The run they come from: its start, "quick"/"full", rounds, the commit of the tree and the load average at its start. */
  from: { startedAt: string; mode: string; rounds: number; commit?: string; loadAvg?: number[] };
  /** The rounds a check run is assumed to take (the margin depends on it). */
  checkRounds: number;
  method: string;
  floors: Floor[];
}

export const MIN_MARGIN = 0.1;
export const MAX_MARGIN = 0.5;
export const METHOD =
  "margin = clamp(3 x 1.2533 x s x sqrt(1/k + 1/m), 0.1, 0.5): s is the robust relative spread " +
  "(1.4826 x MAD / median) of the per-round ratios of the k rounds the floor comes from, m the rounds " +
  "of a check run; 1.2533 s / sqrt(n) is the standard error of a median of n rounds, so a check run's " +
  "median falls below ratio x (1 - margin) by noise alone about once in 700 rows (3 standard errors of " +
  "the difference of two medians, one-sided). At least 10%: rounds of one run share the machine's load " +
  "of the moment and understate the drift between runs (measured: CPU ratios of the same code moved by up to 25% " +
  "between two runs at load averages 3.8 and 7.4). At most 50%: a row that noisy is only checked for a collapse.";

/** The relative noise margin of a ratio from its per-round values, for a check of `checkRounds` rounds; null under 3 rounds. */
export function noiseMargin(perRound: number[], checkRounds: number): number | null {
  const k = perRound.length;
  if (k < 3) return null;
  const m = median(perRound);
  if (!(m > 0)) return null;
  const mad = median(perRound.map((x) => Math.abs(x / m - 1)));
  const s = 1.4826 * mad;
  const margin = 3 * 1.2533 * s * Math.sqrt(1 / k + 1 / checkRounds);
  return Math.min(MAX_MARGIN, Math.max(MIN_MARGIN, margin));
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Floors from a run's summary; throws when a row has fewer than 3 rounds (no spread to justify a margin). */
export function makeFloors(
  summary: Summary[],
  from: Floors["from"],
  checkRounds: number,
  provisional: boolean,
  note: string,
): Floors {
  const floors: Floor[] = [];
  const thin: string[] = [];
  for (const s of summary) {
    if (!checked(s)) continue;
    const margin = noiseMargin(s.roundRatios, checkRounds);
    if (margin === null) {
      thin.push(`${s.scenario} ${s.runtime} ${s.path} (${s.roundRatios.length} round(s))`);
      continue;
    }
    const cpuMargin = s.cpuRatio === null ? null : noiseMargin(s.roundCpuRatios, checkRounds);
    floors.push({
      scenario: s.scenario,
      runtime: s.runtime,
      path: s.path,
      ratio: round3(s.ratio!),
      margin: round3(margin),
      cpuRatio: s.cpuRatio === null || cpuMargin === null ? null : round3(s.cpuRatio),
      cpuMargin: s.cpuRatio === null || cpuMargin === null ? null : round3(cpuMargin),
      rounds: s.roundRatios.length,
    });
  }
  if (thin.length)
    throw new Error(
      `floors need at least 3 rounds per row, to take a noise margin from their spread; too few for: ${thin.join(", ")}`,
    );
  if (floors.length === 0)
    throw new Error("no ratio of unisock's paths to native in this run: nothing to write floors from");
  return { provisional, note, writtenAt: new Date().toISOString(), from, checkRounds, method: METHOD, floors };
}

const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const isNumOrNull = (x: unknown): x is number | null => x === null || isNum(x);

/** Parses bench/floors.json, saying which entry is malformed rather than failing later. */
export function parseFloors(text: string): Floors {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`floors: not JSON (${(err as Error).message})`);
  }
  const f = raw as Partial<Floors> | null;
  if (typeof f !== "object" || f === null || !Array.isArray(f.floors)) throw new Error('floors: no "floors" array');
  if (!isNum(f.checkRounds) || f.checkRounds < 1) throw new Error('floors: "checkRounds" must be a positive number');
  if (typeof f.from !== "object" || f.from === null || typeof f.from.mode !== "string")
    throw new Error('floors: "from" must say the run\'s mode');
  f.floors.forEach((e: Partial<Floor>, i) => {
    const where = `floors[${i}]`;
    if (typeof e !== "object" || e === null) throw new Error(`${where}: not an object`);
    for (const k of ["scenario", "runtime", "path"] as const)
      if (typeof e[k] !== "string") throw new Error(`${where}: "${k}" must be a string`);
    if (!isNum(e.ratio) || e.ratio <= 0)
      throw new Error(`${where} (${e.scenario} ${e.runtime} ${e.path}): "ratio" must be a positive number`);
    if (!isNum(e.margin) || e.margin < 0 || e.margin >= 1)
      throw new Error(`${where} (${e.scenario} ${e.runtime} ${e.path}): "margin" must be in [0, 1)`);
    if (!isNumOrNull(e.cpuRatio) || !isNumOrNull(e.cpuMargin) || (e.cpuRatio === null) !== (e.cpuMargin === null)) {
      throw new Error(
        `${where} (${e.scenario} ${e.runtime} ${e.path}): "cpuRatio" and "cpuMargin" must be numbers, or both null`,
      );
    }
  });
  return {
    provisional: f.provisional !== false,
    note: String(f.note ?? ""),
    writtenAt: String(f.writtenAt ?? ""),
    method: String(f.method ?? ""),
    from: f.from,
    checkRounds: f.checkRounds,
    floors: f.floors as Floor[],
  };
}

/**
 * regressed: worse than the floor by more than its margin; improved: better by more than it
 * (time to raise the floor); failed: the path failed or was unavailable where the floor had a
 * figure; not run: this run left the scenario or runtime out; new: a figure with no floor yet.
 */
export type Verdict = "ok" | "regressed" | "improved" | "failed" | "not run" | "new";

export interface CheckRow {
  scenario: string;
  runtime: Runtime;
  path: string;
  measure: "rate" | "cpu";
  /** The ratio when the floors were written, the limit it may not cross (rate: >=, CPU: <=), and now. */
  recorded: number | null;
  limit: number | null;
  now: number | null;
  verdict: Verdict;
}

/** The verdict of one figure against its recorded ratio and margin; `higherIsBetter` is true for rates, false for CPU. */
export function verdict(
  now: number | null,
  recorded: number,
  margin: number,
  higherIsBetter: boolean,
): { limit: number; verdict: Verdict } {
  const limit = higherIsBetter ? recorded * (1 - margin) : recorded * (1 + margin);
  if (now === null) return { limit, verdict: "failed" };
  const better = higherIsBetter ? now > recorded * (1 + margin) : now < recorded * (1 - margin);
  const worse = higherIsBetter ? now < limit : now > limit;
  return { limit, verdict: worse ? "regressed" : better ? "improved" : "ok" };
}

/**
 * Every floor against this run's summary, then every checked figure that has no floor.
 * `tolerance`, when given, replaces each floor's own margin (rate and CPU alike).
 */
export function compare(summary: Summary[], floors: Floors, tolerance?: number): CheckRow[] {
  const rows: CheckRow[] = [];
  const ran = (sc: string, rt: string): boolean => summary.some((s) => s.scenario === sc && s.runtime === rt);
  for (const f of floors.floors) {
    const s = summary.find((x) => x.scenario === f.scenario && x.runtime === f.runtime && x.path === f.path);
    const base = { scenario: f.scenario, runtime: f.runtime, path: f.path };
    if (!s && !ran(f.scenario, f.runtime)) {
      rows.push({ ...base, measure: "rate", recorded: f.ratio, limit: null, now: null, verdict: "not run" });
      continue;
    }
    const rate = verdict(s?.ratio ?? null, f.ratio, tolerance ?? f.margin, true);
    rows.push({
      ...base,
      measure: "rate",
      recorded: f.ratio,
      limit: rate.limit,
      now: s?.ratio ?? null,
      verdict: rate.verdict,
    });
    if (f.cpuRatio !== null && f.cpuMargin !== null) {
      const cpu = verdict(s?.cpuRatio ?? null, f.cpuRatio, tolerance ?? f.cpuMargin, false);
      rows.push({
        ...base,
        measure: "cpu",
        recorded: f.cpuRatio,
        limit: cpu.limit,
        now: s?.cpuRatio ?? null,
        verdict: cpu.verdict,
      });
    }
  }
  for (const s of summary) {
    if (!checked(s)) continue;
    if (floors.floors.some((f) => f.scenario === s.scenario && f.runtime === s.runtime && f.path === s.path)) continue;
    rows.push({
      scenario: s.scenario,
      runtime: s.runtime,
      path: s.path,
      measure: "rate",
      recorded: null,
      limit: null,
      now: s.ratio,
      verdict: "new",
    });
  }
  return rows;
}

/** true when some row regressed or failed: the check's exit status is then 1. */
export function anyRegression(rows: CheckRow[]): boolean {
  return rows.some((r) => r.verdict === "regressed" || r.verdict === "failed");
}

/** The table people read: regressions and failures first, then improvements, new rows, the rest; floors this run did not reach in one line. */
export function checkTable(rows: CheckRow[]): string {
  const order: Verdict[] = ["regressed", "failed", "improved", "new", "ok"];
  const sorted = rows
    .filter((r) => r.verdict !== "not run")
    .sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict));
  const x = (v: number | null): string => (v === null ? "–" : `${v.toFixed(2)}x`);
  const L = [
    "| scenario | runtime | path | measure | floor run | limit | now | verdict |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of sorted) {
    const limit = r.limit === null ? "–" : `${r.measure === "rate" ? ">=" : "<="} ${x(r.limit)}`;
    const v = r.verdict === "regressed" || r.verdict === "failed" ? `**${r.verdict}**` : r.verdict;
    L.push(
      `| ${r.scenario} | ${r.runtime} | ${r.path} | ${r.measure === "rate" ? "rate x native" : "CPU/op x native"} | ${x(r.recorded)} | ${limit} | ${x(r.now)} | ${v} |`,
    );
  }
  const count = (v: Verdict): number => rows.filter((r) => r.verdict === v).length;
  L.push("");
  const notRun = [...new Set(rows.filter((r) => r.verdict === "not run").map((r) => `${r.runtime} ${r.scenario}`))];
  if (notRun.length) L.push(`Not run here, so not checked: ${notRun.join(", ")}.`, "");
  L.push(
    `${count("regressed")} regressed, ${count("failed")} failed, ${count("improved")} improved, ${count("ok")} ok, ${count("new")} new, ${count("not run")} not run.`,
  );
  return `${L.join("\n")}\n`;
}
