/*
 * Prints where a V8 CPU profile (node --cpu-prof, or `bench/run.ts --prof`) spent its time:
 * self time per function, then total (inclusive) time for unisock's own functions.
 *   node bench/prof-top.ts bench/results/prof/<file>.cpuprofile [rows]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = process.argv[2];
const rows = Number(process.argv[3] ?? 30);
if (!file) throw new Error("usage: prof-top.ts <file.cpuprofile> [rows]");
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
let total = 0;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});
const label = (n: Node): string => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(src|bench|node_modules)\//, "$1/")}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"} ${where}`.trim();
};
const selfBy = new Map<string, number>();
const inclBy = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  selfBy.set(label(n), (selfBy.get(label(n)) ?? 0) + t);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclBy.set(l, (inclBy.get(l) ?? 0) + t);
  }
}
const pct = (t: number): string => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n\nself time:`);
for (const [l, t] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${pct(t)}  ${l}`);
console.log("\ninclusive time, unisock (src/):");
for (const [l, t] of [...inclBy]
  .filter(([l]) => l.includes("src/"))
  .sort((a, b) => b[1] - a[1])
  .slice(0, rows))
  console.log(`${pct(t)}  ${l}`);
