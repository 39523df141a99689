import { describe, expect, it } from "vitest";
import { runtime } from "./_cli.ts";

/*
 * `unisock matrix` sets UNISOCK_RUNTIME to the column's runtime entry. These tests check, from
 * inside the workers, that each entry really runs where and how it says.
 */
const entry = process.env.UNISOCK_RUNTIME;
/** The version in the column's label (`node-oldest 24.16.0`): a column named by a path runs that binary. */
const columnVersion = process.env.UNISOCK_RUNTIME_VERSION;
const engine: Record<string, string> = { node: "node", deno: "deno", "deno-stable": "deno", bun: "bun" };

describe("the runtime a matrix column names", () => {
  it("is the runtime running this test", () => {
    if (entry === undefined) expect(["node", "deno", "bun"]).toContain(runtime);
    else expect(engine[entry]).toBe(runtime);
  });

  it("is the version the column's label names, down to the workers", () => {
    const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
    const running = g.Deno ? g.Deno.version.deno : g.Bun ? g.Bun.version : process.versions.node;
    if (columnVersion === undefined) expect(entry).toBeUndefined();
    else expect(running).toBe(columnVersion);
  });

  it("gives deno-stable workers no --unstable-net, and deno workers deno.json's", () => {
    const listenDatagram = (globalThis as { Deno?: { listenDatagram?: unknown } }).Deno?.listenDatagram;
    if (entry === "deno-stable") expect(listenDatagram).toBeUndefined();
    else if (runtime === "deno") expect(typeof listenDatagram).toBe("function");
    else expect(listenDatagram).toBeUndefined();
  });

  it("runs Bun as Bun, not Node under bun x", () => {
    const versions = process.versions as Record<string, string | undefined>;
    if (runtime === "bun") expect(versions.bun).toMatch(/^\d+\.\d+/);
    else expect(versions.bun).toBeUndefined();
  });
});
