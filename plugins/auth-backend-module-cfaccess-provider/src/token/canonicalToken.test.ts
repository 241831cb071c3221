import { isCanonicalCompactJws } from './canonicalToken';

/** Canonical base64url of some bytes, as a signer writes it. */
const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64url');

describe('isCanonicalCompactJws', () => {
  // Segments of every length class: 3n bytes (no partial group), 3n+1, 3n+2.
  const segments = [
    b64([1, 2, 3]),
    b64([1, 2, 3, 4]),
    b64([1, 2, 3, 4, 5]),
    b64([0xfb, 0xff]),
    b64([0xff]),
  ];

  it('accepts canonical segments of every length', () => {
    for (const h of segments) {
      for (const s of [...segments, '']) {
        expect(isCanonicalCompactJws(`${h}.${h}.${s}`)).toBe(true);
      }
    }
  });

  it('agrees with a full decode and re-encode of each segment', () => {
    // Every one- and two-character end of a segment, canonical or not.
    const alphabet =
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const a of alphabet) {
      for (const b of ['', ...alphabet]) {
        for (const prefix of ['', 'AAAA', 'AAA']) {
          const segment = `${prefix}${a}${b}`;
          const canonical =
            Buffer.from(segment, 'base64url').toString('base64url') === segment;
          expect(isCanonicalCompactJws(`e30.e30.${segment}`)).toBe(canonical);
          expect(isCanonicalCompactJws(`${segment}.e30.`)).toBe(canonical);
        }
      }
    }
  });

  it.each([
    ['padding', `${b64([1])}==.e30.e30`],
    ['standard alphabet', 'e30.e30.ab+/'],
    ['a space', 'e30.e30 .e30'],
    ['CR/LF', 'e30.e30.e30\r\n'],
    ['a leading tab', '\te30.e30.e30'],
    ['a non-ASCII character', 'e30.e30.e3\u00e9'],
    ['an empty header', '.e30.e30'],
    ['an empty payload', 'e30..e30'],
    ['two segments', 'e30.e30'],
    ['four segments', 'e30.e30.e30.e30'],
    ['one character too many', 'e30.e30.AAAAA'],
  ])('rejects %s', (_, token) => {
    expect(isCanonicalCompactJws(token)).toBe(false);
  });
});
