/**
 * What the reliability probes measure, inside the process under test (a child running under the
 * runtime being tested): its open file descriptors (/proc/self/fd), its resident memory, and one
 * JSON line per result on stdout ("@ {...}"), which the test reads back with `results()`.
 * Imports nothing from vitest, so it runs in a plain `node`/`deno`/`bun` process.
 */
import { readdirSync } from "node:fs";
import process from "node:process";

/** Open file descriptors of this process. */
export const fdCount = (): number => readdirSync("/proc/self/fd").length;

/** Resident set size of this process, in bytes. */
export const rss = (): number => process.memoryUsage().rss;

/** JavaScript heap in use, in bytes (V8's on Node and Deno, JavaScriptCore's on Bun); after `collect()`, what is held. */
export const heapUsed = (): number => process.memoryUsage().heapUsed;

/** A full garbage collection where the runtime offers one (the probes start it with the flag), so RSS says what is held. */
export async function collect(): Promise<void> {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  for (let i = 0; i < 2; i++) {
    if (g.Bun) g.Bun.gc(true);
    else g.gc?.();
    await sleep(20);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Prints one result line for the test. */
export function emit(result: Record<string, unknown>): void {
  console.log(`@ ${JSON.stringify(result)}`);
}

/** Waits (at most `ms`) until this process holds at most `target` fds; returns the last count. */
export async function fdsSettle(target: number, ms = 3000): Promise<number> {
  const end = Date.now() + ms;
  let n = fdCount();
  while (n > target && Date.now() < end) {
    await sleep(50);
    n = fdCount();
  }
  return n;
}

/** The next line of stdin (commands from the test), or null at EOF. */
export function stdinLines(): () => Promise<string | null> {
  const queue: string[] = [];
  const waiters: ((line: string | null) => void)[] = [];
  let ended = false;
  let partial = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    partial += chunk;
    let i: number;
    while ((i = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else queue.push(line);
    }
  });
  process.stdin.on("end", () => {
    ended = true;
    for (const w of waiters.splice(0)) w(null);
  });
  return () => {
    if (queue.length) return Promise.resolve(queue.shift()!);
    if (ended) return Promise.resolve(null);
    return new Promise((r) => waiters.push(r));
  };
}
