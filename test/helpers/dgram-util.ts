/** Shared pieces of the datagram tests: written against the public API only, loopback only. */
import { execFileSync } from "node:child_process";
import { networkInterfaces } from "node:os";
import { expect } from "vitest";
import type { Datagram, DatagramSocket, NetAddr, SocketError, UnixAddr } from "unisock";
import { needTool, type SkipContext } from "./tools.ts";
import { sawUnsupported } from "./unsupported.ts";

type DatagramAddr = NetAddr | UnixAddr;

export const enc = new TextEncoder();
export const dec = new TextDecoder();

export const runtimeName: "node" | "deno" | "bun" = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
    ? "bun"
    : "node";

/** True when Deno runs with --unstable-net (Deno.listenDatagram exists). */
export const denoUnstableNet: boolean =
  typeof (globalThis as { Deno?: { listenDatagram?: unknown } }).Deno?.listenDatagram === "function";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Settles with the promise's value, or "pending" if it has not settled within `ms` (the promise is left running). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<"pending">((r) => (timer = setTimeout(() => r("pending"), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Receives one datagram, failing the test clearly if none comes within `ms`. */
export function recv<A extends DatagramAddr>(s: DatagramSocket<A>, ms = 3000): Promise<Datagram<A>> {
  return s.receive({ signal: AbortSignal.timeout(ms) }).catch((err: unknown) => {
    if ((err as Error).name === "TimeoutError") throw new Error(`no datagram within ${ms} ms`);
    throw err;
  });
}

/** Asserts that nothing arrives within `ms`, and leaves no receive pending. */
export async function expectNothing<A extends DatagramAddr>(s: DatagramSocket<A>, ms = 300): Promise<void> {
  const r = await s.receive({ signal: AbortSignal.timeout(ms) }).then(
    (d) => d,
    (err: Error) => err,
  );
  if (r instanceof Error && r.name === "TimeoutError") return;
  throw new Error(`expected no datagram, got ${r instanceof Error ? r.message : `${r.data.byteLength} bytes`}`);
}

/** Asserts that an action (a promise, or a function that throws or rejects) fails with a SocketError of `code`. */
export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: SocketError["code"],
): Promise<SocketError> {
  let err: unknown;
  let failed = false;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (e) {
    err = e;
    failed = true;
  }
  expect(failed, `expected a SocketError ${code}, but it succeeded`).toBe(true);
  expect((err as Error).name, String(err)).toBe("SocketError");
  expect((err as SocketError).code, String(err)).toBe(code);
  sawUnsupported(err as SocketError);
  return err as SocketError;
}

/** The port a socket is bound to. */
export function portOf(s: DatagramSocket): number {
  return s.localAddress.port;
}

/** A port nobody listens on: bound, then released. */
export async function deadPort(bind: (o: { hostname: string }) => Promise<DatagramSocket>): Promise<number> {
  const s = await bind({ hostname: "127.0.0.1" });
  const port = portOf(s);
  await s.close();
  return port;
}

/**
 * An address from the documentation ranges (RFC 5737) that no interface of this machine has, to
 * bind to (never to send to). This machine's own eth0 may sit in one of them, so check.
 */
export function foreignAddress(): string {
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address),
  );
  const candidate = ["192.0.2.1", "198.51.100.1", "203.0.113.1", "192.0.2.201"].find((a) => !local.has(a));
  if (candidate === undefined) throw new Error("every TEST-NET candidate address is local to this machine");
  return candidate;
}

/** A short, unique Unix socket path under /tmp (sun_path allows 107 bytes). */
export function tmpSocketPath(tag = "d"): string {
  return `/tmp/unisock-${tag}-${Math.random().toString(36).slice(2, 10)}.sock`;
}

/** `n` bytes of a pattern that depends on `seed`, so that datagrams can be told apart byte by byte. */
export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 17) & 255;
  return out;
}

/**
 * The kernel's buffer sizes of the UDP socket on `port`, as `ss` reports them (rb, tb in bytes):
 * the one outside view of SO_RCVBUF / SO_SNDBUF in every runtime. Without `ss` (iproute2) the test
 * is skipped, or fails in CI (test/helpers/tools.ts).
 */
export function kernelBufferSizes(ctx: SkipContext, port: number): { rb: number; tb: number } {
  const out = execFileSync(needTool(ctx, "ss"), ["-uamnH", `sport = :${port}`], { encoding: "utf8", timeout: 5000 });
  const m = /\brb(\d+),.*?\btb(\d+)/.exec(out);
  if (!m) throw new Error(`ss printed no socket memory for port ${port}: ${out}`);
  return { rb: Number(m[1]), tb: Number(m[2]) };
}
