import { describe, expect, it } from "vitest";
import { capabilities, runtime } from "unisock";

describe("the adapter under test", () => {
  it("is the adapter of the runtime running the suite", () => {
    const g = globalThis as { Deno?: unknown; Bun?: unknown };
    const actual = g.Deno ? "deno" : g.Bun ? "bun" : "node";
    expect(runtime).toBe(actual);
    expect(typeof capabilities.udp).toBe("boolean");
  });
});
