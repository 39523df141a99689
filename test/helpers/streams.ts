/** Shared pieces of the stream conformance tests: written against the public API only. */
import { expect } from "vitest";
import type { Addr, Listener, ListenOptions, Socket, SocketError } from "unisock";
import { listen } from "unisock";
import { sawUnsupported } from "./unsupported.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** How many of `blocks` blocks of `size` bytes in `all` do not hold block i's fill, i % 251 (first and last byte checked). */
export function misfilledBlocks(all: Uint8Array, blocks: number, size: number): number {
  let wrong = 0;
  for (let i = 0; i < blocks; i++) {
    const block = all.subarray(i * size, (i + 1) * size);
    if (block[0] !== i % 251 || block[size - 1] !== i % 251) wrong++;
  }
  return wrong;
}

export function portOf(addr: Addr): number {
  if (addr.transport === "unix") throw new Error("not an IP address");
  return addr.port;
}

/** A short, unique Unix socket path under /tmp (sun_path allows 107 bytes). */
export function tmpSocketPath(tag = "s"): string {
  return `/tmp/unisock-${tag}-${Math.random().toString(36).slice(2, 10)}.sock`;
}

/** Reads until EOF; returns everything. */
export async function readAll(socket: Socket, chunkSize = 64 * 1024): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(chunkSize);
  for (;;) {
    const n = await socket.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
    total += n;
  }
  return concat(parts, total);
}

export async function readText(socket: Socket): Promise<string> {
  return dec.decode(await readAll(socket));
}

/** Reads exactly n bytes (fails on EOF first). */
export async function readN(socket: Socket, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await socket.read(out.subarray(got));
    if (r === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}

export function concat(parts: Uint8Array[], total = parts.reduce((a, p) => a + p.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

export async function sha256(data: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Asserts that a promise (or a function, sync throw or rejection) fails with a SocketError of `code`. */
export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: SocketError["code"] | SocketError["code"][],
): Promise<SocketError> {
  let err: unknown;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (e) {
    err = e;
  }
  expect(err, "expected a SocketError").toBeDefined();
  expect((err as Error).name).toBe("SocketError");
  const codes = Array.isArray(code) ? code : [code];
  expect(codes).toContain((err as SocketError).code);
  sawUnsupported(err as SocketError);
  return err as SocketError;
}

/** Settles within `ms`? Returns "pending" if not. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<"pending">((r) => (timer = setTimeout(() => r("pending"), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A listener whose every connection is echoed back until EOF (the server half-closes after). */
export async function echoServer(options: ListenOptions = { hostname: "127.0.0.1" }): Promise<Listener> {
  const listener = await listen({ allowHalfOpen: true, ...options });
  void (async () => {
    for await (const s of listener) {
      void (async () => {
        const buf = new Uint8Array(64 * 1024);
        try {
          for (;;) {
            const n = await s.read(buf);
            if (n === null) break;
            await s.write(buf.subarray(0, n));
          }
        } finally {
          await s.close();
        }
      })().catch(() => {});
    }
  })();
  return listener;
}
