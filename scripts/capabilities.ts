/**
 * The README's "What runs where" table, made from `capabilities` as each runtime reports it, so it
 * cannot drift from the code: `node scripts/capabilities.ts` rewrites the table between its marker
 * comments, `--check` only says whether it is current (exit 1 if not). Each column comes from the
 * adapter loaded in that runtime: node, deno with --unstable-net (deno.json's "unstable"), deno
 * without it (--no-config) and bun, the binaries in node_modules/.bin.
 * test/unit/readme-capabilities.test.ts checks the running column in every runtime of the suite.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
// The `node` package's own binary for node: node_modules/.bin/node may be the node-oldest alias's
// (both packages claim the name and npm links one of them).
const bin = (name: string): string =>
  name === "node" ? `${root}node_modules/node/bin/node` : `${root}node_modules/.bin/${name}`;
const script = fileURLToPath(new URL("./print-capabilities.ts", import.meta.url));

/** The README's columns: heading, and the command that prints that column's capabilities. */
export const COLUMNS: { heading: string; command: [string, string[]] }[] = [
  { heading: "Node", command: [bin("node"), [script, "node"]] },
  { heading: "Deno `--unstable-net`", command: [bin("deno"), ["run", "-A", script, "deno"]] },
  { heading: "Deno without it", command: [bin("deno"), ["run", "-A", "--no-config", script, "deno"]] },
  { heading: "Bun", command: [bin("bun"), [script, "bun"]] },
  // workerd's capabilities are constants of its adapter, which loads in Node (cloudflare:sockets is imported only on connect).
  { heading: "Workers (workerd)", command: [bin("node"), [script, "workerd"]] },
];

export const START =
  "<!-- capabilities: made by scripts/capabilities.ts from each adapter's `capabilities`; do not edit -->";
export const END = "<!-- /capabilities -->";

function columnOf([command, args]: [string, string[]]): Record<string, boolean> {
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split("\n").pop()!) as { capabilities: Record<string, boolean> }).capabilities;
}

/** The capability names in the order src/core/types.ts declares them in `interface Capabilities`. */
export function declaredOrder(typesSource: string): string[] {
  const block = /export interface Capabilities \{([\s\S]*?)\n\}/.exec(typesSource)?.[1] ?? "";
  return [...block.matchAll(/readonly (\w+): boolean/g)].map((m) => m[1]!);
}

/** The markdown table, one row per capability, in declared order (any undeclared key last). */
export function table(columns: Record<string, boolean>[]): string {
  const declared = declaredOrder(readFileSync(`${root}src/core/types.ts`, "utf8"));
  const names = [...new Set([...declared, ...columns.flatMap((c) => Object.keys(c))])];
  const cell = (v: boolean | undefined): string => (v === true ? "yes" : v === false ? "**no**" : "?");
  const rows = names.map((n) => `| \`${n}\` | ${columns.map((c) => cell(c[n])).join(" | ")} |`);
  return [
    `| capability | ${COLUMNS.map((c) => c.heading).join(" | ")} |`,
    `|---|${COLUMNS.map(() => "---|").join("")}`,
    ...rows,
  ].join("\n");
}

/** `readme` with the text between the markers replaced by `body`. */
export function splice(readme: string, body: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README.md has no ${START} ... ${END} block`);
  return `${readme.slice(0, start + START.length)}\n${body}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = `${root}README.md`;
  const readme = readFileSync(file, "utf8");
  const next = splice(readme, table(COLUMNS.map((c) => columnOf(c.command))));
  if (process.argv.includes("--check")) {
    if (next !== readme) {
      console.error("README.md's capability table is out of date: run `node scripts/capabilities.ts`");
      process.exit(1);
    }
    console.log("README.md's capability table is current");
  } else if (next !== readme) {
    writeFileSync(file, next);
    console.log("README.md: capability table rewritten");
  } else console.log("README.md: capability table already current");
}
