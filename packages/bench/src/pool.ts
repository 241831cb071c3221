/** Runs fn(0..count-1) with `concurrency` calls in flight; returns how many threw. */
export async function pool(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  let failures = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      try {
        await fn(i);
      } catch {
        failures++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}
