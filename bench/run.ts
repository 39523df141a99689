/*
 * The bench orchestrator (run with Node 24: `npm run bench`, `npm run bench:quick`, `npm run bench:check`).
 * For each round, runtime, scenario and path it starts a server and a client worker
 * (bench/worker.ts) as separate processes of that runtime (or one process for the one-process
 * scenarios), on loopback, collects their JSON lines, and kills them by pid when done or late.
 * Then it writes bench/results/latest.{json,md} and chart.svg and prints the table.
 *
 * Options: --quick  --rounds=N (full: 5, quick: 1, check: 3)  --runtimes=node,deno,bun  --scenarios=bulk,echo,...
 *          --paths=native,direct,...
 *          --prof: Node and Bun workers write CPU profiles to bench/results/prof/ (read them with
 *            bench/prof-top.ts); for Deno use --v8-flags=--prof by hand (see docs/bench.md)
 *          --src=DIR: unisock from another copy of src/ for the direct and streams paths
 *          --compare=DIR or --compare=LABEL=DIR (repeatable): also run unisock from DIR as the paths
 *            direct@LABEL and streams@LABEL (LABEL defaults to "before"), interleaved with the others
 *            in every round, so before and after share one run
 *          --out=NAME: write bench/results/NAME.{json,md} and NAME.svg instead of latest.* and chart.svg
 *          --separate: run echo, small messages and connections in two processes too
 *          --check: compare the ratios with bench/floors.json (or --floors=FILE) and exit 1 on a
 *            regression; runs the quick set, 3 rounds, to bench/results/check.* unless told otherwise
 *          --from=FILE: take the runs from a results JSON instead of running (with --check or --write-floors)
 *          --tolerance=F: with --check, a relative margin for every row instead of each floor's own
 *          --write-floors: write bench/floors.json (or --floors=FILE) from this run (or --from),
 *            provisional unless --final; needs at least 3 rounds
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import { anyRegression, checkTable, compare, makeFloors, parseFloors } from "./check.ts";
import { root, Worker } from "./lib/proc.ts";
import { renderChart, renderMarkdown, type Results, type Run, summarize } from "./report.ts";
import { PATH_RUNTIMES, type PathName, type Runtime, SCENARIOS, type Scenario, splitPath } from "./scenarios.ts";

// The `node` package's own binary for node: node_modules/.bin/node may be the node-oldest alias's
// (both packages claim the name and npm links one of them).
const bin = (name: string): string =>
  name === "node" ? `${root}node_modules/node/bin/node` : `${root}node_modules/.bin/${name}`;
const worker = `${root}bench/worker.ts`;

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const opts = (name: string): string[] =>
  argv.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
const opt = (name: string): string | undefined => opts(name)[0];

const prof = flag("prof");
const COMMAND: Record<Runtime, string[]> = {
  node: [
    bin("node"),
    "--no-warnings",
    ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${root}bench/results/prof`] : []),
    worker,
  ],
  deno: [bin("deno"), "run", "-A", "--unstable-net", "--quiet", worker],
  bun: [bin("bun"), ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${root}bench/results/prof`] : []), worker],
};

const check = flag("check");
const from = opt("from");
const writeFloors = flag("write-floors");
const floorsFile = opt("floors") ?? `${root}bench/floors.json`;
const CHECK_ROUNDS = 3;
const quick = flag("quick") || (check && !flag("full"));
const rounds = Number(opt("rounds") ?? (check ? CHECK_ROUNDS : quick ? 1 : 5));
const runtimes = (opt("runtimes")?.split(",") ?? ["node", "deno", "bun"]) as Runtime[];
const only = opt("scenarios")?.split(",");
const onlyPaths = opt("paths")?.split(",");
// Absolute: the worker imports from this directory, and a relative import would start at bench/.
const srcDir = opt("src") === undefined ? undefined : resolve(opt("src")!);
/** --compare=DIR or --compare=LABEL=DIR: the label names the paths direct@LABEL and streams@LABEL. */
const compareSrc = new Map(
  opts("compare").map((v) => {
    const eq = v.indexOf("=");
    return eq === -1 ? ["before", resolve(v)] : [v.slice(0, eq), resolve(v.slice(eq + 1))];
  }),
);
const outName = opt("out") ?? (check ? "check" : undefined);
const separate = flag("separate");
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id));

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const tolerance = opt("tolerance") === undefined ? undefined : Number(opt("tolerance"));
if (!(Number.isInteger(rounds) && rounds >= 1)) usage(`--rounds=${opt("rounds")}: not a whole number of at least 1`);
if (tolerance !== undefined && !(tolerance >= 0 && tolerance < 1))
  usage(`--tolerance=${opt("tolerance")}: not a fraction in [0, 1)`);
for (const [label, dir] of [...compareSrc, ["--src", srcDir] as const]) {
  if (dir !== undefined && !existsSync(`${dir}/core`))
    usage(
      `${label === "--src" ? "--src" : `--compare=${label}`}: ${dir} does not look like unisock's src/ (no core/ in it)`,
    );
  if (label !== "--src" && !/^[\w.-]+$/.test(label))
    usage(`--compare: the label "${label}" must be letters, digits, ".", "_" or "-"`);
}

/** The paths of a scenario on a runtime, each --compare copy right after the path it copies. */
function pathsFor(sc: Scenario, runtime: Runtime): PathName[] {
  const out: PathName[] = [];
  for (const p of sc.paths) {
    if (PATH_RUNTIMES[p as keyof typeof PATH_RUNTIMES]?.includes(runtime) === false) continue;
    out.push(p);
    if (p === "direct" || p === "streams") for (const label of compareSrc.keys()) out.push(`${p}@${label}`);
  }
  return out.filter((p) => !onlyPaths || onlyPaths.includes(p) || onlyPaths.includes(splitPath(p).base));
}

/** `path` is what the worker runs ("direct+native" in one process); `src` the copy of src/ it loads unisock from. */
function spawnWorker(
  runtime: Runtime,
  role: string,
  scenario: string,
  path: string,
  params: Record<string, unknown>,
  src: string | undefined,
): Worker {
  const [cmd, ...rest] = COMMAND[runtime];
  if (prof)
    rest.splice(rest.indexOf(worker), 0, `--cpu-prof-name=${scenario}-${path}-${role}-${Date.now()}.cpuprofile`);
  return new Worker(
    [cmd!, ...rest, role, scenario, path, JSON.stringify(params)],
    src ? { ...process.env, BENCH_UNISOCK_SRC: src } : process.env,
  );
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

async function runOne(
  runtime: Runtime,
  sc: Scenario,
  path: PathName,
  params: Record<string, number>,
): Promise<Omit<Run, "runtime" | "scenario" | "path" | "round">> {
  const { base, label } = splitPath(path);
  const src = label === undefined ? srcDir : compareSrc.get(label);
  const serverPath = sc.serverPath ?? base;
  const clientPath = sc.clientPath ?? base;
  const limit = (params.maxSeconds! + 15) * 1000;
  const one = sc.oneProcess === true && !separate;
  const server = spawnWorker(
    runtime,
    one ? "both" : "server",
    sc.worker,
    one && serverPath !== clientPath ? `${clientPath}+${serverPath}` : serverPath,
    params,
    src,
  );
  let client: Worker | null = null;
  try {
    const ready = one ? { type: "ready" } : await server.next(20_000);
    if (ready.type !== "ready") return outcome(ready);
    if (!one) client = spawnWorker(runtime, "client", sc.worker, clientPath, { ...params, port: ready.port }, src);
    const c = await (client ?? server).next(limit);
    if (c.type === "ready" && sc.worker === "memory") {
      // Bytes the writer handed over that are in neither kernel queue are in user space: the
      // writer's (memory) or, when a native writer says what left it, the receiver's (memory-recv).
      const queued = kernelQueued(c.localPort as number, ready.port as number);
      const left = sc.clientPath === undefined ? (c.handed as number) : (c.toKernel as number);
      return {
        ok: true,
        value: (left - queued) / 1024,
        extra: { handedKiB: (c.handed as number) / 1024, kernelKiB: queued / 1024 },
      };
    }
    if (c.type !== "result") return outcome(c);
    // Servers end by themselves once the client is done, and report what they counted and their CPU time.
    const s = one
      ? { type: "result", ...(c.server as Record<string, unknown>), cpuUs: 0 }
      : await server.next(sc.worker === "udp" ? limit : 10_000);
    if (s.type !== "result") return outcome(s);
    const cpu = (ops: number): Record<string, number> => ({
      cpuUsPerOp: ((c.cpuUs as number) + (s.cpuUs as number)) / ops,
    });
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
        return {
          ok: true,
          value: c.rtps as number,
          extra: { p50us: c.p50us, p99us: c.p99us, n: c.n, ...cpu((c.n as number) + params.warmup!) },
        };
      case "udp": {
        const received = s.received as number;
        const sent = c.sent as number;
        const seconds = s.seconds as number;
        return {
          ok: true,
          value: seconds > 0 ? received / seconds : 0,
          extra: {
            loss: 1 - received / sent,
            sentPerSecond: sent / (c.seconds as number),
            received,
            sent,
            ...cpu(sent),
          },
        };
      }
      case "conn":
        return {
          ok: true,
          value: (c.conns as number) / (c.seconds as number),
          extra: { seconds: c.seconds as number, ...cpu(c.conns as number) },
        };
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

async function measure(): Promise<Results> {
  const started = Date.now();
  const machine = {
    // The tree's commit, "+dirty" when src/ has uncommitted changes; none when --src measured another copy.
    ...(srcDir
      ? {}
      : {
          commit: `${sh("git", ["rev-parse", "--short=12", "HEAD"])}${sh("git", ["status", "--porcelain", "--", "src"]) ? "+dirty" : ""}`,
        }),
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
  const compared = [...compareSrc].map(([label, dir]) => `, ${label} = ${dir}`).join("");
  process.stderr.write(
    `unisock bench: ${quick ? "quick" : "full"}, ${rounds} round(s), runtimes ${runtimes.join(",")}${srcDir ? `, src ${srcDir}` : ""}${compared}\n`,
  );
  for (let round = 1; round <= rounds; round++) {
    for (const runtime of runtimes) {
      for (const sc of scenarios) {
        if (sc.runtimes && !sc.runtimes.includes(runtime)) continue;
        if (round > (sc.rounds ?? rounds)) continue;
        const params = quick ? sc.params.quick : sc.params.full;
        const paths = pathsFor(sc, runtime);
        // Each round starts the scenario at the next path, so that no path always runs first
        // (after another scenario) or right after the same neighbour.
        const shift = (round - 1) % Math.max(1, paths.length);
        for (const path of [...paths.slice(shift), ...paths.slice(0, shift)]) {
          const t = Date.now();
          const r = await runOne(runtime, sc, path, params);
          runs.push({ runtime, scenario: sc.id, path, round, ...r });
          const shown = r.ok
            ? `${r.value!.toPrecision(4)} ${sc.unit}`
            : r.unavailable
              ? `not available (${r.error})`
              : `FAILED: ${r.error}`;
          process.stderr.write(
            `  r${round} ${runtime.padEnd(4)} ${sc.id.padEnd(11)} ${path.padEnd(14)} ${shown}  [${((Date.now() - t) / 1000).toFixed(1)} s]\n`,
          );
        }
      }
    }
  }
  return {
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    mode: `${quick ? "quick" : "full"}${separate ? ", all in two processes" : ""}`,
    rounds,
    machine: { ...machine, loadAvgEnd: os.loadavg() },
    params: Object.fromEntries(scenarios.map((s) => [s.id, quick ? s.params.quick : s.params.full])),
    runs,
    summary: summarize(runs, scenarios),
  };
}

let results: Results;
if (from) {
  // Summaries are taken again from the runs, so results written before a summary field existed still work.
  const r = JSON.parse(readFileSync(from, "utf8")) as Results;
  results = { ...r, summary: summarize(r.runs, SCENARIOS) };
  if (!check && !writeFloors) process.stdout.write(renderMarkdown(results, SCENARIOS));
} else {
  results = await measure();
  const md = renderMarkdown(results, scenarios);
  const out = `${root}bench/results/${outName ?? "latest"}`;
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${out}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${out}.md`, md);
  writeFileSync(outName ? `${out}.svg` : `${root}bench/results/chart.svg`, renderChart(results, scenarios));
  process.stdout.write(`${md}\n`);
  process.stderr.write(`done in ${results.durationSeconds.toFixed(0)} s: ${out}.{json,md}\n`);
}

const loadOf = (r: Results): number[] => (r.machine.loadAvgStart as number[] | undefined) ?? [];
const loads = (l: number[] | undefined): string => (l?.length ? l.map((x) => x.toFixed(1)).join(" ") : "unknown");
// The commit the floors describe, so a regression can be confirmed against it in one run (--compare).
const commit = results.machine.commit as string | undefined;
const fromRun = {
  startedAt: results.startedAt,
  mode: results.mode,
  rounds: results.rounds,
  ...(commit ? { commit } : {}),
  loadAvg: loadOf(results),
};
if (writeFloors) {
  const final = flag("final");
  const note = final
    ? "Floors for npm run bench:check, from the run named in from."
    : "PROVISIONAL: written from a run on a shared, loaded machine; the lead rewrites them from a quiet run (docs/bench.md, Check mode).";
  const floors = makeFloors(results.summary, fromRun, CHECK_ROUNDS, !final, note);
  writeFileSync(floorsFile, `${JSON.stringify(floors, null, 2)}\n`);
  process.stderr.write(
    `wrote ${floors.floors.length} floors to ${floorsFile} (${floors.provisional ? "provisional" : "final"})\n`,
  );
}
if (check) {
  const floors = parseFloors(readFileSync(floorsFile, "utf8"));
  const rows = compare(results.summary, floors, tolerance);
  process.stdout.write(
    `\nbench check: ${from ?? `this run (${results.mode}, ${results.rounds} round(s))`} against ${floorsFile}` +
      ` (${floors.provisional ? "provisional, " : ""}written ${floors.writtenAt} from a ${floors.from.mode} run of ${floors.from.rounds} rounds` +
      `${tolerance === undefined ? ", each row's own margin" : `, margin ${tolerance} for every row`}).\n`,
  );
  process.stdout.write(
    `Load average at the start: ${loads(floors.from.loadAvg)} for the floors, ${loads(loadOf(results))} for this run; under different loads ratios move by more than the margins (docs/bench.md, Check mode).\n`,
  );
  if (floors.from.mode !== results.mode)
    process.stdout.write(
      `Warning: the floors come from a ${floors.from.mode} run and this is a ${results.mode} run: sizes differ, and so may ratios.\n`,
    );
  process.stdout.write(`\n${checkTable(rows)}`);
  if (anyRegression(rows)) {
    const base = floors.from.commit ?? "<the floors' commit>";
    process.stdout.write(
      `\nTo tell a regression from noise, measure it against the floors' code in one run, paths interleaved:\n` +
        `  mkdir -p /tmp/floors-src && git archive ${base.replace(/\+dirty$/, "")} src | tar -x -C /tmp/floors-src && npm run bench -- --compare=floors=/tmp/floors-src/src --scenarios=<the rows above> --runtimes=<...>\n`,
    );
  }
  if (anyRegression(rows)) process.exitCode = 1;
}
