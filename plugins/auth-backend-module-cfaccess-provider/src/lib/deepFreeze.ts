/**
 * Freezes a JSON-like value and everything in it, in place, and returns it.
 *
 * Cached results are handed to sign-in resolvers as they are: frozen once when
 * cached, a hit costs nothing (a copy per hit would cost on every refresh; the
 * hot-path benchmark shows it), and no caller can change what the next one
 * gets.
 *
 * Iterative, not recursive: the value comes from outside (claims, identity
 * answers), and a deeply nested one must not overflow the stack. A value
 * already frozen is not walked again, which also ends cycles.
 */
export function deepFreeze<T>(value: T): T {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (current && typeof current === 'object' && !Object.isFrozen(current)) {
      Object.freeze(current);
      for (const child of Object.values(current)) {
        if (child && typeof child === 'object') {
          pending.push(child);
        }
      }
    }
  }
  return value;
}
