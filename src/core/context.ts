import type { ErrorTable } from "./errors.ts";
import type { Capabilities, Runtime } from "./types.ts";

/** What an adapter knows about its runtime. */
export interface AdapterContext {
  readonly runtime: Runtime;
  readonly errors: ErrorTable;
  readonly capabilities: Capabilities;
}
