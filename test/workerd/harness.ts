/**
 * A local workerd running test/workerd/worker.ts, for the tests that run unisock inside Cloudflare
 * Workers' runtime. The worker is bundled with esbuild (unisock/workerd from src/, so no build is
 * needed), workerd is the npm package's binary (node_modules/.bin/workerd, or $UNISOCK_WORKERD),
 * and its config lets sockets reach loopback (the "internet" network's allow-list: "local",
 * "private") and trusts the test CA (tlsOptions.trustedCertificates), since a Worker cannot pass a
 * CA per connection. Each `run(case, args)` is one HTTP request to the worker, which runs the case
 * inside that request (a Worker's sockets live no longer than it) and answers with JSON.
 * Works from Node, Deno and Bun (child_process only); the process is killed by pid in `stop()`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ca } from "../helpers/tls-fixtures.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const workerdBinary: string = process.env.UNISOCK_WORKERD || join(root, "node_modules/.bin/workerd");

/** What a case answered: its value, or the error it threw (a SocketError's code kept). */
export type Outcome<T = Record<string, unknown>> = { ok: true; value: T } | { ok: false; error: { name: string; code?: string; message: string } };

const capnpString = (s: string): string => JSON.stringify(s);

export class Workerd {
  readonly #dir: string;
  readonly #proc: ChildProcess;
  readonly #port: Promise<number>;
  #log = "";

  private constructor(worker: string) {
    this.#dir = mkdtempSync(join(tmpdir(), "unisock-workerd-"));
    const bundle = spawnSync(
      join(root, "node_modules/.bin/esbuild"),
      [worker, "--bundle", "--format=esm", "--platform=neutral", "--target=es2022", "--external:cloudflare:sockets", `--outfile=${join(this.#dir, "worker.js")}`, "--log-level=warning"],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (bundle.status !== 0) throw new Error(`esbuild failed: ${bundle.stderr}`);
    writeFileSync(
      join(this.#dir, "config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (modules = [(name = "worker.js", esModule = embed "worker.js")], compatibilityDate = "2025-09-01")),
    (name = "internet", network = (allow = ["public", "private", "local"], tlsOptions = (trustedCertificates = [${capnpString(ca)}]))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
`,
    );
    // --control-fd=3: workerd writes {"event":"listen","port":N} there once its socket listens.
    this.#proc = spawn(workerdBinary, ["serve", join(this.#dir, "config.capnp"), "--control-fd=3"], { stdio: ["ignore", "pipe", "pipe", "pipe"] });
    const keep = (c: Buffer | string): void => {
      this.#log = (this.#log + String(c)).slice(-8000);
    };
    this.#proc.stdout!.on("data", keep);
    this.#proc.stderr!.on("data", keep);
    this.#port = new Promise((resolve, reject) => {
      let text = "";
      const timer = setTimeout(() => reject(new Error(`workerd did not listen within 30 s:\n${this.#log}`)), 30_000);
      (this.#proc.stdio[3] as NodeJS.ReadableStream).on("data", (c: Buffer) => {
        text += String(c);
        const m = /"event":"listen"[^}]*"port":(\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      this.#proc.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`workerd exited (${code}):\n${this.#log}`));
      });
    });
  }

  /** Starts workerd with `worker` (a path) and waits until it serves. */
  static async start(worker: string = fileURLToPath(new URL("./worker.ts", import.meta.url))): Promise<Workerd> {
    const w = new Workerd(worker);
    await w.#port;
    return w;
  }

  /** Runs case `name` inside a request to the worker (bounded to 60 s). */
  async run<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<Outcome<T>> {
    const port = await this.#port;
    const res = await fetch(`http://127.0.0.1:${port}/run`, {
      method: "POST",
      body: JSON.stringify({ name, args }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`the worker answered ${res.status}: ${text}\n${this.#log}`);
    return JSON.parse(text) as Outcome<T>;
  }

  /** The value of a case that must succeed (its error, if any, fails the test with its message). */
  async value<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = await this.run<T>(name, args);
    if (!r.ok) throw new Error(`case ${name} failed inside workerd: ${r.error.code ?? r.error.name}: ${r.error.message}`);
    return r.value;
  }

  /** The code of the error a case must throw. */
  async code(name: string, args: Record<string, unknown> = {}): Promise<string | undefined> {
    const r = await this.run(name, args);
    if (r.ok) throw new Error(`case ${name} succeeded inside workerd; an error was expected (${JSON.stringify(r.value)})`);
    return r.error.code ?? r.error.name;
  }

  async stop(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.pid !== undefined) {
      const exited = new Promise((resolve) => this.#proc.once("exit", resolve));
      process.kill(this.#proc.pid, "SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (this.#proc.exitCode === null && this.#proc.signalCode === null) process.kill(this.#proc.pid, "SIGKILL");
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
