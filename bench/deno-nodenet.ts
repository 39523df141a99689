/*
 * Deno's two TCP stacks side by side, in one run (Node 24: `node bench/deno-nodenet.ts`):
 * Deno.connect/Deno.listen and Deno's built-in node:net, natively and under unisock. Only node:net
 * can send a reset on Deno (issue 14: a Deno.Conn sends FIN before any RST, see docs/runtimes.md),
 * so this is the price of moving the Deno adapter's TCP streams onto it.
 *
 * "unisock on node:net" is unisock's Node adapter loaded by Deno: its connect/listen/transport are
 * node:net's, as a Deno adapter built on node:net would be (the Node adapter in Deno passes the
 * same reset test a Node client does).
 *
 * Scenarios are bench/run.ts's (echo, small and conn1 with client and server in one process, bulk
 * in two); the paths of a round are interleaved. CPU µs per operation is the figure to trust on
 * a shared machine; rates move with the other processes' load.
 *
 * Options: --quick  --rounds=N  --scenarios=echo,small,bulk,conn1
 *          --out=NAME: write bench/results/NAME.{json,md} (default deno-nodenet)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fmt, median } from "./report.ts";
import { root, Worker } from "./lib/proc.ts";
import { SCENARIOS } from "./scenarios.ts";

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = argv.includes("--quick");
const rounds = Number(opt("rounds") ?? (quick ? 1 : 3));
const outName = opt("out") ?? "deno-nodenet";
const scenarios = SCENARIOS.filter((s) =>
  (opt("scenarios")?.split(",") ?? ["echo", "small", "bulk", "conn1"]).includes(s.id),
);

const deno = [`${root}node_modules/.bin/deno`, "run", "-A", "--unstable-net", "--quiet", `${root}bench/worker.ts`];

// unisock's Node adapter under the name the worker loads for Deno (`${src}/deno.ts`).
const nodeAdapter = mkdtempSync(path.join(os.tmpdir(), "unisock-nodenet-"));
writeFileSync(path.join(nodeAdapter, "deno.ts"), `export * from ${JSON.stringify(`${root}src/node.ts`)};\n`);

interface Variant {
  label: string;
  /**
   * bench/worker.ts's path name. "nodedgram" loads bench/paths/native-node.ts, node:net for TCP:
   * the code of run.ts's "deno-nodenet" path, which has no small-message scenario.
   */
  path: string;
  src?: string;
}
const VARIANTS: Variant[] = [
  { label: "native Deno.connect / Deno.listen", path: "native" },
  { label: "native node:net", path: "nodedgram" },
  { label: "unisock read/write on Deno.connect (the Deno adapter)", path: "direct" },
  { label: "unisock read/write on node:net (the Node adapter)", path: "direct", src: nodeAdapter },
];

interface Sample {
  scenario: string;
  label: string;
  round: number;
  ok: boolean;
  value?: number;
  cpuUsPerOp?: number;
  error?: string;
}

/** The figure of a scenario and its operation count (for CPU per operation), from the client's result and the server's. */
function figure(worker: string, c: Record<string, number>, s: Record<string, number>): { value: number; ops: number } {
  switch (worker) {
    case "bulk":
      return { value: (c.bytes! * 8) / c.seconds! / 1e9, ops: c.bytes! / 2 ** 20 };
    case "small":
      return { value: c.writes! / c.seconds!, ops: c.writes! };
    case "echo":
      return { value: c.rtps!, ops: c.n! };
    case "conn":
      return { value: c.conns! / c.seconds!, ops: c.conns! };
    default:
      throw new Error(`no figure for ${worker} (${JSON.stringify(s)})`);
  }
}

async function runOne(
  sc: (typeof SCENARIOS)[number],
  v: Variant,
): Promise<Omit<Sample, "scenario" | "label" | "round">> {
  const params = sc.params[quick ? "quick" : "full"];
  const env = v.src ? { ...process.env, BENCH_UNISOCK_SRC: v.src } : process.env;
  const spawnRole = (role: string, p: Record<string, unknown>): Worker =>
    new Worker([...deno, role, sc.worker, v.path, JSON.stringify(p)], env);
  const limit = (params.maxSeconds! + 15) * 1000;
  const one = sc.oneProcess === true;
  const server = spawnRole(one ? "both" : "server", params);
  let client: Worker | null = null;
  try {
    if (!one) {
      const ready = await server.next(20_000);
      if (ready.type !== "ready") return { ok: false, error: String(ready.message ?? ready.reason) };
      client = spawnRole("client", { ...params, port: ready.port });
    }
    const c = await (client ?? server).next(limit);
    if (c.type !== "result") return { ok: false, error: String(c.message ?? c.reason) };
    const s = one ? { ...(c.server as Record<string, unknown>), cpuUs: 0 } : await server.next(10_000);
    if (!one && s.type !== "result") return { ok: false, error: String(s.message ?? s.reason) };
    if ((sc.worker === "bulk" || sc.worker === "small") && s.bytes !== c.bytes)
      return { ok: false, error: `receiver counted ${s.bytes} of ${c.bytes} bytes` };
    const { value, ops } = figure(sc.worker, c as Record<string, number>, s as Record<string, number>);
    const warm = sc.worker === "echo" ? params.warmup! : 0;
    return { ok: true, value, cpuUsPerOp: ((c.cpuUs as number) + (s.cpuUs as number)) / (ops + warm) };
  } finally {
    await Promise.all([client?.stop(1000), server.stop(1000)]);
  }
}

const started = Date.now();
const loadAvgStart = os.loadavg();
const samples: Sample[] = [];
process.stderr.write(`deno node:net bench: ${quick ? "quick" : "full"}, ${rounds} round(s)\n`);
try {
  for (let round = 1; round <= rounds; round++) {
    for (const sc of scenarios) {
      for (const v of VARIANTS) {
        const r = await runOne(sc, v);
        samples.push({ scenario: sc.id, label: v.label, round, ...r });
        process.stderr.write(
          `  r${round} ${sc.id.padEnd(6)} ${v.label.padEnd(56)} ${r.ok ? `${fmt(r.value)} ${sc.unit}, ${fmt(r.cpuUsPerOp)} CPU µs/op` : `FAILED: ${r.error}`}\n`,
        );
      }
    }
  }
} finally {
  rmSync(nodeAdapter, { recursive: true, force: true });
}

const lines = [
  `Run ${new Date(started).toISOString()}, ${quick ? "quick" : "full"}, ${rounds} round(s), ${((Date.now() - started) / 1000).toFixed(0)} s; load average at start ${loadAvgStart.map((x) => x.toFixed(2)).join(" ")}.`,
  "Deno with --unstable-net; median of the rounds (min–max); the ratio is to native Deno.connect in the same scenario (rate, and CPU per operation: above 1 costs more).",
  "",
  "| scenario | path | rate | ratio | CPU µs per op | CPU ratio |",
  "|---|---|---|---|---|---|",
];
for (const sc of scenarios) {
  const of = (label: string): Sample[] => samples.filter((s) => s.scenario === sc.id && s.label === label && s.ok);
  const base = of(VARIANTS[0]!.label);
  const baseRate = median(base.map((s) => s.value!));
  const baseCpu = median(base.map((s) => s.cpuUsPerOp!));
  for (const v of VARIANTS) {
    const ok = of(v.label);
    if (ok.length === 0) {
      lines.push(
        `| ${sc.title} | ${v.label} | failed: ${samples.find((s) => s.scenario === sc.id && s.label === v.label)?.error ?? "?"} | | | |`,
      );
      continue;
    }
    const rates = ok.map((s) => s.value!);
    const range = ok.length > 1 ? ` (${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))})` : "";
    const rate = median(rates);
    const cpu = median(ok.map((s) => s.cpuUsPerOp!));
    lines.push(
      `| ${sc.title} | ${v.label} | ${fmt(rate)} ${sc.unit}${range} | ${(rate / baseRate).toFixed(2)} | ${fmt(cpu)} | ${(cpu / baseCpu).toFixed(2)} |`,
    );
  }
}
const md = `${lines.join("\n")}\n`;
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(
  `${root}bench/results/${outName}.json`,
  `${JSON.stringify({ startedAt: new Date(started).toISOString(), quick, rounds, loadAvgStart, samples }, null, 2)}\n`,
);
writeFileSync(`${root}bench/results/${outName}.md`, md);
process.stdout.write(md);
