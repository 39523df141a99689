/** The scenario set, its sizes (full and quick) and the targets the report checks. */

export type Runtime = "node" | "deno" | "bun";
/** The paths every run knows; `--compare=LABEL=DIR` adds `direct@LABEL` and `streams@LABEL` (unisock from DIR). */
export type BasePath = "native" | "direct" | "streams" | "arrowood" | "deno-nodenet";
export type PathName = BasePath | `${"direct" | "streams"}@${string}`;

/** A path that exists on some runtimes only; the others skip it (it is not a failure there). */
export const PATH_RUNTIMES: Partial<Record<BasePath, Runtime[]>> = {
  arrowood: ["node"],
  "deno-nodenet": ["deno"],
};

/** "direct@before" -> "direct" (the path the worker runs) and "before" (the label of its src/ copy). */
export function splitPath(p: PathName): { base: BasePath; label?: string } {
  const at = p.indexOf("@");
  return at === -1 ? { base: p as BasePath } : { base: p.slice(0, at) as BasePath, label: p.slice(at + 1) };
}

export interface Scenario {
  id: string;
  /** The worker scenario that runs it (conn1 and conn50 both run "conn"). */
  worker: "bulk" | "echo" | "small" | "udp" | "conn" | "memory";
  title: string;
  unit: string;
  /** Larger is better (false for the memory figure). */
  higherIsBetter: boolean;
  paths: PathName[];
  /** The server's path when it is not the one under test (the side-by-side echo against @arrowood.dev/socket). */
  serverPath?: PathName;
  /** The client's path when it is not the one under test (the receive side of the memory check). */
  clientPath?: PathName;
  /** For the memory checks: the most KiB the path under test may hold. */
  boundKiB?: number;
  runtimes?: Runtime[];
  /**
   * Client and server in one process (the way RUNTIME-NOTES measured its anchors), rather than two.
   * Bulk and UDP always use two, as the issue asks.
   */
  oneProcess?: boolean;
  /** Rounds are taken `rounds` times unless this says otherwise. */
  rounds?: number;
  params: { full: Record<string, number>; quick: Record<string, number> };
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const BULK = {
  full: { bytes: 1 * GiB, chunk: 64 * 1024, maxSeconds: 30 },
  quick: { bytes: 128 * MiB, chunk: 64 * 1024, maxSeconds: 15 },
};

export const SCENARIOS: Scenario[] = [
  {
    id: "bulk",
    worker: "bulk",
    title: "TCP bulk, 64 KiB writes, two processes",
    unit: "Gbit/s",
    higherIsBetter: true,
    paths: ["native", "direct", "streams", "deno-nodenet"],
    params: BULK,
  },
  {
    // The same transfer with both ends in one process: the receiver's and the sender's costs add
    // up on one event loop, so unisock's overhead shows more than across two (issue 13's table).
    id: "bulk1",
    oneProcess: true,
    worker: "bulk",
    title: "TCP bulk, 64 KiB writes, one process",
    unit: "Gbit/s",
    higherIsBetter: true,
    paths: ["native", "direct", "streams", "deno-nodenet"],
    params: BULK,
  },
  {
    id: "echo",
    oneProcess: true,
    worker: "echo",
    title: "TCP echo, 64 B",
    unit: "round trips/s",
    higherIsBetter: true,
    paths: ["native", "direct", "streams", "deno-nodenet"],
    params: {
      full: { size: 64, warmup: 3000, count: 30_000, maxSeconds: 3 },
      quick: { size: 64, warmup: 2000, count: 10_000, maxSeconds: 2 },
    },
  },
  {
    id: "small",
    oneProcess: true,
    worker: "small",
    title: "1M x 64 B messages",
    unit: "msgs/s",
    higherIsBetter: true,
    paths: ["native", "direct", "streams"],
    params: {
      full: { size: 64, count: 1_000_000, maxSeconds: 20 },
      quick: { size: 64, count: 200_000, maxSeconds: 10 },
    },
  },
  {
    id: "udp",
    worker: "udp",
    title: "UDP 64 B datagrams received",
    unit: "datagrams/s",
    higherIsBetter: true,
    paths: ["native", "direct", "streams"],
    params: {
      full: { size: 64, count: 200_000, rcvbuf: 4 * MiB, idleMs: 250, maxSeconds: 4 },
      quick: { size: 64, count: 100_000, rcvbuf: 4 * MiB, idleMs: 250, maxSeconds: 3 },
    },
  },
  {
    id: "conn1",
    oneProcess: true,
    worker: "conn",
    title: "Connections, one at a time",
    unit: "conns/s",
    higherIsBetter: true,
    paths: ["native", "direct", "streams", "deno-nodenet"],
    params: {
      full: { count: 5000, concurrency: 1, maxSeconds: 10 },
      quick: { count: 1000, concurrency: 1, maxSeconds: 6 },
    },
  },
  {
    id: "conn50",
    oneProcess: true,
    worker: "conn",
    title: "Connections, 50 at a time",
    unit: "conns/s",
    higherIsBetter: true,
    paths: ["native", "direct", "streams", "deno-nodenet"],
    params: {
      // 4,000, not 5,000: past about 4,200 connections to one port, 50 at a time, Node's listener
      // loses a burst of 49 SYNs (ListenOverflows, each retried after 1 s) on this kernel, with a
      // backlog of 511 or 4096 alike, for node:net and unisock the same: see docs/bench.md.
      full: { count: 4000, concurrency: 50, maxSeconds: 10 },
      quick: { count: 1000, concurrency: 50, maxSeconds: 6 },
    },
  },
  {
    id: "echo-peer",
    oneProcess: true,
    worker: "echo",
    title: "TCP echo 64 B, client only (server: node:net)",
    unit: "round trips/s",
    higherIsBetter: true,
    paths: ["native", "direct", "streams", "arrowood"],
    serverPath: "native",
    runtimes: ["node"],
    params: {
      full: { size: 64, warmup: 3000, count: 30_000, maxSeconds: 3 },
      quick: { size: 64, warmup: 2000, count: 10_000, maxSeconds: 2 },
    },
  },
  {
    id: "memory",
    worker: "memory",
    title: "Writer to a non-reading peer: KiB held by the writer",
    unit: "KiB",
    higherIsBetter: false,
    paths: ["native", "direct", "streams"],
    serverPath: "native",
    rounds: 1,
    boundKiB: 64 + 64,
    params: {
      full: { chunk: 64 * 1024, maxBytes: 256 * MiB, stallMs: 300, maxSeconds: 8 },
      quick: { chunk: 64 * 1024, maxBytes: 256 * MiB, stallMs: 300, maxSeconds: 8 },
    },
  },
  {
    id: "memory-recv",
    worker: "memory",
    title: "Non-reading receiver: KiB it holds",
    unit: "KiB",
    higherIsBetter: false,
    paths: ["native", "direct", "streams"],
    clientPath: "native",
    rounds: 1,
    boundKiB: 256 + 64,
    params: {
      full: { chunk: 64 * 1024, maxBytes: 256 * MiB, stallMs: 300, maxSeconds: 8 },
      quick: { chunk: 64 * 1024, maxBytes: 256 * MiB, stallMs: 300, maxSeconds: 8 },
    },
  },
];

export const PATH_LABEL: Record<BasePath, string> = {
  native: "native",
  direct: "unisock read/write",
  streams: "unisock Web Streams",
  arrowood: "@arrowood.dev/socket",
  "deno-nodenet": "Deno's node:net",
};

/** "unisock read/write", or "unisock read/write @before" for a --compare path. */
export function pathLabel(p: PathName): string {
  const { base, label } = splitPath(p);
  return label === undefined ? PATH_LABEL[base] : `${PATH_LABEL[base]} @${label}`;
}
