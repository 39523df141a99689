/** A bench worker process seen from an orchestrator (bench/run.ts, bench/deno-udp.ts): its JSON lines, and its end by pid. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const root: string = fileURLToPath(new URL("../..", import.meta.url));

/** A worker process and the JSON lines it printed. */
export class Worker {
  readonly child: ChildProcess;
  readonly #lines: Record<string, unknown>[] = [];
  #waiter: (() => void) | null = null;
  #stderr = "";
  #exited = false;
  readonly exited: Promise<void>;

  /** Runs `command` (the program, then its arguments) in the repository root with `env`. */
  constructor(command: string[], env: NodeJS.ProcessEnv) {
    const [cmd, ...args] = command;
    this.child = spawn(cmd!, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env });
    let buf = "";
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      for (let i = buf.indexOf("\n"); i !== -1; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.#lines.push(JSON.parse(line));
        } catch {
          this.#stderr += `${line}\n`;
        }
        this.#wake();
      }
    });
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-2000);
    });
    this.exited = new Promise((resolve) =>
      this.child.once("exit", () => {
        this.#exited = true;
        this.#wake();
        resolve();
      }),
    );
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  /** The next JSON line, or an error message if the process exits or stays silent for `ms`. */
  async next(ms: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const line = this.#lines.shift();
      if (line) return line;
      if (this.#exited)
        return {
          type: "error",
          message: `exited without a result: ${this.#stderr.trim().split("\n").slice(-3).join(" | ")}`,
        };
      const left = deadline - Date.now();
      if (left <= 0) return { type: "error", message: `no answer within ${ms} ms` };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Lets the process exit by itself for `graceMs`, then ends it by its pid, and waits for it. */
  async stop(graceMs: number): Promise<void> {
    if (!this.#exited && graceMs > 0) await Promise.race([this.exited, new Promise((r) => setTimeout(r, graceMs))]);
    if (!this.#exited && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3000))]);
  }
}
