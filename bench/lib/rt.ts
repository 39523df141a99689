/*
 * The few things a bench worker needs that differ per runtime: its name, its arguments, writing a
 * line to stdout (the orchestrator reads JSON lines) and exiting. Everything else in bench/ is
 * either runtime-neutral or one file per native API.
 */
type Runtime = "node" | "deno" | "bun";
// deno-lint-ignore no-explicit-any
const g = globalThis as any;

export const runtime: Runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";

export function args(): string[] {
  return runtime === "deno" ? [...g.Deno.args] : g.process.argv.slice(2);
}

const enc = new TextEncoder();

/** Writes one JSON line to stdout and waits until it is out. */
export async function emit(obj: unknown): Promise<void> {
  const line = `${JSON.stringify(obj)}\n`;
  if (runtime === "deno") {
    const bytes = enc.encode(line);
    for (let o = 0; o < bytes.length; ) o += g.Deno.stdout.writeSync(bytes.subarray(o));
  } else if (runtime === "bun") {
    await g.Bun.write(g.Bun.stdout, line);
  } else {
    await new Promise<void>((resolve) => g.process.stdout.write(line, () => resolve()));
  }
}

export function exit(code: number): never {
  if (runtime === "deno") g.Deno.exit(code);
  g.process.exit(code);
  throw new Error("unreachable");
}
