/** Turns bench runs into the summary (median, min, max, ratio to native), the Markdown tables and the SVG chart. */
import { PATH_LABEL, type PathName, type Runtime, type Scenario } from "./scenarios.ts";

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
  /** Medians of the extra figures (p50us, p99us, loss, ...). */
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

export function summarize(runs: Run[], scenarios: Scenario[]): Summary[] {
  const out: Summary[] = [];
  for (const sc of scenarios) {
    for (const runtime of RUNTIMES) {
      const mine = runs.filter((r) => r.scenario === sc.id && r.runtime === runtime);
      if (mine.length === 0) continue;
      for (const path of sc.paths) {
        const rs = mine.filter((r) => r.path === path);
        if (rs.length === 0) continue;
        const ok = rs.filter((r) => r.ok);
        const vals = ok.map((r) => r.value!);
        const extra: Record<string, number> = {};
        for (const key of new Set(ok.flatMap((r) => Object.keys(r.extra ?? {})))) {
          const xs = ok.map((r) => r.extra?.[key]).filter((x): x is number => typeof x === "number");
          if (xs.length) extra[key] = median(xs);
        }
        const bad = rs.find((r) => !r.ok);
        out.push({
          runtime,
          scenario: sc.id,
          path,
          n: vals.length,
          median: vals.length ? median(vals) : null,
          min: vals.length ? Math.min(...vals) : null,
          max: vals.length ? Math.max(...vals) : null,
          ratio: null,
          extra,
          ...(bad ? { note: bad.unavailable ? `not available: ${bad.error}` : `${rs.length - ok.length} of ${rs.length} failed: ${bad.error}` } : {}),
        });
      }
    }
  }
  for (const s of out) {
    const native = out.find((o) => o.scenario === s.scenario && o.runtime === s.runtime && o.path === "native");
    if (s.median !== null && native?.median) s.ratio = s.median / native.median;
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

interface Target {
  what: string;
  runtime: Runtime;
  figure: number | null;
  goal: number;
  /** "min": figure >= goal; "max": figure <= goal. */
  kind: "min" | "max";
  show: (x: number) => string;
}

export function targets(summary: Summary[], scenarios: Scenario[]): Target[] {
  const get = (sc: string, rt: Runtime, p: PathName): Summary | undefined =>
    summary.find((s) => s.scenario === sc && s.runtime === rt && s.path === p);
  const t: Target[] = [];
  const x = (v: number): string => `${v.toFixed(2)}x`;
  for (const rt of RUNTIMES) {
    for (const sc of ["bulk", "echo", "small"]) {
      const d = get(sc, rt, "direct");
      if (d) t.push({ what: `${sc}: read/write >= 0.95x native`, runtime: rt, figure: d.ratio, goal: 0.95, kind: "min", show: x });
      const w = get(sc, rt, "streams");
      if (w) t.push({ what: `${sc}: Web Streams >= 0.90x native`, runtime: rt, figure: w.ratio, goal: 0.9, kind: "min", show: x });
    }
  }
  const arrow = get("echo-peer", "node", "arrowood");
  const ws = get("echo-peer", "node", "streams");
  if (arrow && ws) {
    t.push({
      what: "echo, client only: Web Streams >= @arrowood.dev/socket",
      runtime: "node",
      figure: ws.median !== null && arrow.median ? ws.median / arrow.median : null,
      goal: 1,
      kind: "min",
      show: x,
    });
  }
  for (const p of ["direct", "streams"] as const) {
    const c = get("conn50", "node", p);
    if (c) t.push({ what: `50 concurrent connects (${PATH_LABEL[p]}) >= 3,500/s`, runtime: "node", figure: c.median, goal: 3500, kind: "min", show: fmt });
  }
  const dn = get("small", "deno", "direct");
  const nd = get("small", "node", "direct");
  if (dn && nd) {
    t.push({
      what: "small messages: unisock on Deno >= unisock on Node (read/write)",
      runtime: "deno",
      figure: dn.median !== null && nd.median ? dn.median / nd.median : null,
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
        if (m) t.push({ what: `${what} holds <= ${sc.boundKiB} KiB (${PATH_LABEL[p]})`, runtime: rt, figure: m.median, goal: sc.boundKiB!, kind: "max", show: (v) => `${v.toFixed(0)} KiB` });
      }
    }
  }
  return t;
}

export function renderMarkdown(r: Results, scenarios: Scenario[]): string {
  const S = r.summary;
  const get = (sc: string, rt: Runtime, p: PathName): Summary | undefined => S.find((s) => s.scenario === sc && s.runtime === rt && s.path === p);
  const L: string[] = [];
  const v = r.machine.versions as Record<string, string>;
  L.push(`Run ${r.startedAt}, ${r.mode}, ${r.rounds} round(s), ${r.durationSeconds.toFixed(0)} s; ${r.machine.nproc} cores (${r.machine.cpu}); node ${v.node}, ${v.deno}, bun ${v.bun}; load average at start ${(r.machine.loadAvgStart as number[]).map((x) => x.toFixed(2)).join(" ")}.`);
  L.push(
    "Each figure is the median of the rounds, with (min–max); `x` is the ratio of medians to the runtime's native API in the same run. Loopback. Bulk and UDP run client and server in two processes; " +
      (r.mode.includes("two processes")
        ? "here echo, small messages and connections did too (--separate)."
        : "echo, small messages and connections run both in one process, like the anchors in RUNTIME-NOTES (across two processes this VM's wake-up latency, about 100 µs, dominates every round trip)."),
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
  L.push("CPU time of both processes per operation, microseconds (median of rounds; per MiB for bulk, per round trip, message, datagram sent or connection), and its ratio to native (lower is better). Far less disturbed by other load on the machine than the rates above:");
  L.push("");
  L.push("| scenario | runtime | native | unisock read/write | x | unisock Web Streams | x |");
  L.push("|---|---|---|---|---|---|---|");
  for (const sc of scenarios) {
    if (sc.boundKiB !== undefined) continue;
    for (const rt of RUNTIMES) {
      const n = get(sc.id, rt, "native")?.extra.cpuUsPerOp;
      if (n === undefined) continue;
      const c = (p: PathName): string => fmt(get(sc.id, rt, p)?.extra.cpuUsPerOp);
      const x = (p: PathName): string => {
        const v = get(sc.id, rt, p)?.extra.cpuUsPerOp;
        return v === undefined ? "–" : `${(v / n).toFixed(2)}x`;
      };
      const extraPaths = sc.paths.filter((p) => p !== "native" && p !== "direct" && p !== "streams");
      const more = extraPaths.map((p) => `; ${PATH_LABEL[p]} ${c(p)} (${x(p)})`).join("");
      L.push(`| ${sc.title} | ${rt} | ${c("native")} | ${c("direct")} | ${x("direct")} | ${c("streams")}${more} | ${x("streams")} |`);
    }
  }
  L.push("");
  L.push("Echo latency, microseconds (median of rounds):");
  L.push("");
  L.push("| runtime | native p50 / p99 | read/write p50 / p99 | Web Streams p50 / p99 |");
  L.push("|---|---|---|---|");
  for (const rt of RUNTIMES) {
    const e = (p: PathName): string => {
      const s = get("echo", rt, p);
      return s?.extra.p50us !== undefined ? `${s.extra.p50us.toFixed(1)} / ${s.extra.p99us!.toFixed(1)}` : "–";
    };
    if (get("echo", rt, "native")) L.push(`| ${rt} | ${e("native")} | ${e("direct")} | ${e("streams")} |`);
  }
  L.push("");
  L.push("UDP: datagrams sent per second by the sender and the share lost (median of rounds):");
  L.push("");
  L.push("| runtime | native sent/s, loss | read/write sent/s, loss | Web Streams sent/s, loss |");
  L.push("|---|---|---|---|");
  for (const rt of RUNTIMES) {
    const u = (p: PathName): string => {
      const s = get("udp", rt, p);
      return s?.extra.loss !== undefined ? `${fmt(s.extra.sentPerSecond)}, ${(s.extra.loss * 100).toFixed(1)}%` : s?.note?.startsWith("not available") ? "n/a" : "–";
    };
    if (get("udp", rt, "native")) L.push(`| ${rt} | ${u("native")} | ${u("direct")} | ${u("streams")} |`);
  }
  const peer = scenarios.find((s) => s.id === "echo-peer");
  if (peer && get("echo-peer", "node", "native")) {
    L.push("");
    L.push(`${peer.title}, Node, ${peer.unit}:`);
    L.push("");
    L.push(`| ${peer.paths.map((p) => PATH_LABEL[p]).join(" | ")} |`);
    L.push(`|${peer.paths.map(() => "---").join("|")}|`);
    L.push(`| ${peer.paths.map((p) => { const s = get("echo-peer", "node", p); return `${cell(s)}${p === "native" ? "" : ` ${ratio(s)}`}`; }).join(" | ")} |`);
  }
  for (const sc of scenarios.filter((x) => x.boundKiB !== undefined)) {
    if (!RUNTIMES.some((rt) => get(sc.id, rt, "native"))) continue;
    L.push("");
    L.push(`${sc.title} (64 KiB writes; bytes handed over that are in neither kernel queue; bound ${sc.boundKiB} KiB):`);
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
  L.push("Targets:");
  L.push("");
  L.push("| target | runtime | figure | |");
  L.push("|---|---|---|---|");
  for (const t of targets(S, scenarios)) {
    const met = t.figure === null ? "no figure" : (t.kind === "min" ? t.figure >= t.goal : t.figure <= t.goal) ? "met" : "**missed**";
    L.push(`| ${t.what} | ${t.runtime} | ${t.figure === null ? "–" : t.show(t.figure)} | ${met} |`);
  }
  const notes = S.filter((s) => s.note);
  if (notes.length) {
    L.push("");
    L.push("Notes (*):");
    L.push("");
    for (const s of notes) L.push(`- ${s.runtime} ${s.scenario} ${PATH_LABEL[s.path]}: ${s.note}`);
  }
  return `${L.join("\n")}\n`;
}

const COLORS: Record<PathName, string> = { native: "#7f8c8d", direct: "#2e86de", streams: "#e67e22", arrowood: "#8e44ad" };
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
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`);
  o.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  o.push(`<text x="10" y="20" font-size="15" font-weight="bold">unisock bench (${esc(r.mode)}, ${r.rounds} round(s), median with min–max)</text>`);
  let lx = 10;
  for (const p of ["native", "direct", "streams", "arrowood"] as PathName[]) {
    o.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${COLORS[p]}"/><text x="${lx + 14}" y="39">${esc(PATH_LABEL[p])}</text>`);
    lx += 30 + PATH_LABEL[p].length * 6;
  }
  panels.forEach((sc, i) => {
    const x0 = 10 + (i % cols) * W;
    const y0 = top + Math.floor(i / cols) * H;
    const rows = r.summary.filter((s) => s.scenario === sc.id);
    const max = Math.max(1e-9, ...rows.map((s) => s.max ?? 0));
    const plotTop = y0 + 36;
    const plotH = H - 83;
    const base = plotTop + plotH;
    o.push(`<text x="${x0}" y="${y0 + 16}" font-size="12" font-weight="bold">${esc(sc.title)} (${esc(sc.unit)})</text>`);
    o.push(`<line x1="${x0}" y1="${base}" x2="${x0 + W - 20}" y2="${base}" stroke="#333"/>`);
    const rts = RUNTIMES.filter((rt) => rows.some((s) => s.runtime === rt));
    const groupW = (W - 30) / Math.max(1, rts.length);
    rts.forEach((rt, g) => {
      const gx = x0 + 5 + g * groupW;
      const paths = sc.paths;
      const bw = Math.min(34, (groupW - 20) / paths.length);
      paths.forEach((p, k) => {
        const s = rows.find((x) => x.runtime === rt && x.path === p);
        const bx = gx + 10 + k * bw;
        if (!s || s.median === null) {
          o.push(`<text x="${bx + bw / 2}" y="${base - 4}" text-anchor="middle" fill="#999" font-size="9">n/a</text>`);
          return;
        }
        const h = (s.median / max) * plotH;
        o.push(`<rect x="${bx + 1}" y="${base - h}" width="${bw - 2}" height="${h}" fill="${COLORS[p]}"><title>${esc(`${rt} ${PATH_LABEL[p]}: ${fmt(s.median)} ${sc.unit} (${fmt(s.min)}–${fmt(s.max)})${s.ratio !== null ? `, ${s.ratio.toFixed(2)}x native` : ""}`)}</title></rect>`);
        if (s.min !== null && s.max !== null && s.n > 1) {
          const y1 = base - (s.min / max) * plotH;
          const y2 = base - (s.max / max) * plotH;
          const cx = bx + bw / 2;
          o.push(`<path d="M${cx} ${y1}V${y2}M${cx - 3} ${y1}H${cx + 3}M${cx - 3} ${y2}H${cx + 3}" stroke="#222" stroke-width="1"/>`);
        }
        o.push(`<text x="${bx + bw / 2}" y="${base - h - 4}" text-anchor="middle" font-size="9">${esc(fmt(s.median))}</text>`);
        if (p !== "native" && s.ratio !== null) {
          o.push(`<text x="${bx + bw / 2}" y="${base + 24}" text-anchor="middle" font-size="9" fill="#555">${s.ratio.toFixed(2)}x</text>`);
        }
      });
      o.push(`<text x="${gx + 10 + (paths.length * bw) / 2}" y="${base + 12}" text-anchor="middle" font-weight="bold">${rt}</text>`);
    });
  });
  o.push("</svg>");
  return `${o.join("\n")}\n`;
}
