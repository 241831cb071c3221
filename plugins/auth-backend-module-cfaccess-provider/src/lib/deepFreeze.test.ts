import { deepFreeze } from './deepFreeze';

/** `[[[...]]]`, `depth` arrays deep, built without recursion. */
function nested(depth: number): unknown[] {
  const root: unknown[] = [];
  let current = root;
  for (let i = 1; i < depth; i++) {
    const next: unknown[] = [];
    current.push(next);
    current = next;
  }
  return root;
}

describe('deepFreeze', () => {
  it('freezes nested objects and arrays in place', () => {
    const value = { a: [{ b: 1 }], c: { d: { e: 'x' } }, f: null };
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(value.a)).toBe(true);
    expect(Object.isFrozen(value.a[0])).toBe(true);
    expect(Object.isFrozen(value.c.d)).toBe(true);
  });

  it('passes primitives through', () => {
    expect(deepFreeze('x')).toBe('x');
    expect(deepFreeze(undefined)).toBeUndefined();
  });

  it('freezes 100,000 levels of nesting without overflowing the stack', () => {
    const value = nested(100_000);
    expect(deepFreeze(value)).toBe(value);
    let current: unknown = value;
    let depth = 0;
    while (Array.isArray(current)) {
      expect(Object.isFrozen(current)).toBe(true);
      current = current[0];
      depth++;
    }
    expect(depth).toBe(100_000);
  });

  it('freezes shared and cyclic values once', () => {
    const shared = { x: 1 };
    const value: Record<string, unknown> = { a: shared, b: [shared] };
    value.self = value;
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(shared)).toBe(true);
    expect(Object.isFrozen(value.b)).toBe(true);
  });
});
