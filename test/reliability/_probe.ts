/**
 * Test side of the reliability suite: starts a probe script (test/reliability/_*.ts) in a process of
 * its own under the runtime running the suite (in the same Deno mode: `deno-stable` runs it without
 * `--unstable-net`), optionally inside a network namespace, reads its "@ {...}" result lines, and
 * prints one measurement line per probe. A process of its own, because Bun's test workers are
 * threads of one process: /proc/self/fd and RSS there would count the other test files too.
 */
import { Child, checkRunsUnder, currentRuntime, path } from "../examples/_children.ts";

/** The column being run: node, deno, deno-stable or bun. */
export const column: string =
  currentRuntime === "deno" && process.env.UNISOCK_DENO_NET === "stable" ? "deno-stable" : currentRuntime;

/** The command line running `script` (from the repository root) under this column's runtime. */
export function probeCommand(script: string, args: string[] = []): [string, string[]] {
  const bin = path(`node_modules/.bin/${currentRuntime}`);
  const file = path(script);
  if (column === "deno-stable") {
    return [
      bin,
      [
        "run",
        "-A",
        "--no-config",
        "--node-modules-dir=manual",
        "--conditions=unisock-source",
        "--v8-flags=--expose-gc",
        file,
        ...args,
      ],
    ];
  }
  if (column === "deno") return [bin, ["run", "-A", "--v8-flags=--expose-gc", file, ...args]];
  if (column === "node") return [bin, ["--conditions=unisock-source", "--expose-gc", file, ...args]];
  return [bin, ["--conditions=unisock-source", file, ...args]];
}

/** Starts a probe; `netns` runs it inside that network namespace (`ip netns exec` execs, so the pid is the runtime's). */
export function startProbe(script: string, args: string[] = [], opts: { netns?: string; ip?: string } = {}): Child {
  let [command, argv] = probeCommand(script, args);
  if (opts.netns) {
    argv = ["netns", "exec", opts.netns, command, ...argv];
    command = opts.ip ?? "ip";
  }
  return new Child(`${column} ${script} ${args.join(" ")}`.trim(), command, argv, { open: true });
}

/** Waits for the probe's first output, then checks the process really is this runtime's binary. */
export async function ready(child: Child, re = /^ready\b.*$/m, ms = 20_000): Promise<RegExpMatchArray> {
  const m = await child.waitFor(re, ms);
  checkRunsUnder(child, currentRuntime);
  return m;
}

/** Every "@ {...}" line the probe printed so far, parsed. */
export function results<T = Record<string, unknown>>(child: Child): T[] {
  return child.stdout
    .split("\n")
    .filter((l) => l.startsWith("@ "))
    .map((l) => JSON.parse(l.slice(2)) as T);
}

/** Waits (bounded) for the probe's result named `probe`. */
export async function result<T = Record<string, unknown>>(child: Child, probe: string, ms = 45_000): Promise<T> {
  await child.waitFor(new RegExp(`^@ \\{"probe":"${probe}"`, "m"), ms);
  return results<T & { probe: string }>(child).find((r) => r.probe === probe)!;
}

const mib = (b: number): string => (b / 1048576).toFixed(1);

/** The measurement line for the report: runtime, probe, fds and RSS before/after, time, and extras. */
export function report(
  probe: string,
  m: {
    fdsBefore?: number;
    fdsAfter?: number;
    rssBefore?: number;
    rssAfter?: number;
    ms?: number;
    [k: string]: unknown;
  },
): void {
  const parts = [`[reliability] ${column} ${probe}:`];
  if (m.fdsBefore !== undefined) parts.push(`fds ${m.fdsBefore} -> ${m.fdsAfter}`);
  if (m.rssBefore !== undefined) parts.push(`rss ${mib(m.rssBefore)} -> ${mib(m.rssAfter ?? 0)} MiB`);
  if (m.ms !== undefined) parts.push(`${Math.round(m.ms)} ms`);
  const known = new Set(["probe", "fdsBefore", "fdsAfter", "rssBefore", "rssAfter", "ms"]);
  const extra = Object.entries(m).filter(([k]) => !known.has(k));
  if (extra.length)
    parts.push(extra.map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" "));
  console.log(parts.join(" "));
}

/** Sends `command` to the probe and waits (bounded) for the next result named `probe`. */
export async function ask<T = Record<string, unknown>>(
  child: Child,
  command: string,
  probe: string,
  ms = 20_000,
): Promise<T> {
  const seen = results<{ probe: string }>(child).filter((r) => r.probe === probe).length;
  child.send(command);
  const end = Date.now() + ms;
  for (;;) {
    const all = results<T & { probe: string }>(child).filter((r) => r.probe === probe);
    if (all.length > seen) return all[all.length - 1]!;
    if (Date.now() > end)
      throw new Error(`${child.label}: no "${probe}" answer to "${command}" within ${ms} ms\n${child.describe()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
