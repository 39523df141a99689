/**
 * The README's capability table (made by scripts/capabilities.ts) against the adapter under test:
 * in every column of the suite, the column of the table for this runtime must say exactly what
 * `capabilities` says, with one row per capability. A capability added or changed without
 * regenerating the table fails here, in the runtime where it changed.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { capabilities, runtime } from "unisock";

const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");

/** The table between the markers scripts/capabilities.ts writes, as rows of cells. */
function readTable(): { headings: string[]; rows: Map<string, string[]> } {
  const start = readme.indexOf("<!-- capabilities:");
  const end = readme.indexOf("<!-- /capabilities -->");
  expect(start, "README.md has the capabilities block").toBeGreaterThan(-1);
  const lines = readme
    .slice(start, end)
    .split("\n")
    .filter((l) => l.startsWith("|"));
  const cells = (line: string): string[] =>
    line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
  const rows = new Map(lines.slice(2).map((l) => [cells(l)[0]!.replaceAll("`", ""), cells(l).slice(1)]));
  return { headings: cells(lines[0]!).slice(1), rows };
}

/** The README column of the runtime running this suite (Deno's depends on --unstable-net). */
function columnHeading(): string {
  if (runtime === "deno") {
    const unstable = typeof (globalThis as { Deno?: { listenDatagram?: unknown } }).Deno?.listenDatagram === "function";
    return unstable ? "Deno `--unstable-net`" : "Deno without it";
  }
  return runtime === "bun" ? "Bun" : "Node";
}

describe("README's capability table", () => {
  it("says in this runtime's column exactly what capabilities says, one row per capability", () => {
    const { headings, rows } = readTable();
    const column = headings.indexOf(columnHeading());
    expect(column, `a column "${columnHeading()}" in ${headings.join(", ")}`).toBeGreaterThan(-1);
    expect([...rows.keys()].sort()).toEqual(Object.keys(capabilities).sort());
    const stated = Object.fromEntries([...rows].map(([name, cells]) => [name, cells[column] === "yes"]));
    expect(stated, "run `node scripts/capabilities.ts` to regenerate the table").toEqual({ ...capabilities });
  });
});
