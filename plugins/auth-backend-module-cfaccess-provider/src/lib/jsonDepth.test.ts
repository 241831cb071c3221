import {
  countJsonContainers,
  exceedsJsonDepth,
  MAX_JSON_DEPTH,
} from './jsonDepth';

function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) {
    value = i % 2 ? [value] : { a: value };
  }
  return value;
}

describe('exceedsJsonDepth', () => {
  it('counts objects and arrays, not primitives', () => {
    expect(exceedsJsonDepth(1, 0)).toBe(false);
    expect(exceedsJsonDepth({}, 0)).toBe(true);
    expect(exceedsJsonDepth({}, 1)).toBe(false);
    expect(exceedsJsonDepth({ a: [1, { b: 'x' }] }, 3)).toBe(false);
    expect(exceedsJsonDepth({ a: [1, { b: {} }] }, 3)).toBe(true);
  });

  it(`allows ${MAX_JSON_DEPTH} levels and refuses one more`, () => {
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it('checks 100,000 levels without overflowing the stack', () => {
    expect(exceedsJsonDepth(nested(100_000))).toBe(true);
    expect(
      exceedsJsonDepth(
        JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
      ),
    ).toBe(true);
  });

  it('looks at every branch', () => {
    const value = {
      shallow: 1,
      list: [1, 2, { deep: nested(MAX_JSON_DEPTH) }],
    };
    expect(exceedsJsonDepth(value)).toBe(true);
  });
});

describe('countJsonContainers', () => {
  it('counts every object and array, the value itself included', () => {
    expect(countJsonContainers(1)).toBe(0);
    expect(countJsonContainers({ a: [1, { b: [] }], c: null })).toBe(4);
  });

  it('counts an array wider than a spread call takes (a 1 MiB answer of numbers)', () => {
    const wide = { custom: { values: new Array(600_000).fill(0) } };
    expect(countJsonContainers(wide)).toBe(3);
    // As parsed JSON holds them: each empty array its own.
    const arrays = Array.from({ length: 600_000 }, () => []);
    expect(countJsonContainers(arrays)).toBe(600_001);
  });
});
