/*
 * The escapes of logValue, exported for output that is not a log entry: the
 * doctor's lines on a terminal, and its JSON document.
 */
import { escapeAfterJson, escapeForTerminal } from './logValue';

const cases: Array<[string, string]> = [
  ['ESC (an OSC title, a screen clear)', '\u001b]0;pwned\u0007\u001b[2J'],
  ['CR, LF and TAB', 'a\r\nResult: ok\tb'],
  ['NUL', 'a\u0000b'],
  ['DEL', 'a\u007f'],
  ['a C1 control (U+009B, one-character CSI)', 'a\u009b31m'],
  ['line and paragraph separators', 'a\u2028b\u2029c'],
  ['bidirectional overrides and isolates', 'a\u202eexe.txt\u2066\u2069'],
  ['bidirectional marks', 'a\u200eb\u200fc\u061cd'],
];

describe('escapeForTerminal', () => {
  it.each(cases)('shows %s as \\uXXXX text', (_what, text) => {
    expect(escapeForTerminal(text)).toMatch(/^[\x20-\x7e]*$/);
  });

  it('leaves text a terminal only shows alone, non-ASCII letters included', () => {
    expect(escapeForTerminal('Zoë Ålund <zoe@example.com>, «ops»')).toBe(
      'Zoë Ålund <zoe@example.com>, «ops»',
    );
    expect(escapeForTerminal('a\u001bb\u009bc\nd')).toBe(
      'a\\u001bb\\u009bc\\u000ad',
    );
  });
});

describe('escapeAfterJson', () => {
  it.each(cases)(
    'leaves JSON with %s valid, the value unchanged, nothing raw',
    (_what, text) => {
      const json = escapeAfterJson(JSON.stringify({ text }, null, 2));
      expect(json).toMatch(/^[\x20-\x7e\n]*$/);
      expect(JSON.parse(json)).toEqual({ text });
    },
  );
});
