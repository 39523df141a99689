import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const json = (file: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(file, root), "utf8"));

describe("package manifests", () => {
  it("package.json and deno.json export the same entry points, each to the same adapter", () => {
    const pkg = json("package.json") as { exports: Record<string, unknown> };
    const deno = json("deno.json") as { exports: Record<string, string> };
    const pkgKeys = Object.keys(pkg.exports).filter((k) => k !== "./package.json").sort();
    expect(pkgKeys).toEqual(Object.keys(deno.exports).sort());
    const adapterOf = (target: unknown, condition: string): string => {
      const t = (target as Record<string, unknown>)[condition] ?? target;
      const file = typeof t === "string" ? t : String((t as Record<string, unknown>).import);
      return /\/(node|deno|bun)\.(js|ts)$/.exec(file)?.[1] ?? file;
    };
    for (const key of pkgKeys) {
      const p = pkg.exports[key];
      const condition = key === "." ? "deno" : "import";
      expect(adapterOf(p, condition), key).toBe(adapterOf(deno.exports[key], "import"));
      if (key !== ".") expect(adapterOf(p, "import")).toBe(key.slice(2));
    }
    // The bare entry picks the adapter by runtime condition.
    const bare = pkg.exports["."] as Record<string, unknown>;
    for (const rt of ["node", "deno", "bun"]) expect(adapterOf(bare[rt], "import")).toBe(rt);
  });

  it("deno.json turns on the unstable net APIs the Deno adapter can use", () => {
    expect((json("deno.json") as { unstable: string[] }).unstable).toContain("net");
  });

  it("the runtimes are devDependencies, so npm install brings all three", () => {
    const dev = (json("package.json") as { devDependencies: Record<string, string> }).devDependencies;
    for (const name of ["node", "deno", "bun", "typescript", "tsup", "vitest", "@types/bun", "@types/deno"]) {
      expect(dev, name).toHaveProperty(name);
    }
    expect(json("package.json")).not.toHaveProperty("dependencies");
  });
});
