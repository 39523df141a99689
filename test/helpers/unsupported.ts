/** The ERR_UNSUPPORTED messages `expectCode` saw during the running `unsupportedHere` check. */
const refusals: string[] = [];

/** Called by the `expectCode` helpers for each ERR_UNSUPPORTED they check: the reason the matrix shows. */
export function sawUnsupported(err: { code?: string; message?: string }): void {
  if (err.code === "ERR_UNSUPPORTED" && err.message && !refusals.includes(err.message)) refusals.push(err.message);
}

/**
 * Runs a test's ERR_UNSUPPORTED checks and marks the test "unsupported" for the test matrix
 * (`task.meta.unsupported`, docs/matrix.md): it passed by checking that the runtime says so. The
 * mark is what the runtime refused, in its own words ("TLS is not supported on deno"), when the
 * check went through `expectCode`; the matrix lists it as the reason.
 */
export async function unsupportedHere(task: unknown, check: () => Promise<unknown>): Promise<void> {
  refusals.length = 0;
  await check();
  (task as { meta: { unsupported?: boolean | string } }).meta.unsupported = refusals.join("; ") || true;
  refusals.length = 0;
}
