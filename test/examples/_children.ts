/**
 * Child processes for the example and interop tests: a script run under one of the project's own
 * runtimes (node_modules/.bin/{node,deno,bun}), or a real client (curl, socat, nc). Every child is
 * tracked, killed by pid in `killChildren()` (call it in afterEach), and every wait is bounded.
 *
 * How `import ... from "unisock"` resolves in a child, from the source tree without a build:
 * Node and Bun run with `--conditions=unisock-source` (package.json exports point that condition at
 * src/<runtime>.ts; the package imports itself by name), Deno reads deno.json's `imports`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { needTool } from "../helpers/tools.ts";

export type RuntimeName = "node" | "deno" | "bun";
export const RUNTIMES: readonly RuntimeName[] = ["node", "deno", "bun"];

/** The runtime running this test file, found as test/conformance/00-runtime.test.ts does. */
export const currentRuntime: RuntimeName = (() => {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno ? "deno" : g.Bun ? "bun" : "node";
})();

export const root: string = fileURLToPath(new URL("../../", import.meta.url));
export const path = (rel: string): string => fileURLToPath(new URL(`../../${rel}`, import.meta.url));
const bin = (name: RuntimeName): string => path(`node_modules/.bin/${name}`);

/** The command line that runs a TypeScript file of this repository under `rt`. */
export function scriptCommand(rt: RuntimeName, script: string, args: string[] = []): [string, string[]] {
  const file = path(script);
  if (rt === "deno") return [bin("deno"), ["run", "-A", file, ...args]];
  return [bin(rt), ["--conditions=unisock-source", file, ...args]];
}

export interface Exit {
  code: number | null;
  signal: string | null;
}

export class Child {
  readonly proc: ChildProcess;
  readonly label: string;
  readonly exited: Promise<Exit>;
  #out: Uint8Array[] = [];
  #err = "";
  #listeners = new Set<() => void>();

  /** `input` is written to stdin, which then closes; with `{ open: true }` stdin stays open for `send()`. */
  constructor(
    label: string,
    command: string,
    args: string[],
    input?: Uint8Array | string | { open: true },
    env: Record<string, string> = {},
  ) {
    this.label = label;
    this.proc = spawn(command, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    live.add(this);
    const changed = (): void => {
      for (const f of this.#listeners) f();
    };
    this.proc.stdout!.on("data", (d: Uint8Array) => {
      this.#out.push(new Uint8Array(d));
      changed();
    });
    this.proc.stderr!.on("data", (d: Uint8Array) => {
      this.#err += new TextDecoder().decode(d);
      changed();
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.proc.once("error", (err) => {
        this.#err += `spawn failed: ${err.message}\n`;
        resolve({ code: -1, signal: null });
      });
      this.proc.once("close", (code, signal) => resolve({ code, signal }));
    }).finally(() => {
      live.delete(this);
      changed();
    });
    if (input !== undefined) {
      this.proc.stdin!.on("error", () => {}); // a child that exits before reading all: not our failure
      if (typeof input === "string" || input instanceof Uint8Array) this.proc.stdin!.end(input);
    }
  }

  /** Writes a line to the child's stdin (started with `input: { open: true }`). */
  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  get stdoutBytes(): Uint8Array {
    const total = this.#out.reduce((n, c) => n + c.byteLength, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const c of this.#out) {
      all.set(c, o);
      o += c.byteLength;
    }
    return all;
  }
  get stdout(): string {
    return new TextDecoder().decode(this.stdoutBytes);
  }
  get stderr(): string {
    return this.#err;
  }

  /** Resolves with the first match of `re` in stdout; rejects if the child exits first or `ms` pass. */
  waitFor(re: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (f: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#listeners.delete(check);
        f();
      };
      const check = (): void => {
        const m = re.exec(this.stdout);
        if (m) finish(() => resolve(m));
        else if (!live.has(this))
          finish(() => reject(new Error(`${this.label} exited before printing ${re}\n${this.describe()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.label}: no ${re} within ${ms} ms\n${this.describe()}`))),
        ms,
      );
      this.#listeners.add(check);
      check();
    });
  }

  /** Waits for the exit, at most `ms`; then kills the child and fails. */
  async wait(ms = 15_000): Promise<Exit> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === "timeout") {
      await this.kill();
      throw new Error(`${this.label} did not exit within ${ms} ms\n${this.describe()}`);
    }
    return result;
  }

  /** SIGKILL to this child's pid (if it still runs), then waits (bounded) for it to be gone. */
  async kill(): Promise<void> {
    if (live.has(this) && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
  }

  describe(): string {
    const cut = (s: string): string => (s.length > 2000 ? `${s.slice(0, 2000)}...` : s);
    return `--- ${this.label} stdout:\n${cut(this.stdout)}\n--- stderr:\n${cut(this.stderr)}`;
  }
}

const live = new Set<Child>();

/** Kills every child still running (call in afterEach). */
export async function killChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}

/** Starts `script` (a path from the repository root) under `rt`, with `env` added to the environment. */
export function startScript(
  rt: RuntimeName,
  script: string,
  args: string[] = [],
  input?: Uint8Array | string,
  env?: Record<string, string>,
): Child {
  const [command, argv] = scriptCommand(rt, script, args);
  return new Child(`${rt} ${script} ${args.join(" ")}`.trim(), command, argv, input, env);
}

/** Runs `script` under `rt` to the end (bounded); resolves with the child, whatever its exit code. */
export async function runScript(
  rt: RuntimeName,
  script: string,
  args: string[] = [],
  ms = 20_000,
  env?: Record<string, string>,
): Promise<Child> {
  const child = startScript(rt, script, args, undefined, env);
  await child.wait(ms);
  return child;
}

/** Starts a server example and resolves with it and the port it printed ("... listening on host:port"). */
export async function startServer(
  rt: RuntimeName,
  script: string,
  args: string[] = ["0"],
): Promise<{ child: Child; port: number }> {
  const child = startScript(rt, script, args);
  const m = await child.waitFor(/listening on \S+:(\d+)/);
  checkRunsUnder(child, rt);
  return { child, port: Number(m[1]) };
}

/** Runs a system tool (curl, socat, nc) to the end, bounded, feeding it `input`. */
export async function runTool(
  command: string,
  args: string[],
  input?: Uint8Array | string,
  ms = 20_000,
): Promise<Child> {
  const child = new Child(`${command} ${args.join(" ")}`, command, args, input);
  await child.wait(ms);
  return child;
}

/**
 * The absolute path of a system tool (curl, socat, nc). Missing, it skips the test with the tool's
 * install command, or fails it under UNISOCK_REQUIRE_TOOLS=1 (CI): see test/helpers/tools.ts.
 */
export const tool = needTool;

/** Fails unless the child's executable is `rt`'s binary (Linux: /proc/<pid>/exe), so no test passes on the wrong runtime. */
export function checkRunsUnder(child: Child, rt: RuntimeName): void {
  let exe: string;
  try {
    exe = readlinkSync(`/proc/${child.proc.pid}/exe`);
  } catch {
    return; // no procfs here: the interop client reports its runtime itself
  }
  const name = exe
    .split("/")
    .pop()!
    .replace(/\.exe$/, "");
  if (name !== rt) throw new Error(`${child.label} runs ${exe}, not ${rt}`);
}
