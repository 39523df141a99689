import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const json = (file: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(file, root), "utf8"));

describe("package manifests", () => {
  it("package.json and deno.json export the same entry points, each to the same adapter (or framing)", () => {
    const pkg = json("package.json") as { exports: Record<string, unknown> };
    const deno = json("deno.json") as { exports: Record<string, string> };
    const pkgKeys = Object.keys(pkg.exports)
      .filter((k) => k !== "./package.json")
      .sort();
    expect(pkgKeys).toEqual(Object.keys(deno.exports).sort());
    const adapterOf = (target: unknown, condition: string): string => {
      const t = (target as Record<string, unknown>)[condition] ?? target;
      const file = typeof t === "string" ? t : String((t as Record<string, unknown>).import);
      return /\/(node|deno|bun|workerd|framing)\.(js|ts)$/.exec(file)?.[1] ?? file;
    };
    for (const key of pkgKeys.filter((k) => k !== ".")) {
      const p = pkg.exports[key];
      expect(adapterOf(p, "import"), key).toBe(adapterOf(deno.exports[key], "import"));
      expect(adapterOf(p, "import")).toBe(key.slice(2));
    }
    // The bare entry picks the adapter by runtime: on npm by export condition; on JSR, which has
    // no conditions, src/mod.ts picks at load (test/consumer checks it on each runtime).
    const bare = pkg.exports["."] as Record<string, unknown>;
    for (const rt of ["node", "deno", "bun"]) expect(adapterOf(bare[rt], "import")).toBe(rt);
    expect(deno.exports["."]).toBe("./src/mod.ts");
  });

  it("deno publish ships the sources, README, LICENSE and CHANGELOG only", () => {
    const deno = json("deno.json") as { publish?: { include?: string[]; exclude?: string[] } };
    expect(deno.publish?.include?.sort()).toEqual(["CHANGELOG.md", "LICENSE", "README.md", "src/**/*.ts"]);
  });

  it("package.json and deno.json give the same version", () => {
    expect(json("deno.json").version).toBe(json("package.json").version);
  });

  it('`import "unisock"` resolves to the sources without a build: the unisock-source condition and deno.json imports', () => {
    // Node and Bun: `--conditions=unisock-source` (the examples and interop clients run that way).
    // It must come first in each entry: conditions match in the object's key order.
    const pkg = json("package.json") as { exports: Record<string, Record<string, unknown>> };
    const source = (entry: unknown): unknown => {
      const keys = Object.keys(entry as Record<string, unknown>);
      expect(keys[0]).toBe("unisock-source");
      return (entry as Record<string, unknown>)["unisock-source"];
    };
    const bare = pkg.exports["."]!;
    for (const condition of ["deno", "bun", "node", "default"]) {
      const rt = condition === "default" ? "node" : condition;
      expect(source(bare[condition]), `"." ${condition}`).toBe(`./src/${rt}.ts`);
    }
    for (const rt of ["node", "deno", "bun", "framing"])
      expect(source(pkg.exports[`./${rt}`]), `./${rt}`).toBe(`./src/${rt}.ts`);
    // Deno: deno.json's import map names the same files as its exports.
    const deno = json("deno.json") as { exports: Record<string, string>; imports: Record<string, string> };
    for (const [key, target] of Object.entries(deno.exports)) {
      expect(deno.imports[key === "." ? "unisock" : `unisock/${key.slice(2)}`], key).toBe(target);
    }
    for (const file of Object.values(deno.imports)) expect(existsSync(new URL(file, root)), file).toBe(true);
  });

  it("package.json points at the repository, and the README's links work on the registry's page (absolute into it)", () => {
    const pkg = json("package.json") as { repository: { url: string }; homepage: string; bugs: { url: string } };
    const repo = pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
    expect(repo).toMatch(/^https:\/\/github\.com\/[\w-]+\/[\w-]+$/);
    expect(pkg.homepage.startsWith(repo)).toBe(true);
    expect(pkg.bugs.url).toBe(`${repo}/issues`);
    const readme = readFileSync(new URL("README.md", root), "utf8");
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(targets.length).toBeGreaterThan(10);
    const relative = targets.filter((t) => !t.startsWith("#") && !/^https:\/\//.test(t));
    expect(relative).toEqual([]);
    // Links into this repository name files that exist.
    const raw = repo.replace("https://github.com/", "https://raw.githubusercontent.com/");
    for (const t of targets.filter((t) => t.startsWith(`${repo}/`) || t.startsWith(`${raw}/`))) {
      const file = t.replace(`${repo}/blob/main/`, "").replace(`${repo}/tree/main/`, "").replace(`${raw}/main/`, "");
      expect(existsSync(new URL(file, root)), t).toBe(true);
    }
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
