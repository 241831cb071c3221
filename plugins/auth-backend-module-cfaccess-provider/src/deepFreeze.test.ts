import { deepFreeze } from './deepFreeze';

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
});
