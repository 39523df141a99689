/*
 * Deno's two UDP paths side by side, in one run (Node 24: `node bench/deno-udp.ts`):
 * Deno.listenDatagram (only with --unstable-net) and Deno's node:dgram (with or without it), each
 * natively and under unisock, in both modes of Deno. This is the measurement behind the Deno
 * adapter's choice of node:dgram for UDP (issue 14); docs/bench.md has the figures.
 *
 * The scenario is bench/run.ts's "udp" (64-byte datagrams as fast as the sender can, client and
 * server in two processes, received per second); the paths of a round are interleaved.
 *
 * Options: --quick  --rounds=N
 *          --variant=LABEL=DIR: also run unisock from another copy of src/ (a change to try, or
 *            the adapter before one), shown as "unisock ..., LABEL"; may be given more than once
 *          --out=NAME: write bench/results/NAME.{json,md} (default deno-udp)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fmt, median } from "./report.ts";
import { root, Worker } from "./lib/proc.ts";
import { SCENARIOS } from "./scenarios.ts";

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = argv.includes("--quick");
const rounds = Number(opt("rounds") ?? (quick ? 1 : 3));
const variants = argv
  .filter((a) => a.startsWith("--variant="))
  .map((a) => {
    const [label, dir] = [a.slice("--variant=".length, a.lastIndexOf("=")), a.slice(a.lastIndexOf("=") + 1)];
    return { label, dir };
  });
const outName = opt("out") ?? "deno-udp";
const params = SCENARIOS.find((s) => s.id === "udp")!.params[quick ? "quick" : "full"];

const deno = `${root}node_modules/.bin/deno`;
const worker = `${root}bench/worker.ts`;
// deno.json turns --unstable-net on: without the flag means without the config too (as npm run test:deno-stable does).
const MODES = {
  "--unstable-net": ["run", "-A", "--unstable-net", "--quiet"],
  "no flag": ["run", "-A", "--no-config", "--quiet"],
} as const;
type Mode = keyof typeof MODES;

interface Variant {
  label: string;
  /** bench/worker.ts's path name. */
  path: string;
  src?: string;
  modes: Mode[];
}
const VARIANTS: Variant[] = [
  { label: "native Deno.listenDatagram (awaited sends)", path: "native", modes: ["--unstable-net"] },
  { label: "native node:dgram (256 sends in flight)", path: "nodedgram", modes: ["--unstable-net", "no flag"] },
  ...variants.flatMap(({ label, dir }): Variant[] => [
    { label: `unisock read/write, ${label}`, path: "direct", src: dir, modes: ["--unstable-net", "no flag"] },
    { label: `unisock Web Streams, ${label}`, path: "streams", src: dir, modes: ["--unstable-net", "no flag"] },
  ]),
  { label: "unisock read/write", path: "direct", modes: ["--unstable-net", "no flag"] },
  { label: "unisock Web Streams", path: "streams", modes: ["--unstable-net", "no flag"] },
];

interface Sample {
  mode: Mode;
  label: string;
  round: number;
  ok: boolean;
  received?: number;
  sent?: number;
  perSecond?: number;
  sentPerSecond?: number;
  /** The receiver's CPU time per datagram it received, and the sender's per datagram it sent. */
  receiverCpuUs?: number;
  senderCpuUs?: number;
  error?: string;
}

async function runOne(mode: Mode, v: Variant): Promise<Omit<Sample, "mode" | "label" | "round">> {
  const env = v.src ? { ...process.env, BENCH_UNISOCK_SRC: v.src } : process.env;
  const spawnRole = (role: string, p: Record<string, unknown>): Worker =>
    new Worker([deno, ...MODES[mode], worker, role, "udp", v.path, JSON.stringify(p)], env);
  const server = spawnRole("server", params);
  let client: Worker | null = null;
  const limit = (params.maxSeconds! + 15) * 1000;
  try {
    const ready = await server.next(20_000);
    if (ready.type !== "ready") return { ok: false, error: String(ready.message ?? ready.reason) };
    client = spawnRole("client", { ...params, port: ready.port });
    const c = await client.next(limit);
    if (c.type !== "result") return { ok: false, error: String(c.message ?? c.reason) };
    const s = await server.next(limit);
    if (s.type !== "result") return { ok: false, error: String(s.message ?? s.reason) };
    const received = s.received as number;
    const sent = c.sent as number;
    return {
      ok: true,
      received,
      sent,
      perSecond: (s.seconds as number) > 0 ? received / (s.seconds as number) : 0,
      sentPerSecond: sent / (c.seconds as number),
      receiverCpuUs: (s.cpuUs as number) / received,
      senderCpuUs: (c.cpuUs as number) / sent,
    };
  } finally {
    await Promise.all([client?.stop(1000), server.stop(1000)]);
  }
}

const started = Date.now();
const loadAvgStart = os.loadavg();
const samples: Sample[] = [];
process.stderr.write(
  `deno udp bench: ${quick ? "quick" : "full"}, ${rounds} round(s)${variants.map((v) => `, ${v.label} = ${v.dir}`).join("")}\n`,
);
for (let round = 1; round <= rounds; round++) {
  for (const mode of Object.keys(MODES) as Mode[]) {
    for (const v of VARIANTS) {
      if (!v.modes.includes(mode)) continue;
      const r = await runOne(mode, v);
      samples.push({ mode, label: v.label, round, ...r });
      process.stderr.write(
        `  r${round} deno ${mode.padEnd(14)} ${v.label.padEnd(48)} ${r.ok ? `${fmt(r.perSecond)}/s received, loss ${((1 - r.received! / r.sent!) * 100).toFixed(1)}%` : `FAILED: ${r.error}`}\n`,
      );
    }
  }
}

const lines = [
  `Run ${new Date(started).toISOString()}, ${quick ? "quick" : "full"}, ${rounds} round(s), ${((Date.now() - started) / 1000).toFixed(0)} s; load average at start ${loadAvgStart.map((x) => x.toFixed(2)).join(" ")}.`,
  `${params.count} datagrams of ${params.size} B per round, client and server in two Deno processes; median of the rounds (min–max).`,
  "",
  "| Deno | path | datagrams received/s | sent/s | loss | receiver CPU µs per datagram received | sender CPU µs per datagram sent |",
  "|---|---|---|---|---|---|---|",
];
for (const mode of Object.keys(MODES) as Mode[]) {
  for (const v of VARIANTS) {
    if (!v.modes.includes(mode)) continue;
    const ok = samples.filter((s) => s.mode === mode && s.label === v.label && s.ok);
    const failed = samples.filter((s) => s.mode === mode && s.label === v.label && !s.ok);
    if (ok.length === 0) {
      lines.push(`| ${mode} | ${v.label} | failed: ${failed[0]?.error ?? "?"} | | | | |`);
      continue;
    }
    const rates = ok.map((s) => s.perSecond!);
    const range = ok.length > 1 ? ` (${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))})` : "";
    const loss = median(ok.map((s) => 1 - s.received! / s.sent!));
    lines.push(
      `| ${mode} | ${v.label} | ${fmt(median(rates))}${range}${failed.length ? ` (${failed.length} failed)` : ""} | ${fmt(median(ok.map((s) => s.sentPerSecond!)))} | ${(loss * 100).toFixed(1)}% | ${fmt(median(ok.map((s) => s.receiverCpuUs!)))} | ${fmt(median(ok.map((s) => s.senderCpuUs!)))} |`,
    );
  }
}
const md = `${lines.join("\n")}\n`;
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(
  `${root}bench/results/${outName}.json`,
  `${JSON.stringify({ startedAt: new Date(started).toISOString(), quick, rounds, params, loadAvgStart, samples }, null, 2)}\n`,
);
writeFileSync(`${root}bench/results/${outName}.md`, md);
process.stdout.write(md);
