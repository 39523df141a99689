// Prints `capabilities` of the adapter named on the command line as JSON (scripts/capabilities.ts runs it in each runtime).
const name =
  (globalThis as { process?: { argv: string[] } }).process?.argv[2] ??
  (globalThis as { Deno?: { args: string[] } }).Deno?.args[0];
const adapter = (await import(`../src/${name}.ts`)) as { capabilities: Record<string, boolean>; runtime: string };
console.log(JSON.stringify({ runtime: adapter.runtime, capabilities: adapter.capabilities }));
