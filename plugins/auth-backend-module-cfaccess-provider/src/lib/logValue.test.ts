import { LOG_VALUE_MAX_CHARS, logField, logValue } from './logValue';

describe('logValue', () => {
  it('quotes a value as a JSON string literal', () => {
    expect(logValue('alice@example.com')).toBe('"alice@example.com"');
    expect(logValue(new Error('connect ECONNREFUSED'))).toBe(
      '"connect ECONNREFUSED"',
    );
    expect(logValue(42)).toBe('"42"');
    expect(logValue(undefined)).toBe('"undefined"');
  });

  it.each([
    ['CR and LF', 'a\r\n2026-06-01 auth warn forged entry'],
    ['ANSI escapes', 'a\u001b[2J\u001b[31mred'],
    ['a C1 escape', 'a\u009b2J'],
    ['DEL', 'a\u007f'],
    ['line and paragraph separators', 'a\u2028b\u2029c'],
    ['bidirectional overrides', 'a\u202eexe.txt\u2066\u2069'],
    ['NUL', 'a\u0000b'],
  ])('escapes %s', (_what, value) => {
    const logged = logValue(value);
    expect(logged).toMatch(/^"[\x20-\x7e]*"$/);
    // Still readable: JSON.parse gives the original back.
    expect(JSON.parse(logged)).toBe(value);
  });

  it(`cuts a value to ${LOG_VALUE_MAX_CHARS} characters and says how much was cut`, () => {
    const logged = logValue('x'.repeat(100_000));
    expect(logged).toBe(
      `"${'x'.repeat(LOG_VALUE_MAX_CHARS)}"…(${
        100_000 - LOG_VALUE_MAX_CHARS
      } more characters)`,
    );
    expect(logValue('x'.repeat(LOG_VALUE_MAX_CHARS))).toBe(
      `"${'x'.repeat(LOG_VALUE_MAX_CHARS)}"`,
    );
  });

  it('survives values that cannot be turned into a string', () => {
    expect(logValue(Object.create(null))).toBe('"[object Object]"');
  });
});

describe('logField', () => {
  it('caps and escapes what JSON leaves alone, without quoting', () => {
    expect(logField('alice@example.com')).toBe('alice@example.com');
    expect(logField('a\u009b2J\u202e')).toBe('a\\u009b2J\\u202e');
    expect(logField('y'.repeat(1000))).toBe(
      `${'y'.repeat(LOG_VALUE_MAX_CHARS)}…(${
        1000 - LOG_VALUE_MAX_CHARS
      } more characters)`,
    );
  });
});
