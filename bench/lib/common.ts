/** Runtime-neutral pieces shared by every bench path. */

export const HOST = "127.0.0.1";

export const now = (): number => performance.now();

/** CPU time (user + system) this process has used, in microseconds; process.cpuUsage exists in all three runtimes. */
export function cpuUs(): number {
  const u = (globalThis as unknown as { process: { cpuUsage(): { user: number; system: number } } }).process.cpuUsage();
  return u.user + u.system;
}

/** Settles with `p`, or rejects once `ms` have passed: no await in the bench waits forever. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The p-th percentile (0..100) of the first n samples; sorts them in place. */
export function percentile(samples: Float64Array, n: number, p: number): number {
  const s = samples.subarray(0, n).sort();
  if (n === 0) return NaN;
  return s[Math.min(n - 1, Math.floor((p / 100) * n))]!;
}

/** What every scenario role receives. */
export interface Params {
  port?: number;
  maxSeconds: number;
  [k: string]: number | undefined;
}

export type Ready = (info: Record<string, unknown>) => Promise<void>;
export type Role = (p: Params, ready: Ready) => Promise<Record<string, unknown>>;

/** One way of doing the scenarios: the native API of a runtime, or a unisock path. */
export interface Path {
  bulk: { server: Role; client: Role };
  echo: { server: Role; client: Role };
  small: { server: Role; client: Role };
  udp: { server: Role; client: Role };
  conn: { server: Role; client: Role };
  memory: { server: Role; client: Role };
}

/** A round-trip/latency result from the samples an echo client took. */
export function echoResult(lat: Float64Array, n: number, seconds: number): Record<string, unknown> {
  return {
    n,
    seconds,
    rtps: n / seconds,
    p50us: percentile(lat, n, 50) * 1000,
    p99us: percentile(lat, n, 99) * 1000,
  };
}

export const ACK = new Uint8Array([0x6b]); // "k": the receiver has counted everything

/** Waits until no datagram came for `idleMs` (after the first) or the time limit. */
export async function udpIdle(p: Params, count: () => number): Promise<void> {
  const deadline = now() + p.maxSeconds * 1000;
  let seen = -1;
  while (now() < deadline) {
    await sleep(p.idleMs!);
    const c = count();
    if (c > 0 && c === seen) return;
    seen = c;
  }
}

/** Waits until `count` connections were accepted, or none came for a second, or the time limit. */
export async function connIdle(p: Params, count: () => number): Promise<void> {
  const deadline = now() + p.maxSeconds * 1000;
  let seen = -1;
  let still = 0;
  while (now() < deadline && count() < p.count!) {
    await sleep(50);
    const c = count();
    if (c > 0 && c === seen) {
      if (++still >= 20) return;
    } else still = 0;
    seen = c;
  }
}

/** Opens and closes `count` connections, `concurrency` at a time, within the time limit. */
export async function connLoop(p: Params, one: () => Promise<void>): Promise<Record<string, unknown>> {
  const deadline = now() + p.maxSeconds * 1000;
  let started = 0;
  let done = 0;
  const t0 = now();
  const lane = async (): Promise<void> => {
    while (started < p.count! && now() < deadline) {
      started++;
      await one();
      done++;
    }
  };
  // One timer for the whole loop: a timer per connection costs more than some runtimes' connect.
  await within(Promise.all(Array.from({ length: p.concurrency! }, lane)), p.maxSeconds * 1000 + 5000, "connections");
  const seconds = (now() - t0) / 1000;
  if (done < p.count!) throw new Error(`time limit after ${done} of ${p.count} connections`);
  return { conns: done, seconds };
}
