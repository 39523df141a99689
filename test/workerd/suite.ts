/**
 * One local workerd per test file (started in beforeAll, stopped with the servers in afterAll),
 * and the check every "unsupported" test makes: the worker's calls fail with ERR_UNSUPPORTED.
 */
import { afterAll, beforeAll, expect } from "vitest";
import { unsupportedHere } from "../helpers/unsupported.ts";
import { Workerd } from "./harness.ts";
import { closeAll, echo, serve } from "./servers.ts";

export interface Suite {
  /** The value of a case run inside workerd (see Workerd.value). */
  value<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** The code of the error a case must end with (a case that succeeds fails the test). */
  code(name: string, args?: Record<string, unknown>): Promise<string | undefined>;
  /** Marks `task` unsupported once each of `keys` of the worker's "unsupported" case is ERR_UNSUPPORTED. */
  unsupported(task: unknown, ...keys: string[]): Promise<void>;
}

export function workerdSuite(): Suite {
  let wd: Workerd | undefined;
  beforeAll(async () => {
    wd = await Workerd.start();
  });
  afterAll(async () => {
    await wd?.stop();
    await closeAll();
  });
  const value = <T>(name: string, args: Record<string, unknown> = {}): Promise<T> => wd!.value<T>(name, args);
  return {
    value,
    async code(name, args = {}) {
      const r = await wd!.run(name, args);
      if (r.ok)
        throw new Error(`case ${name} succeeded inside workerd; an error was expected (${JSON.stringify(r.value)})`);
      return r.error.code ?? r.error.name;
    },
    async unsupported(task, ...keys) {
      const srv = await serve(echo);
      await unsupportedHere(task, async () => {
        const r = await value<Record<string, string>>("unsupported", { port: srv.port });
        for (const key of keys) expect(r[key], key).toBe("ERR_UNSUPPORTED");
      });
    },
  };
}
