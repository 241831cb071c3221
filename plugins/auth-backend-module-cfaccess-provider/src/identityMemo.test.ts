import { IdentityMemo } from './identityMemo';

const identity = (name = 'Jane') => ({
  id: 'u1',
  name,
  email: 'jane@example.com',
  groups: [{ id: 'g1', name: 'team', email: '' }],
});

describe('IdentityMemo', () => {
  it('serves an entry until its deadline, never at or after it', () => {
    const memo = new IdentityMemo(10);
    memo.set('k', identity(), 2_000, 1_000);
    expect(memo.get('k', 1_999)?.name).toBe('Jane');
    expect(memo.get('k', 2_000)).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it('stores nothing whose deadline has passed', () => {
    const memo = new IdentityMemo(10);
    const stored = memo.set('k', identity(), 1_000, 1_000);
    expect(stored.name).toBe('Jane');
    expect(memo.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the least recently used', () => {
    const memo = new IdentityMemo(2);
    memo.set('a', identity('A'), 10_000, 0);
    memo.set('b', identity('B'), 10_000, 0);
    memo.get('a', 1);
    memo.set('c', identity('C'), 10_000, 0);
    expect(memo.size).toBe(2);
    expect(memo.get('b', 1)).toBeUndefined();
    expect(memo.get('a', 1)?.name).toBe('A');
  });

  it('is disabled with 0 entries', () => {
    const memo = new IdentityMemo(0);
    memo.set('a', identity(), 10_000, 0);
    expect(memo.get('a', 1)).toBeUndefined();
  });

  it('deep-freezes what it stores', () => {
    const memo = new IdentityMemo(10);
    const stored = memo.set('a', identity(), 10_000, 0);
    expect(Object.isFrozen(stored)).toBe(true);
    expect(Object.isFrozen(stored.groups)).toBe(true);
    expect(Object.isFrozen(stored.groups[0])).toBe(true);
    expect(memo.get('a', 1)).toBe(stored);
  });
});
