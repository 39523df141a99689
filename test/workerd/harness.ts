/**
 * A local workerd running test/workerd/worker.ts, for the tests that run unisock inside Cloudflare
 * Workers' runtime, started by examples/workerd-serve.ts (bundled with esbuild, unisock/workerd
 * from src/ so no build is needed; loopback allowed; the test CA trusted through workerd's config,
 * since a Worker cannot pass a CA per connection). workerd is the npm package's binary
 * (node_modules/.bin/workerd), or $UNISOCK_WORKERD. Each `run(case, args)` is one HTTP request to the worker, which runs the case
 * inside that request (a Worker's sockets live no longer than it) and answers with JSON.
 * Works from Node, Deno and Bun (child_process only); workerd is killed by pid in `stop()`.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ServedWorker, serveWorker } from "../../examples/workerd-serve.ts";
import { ca } from "../helpers/tls-fixtures.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** The binary `unisock matrix --runtime workerd=PATH` named, else the npm package's. */
export const workerdBinary: string = process.env.UNISOCK_WORKERD || join(root, "node_modules/.bin/workerd");

/** What a case answered: its value, or the error it threw (a SocketError's code kept). */
export type Outcome<T = Record<string, unknown>> =
  | { ok: true; value: T }
  | { ok: false; error: { name: string; code?: string; message: string } };

export class Workerd {
  readonly #served: ServedWorker;

  private constructor(served: ServedWorker) {
    this.#served = served;
  }

  /** Starts workerd with `worker` (a path) and waits until it serves. */
  static async start(worker: string = fileURLToPath(new URL("./worker.ts", import.meta.url))): Promise<Workerd> {
    return new Workerd(await serveWorker({ worker, ca, workerd: workerdBinary }));
  }

  /** Runs case `name` inside a request to the worker (bounded to 60 s). */
  async run<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<Outcome<T>> {
    const res = await fetch(`http://127.0.0.1:${this.#served.port}/run`, {
      method: "POST",
      body: JSON.stringify({ name, args }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`the worker answered ${res.status}: ${text}\n${this.#served.log()}`);
    return JSON.parse(text) as Outcome<T>;
  }

  /** The value of a case that must succeed (its error, if any, fails the test with its message). */
  async value<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = await this.run<T>(name, args);
    if (!r.ok)
      throw new Error(`case ${name} failed inside workerd: ${r.error.code ?? r.error.name}: ${r.error.message}`);
    return r.value;
  }

  stop(): Promise<void> {
    return this.#served.stop();
  }
}
