/**
 * How deep objects and arrays may nest in what Access sends us (claims,
 * get-identity answers). Real answers nest a few levels; anything deeper is
 * broken or hostile, and would otherwise cost stack wherever it is walked.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * True when `value` nests objects or arrays more than `maxDepth` levels deep
 * (a primitive is depth 0, `{}` is 1). Iterative, and stops at the first
 * branch too deep, so any input is checked in bounded stack.
 */
export function exceedsJsonDepth(
  value: unknown,
  maxDepth: number = MAX_JSON_DEPTH,
): boolean {
  // The containers still to look into and their depths, side by side: no
  // object per container.
  const pending: unknown[] = [value];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const current = pending.pop();
    const depth = depths.pop()!;
    if (current === null || typeof current !== 'object') {
      continue;
    }
    if (depth > maxDepth) {
      return true;
    }
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/**
 * How many objects and arrays `value` holds, itself included. Iterative, like
 * exceedsJsonDepth, and child by child: an answer may hold hundreds of
 * thousands of values in one array, more than a spread call takes.
 */
export function countJsonContainers(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (current !== null && typeof current === 'object') {
      count += 1;
      for (const child of Object.values(current)) {
        if (child !== null && typeof child === 'object') {
          pending.push(child);
        }
      }
    }
  }
  return count;
}
