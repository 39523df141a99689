/*
 * The bench orchestrator (run with Node 24: `npm run bench`, `npm run bench:quick`).
 * For each round, runtime, scenario and path it starts a server and a client worker
 * (bench/worker.ts) as separate processes of that runtime, on loopback, collects their JSON
 * lines, and kills them by pid when done or late. Then it writes bench/results/latest.{json,md}
 * and chart.svg and prints the table.
 *
 * Options: --quick  --rounds=N  --runtimes=node,deno,bun  --scenarios=bulk,echo,...  --paths=native,direct
 *          --prof: Node and Bun workers write CPU profiles to bench/results/prof/ (read them with
 *            bench/prof-top.ts); for Deno use --v8-flags=--prof by hand (see docs/bench.md)
 *          --src=DIR: unisock from another copy of src/ (before/after comparisons)
 *          --out=NAME: write bench/results/NAME.{json,md} and NAME.svg instead of latest.* and chart.svg
 *          --separate: run echo, small messages and connections in two processes too
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import { root, Worker } from "./lib/proc.ts";
import { renderChart, renderMarkdown, summarize, type Run, type Results } from "./report.ts";
import { type PathName, type Runtime, SCENARIOS, type Scenario } from "./scenarios.ts";

const bin = (name: string): string => `${root}node_modules/.bin/${name}`;
const worker = `${root}bench/worker.ts`;

const prof = process.argv.includes("--prof");
const COMMAND: Record<Runtime, string[]> = {
  node: [bin("node"), "--no-warnings", ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${root}bench/results/prof`] : []), worker],
  deno: [bin("deno"), "run", "-A", "--unstable-net", "--quiet", worker],
  bun: [bin("bun"), ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${root}bench/results/prof`] : []), worker],
};

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = argv.includes("--quick");
const rounds = Number(opt("rounds") ?? (quick ? 1 : 3));
const runtimes = (opt("runtimes")?.split(",") ?? ["node", "deno", "bun"]) as Runtime[];
const only = opt("scenarios")?.split(",");
const onlyPaths = opt("paths")?.split(",");
const srcDir = opt("src");
const outName = opt("out");
const separate = argv.includes("--separate");
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id));

function spawnWorker(runtime: Runtime, role: string, scenario: string, path: string, params: Record<string, unknown>): Worker {
  const [cmd, ...rest] = COMMAND[runtime];
  if (prof) rest.splice(rest.indexOf(worker), 0, `--cpu-prof-name=${scenario}-${path}-${role}-${Date.now()}.cpuprofile`);
  return new Worker([cmd!, ...rest, role, scenario, path, JSON.stringify(params)], srcDir ? { ...process.env, BENCH_UNISOCK_SRC: srcDir } : process.env);
}

/** Kernel queues of a loopback TCP connection, from /proc/net/tcp: bytes not yet read by the peer. */
function kernelQueued(localPort: number, serverPort: number): number {
  let total = 0;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const lp = parseInt(f[1]!.split(":")[1]!, 16);
    const rp = parseInt(f[2]!.split(":")[1]!, 16);
    const [tx, rx] = f[4]!.split(":").map((h) => parseInt(h, 16));
    if (lp === localPort && rp === serverPort) total += tx!; // the writer's send queue
    if (lp === serverPort && rp === localPort) total += rx!; // the peer's unread receive queue
  }
  return total;
}

async function runOne(runtime: Runtime, sc: Scenario, path: PathName, params: Record<string, number>): Promise<Omit<Run, "runtime" | "scenario" | "path" | "round">> {
  const serverPath = sc.serverPath ?? path;
  const clientPath = sc.clientPath ?? path;
  const limit = (params.maxSeconds! + 15) * 1000;
  const one = sc.oneProcess === true && !separate;
  const server = spawnWorker(runtime, one ? "both" : "server", sc.worker, one && serverPath !== clientPath ? `${clientPath}+${serverPath}` : serverPath, params);
  let client: Worker | null = null;
  try {
    const ready = one ? { type: "ready" } : await server.next(20_000);
    if (ready.type !== "ready") return outcome(ready);
    if (!one) client = spawnWorker(runtime, "client", sc.worker, clientPath, { ...params, port: ready.port });
    const c = await (client ?? server).next(limit);
    if (c.type === "ready" && sc.worker === "memory") {
      // Bytes the writer handed over that are in neither kernel queue are in user space: the
      // writer's (memory) or, when a native writer says what left it, the receiver's (memory-recv).
      const queued = kernelQueued(c.localPort as number, ready.port as number);
      const left = sc.clientPath === undefined ? (c.handed as number) : (c.toKernel as number);
      return { ok: true, value: (left - queued) / 1024, extra: { handedKiB: (c.handed as number) / 1024, kernelKiB: queued / 1024 } };
    }
    if (c.type !== "result") return outcome(c);
    // Servers end by themselves once the client is done, and report what they counted and their CPU time.
    const s = one ? { type: "result", ...(c.server as Record<string, unknown>), cpuUs: 0 } : await server.next(sc.worker === "udp" ? limit : 10_000);
    if (s.type !== "result") return outcome(s);
    const cpu = (ops: number): Record<string, number> => ({ cpuUsPerOp: ((c.cpuUs as number) + (s.cpuUs as number)) / ops });
    switch (sc.worker) {
      case "bulk":
      case "small": {
        const want = c.bytes as number;
        if (s.bytes !== want) return { ok: false, error: `receiver counted ${s.bytes} of ${want} bytes` };
        const seconds = c.seconds as number;
        return sc.worker === "bulk"
          ? { ok: true, value: (want * 8) / seconds / 1e9, extra: { seconds, ...cpu(want / 2 ** 20) } }
          : { ok: true, value: (c.writes as number) / seconds, extra: { seconds, ...cpu(c.writes as number) } };
      }
      case "echo":
        return { ok: true, value: c.rtps as number, extra: { p50us: c.p50us, p99us: c.p99us, n: c.n, ...cpu((c.n as number) + params.warmup!) } };
      case "udp": {
        const received = s.received as number;
        const sent = c.sent as number;
        const seconds = s.seconds as number;
        return {
          ok: true,
          value: seconds > 0 ? received / seconds : 0,
          extra: { loss: 1 - received / sent, sentPerSecond: sent / (c.seconds as number), received, sent, ...cpu(sent) },
        };
      }
      case "conn":
        return { ok: true, value: (c.conns as number) / (c.seconds as number), extra: { seconds: c.seconds as number, ...cpu(c.conns as number) } };
      default:
        return { ok: false, error: `unexpected answer ${JSON.stringify(c)}` };
    }
  } finally {
    // Workers exit by themselves after their result (writing a CPU profile takes a moment);
    // the memory check's workers wait to be ended.
    const grace = sc.worker === "memory" ? 0 : prof ? 5000 : 1000;
    await Promise.all([client?.stop(grace), server.stop(grace)]);
  }
}

function outcome(line: Record<string, unknown>): Omit<Run, "runtime" | "scenario" | "path" | "round"> {
  if (line.type === "unavailable") return { ok: false, unavailable: true, error: String(line.reason) };
  return { ok: false, error: String(line.message ?? JSON.stringify(line)) };
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unavailable";
  }
}

const started = Date.now();
const machine = {
  nproc: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? "",
  lscpu: sh("lscpu", []).split("\n").slice(0, 10).join("\n"),
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  kernel: os.release(),
  loadAvgStart: os.loadavg(),
  versions: {
    node: sh(bin("node"), ["--version"]),
    deno: sh(bin("deno"), ["--version"]).split("\n")[0]!,
    bun: sh(bin("bun"), ["--version"]),
  },
};

const runs: Run[] = [];
mkdirSync(`${root}bench/results`, { recursive: true });
process.stderr.write(`unisock bench: ${quick ? "quick" : "full"}, ${rounds} round(s), runtimes ${runtimes.join(",")}\n`);
for (let round = 1; round <= rounds; round++) {
  for (const runtime of runtimes) {
    for (const sc of scenarios) {
      if (sc.runtimes && !sc.runtimes.includes(runtime)) continue;
      if (round > (sc.rounds ?? rounds)) continue;
      const params = quick ? sc.params.quick : sc.params.full;
      for (const path of sc.paths) {
        if (onlyPaths && !onlyPaths.includes(path)) continue;
        const t = Date.now();
        const r = await runOne(runtime, sc, path, params);
        runs.push({ runtime, scenario: sc.id, path, round, ...r });
        const shown = r.ok ? `${r.value!.toPrecision(4)} ${sc.unit}` : r.unavailable ? `not available (${r.error})` : `FAILED: ${r.error}`;
        process.stderr.write(`  r${round} ${runtime.padEnd(4)} ${sc.id.padEnd(9)} ${path.padEnd(8)} ${shown}  [${((Date.now() - t) / 1000).toFixed(1)} s]\n`);
      }
    }
  }
}

const results: Results = {
  startedAt: new Date(started).toISOString(),
  durationSeconds: (Date.now() - started) / 1000,
  mode: `${quick ? "quick" : "full"}${separate ? ", all in two processes" : ""}`,
  rounds,
  machine: { ...machine, loadAvgEnd: os.loadavg() },
  params: Object.fromEntries(scenarios.map((s) => [s.id, quick ? s.params.quick : s.params.full])),
  runs,
  summary: summarize(runs, scenarios),
};
const md = renderMarkdown(results, scenarios);
const out = `${root}bench/results/${outName ?? "latest"}`;
writeFileSync(`${out}.json`, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(`${out}.md`, md);
writeFileSync(outName ? `${out}.svg` : `${root}bench/results/chart.svg`, renderChart(results, scenarios));
process.stdout.write(`${md}\n`);
process.stderr.write(`done in ${results.durationSeconds.toFixed(0)} s: ${out}.{json,md}\n`);
