import { IdentityMemo } from './identityMemo';

const identity = (name = 'Jane') => ({
  id: 'u1',
  name,
  email: 'jane@example.com',
  groups: [{ id: 'g1', name: 'team', email: '' }],
});

const memoOf = (maxEntries: number, maxBytes = 1_000_000) =>
  new IdentityMemo({ maxEntries, maxBytes });

describe('IdentityMemo', () => {
  it('serves an entry until its deadline, never at or after it', () => {
    const memo = memoOf(10);
    memo.set('k', identity(), 100, 2_000, 1_000);
    expect(memo.get('k', 1_999)?.name).toBe('Jane');
    expect(memo.get('k', 2_000)).toBeUndefined();
    expect(memo.get('k', 1_999)).toBeUndefined();
  });

  it('stores nothing whose deadline has passed', () => {
    const memo = memoOf(10);
    const stored = memo.set('k', identity(), 100, 1_000, 1_000);
    expect(stored.name).toBe('Jane');
    expect(memo.get('k', 999)).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the least recently used', () => {
    const memo = memoOf(2);
    memo.set('a', identity('A'), 100, 10_000, 0);
    memo.set('b', identity('B'), 100, 10_000, 0);
    memo.get('a', 1);
    memo.set('c', identity('C'), 100, 10_000, 0);
    expect(memo.get('b', 1)).toBeUndefined();
    expect(memo.get('a', 1)?.name).toBe('A');
    expect(memo.get('c', 1)?.name).toBe('C');
  });

  it('holds at most maxBytes, whatever the count', () => {
    // Each weighs 400 bytes of JSON and three containers (memoryWeight).
    const memo = memoOf(10_000, 1_500);
    memo.set('a', identity('A'), 400, 10_000, 0);
    memo.set('b', identity('B'), 400, 10_000, 0);
    memo.set('c', identity('C'), 400, 10_000, 0);
    expect(memo.get('a', 1)).toBeUndefined();
    expect(memo.get('b', 1)?.name).toBe('B');
    expect(memo.get('c', 1)?.name).toBe('C');
  });

  it('does not hold an identity larger than the whole budget', () => {
    const memo = memoOf(10, 1_000);
    memo.set('small', identity('S'), 100, 10_000, 0);
    const big = memo.set('big', identity('B'), 1_001, 10_000, 0);
    expect(big.name).toBe('B');
    expect(memo.get('big', 1)).toBeUndefined();
    expect(memo.get('small', 1)?.name).toBe('S');
  });

  it('counts each object and array, not only the JSON text: many small ones cost more heap than their text', () => {
    const memo = memoOf(10, 10_000);
    const nested = {
      ...identity('N'),
      custom: { lists: Array.from({ length: 200 }, () => []) },
    };
    const json = Buffer.byteLength(JSON.stringify(nested));
    expect(json).toBeLessThan(10_000);
    memo.set('nested', nested, json, 10_000, 0);
    expect(memo.get('nested', 1)).toBeUndefined();
    memo.set('flat', identity('F'), json, 10_000, 0);
    expect(memo.get('flat', 1)?.name).toBe('F');
  });

  it('is disabled with 0 entries', () => {
    const memo = memoOf(0);
    memo.set('a', identity(), 100, 10_000, 0);
    expect(memo.get('a', 1)).toBeUndefined();
  });

  it('deep-freezes what it stores', () => {
    const memo = memoOf(10);
    const stored = memo.set('a', identity(), 100, 10_000, 0);
    expect(Object.isFrozen(stored)).toBe(true);
    expect(Object.isFrozen(stored.groups)).toBe(true);
    expect(Object.isFrozen(stored.groups[0])).toBe(true);
    expect(memo.get('a', 1)).toBe(stored);
  });
});
