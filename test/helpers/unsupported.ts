/**
 * Runs a test's ERR_UNSUPPORTED checks and marks the test "unsupported" for the test matrix
 * (`task.meta.unsupported`, docs/matrix.md): it passed by checking that the runtime says so.
 */
export async function unsupportedHere(task: unknown, check: () => Promise<unknown>): Promise<void> {
  await check();
  (task as { meta: { unsupported?: boolean } }).meta.unsupported = true;
}
