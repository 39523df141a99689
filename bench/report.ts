/** Turns bench runs into the summary (median, min, max, ratio to native), the Markdown tables and the SVG chart. */
import { PATH_LABEL, type PathName, pathLabel, type Runtime, type Scenario, splitPath } from "./scenarios.ts";

export interface Run {
  runtime: Runtime;
  scenario: string;
  path: PathName;
  round: number;
  ok: boolean;
  value?: number;
  extra?: Record<string, unknown>;
  unavailable?: boolean;
  error?: string;
}

export interface Summary {
  runtime: Runtime;
  scenario: string;
  path: PathName;
  n: number;
  median: number | null;
  min: number | null;
  max: number | null;
  /** median / native median of the same runtime and scenario. */
  ratio: number | null;
  /** Median CPU time per operation over native's (lower is better). */
  cpuRatio: number | null;
  /** The ratio to native within each round where both ran: the rounds' spread, for floors (bench/check.ts). */
  roundRatios: number[];
  roundCpuRatios: number[];
  /** Medians of the extra figures (p50us, p99us, loss, cpuUsPerOp, ...). */
  extra: Record<string, number>;
  note?: string;
}

export interface Results {
  startedAt: string;
  durationSeconds: number;
  mode: string;
  rounds: number;
  machine: Record<string, unknown>;
  params: Record<string, unknown>;
  runs: Run[];
  summary: Summary[];
}

const RUNTIMES: Runtime[] = ["node", "deno", "bun"];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The paths run for one scenario and runtime, in the order of the first round (native first). */
function pathsOf(runs: Run[]): PathName[] {
  return [...new Set(runs.map((r) => r.path))].sort((a, b) => Number(b === "native") - Number(a === "native"));
}

export function summarize(runs: Run[], scenarios: Scenario[]): Summary[] {
  const out: Summary[] = [];
  for (const sc of scenarios) {
    for (const runtime of RUNTIMES) {
      const mine = runs.filter((r) => r.scenario === sc.id && r.runtime === runtime);
      for (const path of pathsOf(mine)) {
        const rs = mine.filter((r) => r.path === path);
        const ok = rs.filter((r) => r.ok);
        const vals = ok.map((r) => r.value!);
        const extra: Record<string, number> = {};
        for (const key of new Set(ok.flatMap((r) => Object.keys(r.extra ?? {})))) {
          const xs = ok.map((r) => r.extra?.[key]).filter((x): x is number => typeof x === "number");
          if (xs.length) extra[key] = median(xs);
        }
        const bad = rs.find((r) => !r.ok);
        const roundRatios: number[] = [];
        const roundCpuRatios: number[] = [];
        for (const r of ok) {
          const n = mine.find((x) => x.path === "native" && x.round === r.round && x.ok);
          if (n?.value) roundRatios.push(r.value! / n.value);
          const c = r.extra?.cpuUsPerOp;
          const nc = n?.extra?.cpuUsPerOp;
          if (typeof c === "number" && typeof nc === "number" && nc > 0) roundCpuRatios.push(c / nc);
        }
        out.push({
          runtime,
          scenario: sc.id,
          path,
          n: vals.length,
          median: vals.length ? median(vals) : null,
          min: vals.length ? Math.min(...vals) : null,
          max: vals.length ? Math.max(...vals) : null,
          ratio: null,
          cpuRatio: null,
          roundRatios,
          roundCpuRatios,
          extra,
          ...(bad
            ? {
                note: bad.unavailable
                  ? `not available: ${bad.error}`
                  : `${rs.length - ok.length} of ${rs.length} failed: ${bad.error}`,
              }
            : {}),
        });
      }
    }
  }
  for (const s of out) {
    const native = out.find((o) => o.scenario === s.scenario && o.runtime === s.runtime && o.path === "native");
    if (s.median !== null && native?.median) s.ratio = s.median / native.median;
    const c = s.extra.cpuUsPerOp;
    const nc = native?.extra.cpuUsPerOp;
    if (c !== undefined && nc) s.cpuRatio = c / nc;
  }
  return out;
}

/** 16.5, 59.9k, 1.35M: three significant digits. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(x / 1e3).toPrecision(3)}k`;
  if (a >= 100) return x.toFixed(0);
  return x.toPrecision(3);
}

const cell = (s: Summary | undefined): string => {
  if (!s) return "";
  if (s.median === null) return s.note?.startsWith("not available") ? "n/a" : "failed";
  const range = s.n > 1 ? ` (${fmt(s.min)}–${fmt(s.max)})` : "";
  return `${fmt(s.median)}${range}${s.note ? " *" : ""}`;
};
const ratio = (s: Summary | undefined): string => (s?.ratio != null ? `${s.ratio.toFixed(2)}x` : "–");

export interface Target {
  what: string;
  runtime: Runtime;
  figure: number | null;
  goal: number;
  /** "min": figure >= goal; "max": figure <= goal. */
  kind: "min" | "max";
  show: (x: number) => string;
}

/** true: met; false: not met; null: no figure (the path failed or did not run). */
export function targetMet(t: Target): boolean | null {
  if (t.figure === null) return null;
  return t.kind === "min" ? t.figure >= t.goal : t.figure <= t.goal;
}

/** The scenarios issue 13's ratio targets cover (every one the issue's table lists). */
export const RATIO_TARGET_SCENARIOS = ["bulk", "bulk1", "echo", "small", "udp", "conn1", "conn50"];

/** Issue 13: read/write >= 0.97x native and <= 1.05x its CPU per operation; Web Streams >= 0.92x native. */
export const GOALS = { directRate: 0.97, directCpu: 1.05, directP99: 1.1, streamsRate: 0.92, streamsVsArrowood: 1.05 };

export function targets(summary: Summary[], scenarios: Scenario[]): Target[] {
  const get = (sc: string, rt: Runtime, p: PathName): Summary | undefined =>
    summary.find((s) => s.scenario === sc && s.runtime === rt && s.path === p);
  const t: Target[] = [];
  const x = (v: number): string => `${v.toFixed(2)}x`;
  const ofMedians = (a: number | null | undefined, b: number | null | undefined): number | null =>
    a != null && b ? a / b : null;
  for (const sc of scenarios.filter((s) => RATIO_TARGET_SCENARIOS.includes(s.id))) {
    for (const rt of RUNTIMES) {
      const d = get(sc.id, rt, "direct");
      if (d) {
        t.push({
          what: `${sc.title}: read/write >= ${GOALS.directRate}x native`,
          runtime: rt,
          figure: d.ratio,
          goal: GOALS.directRate,
          kind: "min",
          show: x,
        });
        t.push({
          what: `${sc.title}: read/write CPU per op <= ${GOALS.directCpu}x native`,
          runtime: rt,
          figure: d.cpuRatio,
          goal: GOALS.directCpu,
          kind: "max",
          show: x,
        });
        if (sc.worker === "echo") {
          const p99 = ofMedians(d.extra.p99us, get(sc.id, rt, "native")?.extra.p99us);
          t.push({
            what: `${sc.title}: read/write p99 latency <= ${GOALS.directP99}x native`,
            runtime: rt,
            figure: p99,
            goal: GOALS.directP99,
            kind: "max",
            show: x,
          });
        }
      }
      const w = get(sc.id, rt, "streams");
      if (w)
        t.push({
          what: `${sc.title}: Web Streams >= ${GOALS.streamsRate}x native`,
          runtime: rt,
          figure: w.ratio,
          goal: GOALS.streamsRate,
          kind: "min",
          show: x,
        });
    }
  }
  const arrow = get("echo-peer", "node", "arrowood");
  const ws = get("echo-peer", "node", "streams");
  if (arrow && ws) {
    t.push({
      what: `TCP echo 64 B, client only: Web Streams >= ${GOALS.streamsVsArrowood}x @arrowood.dev/socket`,
      runtime: "node",
      figure: ofMedians(ws.median, arrow.median),
      goal: GOALS.streamsVsArrowood,
      kind: "min",
      show: x,
    });
  }
  // Earlier issues' targets, kept so that what was reached stays reached.
  for (const p of ["direct", "streams"] as const) {
    const c = get("conn50", "node", p);
    if (c)
      t.push({
        what: `50 concurrent connects (${PATH_LABEL[p]}) >= 3,500/s`,
        runtime: "node",
        figure: c.median,
        goal: 3500,
        kind: "min",
        show: fmt,
      });
  }
  const dn = get("small", "deno", "direct");
  const nd = get("small", "node", "direct");
  if (dn && nd) {
    t.push({
      what: "small messages: unisock on Deno >= unisock on Node (read/write)",
      runtime: "deno",
      figure: ofMedians(dn.median, nd.median),
      goal: 1,
      kind: "min",
      show: x,
    });
  }
  for (const sc of scenarios.filter((x) => x.boundKiB !== undefined)) {
    for (const rt of RUNTIMES) {
      for (const p of ["direct", "streams"] as const) {
        const m = get(sc.id, rt, p);
        const what = sc.id === "memory" ? "writer to a non-reading peer" : "non-reading receiver";
        if (m)
          t.push({
            what: `${what} holds <= ${sc.boundKiB} KiB (${PATH_LABEL[p]})`,
            runtime: rt,
            figure: m.median,
            goal: sc.boundKiB!,
            kind: "max",
            show: (v) => `${v.toFixed(0)} KiB`,
          });
      }
    }
  }
  return t;
}

export function renderMarkdown(r: Results, scenarios: Scenario[]): string {
  const S = r.summary;
  const get = (sc: string, rt: Runtime, p: PathName): Summary | undefined =>
    S.find((s) => s.scenario === sc && s.runtime === rt && s.path === p);
  const L: string[] = [];
  const v = r.machine.versions as Record<string, string>;
  L.push(
    `Run ${r.startedAt}${r.machine.commit ? ` of ${r.machine.commit}` : ""}, ${r.mode}, ${r.rounds} round(s), ${r.durationSeconds.toFixed(0)} s; ${r.machine.nproc} cores (${r.machine.cpu}); node ${v.node}, ${v.deno}, bun ${v.bun}; load average at start ${(r.machine.loadAvgStart as number[]).map((x) => x.toFixed(2)).join(" ")}.`,
  );
  L.push(
    "Each figure is the median of the rounds, with (min–max); the paths of a scenario are interleaved in every round; `x` is the ratio of medians to the runtime's native API in the same run. Loopback. Bulk runs both across two processes and in one; UDP across two; " +
      (r.mode.includes("two processes")
        ? "here echo, small messages and connections did too (--separate)."
        : "echo, small messages and connections in one process, like the anchors in RUNTIME-NOTES (across two processes this VM's wake-up latency, about 100 µs, dominates every round trip)."),
  );
  L.push("");
  L.push("| scenario | runtime | native | unisock read/write | x | unisock Web Streams | x |");
  L.push("|---|---|---|---|---|---|---|");
  for (const sc of scenarios) {
    if (sc.boundKiB !== undefined || sc.id === "echo-peer") continue;
    for (const rt of RUNTIMES) {
      const n = get(sc.id, rt, "native");
      if (!n) continue;
      const d = get(sc.id, rt, "direct");
      const w = get(sc.id, rt, "streams");
      L.push(`| ${sc.title} (${sc.unit}) | ${rt} | ${cell(n)} | ${cell(d)} | ${ratio(d)} | ${cell(w)} | ${ratio(w)} |`);
    }
  }
  L.push("");
  L.push(
    "CPU time of both processes per operation, microseconds (median of rounds; per MiB for bulk, per round trip, message, datagram sent or connection), and its ratio to native (lower is better). Far less disturbed by other load on the machine than the rates above:",
  );
  L.push("");
  L.push("| scenario | runtime | native | unisock read/write | x | unisock Web Streams | x |");
  L.push("|---|---|---|---|---|---|---|");
  const cpu = (s: Summary | undefined): string => fmt(s?.extra.cpuUsPerOp);
  const cpuX = (s: Summary | undefined): string => (s?.cpuRatio != null ? `${s.cpuRatio.toFixed(2)}x` : "–");
  for (const sc of scenarios) {
    if (sc.boundKiB !== undefined) continue;
    for (const rt of RUNTIMES) {
      const n = get(sc.id, rt, "native");
      if (n?.extra.cpuUsPerOp === undefined) continue;
      const d = get(sc.id, rt, "direct");
      const w = get(sc.id, rt, "streams");
      const more =
        sc.id === "echo-peer"
          ? ["arrowood" as const]
              .map((p) => `; ${PATH_LABEL[p]} ${cpu(get(sc.id, rt, p))} (${cpuX(get(sc.id, rt, p))})`)
              .join("")
          : "";
      L.push(`| ${sc.title} | ${rt} | ${cpu(n)} | ${cpu(d)} | ${cpuX(d)} | ${cpu(w)}${more} | ${cpuX(w)} |`);
    }
  }
  if (RUNTIMES.some((rt) => get("echo", rt, "native"))) {
    L.push("");
    L.push("Echo latency, microseconds (median of rounds), and each path's p99 over native's:");
    L.push("");
    L.push("| runtime | native p50 / p99 | read/write p50 / p99 | x p99 | Web Streams p50 / p99 | x p99 |");
    L.push("|---|---|---|---|---|---|");
    for (const rt of RUNTIMES) {
      const native = get("echo", rt, "native");
      if (!native) continue;
      const e = (s: Summary | undefined): string =>
        s?.extra.p50us !== undefined ? `${s.extra.p50us.toFixed(1)} / ${s.extra.p99us!.toFixed(1)}` : "–";
      const x99 = (s: Summary | undefined): string =>
        s?.extra.p99us !== undefined && native.extra.p99us
          ? `${(s.extra.p99us / native.extra.p99us).toFixed(2)}x`
          : "–";
      const d = get("echo", rt, "direct");
      const w = get("echo", rt, "streams");
      L.push(`| ${rt} | ${e(native)} | ${e(d)} | ${x99(d)} | ${e(w)} | ${x99(w)} |`);
    }
  }
  if (RUNTIMES.some((rt) => get("udp", rt, "native"))) {
    L.push("");
    L.push("UDP: datagrams sent per second by the sender and the share lost (median of rounds):");
    L.push("");
    L.push("| runtime | native sent/s, loss | read/write sent/s, loss | Web Streams sent/s, loss |");
    L.push("|---|---|---|---|");
    for (const rt of RUNTIMES) {
      const u = (p: PathName): string => {
        const s = get("udp", rt, p);
        return s?.extra.loss !== undefined
          ? `${fmt(s.extra.sentPerSecond)}, ${(s.extra.loss * 100).toFixed(1)}%`
          : s?.note?.startsWith("not available")
            ? "n/a"
            : "–";
      };
      if (get("udp", rt, "native")) L.push(`| ${rt} | ${u("native")} | ${u("direct")} | ${u("streams")} |`);
    }
  }
  const peer = scenarios.find((s) => s.id === "echo-peer");
  if (peer && get("echo-peer", "node", "native")) {
    L.push("");
    L.push(`${peer.title}, Node, ${peer.unit}:`);
    L.push("");
    L.push(`| ${peer.paths.map((p) => PATH_LABEL[p as keyof typeof PATH_LABEL]).join(" | ")} |`);
    L.push(`|${peer.paths.map(() => "---").join("|")}|`);
    L.push(
      `| ${peer.paths
        .map((p) => {
          const s = get("echo-peer", "node", p);
          return `${cell(s)}${p === "native" ? "" : ` ${ratio(s)}`}`;
        })
        .join(" | ")} |`,
    );
  }
  const nodenet = scenarios.filter((sc) => get(sc.id, "deno", "deno-nodenet"));
  if (nodenet.length) {
    L.push("");
    L.push(
      "Deno: its node:net (the code of the native Node path, run on Deno) against Deno.connect/listen (native), median of rounds; CPU µs per operation:",
    );
    L.push("");
    L.push("| scenario | Deno.connect | node:net | x | CPU Deno.connect | CPU node:net | x |");
    L.push("|---|---|---|---|---|---|---|");
    for (const sc of nodenet) {
      const n = get(sc.id, "deno", "native");
      const o = get(sc.id, "deno", "deno-nodenet");
      L.push(
        `| ${sc.title} (${sc.unit}) | ${cell(n)} | ${cell(o)} | ${ratio(o)} | ${cpu(n)} | ${cpu(o)} | ${cpuX(o)} |`,
      );
    }
    const echo = get("echo", "deno", "deno-nodenet");
    const native = get("echo", "deno", "native");
    if (echo?.extra.p99us !== undefined && native?.extra.p99us !== undefined) {
      L.push("");
      L.push(
        `Echo latency p50 / p99, µs: Deno.connect ${native.extra.p50us!.toFixed(1)} / ${native.extra.p99us.toFixed(1)}, node:net ${echo.extra.p50us!.toFixed(1)} / ${echo.extra.p99us.toFixed(1)}.`,
      );
    }
  }
  const compared = S.filter((s) => splitPath(s.path).label !== undefined);
  if (compared.length) {
    L.push("");
    L.push(
      "Before/after, in this same run (paths interleaved in every round): ratio to native of unisock from another src/ copy (`--compare`) and of this one, rate and CPU per operation:",
    );
    L.push("");
    L.push("| scenario | runtime | path | rate x, other | rate x, this | CPU x, other | CPU x, this |");
    L.push("|---|---|---|---|---|---|---|");
    const x2 = (v: number | null | undefined): string => (v != null ? `${v.toFixed(2)}x` : "–");
    for (const c of compared) {
      const sc = scenarios.find((x) => x.id === c.scenario)!;
      const base = get(c.scenario, c.runtime, splitPath(c.path).base);
      const value = (s: Summary | undefined): string =>
        sc.boundKiB !== undefined ? (s?.median != null ? `${s.median.toFixed(0)} KiB` : "–") : x2(s?.ratio);
      L.push(
        `| ${sc.title} | ${c.runtime} | ${pathLabel(c.path)} | ${value(c)} | ${value(base)} | ${x2(c.cpuRatio)} | ${x2(base?.cpuRatio)} |`,
      );
    }
  }
  for (const sc of scenarios.filter((x) => x.boundKiB !== undefined)) {
    if (!RUNTIMES.some((rt) => get(sc.id, rt, "native"))) continue;
    L.push("");
    L.push(
      `${sc.title} (64 KiB writes; bytes handed over that are in neither kernel queue; bound ${sc.boundKiB} KiB):`,
    );
    L.push("");
    L.push("| runtime | native | unisock read/write | unisock Web Streams |");
    L.push("|---|---|---|---|");
    for (const rt of RUNTIMES) {
      const m = (p: PathName): string => {
        const s = get(sc.id, rt, p);
        return s?.median != null ? `${s.median.toFixed(0)} KiB` : s ? cell(s) : "–";
      };
      if (get(sc.id, rt, "native")) L.push(`| ${rt} | ${m("native")} | ${m("direct")} | ${m("streams")} |`);
    }
  }
  L.push("");
  L.push(
    "Targets (issue 13's first, then earlier issues' that stay reached); each cell is the figure and whether it meets the target:",
  );
  L.push("");
  L.push(...targetTable(targets(S, scenarios)));
  const notes = S.filter((s) => s.note);
  if (notes.length) {
    L.push("");
    L.push("Notes (*):");
    L.push("");
    for (const s of notes) L.push(`- ${s.runtime} ${s.scenario} ${pathLabel(s.path)}: ${s.note}`);
  }
  return `${L.join("\n")}\n`;
}

/** One row per target, one column per runtime: "0.98x met", "0.83x **not met**", "– no figure". */
export function targetTable(ts: Target[]): string[] {
  const rts = RUNTIMES.filter((rt) => ts.some((t) => t.runtime === rt));
  const L = [`| target | ${rts.join(" | ")} |`, `|---|${rts.map(() => "---").join("|")}|`];
  for (const what of new Set(ts.map((t) => t.what))) {
    const cells = rts.map((rt) => {
      const t = ts.find((x) => x.what === what && x.runtime === rt);
      if (!t) return "";
      const met = targetMet(t);
      return met === null ? "– no figure" : `${t.show(t.figure!)} ${met ? "met" : "**not met**"}`;
    });
    L.push(`| ${what} | ${cells.join(" | ")} |`);
  }
  return L;
}

const COLORS: Record<"native" | "direct" | "streams" | "arrowood", string> = {
  native: "#7f8c8d",
  direct: "#2e86de",
  streams: "#e67e22",
  arrowood: "#8e44ad",
};
const charted = (p: PathName): p is keyof typeof COLORS => p in COLORS;
const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** One panel per scenario, a group of bars per runtime, a bar per path with its min–max whisker. */
export function renderChart(r: Results, scenarios: Scenario[]): string {
  const panels = scenarios.filter((s) => s.boundKiB === undefined && r.summary.some((x) => x.scenario === s.id));
  const W = 460;
  const H = 230;
  const cols = 2;
  const top = 50;
  const width = W * cols + 20;
  const height = top + Math.ceil(panels.length / cols) * H + 10;
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
  );
  o.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  o.push(
    `<text x="10" y="20" font-size="15" font-weight="bold">unisock bench (${esc(r.mode)}, ${r.rounds} round(s), median with min–max)</text>`,
  );
  let lx = 10;
  for (const p of ["native", "direct", "streams", "arrowood"] as const) {
    o.push(
      `<rect x="${lx}" y="30" width="10" height="10" fill="${COLORS[p]}"/><text x="${lx + 14}" y="39">${esc(PATH_LABEL[p])}</text>`,
    );
    lx += 30 + PATH_LABEL[p].length * 6;
  }
  panels.forEach((sc, i) => {
    const x0 = 10 + (i % cols) * W;
    const y0 = top + Math.floor(i / cols) * H;
    const rows = r.summary.filter((s) => s.scenario === sc.id && charted(s.path));
    const max = Math.max(1e-9, ...rows.map((s) => s.max ?? 0));
    const plotTop = y0 + 36;
    const plotH = H - 83;
    const base = plotTop + plotH;
    o.push(
      `<text x="${x0}" y="${y0 + 16}" font-size="12" font-weight="bold">${esc(sc.title)} (${esc(sc.unit)})</text>`,
    );
    o.push(`<line x1="${x0}" y1="${base}" x2="${x0 + W - 20}" y2="${base}" stroke="#333"/>`);
    const rts = RUNTIMES.filter((rt) => rows.some((s) => s.runtime === rt));
    const groupW = (W - 30) / Math.max(1, rts.length);
    rts.forEach((rt, g) => {
      const gx = x0 + 5 + g * groupW;
      const paths = sc.paths.filter(charted);
      const bw = Math.min(34, (groupW - 20) / paths.length);
      paths.forEach((p, k) => {
        const s = rows.find((x) => x.runtime === rt && x.path === p);
        const bx = gx + 10 + k * bw;
        if (!s || s.median === null) {
          o.push(`<text x="${bx + bw / 2}" y="${base - 4}" text-anchor="middle" fill="#999" font-size="9">n/a</text>`);
          return;
        }
        const h = (s.median / max) * plotH;
        o.push(
          `<rect x="${bx + 1}" y="${base - h}" width="${bw - 2}" height="${h}" fill="${COLORS[p]}"><title>${esc(`${rt} ${PATH_LABEL[p]}: ${fmt(s.median)} ${sc.unit} (${fmt(s.min)}–${fmt(s.max)})${s.ratio !== null ? `, ${s.ratio.toFixed(2)}x native` : ""}`)}</title></rect>`,
        );
        if (s.min !== null && s.max !== null && s.n > 1) {
          const y1 = base - (s.min / max) * plotH;
          const y2 = base - (s.max / max) * plotH;
          const cx = bx + bw / 2;
          o.push(
            `<path d="M${cx} ${y1}V${y2}M${cx - 3} ${y1}H${cx + 3}M${cx - 3} ${y2}H${cx + 3}" stroke="#222" stroke-width="1"/>`,
          );
        }
        o.push(
          `<text x="${bx + bw / 2}" y="${base - h - 4}" text-anchor="middle" font-size="9">${esc(fmt(s.median))}</text>`,
        );
        if (p !== "native" && s.ratio !== null) {
          o.push(
            `<text x="${bx + bw / 2}" y="${base + 24}" text-anchor="middle" font-size="9" fill="#555">${s.ratio.toFixed(2)}x</text>`,
          );
        }
      });
      o.push(
        `<text x="${gx + 10 + (paths.length * bw) / 2}" y="${base + 12}" text-anchor="middle" font-weight="bold">${rt}</text>`,
      );
    });
  });
  o.push("</svg>");
  return `${o.join("\n")}\n`;
}
